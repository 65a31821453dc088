/**
 * A kill in the middle of a write: the compiled server (a process of its own,
 * as `npm start` runs it) is SIGKILLed while it writes, as a crash, the OOM
 * killer or a pulled plug would stop it. Nothing may be half-written: a
 * ledger import caught inside its transaction leaves every table exactly as
 * before (and the same file then goes in whole), and of many mutations in
 * flight every one that was answered is kept, every one that was not is
 * either whole or absent, and the rollups still equal the base tables.
 */
import Database from "better-sqlite3";
import { type Connection, createConnection } from "mysql2/promise";
import type { DataSource } from "typeorm";

import { createToken } from "../../src/auth/tokens";
import { loadConfig } from "../../src/config";
import { openDatabase } from "../../src/db/open-database";
import { seedDatabase } from "../../src/seed/seed";
import { verifyRollups } from "../../src/stats/rollups";
import { createScratchDatabase, DB_KINDS, mysqlServerUrl, type ScratchDatabase } from "../support/databases";
import { differences, type Snapshot, snapshot } from "../support/ledger-snapshot";
import { type ServerProcess, startServerProcess } from "../support/server-process";

/** Rows of the ledger file the kill interrupts: enough that its one transaction lasts long enough to be caught. */
const IMPORT_ROWS = 20_000;
/** Concurrent writers of the mutation test, each sending its next createProject as soon as the last is answered. */
const WRITERS = 8;
/** How many answered mutations to wait for before the kill (the test is bounded by this and by a time limit). */
const ANSWERED_BEFORE_KILL = 60;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every `everyMs` until it is true; fails after `ms`. */
async function until(what: string, ms: number, probe: () => Promise<boolean> | boolean, everyMs = 10): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await pause(everyMs);
  }
}

/**
 * InnoDB refreshes what `information_schema.innodb_trx` shows only once nobody
 * has read it for 100 ms: polled more often, it shows the same snapshot forever.
 */
const INNODB_TRX_POLL_MS = 150;
/** Attempts at catching the import inside its transaction before the test gives up (each that misses commits its file). */
const KILL_ATTEMPTS = 4;

/** A ledger file in the import's columns: `rows` new SIGNED projects spread over Henan counties, references `<prefix>-<i>`. */
function ledgerFile(prefix: string, rows: number, counties: readonly string[]): string {
  const lines = ["台账编号,项目名称,区划代码,行业代码,总投资（亿元）,投资方,阶段,日期,会议编号,会场区划代码"];
  for (let i = 0; i < rows; i++) lines.push(`${prefix}-${i},断电测试项目${prefix}-${i},${counties[i % counties.length]},MFG_EQUIP,1.5,,签约,2024-03-01,,`);
  return `${lines.join("\r\n")}\r\n`;
}

