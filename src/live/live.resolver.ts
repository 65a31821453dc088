import { Arg, Ctx, ID, Resolver, Subscription } from "type-graphql";

import type { Context } from "../common/context";
import { AppError, ErrorCode, NotFoundError } from "../common/errors";
import { parseId } from "../common/ids";
import { ProjectFilter } from "../filter/project-filter.input";
import { createMeetingLoader } from "../meeting/meeting.loaders";
import { Meeting } from "../meeting/meeting.type";
import { ProjectStats } from "../stats/project-stats.type";
import { createStatsLoader } from "../stats/stats.loader";

/**
 * Subscriptions are served by the live hub (./live-hub.ts) over graphql-ws at
 * /graphql: it runs each distinct subscription's root field once per change
 * (graphql-js executes a subscription document's root fields as a query's)
 * and sends the one result to every screen that holds it. This is what a
 * graphql `subscribe` outside the hub gets.
 */
function servedByTheHub(): AsyncIterable<never> {
  throw new AppError(ErrorCode.BAD_REQUEST, "subscriptions are served over WebSocket (graphql-transport-ws, the graphql-ws protocol) at /graphql");
}

/** The meeting-day subscriptions: a region's totals and a meeting's board, pushed after each write that changes them. */
@Resolver()
export class LiveResolver {
  @Subscription(() => ProjectStats, {
    subscribe: servedByTheHub,
    description:
      "The stats of a region's whole subtree under the filter: sent once at subscription, then again each time a write changes them (never a push that changes nothing).",
  })
  async regionStats(
    @Arg("code", () => ID, { description: "GB/T 2260 code of the region, e.g. 410000." }) code: string,
    @Arg("filter", () => ProjectFilter, { nullable: true, description: "Only projects matching all these conditions." }) filter: ProjectFilter | null,
    @Ctx() ctx: Context,
  ): Promise<ProjectStats> {
    const region = (await ctx.regionTree()).byCode(code);
    if (!region) throw new NotFoundError("code", "region", code);
    return ctx.loader(createStatsLoader).load({ scope: { kind: "region", regionId: region.id }, filter });
  }

  @Subscription(() => Meeting, {
    subscribe: servedByTheHub,
    description: "A meeting's board (its batches and venues with their stats): sent once at subscription, then again each time a write changes any figure it shows.",
  })
  async meetingBoard(@Arg("meetingId", () => ID, { description: "The meeting's id." }) meetingId: string, @Ctx() ctx: Context): Promise<Meeting> {
    const id = parseId(meetingId);
    const meeting = id === null ? null : await ctx.loader(createMeetingLoader).load(id);
    if (!meeting) throw new NotFoundError("meetingId", "meeting", meetingId);
    return meeting;
  }
}
