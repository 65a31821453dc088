import DataLoader from "dataloader";

import type { Context } from "../common/context";
import { getOrCreate } from "../common/maps";
import { batchGroupsQuery, regionGroupsQuery } from "../filter/grouped-queries";
import type { ProjectFilter } from "../filter/project-filter.input";
import { batchKey, type ProjectScope, scopeKey } from "../filter/project-scope";
import { resolveFilter, type ResolvedFilter } from "../filter/resolved-filter";
import { createMeetingLoader } from "../meeting/meeting.loaders";

import { ProjectStats } from "./project-stats.type";
import { readGroups } from "./read-groups";
import { Tally } from "./tally";

/** One set of aggregates a resolver asks for. */
export interface StatsRequest {
  scope: ProjectScope;
  filter?: ProjectFilter | null;
}

/**
 * Per-request loader of aggregates. All requests of one tick that share a
 * filter are answered by one grouped query (one for plain scopes, one for
 * meeting batches), whatever the number of regions or sectors asked for;
 * subtree totals are summed in memory along the region and sector trees. The
 * query reads the rollup tables when they can answer the filter, else the
 * base tables; its rows are shared across requests until the data changes.
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
    getOrCreate(groups, key, () => []).push(i);
  });
  const [sectors, kept] = await Promise.all([ctx.sectorTree(), ctx.kept()]);
  const keyOf = (group: string, i: number) => `stats|${group}|${scopeKey(requests[i].scope)}`;
  await Promise.all(
    [...groups].map(async ([group, indexes]) => {
      // Finished aggregates of this data version are shared: a repeated dashboard only reads them.
      const missing: number[] = [];
      for (const i of indexes) {
        const hit = kept?.get<ProjectStats>(keyOf(group, i));
        if (hit) results[i] = hit;
        else missing.push(i);
      }
      if (missing.length === 0) return;
      try {
        const filter = await resolveFilter(requests[missing[0]].filter, ctx);
        const scoped = missing.map((i) => ({ scope: requests[i].scope, tally: new Tally() }));
        const provinces = requests[missing[0]].scope.kind === "batch" ? await fillBatches(ctx, filter, scoped) : await fillScopes(ctx, filter, scoped);
        scoped.forEach(({ tally }, j) => {
          const stats = new ProjectStats(tally, sectors);
          results[missing[j]] = stats;
          kept?.keep(keyOf(group, missing[j]), stats, tally.sectors.size + 1, provinces);
        });
      } catch (error) {
        for (const i of missing) results[i] = error as Error;
      }
    }),
  );
  return results;
}

type Scoped = Array<{ scope: ProjectScope; tally: Tally }>;

/**
 * Everything / region subtrees / sector subtrees: one query grouped by region
 * × sector × stage. Returns the provinces whose writes can change the answer
 * (null: any).
 */
async function fillScopes(ctx: Context, filter: ResolvedFilter, scoped: Scoped): Promise<readonly number[] | null> {
  const regions = await ctx.regionTree();
  const sectors = await ctx.sectorTree();
  let restrict: number[] | undefined;
  if (scoped.every(({ scope }) => scope.kind === "region")) {
    // Read only the subtrees asked for: a province's page must not read the whole country.
    const ids = new Set<number>();
    for (const { scope } of scoped) if (scope.kind === "region") for (const id of regions.subtreeIds(scope.regionId)) ids.add(id);
    if (ids.size < regions.size()) restrict = [...ids].sort((a, b) => a - b);
  }
  const provinces = restrict ? regions.rootsOf(restrict) : null;
  const rows = await readGroups(ctx, regionGroupsQuery(filter, restrict, ctx.options.useRollups), provinces);
  const byRegion = indexBy(scoped, (scope) => (scope.kind === "region" ? scope.regionId : undefined));
  const bySector = indexBy(scoped, (scope) => (scope.kind === "sector" ? scope.sectorId : undefined));
  const everything = scoped.filter(({ scope }) => scope.kind === "all").map(({ tally }) => tally);
  for (const row of rows) {
    const count = Number(row.project_count);
    const wan = Number(row.investment_wan);
    const sectorId = Number(row.sector_id);
    const stage = Number(row.stage);
    const add = (tally: Tally) => tally.add(sectorId, stage, count, wan);
    if (byRegion.size) for (const node of regions.lineageOf(Number(row.region_id))) byRegion.get(node.id)?.forEach(add);
    if (bySector.size) for (const node of sectors.lineageOf(sectorId)) bySector.get(node.id)?.forEach(add);
    everything.forEach(add);
  }
  return provinces;
}

/**
 * Meeting batches (all venues, or one): one query grouped by meeting × batch
 * stage × venue × sector × stage. A meeting's batches change only with writes
 * in its host's province (the ledger moves that province's version for every
 * milestone at the meeting), which it returns.
 */
async function fillBatches(ctx: Context, filter: ResolvedFilter, scoped: Scoped): Promise<readonly number[] | null> {
  const meetingIds = [...new Set(scoped.map(({ scope }) => (scope.kind === "batch" ? scope.meetingId : -1)))].sort((a, b) => a - b);
  // The meetings are in the request already (their batches were reached through them): no statement.
  const [meetings, regions] = await Promise.all([ctx.loader(createMeetingLoader).loadMany(meetingIds), ctx.regionTree()]);
  const hosts = meetings.map((meeting) => (meeting && !(meeting instanceof Error) ? meeting.hostRegionId : null));
  const provinces = hosts.includes(null) ? null : regions.rootsOf(hosts as number[]);
  const rows = await readGroups(ctx, batchGroupsQuery(filter, meetingIds, ctx.options.useRollups), provinces);
  const byBatch = indexBy(scoped, scopeKey);
  for (const row of rows) {
    const count = Number(row.project_count);
    const wan = Number(row.investment_wan);
    const meetingId = Number(row.meeting_id);
    const batchStage = Number(row.batch_stage);
    const add = (tally: Tally) => tally.add(Number(row.sector_id), Number(row.stage), count, wan);
    byBatch.get(batchKey(meetingId, batchStage, null))?.forEach(add);
    // Rollups store "no venue" as 0, the base tables as NULL.
    if (row.venue_region_id) byBatch.get(batchKey(meetingId, batchStage, Number(row.venue_region_id)))?.forEach(add);
  }
  return provinces;
}

/** The tallies of the scopes `keyOf` gives a key, grouped by that key. */
function indexBy<K>(scoped: Scoped, keyOf: (scope: ProjectScope) => K | undefined): Map<K, Tally[]> {
  const index = new Map<K, Tally[]>();
  for (const { scope, tally } of scoped) {
    const key = keyOf(scope);
    if (key === undefined) continue;
    getOrCreate(index, key, () => []).push(tally);
  }
  return index;
}
