import http from "node:http";
import type { AddressInfo } from "node:net";

import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from "@apollo/server/plugin/landingPage/default";
import { expressMiddleware } from "@as-integrations/express5";
import express, { type ErrorRequestHandler } from "express";
import type { GraphQLFormattedError } from "graphql";
import type { DataSource } from "typeorm";

import type { Config } from "../config";
import { ErrorCode } from "../common/errors";
import { type Context, createContext } from "./context";
import { jitExecution } from "./jit-executor";
import { exportRoutes } from "../export/export.routes";
import { explorerRoutes } from "./explorer";
import { conditionalGet, httpCachingPlugin } from "./http-caching";
import { buildAppSchema } from "./schema";
import { SharedCache } from "./shared-cache";

/** A listening server and how to stop it. */
export interface RunningServer {
  /** The GraphQL endpoint, e.g. http://localhost:4000/graphql. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Header carrying the number of SQL statements the request issued. */
export const SQL_STATEMENTS_HEADER = "x-sql-statements";

/** Starts the HTTP server: GraphQL at /graphql (Sandbox on GET when not in production), /health. */
export async function startServer(config: Config, db: DataSource): Promise<RunningServer> {
  const app = express();
  const httpServer = http.createServer(app);
  const apollo = new ApolloServer<Context>({
    gateway: jitExecution(await buildAppSchema()),
    introspection: true,
    // Reads are public and writes need a bearer token (never a cookie), so a cross-site "simple" request can do no
    // harm; BI tools and caches must be able to GET a query by URL. Mutations are never served over GET.
    csrfPrevention: false,
    includeStacktraceInErrorResponses: !config.production,
    formatError: (formatted) => maskInternal(formatted, config.production),
    plugins: [
      // Cache-Control is set per operation (later), not by wrapping every field resolver.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      config.production
        ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false }),
      sqlStatementsHeader(),
      httpCachingPlugin(config.httpCacheMaxAge),
    ],
  });
  await apollo.start();
  const shared = config.aggregateCache
    ? new SharedCache({ versionTtlMs: config.dataVersionTtlMs, maxRows: config.aggregateCacheMaxRows })
    : null;
  const contextOptions = { useRollups: config.useRollups, shared };

  app.disable("x-powered-by");
  app.get("/health", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.use(explorerRoutes());
  app.use(exportRoutes(db, contextOptions, config.httpCacheMaxAge));
  app.use(
    "/graphql",
    conditionalGet(db, shared, config.httpCacheMaxAge),
    express.json({ limit: "1mb" }),
    expressMiddleware(apollo, { context: async () => createContext(db, contextOptions) }),
  );
  app.use(jsonErrors);

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.port, config.host, resolve);
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  return {
    url: `http://${host}:${port}/graphql`,
    port,
    close: () => apollo.stop(),
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

/** In production, an unexpected error says only that it happened. */
function maskInternal(formatted: GraphQLFormattedError, production: boolean): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (production && (code === undefined || code === ErrorCode.INTERNAL_SERVER_ERROR)) {
    return { message: "Internal server error", extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR }, path: formatted.path };
  }
  return formatted;
}

/** A body that is not JSON (or too large) gets a GraphQL-shaped 400 instead of a stack trace. */
const jsonErrors: ErrorRequestHandler = (error, _req, res, next) => {
  if (res.headersSent) return next(error);
  const status = typeof error?.status === "number" && error.status >= 400 && error.status < 500 ? error.status : 500;
  const message = status === 500 ? "Internal server error" : `Bad request: ${error?.type === "entity.parse.failed" ? "the body is not valid JSON" : String(error?.message ?? "invalid request")}`;
  res.status(status).json({ errors: [{ message, extensions: { code: status === 500 ? ErrorCode.INTERNAL_SERVER_ERROR : "BAD_REQUEST" } }] });
};
