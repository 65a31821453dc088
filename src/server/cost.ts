import { print } from "graphql";
import { type ComplexityEstimator, simpleEstimator } from "graphql-query-complexity";
import { MAX_PAGE_SIZE } from "../common/pagination";
import { BATCH_STAGES, STAGE_NUMBER_LIST, STAGES } from "../common/stage";
import { changedProvinces, type DataVersions, readDataVersions } from "../db/data-version";
import { placeholders } from "../db/sql";
import type { SqlClient } from "../db/sql-counter";
import { RegionLevel } from "../region/region-level";
import type { RegionTree } from "../region/region.type";
import { countsBatchEntries, LEVEL_RANK, regionAtLevel } from "../stats/breakdown";
import { BreakdownDimension } from "../stats/breakdown.type";
import { loadTrees, type Trees } from "../common/trees";

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
  /**
   * The regions a breakdown by REGION can name at each level: those at the level, and those above it that a
   * project can lie in itself (济源 at COUNTY; `regionAtLevel` of every region). Optional: without it, `regions`.
   */
  breakdownRegions?: Record<string, number>;
  /** The same within each region's subtree, by code; narrows a breakdown filtered by region. Optional: without it, the whole tree counts. */
  breakdownRegionsIn?: Map<string, Record<string, number>>;
  /** The most children any region has. */
  maxRegionChildren: number;
  /** Depth of the region tree (ancestors of a county). */
  regionDepth: number;
  sectors: number;
  /** Top-level sectors: a breakdown by SECTOR groups by those. Optional: without it, `sectors`. */
  topSectors?: number;
  maxSectorChildren: number;
  meetings: number;
  /** The most venues any meeting has. */
  maxVenues: number;
  /** The most milestones any project has. */
  maxMilestones: number;
  /** Calendar years the milestones span. */
  years: number;
  /** Calendar quarters the milestones span (first to last). Optional: without it, 4 × `years`. */
  quarters?: number;
  /**
   * Per stage (in lifecycle order, index 0 for RESERVE), the years and quarters spanned by the dates its milestones were reached on, and
   * by those on which the projects now at it reached it (0 where there are none): a dated breakdown buckets one or
   * the other. Optional: without it, `years` and `quarters` for every stage.
   */
  stageDates?: { milestones: DateSpan[]; current: DateSpan[] };
  /** Projects in all: a breakdown that counts projects never has more rows than that. */
  projects: number;
  /** Milestones in all (at most one per project and stage): a breakdown that counts batch entries never has more rows than that. */
  milestones: number;
  /** Departments that open factor problems wait on, told apart as the stats tell them (exact text): `byDepartment` never has more rows. Optional: without it, 50. */
  departments?: number;
  /** What the rollups say the projects hold, region by region: bounds a breakdown's distinct groups. Optional: without it, the product of the dimensions' sizes and the counts above bound it. */
  groups?: RollupGroups;
  /** The data versions read before everything else: the next read re-reads the rollups of the provinces whose versions moved since. */
  versions?: DataVersions;
}

/** Calendar years and quarters from a first date to a last one, both counted (0 for no dates). */
export interface DateSpan {
  years: number;
  quarters: number;
}

/** Projects of a region (or of the regions counted toward one), by current stage (index 0 for stage 1). */
export interface RollupTally {
  projects: number[];
  /** Rows of `rollup_region` (one per region, sector and stage holding projects): at least the distinct sectors among those projects. */
  sectorRows: number[];
}

/** `rollup_region` summed per region, and per region a breakdown names at each level. */
export interface RollupGroups {
  /** The region tree the tallies are keyed on (by region id). */
  regions: RegionTree;
  /** Each region holding projects itself. */
  byRegion: Map<number, RollupTally>;
  /** For each level, each region a breakdown by REGION names at that level (`regionAtLevel`), with the projects counted toward it. */
  byLevel: Record<string, Map<number, RollupTally>>;
}

/** One row of the rollup summary: a region, and per stage its projects and `rollup_region` rows. */
export interface RollupSummaryRow {
  regionId: number;
  projects: number[];
  sectorRows: number[];
}

