import type { DataSource } from "typeorm";

import { loadConfig } from "../../src/config";
import { openDatabase } from "../../src/db/open-database";
import { seedDatabase } from "../../src/seed/seed";
import type { Observability } from "../../src/server/observability";
import { SQL_STATEMENTS_HEADER, startServer } from "../../src/server/server";
import { createScratchDatabase, type DbKind } from "./databases";

/** A GraphQL response as the client sees it. */
export interface GqlResult<T = any> {
  status: number;
  headers: Headers;
  data: T;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, any> }>;
  /** SQL statements the request issued (from the response header). */
  sqlStatements: number;
}

/** A real server on a fresh, migrated and seeded database, reached over HTTP. */
export interface TestServer {
  kind: DbKind;
  url: string;
  db: DataSource;
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>>;
  close(): Promise<void>;
}

/**
 * Starts the product as `npm start` would, on its own scratch database, seeded
 * with the shipped data; `env` adds settings; `obs` replaces the logs and
 * metrics (a test that reads the log passes its own).
 */
export async function startTestServer(kind: DbKind, env: Record<string, string> = {}, obs?: Observability): Promise<TestServer> {
  const scratch = await createScratchDatabase(kind);
  const loaded = loadConfig({ PORT: "0", HOST: "127.0.0.1", NODE_ENV: "test", SQL_STATEMENTS_HEADER: "true", LOG_LEVEL: "silent", ...env });
  // The scratch database's own settings, with the pool size a test asked for (DB_POOL_SIZE) on MySQL.
  const database = scratch.config.type === "mysql" && env.DB_POOL_SIZE ? { ...scratch.config, poolSize: Number(env.DB_POOL_SIZE) } : scratch.config;
  const config = { ...loaded, database };
  const db = await openDatabase(config);
  if (kind === "mysql") await seedDatabase(db); // the embedded default seeds itself on first start; MySQL never does
  const server = await startServer(config, db, obs);
  return {
    kind,
    url: server.url,
    db,
    async gql(query, variables) {
      const response = await fetch(server.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data: any; errors?: GqlResult["errors"] };
      return { status: response.status, headers: response.headers, data: body.data, errors: body.errors, sqlStatements: Number(response.headers.get(SQL_STATEMENTS_HEADER)) };
    },
    async close() {
      await server.close();
      await db.destroy();
      await scratch.drop();
    },
  };
}
