import DataLoader from "dataloader";

import type { ProjectFilter } from "../project/project-filter.input";
import { resolveFilter, type ResolvedFilter } from "../project/project-filter";
import { inList, projectConditions, whereSql } from "../project/project-filter.sql";
import type { Context } from "../server/context";
import { ProjectStats } from "./project-stats.type";
import { batchKey, scopeKey, type StatsScope } from "./stats.scope";
import { Tally } from "./tally";

/** One set of aggregates a resolver asks for. */
export interface StatsRequest {
  scope: StatsScope;
  filter?: ProjectFilter | null;
}

/** A grouped row: count and sum of one (region or batch) × sector × stage group. */
interface GroupRow {
  r?: number;
  mt?: number;
  bs?: number;
  v?: number | null;
  s: number;
  st: number;
  c: number | string;
  w: number | string;
}

/**
 * Per-request loader of aggregates. All requests of one tick that share a
 * filter are answered by one grouped query (one for plain scopes, one for
 * meeting batches), whatever the number of regions or sectors asked for;
 * subtree totals are summed in memory along the region and sector trees.
 */
export function createStatsLoader(ctx: Context): DataLoader<StatsRequest, ProjectStats, string> {
  return new DataLoader((requests) => loadStats(ctx, requests), {
    cacheKeyFn: (request) => `${scopeKey(request.scope)}|${JSON.stringify(request.filter ?? null)}`,
  });
}

async function loadStats(ctx: Context, requests: readonly StatsRequest[]): Promise<Array<ProjectStats | Error>> {
  const results: Array<ProjectStats | Error> = new Array(requests.length);
  const groups = new Map<string, number[]>();
  requests.forEach((request, i) => {
    const key = `${request.scope.kind === "batch" ? "batch" : "plain"}|${JSON.stringify(request.filter ?? null)}`;
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  });
  const sectors = await ctx.sectorTree();
  await Promise.all(
    [...groups.values()].map(async (indexes) => {
      try {
        const filter = await resolveFilter(requests[indexes[0]].filter, ctx);
        const scoped = indexes.map((i) => ({ scope: requests[i].scope, tally: new Tally() }));
        if (requests[indexes[0]].scope.kind === "batch") await fillBatches(ctx, filter, scoped);
        else await fillScopes(ctx, filter, scoped);
        scoped.forEach(({ tally }, j) => (results[indexes[j]] = new ProjectStats(tally, sectors)));
      } catch (error) {
        for (const i of indexes) results[i] = error as Error;
      }
    }),
  );
  return results;
}

type Scoped = Array<{ scope: StatsScope; tally: Tally }>;

/** Everything / region subtrees / sector subtrees: one query grouped by region × sector × stage. */
async function fillScopes(ctx: Context, filter: ResolvedFilter, scoped: Scoped): Promise<void> {
  const regions = await ctx.regionTree();
  const sectors = await ctx.sectorTree();
  const where = projectConditions(filter);
  if (scoped.every(({ scope }) => scope.kind === "region")) {
    // Read only the subtrees asked for: a province's page must not read the whole country.
    const ids = new Set<number>();
    for (const { scope } of scoped) if (scope.kind === "region") for (const id of regions.subtreeIds(scope.regionId)) ids.add(id);
    if (ids.size < regions.size()) inList("p.region_id", [...ids], where);
  }
  const rows: GroupRow[] = await ctx.db.query(
    `SELECT p.region_id AS r, p.sector_id AS s, p.stage AS st, COUNT(*) AS c, SUM(p.investment_wan) AS w FROM project p${whereSql(where.clauses)} GROUP BY p.region_id, p.sector_id, p.stage`,
    where.params,
  );
  const byRegion = indexBy(scoped, (scope) => (scope.kind === "region" ? scope.regionId : undefined));
  const bySector = indexBy(scoped, (scope) => (scope.kind === "sector" ? scope.sectorId : undefined));
  const everything = scoped.filter(({ scope }) => scope.kind === "all").map(({ tally }) => tally);
  for (const row of rows) {
    const count = Number(row.c);
    const wan = Number(row.w);
    const sectorId = Number(row.s);
    const stage = Number(row.st);
    const add = (tally: Tally) => tally.add(sectorId, stage, count, wan);
    if (byRegion.size) for (const node of regions.lineageOf(Number(row.r))) byRegion.get(node.id)?.forEach(add);
    if (bySector.size) for (const node of sectors.lineageOf(sectorId)) bySector.get(node.id)?.forEach(add);
    everything.forEach(add);
  }
}

/** Meeting batches (all venues, or one): one query over the batches' milestones grouped by venue × sector × stage. */
async function fillBatches(ctx: Context, filter: ResolvedFilter, scoped: Scoped): Promise<void> {
  const where = projectConditions(filter);
  const meetingIds = [...new Set(scoped.map(({ scope }) => (scope.kind === "batch" ? scope.meetingId : -1)))];
  const clauses = [...where.clauses];
  const params = [...where.params];
  const meetings = { clauses: [] as string[], params: [] as unknown[] };
  inList("m.meeting_id", meetingIds, meetings);
  const rows: GroupRow[] = await ctx.db.query(
    `SELECT m.meeting_id AS mt, m.stage AS bs, m.venue_region_id AS v, p.sector_id AS s, p.stage AS st, COUNT(*) AS c, SUM(p.investment_wan) AS w FROM milestone m JOIN project p ON p.id = m.project_id${whereSql([...meetings.clauses, ...clauses])} GROUP BY m.meeting_id, m.stage, m.venue_region_id, p.sector_id, p.stage`,
    [...meetings.params, ...params],
  );
  const byBatch = new Map<string, Tally[]>();
  for (const { scope, tally } of scoped) {
    const key = scopeKey(scope);
    byBatch.set(key, [...(byBatch.get(key) ?? []), tally]);
  }
  for (const row of rows) {
    const count = Number(row.c);
    const wan = Number(row.w);
    const add = (tally: Tally) => tally.add(Number(row.s), Number(row.st), count, wan);
    const venue = row.v === null || row.v === undefined ? null : Number(row.v);
    byBatch.get(batchKey(Number(row.mt), Number(row.bs), null))?.forEach(add);
    if (venue !== null) byBatch.get(batchKey(Number(row.mt), Number(row.bs), venue))?.forEach(add);
  }
}

function indexBy(scoped: Scoped, keyOf: (scope: StatsScope) => number | undefined): Map<number, Tally[]> {
  const index = new Map<number, Tally[]>();
  for (const { scope, tally } of scoped) {
    const key = keyOf(scope);
    if (key === undefined) continue;
    const list = index.get(key);
    if (list) list.push(tally);
    else index.set(key, [tally]);
  }
  return index;
}
