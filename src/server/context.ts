import { performance } from "node:perf_hooks";

import type { DataSource } from "typeorm";

import type { Viewer } from "../auth/tokens";
import type { CacheAccess, Context, ContextOptions, RequestInfo } from "../common/context";
import { type DataVersions, readDataVersions } from "../db/data-version";
import { countingClient, type SqlTally } from "../db/sql-counter";
import { DEFAULT_LEDGER_FUTURE_DAYS } from "../config";
import { Ledger, type LedgerSettings } from "../ledger/ledger";
import type { SharedCache } from "./shared-cache";
import { loadTrees, type Trees } from "../common/trees";

/** How the server makes contexts: the options resolvers see, and the cross-request cache (null reads everything per request). */
export interface ContextSetup extends ContextOptions {
  shared: SharedCache | null;
  /** The ledger's settings (LEDGER_FUTURE_DAYS); absent for read-only uses (exports, tests). */
  ledger?: LedgerSettings;
}

/** A fresh context for one request: loaders are never shared between requests. */
export function createContext(
  dataSource: DataSource,
  setup: ContextSetup,
  request: RequestInfo = { id: "internal", startedAt: performance.now(), errorCodes: [] },
  viewer: Viewer | null = null,
): Context {
  const { shared } = setup;
  const sql: SqlTally = { statements: 0 };
  request.sql = sql;
  const db = countingClient(dataSource, sql);
  let versions: Promise<DataVersions> | undefined;
  let trees: Promise<Trees> | undefined;
  let loaders = new Map<unknown, unknown>();
  const currentVersions = () => (versions ??= shared ? shared.currentVersions(db) : readDataVersions(db));
  const loadAllTrees = () => (trees ??= shared ? currentVersions().then((v) => shared.treesFor(v, db)) : loadTrees(db));
  const cache = (): Promise<CacheAccess | null> => (shared ? currentVersions().then((v) => shared.accessAt(v)) : Promise.resolve(null));
  const ctx: Context = {
    db,
    sql,
    request,
    options: { useRollups: setup.useRollups },
    viewer,
    dataVersion: () => currentVersions().then((v) => v.total),
    regionTree: () => loadAllTrees().then((t) => t.regions),
    sectorTree: () => loadAllTrees().then((t) => t.sectors),
    groupedRows: async (key, provinces, load) => {
      const access = await cache();
      return access ? access.rowsFor(key, provinces, load) : load();
    },
    kept: async () => (await cache())?.kept ?? null,
    loader: <L>(create: (ctx: Context) => L): L => {
      let made = loaders.get(create) as L | undefined;
      if (made === undefined) {
        made = create(ctx);
        loaders.set(create, made);
      }
      return made;
    },
    ledger: () => new Ledger(dataSource, setup.ledger ?? { futureDays: DEFAULT_LEDGER_FUTURE_DAYS }, loadAllTrees),
    wrote: () => {
      // The write bumped the versions in the database: read them again, here and in the next request of this instance.
      shared?.expireVersions();
      versions = undefined;
      trees = undefined;
      loaders = new Map();
    },
  };
  return ctx;
}
