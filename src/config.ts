import path from "node:path";

/** Where the data lives: MySQL (production) or an embedded SQLite file (the default). */
export type DatabaseConfig =
  | { type: "mysql"; url: string; poolSize: number }
  | { type: "sqlite"; path: string };

/** Every setting of the product, read once from the environment. */
export interface Config {
  /** HTTP port (PORT, default 4000; 0 picks a free one). */
  port: number;
  /** Interface to listen on (HOST, default 0.0.0.0). */
  host: string;
  /** True when NODE_ENV is "production": no Sandbox, no internals in errors. */
  production: boolean;
  database: DatabaseConfig;
  /** Log every SQL statement to stderr (LOG_SQL, default false). */
  logSql: boolean;
  /** Answer aggregates from the rollup tables where they can (USE_ROLLUPS, default true); off reads the base tables. */
  useRollups: boolean;
  /** Cross-request cache of trees and aggregate rows, keyed by the data version (AGGREGATE_CACHE, default true). */
  aggregateCache: boolean;
  /** How long a read of the data version is trusted, in ms (DATA_VERSION_TTL_MS, default 1000). */
  dataVersionTtlMs: number;
  /** max-age, in seconds, of the Cache-Control of reads (HTTP_CACHE_MAX_AGE, default 10). */
  httpCacheMaxAge: number;
  /** Bound on the grouped rows the aggregate cache holds (AGGREGATE_CACHE_MAX_ROWS, default 200000). */
  aggregateCacheMaxRows: number;
}

/** A setting that cannot be used; its message names the setting and the value. */
export class ConfigError extends Error {
  constructor(readonly setting: string, reason: string) {
    super(`${setting} ${reason}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

/** Reads and validates every setting; throws ConfigError on the first bad one. */
export function loadConfig(env: Env = process.env): Config {
  return {
    port: readInt(env, "PORT", 4000, 0, 65535),
    host: readString(env, "HOST", "0.0.0.0"),
    production: readEnum(env, "NODE_ENV", ["development", "production", "test"], "development") === "production",
    database: readDatabase(env),
    logSql: readBool(env, "LOG_SQL", false),
    useRollups: readBool(env, "USE_ROLLUPS", true),
    aggregateCache: readBool(env, "AGGREGATE_CACHE", true),
    dataVersionTtlMs: readInt(env, "DATA_VERSION_TTL_MS", 1000, 0, 3_600_000),
    aggregateCacheMaxRows: readInt(env, "AGGREGATE_CACHE_MAX_ROWS", 200_000, 0, 100_000_000),
    httpCacheMaxAge: readInt(env, "HTTP_CACHE_MAX_AGE", 10, 0, 86_400),
  };
}

function readDatabase(env: Env): DatabaseConfig {
  const url = env.DATABASE_URL?.trim();
  const poolSize = readInt(env, "DB_POOL_SIZE", 10, 1, 1000);
  if (!url) {
    const file = readString(env, "SQLITE_PATH", "./data/local.sqlite");
    return { type: "sqlite", path: file === ":memory:" ? file : path.resolve(file) };
  }
  assertMysqlUrl(url, "DATABASE_URL", true);
  return { type: "mysql", url, poolSize };
}

/** Checks a mysql:// URL; `needsDatabase` demands a database name in the path. */
export function assertMysqlUrl(url: string, setting: string, needsDatabase: boolean): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(setting, `must be a URL like mysql://user:pass@host:3306/db (got "${redactUrl(url)}")`);
  }
  if (parsed.protocol !== "mysql:") {
    throw new ConfigError(setting, `must start with mysql:// (got "${redactUrl(url)}")`);
  }
  if (!parsed.hostname) throw new ConfigError(setting, `has no host (got "${redactUrl(url)}")`);
  if (needsDatabase && parsed.pathname.replace(/^\//, "") === "") {
    throw new ConfigError(setting, `names no database; add it as the path, e.g. mysql://root@127.0.0.1:3306/projects`);
  }
  return parsed;
}

/** The URL with its user information (up to the last @ before the host) hidden, safe for an error message. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/*)[^/?#]*@/i, "$1***@");
}

function readString(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  return raw.trim();
}

function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number between ${min} and ${max} (got "${raw}")`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max} (got "${raw}")`);
  return value;
}

function readBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  throw new ConfigError(name, `must be true or false (got "${raw}")`);
}

function readEnum<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  if (!(allowed as readonly string[]).includes(raw.trim())) {
    throw new ConfigError(name, `must be one of ${allowed.join(", ")} (got "${raw}")`);
  }
  return raw.trim() as T;
}
