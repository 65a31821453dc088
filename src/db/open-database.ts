import type { DataSource } from "typeorm";

import { type Config, redactUrl } from "../config";
import { type SeedReport, seedDatabase } from "../seed/seed";
import { createDataSource } from "./data-source";

/** A database the product could not open; the message is one line for the operator. */
export class DatabaseError extends Error {}

/**
 * Opens the configured database and applies pending migrations. The embedded
 * SQLite default is also seeded on its first start; a MySQL start never seeds
 * (run `npm run seed` for that). `onSeeded` hears what a seeding on this start wrote.
 */
export async function openDatabase(config: Config, onSeeded?: (report: SeedReport) => void): Promise<DataSource> {
  let db: DataSource;
  const where = config.database.type === "mysql" ? `MySQL at DATABASE_URL (${redactUrl(config.database.url)})` : `SQLite file ${config.database.path}`;
  try {
    db = await createDataSource(config.database, { logSql: config.logSql });
    await db.initialize();
  } catch (error) {
    throw new DatabaseError(`cannot open ${where}: ${(error as Error).message}`);
  }
  await db.runMigrations({ transaction: "each" });
  if (config.database.type === "sqlite" && (await isEmpty(db))) {
    const report = await seedDatabase(db);
    onSeeded?.(report);
  }
  return db;
}

async function isEmpty(db: DataSource): Promise<boolean> {
  const rows: Array<{ region_count: number | string }> = await db.query("SELECT COUNT(*) AS region_count FROM region");
  return Number(rows[0].region_count) === 0;
}
