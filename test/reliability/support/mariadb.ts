import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
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

// ---------------------------------------------------------------------------
// Private MariaDB servers: a mariadbd of the test's own, on its own port and data directory (the replica test starts a
// primary and a replica). Nothing above uses these; the shared server of MYSQL_URL is never touched by them.

/** The MariaDB server binary and the data-directory installer, where Debian puts them. */
export const MARIADBD = "/usr/sbin/mariadbd";
export const MARIADB_INSTALL_DB = "/usr/bin/mariadb-install-db";

/** True when this machine can start a private MariaDB server (both binaries present). */
export function canStartMariadb(): boolean {
  return fs.existsSync(MARIADBD) && fs.existsSync(MARIADB_INSTALL_DB);
}

/** A mariadbd of the test's own, as root on 127.0.0.1 (no password). */
export interface PrivateMariadb {
  label: string;
  pid: number;
  port: number;
  serverId: number;
  dataDir: string;
  /** mysql://root@127.0.0.1:<port>, without a database. */
  url: string;
  /** The same with a database. */
  urlOf(database: string): string;
  /** One statement on a fresh connection. */
  query<T = any>(sql: string, params?: unknown[]): Promise<T>;
  /** A global status counter (e.g. Com_select). */
  status(name: string): Promise<number>;
  /** The server's error log (its last 20,000 characters), for a failing test's message. */
  errorLog(): string;
  alive(): boolean;
  /** Stops the server by its pid (SIGTERM, then SIGKILL after `timeoutMs`) and deletes its data directory. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface PrivateMariadbOptions {
  /** Names the directory and the log lines (letters and digits). */
  label: string;
  /** server_id, unique among the servers that replicate together. */
  serverId: number;
  /** Write a binary log (a primary). */
  logBin?: boolean;
  /** More server options, e.g. --read-only. */
  args?: string[];
  startTimeoutMs?: number;
}

const DIR_PREFIX = "mp-mariadb-";
const privateServers = new Set<{ pid: number; dataDir: string }>();
process.on("exit", () => {
  // A test run that ends without its afterAll (a crash, a timeout) takes its servers with it; their directories go with
  // the next run's clean-up (removeOrphanedMariadbDirs).
  for (const server of privateServers) {
    try {
      process.kill(server.pid, "SIGKILL");
    } catch {
      // gone
    }
  }
});

/**
 * Installs a fresh data directory (mariadb-install-db) under the system's temp directory and starts mariadbd on it:
 * `--no-defaults` (the machine's my.cnf describes the shared server), as root (`--user=root`), listening on 127.0.0.1
 * only on a free port, skip-name-resolve, the given server_id, a binary log when asked for, a small buffer pool and
 * relaxed flushing (a test server: durability is not the point). Waits until it answers.
 */
