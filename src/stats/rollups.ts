import type { DataSource, EntityManager } from "typeorm";

import { isMysql } from "../db/data-source";

type Db = DataSource | EntityManager;

/** One rollup table: its name, key columns, and the grouped SELECT over the base tables that defines it. */
interface RollupDefinition {
  table: string;
  keys: string[];
  /** SELECT of the key columns then `{sums}` (project_count, investment_wan); `{where}` takes extra conditions on p. */
  select: string;
}

/** The rollups, each defined by the query that recomputes it from `project` and `milestone`. */
export const ROLLUPS: readonly RollupDefinition[] = [
  {
    table: "rollup_region",
    keys: ["region_id", "sector_id", "stage"],
    select:
      "SELECT p.region_id, p.sector_id, p.stage, {sums} FROM project p WHERE 1 = 1{where} GROUP BY p.region_id, p.sector_id, p.stage",
  },
  {
    table: "rollup_meeting",
    keys: ["meeting_id", "region_id", "sector_id", "stage"],
    select:
      "SELECT m.meeting_id, p.region_id, p.sector_id, p.stage, {sums} FROM (SELECT DISTINCT meeting_id, project_id FROM milestone WHERE meeting_id IS NOT NULL) m JOIN project p ON p.id = m.project_id WHERE 1 = 1{where} GROUP BY m.meeting_id, p.region_id, p.sector_id, p.stage",
  },
  {
    table: "rollup_batch",
    keys: ["meeting_id", "batch_stage", "venue_region_id", "region_id", "sector_id", "stage"],
    select:
      "SELECT m.meeting_id, m.stage AS batch_stage, COALESCE(m.venue_region_id, 0) AS venue_region_id, p.region_id, p.sector_id, p.stage, {sums} FROM milestone m JOIN project p ON p.id = m.project_id WHERE m.meeting_id IS NOT NULL{where} GROUP BY m.meeting_id, m.stage, COALESCE(m.venue_region_id, 0), p.region_id, p.sector_id, p.stage",
  },
];

function columns(rollup: RollupDefinition): string {
  return [...rollup.keys, "project_count", "investment_wan"].join(", ");
}

/** The rollup's defining SELECT, its sums signed, restricted by `where` (SQL starting with AND, or empty). */
function selectOf(rollup: RollupDefinition, where = "", sign: 1 | -1 = 1): string {
  const minus = sign < 0 ? "-" : "";
  return rollup.select
    .replace("{sums}", `${minus}COUNT(*) AS project_count, ${minus}SUM(p.investment_wan) AS investment_wan`)
    .replace("{where}", where);
}


/**
 * MariaDB/MySQL session settings under which the rollups' GROUP BYs over
 * millions of rows stay in memory (the defaults spill them to disk: about
 * 40 s instead of 15 s at 1,000,000 projects).
 */
export const ROLLUP_SESSION_SETTINGS = `tmp_table_size = ${1024 ** 3}, max_heap_table_size = ${1024 ** 3}, sort_buffer_size = ${64 * 1024 ** 2}`;
const DEFAULT_SESSION_SETTINGS = "tmp_table_size = DEFAULT, max_heap_table_size = DEFAULT, sort_buffer_size = DEFAULT";

/** Recomputes every rollup from the base tables (in the caller's transaction, if any). */
export async function rebuildRollups(db: Db): Promise<void> {
  // Session settings only hold on one connection: an EntityManager of a transaction or query runner.
  const session = isMysql(db) && "queryRunner" in db && db.queryRunner !== undefined;
  if (session) await db.query(`SET SESSION ${ROLLUP_SESSION_SETTINGS}`);
  try {
    for (const rollup of ROLLUPS) {
      await db.query(`DELETE FROM ${rollup.table}`);
      await db.query(`INSERT INTO ${rollup.table} (${columns(rollup)}) ${selectOf(rollup)}`);
    }
  } finally {
    if (session) await db.query(`SET SESSION ${DEFAULT_SESSION_SETTINGS}`);
  }
}

/** One rollup row that differs from what the base tables say. */
export interface RollupDifference {
  table: string;
  key: Record<string, number>;
  stored: { projectCount: number; investmentWan: number } | null;
  expected: { projectCount: number; investmentWan: number } | null;
}

/** Recomputes every rollup from the base tables and lists each row that differs from the stored one. */
export async function verifyRollups(db: Db): Promise<RollupDifference[]> {
  const differences: RollupDifference[] = [];
  for (const rollup of ROLLUPS) {
    const read = async (sql: string) => {
      const rows: Array<Record<string, unknown>> = await db.query(sql);
      const map = new Map<string, { key: Record<string, number>; value: { projectCount: number; investmentWan: number } }>();
      for (const row of rows) {
        const key = Object.fromEntries(rollup.keys.map((k) => [k, Number(row[k])]));
        map.set(rollup.keys.map((k) => key[k]).join(":"), {
          key,
          value: { projectCount: Number(row.project_count), investmentWan: Number(row.investment_wan) },
        });
      }
      return map;
    };
    const stored = await read(`SELECT ${columns(rollup)} FROM ${rollup.table}`);
    const expected = await read(selectOf(rollup));
    for (const [k, e] of expected) {
      const s = stored.get(k);
      if (!s || s.value.projectCount !== e.value.projectCount || s.value.investmentWan !== e.value.investmentWan) {
        differences.push({ table: rollup.table, key: e.key, stored: s?.value ?? null, expected: e.value });
      }
    }
    for (const [k, s] of stored) if (!expected.has(k)) differences.push({ table: rollup.table, key: s.key, stored: s.value, expected: null });
  }
  return differences;
}
