import { performance } from "node:perf_hooks";

import type { DataSource } from "typeorm";

import type { Viewer } from "../auth/tokens";
import type { CacheAccess, Context, ContextOptions, RequestInfo } from "../common/context";
import { loadTrees, type Trees } from "../common/trees";
import { DEFAULT_LEDGER_FUTURE_DAYS } from "../config";
import { type DataVersions, readDataVersions } from "../db/data-version";
import { replicasOf } from "../db/replicas";
import { countingClient, type SqlTally } from "../db/sql-counter";
import { Ledger, type LedgerSettings } from "../ledger/ledger";

import type { SharedCache } from "./shared-cache";

/** How the server makes contexts: the options resolvers see, and the cross-request cache (null reads everything per request). */
export interface ContextSetup extends ContextOptions {
  shared: SharedCache | null;
  /** The ledger's settings (LEDGER_FUTURE_DAYS); absent for read-only uses (exports, tests). */
  ledger?: LedgerSettings;
}

/** A fresh context for one request: loaders are never shared between requests. */
export function createContext(
  dataSource: DataSource,
  setup: ContextSetup,
  request: RequestInfo = { id: "internal", startedAt: performance.now(), errorCodes: [] },
  viewer: Viewer | null = null,
): Context {
  const { shared } = setup;
  const sql: SqlTally = { statements: 0 };
  request.sql = sql;
  // Reads of the versions, the trees and cached aggregates count here too: what they depend on is known.
  const tracked: SqlTally = { statements: 0, also: sql };
  // The data versions are always read from the primary; with DATABASE_REPLICA_URLS, the other reads go to a replica
  // that holds at least those versions (src/db/replicas.ts). Writes take their own connection from the DataSource.
  const versionsDb = countingClient(dataSource, tracked);
  const replicas = replicasOf(dataSource, shared?.options.versionTtlMs ?? 0);
  const db = replicas ? replicas.client(sql, () => currentVersions(), countingClient(dataSource, sql)) : countingClient(dataSource, sql);
  const trackedDb = replicas ? replicas.client(tracked, () => currentVersions(), versionsDb) : versionsDb;
  let provinces: Set<number> | null = new Set();
  const depend = (on: readonly number[] | null) => {
    if (on === null) provinces = null;
    else if (provinces) for (const p of on) provinces.add(p);
  };
  let versions: Promise<DataVersions> | undefined;
  let trees: Promise<Trees> | undefined;
  let loaders = new Map<unknown, unknown>();
  const currentVersions = () => (versions ??= shared ? shared.currentVersions(versionsDb) : readDataVersions(versionsDb));
  const loadAllTrees = () => (trees ??= shared ? currentVersions().then((v) => shared.treesFor(v, trackedDb)) : loadTrees(trackedDb));
  const cache = (): Promise<CacheAccess | null> => (shared ? currentVersions().then((v) => shared.accessAt(v)) : Promise.resolve(null));
  const ctx: Context = {
    db,
    sql,
    request,
    options: { useRollups: setup.useRollups, assessment: setup.assessment },
    viewer,
    dataVersion: () => currentVersions().then((v) => v.total),
    dataVersions: currentVersions,
    regionTree: () => loadAllTrees().then((t) => t.regions),
    sectorTree: () => loadAllTrees().then((t) => t.sectors),
    groupedRows: async (key, on, load, incremental) => {
      depend(on);
      const access = await cache();
      return access ? access.rowsFor(key, on, (stamped) => load(trackedDb, stamped), incremental) : (await load(trackedDb, false)).rows;
    },
    kept: async () => {
      const access = await cache();
      if (!access) return null;
      return {
        get: <T>(key: string) => {
          const hit = access.kept.get<T>(key);
          if (hit !== undefined) depend(access.dependsOn(key));
          return hit;
        },
        keep: (key, value, size, on) => {
          depend(on);
          access.kept.keep(key, value, size, on);
        },
      };
    },
    dependencies: () => (sql.statements > tracked.statements || provinces === null ? null : [...provinces]),
    loader: <L>(create: (ctx: Context) => L): L => {
      let made = loaders.get(create) as L | undefined;
      if (made === undefined) {
        made = create(ctx);
        loaders.set(create, made);
      }
      return made;
    },
    ledger: () => new Ledger(dataSource, setup.ledger ?? { futureDays: DEFAULT_LEDGER_FUTURE_DAYS }, loadAllTrees),
    wrote: () => {
      // The write bumped the versions in the database: read them again, here and in the next request of this instance.
      shared?.expireVersions();
      versions = undefined;
      trees = undefined;
      loaders = new Map();
    },
  };
  return ctx;
}
