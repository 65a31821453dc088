import fs from "node:fs";
import path from "node:path";

import { createConnection } from "mysql2/promise";
import { DataSource, type EntityManager } from "typeorm";

import type { DatabaseConfig } from "../config";
import { ENTITIES } from "./entities";
import { CountingSqlLogger } from "./sql-counter";

/**
 * Builds (does not open) the DataSource for either database. Schema is managed
 * by the migrations in `migrations/` on both (never `synchronize`). For a
 * MySQL URL the server is asked what it is, because TypeORM reads MariaDB's
 * catalogue differently and would otherwise see schema drift that is not there.
 */
export async function createDataSource(db: DatabaseConfig, options: { logSql?: boolean } = {}): Promise<DataSource> {
  const common = {
    entities: ENTITIES,
    // Every file in migrations/, compiled or not: `migration:generate` output is picked up as it is.
    migrations: [path.join(__dirname, "../../migrations/*.{js,ts}")],
    synchronize: false,
    migrationsRun: false,
    logger: new CountingSqlLogger(options.logSql ?? false),
  };
  if (db.type === "mysql") {
    return new DataSource({
      ...common,
      type: (await isMariaDb(db.url)) ? "mariadb" : "mysql",
      ...(db.replicaUrls?.length ? { replication: replication(db.url, db.replicaUrls) } : { url: db.url }),
      charset: "utf8mb4_unicode_ci",
      timezone: "Z",
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: false,
      poolSize: db.poolSize,
      // The ledger sends a write's statements in two round trips (Statements.queue in src/ledger/round-trips.ts). Every
      // statement of the product binds its values as parameters; none is built from request text.
      extra: { multipleStatements: true },
    });
  }
  if (db.path !== ":memory:") fs.mkdirSync(path.dirname(db.path), { recursive: true });
  return new DataSource({
    ...common,
    type: "better-sqlite3",
    database: db.path,
    enableWAL: db.path !== ":memory:",
  });
}

/**
 * TypeORM's replication (DATABASE_REPLICA_URLS): one mysql2 pool cluster with the primary as MASTER and each replica
 * as SLAVE<i>. Whatever does not ask for a replica stays on the primary (`defaultMode: "master"`: writes, migrations,
 * transactions, the data version, tokens, and any TypeORM find); only the reads src/db/replicas.ts routes go to a
 * replica, and only to one that has caught up with the data version the request read from the primary. A node is never
 * dropped from the cluster after connection errors (mysql2 would otherwise remove it for good after 5 with the
 * default restoreNodeTimeout of 0, the primary included); nor does the cluster retry a failed connection on its own:
 * a replica that fails is taken out of the routing by src/db/replicas.ts, and the primary's failures reach its gate
 * (src/db/availability.ts) with their own error codes.
 */
function replication(primary: string, replicas: string[]) {
  return {
    master: { url: primary },
    slaves: replicas.map((url) => ({ url })),
    defaultMode: "master" as const,
    canRetry: false,
    removeNodeErrorCount: Number.MAX_SAFE_INTEGER,
    selector: "RR" as const,
  };
}

/** True when the server at `url` is MariaDB rather than MySQL. */
async function isMariaDb(url: string): Promise<boolean> {
  const connection = await createConnection({ uri: url, connectTimeout: 5000 });
  try {
    const [rows] = await connection.query("SELECT VERSION() AS v");
    return /mariadb/i.test(String((rows as Array<{ v: string }>)[0]?.v));
  } finally {
    await connection.end();
  }
}

/** True when `db` (a DataSource, or an EntityManager of one) talks to MySQL or MariaDB rather than SQLite. */
export function isMysql(db: DataSource | EntityManager): boolean {
  const type = ("connection" in db ? db.connection : db).options.type;
  return type === "mysql" || type === "mariadb";
}
