import http from "node:http";
import { performance } from "node:perf_hooks";
import type { AddressInfo } from "node:net";

import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { InMemoryLRUCache } from "@apollo/utils.keyvaluecache";
import { expressMiddleware } from "@as-integrations/express5";
import cors from "cors";
import express, { type ErrorRequestHandler, type RequestHandler } from "express";
import { type DocumentNode, GraphQLError, type GraphQLFormattedError } from "graphql";
import helmet from "helmet";
import type { Logger } from "pino";
import type { DataSource } from "typeorm";

import type { Context } from "../common/context";
import { appErrorBehind, ErrorCode, shortenQuotes } from "../common/errors";
import type { Config } from "../config";
import { gateFor, isConnectivityError } from "../db/availability";
import { countingClient } from "../db/sql-counter";
import { assessmentRoutes } from "../assessment/assessment.routes";
import { assessmentSettings } from "../assessment/period";
import { exportRoutes } from "../export/export.routes";
import { factorExportRoutes } from "../factor/factor-export.routes";
import { outputBreakdownRoutes } from "../output/output-breakdown.routes";
import { importRoutes } from "../import/import.routes";
import { BOARD_PATH, boardCspDirectives, boardRoutes } from "../live/board-page";
import { entitiesCostPlugin } from "../federation/cost";

import { authentication, viewerOf } from "./authentication";
import { createContext } from "./context";
import { LiveCostModel, readCostModel } from "./cost";
import { EXPLORER_PATH, explorerCspDirectives, explorerRoutes } from "./explorer";
import { conditionalGet, httpCachingPlugin } from "./http-caching";
import { jitExecution } from "./jit-executor";
import { LANDING_STYLE_HASH, landingPageRoute } from "./landing-page";
import { costPlugin, documentSizeGuard, limitRules, parseOptions, tokenLimitError } from "./limits";
import { createObservability, graphqlObservation, metricsRoute, type Observability, requestOf, requestTracking, sendJsonError, watchDatabase } from "./observability";
import { buildAppSchema } from "./schema";
import { ResponseCache } from "./response-cache";
import { SharedCache } from "./shared-cache";
import { changeBus, startLive } from "../live/live";

/** A listening server and how to stop it. */
export interface RunningServer {
  /** The GraphQL endpoint, e.g. http://localhost:4000/graphql. */
  url: string;
  port: number;
  logger: Logger;
  /** Stops accepting, lets in-flight requests finish (up to SHUTDOWN_TIMEOUT_MS), then closes every connection. */
  close(): Promise<void>;
}

/** The most errors one answer lists; the rest are counted in one more. */
const MAX_ERRORS = 10;

/** Header carrying the number of SQL statements the request issued (with SQL_STATEMENTS_HEADER=true). */
export const SQL_STATEMENTS_HEADER = "x-sql-statements";

/**
 * Starts the HTTP server: GraphQL at /graphql (a landing page on GET from a
 * browser), the offline explorer, the CSV exports, health and metrics. Every
 * request passes, in order: request id and access log, security headers,
 * CORS, the whole-request timeout, body and document size limits, then
 * Apollo (token limit while parsing, structural limits in validation, cost
 * before execution, answer size after).
 */
