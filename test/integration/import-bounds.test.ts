/**
 * The ledger import's bounds and encodings (issue 17, defects 1 and 5, and
 * the new user's "one set of rules"), on each database: the file is read a
 * step of 250 rows at a time, and still every problem of every row of
 * every step is reported, in file order, with nothing written; a file over
 * IMPORT_MAX_ROWS is refused (PAYLOAD_TOO_LARGE, HTTP 413 naming both
 * bounds) with nothing written; a report lists at most 1,000 problems and
 * counts the rest; a line's problems are all told at once, worded as the
 * mutation words them; a GB18030 file (Excel's "CSV (逗号分隔)" on Chinese
 * Windows) is read as such, and bytes of no encoding or a UTF-16 file are
 * refused with how to save the file, never stored as replacement characters.
 */
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

import express from "express";
import iconv from "iconv-lite";
import type { DataSource } from "typeorm";

import { ErrorCode } from "../../src/common/errors";
import { importLedger, MAX_LISTED_PROBLEMS } from "../../src/import/import-ledger";
import { importRoutes, sweepSpools } from "../../src/import/import.routes";
import type { Actor } from "../../src/ledger/actor";
import { Ledger } from "../../src/ledger/ledger";
import { loadTrees } from "../../src/common/trees";
import { DEFAULT_LEDGER_FUTURE_DAYS } from "../../src/config";
import { verifyRollups } from "../../src/stats/rollups";
import { DB_KINDS, type ScratchDatabase } from "../support/databases";
import { rejection, seededLedger } from "../support/ledger";

const HEADER = "ref,name,regionCode,sectorCode,investment,investor,stage,date,meetingId,venueRegionCode";

function csv(lines: readonly string[]): string {
  return [HEADER, ...lines].join("\n") + "\n";
}

