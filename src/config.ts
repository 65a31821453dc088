import path from "node:path";

/** Where the data lives: MySQL (production) or an embedded SQLite file (the default). */
export type DatabaseConfig =
  | {
      type: "mysql";
      url: string;
      poolSize: number;
      /** Read replicas (DATABASE_REPLICA_URLS), present only when set: see src/db/replicas.ts for what goes there. */
      replicaUrls?: string[];
    }
  | { type: "sqlite"; path: string };

/** Every setting of the product, read once from the environment. */
/** How far ahead of today a ledger date may lie unless LEDGER_FUTURE_DAYS says otherwise. */
export const DEFAULT_LEDGER_FUTURE_DAYS = 31;

/** The share of its designed annual output a year's output must reach for a project in production to become EFFECTIVE (达效) unless EFFECTIVE_THRESHOLD says otherwise: 1.0, 100 %. */
export const DEFAULT_EFFECTIVE_THRESHOLD = 1;

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
  /** Bytes of finished answers kept for repeated anonymous queries (RESPONSE_CACHE_MAX_BYTES, default 32 MB; 0 turns it off; needs AGGREGATE_CACHE). */
  responseCacheMaxBytes: number;
  /** How far ahead of today a ledger date may lie, in days (LEDGER_FUTURE_DAYS, default 31). */
  ledgerFutureDays: number;
  /** 达效: output / designed annual output at which an output report moves a project in production to EFFECTIVE (EFFECTIVE_THRESHOLD, default 1.0 = 100 %; more than 0, at most 10). */
  effectiveThreshold: number;
  /** Reads need a token too (READ_REQUIRES_TOKEN, default false: reads are public, writes always need one). */
  readRequiresToken: boolean;
  /** What a request may ask for; each refusal has an error code of its own. */
  limits: Limits;
  /** Bounds of the per-document caches (parsed documents, compiled queries, persisted queries). */
  documentCache: { maxEntries: number; maxBytes: number };
  /** Time limits of the HTTP server, in ms. */
  timeouts: { headersMs: number; bodyMs: number; requestMs: number; shutdownMs: number };
  /** Introspection allowed (INTROSPECTION; default on, off in production). */
  introspection: boolean;
  /** Stack traces in error responses, for local work only (EXPOSE_STACKTRACES, default false; the log always has them). */
  exposeStacktraces: boolean;
  /** Send `x-sql-statements` with every GraphQL answer (SQL_STATEMENTS_HEADER, default false). */
  sqlStatementsHeader: boolean;
  /** Serve the API as an Apollo Federation 2 subgraph, with `_service` and `_entities` (FEDERATION, default false: a plain client gets the plain schema). */
  federation: boolean;
  /** Accept a JSON array of operations in one request (BATCH_REQUESTS, default false). */
  batchRequests: boolean;
  /** Origins allowed by CORS (CORS_ORIGINS, comma-separated; default "*", any origin, never with credentials). */
  corsOrigins: "*" | string[];
  /** pino log level (LOG_LEVEL, default info). */
  logLevel: LogLevel;
  /** Subscriptions over graphql-ws at /graphql (the meeting-day screens): see src/live/. */
  live: LiveConfig;
  /** 考核亮牌: the cards of `StageAssessment` (src/assessment/). */
  assessment: AssessmentConfig;
}

/**
 * The cards of the assessment: with `elapsed` the share of the period gone by today, a region is GREEN when its
 * completion rate is at least elapsed × greenAt, YELLOW when at least elapsed × yellowAt, else RED.
 */
export interface AssessmentConfig {
  /** ASSESSMENT_GREEN_AT, default 1.0: on schedule (a rate of at least the share of the period elapsed). */
  greenAt: number;
  /** ASSESSMENT_YELLOW_AT, default 0.8; at most ASSESSMENT_GREEN_AT. */
  yellowAt: number;
  /** ASSESSMENT_TODAY (YYYY-MM-DD): the day the cards are dated, for a replay or a test; unset, today (UTC). */
  today: string | null;
}

