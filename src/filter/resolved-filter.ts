import { validateSync } from "class-validator";

import type { Context } from "../common/context";
import { checkCalendarDate } from "../common/date.scalar";
import { BadUserInputError, NotFoundError } from "../common/errors";
import { parseId } from "../common/ids";
import { stageToNumber } from "../common/stage";
import { createMeetingLoader } from "../meeting/meeting.loaders";

import { type MilestoneFilter, ProjectFilter } from "./project-filter.input";
import type { ProjectScope } from "./project-scope";

/** A condition on a project's milestones: it reached `stage`, and where given, at this meeting / venue / in these dates. */
export interface MilestoneCondition {
  stage: number;
  meetingId?: number;
  venueRegionId?: number;
  from?: string;
  to?: string;
}

/**
 * A ProjectFilter with codes turned into ids (subtrees expanded), money into
 * 万元 and everything checked: what the SQL builders and rollups work from.
 */
export interface ResolvedFilter {
  stages?: number[];
  sectorIds?: number[];
  regionIds?: number[];
  meetingId?: number;
  milestones: MilestoneCondition[];
  minWan?: number;
  maxWan?: number;
  nameContains?: string;
}

/**
 * Checks a filter (its class-validator bounds, then against the data) and
 * resolves its codes; errors name the argument path. Loaders call this once
 * per distinct filter of a request, rather than once per field that takes it.
 */
export async function resolveFilter(filter: ProjectFilter | null | undefined, ctx: Context, path = "filter"): Promise<ResolvedFilter> {
  const resolved: ResolvedFilter = { milestones: [] };
  if (!filter) return resolved;
  const [invalid] = validateSync(filter instanceof ProjectFilter ? filter : Object.assign(new ProjectFilter(), filter));
  if (invalid) throw new BadUserInputError(`${path}.${invalid.property}`, Object.values(invalid.constraints ?? {})[0] ?? "is not valid");
  if (filter.stages?.length) resolved.stages = [...new Set(filter.stages.map(stageToNumber))].sort();
  if (filter.sectorCodes) {
    const tree = await ctx.sectorTree();
    resolved.sectorIds = expandCodes(filter.sectorCodes, tree, `${path}.sectorCodes`, "sector");
  }
  if (filter.regionCodes) {
    const tree = await ctx.regionTree();
    resolved.regionIds = expandCodes(filter.regionCodes, tree, `${path}.regionCodes`, "region");
  }
  if (filter.meetingId != null) resolved.meetingId = await resolveMeetingId(filter.meetingId, ctx, `${path}.meetingId`);
  if (filter.milestone) resolved.milestones.push(await resolveMilestone(filter.milestone, ctx, `${path}.milestone`));
  if (filter.minInvestment != null) resolved.minWan = Math.ceil(checkAmount(filter.minInvestment, `${path}.minInvestment`) * 10_000 - 1e-6);
  if (filter.maxInvestment != null) resolved.maxWan = Math.floor(checkAmount(filter.maxInvestment, `${path}.maxInvestment`) * 10_000 + 1e-6);
  if (resolved.minWan !== undefined && resolved.maxWan !== undefined && resolved.minWan > resolved.maxWan) {
    throw new BadUserInputError(`${path}.maxInvestment`, `must not be less than minInvestment (${filter.minInvestment} > ${filter.maxInvestment})`);
  }
  if (filter.nameContains != null && filter.nameContains !== "") resolved.nameContains = filter.nameContains;
  return resolved;
}

/** A meeting id as the API shows it ("12") to the stored id, or NOT_FOUND. */
export async function resolveMeetingId(id: string, ctx: Context, path: string): Promise<number> {
  const numeric = parseId(id);
  const meeting = numeric === null ? null : await ctx.loader(createMeetingLoader).load(numeric);
  if (!meeting || numeric === null) throw new NotFoundError(path, "meeting", id);
  return numeric;
}

async function resolveMilestone(filter: MilestoneFilter, ctx: Context, path: string): Promise<MilestoneCondition> {
  const condition: MilestoneCondition = { stage: stageToNumber(filter.stage) };
  if (filter.meetingId != null) condition.meetingId = await resolveMeetingId(filter.meetingId, ctx, `${path}.meetingId`);
  checkCalendarDate(`${path}.from`, filter.from);
  checkCalendarDate(`${path}.to`, filter.to);
  if (filter.from != null) condition.from = filter.from;
  if (filter.to != null) condition.to = filter.to;
  if (condition.from && condition.to && condition.from > condition.to) {
    throw new BadUserInputError(`${path}.to`, `must not be before from (${condition.from} > ${condition.to})`);
  }
  return condition;
}

function expandCodes(
  codes: readonly string[],
  tree: { byCode(code: string): { id: number } | undefined; subtreeIds(id: number): number[] },
  path: string,
  what: string,
): number[] {
  const ids = new Set<number>();
  codes.forEach((code, i) => {
    const node = tree.byCode(code);
    if (!node) throw new NotFoundError(`${path}[${i}]`, what, code);
    for (const id of tree.subtreeIds(node.id)) ids.add(id);
  });
  return [...ids].sort((a, b) => a - b);
}

/** Largest amount a filter may name, in 亿元 (10^16 元: far above any project, and exact as integer 万元). */
const MAX_AMOUNT_YI = 100_000_000;

function checkAmount(value: number, path: string): number {
  if (!Number.isFinite(value) || value < 0 || value > MAX_AMOUNT_YI) {
    throw new BadUserInputError(path, `must be a number of 亿元 from 0 to ${MAX_AMOUNT_YI} (got ${value})`);
  }
  return value;
}

/** The client's filter narrowed to a scope (a region's or sector's subtree, a meeting batch): what a project list reads. */
export async function scopedFilter(ctx: Context, scope: ProjectScope, filter?: ProjectFilter | null): Promise<ResolvedFilter> {
  const resolved = await resolveFilter(filter, ctx);
  switch (scope.kind) {
    case "all":
      return resolved;
    case "region": {
      const ids = (await ctx.regionTree()).subtreeIds(scope.regionId);
      return { ...resolved, regionIds: intersect(resolved.regionIds, ids) };
    }
    case "sector": {
      const ids = (await ctx.sectorTree()).subtreeIds(scope.sectorId);
      return { ...resolved, sectorIds: intersect(resolved.sectorIds, ids) };
    }
    case "batch":
      return {
        ...resolved,
        milestones: [
          ...resolved.milestones,
          { stage: scope.stage, meetingId: scope.meetingId, ...(scope.venueRegionId !== null ? { venueRegionId: scope.venueRegionId } : {}) },
        ],
      };
  }
}

/** The ids of `a` that are also in `b`; all of `b` when there is no `a`. */
function intersect(a: number[] | undefined, b: number[]): number[] {
  if (!a) return b;
  const keep = new Set(b);
  return a.filter((id) => keep.has(id));
}