/**
 * The rollup summary per region and per region a breakdown names at each level (pure: the unit tests build it from
 * rows of their own). With `kept`, the groups of a model read before, whose entries are kept but for the provinces
 * `rows` replace (a region's groups lie in its own province, so those of other provinces are not touched).
 */
export function rollupGroups(regions: RegionTree, rows: readonly RollupSummaryRow[], kept?: { groups: RollupGroups; provinces: ReadonlySet<number> }): RollupGroups {
  const levels = Object.values(RegionLevel);
  const provinceOf = (id: number) => regions.lineageOf(id)[0]?.id ?? id;
  const keep = (from: Map<number, RollupTally> | undefined) => new Map(kept && from ? [...from].filter(([id]) => !kept.provinces.has(provinceOf(id))) : []);
  const byRegion = keep(kept?.groups.byRegion);
  const byLevel: Record<string, Map<number, RollupTally>> = Object.fromEntries(levels.map((level) => [level, keep(kept?.groups.byLevel[level])]));
  // Tallies made here only (those kept are never added to): a model, once read, does not change.
  const add = (into: Map<number, RollupTally>, id: number, row: RollupSummaryRow) => {
    let tally = into.get(id);
    if (!tally) into.set(id, (tally = { projects: STAGES.map(() => 0), sectorRows: STAGES.map(() => 0) }));
    for (let i = 0; i < STAGES.length; i++) {
      tally.projects[i] += row.projects[i] ?? 0;
      tally.sectorRows[i] += row.sectorRows[i] ?? 0;
    }
  };
  for (const row of rows) {
    add(byRegion, row.regionId, row);
    for (const level of levels) {
      // A region the tree does not know (none: project.region_id is a foreign key) is counted as its own group.
      add(byLevel[level], regionAtLevel(regions, row.regionId, level)?.id ?? row.regionId, row);
    }
  }
  return { regions, byRegion, byLevel };
}

/** The rollup summary's columns: per stage, the projects and the rows (sectors) of `rollup_region`. */
const SUMMARY_COLUMNS = STAGES.map(
  (_, i) => `SUM(CASE WHEN stage = ${STAGE_NUMBER_LIST[i]} THEN project_count ELSE 0 END) AS projects_${STAGE_NUMBER_LIST[i]}, SUM(CASE WHEN stage = ${STAGE_NUMBER_LIST[i]} THEN 1 ELSE 0 END) AS sectors_${STAGE_NUMBER_LIST[i]}`,
).join(", ");

/** Regions per statement when re-reading the rollups of some provinces. */
const SUMMARY_CHUNK = 500;

/**
 * `rollup_region` summed per region (all of it, or the regions listed): a scan in its primary key's order
 * (region_id first), so grouped as it is read, or one range of the key per region listed.
 */
async function readRollupSummary(db: SqlClient, regionIds?: readonly number[]): Promise<RollupSummaryRow[]> {
  const chunks: Array<readonly number[] | undefined> = [];
  if (regionIds === undefined) chunks.push(undefined);
  else for (let i = 0; i < regionIds.length; i += SUMMARY_CHUNK) chunks.push(regionIds.slice(i, i + SUMMARY_CHUNK));
  const out: RollupSummaryRow[] = [];
  for (const chunk of chunks) {
    const where = chunk ? ` WHERE region_id IN (${placeholders(chunk.length)})` : "";
    const rows: Array<Record<string, unknown>> = await db.query(`SELECT region_id, ${SUMMARY_COLUMNS} FROM rollup_region${where} GROUP BY region_id`, chunk ? [...chunk] : []);
    for (const row of rows) {
      out.push({
        regionId: Number(row.region_id),
        projects: STAGES.map((_, i) => Number(row[`projects_${STAGE_NUMBER_LIST[i]}`] ?? 0)),
        sectorRows: STAGES.map((_, i) => Number(row[`sectors_${STAGE_NUMBER_LIST[i]}`] ?? 0)),
      });
    }
  }
  return out;
}

