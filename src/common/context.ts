/**
 * What every resolver, loader and route gets for one request. A low module:
 * it names the request's parts by type only, so features import it and the
 * server builds it (src/server/context.ts) without an import cycle.
 */
import type { AssessmentSettings } from "../assessment/period";
import type { Viewer } from "../auth/tokens";
import type { Ledger } from "../ledger/ledger";
import type { DataVersions, Stamp } from "../db/data-version";
import type { SqlClient, SqlTally } from "../db/sql-counter";
import type { RegionTree } from "../region/region.type";
import type { SectorTree } from "../sector/sector.type";
import type { IncrementalSpec } from "./incremental-spec";

/** What is known of one HTTP request, filled in as it goes and logged once when it ends. */
export interface RequestInfo {
  id: string;
  /** When the request arrived (performance.now(), ms). */
  startedAt: number;
  /** The GraphQL operation's name (null when anonymous; undefined for other routes). */
  operationName?: string | null;
  /** query or mutation. */
  operationType?: string;
  /** `extensions.code` of every error of the answer, in order, without repeats. */
  errorCodes: string[];
  /** The request's SQL statements, when it ran any through a context. */
  sql?: SqlTally;
  /** The operation's cost as the limits computed it (src/server/cost.ts). */
  cost?: number;
  /** The office whose token made the request, for the access log (never the token). */
  office?: string;
  /** Key of an anonymous GraphQL request in the finished-response cache (src/server/response-cache.ts). */
  responseKey?: string;
  /** Set when the answer may be kept: called with the text sent. */
  keepResponse?: (body: string) => void;
}

/** Finished values shared across requests at this request's data version. */
export interface KeptValues {
  get<T>(key: string): T | undefined;
  /** Keeps `value` (counting `size` against the cache's bound); `provinces` are those whose writes can change it (null: any write). */
  keep(key: string, value: unknown, size: number, provinces: readonly number[] | null): void;
}

/** Grouped rows as loaded, with the `data_version` counters they were read with when asked for. */
export interface LoadedRows<T> {
  rows: T[];
  stamp?: Stamp;
}

/** What the cross-request cache offers a request (src/server/shared-cache.ts). */
export interface CacheAccess {
  /**
   * Grouped rows for `key`, loaded by `load` when the cache holds none that cover the request's versions of the
   * `provinces` they depend on (null: all). With `incremental`, `load(true)` must read the rows with their stamp
   * (src/stats/incremental.ts), and writes' deltas are added to them instead of reading them again.
   */
  rowsFor<T>(key: string, provinces: readonly number[] | null, load: (stamped: boolean) => Promise<LoadedRows<T>>, incremental?: IncrementalSpec): Promise<T[]>;
  /** The provinces a cached value found by `kept.get` depends on (null: any write), for the caller's own record. */
  dependsOn(key: string): readonly number[] | null;
  kept: KeptValues;
}

/** How this server answers aggregates. */
export interface ContextOptions {
  /** Rollup tables where they can answer (true), or always the base tables. */
  useRollups: boolean;
  /** The cards' thresholds and the day they are dated (src/assessment/period.ts); absent, the defaults and today. */
  assessment?: AssessmentSettings;
}

/** What every resolver gets: this request's database client, loaders, trees and caller. */
export interface Context {
  /** Every statement of the request goes through this client, which counts them. */
  db: SqlClient;
  /** Statements issued so far by this request. */
  sql: SqlTally;
  options: ContextOptions;
  /** Who is asking: the office of the bearer token, or null when anonymous. */
  viewer: Viewer | null;
  /** The whole region tree (with the sector tree: one statement per request, or none when cached). */
  regionTree(): Promise<RegionTree>;
  /** The whole sector tree. */
  sectorTree(): Promise<SectorTree>;
  /**
   * Grouped rows of an aggregate query: from the shared cache at this
   * request's versions of `provinces` (null: all of them), or read now.
   */
  groupedRows<T>(key: string, provinces: readonly number[] | null, load: (db: SqlClient, stamped: boolean) => Promise<LoadedRows<T>>, incremental?: IncrementalSpec): Promise<T[]>;
  /** The data version this request is served at (read once; from the shared cache when there is one). */
  dataVersion(): Promise<number>;
  /** The versions per province this request is served at. */
  dataVersions(): Promise<DataVersions>;
  /** Finished values shared across requests; null without the cache. */
  kept(): Promise<KeptValues | null>;
  /** This request's instance of a loader, made by `create` on first use (loaders are never shared between requests). */
  loader<L>(create: (ctx: Context) => L): L;
  /** The write path, for mutations (its writes check the request's token through the actor they are given). */
  ledger(): Ledger;
  /** After a write committed in this request: later reads of the request (and of this instance) see it. */
  wrote(): void;
  /**
   * The provinces whose writes can change this request's answer so far: those
   * of every cached aggregate it used, or null (any write) as soon as it read
   * anything else from the database (projects, meetings, milestones, history).
   */
  dependencies(): readonly number[] | null;
  /** Who is asking and what happened, for the access log (request id, operation, error codes). */
  request: RequestInfo;
}