/** Rows of the tables an import writes. */
async function footprint(db: DataSource): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ["project", "milestone", "ledger_change", "rollup_region", "data_version"]) counts[table] = Number((await db.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
  counts.versions = Number((await db.query("SELECT COALESCE(SUM(version), 0) AS v FROM data_version"))[0].v);
  return counts;
}

let serial = 0;
/** `n` good rows with references no other test uses (line i + 2 of a file holds row i). */
function goodRows(n: number, name = "分步导入项目"): string[] {
  serial += 1;
  return Array.from({ length: n }, (_, i) => `B${serial}-${i + 1},${name}${i + 1},410122,LOG,1.5,,SIGNED,2024-01-01,,`);
}


describe.each(DB_KINDS)("ledger import bounds and encodings on %s", (kind) => {
  let scratch: ScratchDatabase;
  let db: DataSource;
  let ledger: Ledger;
  let county: Actor;
  let countyToken: string;

  beforeAll(async () => {
    ({ scratch, db, ledger, actor: county, token: countyToken } = await seededLedger(kind, "410122", "中牟县发改委"));
  });

  afterAll(async () => {
    await db?.destroy();
    await scratch?.drop();
  });

  it("a file of 2,500 rows goes in whole, step by step, with its history and rollups", async () => {
    const before = await footprint(db);
    const report = await importLedger(ledger, county, csv(goodRows(2_500)));
    expect(report).toMatchObject({ rows: 2_500, created: 2_500, problems: [], problemsNotListed: 0 });
    const after = await footprint(db);
    expect([after.project - before.project, after.milestone - before.milestone, after.ledger_change - before.ledger_change]).toEqual([2_500, 2_500, 2_500]);
    expect(await verifyRollups(db)).toEqual([]);
  }, 120_000);

  it("bad rows in every step, and a reference repeated across steps, are all reported in file order; nothing is written", async () => {
    const rows = goodRows(2_500);
    rows[1] = rows[1].replace(",SIGNED,", ",SOLD,"); // line 3, first step
    rows[1000] = rows[1000].replace(",410122,", ",999999,"); // line 1002, second step: the ledger's own check
    rows[2398] = rows[0].replace("分步导入项目1,", "重复项目,"); // line 2400, third step: the reference of line 2
    rows[2499] = rows[2499].replace(",1.5,", ",-2,"); // line 2501, the last
    const before = await footprint(db);
    const report = await importLedger(ledger, county, csv(rows));
    expect(report.problems.map((p) => [p.line, p.column])).toEqual([
      [3, "stage"],
      [1002, "regionCode"],
      [2400, "ref"],
      [2501, "investment"],
    ]);
    expect(report.problems[2].reason).toMatch(/^the same reference as line 2: one row per project/);
    expect(report).toMatchObject({ rows: 2_500, created: 0, problemsNotListed: 0 });
    expect(await footprint(db)).toEqual(before);
  }, 120_000);

  it("a file over the row bound is PAYLOAD_TOO_LARGE naming IMPORT_MAX_ROWS before any transaction; rows are counted as rows, not line ends; at the bound it goes in", async () => {
    const before = await footprint(db);
    const writes = jest.spyOn(ledger, "write");
    try {
      const error = await rejection(importLedger(ledger, county, csv(goodRows(30)), { maxRows: 25 }));
      expect(error.extensions).toMatchObject({ code: ErrorCode.PAYLOAD_TOO_LARGE, limit: 25, setting: "IMPORT_MAX_ROWS" });
      expect(error.message).toMatch(/more than 25 rows \(IMPORT_MAX_ROWS\)/);
      // Refused up front: no transaction was opened.
      expect(writes).not.toHaveBeenCalled();
      expect(await footprint(db)).toEqual(before);
      // 25 rows of two lines each (a line break in a quoted cell): more line ends than the bound, but 25 rows, so they are read and checked.
      const tall = goodRows(25).map((row) => row.replace(/^([^,]*),([^,]*),/, '$1,"$2\n（续）",'));
      const report = await importLedger(ledger, county, csv(tall), { maxRows: 25 });
      expect(report).toMatchObject({ rows: 25, created: 0 });
      expect(report.problems.map((p) => p.column)).toEqual(Array(25).fill("name"));
      expect(await importLedger(ledger, county, csv(goodRows(25)), { maxRows: 25 })).toMatchObject({ rows: 25, created: 25 });
    } finally {
      writes.mockRestore();
    }
  });

  it(`a report lists the first ${MAX_LISTED_PROBLEMS} problems in file order and counts the rest`, async () => {
    const rows = goodRows(1_200).map((row) => row.replace(",SIGNED,", ",SOLD,"));
    const report = await importLedger(ledger, county, csv(rows));
    expect(report.problems).toHaveLength(MAX_LISTED_PROBLEMS);
    expect(report.problemsNotListed).toBe(200);
    expect(report.problems.map((p) => p.line)).toEqual(Array.from({ length: MAX_LISTED_PROBLEMS }, (_, i) => i + 2));
  });

  it("every problem of a line is told at once, worded as the mutation words it", async () => {
    const [row] = goodRows(1);
    const ref = row.split(",")[0];
    const report = await importLedger(ledger, county, csv([`${ref},坏\u200b项目,999999,NOPE,-5,,SIGNED,2023-02-30,,`]));
    expect(report.problems.map((p) => p.column)).toEqual(["name", "regionCode", "sectorCode", "investment", "date"]);
    const mutation = await rejection(ledger.createProject(county, { ref: `${ref}-m`, name: "坏\u200b项目", regionCode: "999999", sectorCode: "NOPE", investment: -5, reachedOn: "2023-02-30" }));
    const reasons = new Map((mutation.extensions.problems as Array<{ field: string; reason: string }>).map((p) => [p.field.replace(/^input\./, ""), p.reason]));
    const byColumn = new Map(report.problems.map((p) => [p.column, p.reason]));
    expect(byColumn.get("investment")).toBe(reasons.get("investment"));
    expect(byColumn.get("investment")).toBe("must be positive (got -5)");
    expect(byColumn.get("name")).toBe(reasons.get("name"));
    expect(byColumn.get("regionCode")).toBe('no region "999999"');
    expect(byColumn.get("sectorCode")).toBe('no sector "NOPE"');
  });

  it("a GB18030 file, as Excel on Chinese Windows saves it, is read as GB18030", async () => {
    const [a, b] = goodRows(2).map((row) => row.split(",")[0]);
    const text = "台账编号,项目名称,区划代码,行业代码,总投资（亿元）,投资方,阶段,日期\r\n" + `${a},中牟县汽车零部件产业园项目,410122,MFG,12.5,郑州某汽车配件有限公司,签约,2024/3/1\r\n` + `${b},中牟县冷链物流园（一期）,410122,LOG,3,,开工,2024年3月2日\r\n`;
    const report = await importLedger(ledger, county, iconv.encode(text, "gb18030"));
    expect(report).toMatchObject({ encoding: "GB18030", rows: 2, created: 2, problems: [] });
    const stored = await db.query("SELECT name, investor FROM project WHERE ref IN (?, ?) ORDER BY ref", [a, b]);
    expect(stored.map((r: { name: string; investor: string | null }) => [r.name, r.investor])).toEqual([
      ["中牟县汽车零部件产业园项目", "郑州某汽车配件有限公司"],
      ["中牟县冷链物流园（一期）", null],
    ]);
  });

  it("bytes that are neither UTF-8 nor GB18030, and a UTF-16 file, are refused with how to save the file; nothing is written", async () => {
    const before = await footprint(db);
    const [row] = goodRows(1);
    const broken = Buffer.concat([Buffer.from(`${HEADER}\n`), Buffer.from([0x81, 0x20, 0xff]), Buffer.from(`${row}\n`)]);
    const bad = await importLedger(ledger, county, broken);
    expect(bad.problems).toEqual([{ line: 1, column: null, reason: expect.stringMatching(/neither UTF-8 nor GB18030.*CSV UTF-8/) }]);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv([row]), "utf16le")]);
    expect((await importLedger(ledger, county, utf16)).problems).toEqual([{ line: 1, column: null, reason: expect.stringMatching(/UTF-16/) }]);
    expect(await footprint(db)).toEqual(before);
  });

  it("a malformed line after good steps refuses the file at that line; nothing is written", async () => {
    const rows = goodRows(1_500);
    rows[1_400] = `${rows[1_400].split(",")[0]},"未闭合的引号,410122,LOG,1,,SIGNED,2024-01-01,,`;
    const before = await footprint(db);
    const report = await importLedger(ledger, county, csv(rows));
    expect(report.problems).toEqual([{ line: 1_402, column: null, reason: expect.stringMatching(/not well-formed CSV/) }]);
    expect(report.created).toBe(0);
    expect(await footprint(db)).toEqual(before);
  }, 120_000);

  it("a quote never closed in a long file, a row without line ends, or one of 40,000 cells is refused at the line it starts on, before it is held whole", async () => {
    const rows = goodRows(1_500);
    rows[10] = `${rows[10].split(",")[0]},"未闭合的引号,410122,LOG,1,,SIGNED,2024-01-01,,`; // line 12, then ~90 KB of rows inside the quote
    const report = await importLedger(ledger, county, csv(rows));
    expect(report.problems).toEqual([{ line: 12, column: null, reason: expect.stringMatching(/runs past 65536 characters/) }]);
    const endless = await importLedger(ledger, county, `${HEADER}\n${"x".repeat(70_000)}\n`);
    expect(endless.problems).toEqual([{ line: 2, column: null, reason: expect.stringMatching(/runs past 65536 characters/) }]);
    const wide = await importLedger(ledger, county, `${HEADER}\n${goodRows(1)[0]}\n${"x,".repeat(40_000)}\n`);
    expect(wide.problems).toEqual([{ line: 3, column: null, reason: "not well-formed CSV: a row of 40001 cells, where a ledger file has 14 columns" }]);
  });

  describe("POST /import/projects.csv", () => {
    let url: string;
    let spoolDir: string;
    let close: () => Promise<void>;

    beforeAll(async () => {
      spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), "mp-spool-test-"));
      const app = express();
      app.use(importRoutes({ db, ledgerFor: () => ledger, maxBytes: 100_000, maxRows: 500, spoolDir, onWrite: () => undefined }));
      const server = app.listen(0, "127.0.0.1");
      await new Promise((resolve) => server.once("listening", resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/import/projects.csv`;
      close = () => new Promise((resolve) => server.close(() => resolve()));
    });
    afterAll(async () => {
      await close?.();
      fs.rmSync(spoolDir, { recursive: true, force: true });
    });

    const post = (body: string | ReadableStream<Uint8Array>, query = "", chunked = false) =>
      fetch(url + query, { method: "POST", headers: { authorization: `Bearer ${countyToken}`, "content-type": "text/csv" }, body, ...(chunked ? { duplex: "half" } : {}) } as RequestInit);
    /** A body sent chunked (no Content-Length), in pieces of 4 KiB. */
    const chunks = (text: string) => {
      const bytes = Buffer.from(text);
      return new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 4096) controller.enqueue(bytes.subarray(i, i + 4096));
          controller.close();
        },
      });
    };

    it("a spooled body left by a process killed mid-import is swept away at start; a recent one (another instance's) is kept", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mp-sweep-test-"));
      try {
        const old = path.join(dir, "mp-import-old");
        const recent = path.join(dir, "mp-import-recent");
        for (const spool of [old, recent]) {
          fs.mkdirSync(spool);
          fs.writeFileSync(path.join(spool, "ledger.csv"), "ref\n");
        }
        const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
        fs.utimesSync(old, twoHoursAgo, twoHoursAgo);
        await sweepSpools(dir);
        expect(fs.readdirSync(dir)).toEqual(["mp-import-recent"]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("over IMPORT_MAX_ROWS is 413 naming the setting, as JSON; the spooled body is deleted", async () => {
      const response = await post(csv(goodRows(501)), "?dryRun=true");
      expect(response.status).toBe(413);
      const body = (await response.json()) as { errors: Array<{ message: string; extensions: Record<string, unknown> }> };
      expect(body.errors[0]).toMatchObject({ extensions: { code: "PAYLOAD_TOO_LARGE", limit: 500, setting: "IMPORT_MAX_ROWS" }, message: expect.stringContaining("IMPORT_MAX_ROWS") });
      expect(fs.readdirSync(spoolDir)).toEqual([]);
    });

    it("a chunked body (no Content-Length) goes in from its spooled file, which is deleted after", async () => {
      const rows = goodRows(400, "分块上传项目");
      const response = await post(chunks(csv(rows)), "", true);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ rows: 400, created: 400, problems: [] });
      expect(fs.readdirSync(spoolDir)).toEqual([]);
      const [stored] = await db.query("SELECT COUNT(*) AS n FROM project WHERE name LIKE ?", ["分块上传项目%"]);
      expect(Number(stored.n)).toBe(400);
    });

    it("a chunked body over IMPORT_MAX_BYTES is 413 naming the setting as soon as it passes it; nothing is kept", async () => {
      const before = await footprint(db);
      const response = await post(chunks(csv(goodRows(3_000))), "", true);
      expect(response.status).toBe(413);
      const body = (await response.json()) as { errors: Array<{ extensions: Record<string, unknown> }> };
      expect(body.errors[0].extensions).toMatchObject({ code: "PAYLOAD_TOO_LARGE", limit: 100_000, setting: "IMPORT_MAX_BYTES" });
      expect(fs.readdirSync(spoolDir)).toEqual([]);
      expect(await footprint(db)).toEqual(before);
    });
  });

  (kind === "mysql" ? it : it.skip)("the database connection killed in the middle of an import is a 503 SERVICE_UNAVAILABLE with Retry-After; nothing is written", async () => {
    // The import's own connection is killed by the database at its 13th statement (in its second step; KILL CONNECTION_ID() in its place), as
    // when MariaDB restarts or an operator kills it: the transaction is gone with the connection.
    const killed = new Ledger(db, { futureDays: DEFAULT_LEDGER_FUTURE_DAYS, onStatement: (sql, index) => (index === 12 ? "KILL CONNECTION_ID()" : sql) }, () => loadTrees(db));
    const app = express();
    app.use(importRoutes({ db, ledgerFor: () => killed, maxBytes: 1_000_000, maxRows: 5_000, onWrite: () => undefined }));
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const before = await footprint(db);
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/import/projects.csv`;
      const response = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${countyToken}`, "content-type": "text/csv" }, body: csv(goodRows(1_000)) });
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("1");
      const body = (await response.json()) as { errors: Array<{ extensions: Record<string, unknown> }> };
      expect(body.errors[0].extensions.code).toBe("SERVICE_UNAVAILABLE");
      expect(await footprint(db)).toEqual(before);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("a file on disk is read a piece at a time as the route and the command line give it, GB18030 included", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mp-file-test-"));
    try {
      const file = path.join(dir, "台账.csv");
      const rows = goodRows(1_200, "磁盘文件项目");
      fs.writeFileSync(file, iconv.encode(csv(rows), "gb18030"));
      expect(await importLedger(ledger, county, { path: file })).toMatchObject({ encoding: "GB18030", rows: 1_200, created: 1_200, problems: [] });
      const [stored] = await db.query("SELECT name FROM project WHERE ref = ?", [rows[1_199].split(",")[0]]);
      expect(stored.name).toBe("磁盘文件项目1200");
      fs.writeFileSync(file, Buffer.concat([Buffer.from(`${HEADER}\n`), Buffer.from([0x81, 0x20, 0xff]), Buffer.from("\n")]));
      expect((await importLedger(ledger, county, { path: file })).problems).toEqual([{ line: 1, column: null, reason: expect.stringMatching(/neither UTF-8 nor GB18030/) }]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
