import "reflect-metadata";

import { ConfigError, loadConfig } from "./config";
import { DatabaseError, openDatabase } from "./db/open-database";
import { createObservability } from "./server/observability";
import { startServer } from "./server/server";

/**
 * Start-up: settings, database (migrated; the embedded default also seeded),
 * HTTP server. On SIGTERM or SIGINT: stop accepting, let in-flight requests
 * finish (up to SHUTDOWN_TIMEOUT_MS), close the pool, exit 0; a second signal
 * (a second or more later) exits at once with 1.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const obs = createObservability(config.logLevel);
  const { logger } = obs;
  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled promise rejection"));
  const db = await openDatabase(config);
  const server = await startServer(config, db, obs);
  const where = config.database.type === "mysql" ? "MySQL" : `SQLite ${config.database.path}`;
  logger.info({ url: server.url, database: where }, `Server ready at ${server.url} (${where})`);
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

main().catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`Configuration error: ${error.message}\n`);
  else if ((error as NodeJS.ErrnoException)?.code === "EADDRINUSE") process.stderr.write(`Configuration error: PORT ${(error as { port?: number }).port} is already in use\n`);
  else if (error instanceof DatabaseError) process.stderr.write(`Database error: ${error.message}\n`);
  else process.stderr.write(`Start-up failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
