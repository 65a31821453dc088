/**
 * Per-request loader of assessments. Every region asked for in one tick (a
 * province, its cities and their counties in one request) is answered per
 * period by two statements whatever their number: the targets of the regions
 * and their siblings, then what the subtrees reached — milestones of the
 * period joined to their projects, grouped by the project's region and the
 * stage — summed up the region tree in memory. Both statements' rows go
 * through the cross-request cache, keyed by the data versions of the
 * provinces they read (setTarget and every milestone write move them).
 */
import DataLoader from "dataloader";

import type { Context } from "../common/context";
import { loadByGroup } from "../common/batches";
import { getOrCreate } from "../common/maps";
import { STAGES, stageToNumber } from "../common/stage";
import { placeholders } from "../db/sql";
import type { Region, RegionTree } from "../region/region.type";

import { AssessmentCard, StageAssessment } from "./assessment.type";
import { cardOf, competitionRanks, completionRate, DEFAULT_ASSESSMENT_SETTINGS, elapsedShare, type Period, periodOf, storedQuarter, todayOf } from "./period";

/** One region's assessment in one period (checked beforehand). */
export interface AssessmentKey {
  regionId: number;
  year: number;
  quarter: number | null;
}

/** A region's assessment for every stage, in lifecycle order (rows without target or result included). */
export type RegionAssessment = StageAssessment[];

export function createAssessmentLoader(ctx: Context): DataLoader<AssessmentKey, RegionAssessment, string> {
  return new DataLoader((keys) => loadAssessments(ctx, keys), { cacheKeyFn: (key) => `${key.regionId}|${key.year}|${key.quarter ?? 0}` });
}

type Total = number | string;
interface TargetRow {
  region_id: number;
  stage: number;
  target_count: number | null;
  target_investment_wan: Total;
  synthetic: number | boolean;
}
export interface ReachedRow {
  region_id: number;
  stage: number;
  project_count: Total;
  investment_wan: Total;
}

interface Target {
  count: number | null;
  wan: number;
  synthetic: boolean;
}
export interface Reached {
  count: number;
  wan: number;
}

/**
 * The day the cards are dated: ASSESSMENT_TODAY when set, else the ledger's today when pinned (tests pin it through
 * `LedgerSettings.today`), else the UTC date now.
 */
export function assessmentToday(ctx: Context): string {
  const settings = ctx.options.assessment ?? DEFAULT_ASSESSMENT_SETTINGS;
  return settings.today?.() ?? ctx.ledger().settings.today?.() ?? todayOf(settings);
}

async function loadAssessments(ctx: Context, keys: readonly AssessmentKey[]): Promise<Array<RegionAssessment | Error>> {
  const regions = await ctx.regionTree();
  return loadByGroup(
    keys,
    (key) => `${key.year}|${key.quarter ?? 0}`,
    async (group) => {
      const assessed = await assessPeriod(ctx, regions, periodOf(group[0].year, group[0].quarter), group.map((key) => key.regionId));
      return group.map((key) => assessed.get(key.regionId)!);
    },
  );
}

/** The regions with the same parent (the roots among themselves), the region included. */
function siblingsOf(regions: RegionTree, region: Region, roots: () => Region[]): Region[] {
  return region.parentId !== null && regions.byId(region.parentId) ? regions.children(region.parentId) : roots();
}

/** Ids in ascending order, or undefined when they are the whole tree (no restriction). */
function restriction(regions: RegionTree, ids: Set<number>): number[] | undefined {
  return ids.size < regions.size() ? [...ids].sort((a, b) => a - b) : undefined;
}

async function assessPeriod(ctx: Context, regions: RegionTree, period: Period, regionIds: readonly number[]): Promise<Map<number, RegionAssessment>> {
  let rootList: Region[] | undefined;
  const roots = () => (rootList ??= regions.all().filter((r) => r.parentId === null || !regions.byId(r.parentId)));
  const asked = [...new Set(regionIds)].map((id) => regions.byId(id)!).filter(Boolean);

  // 1. The targets of the regions asked for and of their siblings (their ranks need the siblings' rates).
  const candidates = new Set<number>();
  for (const region of asked) for (const sibling of siblingsOf(regions, region, roots)) candidates.add(sibling.id);
  const targets = await readTargets(ctx, regions, period, candidates);

  // 2. What the subtrees reached: the regions asked for, and their siblings that have a target.
  const assessedIds = new Set<number>(asked.map((r) => r.id));
  for (const id of candidates) if (targets.has(id)) assessedIds.add(id);
  const subtrees = new Set<number>();
  for (const id of assessedIds) for (const below of regions.subtreeIds(id)) subtrees.add(below);
  // Split by province: those of the regions asked for, and the others (siblings of a province are other provinces),
  // each set read and kept on its own, so that a write in Henan re-reads Henan's groups and not the whole country's.
  const provinceOf = (id: number) => regions.lineageOf(id)[0]?.id ?? id;
  const home = new Set(asked.map((r) => provinceOf(r.id)));
  const parts = [new Set<number>(), new Set<number>()];
  for (const id of subtrees) parts[home.has(provinceOf(id)) ? 0 : 1].add(id);
  const reached = new Map<number, Map<number, Reached>>();
  await Promise.all(parts.map((ids) => addReached(ctx, regions, period, ids, assessedIds, reached)));

  const settings = ctx.options.assessment ?? DEFAULT_ASSESSMENT_SETTINGS;
  const elapsed = elapsedShare(period, assessmentToday(ctx));
  // A period not over yet: the cards move with the calendar, not only with writes, so the finished answer is not kept
  // for later requests (src/server/response-cache.ts keeps an answer until a write moves its versions).
  if (elapsed < 1) ctx.request.responseKey = undefined;
  const rateOf = (regionId: number, stage: number) => {
    const target = targets.get(regionId)?.get(stage);
    return target ? completionRate(reached.get(regionId)?.get(stage)?.wan ?? 0, target.wan) : null;
  };
  // Ranks per parent and stage, made once.
  const ranks = new Map<string, Map<number, number>>();
  const rankOf = (region: Region, stage: number) => {
    const group = getOrCreate(ranks, `${region.parentId ?? "root"}|${stage}`, () =>
      competitionRanks(siblingsOf(regions, region, roots).map((sibling) => ({ key: sibling.id, rate: rateOf(sibling.id, stage) }))),
    );
    return group.get(region.id) ?? null;
  };

  const out = new Map<number, RegionAssessment>();
  for (const region of asked) {
    out.set(
      region.id,
      STAGES.map((stageName) => {
        const stage = stageToNumber(stageName);
        const target = targets.get(region.id)?.get(stage) ?? null;
        const got = reached.get(region.id)?.get(stage) ?? { count: 0, wan: 0 };
        const rate = rateOf(region.id, stage);
        return new StageAssessment({
          region,
          stage: stageName,
          year: period.year,
          quarter: period.quarter,
          targetCount: target?.count ?? null,
          targetWan: target?.wan ?? null,
          targetSynthetic: target ? target.synthetic : null,
          reachedCount: got.count,
          reachedWan: got.wan,
          completionRate: rate,
          rank: target ? rankOf(region, stage) : null,
          card: cardOf(rate, elapsed, settings) as AssessmentCard | null,
        });
      }),
    );
  }
  return out;
}

