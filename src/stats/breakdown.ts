import type { Context } from "../common/context";
import { stageFromNumber, stageToNumber } from "../common/stage";
import { createMeetingLoader } from "../meeting/meeting.loaders";
import type { Meeting } from "../meeting/meeting.type";
import { resolveFilter, type ResolvedFilter } from "../project/project-filter";
import type { ProjectFilter } from "../project/project-filter.input";
import { projectConditions, type SqlConditions, whereSql } from "../project/project-filter.sql";
import { type Region, RegionLevel } from "../region/region.type";
import type { Sector } from "../sector/sector.type";

import { BreakdownDimension, BreakdownRow } from "./breakdown.type";
import { dimensionConditions, type GroupedQuery, type GroupRow, plainQuery, readGroups, rollupPlan } from "./grouped-queries";
import { Bucket } from "./tally";
import { getOrCreate } from "../common/maps";

/** What a breakdown asks for. */
export interface BreakdownRequest {
  groupBy: readonly BreakdownDimension[];
  filter?: ProjectFilter | null;
  regionLevel: RegionLevel;
}

const LEVEL_RANK: Record<string, number> = { PROVINCE: 0, CITY: 1, COUNTY: 2 };

/** A grouped row of a breakdown query: a month ("YYYY-MM") and a meeting where those dimensions are read. */
type DatedRow = GroupRow & { mt?: number | null; ym?: string | null };

/**
 * Flat rows grouped by the requested dimensions, ordered by them. One grouped
 * query (rollups where they can answer; base tables for dates and for
 * filters they cannot see), then grouping in memory along the trees; meetings
 * named by the rows are read in one more statement.
 */
export async function computeBreakdown(ctx: Context, request: BreakdownRequest): Promise<BreakdownRow[]> {
  const dims = [...new Set(request.groupBy)];
  const has = (d: BreakdownDimension) => dims.includes(d);
  const filter = await resolveFilter(request.filter, ctx);
  const dated = has(BreakdownDimension.YEAR) || has(BreakdownDimension.QUARTER);
  // The contract: grouping by MEETING, or by STAGE with a meeting in the filter, counts batch entries (milestones).
  const batchEntries =
    has(BreakdownDimension.MEETING) || (has(BreakdownDimension.STAGE) && (filter.meetingId !== undefined || filter.milestones.some((m) => m.meetingId !== undefined)));
  const query = batchEntries ? entryQuery(filter, dated, ctx.options.useRollups) : projectQuery(filter, dated, ctx.options.useRollups);
  const [rows, regions, sectors] = await Promise.all([readGroups(ctx, query, null) as Promise<DatedRow[]>, ctx.regionTree(), ctx.sectorTree()]);

  const regionAt = (id: number): Region => {
    const lineage = regions.lineageOf(id);
    let chosen = lineage[0];
    for (const node of lineage) if (LEVEL_RANK[node.level] <= LEVEL_RANK[request.regionLevel]) chosen = node;
    return chosen;
  };
  const meetingIds = has(BreakdownDimension.MEETING) ? [...new Set(rows.map((row) => Number(row.mt)))] : [];
  const meetings = new Map<number, Meeting>();
  (await ctx.loader(createMeetingLoader).loadMany(meetingIds)).forEach((meeting, i) => {
    if (meeting && !(meeting instanceof Error)) meetings.set(meetingIds[i], meeting);
  });

  const groups = new Map<string, { bucket: Bucket; keys: ConstructorParameters<typeof BreakdownRow>[1] }>();
  for (const row of rows) {
    const keys: ConstructorParameters<typeof BreakdownRow>[1] = {};
    if (has(BreakdownDimension.REGION)) keys.region = regionAt(Number(row.r));
    if (has(BreakdownDimension.SECTOR)) keys.sector = sectors.lineageOf(Number(row.s))[0];
    if (has(BreakdownDimension.STAGE)) keys.stage = stageFromNumber(Number(row.st));
    if (has(BreakdownDimension.MEETING)) keys.meeting = meetings.get(Number(row.mt));
    if (dated) keys.year = Number(String(row.ym).slice(0, 4));
    if (has(BreakdownDimension.QUARTER)) keys.quarter = Math.floor((Number(String(row.ym).slice(5, 7)) - 1) / 3) + 1;
    const key = [keys.region?.id, keys.sector?.id, keys.stage, keys.meeting?.id, keys.year, keys.quarter].join("|");
    getOrCreate(groups, key, () => ({ bucket: new Bucket(), keys })).bucket.add(Number(row.c), Number(row.w));
  }
  const out = [...groups.values()].filter((g) => g.bucket.count > 0).map((g) => new BreakdownRow(g.bucket, g.keys));
  return out.sort((a, b) => {
    for (const d of dims) {
      const order = compareBy(d, a, b);
      if (order !== 0) return order;
    }
    return 0;
  });
}