/**
 * Reads the list sizes the cost model needs, so that re-reading it after writes costs little at any size: the data
 * versions, the trees every request uses, meetings, then bounds on milestones and their dates (each a lookup on an
 * index or a small table), and `rollup_region` summed per region. With the model read before (`previous`), the
 * rollups are read again only for the provinces whose data versions moved since (every write bumps the versions of
 * the regions it changes, in its transaction, as the caches rely on; the versions are read first, so a write
 * committed meanwhile shows as a change next time), and the trees not at all; both in full when the trees changed
 * (version 0, which the server's cache of the trees follows too).
 *
 * The rollups are kept equal to the project table by every write, in its transaction, so their sum is the number of
 * projects; the largest milestone id bounds the milestones from above (ids only grow, though not without gaps: on
 * MariaDB a rolled-back insert burns its ids), and so does three per project (one milestone per stage at most).
 */
export async function readCostModel(db: SqlClient, previous?: CostModel): Promise<CostModel> {
  const num = (rows: Array<Record<string, unknown>>, key: string) => Number(rows[0]?.[key] ?? 0);
  const versions = await readDataVersions(db);
  // The trees move counter 0 when they change (the server's cache of them relies on it too): until then, their sizes stand.
  const known = previous?.groups && previous.versions && previous.versions.byProvince.get(0) === versions.byProvince.get(0) ? { ...previous, groups: previous.groups, versions: previous.versions } : undefined;
  const { regions, sizes } = known ? { regions: known.groups.regions, sizes: known } : treeSizes(await loadTrees(db));
  const meetings: Array<Record<string, unknown>> = await db.query(
    "SELECT (SELECT COUNT(*) FROM meeting) AS meeting_count, (SELECT COALESCE(MAX(venue_count), 0) FROM (SELECT COUNT(*) AS venue_count FROM venue GROUP BY meeting_id) t) AS max_venues, " +
      // HEX: the exact text on both databases (MariaDB's collation would take 省发改委 and 省發改委's neighbours in case or accent as one).
      "(SELECT COUNT(DISTINCT HEX(department)) FROM factor_issue WHERE resolved_on IS NULL) AS departments",
  );
  // The first and last date of each stage, of its milestones and of the projects now at it: each one step on
  // idx_milestone_stage_date (stage, reached_on) or idx_project_stage (stage, stage_reached_on).
  const datesOf = (fn: "MIN" | "MAX") =>
    STAGES.flatMap((_, i) => [
      `(SELECT ${fn}(reached_on) FROM milestone WHERE stage = ${STAGE_NUMBER_LIST[i]}) AS ${fn.toLowerCase()}_on_${STAGE_NUMBER_LIST[i]}`,
      `(SELECT ${fn}(stage_reached_on) FROM project WHERE stage = ${STAGE_NUMBER_LIST[i]}) AS ${fn.toLowerCase()}_current_${STAGE_NUMBER_LIST[i]}`,
    ]);
  const milestones: Array<Record<string, unknown>> = await db.query(
    `SELECT (SELECT COALESCE(MAX(id), 0) FROM milestone) AS milestone_count, ${[...datesOf("MIN"), ...datesOf("MAX")].join(", ")}`,
  );
  // One row per region holding projects: its projects and its rollup rows (sectors) per stage; again only for the
  // provinces whose versions moved.
  let groups: RollupGroups;
  if (known) {
    const moved = new Set(changedProvinces(known.versions, versions));
    const inMoved = regions.all().filter((r) => moved.has(regions.lineageOf(r.id)[0]?.id ?? r.id)).map((r) => r.id);
    groups = moved.size ? rollupGroups(regions, await readRollupSummary(db, inMoved), { groups: known.groups, provinces: moved }) : known.groups;
  } else {
    groups = rollupGroups(regions, await readRollupSummary(db));
  }
  let projectCount = 0;
  for (const tally of groups.byRegion.values()) for (const n of tally.projects) projectCount += n;
  const dates = (fn: "min" | "max") => STAGES.map((_, i) => milestones[0]?.[`${fn}_on_${STAGE_NUMBER_LIST[i]}`]).filter(Boolean).map(String).sort();
  const firstOn = dates("min")[0];
  const lastOn = dates("max").pop();
  const year = (value: unknown) => (value ? Number(String(value).slice(0, 4)) : 0);
  // Quarters since year 0: "2021-07-10" is 2021 × 4 + 2.
  const quarter = (value: unknown) => (value ? year(value) * 4 + Math.floor((Number(String(value).slice(5, 7)) - 1) / 3) : 0);
  const spanOf = (first: unknown, last: unknown): DateSpan =>
    first && last ? { years: year(last) - year(first) + 1, quarters: quarter(last) - quarter(first) + 1 } : { years: 0, quarters: 0 };
  const spans = (kind: "on" | "current") => STAGES.map((_, i) => spanOf(milestones[0]?.[`min_${kind}_${STAGE_NUMBER_LIST[i]}`], milestones[0]?.[`max_${kind}_${STAGE_NUMBER_LIST[i]}`]));
  return {
    regions: sizes.regions,
    regionsByLevel: sizes.regionsByLevel,
    breakdownRegions: sizes.breakdownRegions,
    breakdownRegionsIn: sizes.breakdownRegionsIn,
    maxRegionChildren: sizes.maxRegionChildren,
    regionDepth: sizes.regionDepth,
    sectors: sizes.sectors,
    topSectors: sizes.topSectors,
    maxSectorChildren: sizes.maxSectorChildren,
    meetings: Math.max(1, num(meetings, "meeting_count")),
    maxVenues: Math.max(1, num(meetings, "max_venues")),
    departments: num(meetings, "departments"),
    maxMilestones: STAGES.length,
    years: Math.max(1, year(lastOn) - year(firstOn) + 1),
    quarters: Math.max(1, quarter(lastOn) - quarter(firstOn) + 1),
    stageDates: { milestones: spans("on"), current: spans("current") },
    projects: Math.max(1, projectCount),
    milestones: Math.max(1, Math.min(num(milestones, "milestone_count"), STAGES.length * projectCount)),
    groups,
    versions,
  };
}

