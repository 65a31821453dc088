/**
 * Import throughput: a ledger file of N valid rows (default 100,000) across
 * Henan's counties, imported into a scratch MariaDB/MySQL database seeded
 * with the shipped data, as the province's office (a real token). Measures
 *
 *   1. the first import (every row new: created),
 *   2. the same file again (every row unchanged),
 *   3. a file moving --advance of those projects (default 10,000) on a stage,
 *
 * each as rows/s of the whole import (read, checks, the one transaction and
 * its commit), with the statements each sent and where the time went
 * (attributed from one statement's start to the next's, through the ledger's
 * `onStatement` hook; "js" is the time before the first statement and after
 * the last one). The rollups are verified against the base tables at the end.
 *
 *   ts-node --transpile-only bench/import.ts [--rows 100000] [--advance 10000]
 *       [--mysql mysql://root@127.0.0.1:3306] [--cli] [--keep]
 *
 * --cli runs step 1 through the compiled `npm run import` command instead of
 * the function (run `npm run build` first); --keep leaves the database
 * `mp_bench_import` in place. Targets are reported, never enforced.
 */
import "reflect-metadata";

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

import { createConnection } from "mysql2/promise";
import type { DataSource } from "typeorm";

import { authenticate, createToken } from "../src/auth/tokens";
import { loadTrees } from "../src/common/trees";
import { createDataSource } from "../src/db/data-source";
import { importLedger } from "../src/import/import-ledger";
import { type Actor, actorOf } from "../src/ledger/actor";
import { Ledger } from "../src/ledger/ledger";
import { henanRegions, seedDatabase } from "../src/seed/seed";
import { SECTORS } from "../src/seed/sectors";
import { verifyRollups } from "../src/stats/rollups";
import { mulberry32 } from "./generate";

const DATABASE = "mp_bench_import";
const TARGET_ROWS_PER_SECOND = 5_000;
const STAGES = ["签约", "开工", "投产"] as const;
const HEADER = "台账编号,项目名称,区划代码,行业代码,总投资（亿元）,投资方,阶段,日期,会议编号,会场区划代码";

interface Row {
  ref: string;
  name: string;
  regionCode: string;
  sectorCode: string;
  investment: string;
  investor: string;
  stage: number;
  date: string;
}

/** What one import step measured. */
export interface ImportStep {
  step: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  created?: number;
  advanced?: number;
  unchanged?: number;
  problems: number;
  /** Where the time went, by kind of statement. */
  profile: string;
}

/** The import benchmark's result (also a part of `npm run bench`'s report). */
export interface ImportResult {
  rows: number;
  fileBytes: number;
  steps: ImportStep[];
  /** Rows per second of the first import against TARGET_ROWS_PER_SECOND. */
  target: number;
  met: boolean;
  rollupsMatch: boolean;
}

export interface ImportOptions {
  rows: number;
  advance: number;
  mysql: string;
  cli?: boolean;
  keep?: boolean;
  say?: (what: string) => void;
}

/** Seeds a scratch database, then imports a generated file, the same file again, and a file advancing some of it. */
export async function measureImport(options: ImportOptions): Promise<ImportResult> {
  const count = options.rows;
  const advanceCount = Math.min(count, options.advance);
  const server = options.mysql.replace(/\/+$/, "");
  await admin(server, `DROP DATABASE IF EXISTS \`${DATABASE}\``);
  await admin(server, `CREATE DATABASE \`${DATABASE}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const url = `${server}/${DATABASE}`;
  const db = await createDataSource({ type: "mysql", url, poolSize: 5 });
  await db.initialize();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mp-import-bench-"));
  try {
    await db.runMigrations({ transaction: "each" });
    await seedDatabase(db);
    const { token } = await createToken(db, { regionCode: "410000", name: "河南省发展和改革委员会" });
    const actor = actorOf((await authenticate(db, `Bearer ${token}`))!);
    const rows = generateRows(count);
    const file = path.join(dir, "ledger.csv");
    fs.writeFileSync(file, toCsv(rows));
    const advanced = rows.slice(0, advanceCount).filter((r) => r.stage < 3).map((r) => ({ ...r, stage: r.stage + 1, date: "2025-01-15" }));
    const advanceFile = path.join(dir, "advance.csv");
    fs.writeFileSync(advanceFile, toCsv(advanced));
    const fileBytes = fs.statSync(file).size;
    options.say?.(`${count} rows, ${(fileBytes / 1e6).toFixed(1)} MB; MariaDB/MySQL at ${server}, database ${DATABASE}; ${os.cpus().length} CPUs`);

    const steps: ImportStep[] = [];
    if (options.cli) {
      const started = performance.now();
      const out = execFileSync(process.execPath, ["dist/src/import/import.cli.js", file, "--token", token], { cwd: path.join(__dirname, ".."), env: { ...process.env, DATABASE_URL: url }, encoding: "utf8" });
      const seconds = (performance.now() - started) / 1000;
      steps.push({ step: "first import (npm run import)", rows: count, seconds, rowsPerSecond: Math.round(count / seconds), problems: 0, profile: out.trim() });
    } else {
      steps.push(await timed(db, actor, "first import (all created)", file));
    }
    steps.push(await timed(db, actor, "same file again (all unchanged)", file));
    steps.push(await timed(db, actor, `advance ${advanced.length} of them`, advanceFile));
    const first = steps[0];
    return {
      rows: count,
      fileBytes,
      steps,
      target: TARGET_ROWS_PER_SECOND,
      met: first.problems === 0 && first.rowsPerSecond >= TARGET_ROWS_PER_SECOND,
      rollupsMatch: (await verifyRollups(db)).length === 0,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await db.destroy();
    if (!options.keep) await admin(server, `DROP DATABASE IF EXISTS \`${DATABASE}\``);
  }
}

