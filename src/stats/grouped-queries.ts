/** The grouped queries aggregates are read with: from the rollup tables where they can answer, else from the base tables. */
import type { ResolvedFilter } from "../project/project-filter";
import { inList, projectConditions, type SqlConditions, whereSql } from "../project/project-filter.sql";
import type { Context } from "../common/context";

/** A grouped row: count and exact sum of one (region or meeting batch) × sector × stage group. */
export interface GroupRow {
  r?: number;
  mt?: number;
  bs?: number;
  v?: number | null;
  s: number;
  st: number;
  c: number | string;
  w: number | string;
}

/** A grouped query: its SQL and parameters (also its cache key). */
export interface GroupedQuery {
  sql: string;
  params: unknown[];
}

/** Reads a grouped query's rows through the shared cache; `provinces` are those whose writes can change them (null: any). */
export function readGroups(ctx: Context, query: GroupedQuery, provinces: readonly number[] | null): Promise<GroupRow[]> {
  return ctx.groupedRows(`${query.sql}|${JSON.stringify(query.params)}`, provinces, (db) => db.query(query.sql, query.params));
}

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

/** Stage, sector and region conditions only (the columns every rollup table shares with `project`). */
export function dimensionConditions(filter: ResolvedFilter, alias: string): SqlConditions {
  return projectConditions({ stages: filter.stages, sectorIds: filter.sectorIds, regionIds: filter.regionIds, milestones: [] }, alias);
}

export function plainQuery(filter: ResolvedFilter, restrict: number[] | undefined, useRollups: boolean): GroupedQuery {
  const plan = useRollups ? rollupPlan(filter) : null;
  const where = plan ? dimensionConditions(filter, "p") : projectConditions(filter);
  if (restrict) inList("p.region_id", restrict, where);
  const sums = "SUM(p.project_count) AS c, SUM(p.investment_wan) AS w";
  const groupBy = " GROUP BY p.region_id, p.sector_id, p.stage";
  const columns = "p.region_id AS r, p.sector_id AS s, p.stage AS st";
  if (!plan) {
    return { sql: `SELECT ${columns}, COUNT(*) AS c, SUM(p.investment_wan) AS w FROM project p${whereSql(where.clauses)}${groupBy}`, params: where.params };
  }
  if (plan.table === "rollup_region") {
    return { sql: `SELECT ${columns}, p.project_count AS c, p.investment_wan AS w FROM rollup_region p${whereSql(where.clauses)}`, params: where.params };
  }
  if (plan.table === "rollup_meeting") {
    const clauses = ["p.meeting_id = ?", ...where.clauses];
    return { sql: `SELECT ${columns}, p.project_count AS c, p.investment_wan AS w FROM rollup_meeting p${whereSql(clauses)}`, params: [plan.meetingId, ...where.params] };
  }
  const clauses = ["p.meeting_id = ?", "p.batch_stage = ?", ...where.clauses];
  return { sql: `SELECT ${columns}, ${sums} FROM rollup_batch p${whereSql(clauses)}${groupBy}`, params: [plan.meetingId, plan.stage, ...where.params] };
}

export function batchQuery(filter: ResolvedFilter, meetingIds: number[], useRollups: boolean): GroupedQuery {
  const meetings: SqlConditions = { clauses: [], params: [] };
  inList("m.meeting_id", meetingIds, meetings);
  const plan = useRollups ? rollupPlan(filter) : null;
  if (plan?.table === "rollup_region") {
    const where = dimensionConditions(filter, "m");
    return {
      sql: `SELECT m.meeting_id AS mt, m.batch_stage AS bs, m.venue_region_id AS v, m.sector_id AS s, m.stage AS st, SUM(m.project_count) AS c, SUM(m.investment_wan) AS w FROM rollup_batch m${whereSql([...meetings.clauses, ...where.clauses])} GROUP BY m.meeting_id, m.batch_stage, m.venue_region_id, m.sector_id, m.stage`,
      params: [...meetings.params, ...where.params],
    };
  }
  const where = projectConditions(filter);
  return {
    sql: `SELECT m.meeting_id AS mt, m.stage AS bs, m.venue_region_id AS v, p.sector_id AS s, p.stage AS st, COUNT(*) AS c, SUM(p.investment_wan) AS w FROM milestone m JOIN project p ON p.id = m.project_id${whereSql([...meetings.clauses, ...where.clauses])} GROUP BY m.meeting_id, m.stage, m.venue_region_id, p.sector_id, p.stage`,
    params: [...meetings.params, ...where.params],
  };
}

