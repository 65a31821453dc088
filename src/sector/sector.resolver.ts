import { Arg, Args, Ctx, FieldResolver, ID, Query, Resolver, Root } from "type-graphql";

import type { Context } from "../common/context";
import { ProjectFilter } from "../filter/project-filter.input";
import { createProjectPageLoader } from "../project/project.loaders";
import { ProjectConnectionArgs } from "../project/project-connection.args";
import { ProjectConnection } from "../project/project-connection.type";
import { ProjectStats } from "../stats/project-stats.type";
import { createStatsLoader } from "../stats/stats.loader";

import { Sector } from "./sector.type";

@Resolver(() => Sector)
export class SectorResolver {
  @Query(() => Sector, { nullable: true, description: "A sector by code; null when there is none." })
  async sector(@Arg("code", () => ID, { description: "Sector code, e.g. MFG." }) code: string, @Ctx() ctx: Context): Promise<Sector | null> {
    return (await ctx.sectorTree()).byCode(code) ?? null;
  }

  @Query(() => [Sector], { description: "Every sector, top-level and sub-sectors, in code order." })
  async sectors(@Ctx() ctx: Context): Promise<Sector[]> {
    return (await ctx.sectorTree()).all();
  }

  @FieldResolver(() => Sector, { nullable: true, description: "The sector directly above; null for a top-level sector." })
  async parent(@Root() sector: Sector, @Ctx() ctx: Context): Promise<Sector | null> {
    return (await ctx.sectorTree()).byId(sector.parentId) ?? null;
  }

  @FieldResolver(() => [Sector], { description: "Sub-sectors, in code order." })
  async children(@Root() sector: Sector, @Ctx() ctx: Context): Promise<Sector[]> {
    return (await ctx.sectorTree()).children(sector.id);
  }

  @FieldResolver(() => ProjectStats, { description: "Totals over every project in this sector or below it." })
  stats(
    @Root() sector: Sector,
    @Arg("filter", () => ProjectFilter, { nullable: true, description: "Only projects matching all these conditions." }) filter: ProjectFilter | null,
    @Ctx() ctx: Context,
  ): Promise<ProjectStats> {
    return ctx.loader(createStatsLoader).load({ scope: { kind: "sector", sectorId: sector.id }, filter });
  }

  @FieldResolver(() => ProjectConnection, { description: "Projects in this sector or below it." })
  projects(@Root() sector: Sector, @Args() args: ProjectConnectionArgs, @Ctx() ctx: Context): Promise<ProjectConnection> {
    return ctx.loader(createProjectPageLoader).load({ scope: { kind: "sector", sectorId: sector.id }, ...args });
  }
}
