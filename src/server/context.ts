import type DataLoader from "dataloader";
import type { DataSource } from "typeorm";

import { CodeTree } from "../common/tree";
import { createMeetingListLoader, createMeetingLoader, createVenuesLoader, type MeetingListRequest } from "../meeting/meeting.loaders";
import type { Meeting, Venue } from "../meeting/meeting.type";
import { createMilestonesLoader, createProjectLoader, createProjectPageLoader, type PageRequest } from "../project/project.loaders";
import type { Milestone, Project, ProjectConnection } from "../project/project.type";
import { loadRegions } from "../region/region.loaders";
import type { RegionTree } from "../region/region.type";
import { loadSectors } from "../sector/sector.loaders";
import type { SectorTree } from "../sector/sector.type";
import { createStatsLoader, type StatsRequest } from "../stats/stats.loader";
import type { ProjectStats } from "../stats/project-stats.type";

/** The per-request loaders; every database read of a resolver goes through one of these. */
export interface Loaders {
  meeting: DataLoader<number, Meeting | null>;
  meetingList: DataLoader<MeetingListRequest, Meeting[], string>;
  venues: DataLoader<number, Venue[]>;
  project: DataLoader<number, Project | null>;
  milestones: DataLoader<number, Milestone[]>;
  stats: DataLoader<StatsRequest, ProjectStats, string>;
  projectPage: DataLoader<PageRequest, ProjectConnection, string>;
}

/** What every resolver gets: the data source and this request's loaders and trees. */
export interface Context {
  db: DataSource;
  /** The whole region tree, read once per request. */
  regionTree(): Promise<RegionTree>;
  /** The whole sector tree, read once per request. */
  sectorTree(): Promise<SectorTree>;
  loaders: Loaders;
}

/** A fresh context for one request: nothing is shared between requests. */
export function createContext(db: DataSource): Context {
  let regions: Promise<RegionTree> | undefined;
  let sectors: Promise<SectorTree> | undefined;
  const ctx = {
    db,
    regionTree: () => (regions ??= loadRegions(db).then((rows) => new CodeTree(rows))),
    sectorTree: () => (sectors ??= loadSectors(db).then((rows) => new CodeTree(rows))),
  } as Context;
  ctx.loaders = {
    meeting: createMeetingLoader(ctx),
    meetingList: createMeetingListLoader(ctx),
    venues: createVenuesLoader(ctx),
    project: createProjectLoader(ctx),
    milestones: createMilestonesLoader(ctx),
    stats: createStatsLoader(ctx),
    projectPage: createProjectPageLoader(ctx),
  };
  return ctx;
}
