import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Resolver, Root } from "type-graphql";

import type { Context } from "../common/context";
import { invariant } from "../common/errors";
import { DateScalar } from "../common/date.scalar";
import { writer } from "../ledger/ledger.resolver";
import { Problems } from "../ledger/problems";
import { raiseFactorIssue, resolveFactorIssue } from "../ledger/operations/factor-issues";
import { createProjectLoader } from "../project/project.loaders";
import { Project } from "../project/project.type";
import { Region } from "../region/region.type";
import { createFactorStatsLoader, createProjectFactorIssuesLoader, createRegionFactorIssuesLoader, regionIssuesRequest, requestToday } from "./factor-issue.loaders";
import { FactorIssue, FactorIssueStats, FactorKind, MAX_NOTE, RaiseFactorIssueInput } from "./factor-issue.type";

@ArgsType()
class RegionFactorIssuesArgs {
  @Field(() => Boolean, { nullable: true, description: "true: open ones only; false: answered ones only; omitted or null: all." })
  open?: boolean | null;

  @Field(() => [FactorKind], { nullable: true, description: "Only these kinds; omitted or null: every kind." })
  kinds?: FactorKind[] | null;

  @Field(() => Int, { nullable: true, defaultValue: 20, description: "How many, 1 to 100 (default 20): the longest open first." })
  first?: number | null;
}

@Resolver(() => FactorIssue)
export class FactorIssueResolver {
  @Mutation(() => FactorIssue, {
    description:
      "Raises a factor-support problem (要素保障) for a project: needs a token whose region holds the project. Recorded in the project's history (RAISE_FACTOR_ISSUE); the project's version does not move.",
  })
  async raiseFactorIssue(@Arg("input", () => RaiseFactorIssueInput, { description: "The project, the kind of support it needs, who must answer and since when." }) input: RaiseFactorIssueInput, @Ctx() ctx: Context): Promise<FactorIssue> {
    const written = await ctx.ledger().write(writer(ctx), (tx) => raiseFactorIssue(tx, input, new Problems()));
    ctx.wrote();
    return FactorIssue.fromRow(written.value, requestToday(ctx));
  }

  @Mutation(() => FactorIssue, {
    description:
      "Marks a factor-support problem answered: needs a token whose region holds its project. An answered problem cannot be answered again (CONFLICT). Recorded in the project's history (RESOLVE_FACTOR_ISSUE).",
  })
  async resolveFactorIssue(
    @Arg("id", () => ID, { description: "The factor issue." }) id: string,
    @Arg("resolvedOn", () => DateScalar, { description: "When it was answered: not before it was raised, not more than LEDGER_FUTURE_DAYS ahead." }) resolvedOn: string,
    @Arg("note", () => String, { nullable: true, description: `How it was answered: 1–${MAX_NOTE} characters after trimming, on one line.` }) note: string | null,
    @Ctx() ctx: Context,
  ): Promise<FactorIssue> {
    const written = await ctx.ledger().write(writer(ctx), (tx) => resolveFactorIssue(tx, { id, resolvedOn, note }, new Problems()));
    ctx.wrote();
    return FactorIssue.fromRow(written.value, requestToday(ctx));
  }

  @FieldResolver(() => Project, { description: "The project it holds back." })
  async project(@Root() issue: FactorIssue, @Ctx() ctx: Context): Promise<Project> {
    const project = await ctx.loader(createProjectLoader).load(issue.projectId);
    invariant(project, () => `project ${issue.projectId} of factor issue ${issue.id} not found`);
    return project;
  }
}

@Resolver(() => Project)
export class ProjectFactorIssuesResolver {
  @FieldResolver(() => [FactorIssue], { description: "Factor-support problems (要素保障) raised for this project, oldest raised first: open ones only when open is true, answered ones only when false, all when omitted." })
  async factorIssues(@Root() project: Project, @Arg("open", () => Boolean, { nullable: true, description: "true: open ones only; false: answered ones only; omitted or null: all." }) open: boolean | null, @Ctx() ctx: Context): Promise<FactorIssue[]> {
    return ctx.loader(createProjectFactorIssuesLoader).load({ projectId: Number(project.id), open: open ?? null });
  }
}

@Resolver(() => Region)
export class RegionFactorIssuesResolver {
  @FieldResolver(() => [FactorIssue], {
    description:
      "Factor-support problems of the projects in this region's whole subtree, longest open first: most days open (to today while open, to resolvedOn once answered), then the earlier raised, then by id.",
  })
  async factorIssues(@Root() region: Region, @Args(() => RegionFactorIssuesArgs) args: RegionFactorIssuesArgs, @Ctx() ctx: Context): Promise<FactorIssue[]> {
    return ctx.loader(createRegionFactorIssuesLoader).load(regionIssuesRequest(region.id, args.open, args.kinds, args.first));
  }

  @FieldResolver(() => FactorIssueStats, { description: "Projects held back by open factor-support problems (要素保障) in this region's whole subtree: how many, and by kind and by department (对号入座)." })
  async factorStats(@Root() region: Region, @Ctx() ctx: Context): Promise<FactorIssueStats> {
    return ctx.loader(createFactorStatsLoader).load(region.id);
  }
}
