import "reflect-metadata";

import { runCommand } from "../common/cli";
import { loadConfig } from "../config";
import { openDatabase } from "../db/open-database";
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

runCommand("seeding", main);