/** What the cost model takes from the trees alone. */
type TreeSizes = Pick<CostModel, "regions" | "regionsByLevel" | "breakdownRegions" | "breakdownRegionsIn" | "maxRegionChildren" | "regionDepth" | "sectors" | "topSectors" | "maxSectorChildren">;

function treeSizes({ regions, sectors }: Trees): { regions: RegionTree; sizes: TreeSizes } {
  const regionsByLevel: Record<string, number> = {};
  // The regions a breakdown at each level names for the projects of a subtree (regionAtLevel): those of the subtree at
  // or above the level, and the subtree's root's own when it lies below the level (a county's city at CITY). Each
  // region counts in every region of its lineage, at its level and every level below.
  const levels = Object.values(RegionLevel);
  const rank = (level: string) => LEVEL_RANK[level as RegionLevel] ?? Infinity;
  const zero = () => Object.fromEntries(levels.map((level) => [level, 0]));
  const breakdownRegionsIn = new Map<string, Record<string, number>>(regions.all().map((r) => [r.code, zero()]));
  const breakdownRegions = zero();
  for (const region of regions.all()) {
    regionsByLevel[region.level] = (regionsByLevel[region.level] ?? 0) + 1;
    const lineage = regions.lineageOf(region.id);
    for (const level of levels) {
      if (rank(region.level) <= rank(level)) {
        breakdownRegions[level] += 1;
        for (const holder of lineage) breakdownRegionsIn.get(holder.code)![level] += 1;
      } else {
        breakdownRegionsIn.get(region.code)![level] += 1;
        if (lineage.length === 1) breakdownRegions[level] += 1;
      }
    }
  }
  const most = <N extends { id: number }>(nodes: N[], size: (node: N) => number) => nodes.reduce((m, node) => Math.max(m, size(node)), 0);
  return {
    regions,
    sizes: {
      regions: regions.size(),
      regionsByLevel,
      breakdownRegions,
      breakdownRegionsIn,
      maxRegionChildren: Math.max(1, most(regions.all(), (r) => regions.children(r.id).length)),
      regionDepth: Math.max(1, most(regions.all(), (r) => regions.lineageOf(r.id).length)),
      sectors: Math.max(1, sectors.size()),
      topSectors: Math.max(1, sectors.all().filter((s) => sectors.lineageOf(s.id).length === 1).length),
      maxSectorChildren: Math.max(1, most(sectors.all(), (s) => sectors.children(s.id).length)),
    },
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
      this.model = await readCostModel(this.db, this.model);
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
    "Query.breakdown": (args) => breakdownRowBound(model, args.groupBy ?? [], args.regionLevel, args.filter),
    "Region.children": () => model.maxRegionChildren,
    "Region.ancestors": () => model.regionDepth,
    "Sector.children": () => model.maxSectorChildren,
    "ProjectStats.bySector": () => model.sectors,
    "ProjectStats.byStage": () => STAGES.length,
    "Meeting.venues": () => model.maxVenues,
    "Meeting.batches": () => 3,
    "Venue.batches": () => 3,
    "Project.milestones": () => model.maxMilestones,
    // 要素保障 (src/factor/): a region's listing is `first` long (default 20); a project's issues are not bounded by the
    // data model (an estimate: a few); the stats' departments are those open problems wait on now, 50 at most.
    "Region.factorIssues": (args) => Math.min(Math.max(1, typeof args.first === "number" ? args.first : 20), MAX_PAGE_SIZE),
    "Project.factorIssues": () => 10,
    "FactorIssueStats.byKind": () => 8,
    "FactorIssueStats.byDepartment": () => Math.max(1, Math.min(50, model.departments ?? 50)),
    // One row per stage at most; rankings: one row per child.
    "Region.assessment": () => STAGES.length,
    "Query.rankings": () => model.maxRegionChildren,
    // 达效: one band per ReachedBand; a project's reports, one a year since it reached production (bounded by a decade's estimate).
    "OutputStats.byBand": () => 4,
    "Project.outputReports": () => 10,
    // 达效 as flat rows (src/output/output-breakdown.ts).
    "Query.outputBreakdown": (args) => outputBreakdownRowBound(model, args.groupBy ?? [], args.regionLevel, args.filter),
  };
}

