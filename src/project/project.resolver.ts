import { Arg, Args, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from "type-graphql";

import type { Context } from "../common/context";
import { parseId } from "../common/ids";
import { createMeetingLoader } from "../meeting/meeting.loaders";
import { Meeting } from "../meeting/meeting.type";
import { Region } from "../region/region.type";
import { Sector } from "../sector/sector.type";
import { ProjectStats } from "../stats/project-stats.type";
import { createStatsLoader } from "../stats/stats.loader";

import { ProjectFilter } from "../filter/project-filter.input";
import { Milestone } from "./milestone.type";
import { ProjectConnectionArgs } from "./project-connection.args";
import { ProjectConnection } from "./project-connection.type";
import { Project } from "./project.type";
import { createMilestonesLoader, createProjectLoader, createProjectPageLoader } from "./project.loaders";

@Resolver(() => Project)
export class ProjectResolver {
  @Query(() => Project, { nullable: true, description: "A project by id; null when there is none." })
  async project(@Arg("id", () => ID, { description: "The project's id." }) id: string, @Ctx() ctx: Context): Promise<Project | null> {
    const numeric = parseId(id);
    return numeric === null ? null : ctx.loader(createProjectLoader).load(numeric);
  }

  @Query(() => ProjectConnection, { description: "All projects, filtered, ordered and paged." })
  projects(@Args() args: ProjectConnectionArgs, @Ctx() ctx: Context): Promise<ProjectConnection> {
    return ctx.loader(createProjectPageLoader).load({ scope: { kind: "all" }, ...args });
  }

  @Query(() => ProjectStats, { description: "Aggregates over all projects matching the filter (the whole data set, every region)." })
  stats(
    @Arg("filter", () => ProjectFilter, { nullable: true, description: "Only projects matching all these conditions." }) filter: ProjectFilter | null,
    @Ctx() ctx: Context,
  ): Promise<ProjectStats> {
    return ctx.loader(createStatsLoader).load({ scope: { kind: "all" }, filter });
  }

  @FieldResolver(() => Region, { description: "The region the project is located in (usually a county)." })
  async region(@Root() project: Project, @Ctx() ctx: Context): Promise<Region> {
    return (await ctx.regionTree()).byId(project.regionId)!;
  }

  @FieldResolver(() => Sector, { description: "The project's primary sector." })
  async sector(@Root() project: Project, @Ctx() ctx: Context): Promise<Sector> {
    return (await ctx.sectorTree()).byId(project.sectorId)!;
  }

  @FieldResolver(() => [Milestone], { description: "The ledger history, in stage order; the last one is the current stage." })
  milestones(@Root() project: Project, @Ctx() ctx: Context): Promise<Milestone[]> {
    return ctx.loader(createMilestonesLoader).load(Number(project.id));
  }
}

@Resolver(() => Milestone)
export class MilestoneResolver {
  @FieldResolver(() => Meeting, { nullable: true, description: "The meeting it was presented at, if any." })
  async meeting(@Root() milestone: Milestone, @Ctx() ctx: Context): Promise<Meeting | null> {
    return milestone.meetingId === null ? null : ctx.loader(createMeetingLoader).load(milestone.meetingId);
  }

  @FieldResolver(() => Region, { nullable: true, description: "The venue's region where it was presented, when at a meeting." })
  async venue(@Root() milestone: Milestone, @Ctx() ctx: Context): Promise<Region | null> {
    return milestone.venueRegionId === null ? null : ((await ctx.regionTree()).byId(milestone.venueRegionId) ?? null);
  }
}

@Resolver(() => ProjectConnection)
export class ProjectConnectionResolver {
  @FieldResolver(() => Int, { description: "Number of projects in the whole list (all pages)." })
  async totalCount(@Root() connection: ProjectConnection, @Ctx() ctx: Context): Promise<number> {
    return (await ctx.loader(createStatsLoader).load(connection.totalOf)).projectCount;
  }
}
