import { execFile } from "node:child_process";
import path from "node:path";

import { type Connection, createConnection } from "mysql2/promise";

/** The repository root (dist/ and package.json live there). */
export const ROOT = path.resolve(__dirname, "../../..");

/** MYSQL_URL without a database: the MariaDB server the suite makes its own database (and users) on. */
export function mysqlServerUrl(): string {
  const url = new URL(process.env.MYSQL_URL || "mysql://root@127.0.0.1:3306");
  url.pathname = "";
  return url.toString().replace(/\/$/, "");
}

/** The scratch database's URL (DATABASE_URL for the server), set by the global setup. */
export function scratchDatabaseUrl(): string {
  const url = process.env.REL_DATABASE_URL;
  if (!url) throw new Error("REL_DATABASE_URL is not set: run the suite through test/reliability/jest.config.js (its global setup seeds the database)");
  return url;
}

/** The scratch database's name. */
export function scratchDatabaseName(): string {
  return new URL(scratchDatabaseUrl()).pathname.replace(/^\//, "");
}

/** One administrative connection to the MariaDB server (as MYSQL_URL's user); the caller closes it with `close`. */
export async function adminConnection(): Promise<Connection> {
  return createConnection({ uri: mysqlServerUrl(), connectTimeout: 5000, multipleStatements: false });
}

/** Ends a connection politely (COM_QUIT) and lets its socket go at once, so that nothing keeps Jest waiting. */
export async function close(connection: Connection): Promise<void> {
  try {
    await connection.end();
  } finally {
    connection.destroy();
  }
}

/** Runs statements on a fresh administrative connection. */
export async function admin<T = any>(sql: string, params: unknown[] = []): Promise<T> {
  const connection = await adminConnection();
  try {
    const [rows] = await connection.query(sql, params);
    return rows as T;
  } finally {
    await close(connection);
  }
}

/** A global status counter of the server (e.g. Aborted_connects, Access_denied_errors, Aborted_clients). */
export async function globalStatus(connection: Connection, name: string): Promise<number> {
  const [rows] = await connection.query("SHOW GLOBAL STATUS LIKE ?", [name]);
  const row = (rows as Array<{ Value: string }>)[0];
  return row ? Number(row.Value) : NaN;
}

/** Creates `mp_rel_<pid>_<rand>`, and returns its URL (MYSQL_URL's user) and name. */
export async function createScratchDatabase(): Promise<{ name: string; url: string }> {
  const name = `mp_rel_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await admin(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const url = new URL(mysqlServerUrl());
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

export async function dropDatabase(name: string): Promise<void> {
  if (!/^mp_rel_\d+_[a-z0-9]+$/.test(name)) throw new Error(`refusing to drop ${name}: not a reliability scratch database`);
  await admin(`DROP DATABASE IF EXISTS \`${name}\``);
}

/** Scratch databases of earlier runs whose process is gone (a run killed before its teardown); dropped by the global setup. */
export async function dropOrphanedDatabases(): Promise<string[]> {
  const rows = await admin<Array<{ name: string }>>("SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'mp\\_rel\\_%'");
  const dropped: string[] = [];
  for (const { name } of rows) {
    const m = /^mp_rel_(\d+)_[a-z0-9]+$/.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    await dropDatabase(name);
    dropped.push(name);
  }
  return dropped;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Applies the migrations and loads the shipped data, as an operator would: `node dist/src/seed/seed.cli.js` with DATABASE_URL. */
export async function seed(databaseUrl: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(ROOT, "dist/src/seed/seed.cli.js")],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl, NODE_ENV: "production", LOG_LEVEL: "warn" }, timeout: 180_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`seeding failed: ${error.message}\n${stdout}\n${stderr}`));
        else resolve(stdout.trim());
      },
    );
  });
}

/** A database user of the suite's own, with every privilege on the scratch database, from 127.0.0.1 and localhost. */
export interface DatabaseUser {
  user: string;
  password: string;
  /** DATABASE_URL for the server, as this user, on the scratch database. */
  url: string;
  lock(): Promise<void>;
  unlock(): Promise<void>;
  /** KILLs every connection this user has open; returns how many. */
  killConnections(): Promise<number>;
  connections(): Promise<number>;
  drop(): Promise<void>;
}

const USER_HOSTS = ["127.0.0.1", "localhost"];

export async function createDatabaseUser(database: string): Promise<DatabaseUser> {
  const user = `mp_rel_${process.pid % 100000}_${Math.random().toString(36).slice(2, 6)}`;
  const password = `Rel-${Math.random().toString(36).slice(2, 12)}-pw`;
  for (const host of USER_HOSTS) {
    await admin(`CREATE USER ?@? IDENTIFIED BY ?`, [user, host, password]);
    await admin(`GRANT ALL PRIVILEGES ON \`${database}\`.* TO ?@?`, [user, host]);
  }
  const url = new URL(mysqlServerUrl());
  url.username = user;
  url.password = password;
  url.pathname = `/${database}`;
  const ids = async (): Promise<number[]> =>
    (await admin<Array<{ id: number }>>("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ?", [user])).map((r) => Number(r.id));
  return {
    user,
    password,
    url: url.toString(),
    async lock() {
      for (const host of USER_HOSTS) await admin(`ALTER USER ?@? ACCOUNT LOCK`, [user, host]);
    },
    async unlock() {
      for (const host of USER_HOSTS) await admin(`ALTER USER ?@? ACCOUNT UNLOCK`, [user, host]);
    },
    async killConnections() {
      const connection = await adminConnection();
      let killed = 0;
      try {
        const [rows] = await connection.query("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ?", [user]);
        for (const { id } of rows as Array<{ id: number }>) {
          try {
            await connection.query(`KILL CONNECTION ${Number(id)}`);
            killed += 1;
          } catch {
            // already gone
          }
        }
      } finally {
        await close(connection);
      }
      return killed;
    },
    async connections() {
      return (await ids()).length;
    },
    async drop() {
      for (const host of USER_HOSTS) await admin(`DROP USER IF EXISTS ?@?`, [user, host]);
    },
  };
}
