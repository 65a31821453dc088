import "reflect-metadata";

import { ConfigError, loadConfig } from "./config";
import { DatabaseError, openDatabase } from "./db/open-database";
import { startServer } from "./server/server";

/** Start-up: settings, database (migrated; the embedded default also seeded), HTTP server, clean shutdown. */
async function main(): Promise<void> {
  const config = loadConfig();
  const db = await openDatabase(config);
  const server = await startServer(config, db);
  const where = config.database.type === "mysql" ? "MySQL" : `SQLite ${config.database.path}`;
  process.stdout.write(`Server ready at ${server.url} (${where})\n`);
  const stop = async () => {
    await server.close();
    await db.destroy();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`Configuration error: ${error.message}\n`);
  else if ((error as NodeJS.ErrnoException)?.code === "EADDRINUSE") process.stderr.write(`Configuration error: PORT ${(error as { port?: number }).port} is already in use\n`);
  else if (error instanceof DatabaseError) process.stderr.write(`Database error: ${error.message}\n`);
  else process.stderr.write(`Start-up failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
