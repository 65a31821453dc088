/**
 * Subscriptions over the graphql-ws protocol (graphql-transport-ws) on the
 * HTTP server's own port and path, /graphql, so Apollo Sandbox, the explorer
 * and `graphql-ws` clients subscribe where they query. graphql-ws speaks the
 * protocol; this module binds it to `ws` (as graphql-ws/use/ws does) with the
 * product's limits, and hands each subscription to the live hub, which sends
 * its pushes straight to the socket.
 *
 * Limits, each refusal with its own code:
 * - the upgrade: LIVE_MAX_CONNECTIONS in all and LIVE_MAX_CONNECTIONS_PER_IP
 *   (HTTP 503 / 429 before any WebSocket exists), and none while shutting down;
 * - connection_init within LIVE_INIT_TIMEOUT_MS (4408, graphql-ws); its payload
 *   may carry `authorization: "Bearer …"` (or the upgrade request's header):
 *   a bad token closes with 4403, none with READ_REQUIRES_TOKEN too;
 * - each subscription: subscriptions only (queries and mutations go over
 *   HTTP), the document's token, depth, alias… limits and its cost as over
 *   HTTP, LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION; refused with an `error`
 *   message carrying the same codes as HTTP;
 * - a connection holding no subscription for LIVE_IDLE_TIMEOUT_MS is closed
 *   (1000); one that has not answered a ping by the next is terminated;
 * - a slow consumer (more than LIVE_MAX_BUFFERED_BYTES queued) is cut off by the hub;
 * - at shutdown every socket is closed with 1001 (going away) after the HTTP drain.
 */
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { getHeapSpaceStatistics, getHeapStatistics } from "node:v8";

import { type DocumentNode, getOperationAST, GraphQLError, type GraphQLSchema, parse, print, specifiedRules, validate } from "graphql";
import { CloseCode, type ConnectionInitMessage, handleProtocols, makeServer, type SubscribePayload } from "graphql-ws";
import type { Logger } from "pino";
import type { DataSource } from "typeorm";
import { LRUCache } from "lru-cache";
import { type WebSocket, WebSocketServer } from "ws";

import { authenticate, type Viewer } from "../auth/tokens";
import { appErrorBehind, ErrorCode, LimitError } from "../common/errors";
import type { Limits, LiveConfig } from "../config";
import { isConnectivityError } from "../db/availability";
import { countingClient } from "../db/sql-counter";
import type { RegionTree } from "../region/region.type";
import type { CostModel } from "../server/cost";
import { checkCost, limitRules, parseOptions, tokenLimitError } from "../server/limits";
import { frame, type LiveHub, type LiveRequest } from "./live-hub";

/** Above this share of the old generation's bound (node's --max-old-space-size), new WebSocket connections are refused. */
const HEAP_ADMISSION_FRACTION = 0.7;
/** The old generation's bound: --max-old-space-size where node was given it, else V8's whole heap bound. */
const OLD_GENERATION_LIMIT = (() => {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
  const given = flags.map((flag) => /^--max-old-space-size=(\d+)$/.exec(flag)).find((match) => match !== null);
  return given ? Number(given[1]) * 1024 * 1024 : getHeapStatistics().heap_size_limit;
})();

/** Bytes of the old generation in use (the young one is mostly garbage, collected often). */
function oldGenerationUsed(): number {
  return getHeapSpaceStatistics().reduce((n, space) => (space.space_name.startsWith("new_") ? n : n + space.space_used_size), 0);
}

/** What the WebSocket side needs from the server. */
export interface LiveServerOptions {
  httpServer: Server;
  path: string;
  schema: GraphQLSchema;
  hub: LiveHub;
  db: DataSource;
  live: LiveConfig;
  limits: Limits;
  costs: { readonly current: CostModel };
  readRequiresToken: boolean;
  regions: () => Promise<RegionTree>;
  logger: Logger;
  /** Shows unexpected errors as they are (EXPOSE_STACKTRACES, for local work); else they are masked, as over HTTP. */
  exposeErrors: boolean;
}

/** The WebSocket side of a running server. */
export interface LiveServer {
  /** Connections open now. */
  connections(): number;
  /** Refuses new connections and closes every open one with 1001 (going away). */
  dispose(): Promise<void>;
}

/** What graphql-ws keeps per connection, besides its own. */
interface Extra {
  socket: WebSocket;
  request: IncomingMessage;
  viewer: Viewer | null;
  /** Subscriptions held, by id, with how to take each off the hub. */
  held: Map<string, () => void>;
  idle: NodeJS.Timeout | undefined;
}