export async function startServer(config: Config, db: DataSource, obs: Observability = createObservability(config.logLevel)): Promise<RunningServer> {
  const app = express();
  const httpServer = http.createServer({ connectionsCheckingInterval: Math.min(1000, config.timeouts.bodyMs) }, app);
  // Node's requestTimeout covers headers and body; a headersTimeout above it would be used instead.
  httpServer.headersTimeout = Math.min(config.timeouts.headersMs, config.timeouts.bodyMs);
  httpServer.requestTimeout = config.timeouts.bodyMs;
  const schema = await buildAppSchema({ federation: config.federation });
  const gate = gateFor(db);
  watchDatabase(obs, db, gate);
  const costs = new LiveCostModel(db, await readCostModel(db), (error) => obs.logger.warn({ cause: (error as Error).message }, "could not read the cost model again; the previous one serves on"));
  const documentCache = () => new InMemoryLRUCache<any>({ max: config.documentCache.maxEntries, maxSize: config.documentCache.maxBytes });
  // The trees are kept even with AGGREGATE_CACHE=false: they change only with the region and sector tables.
  const shared = new SharedCache({
    versionTtlMs: config.dataVersionTtlMs,
    maxRows: config.aggregateCacheMaxRows,
    aggregates: config.aggregateCache,
    onNewVersions: () => costs.dataChanged(),
  });
  // Committed writes are announced here: this instance's caches and subscriptions listen (src/live/), and with
  // REDIS_URL every other instance's too.
  const bus = await changeBus(config, obs);
  const responses =
    config.aggregateCache && config.responseCacheMaxBytes > 0
      ? new ResponseCache(db, shared, { maxBytes: config.responseCacheMaxBytes, maxAgeSeconds: config.httpCacheMaxAge, sqlStatementsHeader: config.sqlStatementsHeader })
      : null;

  const apollo = new ApolloServer<Context>({
    gateway: jitExecution(schema, { maxEntries: config.documentCache.maxEntries, maxBytes: config.documentCache.maxBytes, maxResponseBytes: config.limits.responseBytes }),
    introspection: config.introspection,
    // src/main.ts owns shutdown (drain, then the pool, then exit 0).
    stopOnTerminationSignals: false,
    // Reads are public and writes need a bearer token (never a cookie), so a cross-site "simple" request can do no
    // harm; BI tools and caches must be able to GET a query by URL. Mutations are never served over GET.
    csrfPrevention: false,
    allowBatchedHttpRequests: config.batchRequests,
    includeStacktraceInErrorResponses: config.exposeStacktraces,
    documentStore: documentCache() as InMemoryLRUCache<DocumentNode>,
    persistedQueries: { cache: documentCache() },
    parseOptions: parseOptions(config.limits),
    validationRules: limitRules(config.limits),
    formatError: (formatted, error) => formatError(formatted, error, config),
    logger: apolloLogger(obs.logger),
    plugins: [
      // Cache-Control is set per operation (later), not by wrapping every field resolver.
      ApolloServerPluginCacheControlDisabled(),
      // No federated traces (ftv1): graphql-jit runs the fields, so Apollo's per-field trace would be empty.
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.timeouts.shutdownMs }),
      // WebSocket screens get 1001 (going away) while the HTTP requests in flight finish.
      { serverWillStart: async () => ({ drainServer: async () => screens?.dispose() }) },
      // The landing page is ./landing-page.ts's route, in front of Apollo on /graphql.
      ApolloServerPluginLandingPageDisabled(),
      subscriptionsOverWebSocket(),
      costPlugin(schema, costs, config.limits),
      // `_entities` counts its selection once per representation (FEDERATION=true only).
      ...(config.federation ? [entitiesCostPlugin(schema, costs, config.limits)] : []),
      graphqlObservation(obs),
      errorStatus(),
      deadline(config.timeouts.requestMs),
      ...(config.sqlStatementsHeader ? [sqlStatementsHeader()] : []),
      httpCachingPlugin(config.httpCacheMaxAge),
      ...(responses ? [responses.plugin()] : []),
    ],
  });
  await apollo.start();
  const contextOptions = { useRollups: config.useRollups, shared, assessment: assessmentSettings(config.assessment), ledger: { futureDays: config.ledgerFutureDays, effectiveThreshold: config.effectiveThreshold, onCommitted: (change: Parameters<typeof bus.publish>[0]) => bus.publish(change) } };
  const screens = startLive({ config, obs, db, httpServer, schema, bus, shared, costs, context: () => createContext(db, contextOptions) });
  const authenticated = authentication(db, config.readRequiresToken);

  app.disable("x-powered-by");
  // Reads get the ETag of their data version (./http-caching.ts); Express's own, a hash of every body sent, would
  // cost ~0.3 ms per 238 KB answer for nothing.
  app.set("etag", false);
  app.use(requestTracking(obs));
  app.use(securityHeaders());
  app.use(
    cors({
      origin: config.corsOrigins,
      credentials: false,
      methods: ["GET", "POST", "OPTIONS"],
      allowedHeaders: ["content-type", "authorization", "accept", "if-none-match", "x-request-id", "apollo-require-preflight", "apollographql-client-name", "apollographql-client-version"],
      exposedHeaders: ["x-request-id", "etag", "retry-after", ...(config.sqlStatementsHeader ? [SQL_STATEMENTS_HEADER] : [])],
      maxAge: 600,
    }),
  );
  // Before the request timeout: a large ledger file may take longer than a query (an import still running when a
  // timeout answers is rolled back, never committed).
  app.use(importRoutes({ db, ledgerFor: () => createContext(db, contextOptions).ledger(), maxBytes: config.limits.importBytes, maxRows: config.limits.importRows, onWrite: () => shared.expireVersions() }));
  app.use(requestTimeout(config.timeouts.requestMs));
  const live: RequestHandler = (_req, res) => {
    res.setHeader("cache-control", "no-store");
    res.json({ status: "ok" });
  };
  app.get("/health", live);
  app.get("/health/live", live);
  app.get("/health/ready", readiness(db, obs.logger));
  app.get("/metrics", metricsRoute(obs));
  app.use(EXPLORER_PATH, explorerRoutes());
  app.use(BOARD_PATH, boardRoutes());
  app.use("/export", authenticated);
  app.use(exportRoutes(db, contextOptions, { maxAgeSeconds: config.httpCacheMaxAge, logger: obs.logger, costs, maxBreakdownRows: config.limits.exportRows }));
  app.use(factorExportRoutes(db, contextOptions, { maxAgeSeconds: config.httpCacheMaxAge, logger: obs.logger, maxRows: config.limits.exportRows }));
  app.use(outputBreakdownRoutes(db, contextOptions, { maxAgeSeconds: config.httpCacheMaxAge, logger: obs.logger, costs, maxRows: config.limits.exportRows }));
  app.use(assessmentRoutes(db, contextOptions, { maxAgeSeconds: config.httpCacheMaxAge, logger: obs.logger }));
  app.use(
    "/graphql",
    authenticated,
    conditionalGet(db, shared, config.httpCacheMaxAge),
    express.json({ limit: config.limits.bodyBytes }),
    documentSizeGuard(config.limits),
    ...(responses ? [responses.middleware(), responses.capture()] : []),
    landingPageRoute(config.production),
    expressMiddleware(apollo, { context: async ({ res }) => createContext(db, contextOptions, requestOf(res), viewerOf(res)) }),
  );
  app.use(notFound);
  app.use(jsonErrors(obs.logger));

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.port, config.host, resolve);
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  return {
    url: `http://${host}:${port}/graphql`,
    port,
    logger: obs.logger,
    close: async () => {
      costs.stop();
      await apollo.stop();
      await screens.close();
    },
  };
}

