import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";

import { ViewerInfo } from "../auth/viewer.type";
import type { Context } from "../common/context";
import { AppError, ErrorCode, invariant } from "../common/errors";
import { checkCalendarDate } from "../common/date.scalar";
import { checkPageSize } from "../common/pagination";
import { createMeetingLoader } from "../meeting/meeting.loaders";
import { Meeting } from "../meeting/meeting.type";
import { createProjectLoader } from "../project/project.loaders";
import { Project } from "../project/project.type";
import { RegionLevel } from "../region/region-level";
import { Region } from "../region/region.type";
import { type Actor, actorOf } from "./actor";
import { createChangesLoader, type ChangeOwner } from "./history.loaders";
import { ChangesArgs, HistoryArgs, ProjectChange, ProjectChangeConnection } from "./history.type";
import type { Written } from "./ledger";
import {
  AdvanceStageInput,
  CorrectMilestoneDateInput,
  CreateMeetingInput,
  CreateProjectInput,
  RecordAtMeetingInput,
  UpdateProjectInput,
} from "./ledger.inputs";

/** The actor of a write: the request's token, or UNAUTHENTICATED. */
export function writer(ctx: Context): Actor {
  if (!ctx.viewer) {
    throw new AppError(ErrorCode.UNAUTHENTICATED, "writes need a token: send Authorization: Bearer <token> (see `npm run token -- create`)", { http: { status: 401 } });
  }
  return actorOf(ctx.viewer);
}

/**
 * After a committed write: the rest of this request and the next requests of
 * this instance see it. The rows the write read back at its end answer for
 * the projects it changed, without another round trip.
 */
export async function afterWrite<T>(ctx: Context, written: Written<T>): Promise<T> {
  ctx.wrote();
  const projects = ctx.loader(createProjectLoader);
  for (const row of written.projects ?? []) projects.prime(Number(row.id), Project.fromRow(row));
  return written.value;
}

/** The project a write changed, as the write read it back (`afterWrite`) or else read now. */
export async function project(ctx: Context, id: number): Promise<Project> {
  const found = await ctx.loader(createProjectLoader).load(id);
  invariant(found, () => `project ${id} written but not found`);
  return found;
}

@Resolver()
export class LedgerResolver {
  @Mutation(() => Project, { description: "Adds a project to the ledger with its first milestone. Needs a token whose region holds the project (and the venue, if any)." })
  async createProject(@Arg("input", () => CreateProjectInput, { description: "The project and its first milestone." }) input: CreateProjectInput, @Ctx() ctx: Context): Promise<Project> {
    return project(ctx, await afterWrite(ctx, await ctx.ledger().createProject(writer(ctx), input)));
  }

  @Mutation(() => Project, { description: "Changes a project's own fields. `expectedVersion` is the version the client last read: a newer one in the database is CONFLICT (with `currentVersion`), never a silent overwrite." })
  async updateProject(
    @Arg("id", () => ID, { description: "The project." }) id: string,
    @Arg("expectedVersion", () => Int, { description: "The project's version the client last read." }) expectedVersion: number,
    @Arg("input", () => UpdateProjectInput, { description: "The fields to change; omitted ones stay." }) input: UpdateProjectInput,
    @Ctx() ctx: Context,
  ): Promise<Project> {
    return project(ctx, await afterWrite(ctx, await ctx.ledger().updateProject(writer(ctx), id, expectedVersion, input)));
  }

  @Mutation(() => Project, { description: "Moves a project to a later stage (储备 → 签约 → 开工 → 投产), optionally presented at a meeting venue (signing, starting and production only). 达效 (EFFECTIVE) is not written here: an output report that reaches the designed output gives it (`reportOutput`)." })
  async advanceStage(@Arg("input", () => AdvanceStageInput, { description: "The project, its new stage and where it was reached." }) input: AdvanceStageInput, @Ctx() ctx: Context): Promise<Project> {
    return project(ctx, await afterWrite(ctx, await ctx.ledger().advanceStage(writer(ctx), input)));
  }

  @Mutation(() => Project, { description: "Presents a milestone the project already reached at a meeting venue (e.g. a March signing shown in July's signing batch)." })
  async recordAtMeeting(@Arg("input", () => RecordAtMeetingInput, { description: "The milestone and the meeting venue." }) input: RecordAtMeetingInput, @Ctx() ctx: Context): Promise<Project> {
    return project(ctx, await afterWrite(ctx, await ctx.ledger().recordAtMeeting(writer(ctx), input)));
  }