function compareBy(dimension: BreakdownDimension, a: BreakdownRow, b: BreakdownRow): number {
  const code = (x: Region | Sector | null) => x?.code ?? "";
  switch (dimension) {
    case BreakdownDimension.REGION:
      return code(a.region) < code(b.region) ? -1 : code(a.region) > code(b.region) ? 1 : 0;
    case BreakdownDimension.SECTOR:
      return code(a.sector) < code(b.sector) ? -1 : code(a.sector) > code(b.sector) ? 1 : 0;
    case BreakdownDimension.STAGE:
      return (a.stage ? stageToNumber(a.stage) : 0) - (b.stage ? stageToNumber(b.stage) : 0);
    case BreakdownDimension.MEETING: {
      const at = `${a.meeting?.heldOn}|${String(a.meeting?.id).padStart(9, "0")}`;
      const bt = `${b.meeting?.heldOn}|${String(b.meeting?.id).padStart(9, "0")}`;
      return at < bt ? -1 : at > bt ? 1 : 0;
    }
    case BreakdownDimension.YEAR:
      return (a.year ?? 0) - (b.year ?? 0);
    case BreakdownDimension.QUARTER:
      return (a.year ?? 0) - (b.year ?? 0) || (a.quarter ?? 0) - (b.quarter ?? 0);
  }
}

/** Projects by region × sector × current stage (× month of the relevant date): the rows add up to `stats` of the same filter. */
function projectQuery(filter: ResolvedFilter, dated: boolean, useRollups: boolean): GroupedQuery {
  if (!dated) return plainQuery(filter, undefined, useRollups);
  // The date a project reached the stage the filter names, or else its current stage; one milestone per stage, so no row doubles.
  const milestone = filter.milestones[0];
  const join = milestone ? " JOIN milestone bm ON bm.project_id = p.id AND bm.stage = ?" : "";
  const month = milestone ? "SUBSTR(bm.reached_on, 1, 7)" : "SUBSTR(p.stage_reached_on, 1, 7)";
  const where = projectConditions(filter);
  return {
    sql: `SELECT p.region_id AS r, p.sector_id AS s, p.stage AS st, ${month} AS ym, COUNT(*) AS c, SUM(p.investment_wan) AS w FROM project p${join}${whereSql(where.clauses)} GROUP BY p.region_id, p.sector_id, p.stage, ${month}`,
    params: milestone ? [milestone.stage, ...where.params] : where.params,
  };
}

/** Batch entries (milestones presented at meetings) by region × sector × batch stage × meeting (× month). */
function entryQuery(filter: ResolvedFilter, dated: boolean, useRollups: boolean): GroupedQuery {
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
      sql: `SELECT p.region_id AS r, p.sector_id AS s, p.batch_stage AS st, p.meeting_id AS mt, SUM(p.project_count) AS c, SUM(p.investment_wan) AS w FROM rollup_batch p${whereSql([...entries.clauses, ...where.clauses])} GROUP BY p.region_id, p.sector_id, p.batch_stage, p.meeting_id`,
      params: [...entries.params, ...where.params],
    };
  }
  const where = projectConditions(filter);
  const month = "SUBSTR(m.reached_on, 1, 7)";
  return {
    sql: `SELECT p.region_id AS r, p.sector_id AS s, m.stage AS st, m.meeting_id AS mt, ${month} AS ym, COUNT(*) AS c, SUM(p.investment_wan) AS w FROM milestone m JOIN project p ON p.id = m.project_id${whereSql(["m.meeting_id IS NOT NULL", ...entries.clauses, ...where.clauses])} GROUP BY p.region_id, p.sector_id, m.stage, m.meeting_id, ${month}`,
    params: [...entries.params, ...where.params],
  };
}
