import { print } from "graphql";
import { type ComplexityEstimator, simpleEstimator } from "graphql-query-complexity";
import { MAX_PAGE_SIZE } from "../common/pagination";
import { STAGES } from "../common/stage";
import type { SqlClient } from "../db/sql-counter";
import { BreakdownDimension } from "../stats/breakdown.type";
import { loadTrees } from "../common/trees";

/**
 * The cost of a query, in fields to produce plus SQL to run:
 * - every field costs 1 plus what it selects;
 * - a list multiplies what it selects by its size: `first` for project
 *   pages, and for the rest the largest size it has in the data (a region's
 *   children, the sectors, a meeting's venues, …; see CostModel);
 * - each distinct grouped query (a `stats` filter, a project page, a
 *   breakdown) costs GROUPED_QUERY_COST once, however often it is asked:
 *   the loaders answer every repeat from one statement.
 *
 * The province-to-county query with every breakdown at all three levels
 * costs 40,808 on the shipped Henan data and 82,576 on the national
 * benchmark data (3,224 regions, 26 children at most, 20 sectors); every
 * example costs less on the shipped data. MAX_COST defaults to 100,000, so
 * these pass, while every meeting's batches and venues of the national data
 * (the meeting-batches example on 372 meetings: 236,849, 2.4 MB, 1.3 s of
 * CPU) is refused.
 */

/** What one distinct grouped query (one SQL statement, at most a GROUP BY over the rollups) costs. */
export const GROUPED_QUERY_COST = 1000;

/** The largest size each list of the schema has in the data, read at start-up (`readCostModel`). */
export interface CostModel {
  /** Regions in all, and per level. */
  regions: number;
  regionsByLevel: Record<string, number>;
  /** For each region code, the regions of its subtree (itself included) by level; narrows a breakdown filtered by region. Optional: without it, the whole tree counts. */
  subtreeByLevel?: Map<string, Record<string, number>>;
  /** The most children any region has. */
  maxRegionChildren: number;
  /** Depth of the region tree (ancestors of a county). */
  regionDepth: number;
  sectors: number;
  maxSectorChildren: number;
  meetings: number;
  /** The most venues any meeting has. */
  maxVenues: number;
  /** The most milestones any project has. */
  maxMilestones: number;
  /** Calendar years the milestones span. */
  years: number;
  /** Projects in all: a breakdown never has more rows than that. */
  projects: number;
  /** Milestones in all: a breakdown by meeting counts those. */
  milestones: number;
}

/**
 * Reads the list sizes the cost model needs (three statements, each a lookup on an index or a small table, so that
 * re-reading it after writes costs little at any size: the trees every request uses, then meetings, then bounds on
 * projects, milestones and their dates). Project and milestone counts are the largest ids, which only grow (the
 * ledger deletes no project), so they bound the counts from above; a project has at most one milestone per stage.
 */
export async function readCostModel(db: SqlClient): Promise<CostModel> {
  const num = (rows: Array<Record<string, unknown>>, key: string) => Number(rows[0]?.[key] ?? 0);
  const { regions, sectors } = await loadTrees(db);
  const meetings: Array<Record<string, unknown>> = await db.query(
    "SELECT (SELECT COUNT(*) FROM meeting) AS meeting_count, (SELECT COALESCE(MAX(venue_count), 0) FROM (SELECT COUNT(*) AS venue_count FROM venue GROUP BY meeting_id) t) AS max_venues",
  );
  // The first and last date of each stage: each one step on idx_milestone_stage_date (stage, reached_on).
  const datesOf = (fn: "MIN" | "MAX") => STAGES.map((_, i) => `(SELECT ${fn}(reached_on) FROM milestone WHERE stage = ${i + 1}) AS ${fn.toLowerCase()}_on_${i + 1}`);
  const projects: Array<Record<string, unknown>> = await db.query(
    `SELECT (SELECT COALESCE(MAX(id), 0) FROM project) AS project_count, (SELECT COALESCE(MAX(id), 0) FROM milestone) AS milestone_count, ${[...datesOf("MIN"), ...datesOf("MAX")].join(", ")}`,
  );
  const dates = (fn: "min" | "max") => STAGES.map((_, i) => projects[0]?.[`${fn}_on_${i + 1}`]).filter(Boolean).map(String).sort();
  const firstOn = dates("min")[0];
  const lastOn = dates("max").pop();
  const year = (value: unknown) => (value ? Number(String(value).slice(0, 4)) : 0);
  const regionsByLevel: Record<string, number> = {};
  // For each region, how many regions of each level its subtree holds (itself included): each region counts in its lineage.
  const subtreeByLevel = new Map<string, Record<string, number>>(regions.all().map((r) => [r.code, {}]));
  for (const region of regions.all()) {
    regionsByLevel[region.level] = (regionsByLevel[region.level] ?? 0) + 1;
    for (const holder of regions.lineageOf(region.id)) {
      const count = subtreeByLevel.get(holder.code)!;
      count[region.level] = (count[region.level] ?? 0) + 1;
    }
  }
  const most = <N extends { id: number }>(nodes: N[], size: (node: N) => number) => nodes.reduce((m, node) => Math.max(m, size(node)), 0);
  return {
    regions: regions.size(),
    regionsByLevel,
    subtreeByLevel,
    maxRegionChildren: Math.max(1, most(regions.all(), (r) => regions.children(r.id).length)),
    regionDepth: Math.max(1, most(regions.all(), (r) => regions.lineageOf(r.id).length)),
    sectors: Math.max(1, sectors.size()),
    maxSectorChildren: Math.max(1, most(sectors.all(), (s) => sectors.children(s.id).length)),
    meetings: Math.max(1, num(meetings, "meeting_count")),
    maxVenues: Math.max(1, num(meetings, "max_venues")),
    maxMilestones: STAGES.length,
    years: Math.max(1, year(lastOn) - year(firstOn) + 1),
    projects: Math.max(1, num(projects, "project_count")),
    milestones: Math.max(1, num(projects, "milestone_count")),
  };
}