/** Settings of subscriptions (src/live/). */
export interface LiveConfig {
  /** Redis for change events between instances (REDIS_URL, e.g. redis://127.0.0.1:6379; unset: this instance alone). */
  redisUrl: string | null;
  /** A subscription is pushed at most once per this many ms; a burst ends on its final state (LIVE_MIN_INTERVAL_MS, default 200). */
  minIntervalMs: number;
  /** Subscriptions one connection may hold (LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION, default 20). */
  maxSubscriptionsPerConnection: number;
  /** WebSocket connections from one IP address (LIVE_MAX_CONNECTIONS_PER_IP, default 20000). */
  maxConnectionsPerIp: number;
  /** WebSocket connections in all (LIVE_MAX_CONNECTIONS, default 19000: open files are capped at 20,000 per process here). */
  maxConnections: number;
  /** ms a new connection has to send connection_init (LIVE_INIT_TIMEOUT_MS, default 3000). */
  initTimeoutMs: number;
  /** ms a connection may hold no subscription before it is closed (LIVE_IDLE_TIMEOUT_MS, default 60000). */
  idleTimeoutMs: number;
  /** ms between WebSocket pings; a connection that has not answered the last one by the next is closed (LIVE_PING_INTERVAL_MS, default 12000). */
  pingIntervalMs: number;
  /** Bytes a connection may have waiting to be sent before it is cut off as a slow consumer (LIVE_MAX_BUFFERED_BYTES, default 1000000). */
  maxBufferedBytes: number;
}