  @Mutation(() => Project, { description: "Corrects a wrongly entered milestone date: a new change in the history with its reason; the old date stays in the history." })
  async correctMilestoneDate(@Arg("input", () => CorrectMilestoneDateInput, { description: "The milestone, the right date and why." }) input: CorrectMilestoneDateInput, @Ctx() ctx: Context): Promise<Project> {
    return project(ctx, await afterWrite(ctx, await ctx.ledger().correctMilestoneDate(writer(ctx), input)));
  }

  @Mutation(() => Meeting, { description: "Creates a campaign meeting with its main venue (the host) and sub-venues. Needs a token whose region holds the host." })
  async createMeeting(@Arg("input", () => CreateMeetingInput, { description: "The meeting and its venues." }) input: CreateMeetingInput, @Ctx() ctx: Context): Promise<Meeting> {
    const id = await afterWrite(ctx, await ctx.ledger().createMeeting(writer(ctx), input));
    const meeting = await ctx.loader(createMeetingLoader).load(id);
    invariant(meeting, () => `meeting ${id} written but not found`);
    return meeting;
  }

  @Query(() => ViewerInfo, { nullable: true, description: "The office and scope of the request's bearer token; null when the request has none." })
  async viewer(@Ctx() ctx: Context): Promise<ViewerInfo | null> {
    if (!ctx.viewer) return null;
    const info = new ViewerInfo();
    info.tokenId = String(ctx.viewer.tokenId);
    info.office = ctx.viewer.office;
    info.regionId = ctx.viewer.regionId;
    info.region = (await ctx.regionTree()).byId(ctx.viewer.regionId)!;
    return info;
  }
}

@Resolver(() => Project)
export class ProjectHistoryResolver {
  @FieldResolver(() => ProjectChangeConnection, { description: "Every change to the project and its milestones, newest first (全程跟踪)." })
  async history(@Root() root: Project, @Args(() => HistoryArgs) args: HistoryArgs, @Ctx() ctx: Context): Promise<ProjectChangeConnection> {
    checkPageSize(args.first);
    return ctx.loader(createChangesLoader).load({ owner: "project_id", id: Number(root.id), first: args.first, after: args.after });
  }
}

const OWNER_OF_LEVEL: Record<RegionLevel, ChangeOwner> = {
  [RegionLevel.PROVINCE]: "province_id",
  [RegionLevel.CITY]: "city_id",
  [RegionLevel.COUNTY]: "region_id",
};

@Resolver(() => Region)
export class RegionChangesResolver {
  @FieldResolver(() => ProjectChangeConnection, { description: "Changes to projects and meetings anywhere in this region's subtree, newest first (what a city's counties recorded this week), including those that moved a project out of it." })
  async changes(@Root() region: Region, @Args(() => ChangesArgs) args: ChangesArgs, @Ctx() ctx: Context): Promise<ProjectChangeConnection> {
    checkPageSize(args.first);
    checkCalendarDate("since", args.since);
    return ctx.loader(createChangesLoader).load({ owner: OWNER_OF_LEVEL[region.level], id: region.id, first: args.first, after: args.after, since: args.since });
  }
}

@Resolver(() => ProjectChange)
export class ProjectChangeResolver {
  @FieldResolver(() => Project, { nullable: true, description: "The project changed; null for a meeting's creation." })
  async project(@Root() change: ProjectChange, @Ctx() ctx: Context): Promise<Project | null> {
    return change.projectId === null ? null : ctx.loader(createProjectLoader).load(change.projectId);
  }

  @FieldResolver(() => Meeting, { nullable: true, description: "The meeting involved: created, or where a milestone was presented." })
  async meeting(@Root() change: ProjectChange, @Ctx() ctx: Context): Promise<Meeting | null> {
    return change.meetingIdValue === null ? null : ctx.loader(createMeetingLoader).load(change.meetingIdValue);
  }

  @FieldResolver(() => Region, { description: "Where the project was after the change (a meeting's host for a meeting)." })
  async region(@Root() change: ProjectChange, @Ctx() ctx: Context): Promise<Region> {
    return (await ctx.regionTree()).byId(change.regionId)!;
  }
}