/**
 * An output breakdown's rows (src/output/output-breakdown.ts): its reporting projects are among the projects, so
 * grouped by REGION, SECTOR and STAGE it has at most the rows `breakdownRowBound` gives for those dimensions (the
 * meeting conditions left out of the filter: they only take projects away, and STAGE is the current stage here),
 * times the four bands when grouped by BAND, and never more than the projects. The CSV export bounds its rows with this.
 */
export function outputBreakdownRowBound(model: CostModel, groupBy: readonly string[], regionLevel: string | null | undefined, filter: BreakdownFilterArgs | null | undefined): number {
  const dims = groupBy.filter((d): d is BreakdownDimension => d !== "BAND" && Object.values(BreakdownDimension).includes(d as BreakdownDimension));
  const rows = breakdownRowBound(model, dims, regionLevel, filter ? { ...filter, meetingId: null, milestone: null } : filter) * (groupBy.includes("BAND") ? 4 : 1);
  return Math.max(1, Math.min(model.projects, rows));
}

/** The filter of a breakdown as its arguments carry it (codes, enum names and ids as sent). */
export interface BreakdownFilterArgs {
  regionCodes?: readonly string[] | null;
  sectorCodes?: readonly string[] | null;
  stages?: readonly string[] | null;
  meetingId?: string | null;
  milestone?: { stage?: string | null; meetingId?: string | null } | null;
}

/** The sizes of a breakdown's dimensions, narrowed by its filter, and what its rows count. */
interface BreakdownShape {
  dims: Set<BreakdownDimension>;
  level: string;
  /** Batch entries (milestones at meetings) rather than projects: grouping by MEETING, or by STAGE with a meeting in the filter. */
  entries: boolean;
  size: Record<BreakdownDimension, number>;
  /** Dates bucketed: QUARTER's quarters (YEAR adds nothing to it), else YEAR's years, else 1. */
  dateBuckets: number;
}

