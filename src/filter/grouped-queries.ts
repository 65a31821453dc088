/**
 * The grouped queries every aggregate is read with: from the rollup tables
 * where they can answer a filter, else from the base tables. Each query names
 * the shape of its rows; the stats engine and the breakdowns run them, and
 * this module runs nothing itself.
 */
import type { IncrementalSpec } from "../common/incremental-spec";
import { dimensionConditions, inList, projectConditions, type SqlConditions, whereSql } from "./project-conditions";
import type { ResolvedFilter } from "./resolved-filter";

/** A COUNT or SUM: MySQL sends DECIMAL sums as strings, SQLite sends numbers. */
type Total = number | string;

/** Projects of one region × sector × current stage. */
export interface RegionGroupRow {
  region_id: number;
  sector_id: number;
  stage: number;
  project_count: Total;
  investment_wan: Total;
}

/** Batch entries of one meeting × batch stage × venue (null, or 0 in the rollups, for none) × sector × current stage. */
export interface BatchGroupRow {
  meeting_id: number;
  batch_stage: number;
  venue_region_id: number | null;
  sector_id: number;
  stage: number;
  project_count: Total;
  investment_wan: Total;
}

/**
 * A breakdown's group: region × sector × stage (the current stage, or for
 * batch entries the batch's), with the meeting of batch entries and the month
 * ("YYYY-MM") of a dated breakdown where the query reads them.
 */
export interface BreakdownGroupRow {
  region_id: number;
  sector_id: number;
  stage: number;
  meeting_id?: number | null;
  reached_month?: string | null;
  project_count: Total;
  investment_wan: Total;
}

/** How a grouped query's rows follow from a rollup table's rows. */
/** A grouped query: its SQL and parameters (together its cache key), and the shape of its rows. */
export interface GroupedQuery<Row> {
  sql: string;
  params: unknown[];
  /** Never set: carries the row type to whoever runs the query. */
  readonly rows?: Row[];
  /** How a write's rollup deltas change the rows, when the query reads a rollup table (src/stats/incremental.ts). */
  incremental?: IncrementalSpec;
}

/** The filter's stage, sector and region conditions (and fixed key values) as conditions on a rollup's key columns. */
function rollupWhere(filter: ResolvedFilter, fixed: Record<string, readonly number[]>, restrict?: readonly number[]): IncrementalSpec["where"] {
  const where: IncrementalSpec["where"] = Object.entries(fixed).map(([column, values]) => ({ column, values: new Set(values) }));
  if (filter.stages) where.push({ column: "stage", values: new Set(filter.stages) });
  if (filter.sectorIds) where.push({ column: "sector_id", values: new Set(filter.sectorIds) });
  if (filter.regionIds) where.push({ column: "region_id", values: new Set(filter.regionIds) });
  if (restrict) where.push({ column: "region_id", values: new Set(restrict) });
  return where;
}

const REGION_GROUP_FIELDS: Array<[string, string]> = [
  ["region_id", "region_id"],
  ["sector_id", "sector_id"],
  ["stage", "stage"],
];

/** How the rollups can answer a filter's meeting conditions, or null when only the base tables can. */
export type RollupPlan = { table: "rollup_region" } | { table: "rollup_meeting"; meetingId: number } | { table: "rollup_batch"; meetingId: number; stage: number };

/**
 * The rollups hold current stage, sector and region per project group, and per
 * meeting and batch; they cannot see investment bounds, names, dates or venues.
 */
export function rollupPlan(filter: ResolvedFilter): RollupPlan | null {
  if (filter.minWan !== undefined || filter.maxWan !== undefined || filter.nameContains !== undefined) return null;
  if (filter.milestones.length > 1) return null;
  const milestone = filter.milestones[0];
  if (milestone) {
    if (milestone.meetingId === undefined || milestone.from !== undefined || milestone.to !== undefined || milestone.venueRegionId !== undefined) return null;
    // Reaching a stage at meeting M implies being presented at M, so a meetingId of the same meeting adds nothing.
    if (filter.meetingId !== undefined && filter.meetingId !== milestone.meetingId) return null;
    return { table: "rollup_batch", meetingId: milestone.meetingId, stage: milestone.stage };
  }
  if (filter.meetingId !== undefined) return { table: "rollup_meeting", meetingId: filter.meetingId };
  return { table: "rollup_region" };
}