/** pino's levels, "silent" turning logging off. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What one request may ask for; the defaults let every example operation and the national province-to-county query through. */
export interface Limits {
  /** Bytes of the JSON body (MAX_BODY_BYTES, default 1000000); a larger body is a 413. */
  bodyBytes: number;
  /** Bytes of the GraphQL document, comments included, checked before parsing (MAX_DOCUMENT_BYTES, default 100000). */
  documentBytes: number;
  /** Lexical tokens of the document (MAX_TOKENS, default 5000). */
  tokens: number;
  /** Nesting depth of fields, introspection included (MAX_DEPTH, default 15). */
  depth: number;
  /** Aliased fields, fragments expanded (MAX_ALIASES, default 30). */
  aliases: number;
  /** Fields at the root of an operation (MAX_ROOT_FIELDS, default 20). */
  rootFields: number;
  /** Directives, fragments expanded (MAX_DIRECTIVES, default 50). */
  directives: number;
  /** Fragment spreads once every fragment is expanded where it is spread (MAX_FRAGMENT_SPREADS, default 200). */
  fragmentSpreads: number;
  /** The cost of an operation (MAX_COST, default 100000): see src/server/cost.ts. */
  cost: number;
  /** Bytes of a JSON answer (MAX_RESPONSE_BYTES, default 5000000). */
  responseBytes: number;
  /** Rows a breakdown CSV export may have at most, as the cost model bounds them (MAX_EXPORT_ROWS, default 200000); the rows are held in memory. */
  exportRows: number;
  /** Bytes of a ledger file POSTed to /import/projects.csv (IMPORT_MAX_BYTES, default 20000000); larger is a 413. */
  importBytes: number;
  /** Data rows of a ledger file, by the route and the command line (IMPORT_MAX_ROWS, default 200000); more is a 413 (exit 1), nothing written. */
  importRows: number;
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
  const production = readEnum(env, "NODE_ENV", ["development", "production", "test"], "development") === "production";
  return {
    port: readInt(env, "PORT", 4000, 0, 65535),
    host: readString(env, "HOST", "0.0.0.0"),
    production,
    database: readDatabase(env),
    logSql: readBool(env, "LOG_SQL", false),
    useRollups: readBool(env, "USE_ROLLUPS", true),
    aggregateCache: readBool(env, "AGGREGATE_CACHE", true),
    dataVersionTtlMs: readInt(env, "DATA_VERSION_TTL_MS", 1000, 0, 3_600_000),
    aggregateCacheMaxRows: readInt(env, "AGGREGATE_CACHE_MAX_ROWS", 200_000, 0, 100_000_000),
    httpCacheMaxAge: readInt(env, "HTTP_CACHE_MAX_AGE", 10, 0, 86_400),
    responseCacheMaxBytes: readInt(env, "RESPONSE_CACHE_MAX_BYTES", 32 * 1024 * 1024, 0, 4 * 1024 ** 3),
    ledgerFutureDays: readInt(env, "LEDGER_FUTURE_DAYS", DEFAULT_LEDGER_FUTURE_DAYS, 0, 3_660),
    effectiveThreshold: readEffectiveThreshold(env),
    readRequiresToken: readBool(env, "READ_REQUIRES_TOKEN", false),
    assessment: readAssessment(env),
    live: {
      redisUrl: readOptionalUrl(env, "REDIS_URL", ["redis:", "rediss:"]),
      minIntervalMs: readInt(env, "LIVE_MIN_INTERVAL_MS", 200, 0, 60_000),
      maxSubscriptionsPerConnection: readInt(env, "LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION", 20, 1, 10_000),
      maxConnectionsPerIp: readInt(env, "LIVE_MAX_CONNECTIONS_PER_IP", 20_000, 1, 1_000_000),
      maxConnections: readInt(env, "LIVE_MAX_CONNECTIONS", 19_000, 1, 1_000_000),
      initTimeoutMs: readInt(env, "LIVE_INIT_TIMEOUT_MS", 3_000, 100, 600_000),
      idleTimeoutMs: readInt(env, "LIVE_IDLE_TIMEOUT_MS", 60_000, 100, 86_400_000),
      pingIntervalMs: readInt(env, "LIVE_PING_INTERVAL_MS", 12_000, 100, 3_600_000),
      maxBufferedBytes: readInt(env, "LIVE_MAX_BUFFERED_BYTES", 1_000_000, 1_000, 1_000_000_000),
    },
    limits: {
      importBytes: readInt(env, "IMPORT_MAX_BYTES", 20_000_000, 1_000, 1_000_000_000),
      importRows: readInt(env, "IMPORT_MAX_ROWS", 200_000, 1, 100_000_000),
      bodyBytes: readInt(env, "MAX_BODY_BYTES", 1_000_000, 1_000, 100_000_000),
      documentBytes: readInt(env, "MAX_DOCUMENT_BYTES", 100_000, 100, 10_000_000),
      tokens: readInt(env, "MAX_TOKENS", 5_000, 10, 1_000_000),
      depth: readInt(env, "MAX_DEPTH", 15, 2, 1_000),
      aliases: readInt(env, "MAX_ALIASES", 30, 0, 100_000),
      rootFields: readInt(env, "MAX_ROOT_FIELDS", 20, 1, 100_000),
      directives: readInt(env, "MAX_DIRECTIVES", 50, 0, 100_000),
      fragmentSpreads: readInt(env, "MAX_FRAGMENT_SPREADS", 200, 0, 100_000),
      cost: readInt(env, "MAX_COST", 100_000, 1, 1_000_000_000),
      responseBytes: readInt(env, "MAX_RESPONSE_BYTES", 5_000_000, 1_000, 1_000_000_000),
      exportRows: readInt(env, "MAX_EXPORT_ROWS", 200_000, 1, 100_000_000),
    },
    documentCache: {
      maxEntries: readInt(env, "DOCUMENT_CACHE_MAX_ENTRIES", 500, 1, 1_000_000),
      maxBytes: readInt(env, "DOCUMENT_CACHE_MAX_BYTES", 20_000_000, 10_000, 10_000_000_000),
    },
    timeouts: {
      headersMs: readInt(env, "HEADERS_TIMEOUT_MS", 10_000, 100, 3_600_000),
      bodyMs: readInt(env, "BODY_TIMEOUT_MS", 10_000, 100, 3_600_000),
      requestMs: readInt(env, "REQUEST_TIMEOUT_MS", 30_000, 100, 3_600_000),
      shutdownMs: readInt(env, "SHUTDOWN_TIMEOUT_MS", 10_000, 0, 3_600_000),
    },
    introspection: readBool(env, "INTROSPECTION", !production),
    exposeStacktraces: readBool(env, "EXPOSE_STACKTRACES", false),
    sqlStatementsHeader: readBool(env, "SQL_STATEMENTS_HEADER", false),
    federation: readBool(env, "FEDERATION", false),
    batchRequests: readBool(env, "BATCH_REQUESTS", false),
    corsOrigins: readOrigins(env, "CORS_ORIGINS"),
    logLevel: readEnum(env, "LOG_LEVEL", LOG_LEVELS, "info"),
  };
}

