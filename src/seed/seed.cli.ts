import "reflect-metadata";

import { ConfigError, loadConfig } from "../config";
import { DatabaseError, openDatabase } from "../db/open-database";
import { seedDatabase } from "./seed";

/** `npm run seed`: applies pending migrations, then loads the shipped data (idempotent) into the configured database. */
async function main(): Promise<void> {
  const config = loadConfig();
  const db = await openDatabase(config);
  try {
    const report = await seedDatabase(db);
    const written = Object.entries(report).map(([table, n]) => `${table} ${n}`).join(", ");
    process.stdout.write(`Seeded ${config.database.type === "mysql" ? "MySQL" : config.database.path}: ${written} new rows\n`);
  } finally {
    await db.destroy();
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`Configuration error: ${error.message}\n`);
  else if (error instanceof DatabaseError) process.stderr.write(`Database error: ${error.message}\n`);
  else process.stderr.write(`Seeding failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
