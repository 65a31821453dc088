import type { DataSource } from "typeorm";

import { Sector } from "./sector.type";

/** Every sector, as API objects (one statement). */
export async function loadSectors(db: DataSource): Promise<Sector[]> {
  const rows: Array<{ id: number; code: string; name: string; parent_id: number | null }> = await db.query(
    "SELECT id, code, name, parent_id FROM sector",
  );
  return rows.map((row) => {
    const sector = new Sector();
    sector.id = Number(row.id);
    sector.code = row.code;
    sector.name = row.name;
    sector.parentId = row.parent_id === null ? null : Number(row.parent_id);
    return sector;
  });
}