const REGION_GROUP = "p.region_id AS region_id, p.sector_id AS sector_id, p.stage AS stage";
const SUMMED = "SUM(p.project_count) AS project_count, SUM(p.investment_wan) AS investment_wan";

/** Projects matching `filter` (in the regions `restrict` lists, when given) by region × sector × current stage. */
export function regionGroupsQuery(filter: ResolvedFilter, restrict: number[] | undefined, useRollups: boolean): GroupedQuery<RegionGroupRow> {
  const plan = useRollups ? rollupPlan(filter) : null;
  const where = plan ? dimensionConditions(filter, "p") : projectConditions(filter);
  if (restrict) inList("p.region_id", restrict, where);
  const groupBy = " GROUP BY p.region_id, p.sector_id, p.stage";
  if (!plan) {
    return {
      sql: `SELECT ${REGION_GROUP}, COUNT(*) AS project_count, SUM(p.investment_wan) AS investment_wan FROM project p${whereSql(where.clauses)}${groupBy}`,
      params: where.params,
    };
  }
  // rollup_region and rollup_meeting hold one row per group already; rollup_batch also splits groups by venue.
  const stored = "p.project_count AS project_count, p.investment_wan AS investment_wan";
  if (plan.table === "rollup_region") {
    const incremental = { table: plan.table, where: rollupWhere(filter, {}, restrict), groupBy: REGION_GROUP_FIELDS };
    return { sql: `SELECT ${REGION_GROUP}, ${stored} FROM rollup_region p${whereSql(where.clauses)}`, params: where.params, incremental };
  }
  if (plan.table === "rollup_meeting") {
    const clauses = ["p.meeting_id = ?", ...where.clauses];
    const incremental = { table: plan.table, where: rollupWhere(filter, { meeting_id: [plan.meetingId] }, restrict), groupBy: REGION_GROUP_FIELDS };
    return { sql: `SELECT ${REGION_GROUP}, ${stored} FROM rollup_meeting p${whereSql(clauses)}`, params: [plan.meetingId, ...where.params], incremental };
  }
  const clauses = ["p.meeting_id = ?", "p.batch_stage = ?", ...where.clauses];
  const incremental = { table: plan.table, where: rollupWhere(filter, { meeting_id: [plan.meetingId], batch_stage: [plan.stage] }, restrict), groupBy: REGION_GROUP_FIELDS };
  return { sql: `SELECT ${REGION_GROUP}, ${SUMMED} FROM rollup_batch p${whereSql(clauses)}${groupBy}`, params: [plan.meetingId, plan.stage, ...where.params], incremental };
}

/** Batch entries of these meetings matching `filter`, by meeting × batch stage × venue × sector × current stage. */
export function batchGroupsQuery(filter: ResolvedFilter, meetingIds: number[], useRollups: boolean): GroupedQuery<BatchGroupRow> {
  const meetings: SqlConditions = { clauses: [], params: [] };
  inList("m.meeting_id", meetingIds, meetings);
  const plan = useRollups ? rollupPlan(filter) : null;
  if (plan?.table === "rollup_region") {
    const where = dimensionConditions(filter, "m");
    return {
      sql:
        "SELECT m.meeting_id AS meeting_id, m.batch_stage AS batch_stage, m.venue_region_id AS venue_region_id, m.sector_id AS sector_id, m.stage AS stage, " +
        `SUM(m.project_count) AS project_count, SUM(m.investment_wan) AS investment_wan FROM rollup_batch m${whereSql([...meetings.clauses, ...where.clauses])} ` +
        "GROUP BY m.meeting_id, m.batch_stage, m.venue_region_id, m.sector_id, m.stage",
      params: [...meetings.params, ...where.params],
      incremental: {
        table: "rollup_batch",
        where: rollupWhere(filter, { meeting_id: meetingIds }),
        groupBy: [
          ["meeting_id", "meeting_id"],
          ["batch_stage", "batch_stage"],
          ["venue_region_id", "venue_region_id"],
          ["sector_id", "sector_id"],
          ["stage", "stage"],
        ],
      },
    };
  }
  const where = projectConditions(filter);
  return {
    sql:
      "SELECT m.meeting_id AS meeting_id, m.stage AS batch_stage, m.venue_region_id AS venue_region_id, p.sector_id AS sector_id, p.stage AS stage, " +
      `COUNT(*) AS project_count, SUM(p.investment_wan) AS investment_wan FROM milestone m JOIN project p ON p.id = m.project_id${whereSql([...meetings.clauses, ...where.clauses])} ` +
      "GROUP BY m.meeting_id, m.stage, m.venue_region_id, p.sector_id, p.stage",
    params: [...meetings.params, ...where.params],
  };
}