export async function startPrivateMariadb(options: PrivateMariadbOptions): Promise<PrivateMariadb> {
  if (!/^[a-z0-9]+$/i.test(options.label)) throw new Error(`label must be letters and digits (got "${options.label}")`);
  removeOrphanedMariadbDirs();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `${DIR_PREFIX}${process.pid}-${options.label}-`));
  const dbDir = path.join(dataDir, "data");
  const errorLogFile = path.join(dataDir, "error.log");
  // Temporary tables of its own too: two installs at once sharing /tmp have failed on each other's temporary tables.
  const tmpDir = path.join(dataDir, "tmp");
  fs.mkdirSync(tmpDir);
  try {
    await run(
      MARIADB_INSTALL_DB,
      ["--no-defaults", "--user=root", `--datadir=${dbDir}`, `--tmpdir=${tmpDir}`, "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"],
      120_000,
    );
  } catch (error) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const port = await freePort();
  const args = [
    "--no-defaults",
    "--user=root",
    `--datadir=${dbDir}`,
    `--tmpdir=${tmpDir}`,
    `--port=${port}`,
    "--bind-address=127.0.0.1",
    `--socket=${path.join(dataDir, "mariadbd.sock")}`,
    `--pid-file=${path.join(dataDir, "mariadbd.pid")}`,
    `--log-error=${errorLogFile}`,
    "--skip-name-resolve",
    `--server-id=${options.serverId}`,
    ...(options.logBin ? ["--log-bin=mariadb-bin", "--binlog-format=ROW"] : []),
    "--innodb-buffer-pool-size=64M",
    "--innodb-flush-log-at-trx-commit=2",
    "--sync-binlog=0",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_unicode_ci",
    ...(options.args ?? []),
  ];
  const child = spawn(MARIADBD, args, { stdio: "ignore" });
  if (!child.pid) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw new Error("could not spawn mariadbd");
  }
  const pid = child.pid;
  const entry = { pid, dataDir };
  privateServers.add(entry);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const url = `mysql://root@127.0.0.1:${port}`;
  const errorLog = () => {
    try {
      return fs.readFileSync(errorLogFile, "utf8").slice(-20_000);
    } catch {
      return "(no error log)";
    }
  };
  const stop = async (timeoutMs = 20_000) => {
    if (!exited) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }, timeoutMs);
      await exit;
      clearTimeout(timer);
    }
    privateServers.delete(entry);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const query = async <T = any>(sql: string, params: unknown[] = []): Promise<T> => {
    const connection = await createConnection({ uri: url, connectTimeout: 5000 });
    try {
      const [rows] = await connection.query(sql, params);
      return rows as T;
    } finally {
      await close(connection);
    }
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) {
      const log = errorLog();
      await stop();
      throw new Error(`mariadbd (${options.label}) exited during start-up:\n${log}`);
    }
    try {
      await query("SELECT 1");
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        const log = errorLog();
        await stop();
        throw new Error(`mariadbd (${options.label}) did not answer within ${options.startTimeoutMs ?? 60_000} ms: ${(error as Error).message}\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    label: options.label,
    pid,
    port,
    serverId: options.serverId,
    dataDir,
    url,
    urlOf: (database) => `${url}/${database}`,
    query,
    async status(name) {
      const rows = await query<Array<{ Value: string }>>("SHOW GLOBAL STATUS LIKE ?", [name]);
      return rows[0] ? Number(rows[0].Value) : NaN;
    },
    errorLog,
    alive: () => !exited,
    stop,
  };
}

/**
 * Makes `replica` replicate everything `primary` has written since it was installed (GTID, from the start of its
 * binary log), as root, and starts both replication threads.
 */
export async function replicate(primary: PrivateMariadb, replica: PrivateMariadb): Promise<void> {
  await replica.query(
    `CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${Number(primary.port)}, MASTER_USER = 'root', MASTER_PASSWORD = '', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1`,
  );
  await replica.query("START SLAVE");
}

/** Waits until `replica` has applied everything `primary` has written so far (MASTER_GTID_WAIT); throws after `timeoutSeconds`. */
export async function waitForReplica(primary: PrivateMariadb, replica: PrivateMariadb, timeoutSeconds = 60): Promise<void> {
  const [{ pos }] = await primary.query<Array<{ pos: string }>>("SELECT @@GLOBAL.gtid_binlog_pos AS pos");
  const [{ r }] = await replica.query<Array<{ r: number }>>("SELECT MASTER_GTID_WAIT(?, ?) AS r", [pos, timeoutSeconds]);
  if (Number(r) !== 0) {
    const status = await replica.query("SHOW SLAVE STATUS");
    throw new Error(`the replica did not reach the primary's GTID ${pos} within ${timeoutSeconds} s: ${JSON.stringify(status)}`);
  }
}

/** Deletes the data directories of private servers whose test process is gone, stopping a server still running in one. */
export function removeOrphanedMariadbDirs(): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    const m = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    const dir = path.join(os.tmpdir(), name);
    try {
      const pid = Number(fs.readFileSync(path.join(dir, "mariadbd.pid"), "utf8").trim());
      // Only a mariadbd serving this very directory.
      if (pid > 0 && fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir)) process.kill(pid, "SIGKILL");
    } catch {
      // no pid file, or that process is gone
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${path.basename(file)} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** A free TCP port on 127.0.0.1: listen on port 0, read the port, close, and hand it to the child. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