/** The targets of the period for `candidates`, by region and stored stage. One statement. */
async function readTargets(ctx: Context, regions: RegionTree, period: Period, candidates: Set<number>): Promise<Map<number, Map<number, Target>>> {
  const restrict = restriction(regions, candidates);
  const where = restrict ? ` AND region_id IN (${placeholders(restrict.length)})` : "";
  const sql = `SELECT region_id, stage, target_count, target_investment_wan, synthetic FROM assessment_target WHERE year = ? AND quarter = ?${where}`;
  const params: unknown[] = [period.year, storedQuarter(period.quarter), ...(restrict ?? [])];
  const rows = await ctx.groupedRows<TargetRow>(`${sql}|${JSON.stringify(params)}`, restrict ? regions.rootsOf(restrict) : null, async (db) => ({ rows: await db.query(sql, params) }));
  const targets = new Map<number, Map<number, Target>>();
  for (const row of rows) {
    getOrCreate(targets, Number(row.region_id), () => new Map()).set(Number(row.stage), {
      count: row.target_count === null ? null : Number(row.target_count),
      wan: Number(row.target_investment_wan),
      synthetic: Boolean(Number(row.synthetic)),
    });
  }
  return targets;
}

/**
 * The statement of what was reached in a period: projects whose milestone of a stage is dated inside it, counted and
 * summed (current investment) per project region and stage; only the regions of `restrict` when given. The seed's
 * illustrative targets (src/seed/synthetic-layer.ts) are made from the same figures.
 */
export function reachedQuery(period: Pick<Period, "from" | "to">, restrict?: readonly number[]): { sql: string; params: unknown[] } {
  const stages = STAGES.map(stageToNumber);
  // `stage IN (…)` lets the range on reached_on use idx_milestone_stage_date (stage, reached_on) once per stage.
  const sql =
    "SELECT p.region_id AS region_id, m.stage AS stage, COUNT(*) AS project_count, SUM(p.investment_wan) AS investment_wan " +
    `FROM milestone m JOIN project p ON p.id = m.project_id WHERE m.stage IN (${placeholders(stages.length)}) AND m.reached_on >= ? AND m.reached_on <= ?` +
    (restrict ? ` AND p.region_id IN (${placeholders(restrict.length)})` : "") +
    " GROUP BY p.region_id, m.stage";
  return { sql, params: [...stages, period.from, period.to, ...(restrict ?? [])] };
}

/** Adds rows of `reachedQuery` up to each region of `assessedIds` along the tree, into `reached` (by region and stored stage). */
export function addUpReached(rows: readonly ReachedRow[], regions: RegionTree, assessedIds: ReadonlySet<number>, reached: Map<number, Map<number, Reached>>): void {
  for (const row of rows) {
    const stage = Number(row.stage);
    const count = Number(row.project_count);
    const wan = Number(row.investment_wan);
    for (const node of regions.lineageOf(Number(row.region_id))) {
      if (!assessedIds.has(node.id)) continue;
      const cell = getOrCreate(getOrCreate(reached, node.id, () => new Map<number, Reached>()), stage, () => ({ count: 0, wan: 0 }));
      cell.count += count;
      cell.wan += wan;
    }
  }
}

/**
 * What the projects of `subtrees` reached in the period (`reachedQuery`, one statement, kept by the aggregate cache
 * for the provinces it reads), added up to each region of `assessedIds`, into `reached`.
 */
async function addReached(ctx: Context, regions: RegionTree, period: Period, subtrees: Set<number>, assessedIds: Set<number>, reached: Map<number, Map<number, Reached>>): Promise<void> {
  if (subtrees.size === 0) return;
  const restrict = restriction(regions, subtrees);
  const { sql, params } = reachedQuery(period, restrict);
  const rows = await ctx.groupedRows<ReachedRow>(`${sql}|${JSON.stringify(params)}`, restrict ? regions.rootsOf(restrict) : null, async (db) => ({ rows: await db.query(sql, params) }));
  addUpReached(rows, regions, assessedIds, reached);
}