/** How long after the data versions move the cost model is read again (any number of writes meanwhile cost one read). */
export const COST_MODEL_REFRESH_DELAY_MS = 1000;

/**
 * The cost model in use. Writes grow the lists it sizes (meetings and their
 * venues, projects, the years milestones span), so when the data versions
 * move it is read again in the background, a second later, the old model
 * serving until then: a query that the data has made costlier is then
 * refused as it would be after a restart.
 */
export class LiveCostModel {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly db: SqlClient,
    private model: CostModel,
    private readonly onError: (error: unknown) => void,
  ) {}

  get current(): CostModel {
    return this.model;
  }

  /** The data changed: read the model again after COST_MODEL_REFRESH_DELAY_MS, unless a read is already due. */
  dataChanged(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => void this.refresh(), COST_MODEL_REFRESH_DELAY_MS);
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    // Cleared before the read, so that a change during it schedules another.
    this.timer = undefined;
    try {
      this.model = await readCostModel(this.db);
    } catch (error) {
      // The previous model serves on; the next change tries again.
      this.onError(error);
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** The size of each list field that does not take `first`, by "Type.field". */
function listSizes(model: CostModel): Record<string, (args: Record<string, any>) => number> {
  return {
    "Query.regions": (args) => (args.parentCode ? model.maxRegionChildren : args.level ? (model.regionsByLevel[args.level] ?? 1) : model.regions),
    "Query.sectors": () => model.sectors,
    "Query.meetings": () => model.meetings,
    "Query.breakdown": (args) => breakdownRows(model, args.groupBy ?? [], args.regionLevel, args.filter),
    "Region.children": () => model.maxRegionChildren,
    "Region.ancestors": () => model.regionDepth,
    "Sector.children": () => model.maxSectorChildren,
    "ProjectStats.bySector": () => model.sectors,
    "ProjectStats.byStage": () => 3,
    "Meeting.venues": () => model.maxVenues,
    "Meeting.batches": () => 3,
    "Venue.batches": () => 3,
    "Project.milestones": () => model.maxMilestones,
  };
}

/**
 * At most as many rows as the product of the dimensions' sizes, and never
 * more than there are projects (or batch entries). A filter narrows them:
 * regions to the regions at the level within the filter's subtrees, stages
 * to those named, meetings to one.
 */
export function breakdownRows(model: CostModel, groupBy: BreakdownDimension[], regionLevel: string | undefined, filter: { regionCodes?: readonly string[] | null; stages?: readonly string[] | null; meetingId?: string | null } | null | undefined): number {
  const level = regionLevel ?? "CITY";
  const regions = filter?.regionCodes?.length && model.subtreeByLevel
    ? filter.regionCodes.reduce((n, code) => n + Math.max(1, model.subtreeByLevel!.get(code)?.[level] ?? 0), 0)
    : (model.regionsByLevel[level] ?? model.regions);
  const size: Record<BreakdownDimension, number> = {
    [BreakdownDimension.REGION]: regions,
    [BreakdownDimension.SECTOR]: model.sectors,
    [BreakdownDimension.STAGE]: filter?.stages?.length ? Math.min(3, filter.stages.length) : 3,
    [BreakdownDimension.MEETING]: filter?.meetingId ? 1 : model.meetings,
    [BreakdownDimension.YEAR]: model.years,
    [BreakdownDimension.QUARTER]: 4 * model.years,
  };
  const product = groupBy.reduce((n, dimension) => n * (size[dimension] ?? 1), 1);
  return Math.min(product, groupBy.includes(BreakdownDimension.MEETING) ? model.milestones : model.projects);
}

/** Fields answered by one grouped query per distinct set of arguments (repeats are shared by the loaders). */
const GROUPED_FIELDS = new Set(["stats", "projects", "breakdown"]);

/**
 * Estimators for graphql-query-complexity: list sizes as above, `first` for
 * project pages, every other field 1 plus its selection. `grouped` collects
 * the distinct grouped queries of the operation (their cost is added once each).
 */
export function costEstimators(model: CostModel, grouped: Set<string>): ComplexityEstimator[] {
  const sizes = listSizes(model);
  return [
    ({ type, field, node, args, childComplexity }) => {
      if (GROUPED_FIELDS.has(field.name)) grouped.add(`${type.name}.${field.name}(${node.arguments?.map((a) => `${a.name.value}:${print(a.value)}`).join(",") ?? ""})`);
      // A `first` out of range is refused by the field itself, naming the argument.
      if ((field.name === "projects" || field.name === "history" || field.name === "changes") && typeof args.first === "number") return 1 + Math.min(Math.max(1, args.first), MAX_PAGE_SIZE) * childComplexity;
      const size = sizes[`${type.name}.${field.name}`];
      if (size) return 1 + size(args) * childComplexity;
      return undefined;
    },
    simpleEstimator({ defaultComplexity: 1 }),
  ];
}
