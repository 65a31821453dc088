/**
 * The ledger import (npm run import, POST /import/projects.csv) on a seeded
 * database of each kind: a good file creates its projects; the same file
 * again changes nothing; a later stage advances; a stage going back, and
 * every other bad row, is reported with its line and column, all together,
 * and nothing is written; Excel's BOM and CRLF are read; a dry run writes
 * nothing; a county token cannot import a neighbour's row. The rollups equal
 * the base tables after each write. The route is served by a bare Express app
 * over real HTTP, and the command line is run as an operator would.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";

import express from "express";
import type { DataSource } from "typeorm";

import { authenticate, createToken } from "../../src/auth/tokens";
import { AppError, ErrorCode } from "../../src/common/errors";
import { type ImportReport, importLedger } from "../../src/import/import-ledger";
import { importRoutes } from "../../src/import/import.routes";
import { type Actor, actorOf } from "../../src/ledger/actor";
import { Ledger, MAX_ROUND_TRIP_BYTES } from "../../src/ledger/ledger";
import { loadTrees } from "../../src/common/trees";
import { DEFAULT_LEDGER_FUTURE_DAYS } from "../../src/config";
import { systemLedger } from "../../src/ledger/system-ledger";
import { seedDatabase } from "../../src/seed/seed";
import { verifyRollups } from "../../src/stats/rollups";
import { DB_KINDS, type ScratchDatabase, openScratchDataSource } from "../support/databases";

const ROOT = path.join(__dirname, "../..");
const SAMPLE = path.join(ROOT, "schema/examples/ledger-sample.csv");
const DUPLICATE_OF_LINE_2 = "the same reference as line 2: one row per project (references are compared as the ledger compares them: letter case, width and accents aside)";
const HEADER = "ref,name,regionCode,sectorCode,investment,investor,stage,date,meetingId,venueRegionCode";

/** A CSV file of the English header and these lines (LF line ends). */
function csv(...lines: string[]): string {
  return [HEADER, ...lines].join("\n") + "\n";
}