/** Projects by region × sector × current stage (× month of the relevant date): the rows add up to `stats` of the same filter. */
export function breakdownProjectsQuery(filter: ResolvedFilter, dated: boolean, useRollups: boolean): GroupedQuery<BreakdownGroupRow> {
  if (!dated) return regionGroupsQuery(filter, undefined, useRollups);
  // The date a project reached the stage the filter names, or else its current stage; one milestone per stage, so no row doubles.
  const milestone = filter.milestones[0];
  const join = milestone ? " JOIN milestone bm ON bm.project_id = p.id AND bm.stage = ?" : "";
  const month = milestone ? "SUBSTR(bm.reached_on, 1, 7)" : "SUBSTR(p.stage_reached_on, 1, 7)";
  const where = projectConditions(filter);
  return {
    sql:
      `SELECT ${REGION_GROUP}, ${month} AS reached_month, COUNT(*) AS project_count, SUM(p.investment_wan) AS investment_wan ` +
      `FROM project p${join}${whereSql(where.clauses)} GROUP BY p.region_id, p.sector_id, p.stage, ${month}`,
    params: milestone ? [milestone.stage, ...where.params] : where.params,
  };
}

/** Batch entries (milestones presented at meetings) by region × sector × batch stage × meeting (× month). */
export function breakdownEntriesQuery(filter: ResolvedFilter, dated: boolean, useRollups: boolean): GroupedQuery<BreakdownGroupRow> {
  const plan = useRollups && !dated ? rollupPlan(filter) : null;
  const entries: SqlConditions = { clauses: [], params: [] };
  const alias = plan ? "p" : "m";
  const batchStage = plan ? "p.batch_stage" : "m.stage";
  if (filter.meetingId !== undefined) entries.clauses.push(`${alias}.meeting_id = ?`), entries.params.push(filter.meetingId);
  for (const m of filter.milestones) {
    if (m.meetingId === undefined) continue;
    entries.clauses.push(`${alias}.meeting_id = ?`, `${batchStage} = ?`);
    entries.params.push(m.meetingId, m.stage);
  }
  if (plan) {
    const where = dimensionConditions(filter, "p");
    return {
      sql:
        `SELECT p.region_id AS region_id, p.sector_id AS sector_id, p.batch_stage AS stage, p.meeting_id AS meeting_id, ${SUMMED} ` +
        `FROM rollup_batch p${whereSql([...entries.clauses, ...where.clauses])} GROUP BY p.region_id, p.sector_id, p.batch_stage, p.meeting_id`,
      params: [...entries.params, ...where.params],
    };
  }
  const where = projectConditions(filter);
  const month = "SUBSTR(m.reached_on, 1, 7)";
  return {
    sql:
      `SELECT p.region_id AS region_id, p.sector_id AS sector_id, m.stage AS stage, m.meeting_id AS meeting_id, ${month} AS reached_month, ` +
      "COUNT(*) AS project_count, SUM(p.investment_wan) AS investment_wan " +
      `FROM milestone m JOIN project p ON p.id = m.project_id${whereSql(["m.meeting_id IS NOT NULL", ...entries.clauses, ...where.clauses])} ` +
      `GROUP BY p.region_id, p.sector_id, m.stage, m.meeting_id, ${month}`,
    params: [...entries.params, ...where.params],
  };
}