describe.each(DB_KINDS)("a SIGKILL in the middle of a write on %s", (kind) => {
  let scratch: ScratchDatabase;
  let env: Record<string, string>;
  let token: string;
  let counties: string[];
  let server: ServerProcess | undefined;
  let monitor: Connection | undefined;
  const pollMs = kind === "mysql" ? INNODB_TRX_POLL_MS : 10;

  /** The scratch database through the product's own DataSource, for the checks after a kill. */
  async function withDb<T>(use: (db: DataSource) => Promise<T>): Promise<T> {
    const db = await openDatabase({ ...loadConfig({ LOG_LEVEL: "silent" }), database: scratch.config });
    try {
      return await use(db);
    } finally {
      await db.destroy();
    }
  }

  /** True while the server holds an open write transaction that has written something. */
  async function writeInProgress(): Promise<boolean> {
    if (scratch.config.type === "sqlite") {
      // Taking the write lock fails at once while another connection holds it (no busy wait: timeout 0).
      const probe = new Database(scratch.config.path, { timeout: 0 });
      try {
        probe.exec("BEGIN IMMEDIATE");
        probe.exec("ROLLBACK");
        return false;
      } catch (error) {
        if ((error as { code?: string }).code === "SQLITE_BUSY") return true;
        throw error;
      } finally {
        probe.close();
      }
    }
    return (await openTransactions()) > 0;
  }

  /** MySQL: transactions of this database's connections that have modified rows (through one connection kept open). */
  async function openTransactions(): Promise<number> {
    if (scratch.config.type !== "mysql") return 0;
    monitor ??= await createConnection({ uri: mysqlServerUrl(), connectTimeout: 5000 });
    const [rows] = await monitor.query(
      "SELECT COUNT(*) AS open_transactions FROM information_schema.innodb_trx t JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id WHERE p.db = ? AND t.trx_rows_modified > 0",
      [new URL(scratch.config.url).pathname.slice(1)],
    );
    return Number((rows as Array<{ open_transactions: number | string }>)[0].open_transactions);
  }

  /** After a kill: MySQL rolls back the dead connections' transactions on its own, in its own time. */
  async function rolledBack(): Promise<void> {
    if (scratch.config.type === "mysql") await until("the killed server's transaction rolled back", 60_000, async () => (await openTransactions()) === 0, INNODB_TRX_POLL_MS);
  }

  const upload = (csv: string) =>
    fetch(`${new URL(server!.url).origin}/import/projects.csv`, {
      method: "POST",
      headers: { "content-type": "text/csv", authorization: `Bearer ${token}` },
      body: csv,
    });

  beforeAll(async () => {
    scratch = await createScratchDatabase(kind);
    await withDb(async (db) => {
      // SQLite seeds itself on its first open; MySQL never does.
      if (kind === "mysql") await seedDatabase(db);
      token = (await createToken(db, { regionCode: "410000", name: "河南省发展和改革委员会" })).token;
      const rows: Array<{ code: string }> = await db.query(
        "SELECT c.code FROM region c JOIN region m ON m.id = c.parent_id JOIN region p ON p.id = m.parent_id WHERE p.code = '410000' ORDER BY c.code",
      );
      counties = rows.map((row) => row.code);
    });
    env = scratch.config.type === "mysql" ? { DATABASE_URL: scratch.config.url, DB_POOL_SIZE: "4" } : { SQLITE_PATH: scratch.config.path };
  }, 120_000);

  afterEach(async () => {
    await server?.kill();
    server = undefined;
  });

  afterAll(async () => {
    await monitor?.end();
    await scratch?.drop();
  }, 30_000);

  it(`an import killed inside its transaction leaves every table as it was, and the same file then goes in whole`, async () => {
    expect(counties.length).toBeGreaterThan(100);
    let caught: { before: Snapshot; csv: string; prefix: string } | undefined;
    // A file may commit before the probe sees its transaction (on MySQL it looks every 150 ms): then another file is tried.
    for (let attempt = 1; attempt <= KILL_ATTEMPTS && !caught; attempt++) {
      const prefix = `KILL${attempt}`;
      const csv = ledgerFile(prefix, IMPORT_ROWS, counties);
      const before = await withDb(snapshot);
      server = await startServerProcess(`server (${kind})`, env);
      let answered = false;
      const answer = upload(csv).then(
        (response) => ((answered = true), `answered ${response.status}`),
        () => "cut off",
      );
      await until("the import's write transaction began, or the import answered", 60_000, async () => answered || (await writeInProgress()), pollMs);
      await server.kill();
      server = undefined;
      if ((await answer) === "cut off") caught = { before, csv, prefix };
    }
    expect(caught).toBeDefined();
    const { before, csv, prefix } = caught!;
    await rolledBack();

    await withDb(async (db) => {
      expect(differences(before, await snapshot(db))).toEqual([]);
      expect(await verifyRollups(db)).toEqual([]);
    });

    // Nothing was left behind that stands in the way: no lock, no reference taken, no version moved.
    server = await startServerProcess(`server (${kind}), restarted`, env);
    const response = await upload(csv);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ rows: IMPORT_ROWS, created: IMPORT_ROWS, unchanged: 0 });
    await withDb(async (db) => {
      expect(Number((await db.query(`SELECT COUNT(*) AS n FROM project WHERE ref LIKE '${prefix}-%'`))[0].n)).toBe(IMPORT_ROWS);
      expect(await verifyRollups(db)).toEqual([]);
    });
  }, 300_000);

  it(`mutations killed in flight: every answered one is kept, every other is whole or absent, the rollups still add up`, async () => {
    server = await startServerProcess(`server (${kind})`, env);
    const url = server.url;
    const answered = new Map<string, string>();
    let sent = 0;
    let cutOff = 0;
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const name = `KILLWRITE-${w}-${i}`;
        sent++;
        try {
          const response = await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
            body: JSON.stringify({
              query: "mutation($input: CreateProjectInput!) { createProject(input: $input) { id name } }",
              variables: { input: { name, regionCode: counties[(w * 31 + i) % counties.length], sectorCode: "LOG", investment: 2.25, reachedOn: "2024-05-01" } },
            }),
          });
          const body = (await response.json()) as { data?: { createProject: { id: string; name: string } }; errors?: unknown[] };
          if (body.errors || !body.data) throw new Error(`createProject ${name} failed while the server was up: ${JSON.stringify(body.errors)}`);
          answered.set(body.data.createProject.id, name);
        } catch (error) {
          if (!stop) throw error;
          cutOff++;
          return;
        }
      }
    };
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
    await until(`${ANSWERED_BEFORE_KILL} mutations answered`, 60_000, () => answered.size >= ANSWERED_BEFORE_KILL);
    stop = true;
    await server.kill();
    await Promise.all(writers);
    // The kill met requests in flight (each writer always has one outstanding), so it did land in the middle of writes.
    expect(cutOff).toBeGreaterThan(0);
    await rolledBack();

    await withDb(async (db) => {
      const rows: Array<{ id: number; name: string; milestones: number | string; creations: number | string }> = await db.query(
        `SELECT p.id, p.name,
                (SELECT COUNT(*) FROM milestone m WHERE m.project_id = p.id) AS milestones,
                (SELECT COUNT(*) FROM ledger_change c WHERE c.project_id = p.id AND c.operation = 'CREATE_PROJECT') AS creations
           FROM project p WHERE p.name LIKE 'KILLWRITE-%'`,
      );
      const stored = new Map(rows.map((row) => [String(row.id), row.name]));
      // Every answered mutation is kept, under the id and name its answer gave.
      const lost = [...answered].filter(([id, name]) => stored.get(id) !== name);
      expect(lost).toEqual([]);
      // Whatever is there is whole: its first milestone and its history row came with it.
      const partial = rows.filter((row) => Number(row.milestones) !== 1 || Number(row.creations) !== 1);
      expect(partial).toEqual([]);
      // Nothing beyond what was sent, and no history row without its project.
      expect(rows.length).toBeLessThanOrEqual(sent);
      const orphans = await db.query(
        "SELECT COUNT(*) AS n FROM ledger_change c WHERE c.operation = 'CREATE_PROJECT' AND NOT EXISTS (SELECT 1 FROM project p WHERE p.id = c.project_id)",
      );
      expect(Number(orphans[0].n)).toBe(0);
      expect(await verifyRollups(db)).toEqual([]);
    });
  }, 120_000);
});
