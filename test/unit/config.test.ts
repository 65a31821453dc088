import path from "node:path";

import { ConfigError, loadConfig } from "../../src/config";

/** The ConfigError that loadConfig throws for `env`; fails the test when it throws nothing else. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig(${JSON.stringify(env)}) did not throw`);
}

describe("loadConfig", () => {
  test("defaults with an empty environment", () => {
    expect(loadConfig({})).toEqual({
      port: 4000,
      host: "0.0.0.0",
      production: false,
      database: { type: "sqlite", path: path.resolve("./data/local.sqlite") },
      logSql: false,
      useRollups: true,
      aggregateCache: true,
      dataVersionTtlMs: 1000,
      aggregateCacheMaxRows: 200_000,
      assessment: { greenAt: 1, yellowAt: 0.8, today: null },
      httpCacheMaxAge: 10,
      limits: {
        importBytes: 20_000_000,
        importRows: 200_000,
        bodyBytes: 1_000_000,
        documentBytes: 100_000,
        tokens: 5_000,
        depth: 15,
        aliases: 30,
        rootFields: 20,
        directives: 50,
        fragmentSpreads: 200,
        cost: 100_000,
        responseBytes: 5_000_000,
        exportRows: 200_000,
      },
      documentCache: { maxEntries: 500, maxBytes: 20_000_000 },
      timeouts: { headersMs: 10_000, bodyMs: 10_000, requestMs: 30_000, shutdownMs: 10_000 },
      introspection: true,
      ledgerFutureDays: 31,
      effectiveThreshold: 1,
      responseCacheMaxBytes: 32 * 1024 * 1024,
      readRequiresToken: false,
      exposeStacktraces: false,
      sqlStatementsHeader: false,
      federation: false,
      batchRequests: false,
      corsOrigins: "*",
      logLevel: "info",
      live: {
        redisUrl: null,
        minIntervalMs: 200,
        maxSubscriptionsPerConnection: 20,
        maxConnectionsPerIp: 20_000,
        maxConnections: 19_000,
        initTimeoutMs: 3_000,
        idleTimeoutMs: 60_000,
        pingIntervalMs: 12_000,
        maxBufferedBytes: 1_000_000,
      },
    });
  });

  test("EFFECTIVE_THRESHOLD: a ratio above 0 and at most 10", () => {
    expect(loadConfig({ EFFECTIVE_THRESHOLD: "0.8" }).effectiveThreshold).toBe(0.8);
    expect(loadConfig({ EFFECTIVE_THRESHOLD: "10" }).effectiveThreshold).toBe(10);
    for (const bad of ["0", "0.0", "10.5", "-1", "80%", "x"]) expect(configError({ EFFECTIVE_THRESHOLD: bad }).setting).toBe("EFFECTIVE_THRESHOLD");
  });

  test("REDIS_URL must be a redis:// or rediss:// URL with a host", () => {
    expect(loadConfig({ REDIS_URL: "redis://127.0.0.1:6379" }).live.redisUrl).toBe("redis://127.0.0.1:6379");
    expect(() => loadConfig({ REDIS_URL: "http://127.0.0.1:6379" })).toThrow(/REDIS_URL must start with redis:\/\/ or rediss:\/\//);
    expect(() => loadConfig({ REDIS_URL: "not a url" })).toThrow(/REDIS_URL must be a URL/);
    expect(() => loadConfig({ LIVE_MIN_INTERVAL_MS: "-1" })).toThrow(/LIVE_MIN_INTERVAL_MS/);
  });

  test("production turns introspection off unless INTROSPECTION says otherwise", () => {
    expect(loadConfig({ NODE_ENV: "production" }).introspection).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", INTROSPECTION: "true" }).introspection).toBe(true);
    expect(loadConfig({ INTROSPECTION: "false" }).introspection).toBe(false);
  });

  test("limits, timeouts and the rest of the operating settings are read", () => {
    const config = loadConfig({
      MAX_DEPTH: "9",
      MAX_COST: "1234",
      MAX_RESPONSE_BYTES: "20000",
      REQUEST_TIMEOUT_MS: "500",
      SHUTDOWN_TIMEOUT_MS: "0",
      CORS_ORIGINS: "https://a.example.org, http://localhost:3000",
      LOG_LEVEL: "warn",
      BATCH_REQUESTS: "true",
      SQL_STATEMENTS_HEADER: "on",
      EXPOSE_STACKTRACES: "yes",
      FEDERATION: "true",
    });
    expect(config.limits).toMatchObject({ depth: 9, cost: 1234, responseBytes: 20_000 });
    expect(config.timeouts).toMatchObject({ requestMs: 500, shutdownMs: 0 });
    expect(config.corsOrigins).toEqual(["https://a.example.org", "http://localhost:3000"]);
    expect([config.logLevel, config.batchRequests, config.sqlStatementsHeader, config.exposeStacktraces, config.federation]).toEqual(["warn", true, true, true, true]);
  });

  test("DATABASE_URL selects MySQL with a pool of 10", () => {
    const url = "mysql://u:p@h:3306/db";
    expect(loadConfig({ DATABASE_URL: url }).database).toEqual({ type: "mysql", url, poolSize: 10 });
  });

  test("SQLITE_PATH is honoured", () => {
    expect(loadConfig({ SQLITE_PATH: "/tmp/other.sqlite" }).database).toEqual({
      type: "sqlite",
      path: "/tmp/other.sqlite",
    });
    expect(loadConfig({ SQLITE_PATH: "rel/x.sqlite" }).database).toEqual({
      type: "sqlite",
      path: path.resolve("rel/x.sqlite"),
    });
    expect(loadConfig({ SQLITE_PATH: ":memory:" }).database).toEqual({ type: "sqlite", path: ":memory:" });
  });

  test("valid settings are read", () => {
    const config = loadConfig({
      PORT: "8080",
      HOST: "127.0.0.1",
      NODE_ENV: "production",
      LOG_SQL: "true",
      DATABASE_URL: "mysql://u:p@h:3306/db",
      DB_POOL_SIZE: "3",
      USE_ROLLUPS: "false",
      AGGREGATE_CACHE: "off",
      DATA_VERSION_TTL_MS: "0",
      AGGREGATE_CACHE_MAX_ROWS: "1000",
      HTTP_CACHE_MAX_AGE: "0",
    });
    expect(config).toMatchObject({
      port: 8080,
      host: "127.0.0.1",
      production: true,
      database: { type: "mysql", url: "mysql://u:p@h:3306/db", poolSize: 3 },
      logSql: true,
      useRollups: false,
      aggregateCache: false,
      dataVersionTtlMs: 0,
      aggregateCacheMaxRows: 1000,
      httpCacheMaxAge: 0,
    });
  });

  test.each<[string, Record<string, string>]>([
    ["PORT", { PORT: "abc" }],
    ["PORT", { PORT: "70000" }],
    ["DATABASE_URL", { DATABASE_URL: "postgres://x/y" }],
    ["DATABASE_URL", { DATABASE_URL: "mysql://root@127.0.0.1:3306" }],
    ["NODE_ENV", { NODE_ENV: "staging" }],
    ["LOG_SQL", { LOG_SQL: "maybe" }],
    ["DB_POOL_SIZE", { DATABASE_URL: "mysql://u:p@h:3306/db", DB_POOL_SIZE: "0" }],
    ["DB_POOL_SIZE", { DB_POOL_SIZE: "many" }],
    ["USE_ROLLUPS", { USE_ROLLUPS: "sometimes" }],
    ["AGGREGATE_CACHE", { AGGREGATE_CACHE: "2" }],
    ["DATA_VERSION_TTL_MS", { DATA_VERSION_TTL_MS: "-5" }],
    ["HTTP_CACHE_MAX_AGE", { HTTP_CACHE_MAX_AGE: "a minute" }],
    ["MAX_DEPTH", { MAX_DEPTH: "1" }],
    ["MAX_COST", { MAX_COST: "lots" }],
    ["CORS_ORIGINS", { CORS_ORIGINS: "example.org" }],
    ["CORS_ORIGINS", { CORS_ORIGINS: "https://example.org/path" }],
    ["LOG_LEVEL", { LOG_LEVEL: "loud" }],
    ["INTROSPECTION", { INTROSPECTION: "sometimes" }],
  ])("a bad %s is a ConfigError naming it: %j", (setting, env) => {
    const error = configError(env);
    expect(error.setting).toBe(setting);
    expect(error.message).toContain(setting);
  });

  test.each<[string]>([
    ["mysql://u:secret@h:3306"],
    ["mysql://u:secret@h:3306/"],
    ["postgres://u:secret@h:5432/db"],
    ["mysql://u:secret@"],
    // A password with an unescaped "@" (the URL parser takes the last "@" as the separator).
    ["postgres://u:top@secret@h:5432/db"],
    ["mysql://u:top@secret@h:99999/db"],
    // The "//" forgotten after the scheme.
    ["mysql:u:secret@h/db"],
  ])("the password never appears in the error for %s", (url) => {
    const error = configError({ DATABASE_URL: url });
    expect(error.setting).toBe("DATABASE_URL");
    expect(error.message).not.toContain("secret");
  });
});

describe("DATABASE_REPLICA_URLS", () => {
  const primary = "mysql://u:p@primary:3306/db";

  test("unset or blank: no replicas, the MySQL setting as before", () => {
    expect(loadConfig({ DATABASE_URL: primary }).database).toEqual({ type: "mysql", url: primary, poolSize: 10 });
    expect(loadConfig({ DATABASE_URL: primary, DATABASE_REPLICA_URLS: "  " }).database).toEqual({ type: "mysql", url: primary, poolSize: 10 });
  });

  test("comma-separated mysql:// URLs, trimmed, in order", () => {
    const database = loadConfig({ DATABASE_URL: primary, DATABASE_REPLICA_URLS: " mysql://r:s@replica1:3306/db , mysql://r:s@replica2:3307/db" }).database;
    expect(database).toEqual({ type: "mysql", url: primary, poolSize: 10, replicaUrls: ["mysql://r:s@replica1:3306/db", "mysql://r:s@replica2:3307/db"] });
  });

  test.each<[string, Record<string, string>, RegExp]>([
    ["without a MySQL DATABASE_URL", { DATABASE_REPLICA_URLS: "mysql://r:secret@replica:3306/db" }, /needs a MySQL DATABASE_URL/],
    ["with an empty entry", { DATABASE_URL: primary, DATABASE_REPLICA_URLS: "mysql://r:secret@replica:3306/db,,mysql://r:secret@other:3306/db" }, /empty entry/],
    ["with a trailing comma", { DATABASE_URL: primary, DATABASE_REPLICA_URLS: "mysql://r:secret@replica:3306/db," }, /empty entry/],
    ["not mysql://", { DATABASE_URL: primary, DATABASE_REPLICA_URLS: "postgres://r:secret@replica:5432/db" }, /must start with mysql:\/\//],
    ["without a database", { DATABASE_URL: primary, DATABASE_REPLICA_URLS: "mysql://r:secret@replica:3306" }, /names no database/],
    ["without the // after the scheme", { DATABASE_URL: primary, DATABASE_REPLICA_URLS: "mysql:r:secret@replica/db" }, /has no host/],
    ["twice the same", { DATABASE_URL: primary, DATABASE_REPLICA_URLS: "mysql://r:secret@replica:3306/db,mysql://r:secret@replica:3306/db" }, /twice/],
  ])("is a ConfigError naming it %s, without the password", (_case, env, reason) => {
    const error = configError(env);
    expect(error.setting).toBe("DATABASE_REPLICA_URLS");
    expect(error.message).toMatch(/^DATABASE_REPLICA_URLS /);
    expect(error.message).toMatch(reason);
    expect(error.message).not.toContain("secret");
  });
});
