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
}

/** The current versions (one statement). */
export async function readDataVersions(db: SqlClient): Promise<DataVersions> {
  const rows: Array<{ province_id: number | string; version: number | string }> = await db.query(
    "SELECT province_id AS province_id, SUM(version) AS version FROM data_version GROUP BY province_id",
  );
  const byProvince = new Map<number, number>();
  let total = 0;
  for (const row of rows) {
    byProvince.set(Number(row.province_id), Number(row.version));
    total += Number(row.version);
  }
  return { total, byProvince };
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
