import "reflect-metadata";

import { ConfigError, loadConfig } from "./config";
import { DatabaseError, openDatabase } from "./db/open-database";
import type { SeedReport } from "./seed/seed";
import { createObservability } from "./server/observability";
import { startServer } from "./server/server";

/**
 * Start-up: settings, database (migrated; the embedded default also seeded
 * on its first start), HTTP server; the log says whether it seeded and how
 * many projects the database holds, where the server listens and where a
 * browser opens the explorer. On SIGTERM or SIGINT: stop accepting, let
 * in-flight requests finish (up to SHUTDOWN_TIMEOUT_MS), close the pool, exit
 * 0; a second signal (a second or more later) exits at once with 1.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const obs = createObservability(config.logLevel);
  const { logger } = obs;
  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled promise rejection"));
  const seeding: { report?: SeedReport } = {};
  const db = await openDatabase(config, (report) => (seeding.report = report));
  const where = config.database.type === "mysql" ? "MySQL" : `SQLite ${config.database.path}`;
  if (seeding.report) {
    const { projects, meetings, regions } = seeding.report;
    logger.info({ database: where, seeded: seeding.report }, `seeded the embedded database on its first start: ${projects} projects, ${meetings} meeting${meetings === 1 ? "" : "s"}, ${regions} regions (${where})`);
  } else if (config.database.type === "sqlite") {
    const projects = Number((await db.query("SELECT COUNT(*) AS n FROM project"))[0].n);
    logger.info({ database: where, projects }, `the embedded database was seeded already: ${projects} projects (${where})`);
  } else if ((await db.query("SELECT 1 AS one FROM region LIMIT 1")).length === 0) {
    // Not counted: COUNT(*) over a million projects would cost InnoDB a second of every start.
    logger.warn({ database: where }, "the MySQL database has no regions: a MySQL start never seeds; `npm run seed` loads the shipped data");
  }
  const server = await startServer(config, db, obs);
  const { url, listening, explorer } = addressesOf(config.host, server.port);
  logger.info({ url, listening, explorer, database: where }, `Server ready at ${url} (${where}): listening on ${listening}; open ${explorer}`);
  let stoppingSince = 0;
  const stop = async (signal: NodeJS.Signals) => {
    if (stoppingSince) {
      // npm and a terminal may deliver one signal twice at once; a second one a moment later means "now".
      if (Date.now() - stoppingSince < 1000) return;
      logger.warn({ signal }, "second signal: exiting without waiting");
      process.exit(1);
    }
    stoppingSince = Date.now();
    logger.info({ signal, timeoutMs: config.timeouts.shutdownMs }, "shutting down: no new connections, waiting for requests in flight");
    // Connections still open after the grace period are closed by the drain; this is the last resort should closing hang.
    setTimeout(() => {
      logger.error("shutdown did not finish in time; exiting");
      process.exit(1);
    }, config.timeouts.shutdownMs + 5000).unref();
    try {
      await server.close();
      await db.destroy();
      logger.info("stopped: requests finished, database closed");
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, "shutdown failed");
      process.exit(1);
    }
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

/**
 * Where the server listens, e.g. `http://0.0.0.0:4000 (all interfaces)`, and
 * the GraphQL endpoint and the explorer as reached from this machine
 * (localhost when it listens on every interface; an IPv6 address in brackets).
 */
function addressesOf(host: string, port: number): { url: string; listening: string; explorer: string } {
  const everywhere = host === "0.0.0.0" || host === "::";
  const shown = host.includes(":") ? `[${host}]` : host;
  const origin = `http://${everywhere ? "localhost" : shown}:${port}`;
  return { url: `${origin}/graphql`, listening: `http://${shown}:${port}${everywhere ? " (all interfaces)" : ""}`, explorer: `${origin}/explorer` };
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`Configuration error: ${error.message}\n`);
  else if ((error as NodeJS.ErrnoException)?.code === "EADDRINUSE") process.stderr.write(`Configuration error: PORT ${(error as { port?: number }).port} is already in use\n`);
  else if (error instanceof DatabaseError) process.stderr.write(`Database error: ${error.message}\n`);
  else process.stderr.write(`Start-up failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
