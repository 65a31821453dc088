import type { DataSource } from "typeorm";

import { Region, RegionLevel } from "./region.type";

/** Every region, as API objects (one statement). */
export async function loadRegions(db: DataSource): Promise<Region[]> {
  const rows: Array<{ id: number; code: string; name: string; level: string; parent_id: number | null }> = await db.query(
    "SELECT id, code, name, level, parent_id FROM region",
  );
  return rows.map((row) => {
    const region = new Region();
    region.id = Number(row.id);
    region.code = row.code;
    region.name = row.name;
    region.level = row.level as RegionLevel;
    region.parentId = row.parent_id === null ? null : Number(row.parent_id);
    return region;
  });
}