/** The cards' thresholds (ratios from 0 to 10, yellow not above green) and the pinned day, if any. */
function readAssessment(env: Env): AssessmentConfig {
  const greenAt = readRatio(env, "ASSESSMENT_GREEN_AT", 1, 0, 10);
  const yellowAt = readRatio(env, "ASSESSMENT_YELLOW_AT", 0.8, 0, 10);
  if (yellowAt > greenAt) throw new ConfigError("ASSESSMENT_YELLOW_AT", `must not be above ASSESSMENT_GREEN_AT (${greenAt}) (got ${yellowAt})`);
  const today = env.ASSESSMENT_TODAY?.trim() || null;
  const day = today === null ? NaN : Date.parse(`${today}T00:00:00Z`);
  if (today !== null && !(/^\d{4}-\d{2}-\d{2}$/.test(today) && Number.isFinite(day) && new Date(day).toISOString().slice(0, 10) === today)) {
    throw new ConfigError("ASSESSMENT_TODAY", `must be a calendar date written YYYY-MM-DD, or unset for today (got "${today}")`);
  }
  return { greenAt, yellowAt, today };
}

/** EFFECTIVE_THRESHOLD: a ratio above 0 and at most 10 (0.8 makes 80 % of the designed output 达效). */
function readEffectiveThreshold(env: Env): number {
  const value = readRatio(env, "EFFECTIVE_THRESHOLD", DEFAULT_EFFECTIVE_THRESHOLD, 0, 10);
  if (!(value > 0)) throw new ConfigError("EFFECTIVE_THRESHOLD", `must be more than 0 and at most 10, e.g. 0.8 for 80 % (got "${env.EFFECTIVE_THRESHOLD}")`);
  return value;
}

/** A decimal number such as 0.8 or 1, from `min` to `max`. */
function readRatio(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  if (!/^\d+(\.\d+)?$/.test(raw.trim())) throw new ConfigError(name, `must be a decimal number between ${min} and ${max}, e.g. 0.8 (got "${raw}")`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max} (got "${raw}")`);
  return value;
}

/** "*" (or unset) for any origin, else a comma-separated list of origins such as https://dash.example.gov.cn. */
function readOrigins(env: Env, name: string): "*" | string[] {
  const raw = readString(env, name, "*");
  if (raw === "*") return "*";
  const origins = raw.split(",").map((o) => o.trim()).filter(Boolean);
  for (const origin of origins) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== origin) {
      throw new ConfigError(name, `must be "*" or a comma-separated list of origins like https://example.org (got "${origin}")`);
    }
  }
  if (origins.length === 0) throw new ConfigError(name, `names no origin (got "${raw}")`);
  return origins;
}

function readDatabase(env: Env): DatabaseConfig {
  const url = env.DATABASE_URL?.trim();
  const poolSize = readInt(env, "DB_POOL_SIZE", 10, 1, 1000);
  const replicas = env.DATABASE_REPLICA_URLS?.trim();
  if (!url) {
    if (replicas) throw new ConfigError("DATABASE_REPLICA_URLS", "needs a MySQL DATABASE_URL (the primary); the embedded SQLite default has no replicas");
    const file = readString(env, "SQLITE_PATH", "./data/local.sqlite");
    return { type: "sqlite", path: file === ":memory:" ? file : path.resolve(file) };
  }
  assertMysqlUrl(url, "DATABASE_URL", true);
  if (!replicas) return { type: "mysql", url, poolSize };
  return { type: "mysql", url, poolSize, replicaUrls: readReplicaUrls(replicas) };
}

/** DATABASE_REPLICA_URLS: mysql:// URLs with a database, comma-separated, none empty or repeated. */
function readReplicaUrls(raw: string): string[] {
  const setting = "DATABASE_REPLICA_URLS";
  const urls = raw.split(",").map((u) => u.trim());
  if (urls.some((u) => u === "")) throw new ConfigError(setting, `has an empty entry; give mysql:// URLs separated by single commas (got "${redactList(raw)}")`);
  for (const url of urls) assertMysqlUrl(url, setting, true);
  const seen = new Set<string>();
  for (const url of urls) {
    if (seen.has(url)) throw new ConfigError(setting, `names the same replica twice ("${redactUrl(url)}")`);
    seen.add(url);
  }
  return urls;
}

function redactList(raw: string): string {
  return raw.split(",").map((u) => redactUrl(u.trim())).join(",");
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

/** An optional URL of one of these protocols (unset or empty: null), e.g. REDIS_URL. */
function readOptionalUrl(env: Env, name: string, protocols: readonly string[]): string | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be a URL like ${protocols[0]}//127.0.0.1:6379 (got "${redactUrl(raw)}")`);
  }
  if (!protocols.includes(parsed.protocol)) throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(" or ")} (got "${redactUrl(raw)}")`);
  if (!parsed.hostname) throw new ConfigError(name, `has no host (got "${redactUrl(raw)}")`);
  return raw;
}
