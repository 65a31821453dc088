import type { DataSource, EntityManager } from "typeorm";

import { isMysql } from "./data-source";
import { insertRows, type StatementRunner } from "./sql";
import type { SqlClient } from "./sql-counter";

/**
 * The versions caches depend on. `data_version` holds one counter per region
 * that writes have touched (`id` = the region's id; 0 for changes of the
 * region and sector trees themselves), with the province it lies in. A write
 * bumps only the counters of the regions it changes, so writers in different
 * counties never wait on one row; a reader sums the counters per province.
 * Every counter only grows, so each committed write changes the sum of its
 * province and the total, and nothing else.
 */
export interface DataVersions {
  /** Sum of every counter: changes with every committed write anywhere (ETags use it). */
  total: number;
  /** Sum of the counters per province id (0: the trees; every cached value depends on it). */
  byProvince: ReadonlyMap<number, number>;
  /**
   * Each counter: region id → its province and value. A cached value loaded with the counters of its provinces
   * (src/stats/incremental.ts) knows exactly which writes it holds, and so which change events to add to it.
   */
  byRegion: ReadonlyMap<number, RegionVersion>;
}

/** The counters rows were read with: region id → value (a region absent has counter 0). */
export type Stamp = Map<number, number>;

/** One `data_version` counter. */
export interface RegionVersion {
  province: number;
  version: number;
}

/** The current versions (one statement; one row per region that writes have touched). */
export async function readDataVersions(db: SqlClient): Promise<DataVersions> {
  const rows: Array<{ id: number | string; province_id: number | string; version: number | string }> = await db.query("SELECT id, province_id, version FROM data_version");
  return versionsOf(rows.map((row) => ({ region: Number(row.id), province: Number(row.province_id), version: Number(row.version) })));
}

/** The versions of these counters: the sums per province and in all. */
export function versionsOf(counters: Iterable<{ region: number; province: number; version: number }>): DataVersions {
  const byProvince = new Map<number, number>();
  const byRegion = new Map<number, RegionVersion>();
  let total = 0;
  for (const { region, province, version } of counters) {
    byRegion.set(region, { province, version });
    byProvince.set(province, (byProvince.get(province) ?? 0) + version);
    total += version;
  }
  return { total, byProvince, byRegion };
}

/** The provinces whose versions differ between `before` and `after` (0 included when the trees changed). */
export function changedProvinces(before: DataVersions, after: DataVersions): number[] {
  const changed: number[] = [];
  for (const [province, version] of after.byProvince) if (before.byProvince.get(province) !== version) changed.push(province);
  for (const province of before.byProvince.keys()) if (!after.byProvince.has(province)) changed.push(province);
  return changed;
}

/** What a write touched, for its version bumps: a region and the province it lies in. */
export interface TouchedRegion {
  regionId: number;
  provinceId: number;
}

/**
 * Moves the counters of the regions a write touched (in the write's
 * transaction, last, so their row locks are held briefly), in id order so that
 * two writers lock them in the same order.
 */
export async function bumpVersions(db: StatementRunner, touched: Iterable<TouchedRegion>, mysql: boolean): Promise<void> {
  const byId = new Map<number, number>();
  for (const t of touched) byId.set(t.regionId, t.provinceId);
  const rows = [...byId].sort((a, b) => a[0] - b[0]);
  if (rows.length === 0) return;
  const upsert = mysql ? " ON DUPLICATE KEY UPDATE version = version + 1" : " ON CONFLICT (id) DO UPDATE SET version = version + 1";
  await insertRows(db, "data_version", ["id", "province_id", "version"], rows.map(([id, province]) => [id, province, 1]), { chunk: rows.length, suffix: upsert });
}

/** Moves counter 0, on which everything cached depends: after a change of the region or sector trees, or a rebuild of the rollups. */
export async function bumpTreeVersion(db: DataSource | EntityManager): Promise<void> {
  await bumpVersions(db, [{ regionId: 0, provinceId: 0 }], isMysql(db));
}
