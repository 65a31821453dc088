/**
 * Meeting day, wired: the change bus (this instance alone, or every instance
 * through Redis with REDIS_URL), the shared cache and the live hub listening
 * to it, the graphql-ws server on the HTTP server's /graphql, and their
 * metrics. The server (src/server/server.ts) starts it and hands the ledger
 * `bus.publish` as its `onCommitted`.
 */
import type { Server } from "node:http";

import type { GraphQLSchema } from "graphql";
import type { DataSource } from "typeorm";

import type { Context } from "../common/context";
import type { Config } from "../config";
import { countingClient } from "../db/sql-counter";
import type { CostModel } from "../server/cost";
import { liveMetrics, type Observability } from "../server/observability";
import type { SharedCache } from "../server/shared-cache";
import { type ChangeBus, LocalBus } from "./change-bus";
import { LiveHub } from "./live-hub";
import { RedisBus } from "./redis-bus";
import { attachLiveServer, type LiveServer } from "./ws-server";

/** The bus of this instance: through Redis when REDIS_URL is set (a start without Redis goes on, and joins it later). */
export function changeBus(config: Config, obs: Observability): Promise<ChangeBus> {
  return config.live.redisUrl ? RedisBus.connect(config.live.redisUrl, obs.logger) : Promise.resolve(new LocalBus());
}

/** What the live side needs of the server. */
export interface LiveSetup {
  config: Config;
  obs: Observability;
  db: DataSource;
  httpServer: Server;
  schema: GraphQLSchema;
  bus: ChangeBus;
  shared: SharedCache;
  costs: { readonly current: CostModel };
  /** A fresh context served from the shared cache (a live computation's, or the region tree's). */
  context: () => Context;
}

/** Starts the live side; `dispose` closes every screen with 1001 (the server's drain), `close` the bus. */
export function startLive(setup: LiveSetup): LiveServer & { close(): Promise<void> } {
  const { config, obs, db, shared, bus } = setup;
  const regions = () => setup.context().regionTree();
  const hub = new LiveHub({
    schema: setup.schema,
    context: setup.context,
    regions,
    minIntervalMs: config.live.minIntervalMs,
    maxBufferedBytes: config.live.maxBufferedBytes,
    logger: obs.logger,
    versions: () => shared.currentVersions(countingClient(db, { statements: 0 })),
    checkIntervalMs: Math.max(100, config.dataVersionTtlMs),
    onPushed: (seconds) => metrics.pushed(seconds),
  });
  // The cache first (a write's deltas join the cached rows), then the screens, whose computations read them.
  bus.listen((message) => {
    if (message.kind === "change") shared.applyChange(message.event);
    // Changes may have been missed (Redis was away): the next request reads the versions again.
    else shared.expireVersions();
  });
  bus.listen(hub.onMessage);
  const server = attachLiveServer({
    httpServer: setup.httpServer,
    path: "/graphql",
    schema: setup.schema,
    hub,
    db,
    live: config.live,
    limits: config.limits,
    costs: setup.costs,
    readRequiresToken: config.readRequiresToken,
    regions,
    logger: obs.logger,
    exposeErrors: config.exposeStacktraces,
  });
  const metrics = liveMetrics(obs, { connections: () => server.connections(), hub, cache: shared });
  return { ...server, close: () => bus.close() };
}