function shapeOf(model: CostModel, groupBy: readonly BreakdownDimension[], regionLevel: string | null | undefined, filter: BreakdownFilterArgs | null | undefined): BreakdownShape {
  const dims = new Set(groupBy);
  const level = regionLevel ?? RegionLevel.CITY;
  const atLevel = (counts: Record<string, number> | undefined) => counts?.[level];
  const regions = filter?.regionCodes?.length && model.breakdownRegionsIn
    ? filter.regionCodes.reduce((n, code) => n + Math.max(1, atLevel(model.breakdownRegionsIn!.get(code)) ?? 0), 0)
    : (atLevel(model.breakdownRegions) ?? model.regions);
  const sectorCodes = filter?.sectorCodes?.length ? new Set(filter.sectorCodes).size : Infinity;
  const meetingCondition = filter?.meetingId != null || filter?.milestone?.meetingId != null;
  const entries = countsBatchEntries(groupBy, meetingCondition);
  // Counting entries, STAGE is the batch's stage: one when the filter names a milestone at a meeting (the entries are
  // those of that stage), else any (`stages` filters the projects' current stage, not the batch's).
  const stages = entries ? (filter?.milestone?.meetingId != null ? 1 : BATCH_STAGES.length) : filter?.stages?.length ? Math.min(STAGES.length, new Set(filter.stages).size) : STAGES.length;
  const years = model.years;
  const quarters = model.quarters ?? 4 * years;
  const size: Record<BreakdownDimension, number> = {
    [BreakdownDimension.REGION]: regions,
    [BreakdownDimension.SECTOR]: Math.min(model.topSectors ?? model.sectors, sectorCodes),
    [BreakdownDimension.STAGE]: stages,
    [BreakdownDimension.MEETING]: meetingCondition ? 1 : model.meetings,
    [BreakdownDimension.YEAR]: years,
    [BreakdownDimension.QUARTER]: quarters,
  };
  const dateBuckets = dims.has(BreakdownDimension.QUARTER) ? quarters : dims.has(BreakdownDimension.YEAR) ? years : 1;
  return { dims, level, entries, size, dateBuckets };
}

/**
 * A breakdown's rows, bounded by the dimensions alone: at most the product of
 * their sizes (YEAR and QUARTER together count the quarters once), and never
 * more than there are projects (or batch entries, when it counts those). A
 * filter narrows them: regions to those a breakdown at the level names within
 * the filter's subtrees, sectors to the codes named, stages to those named,
 * meetings to one. The CSV export bounds its rows with this.
 */
export function breakdownRows(model: CostModel, groupBy: readonly BreakdownDimension[], regionLevel: string | null | undefined, filter: BreakdownFilterArgs | null | undefined): number {
  const { dims, entries, size, dateBuckets } = shapeOf(model, groupBy, regionLevel, filter);
  let product = dateBuckets;
  for (const dimension of dims) if (dimension !== BreakdownDimension.YEAR && dimension !== BreakdownDimension.QUARTER) product *= size[dimension] ?? 1;
  return Math.min(product, entries ? model.milestones : model.projects);
}

/**
 * A breakdown's rows, bounded also by what the data holds (the rollups, as
 * the cost model last read them): each group of regions the breakdown can
 * name (the regions at its level, or all as one when it does not group by
 * REGION; only those within the filter's regions) has at most
 * - as many rows as its projects matching the filter's regions and current
 *   stages (three times as many batch entries: one milestone per stage);
 * - and as many as its distinct sectors (at most its `rollup_region` rows,
 *   and the top-level sectors) times the other dimensions' sizes, dates
 *   counting the quarters (or years) the dates of its projects' stage span;
 * per current stage, summed (the least of that and the group as a whole when
 * it does not group by STAGE). The other filter
 * conditions (amounts, names, dates, meetings of a project count) only take
 * rows away, so leaving them out keeps this an upper bound. Never more than
 * `breakdownRows`; computed from the model alone (no SQL).
 */