export function attachLiveServer(options: LiveServerOptions): LiveServer {
  const { live, logger } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.limits.bodyBytes, handleProtocols });
  const perIp = new Map<string, number>();
  const checkSubscription = subscriptionChecker(options);
  let stopping = false;

  const server = makeServer<Record<string, unknown> | undefined, Extra>({
    schema: options.schema,
    connectionInitWaitTimeout: live.initTimeoutMs,
    onConnect: async (ctx) => {
      const header = bearerOf(ctx.connectionParams) ?? ctx.extra.request.headers.authorization;
      if (!header) return !options.readRequiresToken;
      try {
        ctx.extra.viewer = await authenticate(countingClient(options.db, { statements: 0 }), header);
        return true;
      } catch (error) {
        if (appErrorBehind(error)?.extensions.code !== ErrorCode.UNAUTHENTICATED) logger.warn({ err: error }, "could not check a subscription's token");
        return false;
      }
    },
    onSubscribe: async (ctx, id, payload) => {
      const extra = ctx.extra;
      // Checked and reserved before the first await: ws hands every message of one read over at once, so a burst of
      // subscribe messages would otherwise all pass the cap.
      if (extra.held.size >= live.maxSubscriptionsPerConnection) {
        return [limitError(ErrorCode.LIVE_TOO_MANY_SUBSCRIPTIONS, `A connection may hold ${live.maxSubscriptionsPerConnection} subscriptions (LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION)`)];
      }
      const checked = checkSubscription(payload);
      if (Array.isArray(checked)) return checked.map(publicError);
      const slot = () => undefined;
      extra.held.set(id, slot);
      clearTimeout(extra.idle);
      const refuse = (errors: readonly GraphQLError[]) => {
        if (extra.held.get(id) === slot) release(extra, id);
        return errors.map(publicError);
      };
      let added: Awaited<ReturnType<LiveHub["add"]>>;
      try {
        const request: LiveRequest = { ...checked, watches: await watchesOf(checked.document, checked.variables, options.regions) };
        const screen = { socket: extra.socket, id, head: frame(Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`), false) };
        added = await options.hub.add(request, screen);
      } catch (error) {
        if (extra.held.get(id) === slot) release(extra, id);
        throw error;
      }
      if ("errors" in added) return refuse(added.errors);
      if (extra.held.get(id) !== slot) {
        // The socket closed while the first value was computed.
        added.remove();
        return [new GraphQLError("the subscription was completed before it started")];
      }
      extra.held.set(id, added.remove);
      // `release` goes with the iterable graphql-ws holds: it frees the slot the moment the client completes.
      return { schema: options.schema, document: checked.document, operationName: checked.operationName, variableValues: checked.variables, contextValue: { release: () => release(extra, id) } };
    },
    // The hub pushes to the socket itself; graphql-ws only needs something to hold until the client completes.
    subscribe: (args) => held((args.contextValue as { release: () => void }).release),
    onComplete: (ctx, id) => release(ctx.extra, id),
  });

  /**
   * An error as a client may see it: the product's own errors as they are (without their HTTP status), a lost
   * database as SERVICE_UNAVAILABLE, anything else masked (its cause logged), as over HTTP.
   */
  function publicError(error: GraphQLError): GraphQLError {
    const app = appErrorBehind(error);
    if (app) return new GraphQLError(app.message, { path: error.path, extensions: { ...(app.extensions as Record<string, unknown>), http: undefined } });
    if (error.extensions?.code) return error;
    if (isConnectivityError(error.originalError)) {
      return new GraphQLError("The database is unavailable; try again in a few seconds", { path: error.path, extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } });
    }
    logger.error({ err: error.originalError ?? error }, "a subscription failed");
    return options.exposeErrors ? error : new GraphQLError("Internal server error", { path: error.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } });
  }

  function release(extra: Extra, id: string): void {
    extra.held.get(id)?.();
    if (extra.held.delete(id)) armIdle(extra);
  }

  function armIdle(extra: Extra): void {
    clearTimeout(extra.idle);
    if (extra.held.size > 0) return;
    extra.idle = setTimeout(() => extra.socket.close(1000, `idle: no subscription for ${live.idleTimeoutMs} ms (LIVE_IDLE_TIMEOUT_MS)`), live.idleTimeoutMs);
    extra.idle.unref();
  }

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (url.pathname !== options.path) return refuseUpgrade(socket, 404, "Not Found", "WebSocket subscriptions are served at /graphql");
    if (stopping) return refuseUpgrade(socket, 503, "Service Unavailable", "the server is shutting down");
    if (wss.clients.size >= live.maxConnections) return refuseUpgrade(socket, 503, "Service Unavailable", `the server holds ${live.maxConnections} connections (LIVE_MAX_CONNECTIONS)`);
    // Each screen holds about 11 KB of heap: near the heap's bound, a new screen is refused rather than the process run out of memory.
    if (oldGenerationUsed() > HEAP_ADMISSION_FRACTION * OLD_GENERATION_LIMIT) return refuseUpgrade(socket, 503, "Service Unavailable", "the server is near its memory bound; try another instance or later");
    const ip = request.socket.remoteAddress ?? "unknown";
    if ((perIp.get(ip) ?? 0) >= live.maxConnectionsPerIp) return refuseUpgrade(socket, 429, "Too Many Requests", `${live.maxConnectionsPerIp} connections from one address (LIVE_MAX_CONNECTIONS_PER_IP)`);
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
  };
  options.httpServer.on("upgrade", onUpgrade);

  wss.on("connection", (socket: WebSocket, request: IncomingMessage) => {
    const ip = request.socket.remoteAddress ?? "unknown";
    perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
    const extra: Extra = { socket, request, viewer: null, held: new Map(), idle: undefined };
    armIdle(extra);
    socket.once("error", (error) => {
      logger.warn({ err: error }, "WebSocket error; closing the connection");
      socket.terminate();
    });
    // Ping each interval; a connection that has not answered the previous ping by then is dead.
    let answered = true;
    socket.on("pong", () => (answered = true));
    const pinger = setInterval(() => {
      if (!answered) return socket.terminate();
      answered = false;
      socket.ping();
    }, live.pingIntervalMs);
    pinger.unref();
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, () => resolve());
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (cb) =>
          socket.on("message", async (data) => {
            try {
              await cb(String(data));
            } catch (error) {
              logger.error({ err: error }, "a WebSocket message could not be handled");
              socket.close(CloseCode.InternalServerError, "Internal server error");
            }
          }),
      },
      extra,
    );
    socket.once("close", (code, reason) => {
      clearInterval(pinger);
      clearTimeout(extra.idle);
      for (const remove of extra.held.values()) remove();
      extra.held.clear();
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left > 0) perIp.set(ip, left);
      else perIp.delete(ip);
      void closed(code, String(reason));
    });
  });

  return {
    connections: () => wss.clients.size,
    dispose: async () => {
      stopping = true;
      options.httpServer.off("upgrade", onUpgrade);
      options.hub.close();
      for (const client of wss.clients) client.close(1001, "Going away: the server is shutting down");
      await new Promise<void>((resolve) => {
        const deadline = setTimeout(() => {
          for (const client of wss.clients) client.terminate();
        }, 2000);
        deadline.unref();
        wss.close(() => {
          clearTimeout(deadline);
          resolve();
        });
      });
    },
  };
}

/**
 * An async iterable that yields nothing and ends when graphql-ws returns it (the client completed, or the socket
 * closed), calling `release` at that moment (graphql-ws's own onComplete comes several turns later, after a
 * subscribe that may follow the complete in the same read).
 */
function held(release: () => void): AsyncGenerator<never> {
  let resolveDone: (() => void) | undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const finish = () => {
    release();
    resolveDone?.();
  };
  return {
    next: async () => {
      await done;
      return { done: true, value: undefined };
    },
    return: async () => {
      finish();
      return { done: true, value: undefined };
    },
    throw: async (error: unknown) => {
      finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
    [Symbol.asyncDispose]: async () => finish(),
  } as AsyncGenerator<never>;
}

/** The token in a connection_init payload: `authorization` (or `Authorization`) as "Bearer …", or `token` alone. */
function bearerOf(params: ConnectionInitMessage["payload"]): string | undefined {
  if (!params || typeof params !== "object") return undefined;
  const value = (params as Record<string, unknown>).authorization ?? (params as Record<string, unknown>).Authorization;
  if (typeof value === "string" && value.trim()) return value;
  const token = (params as Record<string, unknown>).token;
  return typeof token === "string" && token.trim() ? `Bearer ${token}` : undefined;
}

/** A document as checked once per text and operation name: its parse, or the refusals it earns whatever its variables. */
interface CheckedDocument {
  document: DocumentNode;
  /** The document printed, for the live query's key. */
  printed: string;
  /** Cost refusals (or null: accepted) per variables, for the cost model they were computed with. */
  costs: { model: CostModel; byVariables: Map<string, GraphQLError | null> };
}

/**
 * Checks subscriptions as HTTP checks a query: size, tokens, validation with the limits, operation type, cost. A
 * meeting hall's thousand screens send the same document: it is parsed, validated and costed once (per cost model
 * and variables), not once per screen.
 */
function subscriptionChecker(options: LiveServerOptions) {
  const { limits } = options;
  const documents = new LRUCache<string, CheckedDocument | GraphQLError[]>({ max: 500 });
  const rules = [...specifiedRules, ...limitRules(limits)];

  const checkDocument = (query: string, operationName: string | undefined): CheckedDocument | GraphQLError[] => {
    let document: DocumentNode;
    try {
      document = parse(query, parseOptions(limits));
    } catch (error) {
      const limited = error instanceof GraphQLError ? tokenLimitError(error, limits) : null;
      if (limited) return [limited];
      return [new GraphQLError((error as Error).message, { extensions: { code: ErrorCode.GRAPHQL_PARSE_FAILED } })];
    }
    const errors = validate(options.schema, document, rules);
    if (errors.length) return errors.map((e) => (e.extensions?.code ? e : new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: ErrorCode.GRAPHQL_VALIDATION_FAILED } })));
    const operation = getOperationAST(document, operationName);
    if (!operation) return [badRequest(operationName ? `no operation named "${operationName}"` : "the document has several operations: name one in operationName")];
    if (operation.operation !== "subscription") {
      return [badRequest(`only subscriptions are served over WebSocket; send ${operation.operation === "query" ? "queries" : "mutations"} over HTTP to /graphql`)];
    }
    return { document, printed: print(document), costs: { model: options.costs.current, byVariables: new Map() } };
  };

  return (payload: SubscribePayload): { document: DocumentNode; operationName: string | undefined; variables: Record<string, unknown>; key: string } | GraphQLError[] => {
    if (typeof payload.query !== "string" || payload.query.length === 0) return [badRequest("the subscribe message has no query")];
    if (Buffer.byteLength(payload.query) > limits.documentBytes) {
      return [new LimitError(ErrorCode.QUERY_TOO_LARGE, "Document size in bytes", Buffer.byteLength(payload.query), limits.documentBytes, "MAX_DOCUMENT_BYTES")];
    }
    const operationName = payload.operationName ?? undefined;
    const textKey = `${operationName ?? ""}|${payload.query}`;
    let checked = documents.get(textKey);
    if (!checked) documents.set(textKey, (checked = checkDocument(payload.query, operationName)));
    if (Array.isArray(checked)) return checked;
    const variables = payload.variables && typeof payload.variables === "object" ? (payload.variables as Record<string, unknown>) : {};
    const variablesKey = stableJson(variables);
    const model = options.costs.current;
    if (checked.costs.model !== model) checked.costs = { model, byVariables: new Map() };
    let refusal = checked.costs.byVariables.get(variablesKey);
    if (refusal === undefined) {
      try {
        checkCost(options.schema, model, limits, checked.document, operationName, variables);
        refusal = null;
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        refusal = error;
      }
      // Bounded: a client varying its variables without end fills at most this many.
      if (checked.costs.byVariables.size < 1000) checked.costs.byVariables.set(variablesKey, refusal);
    }
    if (refusal) return [refusal];
    return { document: checked.document, operationName, variables, key: `${checked.printed}|${operationName ?? ""}|${variablesKey}` };
  };
}

/**
 * What changes a subscription: with one root field, `regionStats` changes with
 * writes in its region's subtree and `meetingBoard` with writes to its
 * meeting's batches; anything else (several root fields) with every write.
 */
async function watchesOf(document: DocumentNode, variables: Record<string, unknown>, regions: () => Promise<RegionTree>): Promise<LiveRequest["watches"]> {
  const operation = document.definitions.find((d) => d.kind === "OperationDefinition" && d.operation === "subscription");
  if (!operation || operation.kind !== "OperationDefinition" || operation.selectionSet.selections.length !== 1) return null;
  const [field] = operation.selectionSet.selections;
  if (field.kind !== "Field") return null;
  const argument = (name: string): unknown => {
    const node = field.arguments?.find((a) => a.name.value === name)?.value;
    if (!node) return undefined;
    if (node.kind === "Variable") return variables[node.name.value];
    return "value" in node ? node.value : undefined;
  };
  if (field.name.value === "regionStats") {
    const region = (await regions()).byCode(String(argument("code")));
    return region ? { kind: "region", regionId: region.id } : null;
  }
  if (field.name.value === "meetingBoard") {
    const id = Number(argument("meetingId"));
    return Number.isSafeInteger(id) ? { kind: "meeting", meetingId: id } : null;
  }
  return null;
}

function badRequest(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_REQUEST } });
}

function limitError(code: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

/** Writes a refusal on the raw socket of an upgrade request and closes it. */
function refuseUpgrade(socket: Duplex, status: number, text: string, message: string): void {
  const body = JSON.stringify({ errors: [{ message, extensions: { code: status === 429 ? "TOO_MANY_CONNECTIONS" : status === 404 ? "NOT_FOUND" : "SERVICE_UNAVAILABLE" } }] });
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** JSON with object keys sorted, so that the same variables make the same key. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}