/**
 * Error answers as clients should see them: the product's own code kept where
 * Apollo re-wrapped it (limits found in validation), the token limit as a
 * limit, a lost database as SERVICE_UNAVAILABLE, anything unexpected masked
 * (its cause goes to the log with the request id, which the answer carries),
 * quoted client text cut short, and no field suggestions in production.
 */
function formatError(formatted: GraphQLFormattedError, error: unknown, config: Config): GraphQLFormattedError {
  const app = appErrorBehind(error) ?? (error instanceof GraphQLError && error.originalError instanceof GraphQLError ? tokenLimitError(error.originalError, config.limits) : null);
  let result: GraphQLFormattedError = formatted;
  if (app) {
    const { http: _http, ...extensions } = app.extensions as Record<string, unknown>;
    result = { ...formatted, message: app.message, extensions: { ...formatted.extensions, ...extensions } };
  } else if (formatted.message === "Validation aborted.") {
    // graphql-js gave up checking the document for conflicting fields: its own budget, not one of ours.
    const message = "The document repeats too many fields for validation to check (graphql-js's validation budget); ask for fewer repeated or aliased fields";
    result = { ...formatted, message, extensions: { ...formatted.extensions, code: ErrorCode.QUERY_TOO_COMPLEX } };
  } else if (isConnectivityError((error as GraphQLError)?.originalError)) {
    result = { ...formatted, message: "The database is unavailable; try again in a few seconds", extensions: { ...formatted.extensions, code: ErrorCode.SERVICE_UNAVAILABLE } };
  }
  const code = result.extensions?.code;
  if (!config.exposeStacktraces && (code === undefined || code === ErrorCode.INTERNAL_SERVER_ERROR)) {
    return { message: "Internal server error", locations: formatted.locations, path: formatted.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  }
  let message = shortenQuotes(result.message);
  if (config.production) message = message.replace(/ ?Did you mean .*\?$/, "");
  return { ...result, message };
}

/**
 * HTTP status of an answer with errors: 503 (with Retry-After, and no
 * `data`) when the database was unavailable and every root field came back
 * null; an answer that carries data stays 200, as the GraphQL-over-HTTP spec
 * asks. Masked errors get the
 * request id, so a user's report can be found in the log. An answer lists at
 * most MAX_ERRORS errors (one document can break a rule a hundred times).
 */
function errorStatus(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== "single") return;
          const result = response.body.singleResult;
          if (!result.errors?.length) return;
          if (result.errors.length > MAX_ERRORS) {
            const omitted = result.errors.length - MAX_ERRORS;
            (result as { errors: GraphQLFormattedError[] }).errors = [
              ...result.errors.slice(0, MAX_ERRORS),
              { message: `${omitted} more errors not shown`, extensions: { code: result.errors[MAX_ERRORS].extensions?.code ?? ErrorCode.BAD_REQUEST } },
            ];
          }
          for (const error of result.errors) {
            const code = error.extensions?.code;
            if (code === ErrorCode.INTERNAL_SERVER_ERROR || code === ErrorCode.SERVICE_UNAVAILABLE) {
              (error as { extensions?: Record<string, unknown> }).extensions = { ...error.extensions, requestId: contextValue.request.id };
            }
          }
          const answered = result.data && Object.values(result.data).some((value) => value !== null);
          if (answered) {
            if ((response.http.status ?? 200) >= 500) response.http.status = 200;
          } else if (result.errors.some((e) => e.extensions?.code === ErrorCode.SERVICE_UNAVAILABLE)) {
            // Nothing was answered: a request error without `data`, which the spec lets carry a 5xx.
            delete (result as { data?: unknown }).data;
            response.http.status = 503;
            response.http.headers.set("retry-after", "1");
          }
        },
      };
    },
  };
}

