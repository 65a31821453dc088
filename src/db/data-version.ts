import type { DataSource, EntityManager } from "typeorm";

import type { SqlClient } from "./sql-counter";

/** Marks a change of the data: every write calls this in its transaction, and caches keyed by the version drop what they hold. */
export async function bumpDataVersion(db: DataSource | EntityManager): Promise<void> {
  await db.query("UPDATE data_version SET version = version + 1 WHERE id = 1");
}

/** The current data version (one statement). */
export async function readDataVersion(db: SqlClient): Promise<number> {
  const rows: Array<{ version: number | string }> = await db.query("SELECT version FROM data_version WHERE id = 1");
  return rows.length ? Number(rows[0].version) : 0;
}
