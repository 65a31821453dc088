import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";

import type { ApolloServerPlugin } from "@apollo/server";
import type { RequestHandler, Response } from "express";
import pino, { type Logger } from "pino";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DataSource } from "typeorm";

import type { LogLevel } from "../config";
import type { DatabaseGate } from "../db/availability";
import type { RequestInfo } from "../common/context";
import { appErrorBehind, ErrorCode } from "../common/errors";

/** Header carrying the request id: taken from the client when it looks like one, else made; always sent back. */
export const REQUEST_ID_HEADER = "x-request-id";


/** The record of the request `res` answers (set by `requestTracking`; absent only outside it, e.g. in a bare test app). */
export function requestOf(res: Response): RequestInfo | undefined {
  return res.locals.request as RequestInfo | undefined;
}

/** Answers with a GraphQL-shaped error outside Apollo (before or instead of it), recording its code for the access log and metrics. */
export function sendJsonError(res: Response, status: number, message: string, extensions: { code: string } & Record<string, unknown>): void {
  requestOf(res)?.errorCodes.push(extensions.code);
  res.status(status).json({ errors: [{ message, extensions }] });
}

/** Logging and metrics of one server. */
export interface Observability {
  logger: Logger;
  registry: Registry;
}

/** A pino logger writing JSON lines to stdout. */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: "major-projects-graph" },
    // Never a token: headers are not logged at all, and these paths are removed should a caller pass them.
    redact: { paths: ["authorization", "headers.authorization", "req.headers.authorization", "variables"], remove: true },
  });
}

/** The metrics of one server (a registry of its own, so that tests can start several servers in one process). */
export function createObservability(level: LogLevel, logger: Logger = createLogger(level)): Observability {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  return { logger, registry };
}

/** What the live side and the aggregate cache report on /metrics (read when scraped). */
export interface LiveReadings {
  connections(): number;
  hub: { readonly counts: { screens: number; queries: number; computations: number; pushes: number; unchanged: number; slowConsumers: number } };
  cache: { readonly counts: { applied: number; dropped: number; loads: number } };
}

/** Gauges and counters of subscriptions and of the cache's incremental maintenance. */
export function liveMetrics(obs: Observability, live: LiveReadings): { pushed: (seconds: number) => void } {
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [obs.registry],
      collect() {
        this.set(read());
      },
    });
  // Counts kept by the hub and the cache, exposed as counters (they only grow).
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [obs.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  gauge("live_connections", "WebSocket connections open at /graphql.", () => live.connections());
  gauge("live_subscriptions", "Subscriptions held (one per screen and subscription id).", () => live.hub.counts.screens);
  gauge("live_queries", "Distinct subscriptions (same document, operation and variables), each computed once per change.", () => live.hub.counts.queries);
  counter("live_computations_total", "Computations of live queries since start.", () => live.hub.counts.computations);
  counter("live_pushes_total", "Payloads sent to screens since start.", () => live.hub.counts.pushes);
  counter("live_unchanged_total", "Computations whose result equalled the last one sent (nothing pushed).", () => live.hub.counts.unchanged);
  counter("live_slow_consumers_total", "Connections cut off for having more than LIVE_MAX_BUFFERED_BYTES waiting.", () => live.hub.counts.slowConsumers);
  counter("aggregate_cache_applied_total", "Cached grouped rows brought up to date by adding a write's rollup deltas.", () => live.cache.counts.applied);
  counter("aggregate_cache_dropped_total", "Cached values dropped by a change (finished values, a missed event, a rebuild).", () => live.cache.counts.dropped);
  counter("aggregate_cache_loads_total", "Grouped rows read from the database into the cache.", () => live.cache.counts.loads);
  const fanout = new Histogram({
    name: "live_fanout_seconds",
    help: "Time to write one changed value to every screen of its subscription (after it was computed).",
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [obs.registry],
  });
  return { pushed: (seconds) => fanout.observe(seconds) };
}

/** Operation names seen, kept for metric labels; a client inventing names cannot grow the label set past this. */
const MAX_OPERATION_LABELS = 200;

