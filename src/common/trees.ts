
import { CodeTree } from "./tree";
import type { SqlClient } from "../db/sql-counter";
import { RegionLevel } from "../region/region-level";
import { Region, type RegionTree } from "../region/region.type";
import { Sector, type SectorTree } from "../sector/sector.type";

/** The two small trees every request works on. */
export interface Trees {
  regions: RegionTree;
  sectors: SectorTree;
}

/** Reads the whole region tree and the whole sector tree in one statement. */
export async function loadTrees(db: SqlClient): Promise<Trees> {
  const rows: Array<{ tree: string; id: number; code: string; name: string; level: string | null; parent_id: number | null }> = await db.query(
    "SELECT 'region' AS tree, id, code, name, level, parent_id FROM region UNION ALL SELECT 'sector' AS tree, id, code, name, NULL AS level, parent_id FROM sector",
  );
  const regions: Region[] = [];
  const sectors: Sector[] = [];
  for (const row of rows) {
    const node = row.tree === "region" ? new Region() : new Sector();
    node.id = Number(row.id);
    node.code = row.code;
    node.name = row.name;
    node.parentId = row.parent_id === null ? null : Number(row.parent_id);
    if (node instanceof Region) {
      node.level = row.level as RegionLevel;
      regions.push(node);
    } else sectors.push(node);
  }
  return { regions: new CodeTree(regions), sectors: new CodeTree(sectors) };
}