/** The result as lines of text. */
export function renderImport(result: ImportResult): string[] {
  const lines = result.steps.map(
    (r) =>
      `${r.step}: ${r.rows} rows in ${r.seconds.toFixed(2)} s = ${r.rowsPerSecond.toLocaleString("en")} rows/s` +
      `${r.problems ? ` (${r.problems} PROBLEMS)` : ""} ${JSON.stringify({ created: r.created, advanced: r.advanced, unchanged: r.unchanged })}\n    ${r.profile}`,
  );
  lines.push(result.rollupsMatch ? "rollups match the base tables" : "rollups DIFFER from the base tables");
  return lines;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rows: { type: "string", default: "100000" }, advance: { type: "string", default: "10000" }, mysql: { type: "string", default: "mysql://root@127.0.0.1:3306" }, cli: { type: "boolean" }, keep: { type: "boolean" } },
    strict: true,
  });
  const result = await measureImport({
    rows: Number(values.rows),
    advance: Number(values.advance),
    mysql: values.mysql!,
    cli: values.cli,
    keep: values.keep,
    say: (what) => process.stderr.write(`${what}\n`),
  });
  const target = `target ≥ ${result.target} rows/s for the first import: ${result.met ? "met" : "MISSED"}`;
  process.stdout.write(`${[...renderImport(result), target].join("\n")}\n`);
}

/** One import of `file` through the function, with the time of each kind of statement. */
async function timed(db: DataSource, actor: Actor, step: string, file: string): Promise<ImportStep> {
  const kinds = new Map<string, { statements: number; ms: number }>();
  let last: { kind: string; at: number } | null = null;
  const mark = (kind: string) => {
    const now = performance.now();
    if (last) {
      const k = kinds.get(last.kind) ?? { statements: 0, ms: 0 };
      k.statements += 1;
      k.ms += now - last.at;
      kinds.set(last.kind, k);
    }
    last = { kind, at: now };
  };
  const ledger = new Ledger(db, { futureDays: 31, onStatement: (sql) => mark(kindOf(sql)) }, () => loadTrees(db));
  const csv = fs.readFileSync(file);
  const started = performance.now();
  const report = await importLedger(ledger, actor, csv);
  const ended = performance.now();
  mark("(end)");
  const seconds = (ended - started) / 1000;
  const inStatements = [...kinds.values()].reduce((sum, k) => sum + k.ms, 0);
  const profile = [...kinds]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([kind, k]) => `${kind} ${k.statements}× ${(k.ms / 1000).toFixed(2)} s`)
    .concat(`js before/after the statements and the commit ${(seconds - inStatements / 1000).toFixed(2)} s`)
    .join("; ");
  return {
    step,
    rows: report.rows,
    seconds,
    rowsPerSecond: Math.round(report.rows / seconds),
    created: report.created,
    advanced: report.advanced,
    unchanged: report.unchanged,
    problems: report.problems.length,
    profile,
  };
}

/** A statement's kind for the profile: its verb and table. */
function kindOf(sql: string): string {
  const m = /^\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM)\s+(?:.*?\bFROM\s+)?(\w+)/is.exec(sql);
  return m ? `${m[1].split(" ")[0]} ${m[2]}` : sql.slice(0, 20);
}

/** N valid new rows, deterministic: every county, the leaf sectors, the three stages, dates of 2022–2024, 0.5 to 50 亿元. */
function generateRows(count: number): Row[] {
  const rng = mulberry32(0x1a_2024);
  const regions = henanRegions();
  const parents = new Set(regions.map((r) => r.parentCode));
  const counties = regions.filter((r) => !parents.has(r.code) && r.level !== "PROVINCE");
  const sectorParents = new Set(SECTORS.map((s) => s.parentCode));
  const sectors = SECTORS.filter((s) => !sectorParents.has(s.code));
  const pick = <T>(list: readonly T[]) => list[Math.floor(rng() * list.length)];
  const start = Date.UTC(2022, 0, 1);
  const days = 3 * 365;
  return Array.from({ length: count }, (_, i) => {
    const county = pick(counties);
    const sector = pick(sectors);
    return {
      ref: `${county.code}-B${String(i + 1).padStart(7, "0")}`,
      name: `${county.name}${sector.name}项目${i + 1}号`,
      regionCode: county.code,
      sectorCode: sector.code,
      investment: (0.5 + Math.floor(rng() * 4950) / 100).toFixed(2),
      investor: rng() < 0.5 ? `${county.name}产业投资有限公司` : "",
      stage: 1 + Math.floor(rng() * 3),
      date: new Date(start + Math.floor(rng() * days) * 86_400_000).toISOString().slice(0, 10),
    };
  });
}

/** The rows as Excel would save them: BOM, Chinese header, CRLF. */
function toCsv(rows: readonly Row[]): string {
  const lines = rows.map((r) => [r.ref, r.name, r.regionCode, r.sectorCode, r.investment, r.investor, STAGES[r.stage - 1], r.date, "", ""].join(","));
  return `\uFEFF${HEADER}\r\n${lines.join("\r\n")}\r\n`;
}

async function admin(serverUrl: string, sql: string): Promise<void> {
  const connection = await createConnection({ uri: serverUrl, connectTimeout: 5000 });
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`import benchmark failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  });
}
