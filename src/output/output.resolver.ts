import { Arg, Ctx, FieldResolver, Float, Int, Mutation, Resolver, Root } from "type-graphql";

import type { Context } from "../common/context";
import { BadUserInputError } from "../common/errors";
import { fromWan, MoneyUnit, UNIT_ARG } from "../common/money";
import { ProjectFilter } from "../filter/project-filter.input";
import { afterWrite, project, writer } from "../ledger/ledger.resolver";
import { isOutputYear, reportOutput } from "../ledger/operations/output-reports";
import { Problems } from "../ledger/problems";
import { Project } from "../project/project.type";
import { Region } from "../region/region.type";
import { createOutputStatsLoader, createProjectOutputLoader } from "./output.loaders";
import { OutputReport, OutputStats, ReportOutputInput } from "./output.type";

/** The year of an output read (outputStats, outputBreakdown): BAD_USER_INPUT naming `field` unless a year such as 2024. */
export function checkOutputYear(year: number, field = "year"): void {
  if (!isOutputYear(year)) throw new BadUserInputError(field, `must be a year such as 2024 (got ${year})`);
}

@Resolver()
export class OutputMutationResolver {
  @Mutation(() => Project, {
    description:
      "Records a project's output value (年产值) for a year, and its designed annual output (设计年产值) when first known or changed: needs a token whose region holds the project, which must be IN_PRODUCTION or EFFECTIVE. A second report for a year replaces the first (the history keeps the old value). When the project is IN_PRODUCTION and output / designed output reaches EFFECTIVE_THRESHOLD (default 1.0, 100 %), it becomes EFFECTIVE (达效) in the same write, its milestone dated `reportedOn`. Forward only: a later, lower report never moves it back. Recorded in the history as REPORT_OUTPUT; `expectedVersion` as for the other writes (CONFLICT when stale).",
  })
  async reportOutput(@Arg("input", () => ReportOutputInput, { description: "The project, the year, its output and (the first time) its designed output." }) input: ReportOutputInput, @Ctx() ctx: Context): Promise<Project> {
    const written = await ctx.ledger().write(writer(ctx), (tx) => reportOutput(tx, input, new Problems()));
    return project(ctx, (await afterWrite(ctx, written)).projectId);
  }
}

@Resolver(() => Project)
export class ProjectOutputResolver {
  @FieldResolver(() => Float, { nullable: true, description: "Designed annual output value (设计年产值) that 达效 is measured against, exact; null when not recorded (reportOutput records it)." })
  async designedAnnualOutput(@Root() project: Project, @Arg("unit", () => MoneyUnit, UNIT_ARG) unit: MoneyUnit | null, @Ctx() ctx: Context): Promise<number | null> {
    const facts = await ctx.loader(createProjectOutputLoader).load(Number(project.id));
    return facts.designedWan === null ? null : fromWan(facts.designedWan, unit ?? undefined);
  }

  @FieldResolver(() => [OutputReport], { description: "Reported annual output (年产值), oldest year first; one per year (a later report for a year replaced the earlier)." })
  async outputReports(@Root() project: Project, @Ctx() ctx: Context): Promise<OutputReport[]> {
    return (await ctx.loader(createProjectOutputLoader).load(Number(project.id))).reports;
  }
}

@Resolver(() => Region)
export class RegionOutputResolver {
  @FieldResolver(() => OutputStats, {
    description:
      "达效 over this region's whole subtree for one year: the projects (matching the filter) that reported output for the year, their designed and reported output summed, the reached rate, how many are EFFECTIVE now, and the reporting projects by reached-rate band. A whole province-to-county tree is one statement per year and filter.",
  })
  async outputStats(
    @Root() region: Region,
    @Arg("year", () => Int, { description: "The calendar year of the reports." }) year: number,
    @Arg("filter", () => ProjectFilter, { nullable: true, description: "Only projects matching all these conditions." }) filter: ProjectFilter | null,
    @Ctx() ctx: Context,
  ): Promise<OutputStats> {
    checkOutputYear(year);
    return ctx.loader(createOutputStatsLoader).load({ regionId: region.id, year, filter });
  }
}
