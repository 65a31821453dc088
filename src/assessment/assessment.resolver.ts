import { Arg, Args, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from "type-graphql";

import type { Context } from "../common/context";
import { BadUserInputError, invariant } from "../common/errors";
import { ProjectStage, stageToNumber, STAGES } from "../common/stage";
import { compareCodes } from "../common/tree";
import { writer } from "../ledger/ledger.resolver";
import { LedgerInputError, Problems } from "../ledger/problems";
import { setTarget } from "../ledger/operations/targets";
import { Region } from "../region/region.type";

import { createAssessmentLoader } from "./assessment.loader";
import { AssessmentArgs, RankingsArgs, SetTargetInput, StageAssessment } from "./assessment.type";
import { checkPeriod } from "./period";

/** BAD_USER_INPUT (with the argument's name) unless the year and quarter name a period. */
function checkArgs(year: number, quarter: number | null | undefined): void {
  const problems = new Problems();
  checkPeriod(problems, "", year, quarter);
  if (!problems.empty) throw new LedgerInputError(problems.list);
}

/**
 * A region's children ranked for one stage and period, as `Query.rankings`
 * and the CSV export give them: by rank, equal ranks by code, then those
 * without a target by code. BAD_USER_INPUT for an unknown parent.
 */
export async function rankChildren(ctx: Context, parentCode: string, stage: ProjectStage, year: number, quarter: number | null | undefined, field = "parentCode"): Promise<StageAssessment[]> {
  checkArgs(year, quarter);
  const regions = await ctx.regionTree();
  const parent = typeof parentCode === "string" ? regions.byCode(parentCode) : undefined;
  if (!parent) throw new BadUserInputError(field, `no region "${String(parentCode).slice(0, 64)}"`);
  const index = STAGES.indexOf(stage);
  invariant(index >= 0, () => `no stage ${stage}`);
  const children = regions.children(parent.id);
  const loaded = await ctx.loader(createAssessmentLoader).loadMany(children.map((child) => ({ regionId: child.id, year, quarter: quarter ?? null })));
  const rows = loaded.map((all) => {
    if (all instanceof Error) throw all;
    return all[index];
  });
  return rows.sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || compareCodes(a.region.code, b.region.code));
}

@Resolver(() => Region)
export class RegionAssessmentResolver {
  @FieldResolver(() => [StageAssessment], {
    description:
      "考核: this region's targets for a year (or one quarter of it) beside what its whole subtree reached in that period (by milestone date), " +
      "one row per stage, in lifecycle order, that has a target or a result. See StageAssessment for the rate, the rank and the card.",
  })
  async assessment(@Root() region: Region, @Args(() => AssessmentArgs) { year, quarter }: AssessmentArgs, @Ctx() ctx: Context): Promise<StageAssessment[]> {
    checkArgs(year, quarter);
    // Loaded before any await: every region of the request lands in one batch (two statements in all).
    const all = await ctx.loader(createAssessmentLoader).load({ regionId: region.id, year, quarter: quarter ?? null });
    return all.filter((row) => row.targetInvestmentWan !== null || row.reachedCount > 0);
  }
}

@Resolver(() => StageAssessment)
export class AssessmentResolver {
  @Query(() => [StageAssessment], {
    description:
      "Children of a region ranked by completion of one stage's target in a period (考核亮牌): by rank (1 first; equal ranks by code), then those without a target, by code. " +
      "Unknown parentCode is BAD_USER_INPUT.",
  })
  rankings(@Args(() => RankingsArgs) { parentCode, stage, year, quarter }: RankingsArgs, @Ctx() ctx: Context): Promise<StageAssessment[]> {
    return rankChildren(ctx, parentCode, stage, year, quarter);
  }

  @Mutation(() => StageAssessment, {
    description:
      "Sets a region's target for a stage and period (目标亮相). Needs a token of a region strictly above it: the province sets its cities' and counties' targets, " +
      "a city its counties'; no office sets its own (FORBIDDEN). Setting it again replaces it; the region's history (Region.changes) records it from → to. " +
      "Returns the region's assessment for that stage and period.",
  })
  async setTarget(@Arg("input", () => SetTargetInput, { description: "The region, stage, period and target." }) input: SetTargetInput, @Ctx() ctx: Context): Promise<StageAssessment> {
    const actor = writer(ctx);
    const written = await ctx.ledger().write(actor, (tx) => setTarget(tx, actor, input, new Problems()));
    ctx.wrote();
    const key = written.value;
    const all = await ctx.loader(createAssessmentLoader).load({ regionId: key.regionId, year: key.year, quarter: key.quarter });
    return all[STAGES.indexOf(key.stage)] ?? all.find((row) => stageToNumber(row.stage) === stageToNumber(key.stage))!;
  }
}