/**
 * The whole-request timeout for answers that were computed in one stretch
 * (the timer of `requestTimeout` cannot fire while execution holds the event
 * loop): an answer ready after REQUEST_TIMEOUT_MS is replaced by the 503
 * REQUEST_TIMEOUT before it is serialised and sent.
 */
function deadline(ms: number): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          const elapsed = Math.round(performance.now() - contextValue.request.startedAt);
          if (elapsed <= ms || response.body.kind !== "single") return;
          response.body.singleResult = { errors: [{ message: timeoutMessage(ms), extensions: { code: ErrorCode.REQUEST_TIMEOUT, limit: ms, measured: elapsed } }] };
          response.http.status = 503;
          response.http.headers.set("cache-control", "no-store");
          contextValue.request.errorCodes.push(ErrorCode.REQUEST_TIMEOUT);
        },
      };
    },
  };
}

function timeoutMessage(ms: number): string {
  return `The request took longer than ${ms} ms (REQUEST_TIMEOUT_MS)`;
}

/** A subscription sent over HTTP is a 400 pointing to the WebSocket endpoint (src/live/ws-server.ts). */
function subscriptionsOverWebSocket(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== "subscription") return;
          throw new GraphQLError("Subscriptions are served over WebSocket at /graphql (the graphql-ws protocol, subprotocol graphql-transport-ws), not over HTTP", {
            extensions: { code: ErrorCode.BAD_REQUEST, http: { status: 400 } },
          });
        },
      };
    },
  };
}

/** Reports the statement count of each GraphQL request in a response header. */
function sqlStatementsHeader(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          response.http.headers.set(SQL_STATEMENTS_HEADER, String(contextValue.sql.statements));
        },
      };
    },
  };
}

/**
 * helmet's headers on every answer. The API answers JSON and CSV, so its
 * Content-Security-Policy forbids everything; the explorer gets the policy
 * its page needs (./explorer.ts). Cross-Origin-Resource-Policy allows other
 * origins, since reads are public (CORS decides who may read them by script).
 * The landing page's one inline style is allowed by its hash.
 */
