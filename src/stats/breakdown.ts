import type { Context } from "../common/context";
import { getOrCreate } from "../common/maps";
import { stageFromNumber, stageToNumber } from "../common/stage";
import { breakdownEntriesQuery, breakdownProjectsQuery } from "../filter/grouped-queries";
import type { ProjectFilter } from "../filter/project-filter.input";
import { resolveFilter } from "../filter/resolved-filter";
import { createMeetingLoader } from "../meeting/meeting.loaders";
import type { Meeting } from "../meeting/meeting.type";
import { RegionLevel } from "../region/region-level";
import type { Region, RegionTree } from "../region/region.type";
import type { Sector } from "../sector/sector.type";

import { BreakdownDimension, BreakdownRow } from "./breakdown.type";
import { readGroups } from "./read-groups";
import { Bucket } from "./tally";

/** What a breakdown asks for. */
export interface BreakdownRequest {
  groupBy: readonly BreakdownDimension[];
  filter?: ProjectFilter | null;
  regionLevel: RegionLevel;
}

/** The levels from the top: a region is at or above a level when its rank is at most the level's. */
export const LEVEL_RANK: Record<RegionLevel, number> = { [RegionLevel.PROVINCE]: 0, [RegionLevel.CITY]: 1, [RegionLevel.COUNTY]: 2 };

/**
 * The region a project of region `id` is counted toward when grouping by REGION at `level`: the deepest region of
 * its lineage at or above the level (so the project's own region when it lies above the level, as 济源 does for
 * COUNTY). The cost model (src/server/cost.ts) bounds a breakdown's rows with the same function.
 */
export function regionAtLevel(regions: RegionTree, id: number, level: RegionLevel): Region {
  const lineage = regions.lineageOf(id);
  let chosen = lineage[0];
  for (const node of lineage) if (LEVEL_RANK[node.level] <= LEVEL_RANK[level]) chosen = node;
  return chosen;
}

/**
 * Whether a breakdown counts batch entries (milestones presented at meetings) rather than projects: grouping by
 * MEETING, or by STAGE with a meeting in the filter (`meetingCondition`: `meetingId`, or a milestone at a meeting).
 */
export function countsBatchEntries(dimensions: readonly BreakdownDimension[], meetingCondition: boolean): boolean {
  return dimensions.includes(BreakdownDimension.MEETING) || (dimensions.includes(BreakdownDimension.STAGE) && meetingCondition);
}

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
  const batchEntries = countsBatchEntries(dims, filter.meetingId !== undefined || filter.milestones.some((m) => m.meetingId !== undefined));
  const query = (batchEntries ? breakdownEntriesQuery : breakdownProjectsQuery)(filter, dated, ctx.options.useRollups);
  const [rows, regions, sectors] = await Promise.all([readGroups(ctx, query, null), ctx.regionTree(), ctx.sectorTree()]);

  const regionAt = (id: number): Region => regionAtLevel(regions, id, request.regionLevel);
  const meetingIds = has(BreakdownDimension.MEETING) ? [...new Set(rows.map((row) => Number(row.meeting_id)))] : [];
  const meetings = new Map<number, Meeting>();
  (await ctx.loader(createMeetingLoader).loadMany(meetingIds)).forEach((meeting, i) => {
    if (meeting && !(meeting instanceof Error)) meetings.set(meetingIds[i], meeting);
  });

  const groups = new Map<string, { bucket: Bucket; keys: ConstructorParameters<typeof BreakdownRow>[1] }>();
  for (const row of rows) {
    const keys: ConstructorParameters<typeof BreakdownRow>[1] = {};
    if (has(BreakdownDimension.REGION)) keys.region = regionAt(Number(row.region_id));
    if (has(BreakdownDimension.SECTOR)) keys.sector = sectors.lineageOf(Number(row.sector_id))[0];
    if (has(BreakdownDimension.STAGE)) keys.stage = stageFromNumber(Number(row.stage));
    if (has(BreakdownDimension.MEETING)) keys.meeting = meetings.get(Number(row.meeting_id));
    if (dated) keys.year = Number(String(row.reached_month).slice(0, 4));
    if (has(BreakdownDimension.QUARTER)) keys.quarter = Math.floor((Number(String(row.reached_month).slice(5, 7)) - 1) / 3) + 1;
    const key = [keys.region?.id, keys.sector?.id, keys.stage, keys.meeting?.id, keys.year, keys.quarter].join("|");
    getOrCreate(groups, key, () => ({ bucket: new Bucket(), keys })).bucket.add(Number(row.project_count), Number(row.investment_wan));
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