export function breakdownRowBound(model: CostModel, groupBy: readonly BreakdownDimension[], regionLevel: string | null | undefined, filter: BreakdownFilterArgs | null | undefined): number {
  const coarse = breakdownRows(model, groupBy, regionLevel, filter);
  const groups = model.groups;
  if (!groups) return coarse;
  const { dims, level, entries, size, dateBuckets } = shapeOf(model, groupBy, regionLevel, filter);
  const byRegion = dims.has(BreakdownDimension.REGION);
  const tallies = byRegion ? groups.byLevel[level] : groups.byRegion;
  if (!tallies) return coarse;

  // The filter's regions: a group counts when it lies in one of their subtrees or (when grouping by REGION) above one.
  const codes = filter?.regionCodes?.length ? filter.regionCodes.map((code) => groups.regions.byCode(code)).filter((r) => r !== undefined) : null;
  const inside = new Set(codes?.map((r) => r.id));
  const above = new Set(byRegion ? codes?.flatMap((r) => groups.regions.lineageOf(r.id).map((a) => a.id)) : []);
  const counts = (id: number) => codes === null || above.has(id) || groups.regions.lineageOf(id).some((r) => inside.has(r.id));

  const stages = filter?.stages?.length ? STAGES.map((stage, i) => (filter.stages!.includes(stage) ? i : -1)).filter((i) => i >= 0) : STAGES.map((_, i) => i);
  const perStage = !entries && dims.has(BreakdownDimension.STAGE);
  const sectors = size[BreakdownDimension.SECTOR];
  // Dated, a project counts at the date it reached the milestone the filter names, else its current stage: the
  // buckets of projects now at stage i are those that stage's dates span. Batch entries count at their own dates.
  const dated = dims.has(BreakdownDimension.YEAR) || dims.has(BreakdownDimension.QUARTER);
  const named = filter?.milestone?.stage ? STAGES.indexOf(filter.milestone.stage as (typeof STAGES)[number]) : -1;
  const spanned = (span: DateSpan | undefined) => (span ? Math.max(1, dims.has(BreakdownDimension.QUARTER) ? span.quarters : span.years) : dateBuckets);
  const bucketsAt = (i: number) =>
    !dated || entries || !model.stageDates ? dateBuckets : Math.min(dateBuckets, spanned(named >= 0 ? model.stageDates.milestones[named] : model.stageDates.current[i]));
  const entryFactors = entries ? (dims.has(BreakdownDimension.MEETING) ? size[BreakdownDimension.MEETING] : 1) * (dims.has(BreakdownDimension.STAGE) ? size[BreakdownDimension.STAGE] : 1) : 1;
  const rowsOf = (projects: number, sectorRows: number, buckets: number) =>
    projects <= 0 ? 0 : Math.min(entries ? BATCH_STAGES.length * projects : projects, (dims.has(BreakdownDimension.SECTOR) ? Math.min(sectors, Math.max(1, sectorRows)) : 1) * buckets * entryFactors);
  // Per current stage, summed (a group's rows are those of its projects at each stage together); not grouped by STAGE,
  // also the group as a whole, whichever is less.
  const rowsOfTally = (tally: RollupTally) => {
    const byStage = stages.reduce((n, i) => n + rowsOf(tally.projects[i], tally.sectorRows[i], bucketsAt(i)), 0);
    // The stages' dates together span at most the sum of their buckets.
    const together = Math.min(dateBuckets, stages.reduce((n, i) => n + (tally.projects[i] > 0 ? bucketsAt(i) : 0), 0));
    return perStage ? byStage : Math.min(byStage, rowsOf(sum(stages, tally.projects), sum(stages, tally.sectorRows), Math.max(1, together)));
  };
  // Grouping by REGION, each group on its own; else the regions (those the filter counts) together as one.
  let rows = 0;
  const all: RollupTally = { projects: STAGES.map(() => 0), sectorRows: STAGES.map(() => 0) };
  for (const [id, tally] of tallies) {
    if (!counts(id)) continue;
    if (byRegion) rows += rowsOfTally(tally);
    else STAGES.forEach((_, i) => ((all.projects[i] += tally.projects[i]), (all.sectorRows[i] += tally.sectorRows[i])));
  }
  if (!byRegion) rows = rowsOfTally(all);
  // A list is costed at one row at least, as a page of `first: 0` is.
  return Math.max(1, Math.min(coarse, rows));
}

function sum(indices: readonly number[], values: readonly number[]): number {
  return indices.reduce((n, i) => n + (values[i] ?? 0), 0);
}

/** Fields answered by one grouped query per distinct set of arguments (repeats are shared by the loaders). */
// Region.funnel and Region.outputStats too: one grouped statement per distinct filter (and year) for any number of regions.
const GROUPED_FIELDS = new Set(["stats", "regionStats", "projects", "breakdown", "factorIssues", "factorStats", "assessment", "rankings", "funnel", "outputStats"]);
// Query.outputBreakdown: one grouped statement per distinct set of arguments.
GROUPED_FIELDS.add("outputBreakdown");

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