/** Request ids, one access-log line per request, and request metrics. */
export function requestTracking(obs: Observability): RequestHandler {
  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests by route, GraphQL operation and outcome (ok, error, aborted: the client went away).",
    labelNames: ["route", "operation", "outcome"],
    registers: [obs.registry],
  });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time from the request's arrival to the end of its answer, by route, operation and outcome.",
    labelNames: ["route", "operation", "outcome"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [obs.registry],
  });
  const errors = new Counter({
    name: "graphql_errors_total",
    help: "Errors in GraphQL answers by extensions.code.",
    labelNames: ["code"],
    registers: [obs.registry],
  });
  const operations = new Set<string>();
  const operationLabel = (route: string, name: string | null | undefined): string => {
    // A GraphQL request refused before its operation was known (parse, validation, limits) has none.
    if (name === undefined) return route === "/graphql" ? "(none)" : "";
    if (name === null) return "(anonymous)";
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) return "(other)";
    if (operations.has(name)) return name;
    if (operations.size >= MAX_OPERATION_LABELS) return "(other)";
    operations.add(name);
    return name;
  };
  return (req, res, next) => {
    const route = routeOf(req.originalUrl.split("?")[0]);
    const given = req.headers[REQUEST_ID_HEADER];
    const id = typeof given === "string" && /^[A-Za-z0-9._:-]{1,64}$/.test(given) ? given : randomUUID();
    const info: RequestInfo = { id, startedAt: performance.now(), errorCodes: [] };
    res.locals.request = info;
    res.setHeader(REQUEST_ID_HEADER, id);
    const done = (aborted: boolean) => {
      const seconds = (performance.now() - info.startedAt) / 1000;
      const outcome = aborted ? "aborted" : info.errorCodes.length || res.statusCode >= 400 ? "error" : "ok";
      const operation = operationLabel(route, info.operationName);
      requests.inc({ route, operation, outcome });
      duration.observe({ route, operation, outcome }, seconds);
      for (const code of info.errorCodes) errors.inc({ code });
      obs.logger.info(
        {
          reqId: id,
          method: req.method,
          route,
          status: res.statusCode,
          durationMs: Math.round(seconds * 10_000) / 10,
          operation: info.operationName,
          operationType: info.operationType,
          office: info.office,
          sqlStatements: info.sql?.statements,
          cost: info.cost,
          outcome,
          errorCodes: info.errorCodes.length ? info.errorCodes : undefined,
        },
        "request",
      );
    };
    let logged = false;
    res.once("finish", () => (logged ||= (done(false), true)));
    res.once("close", () => (logged ||= (done(!res.writableFinished), true)));
    next();
  };
}

/** The route a path belongs to, for labels (never the raw path, which a client could vary without end). */
function routeOf(path: string): string {
  for (const route of ["/graphql", "/export/breakdown.csv", "/export/projects.csv", "/import/projects.csv", "/health/live", "/health/ready", "/health", "/metrics", "/explorer", "/board"]) {
    if (path === route || path.startsWith(`${route}/`)) return route;
  }
  return path === "/" ? "/" : "(other)";
}

/** Records each GraphQL request's operation and error codes for the access log, and logs the real cause of internal errors. */
export function graphqlObservation(obs: Observability): ApolloServerPlugin<{ request: RequestInfo }> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, operationName, operation }) {
          contextValue.request.operationName = operationName;
          contextValue.request.operationType = operation?.operation;
        },
        async didEncounterErrors({ contextValue, errors, operationName }) {
          for (const error of errors) {
            const app = appErrorBehind(error);
            const code = String(app?.extensions.code ?? error.extensions?.code ?? ErrorCode.INTERNAL_SERVER_ERROR);
            if (!contextValue.request.errorCodes.includes(code)) contextValue.request.errorCodes.push(code);
            if (code === ErrorCode.INTERNAL_SERVER_ERROR) {
              obs.logger.error({ reqId: contextValue.request.id, operation: operationName, path: error.path?.join("."), code, err: error.originalError ?? error }, error.message);
            } else if (code === ErrorCode.SERVICE_UNAVAILABLE) {
              // The full cause (with its stack) is logged by the database gate once per failed attempt; here, which request it hit.
              const cause = (app?.cause ?? error.originalError) as { message?: string; code?: string; errno?: number } | undefined;
              obs.logger.warn({ reqId: contextValue.request.id, operation: operationName, code, cause: cause?.message, causeCode: cause?.code, causeErrno: cause?.errno }, error.message);
            }
          }
        },
      };
    },
  };
}

/** Gauges of the MySQL pool (in use, idle, waiting) and of the database gate, read when /metrics is scraped. */
export function watchDatabase(obs: Observability, db: DataSource, gate: DatabaseGate): void {
  const pool = () => (db.driver as unknown as { pool?: { _allConnections?: { length: number }; _freeConnections?: { length: number }; _connectionQueue?: { length: number } } }).pool;
  new Gauge({
    name: "db_pool_connections",
    help: "Connections of the MySQL pool, by state (in_use, idle); none for the embedded SQLite database.",
    labelNames: ["state"],
    registers: [obs.registry],
    collect() {
      const p = pool();
      if (!p) return;
      const all = p._allConnections?.length ?? 0;
      const idle = p._freeConnections?.length ?? 0;
      this.set({ state: "in_use" }, all - idle);
      this.set({ state: "idle" }, idle);
    },
  });
  new Gauge({
    name: "db_pool_waiting",
    help: "Statements waiting for a connection of the MySQL pool.",
    registers: [obs.registry],
    collect() {
      this.set(pool()?._connectionQueue?.length ?? 0);
    },
  });
  new Gauge({
    name: "db_up",
    help: "1 while the database answers, 0 while the gate holds statements back after connection failures.",
    registers: [obs.registry],
    collect() {
      this.set(gate.state().up ? 1 : 0);
    },
  });
  gate.listeners.push((state) => {
    if (state.up) obs.logger.warn("database available again");
    else obs.logger.error({ err: state.lastError, failures: state.failures }, "database unavailable");
  });
}

/** GET /metrics in Prometheus' text format. */
export function metricsRoute(obs: Observability): RequestHandler {
  return (_req, res, next) => {
    obs.registry.metrics().then((text) => {
      res.setHeader("content-type", obs.registry.contentType);
      res.setHeader("cache-control", "no-store");
      res.send(text);
    }, next);
  };
}
