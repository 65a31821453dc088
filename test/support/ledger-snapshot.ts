/** Every row of every table the ledger writes, to show that a failed or killed write left them as they were. */
import type { DataSource } from "typeorm";

/** Every table a write may change, each with the columns that order its rows. */
export const LEDGER_TABLES: ReadonlyArray<[string, string]> = [
  ["project", "id"],
  ["milestone", "id"],
  ["meeting", "id"],
  ["venue", "id"],
  ["rollup_region", "region_id, sector_id, stage"],
  ["rollup_meeting", "meeting_id, region_id, sector_id, stage"],
  ["rollup_batch", "meeting_id, batch_stage, venue_region_id, region_id, sector_id, stage"],
  ["ledger_change", "id"],
  ["data_version", "id"],
];

export type Snapshot = Map<string, string[]>;

/** Every row of every table the ledger writes, as comparable text. */
export async function snapshot(db: DataSource): Promise<Snapshot> {
  const tables: Snapshot = new Map();
  for (const [table, order] of LEDGER_TABLES) {
    const rows: Array<Record<string, unknown>> = await db.query(`SELECT * FROM ${table} ORDER BY ${order}`);
    tables.set(table, rows.map((row) => JSON.stringify(row, (_key, value) => (typeof value === "bigint" ? String(value) : value))));
  }
  return tables;
}

/** The tables whose rows differ, with a few of the rows gone and added. */
export function differences(before: Snapshot, after: Snapshot): Array<{ table: string; gone: string[]; added: string[] }> {
  const out: Array<{ table: string; gone: string[]; added: string[] }> = [];
  for (const [table] of LEDGER_TABLES) {
    const a = new Set(before.get(table));
    const b = new Set(after.get(table));
    const gone = [...a].filter((row) => !b.has(row));
    const added = [...b].filter((row) => !a.has(row));
    if (gone.length || added.length) out.push({ table, gone: gone.slice(0, 3), added: added.slice(0, 3) });
  }
  return out;
}