function securityHeaders(): RequestHandler {
  const common = { crossOriginResourcePolicy: { policy: "cross-origin" as const }, crossOriginEmbedderPolicy: false };
  const api = helmet({
    ...common,
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], styleSrc: [LANDING_STYLE_HASH], frameAncestors: ["'none'"] } },
  });
  // Not helmet's defaults, whose upgrade-insecure-requests would break the page on a plain-http intranet host.
  const explorer = helmet({ ...common, contentSecurityPolicy: { useDefaults: false, directives: explorerCspDirectives() } });
  // The meeting-hall board's (../live/board-page.ts): its own scripts, ECharts' style attributes, its WebSocket.
  const board = helmet({ ...common, contentSecurityPolicy: { useDefaults: false, directives: boardCspDirectives() } });
  const under = (req: { path: string }, base: string) => req.path === base || req.path.startsWith(`${base}/`);
  return (req, res, next) => (under(req, EXPLORER_PATH) ? explorer : under(req, BOARD_PATH) ? board : api)(req, res, next);
}

/**
 * A request that has not been answered within `ms` gets a 503
 * (REQUEST_TIMEOUT) and its connection is closed after the answer; an answer
 * already under way (a streamed CSV) is left to finish.
 */
function requestTimeout(ms: number): RequestHandler {
  return (_req, res, next) => {
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      res.setHeader("connection", "close");
      sendJsonError(res, 503, timeoutMessage(ms), { code: ErrorCode.REQUEST_TIMEOUT, limit: ms });
    }, ms);
    timer.unref();
    res.once("close", () => clearTimeout(timer));
    res.once("finish", () => clearTimeout(timer));
    next();
  };
}

/** GET /health/ready: a real statement through the database gate; 503 naming no internals while it fails. */
function readiness(db: DataSource, logger: Logger): RequestHandler {
  return async (_req, res) => {
    res.setHeader("cache-control", "no-store");
    try {
      await countingClient(db, { statements: 0 }).query("SELECT 1 AS ok");
      res.json({ status: "ok", database: "up" });
    } catch (error) {
      logger.warn({ err: (error as { cause?: unknown }).cause ?? error }, "readiness check failed");
      res.status(503).setHeader("retry-after", "1");
      res.json({ status: "unavailable", database: "down" });
    }
  };
}

/** Apollo's own messages (start-up, drained caches) go to the same JSON log. */
function apolloLogger(logger: Logger) {
  return {
    debug: (message: string) => logger.debug(message),
    info: (message: string) => logger.info(message),
    warn: (message: string) => logger.warn(message),
    error: (message: string) => logger.error(message),
  };
}

/** Any other path: a JSON 404 that does not repeat the path (Express's own page would quote it whole). */
const notFound: RequestHandler = (_req, res) => {
  sendJsonError(res, 404, "Not found: see /graphql, /explorer, /board/<meetingId>, /export/breakdown.csv, /export/projects.csv, /import/projects.csv (POST), /health/live, /health/ready, /metrics", { code: ErrorCode.NOT_FOUND });
};

/** A body that is not JSON, too large, or stalled gets a GraphQL-shaped 4xx instead of a stack trace; anything else a masked 500. */
function jsonErrors(logger: Logger): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    if (res.headersSent) {
      // Answered already (the request timed out meanwhile): nothing more can be said to the client.
      logger.warn({ reqId: requestOf(res)?.id, err: error }, "error after the answer was sent");
      return;
    }
    const status = typeof error?.status === "number" && error.status >= 400 && error.status < 500 ? error.status : 500;
    const requestId = requestOf(res)?.id;
    if (status === 500) logger.error({ reqId: requestId, err: error }, "request failed");
    const [code, message] =
      status === 500
        ? [ErrorCode.INTERNAL_SERVER_ERROR, "Internal server error"]
        : error?.type === "entity.too.large"
          ? [ErrorCode.PAYLOAD_TOO_LARGE, `Bad request: the body of ${error.length} bytes exceeds the limit of ${error.limit} (MAX_BODY_BYTES)`]
          : error?.type === "entity.parse.failed"
            ? [ErrorCode.BAD_REQUEST, "Bad request: the body is not valid JSON"]
            : [ErrorCode.BAD_REQUEST, `Bad request: ${shortenQuotes(String(error?.message ?? "invalid request"))}`];
    const measured = code === ErrorCode.PAYLOAD_TOO_LARGE ? { limit: error.limit, measured: error.length } : {};
    sendJsonError(res, status, message, { code, ...measured, ...(status === 500 ? { requestId } : {}) });
  };
}
