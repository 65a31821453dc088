import { Arg, Args, Ctx, FieldResolver, ID, Query, Resolver, Root } from "type-graphql";

import type { Context } from "../common/context";
import { NotFoundError } from "../common/errors";
import { ProjectFilter } from "../filter/project-filter.input";
import { createProjectPageLoader } from "../project/project.loaders";
import { ProjectConnectionArgs } from "../project/project-connection.args";
import { ProjectConnection } from "../project/project-connection.type";
import { ProjectStats } from "../stats/project-stats.type";
import { createStatsLoader } from "../stats/stats.loader";

import { RegionLevel } from "./region-level";
import { Region } from "./region.type";

const FILTER_ARG = { nullable: true, description: "Only projects matching all these conditions." } as const;

@Resolver(() => Region)
export class RegionResolver {
  @Query(() => Region, { nullable: true, description: "A region by its GB/T 2260 code; null when there is none." })
  async region(@Arg("code", () => ID, { description: "GB/T 2260 code, e.g. 410000." }) code: string, @Ctx() ctx: Context): Promise<Region | null> {
    return (await ctx.regionTree()).byCode(code) ?? null;
  }

  @Query(() => [Region], { description: "Regions in code order, optionally only one level and/or the direct children of one region." })
  async regions(
    @Arg("level", () => RegionLevel, { nullable: true, description: "Only regions of this level." }) level: RegionLevel | null,
    @Arg("parentCode", () => ID, { nullable: true, description: "Only the direct children of this region." }) parentCode: string | null,
    @Ctx() ctx: Context,
  ): Promise<Region[]> {
    const tree = await ctx.regionTree();
    let list = tree.all();
    if (parentCode != null) {
      const parent = tree.byCode(parentCode);
      if (!parent) throw new NotFoundError("parentCode", "region", parentCode);
      list = tree.children(parent.id);
    }
    return level ? list.filter((region) => region.level === level) : list;
  }

  @FieldResolver(() => Region, { nullable: true, description: "The region directly above; null for a province." })
  async parent(@Root() region: Region, @Ctx() ctx: Context): Promise<Region | null> {
    return (await ctx.regionTree()).byId(region.parentId) ?? null;
  }

  @FieldResolver(() => [Region], { description: "The regions directly below, in code order (济源 has none)." })
  async children(@Root() region: Region, @Ctx() ctx: Context): Promise<Region[]> {
    return (await ctx.regionTree()).children(region.id);
  }

  @FieldResolver(() => [Region], { description: "From the root down to the parent." })
  async ancestors(@Root() region: Region, @Ctx() ctx: Context): Promise<Region[]> {
    return (await ctx.regionTree()).ancestorsOf(region.id);
  }

  @FieldResolver(() => ProjectStats, { description: "Totals over every project in this region's whole subtree." })
  stats(@Root() region: Region, @Arg("filter", () => ProjectFilter, FILTER_ARG) filter: ProjectFilter | null, @Ctx() ctx: Context): Promise<ProjectStats> {
    return ctx.loader(createStatsLoader).load({ scope: { kind: "region", regionId: region.id }, filter });
  }

  @FieldResolver(() => ProjectConnection, { description: "Projects located in this region's whole subtree." })
  projects(@Root() region: Region, @Args() args: ProjectConnectionArgs, @Ctx() ctx: Context): Promise<ProjectConnection> {
    return ctx.loader(createProjectPageLoader).load({ scope: { kind: "region", regionId: region.id }, ...args });
  }
}
