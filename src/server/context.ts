import { performance } from "node:perf_hooks";

import type DataLoader from "dataloader";
import type { DataSource } from "typeorm";

import { createMeetingListLoader, createMeetingLoader, createVenuesLoader, type MeetingListRequest } from "../meeting/meeting.loaders";
import type { Meeting, Venue } from "../meeting/meeting.type";
import { createMilestonesLoader, createProjectLoader, createProjectPageLoader, type PageRequest } from "../project/project.loaders";
import type { Milestone, Project, ProjectConnection } from "../project/project.type";
import type { RegionTree } from "../region/region.type";
import type { SectorTree } from "../sector/sector.type";
import type { ProjectStats } from "../stats/project-stats.type";
import { createStatsLoader, type StatsRequest } from "../stats/stats.loader";
import { readDataVersion } from "../db/data-version";
import { countingClient, type SqlClient, type SqlTally } from "../db/sql-counter";
import type { RequestInfo } from "./observability";
import type { SharedCache } from "./shared-cache";
import { loadTrees, type Trees } from "./trees";

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

/** How this server answers aggregates. */
export interface ContextOptions {
  /** Rollup tables where they can answer (true), or always the base tables. */
  useRollups: boolean;
  /** The cross-request cache; null reads everything per request. */
  shared: SharedCache | null;
}

/** What every resolver gets: this request's database client, loaders and trees. */
export interface Context {
  /** Every statement of the request goes through this client, which counts them. */
  db: SqlClient;
  /** Statements issued so far by this request. */
  sql: SqlTally;
  options: ContextOptions;
  /** The whole region tree (with the sector tree: one statement per request, or none when cached). */
  regionTree(): Promise<RegionTree>;
  /** The whole sector tree. */
  sectorTree(): Promise<SectorTree>;
  /** Grouped rows of an aggregate query: from the shared cache at this request's data version, or read now. */
  groupedRows<T>(key: string, load: () => Promise<T[]>): Promise<T[]>;
  /** The data version this request is served at (read once; from the shared cache when there is one). */
  dataVersion(): Promise<number>;
  /** Finished values shared across requests at this request's data version; null without the cache. */
  kept(): Promise<{ get<T>(key: string): T | undefined; keep(key: string, value: unknown, size: number): void } | null>;
  loaders: Loaders;
  /** Who is asking and what happened, for the access log (request id, operation, error codes). */
  request: RequestInfo;
}

/** A fresh context for one request: loaders are never shared between requests. */
export function createContext(dataSource: DataSource, options: ContextOptions, request: RequestInfo = { id: "internal", startedAt: performance.now(), errorCodes: [] }): Context {
  const shared = options.shared;
  const sql: SqlTally = { statements: 0 };
  request.sql = sql;
  const db = countingClient(dataSource, sql);
  let version: Promise<number> | undefined;
  let trees: Promise<Trees> | undefined;
  const currentVersion = () => (version ??= shared ? shared.currentVersion(db) : readDataVersion(db));
  const loadAllTrees = () => (trees ??= shared ? currentVersion().then((v) => shared.treesFor(v, db)) : loadTrees(db));
  const ctx = {
    db,
    sql,
    request,
    options,
    dataVersion: currentVersion,
    regionTree: () => loadAllTrees().then((t) => t.regions),
    sectorTree: () => loadAllTrees().then((t) => t.sectors),
    groupedRows: <T>(key: string, load: () => Promise<T[]>) => (shared ? currentVersion().then((v) => shared.rowsFor(v, key, load)) : load()),
    kept: async () => {
      if (!shared) return null;
      const v = await currentVersion();
      return {
        get: <T>(key: string) => shared.valueFor<T>(v, key),
        keep: (key: string, value: unknown, size: number) => shared.keepValue(v, key, value, size),
      };
    },
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