/** Rows of every table an import writes, and the sum of the data versions. */
async function footprint(db: DataSource): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ["project", "milestone", "ledger_change", "rollup_region", "rollup_meeting", "rollup_batch", "data_version"]) {
    counts[table] = Number((await db.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
  }
  counts.versions = Number((await db.query("SELECT COALESCE(SUM(version), 0) AS v FROM data_version"))[0].v);
  return counts;
}

/** The stored project of a reference, as the checks compare it. */
async function projectOf(db: DataSource, ref: string) {
  const [row] = await db.query(
    "SELECT p.id, p.name, p.stage, p.investment_wan, p.investor, p.version, r.code AS region_code FROM project p JOIN region r ON r.id = p.region_id WHERE p.ref = ?",
    [ref],
  );
  if (!row) return undefined;
  const milestones = await db.query("SELECT stage, reached_on FROM milestone WHERE project_id = ? ORDER BY stage", [row.id]);
  return {
    name: row.name,
    stage: Number(row.stage),
    wan: Number(row.investment_wan),
    investor: row.investor,
    version: Number(row.version),
    regionCode: row.region_code,
    milestones: milestones.map((m: { stage: number; reached_on: string }) => [Number(m.stage), String(m.reached_on).slice(0, 10)]),
  };
}

/** The error `promise` rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    return error as AppError;
  }
  throw new Error("expected a rejection");
}

/** References no other test uses. */
let serial = 0;
function refs(n: number): string[] {
  serial += 1;
  return Array.from({ length: n }, (_, i) => `T${serial}-${i + 1}`);
}

describe.each(DB_KINDS)("ledger import on %s", (kind) => {
  let scratch: ScratchDatabase;
  let db: DataSource;
  let ledger: Ledger;
  let city: Actor;
  let county: Actor;
  let cityToken: string;
  let countyToken: string;

  beforeAll(async () => {
    ({ scratch, db } = await openScratchDataSource(kind));
    await db.runMigrations({ transaction: "each" });
    await seedDatabase(db);
    ledger = systemLedger(db);
    cityToken = (await createToken(db, { regionCode: "410100", name: "郑州市发改委" })).token;
    countyToken = (await createToken(db, { regionCode: "410122", name: "中牟县发改委" })).token;
    city = actorOf((await authenticate(db, `Bearer ${cityToken}`))!);
    county = actorOf((await authenticate(db, `Bearer ${countyToken}`))!);
  });

  afterAll(async () => {
    await db?.destroy();
    await scratch?.drop();
  });

  it("the sample file creates its projects with their milestones, history and rollups", async () => {
    const report = await importLedger(ledger, city, fs.readFileSync(SAMPLE));
    expect(report).toMatchObject({ rows: 8, created: 8, advanced: 0, updated: 0, unchanged: 0, problems: [], dryRun: false });
    expect(report.provinces).toHaveLength(1);
    expect(await projectOf(db, "410185-2024-006")).toEqual({
      name: "登封市嵩山文旅融合示范区项目（一期）",
      stage: 1,
      wan: 87_500,
      investor: null,
      version: 1,
      regionCode: "410185",
      milestones: [[1, "2024-05-20"]],
    });
    const history = await db.query("SELECT COUNT(*) AS n FROM ledger_change WHERE office = ? AND operation = 'CREATE_PROJECT'", ["郑州市发改委"]);
    expect(Number(history[0].n)).toBe(8);
    expect(await verifyRollups(db)).toEqual([]);
  });

  it("re-importing the same file changes nothing and says so", async () => {
    const [a, b] = refs(2);
    const file = csv(`${a},中牟县仓储中心项目,410122,LOG,3.5,,SIGNED,2024-01-10,,`, `${b},中牟县数据中心项目,410122,NIB,4,某投资公司,STARTED,2024-02-10,,`);
    expect((await importLedger(ledger, city, file)).created).toBe(2);
    const before = await footprint(db);
    const again = await importLedger(ledger, city, file);
    expect(again).toEqual({ rows: 2, encoding: "UTF-8", created: 0, advanced: 0, updated: 0, unchanged: 2, problems: [], problemsNotListed: 0, dryRun: false, provinces: [] });
    expect(await footprint(db)).toEqual(before);
  });

  it("a later file with the same reference at a later stage advances the project", async () => {
    const [ref] = refs(1);
    await importLedger(ledger, city, csv(`${ref},中牟县装备园项目,410122,MFG_EQUIP,12,,SIGNED,2023-03-01,,`));
    const report = await importLedger(ledger, city, csv(`${ref},中牟县装备园项目,410122,MFG_EQUIP,12,,STARTED,2023-09-15,,`));
    expect(report).toMatchObject({ rows: 1, created: 0, advanced: 1, updated: 0, unchanged: 0, problems: [] });
    expect(await projectOf(db, ref)).toMatchObject({ stage: 2, version: 2, milestones: [[1, "2023-03-01"], [2, "2023-09-15"]] });
    expect(await verifyRollups(db)).toEqual([]);
  });

  it("the same stage with other own fields updates the project", async () => {
    const [ref] = refs(1);
    await importLedger(ledger, city, csv(`${ref},中牟县食品园项目,410122,MFG_FOOD,5,甲公司,STARTED,2023-03-01,,`));
    const report = await importLedger(ledger, city, csv(`${ref},中牟县现代食品产业园项目,410122,MFG_FOOD,6.25,,STARTED,2023-03-01,,`));
    expect(report).toMatchObject({ created: 0, advanced: 0, updated: 1, unchanged: 0, problems: [] });
    expect(await projectOf(db, ref)).toMatchObject({ name: "中牟县现代食品产业园项目", wan: 62_500, investor: null, stage: 2, version: 2 });
    expect(await verifyRollups(db)).toEqual([]);
  });

  it("a row that would move a project back is an error with its line and column, and nothing is written", async () => {
    const [first, ref] = refs(2);
    await importLedger(ledger, city, csv(`${ref},中牟县物流园项目,410122,LOG,8,,STARTED,2023-05-01,,`));
    const before = await footprint(db);
    const report = await importLedger(ledger, city, csv(`${first},中牟县新项目,410122,LOG,1,,SIGNED,2024-01-01,,`, `${ref},中牟县物流园项目,410122,LOG,8,,SIGNED,2023-05-01,,`));
    expect(report).toMatchObject({ rows: 2, created: 0, advanced: 0, updated: 0, unchanged: 0 });
    expect(report.problems).toEqual([{ line: 3, column: "stage", reason: expect.stringMatching(/already at STARTED since 2023-05-01: a stage only moves forward, not back to SIGNED/) }]);
    expect(await footprint(db)).toEqual(before);
  });

  it("every bad row is reported together, with its line and column, and nothing is written", async () => {
    const [good, r3, r4, r5, r6, r8, r9, r10, r11] = refs(9);
    const before = await footprint(db);
    const report = await importLedger(
      ledger,
      city,
      csv(
        `${good},中牟县好项目,410122,LOG,2,,SIGNED,2024-01-01,,`, // 2: good
        `${r3},区划不存在项目,999999,LOG,2,,SIGNED,2024-01-01,,`, // 3: the ledger: no region
        `${r4},金额有误项目,410122,LOG,两亿,,SIGNED,2024-01-01,,`, // 4: not an amount
        `${r5},阶段有误项目,410122,LOG,2,,完工,2024-01-01,,`, // 5: not a stage
        `${r6},日期不存在项目,410122,LOG,2,,SIGNED,2023-02-30,,`, // 6: the ledger: no such day
        `${good},重复编号项目,410122,LOG,2,,SIGNED,2024-01-01,,`, // 7: the reference of line 2
        `${r8},行业不存在项目,410122,NOPE,2,,SIGNED,2024-01-01,,`, // 8: the ledger: no sector
        `${r9},,410122,LOG,0,,SIGNED,2024-01-01,,`, // 9: empty name, amount not positive
        `${r10},会议不存在项目,410122,LOG,2,,SIGNED,2024-01-01,999999,`, // 10: the ledger: no meeting
        `${r11},区划为市项目,410100,LOG,2,,SIGNED,2024-01-01,,`, // 11: the ledger: a city with counties
      ),
    );
    expect(report.problems.map((p) => [p.line, p.column])).toEqual([
      [3, "regionCode"],
      [4, "investment"],
      [5, "stage"],
      [6, "date"],
      [7, "ref"],
      [8, "sectorCode"],
      [9, "name"],
      [9, "investment"],
      [10, "meetingId"],
      [11, "regionCode"],
    ]);
    expect(report.problems[0].reason).toBe('no region "999999"');
    expect(report.problems[4].reason).toBe(DUPLICATE_OF_LINE_2);
    expect(report).toMatchObject({ rows: 10, created: 0, advanced: 0, updated: 0, unchanged: 0, provinces: [] });
    expect(await footprint(db)).toEqual(before);
  });

  it("a file with a BOM, CRLF line ends, Chinese headers and stages, and quoted cells is read as Excel writes it", async () => {
    const [a, b] = refs(2);
    const file =
      "\uFEFF台账编号,项目名称,区划代码,行业代码,总投资(亿元),投资方,阶段,日期\r\n" +
      `${a},"中牟县""智慧农业""示范园项目，一期",410122,AGRI,"1,234.5",中牟县农投公司,投产,2023/6/8\r\n` +
      `${b},中牟县文旅项目,410122,CULT,0.5,,开工,2024年1月9日\r\n`;
    const report = await importLedger(ledger, city, Buffer.from(file, "utf8"));
    expect(report).toMatchObject({ rows: 2, created: 2, problems: [] });
    expect(await projectOf(db, a)).toMatchObject({ name: "中牟县\"智慧农业\"示范园项目，一期", wan: 12_345_000, stage: 3, milestones: [[3, "2023-06-08"]] });
    expect(await projectOf(db, b)).toMatchObject({ stage: 2, milestones: [[2, "2024-01-09"]] });
  });

  it("problems of a file with a BOM and CRLF name the lines a spreadsheet shows, and the columns as its header names them", async () => {
    const [a, b, c] = refs(3);
    const file =
      "\uFEFF台账编号,项目名称,区划代码,行业代码,总投资（亿元）,阶段,日期\r\n" +
      `${a},"甲项目\r\n（二期）",410122,LOG,1,签约,2024-01-01\r\n` + // lines 2-3: a line break in a cell
      "\r\n" + // line 4: blank
      `${b},乙项目,410122,LOG,1,完工,2024-01-01\r\n` + // line 5
      `${c},丙项目,410122,LOG,1,签约,2024-01-01\r\n`; // line 6: good
    const report = await importLedger(ledger, city, file);
    expect(report.problems).toEqual([
      { line: 2, column: "项目名称", reason: expect.stringContaining("control characters") },
      { line: 5, column: "阶段", reason: expect.stringContaining("签约, 开工, 投产") },
    ]);
  });

  it("a header without a required column, or with a column it does not know, is refused before any row", async () => {
    const report = await importLedger(ledger, city, "ref,name,regionCode,sectorCode,investment,stage,备注\nX1,甲,410122,LOG,1,SIGNED,无\n");
    expect(report.problems).toEqual([
      { line: 1, column: "备注", reason: expect.stringContaining("not a column of a ledger file") },
      { line: 1, column: "date", reason: expect.stringContaining("the header has no date or 日期 column") },
    ]);
  });

  it("two references differing only in letter case or width are the same reference: twice in one file is an error", async () => {
    const [ref] = refs(1);
    const report = await importLedger(ledger, city, csv(`${ref}-ab,甲项目,410122,LOG,1,,SIGNED,2024-01-01,,`, `${ref}-ＡＢ,乙项目,410122,LOG,1,,SIGNED,2024-01-01,,`));
    expect(report.problems).toEqual([{ line: 3, column: "ref", reason: DUPLICATE_OF_LINE_2 }]);
  });

  it('a reference stored as "X-AB" and written "x-ab" or "ｘ－ａｂ" names the stored project, on every database, and the row says how it is stored', async () => {
    const [ref] = refs(1);
    await importLedger(ledger, city, csv(`${ref}-AB,甲项目,410122,LOG,1,,SIGNED,2024-01-01,,`));
    for (const written of [`${ref.toLowerCase()}-ab`, `${ref.toLowerCase()}－ａｂ`]) {
      const report = await importLedger(ledger, city, csv(`${written},甲项目,410122,LOG,1,,SIGNED,2024-01-01,,`));
      expect(report.problems).toEqual([{ line: 2, column: "ref", reason: expect.stringContaining(`the database holds this reference as "${ref}-AB"`) }]);
    }
  });

  it("a dry run checks every rule and writes nothing, and says what the import would do", async () => {
    const [a, b] = refs(2);
    await importLedger(ledger, city, csv(`${a},中牟县甲项目,410122,LOG,1,,SIGNED,2024-01-01,,`));
    const before = await footprint(db);
    const file = csv(`${a},中牟县甲项目,410122,LOG,1,,STARTED,2024-03-01,,`, `${b},中牟县乙项目,410122,LOG,1,,SIGNED,2024-01-01,,`);
    expect(await importLedger(ledger, city, file, { dryRun: true })).toEqual({ rows: 2, encoding: "UTF-8", created: 1, advanced: 1, updated: 0, unchanged: 0, problems: [], problemsNotListed: 0, dryRun: true, provinces: [] });
    expect(await footprint(db)).toEqual(before);
    expect(await projectOf(db, b)).toBeUndefined();
  });

  it("a county token cannot import a row of a neighbour county: FORBIDDEN for the whole file, nothing written", async () => {
    const [own, neighbour] = refs(2);
    const before = await footprint(db);
    const error = await rejection(
      importLedger(ledger, county, csv(`${own},中牟县本县项目,410122,LOG,1,,SIGNED,2024-01-01,,`, `${neighbour},新郑市邻县项目,410184,LOG,1,,SIGNED,2024-01-01,,`)),
    );
    expect(error).toBeInstanceOf(AppError);
    expect(error.extensions).toMatchObject({ code: ErrorCode.FORBIDDEN, line: 3, column: "regionCode" });
    expect(error.message).toMatch(/中牟县发改委 may write in 中牟县 \(410122\) only, not a project in 新郑市 \(410184\)/);
    expect(await footprint(db)).toEqual(before);
  });

  it("a county token cannot advance a neighbour's project either", async () => {
    const [ref] = refs(1);
    await importLedger(ledger, city, csv(`${ref},新郑市项目,410184,LOG,1,,SIGNED,2024-01-01,,`));
    const before = await footprint(db);
    const error = await rejection(importLedger(ledger, county, csv(`${ref},新郑市项目,410184,LOG,1,,STARTED,2024-02-01,,`)));
    expect(error.extensions).toMatchObject({ code: ErrorCode.FORBIDDEN, line: 2 });
    expect(await footprint(db)).toEqual(before);
  });

  it("a county token cannot re-import a file holding a neighbour's project even unchanged: FORBIDDEN, a file holds only its own rows", async () => {
    const [own, neighbour] = refs(2);
    const file = csv(`${own},中牟县项目,410122,LOG,1,,SIGNED,2024-01-01,,`, `${neighbour},新郑市项目,410184,LOG,1,,SIGNED,2024-01-01,,`);
    await importLedger(ledger, city, file);
    const error = await rejection(importLedger(ledger, county, file));
    expect(error.extensions).toMatchObject({ code: ErrorCode.FORBIDDEN, line: 3, column: "regionCode" });
    expect(error.message).toMatch(/may write in 中牟县 \(410122\) only, not a project in 新郑市 \(410184\)/);
  });

  it("a file without the meeting columns leaves the meeting of a stored milestone as it is", async () => {
    const [ref] = refs(1);
    const meetingId = Number((await db.query("SELECT id FROM meeting ORDER BY id LIMIT 1"))[0].id);
    await importLedger(ledger, city, csv(`${ref},中牟县会上签约项目,410122,LOG,6,,SIGNED,2021-07-10,${meetingId},410100`));
    const report = await importLedger(ledger, city, `ref,name,regionCode,sectorCode,investment,stage,date\n${ref},中牟县会上签约项目,410122,LOG,6,SIGNED,2021-07-10\n`);
    expect(report).toMatchObject({ unchanged: 1, problems: [] });
  });

  describe("POST /import/projects.csv", () => {
    let url: string;
    let close: () => Promise<void>;
    const written: number[][] = [];

    beforeAll(async () => {
      const app = express();
      app.use(importRoutes({ db, ledgerFor: () => ledger, maxBytes: 2_000, maxRows: 1_000, onWrite: (provinces) => written.push(provinces) }));
      const server = app.listen(0);
      await new Promise((resolve) => server.once("listening", resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/import/projects.csv`;
      close = () => new Promise((resolve) => server.close(() => resolve()));
    });
    afterAll(async () => close?.());

    async function post(body: string, token: string | null, query = "") {
      const headers: Record<string, string> = { "content-type": "text/csv" };
      if (token !== null) headers.authorization = `Bearer ${token}`;
      const response = await fetch(url + query, { method: "POST", headers, body });
      return { status: response.status, body: (await response.json()) as any };
    }

    it("answers the report, 200, and tells the caches which provinces moved", async () => {
      const [ref] = refs(1);
      written.length = 0;
      const reply = await post(csv(`${ref},中牟县接口项目,410122,LOG,1,,SIGNED,2024-01-01,,`), countyToken);
      expect(reply).toEqual({ status: 200, body: { rows: 1, encoding: "UTF-8", created: 1, advanced: 0, updated: 0, unchanged: 0, problems: [], problemsNotListed: 0, dryRun: false } });
      expect(written).toHaveLength(1);
    });

    it("answers 400 with every bad row, and a dry run 200 without writing", async () => {
      const [a, b] = refs(2);
      const bad = await post(csv(`${a},甲,410122,LOG,x,,SIGNED,2024-01-01,,`, `${b},乙,410122,LOG,1,,SOLD,2024-01-01,,`), countyToken);
      expect(bad.status).toBe(400);
      expect(bad.body.problems.map((p: { line: number; column: string }) => [p.line, p.column])).toEqual([
        [2, "investment"],
        [3, "stage"],
      ]);
      const before = await footprint(db);
      const dry = await post(csv(`${a},甲,410122,LOG,1,,SIGNED,2024-01-01,,`), countyToken, "?dryRun=true");
      expect(dry).toMatchObject({ status: 200, body: { created: 1, dryRun: true } });
      expect(await footprint(db)).toEqual(before);
      const wrong = await post(csv(`${a},甲,410122,LOG,1,,SIGNED,2024-01-01,,`), countyToken, "?dryRun=yes");
      expect(wrong).toMatchObject({ status: 400, body: { errors: [{ extensions: { code: "BAD_REQUEST", field: "dryRun" } }] } });
    });

    it("answers 401 without a good token, 403 for a neighbour's row, 413 above the limit, as JSON errors", async () => {
      const [ref] = refs(1);
      const file = csv(`${ref},新郑市项目,410184,LOG,1,,SIGNED,2024-01-01,,`);
      const none = await post(file, null);
      expect(none.status).toBe(401);
      expect(none.body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
      const unknown = await post(file, `mpg_${"A".repeat(43)}`);
      expect(unknown.status).toBe(401);
      expect(unknown.body.errors[0].message).toBe("the token is unknown or has been revoked");
      const forbidden = await post(file, countyToken);
      expect(forbidden.status).toBe(403);
      expect(forbidden.body.errors[0].extensions).toMatchObject({ code: "FORBIDDEN", line: 2, column: "regionCode" });
      const large = await post(file + "x".repeat(3_000), countyToken);
      expect(large.status).toBe(413);
      expect(large.body.errors[0]).toMatchObject({ extensions: { code: "PAYLOAD_TOO_LARGE", limit: 2_000 }, message: expect.stringContaining("IMPORT_MAX_BYTES") });
    });
  });

  if (kind === "sqlite") {
    describe("npm run import", () => {
      function run(...args: string[]) {
        const result = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "src/import/import.cli.ts", ...args], {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? "", SQLITE_PATH: scratch.config.type === "sqlite" ? scratch.config.path : "" },
          encoding: "utf8",
          timeout: 60_000,
        });
        return { status: result.status, stdout: result.stdout, stderr: result.stderr };
      }

      it("imports a file, prints a table of every bad row, and refuses an unknown token with exit 2", () => {
        const dir = fs.mkdtempSync(path.join(scratch.config.type === "sqlite" ? path.dirname(scratch.config.path) : ROOT, "cli-"));
        const [a, b] = refs(2);
        const good = path.join(dir, "good.csv");
        fs.writeFileSync(good, csv(`${a},中牟县命令行项目,410122,LOG,1,,SIGNED,2024-01-01,,`));
        const bad = path.join(dir, "bad.csv");
        fs.writeFileSync(bad, csv(`${b},中牟县命令行项目乙,410122,LOG,1,,SOLD,2024-01-01,,`));

        const imported = run(good, "--token", countyToken);
        expect([imported.status, imported.stderr]).toEqual([0, ""]);
        expect(imported.stdout).toBe(`${good}: 1 row imported: 1 created, 0 advanced, 0 updated, 0 unchanged\n`);
        expect(run(good, "--token", countyToken).stdout).toMatch(/all unchanged: the ledger already holds this file, nothing was written/);

        const refused = run(bad, "--token", countyToken);
        expect(refused.status).toBe(1);
        expect(refused.stdout).toMatch(/^LINE +COLUMN +REASON\n2 +stage +must be one of RESERVE, SIGNED/);
        expect(refused.stdout).toMatch(/1 problem in 1 line of 1 row: nothing was imported\n$/);

        const unauthenticated = run(good, "--token", "mpg_nope");
        expect(unauthenticated.status).toBe(2);
        expect(unauthenticated.stderr).toMatch(/^UNAUTHENTICATED: the token is unknown or has been revoked/);
      });
    });
  }

  it("a file whose SQL takes many round trips (16 KiB each, on MySQL) goes in whole, and so does its advance", async () => {
    // The server's max_allowed_packet would refuse one round trip of a large file; the ledger cuts its writes into
    // round trips of a bounded size (1 MiB in service; 16 KiB here, so that 1,500 rows need dozens of them).
    const small = new Ledger(db, { futureDays: DEFAULT_LEDGER_FUTURE_DAYS, maxRoundTripBytes: 16 * 1024 }, () => loadTrees(db));
    // An office of its own, so that the other tests' history counts are not disturbed.
    const office = actorOf((await authenticate(db, `Bearer ${(await createToken(db, { regionCode: "410122", name: "中牟县分批导入测试" })).token}`))!);
    const names = refs(1500);
    const lines = (stage: string, date: string) => names.map((ref, i) => `${ref},分批测试项目${i},410122,LOG,2.5,,${stage},${date},,`);
    const before = await footprint(db);
    expect(await importLedger(small, office, csv(...lines("签约", "2024-02-01")))).toMatchObject({ rows: 1500, created: 1500, problems: [] });
    expect(await importLedger(small, office, csv(...lines("开工", "2024-03-01")))).toMatchObject({ rows: 1500, advanced: 1500, problems: [] });
    const after = await footprint(db);
    expect(after.project - before.project).toBe(1500);
    expect(after.milestone - before.milestone).toBe(3000);
    expect(await projectOf(db, names[1499])).toMatchObject({ stage: 2, version: 2, milestones: [[1, "2024-02-01"], [2, "2024-03-01"]] });
    expect(await verifyRollups(db)).toEqual([]);
    // In service the bound is 1 MiB: under what this server accepts in one packet.
    if (kind === "mysql") expect(MAX_ROUND_TRIP_BYTES).toBeLessThan(Number((await db.query("SELECT @@max_allowed_packet AS bytes"))[0].bytes));
  }, 120_000);
});
