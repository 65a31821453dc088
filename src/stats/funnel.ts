/**
 * The project cycle's funnel (储备 → 签约 → 开工 → 投产 → 达效): of the
 * projects that reached a stage, how many have since moved on to the next
 * one or beyond — 签约项目开工率, 开工项目投产率, and the two ends the
 * meeting report asks for besides (储备转化率: reserve projects signed;
 * 投产达效率: projects in production that reached their designed output).
 *
 * A project "reached" a stage when the ledger holds its milestone of that
 * stage; one that entered the ledger later (e.g. created at STARTED) has no
 * earlier milestones and so is not counted at the earlier steps. All regions
 * a request asks for under one filter are answered by one grouped statement
 * (region × milestone stage), summed along the region tree in memory.
 */
import DataLoader from "dataloader";
import { Arg, Ctx, Field, FieldResolver, Float, Int, ObjectType, Resolver, Root } from "type-graphql";

import type { Context } from "../common/context";
import { loadByGroup } from "../common/batches";
import { getOrCreate } from "../common/maps";
import { ProjectStage, STAGES, stageToNumber } from "../common/stage";
import { projectConditions, whereSql } from "../filter/project-conditions";
import { ProjectFilter } from "../filter/project-filter.input";
import { scopedFilter } from "../filter/resolved-filter";
import { Region } from "../region/region.type";

@ObjectType({ simpleResolvers: true, description: "One step of the project cycle's funnel: of the projects that reached `from`, how many are now at `to` or later." })
export class FunnelStep {
  @Field(() => ProjectStage, { description: "The stage the step starts from." })
  from: ProjectStage;

  @Field(() => ProjectStage, { description: "The next stage in the cycle." })
  to: ProjectStage;

  @Field(() => Int, { description: "Projects in scope whose `from` milestone the ledger holds (whatever their stage now)." })
  reached: number;

  @Field(() => Int, { description: "Of those, the projects now at `to` or a later stage." })
  advanced: number;

  @Field(() => Float, { nullable: true, description: "advanced / reached (e.g. 签约项目开工率 for SIGNED → STARTED); null when no project reached `from`." })
  rate: number | null;
}

/** Projects with a milestone of each stage (by stored number), and of those, the ones now at a later stage. */
interface StageCounts {
  reached: Map<number, number>;
  advanced: Map<number, number>;
}

interface FunnelRequest {
  regionId: number;
  filter: ProjectFilter | null;
}

/** The steps of a set of counts, in lifecycle order. */
export function funnelSteps(counts: StageCounts): FunnelStep[] {
  return STAGES.slice(0, -1).map((from, i) => {
    const step = new FunnelStep();
    step.from = from;
    step.to = STAGES[i + 1];
    step.reached = counts.reached.get(stageToNumber(from)) ?? 0;
    step.advanced = counts.advanced.get(stageToNumber(from)) ?? 0;
    step.rate = step.reached > 0 ? step.advanced / step.reached : null;
    return step;
  });
}

/** Per request: every region asked for under one filter costs one statement together. */
export function createFunnelLoader(ctx: Context): DataLoader<FunnelRequest, FunnelStep[], string> {
  return new DataLoader((requests) => loadFunnels(ctx, requests), { cacheKeyFn: (r) => `${r.regionId}|${JSON.stringify(r.filter ?? null)}` });
}

async function loadFunnels(ctx: Context, requests: readonly FunnelRequest[]): Promise<Array<FunnelStep[] | Error>> {
  const tree = await ctx.regionTree();
  return loadByGroup(
    requests,
    (request) => JSON.stringify(request.filter ?? null),
    async (group) => {
      // The regions asked for, as the union of their subtrees: one statement reads them all.
      const roots = tree.rootsOf(group.map((r) => r.regionId));
      const inUnion = new Set(roots.flatMap((id) => tree.subtreeIds(id)));
      const resolved = await scopedFilter(ctx, { kind: "all" }, group[0].filter);
      const regionIds = resolved.regionIds ? resolved.regionIds.filter((id) => inUnion.has(id)) : [...inUnion];
      const where = projectConditions({ ...resolved, regionIds }, "p");
      const rows: Array<{ region_id: number; stage: number; reached: number | string; advanced: number | string | null }> = await ctx.db.query(
        "SELECT p.region_id, m.stage, COUNT(*) AS reached, SUM(CASE WHEN p.stage > m.stage THEN 1 ELSE 0 END) AS advanced " +
          `FROM milestone m JOIN project p ON p.id = m.project_id${whereSql(where.clauses)} GROUP BY p.region_id, m.stage`,
        where.params,
      );
      // Each region's counts, added up along its lineage to every region asked for.
      const asked = new Set(group.map((r) => r.regionId));
      const totals = new Map<number, StageCounts>();
      for (const row of rows) {
        const stage = Number(row.stage);
        for (const node of tree.lineageOf(Number(row.region_id))) {
          if (!asked.has(node.id)) continue;
          const counts = getOrCreate(totals, node.id, () => ({ reached: new Map<number, number>(), advanced: new Map<number, number>() }));
          counts.reached.set(stage, (counts.reached.get(stage) ?? 0) + Number(row.reached));
          counts.advanced.set(stage, (counts.advanced.get(stage) ?? 0) + Number(row.advanced ?? 0));
        }
      }
      return group.map((r) => funnelSteps(totals.get(r.regionId) ?? { reached: new Map(), advanced: new Map() }));
    },
  );
}

@Resolver(() => Region)
export class FunnelResolver {
  @FieldResolver(() => [FunnelStep], {
    description:
      "The project cycle's funnel over this region's whole subtree, one step per pair of stages in lifecycle order (储备→签约, 签约→开工, 开工→投产, 投产→达效): of the projects whose milestone of the first stage the ledger holds, how many are now at the next stage or later. With `filter.milestone` (e.g. signed at one meeting), the funnel of that cohort.",
  })
  funnel(@Root() region: Region, @Arg("filter", () => ProjectFilter, { nullable: true, description: "Only projects matching all these conditions." }) filter: ProjectFilter | null, @Ctx() ctx: Context): Promise<FunnelStep[]> {
    return ctx.loader(createFunnelLoader).load({ regionId: region.id, filter });
  }
}
