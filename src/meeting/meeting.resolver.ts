import { Arg, Args, Ctx, FieldResolver, ID, Query, Resolver, Root } from "type-graphql";

import type { Context } from "../common/context";
import { checkCalendarDate, DateScalar } from "../common/date.scalar";
import { BadUserInputError, NotFoundError } from "../common/errors";
import { parseId } from "../common/ids";
import { BATCH_STAGES, stageToNumber } from "../common/stage";
import { ProjectFilter } from "../filter/project-filter.input";
import { createProjectPageLoader } from "../project/project.loaders";
import { ProjectConnectionArgs } from "../project/project-connection.args";
import { ProjectConnection } from "../project/project-connection.type";
import { Region } from "../region/region.type";
import { ProjectStats } from "../stats/project-stats.type";
import { createStatsLoader } from "../stats/stats.loader";

import { Meeting, MeetingBatch, Venue } from "./meeting.type";
import { createMeetingListLoader, createMeetingLoader, createVenuesLoader } from "./meeting.loaders";

@Resolver(() => Meeting)
export class MeetingResolver {
  @Query(() => Meeting, { nullable: true, description: "A meeting by id; null when there is none." })
  async meeting(@Arg("id", () => ID, { description: "The meeting's id." }) id: string, @Ctx() ctx: Context): Promise<Meeting | null> {
    const numeric = parseId(id);
    return numeric === null ? null : ctx.loader(createMeetingLoader).load(numeric);
  }

  @Query(() => [Meeting], { description: "Newest first." })
  async meetings(
    @Arg("hostRegionCode", () => ID, { nullable: true, description: "Only meetings hosted by this region." }) hostRegionCode: string | null,
    @Arg("from", () => DateScalar, { nullable: true, description: "Only meetings held on or after this date." }) from: string | null,
    @Arg("to", () => DateScalar, { nullable: true, description: "Only meetings held on or before this date." }) to: string | null,
    @Ctx() ctx: Context,
  ): Promise<Meeting[]> {
    checkCalendarDate("from", from);
    checkCalendarDate("to", to);
    let hostRegionId: number | null = null;
    if (hostRegionCode != null) {
      const host = (await ctx.regionTree()).byCode(hostRegionCode);
      if (!host) throw new NotFoundError("hostRegionCode", "region", hostRegionCode);
      hostRegionId = host.id;
    }
    if (from != null && to != null && from > to) throw new BadUserInputError("to", `must not be before from (${from} > ${to})`);
    return ctx.loader(createMeetingListLoader).load({ hostRegionId, from: from ?? null, to: to ?? null });
  }

  @FieldResolver(() => Region, { description: "The region that held it (its main venue)." })
  async hostRegion(@Root() meeting: Meeting, @Ctx() ctx: Context): Promise<Region> {
    return (await ctx.regionTree()).byId(meeting.hostRegionId)!;
  }

  @FieldResolver(() => [Venue], { description: "The main venue first, then the sub-venues in region code order." })
  async venues(@Root() meeting: Meeting, @Ctx() ctx: Context): Promise<Venue[]> {
    const [venues, tree] = await Promise.all([ctx.loader(createVenuesLoader).load(Number(meeting.id)), ctx.regionTree()]);
    const code = (venue: Venue) => `${venue.kind === "MAIN" ? 0 : 1}${tree.byId(venue.regionId)?.code ?? ""}`;
    return [...venues].sort((a, b) => (code(a) < code(b) ? -1 : code(a) > code(b) ? 1 : 0));
  }

  @FieldResolver(() => [MeetingBatch], { description: "Always three, in stage order; the figures are province-wide (all venues)." })
  batches(@Root() meeting: Meeting): MeetingBatch[] {
    return BATCH_STAGES.map((stage) => MeetingBatch.of(Number(meeting.id), stage, null));
  }
}

@Resolver(() => Venue)
export class VenueResolver {
  @FieldResolver(() => Region, { description: "The region where the venue was held." })
  async region(@Root() venue: Venue, @Ctx() ctx: Context): Promise<Region> {
    return (await ctx.regionTree()).byId(venue.regionId)!;
  }

  @FieldResolver(() => [MeetingBatch], { description: "The batches presented at this venue: always three, in stage order, counting only this venue's entries." })
  batches(@Root() venue: Venue): MeetingBatch[] {
    return BATCH_STAGES.map((stage) => MeetingBatch.of(venue.meetingId, stage, venue.regionId));
  }
}

@Resolver(() => MeetingBatch)
export class MeetingBatchResolver {
  @FieldResolver(() => Meeting, { description: "The meeting this batch belongs to." })
  async meeting(@Root() batch: MeetingBatch, @Ctx() ctx: Context): Promise<Meeting> {
    return (await ctx.loader(createMeetingLoader).load(batch.meetingId))!;
  }

  @FieldResolver(() => Region, { nullable: true, description: "The venue's region when this is one venue's share; null for the whole meeting." })
  async venue(@Root() batch: MeetingBatch, @Ctx() ctx: Context): Promise<Region | null> {
    return batch.venueRegionId === null ? null : ((await ctx.regionTree()).byId(batch.venueRegionId) ?? null);
  }

  @FieldResolver(() => ProjectStats, {
    description: "Aggregates over the batch's projects. byStage splits them by their current stage, so a signing batch's byStage shows how many have since started (签约项目开工率).",
  })
  stats(
    @Root() batch: MeetingBatch,
    @Arg("filter", () => ProjectFilter, { nullable: true, description: "Only projects matching all these conditions." }) filter: ProjectFilter | null,
    @Ctx() ctx: Context,
  ): Promise<ProjectStats> {
    return ctx.loader(createStatsLoader).load({ scope: batchScope(batch), filter });
  }

  @FieldResolver(() => ProjectConnection, { description: "The batch's projects." })
  projects(@Root() batch: MeetingBatch, @Args() args: ProjectConnectionArgs, @Ctx() ctx: Context): Promise<ProjectConnection> {
    return ctx.loader(createProjectPageLoader).load({ scope: batchScope(batch), ...args });
  }
}

function batchScope(batch: MeetingBatch) {
  return { kind: "batch" as const, meetingId: batch.meetingId, stage: stageToNumber(batch.stage), venueRegionId: batch.venueRegionId };
}
