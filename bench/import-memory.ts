/**
 * The ledger import's memory and what it does to other requests (issue: "Memory must not grow with the file:
 * measure peak RSS for 10k, 100k and the largest accepted file … state the p99 of a cheap query while the largest
 * accepted import runs").
 *
 * For each database (SQLite always; MariaDB/MySQL when a server URL is given, in a database of its own created and
 * dropped here) and each file size, on a freshly seeded database (`node dist/src/seed/seed.cli.js`, i.e.
 * `npm run seed`; SQLite in a temp file) with a county write token for 中牟县 410122 (`dist/src/auth/token.cli.js`,
 * i.e. `npm run token -- create`):
 *
 *   1. start a FRESH compiled server as `npm start` runs it (`node --max-semi-space-size=32
 *      --max-old-space-size=256 dist/src/main.js`, the flags read from package.json; NODE_ENV=production,
 *      127.0.0.1, a free port), so that its peak RSS (VmHWM) is this import's;
 *   2. send the cheap query `{ region(code:"410122") { name } }` by GET for 2 s with nothing else running (idle);
 *   3. POST a generated ledger file of N valid new rows, all in 410122, to /import/projects.csv for real, while the
 *      same process sends the cheap query one at a time every 20 ms and records each latency, until the import
 *      answers; the answer must be 200 with created == N;
 *   4. read VmHWM (and VmRSS); then, unless dryRun is false, a dry run of another N new rows on the same server
 *      (?dryRun=true: checked, written, rolled back; VmHWM read again after it).
 *
 * Then, on one more fresh server per database, the bounds: a file of IMPORT_MAX_ROWS + 1 rows (under
 * IMPORT_MAX_BYTES) must be 413 naming IMPORT_MAX_ROWS, and a body of IMPORT_MAX_BYTES + 1 bytes (the largest
 * accepted file and blank lines) must be 413 naming IMPORT_MAX_BYTES, sent once with a Content-Length and once
 * chunked; after them the server must still answer /health and the cheap query, and its VmHWM is reported.
 *
 * Every line of every file has the same number of bytes, chosen so that IMPORT_MAX_ROWS + 1 lines still fit in
 * IMPORT_MAX_BYTES: the largest accepted file (IMPORT_MAX_ROWS rows) is then within 1 % of IMPORT_MAX_BYTES, the
 * largest file both bounds accept.
 *
 *   npx ts-node --transpile-only bench/import-memory.ts [--mysql mysql://root@127.0.0.1:3306]
 *       [--rows 10000,100000,200000] [--smoke] [--no-dry-run] [--no-bounds] [--timeout 900] [--max-old-space-size MB]
 *
 * Builds first (`npm run build`). --smoke: 2,000 rows, the server started with IMPORT_MAX_ROWS=2000 and
 * IMPORT_MAX_BYTES=200000 (so the bounds are checked with files of 2,001 rows and 200,001 bytes), the bounds checked
 * on the size's server instead of a fresh one. Prints a table, writes bench/results/<stamp>-import-memory….json,
 * exits 1 when an import did not answer 200 with every row created, a bound was not a 413, or a server died.
 * Every process started here is stopped by its pid (bench/servers.ts); traffic goes to 127.0.0.1 only.
 * --max-old-space-size (a diagnosis, not the measurement) runs the server with another heap limit than `npm start`'s:
 * an import that still goes in under a much smaller limit holds little, whatever the RSS at the default limit.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";

import { createConnection } from "mysql2/promise";

import { SECTORS } from "../src/seed/sectors";
import { mulberry32 } from "./generate";
import { gitCommit } from "./git";
import { findDatabasePid } from "./load";
import { percentile, round } from "./measurement";
import { machineBusyTicks, processTicks, TICK_MS } from "./proc";
import { peakRssKiB, type Started, startChild, stopChild } from "./servers";

const ROOT = path.resolve(__dirname, "..");
const DIST = path.join(ROOT, "dist");
/**
 * The compiled server measured: a copy of dist/ taken when the measurement starts (with node_modules linked beside
 * it), so that a build by someone else on the same working tree cannot change the code between two servers of one run.
 */
let build = DIST;
const RESULTS_DIR = path.join(__dirname, "results");
/** The V8 flags `npm start` runs the server with (package.json is their one home). */
const START_FLAGS: string[] = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts.start as string)
  .split(/\s+/)
  .filter((token) => token.startsWith("--"));
/** The server's defaults (src/config.ts): IMPORT_MAX_ROWS, IMPORT_MAX_BYTES. */
export const DEFAULT_MAX_ROWS = 200_000;
export const DEFAULT_MAX_BYTES = 20_000_000;
const DATABASE = "mp_bench_import_memory";
const COUNTY = { code: "410122", name: "中牟县" };
const CHEAP_QUERY = `{ region(code:"${COUNTY.code}") { name } }`;
const HEADER = "台账编号,项目名称,区划代码,行业代码,总投资（亿元）,投资方,阶段,日期";
const STAGES = ["签约", "开工", "投产"] as const;
const FILLER = "产业园区基础设施配套建设工程";

/**
 * The sizes and bounds of a run: 10,000, 100,000 and IMPORT_MAX_ROWS rows at the server's defaults, the bounds on a
 * fresh server; --smoke: 2,000 rows with bounds of 2,000 rows and 200,000 bytes checked on the size's server, 1 s idle.
 */
export function importMemoryPlan(smoke: boolean): Pick<ImportMemoryOptions, "rows" | "maxRows" | "maxBytes" | "boundsOnFreshServer" | "idleSeconds"> {
  return smoke
    ? { rows: [2_000], maxRows: 2_000, maxBytes: 200_000, boundsOnFreshServer: false, idleSeconds: 1 }
    : { rows: [10_000, 100_000, DEFAULT_MAX_ROWS], maxRows: DEFAULT_MAX_ROWS, maxBytes: DEFAULT_MAX_BYTES, boundsOnFreshServer: true, idleSeconds: 2 };
}

/** The issue's two questions as lines of the targets (per database, at the largest size measured): reported, not enforced. */
export function importMemoryChecks(result: ImportMemoryResult): Array<{ target: string; value: string; pass: boolean | null }> {
  const out: Array<{ target: string; value: string; pass: boolean | null }> = [];
  for (const database of result.databases) {
    const runs = result.runs.filter((r) => r.database === database && r.ok);
    if (runs.length === 0) {
      out.push({ target: `ledger import on ${database}`, value: "failed", pass: false });
      continue;
    }
    const smallest = runs.reduce((a, b) => (b.rows < a.rows ? b : a));
    const largest = runs.reduce((a, b) => (b.rows > a.rows ? b : a));
    const growth = smallest === largest || !smallest.server.peakRssKiB || !largest.server.peakRssKiB ? null : largest.server.peakRssKiB / smallest.server.peakRssKiB;
    out.push({
      target: `server peak RSS ≤ 300 MB importing ${largest.rows.toLocaleString("en-US")} rows (${database}); its growth over the smallest import shown`,
      value: `${mb(largest.server.peakRssKiB)} MB${growth === null ? "" : ` (+${mb(largest.server.peakRssKiB! - smallest.server.peakRssKiB!)} MB, ${growth.toFixed(2)}× the ${smallest.rows.toLocaleString("en-US")}-row import's ${mb(smallest.server.peakRssKiB)} MB)`}`,
      pass: largest.server.peakRssKiB === null ? null : (largest.server.peakRssKiB * 1024) / 1e6 <= 300,
    });
    const q = largest.import.probe;
    out.push({
      target: `cheap query p99 < 1 s during a ${largest.rows.toLocaleString("en-US")}-row import (${database}), corrected for coordinated omission`,
      value: `p99 ${q.p99Corrected} ms corrected (${q.p99} ms as sent one at a time), max ${q.max} ms, over ${q.count} queries`,
      pass: q.p99Corrected === null ? null : q.p99Corrected < 1000,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Shapes (the results JSON)

export interface ImportMemoryOptions {
  /** Data rows of each file imported (each on a fresh server and database). */
  rows: number[];
  /** MariaDB/MySQL server URL without a database; SQLite is measured always, this one too when given. */
  mysql?: string;
  /** The server's IMPORT_MAX_ROWS and IMPORT_MAX_BYTES (passed to it when they are not its defaults). */
  maxRows: number;
  maxBytes: number;
  /** Also a dry run of another N new rows after each import (default true). */
  dryRun?: boolean;
  /** Check the bounds on a server of their own (default true); else on the last size's server after its import. */
  boundsOnFreshServer?: boolean;
  /** Check the bounds at all (default true). */
  bounds?: boolean;
  /** Seconds of the cheap query alone on a fresh server before the import (default 2; after a warm-up of half as long). */
  idleSeconds?: number;
  /** Milliseconds between the starts of two cheap queries (default 20). */
  probeIntervalMs?: number;
  /** Seconds an import may take before the measurement gives up on it (default 900). */
  timeoutSeconds?: number;
  /** Diagnostics only: the server's --max-old-space-size in MB instead of `npm start`'s (to see whether an import fits a smaller heap). */
  maxOldSpaceMB?: number;
  say?: (what: string) => void;
}

/** Latencies of the cheap query, one at a time, ms. */
export interface ProbeStats {
  count: number;
  /** Answers other than 200 with the county's name (or no answer). */
  failed: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  /** Answers slower than 100 ms and 1 s. */
  over100ms: number;
  over1s: number;
  /** When the slowest one was sent, in seconds from the first. */
  maxAtSeconds: number | null;
  /**
   * p99 corrected for coordinated omission: one at a time, a stall of 2 s is one slow answer among many fast ones,
   * where a client sending every 20 ms regardless would have had a hundred waiting; each answer slower than the
   * interval counts again for each query such a client would have sent meanwhile (HdrHistogram's correction).
   */
  p99Corrected: number | null;
}

/** One POST of a ledger file. */
export interface ImportCall {
  status: number | null;
  /** The report's counts (or the error's message and code). */
  rows?: number;
  created?: number;
  advanced?: number;
  updated?: number;
  unchanged?: number;
  problems?: number;
  dryRun?: boolean;
  error?: { code?: string; message?: string; setting?: string };
  seconds: number;
  rowsPerSecond: number | null;
  /** The cheap query during the call. */
  probe: ProbeStats;
  /** CPU seconds of the server and of the database server during the call; other processes, in % of one core. */
  cpu: { serverSeconds: number | null; databaseSeconds: number | null; otherPercentOfCore: number | null };
  /** Highest VmRSS seen while it ran (sampled every 250 ms), and VmRSS once a second, KiB. */
  rssMaxSampledKiB: number | null;
  rssEverySecondKiB: number[];
}

export interface ImportMemoryRun {
  database: string;
  rows: number;
  fileBytes: number;
  ok: boolean;
  problem?: string;
  server: {
    startSeconds: number;
    /** VmHWM after start-up and the idle queries, before the import. */
    peakRssKiBBefore: number | null;
    /** VmHWM right after the import answered: the import's peak (the process is fresh). */
    peakRssKiB: number | null;
    rssKiBAfter: number | null;
    /**
     * V8's heap right after the import answered (GET /metrics: nodejs_heap_size_used_bytes, _total_bytes, the old
     * space's used bytes, nodejs_external_memory_bytes: Buffers such as the request's body), MB; garbage not yet
     * collected included.
     */
    heapAfter?: Heap | null;
    /** VmHWM after the dry run too. */
    peakRssKiBAfterDryRun?: number | null;
  };
  idle: ProbeStats;
  import: ImportCall;
  dryRun?: ImportCall;
  /** The server's stderr and its log's warnings and errors, when something went wrong. */
  serverOutput?: string;
}

export interface BoundCheck {
  database: string;
  what: string;
  rows: number | null;
  bytes: number;
  expected: string;
  status: number | null;
  setting: string | null;
  ok: boolean;
  seconds: number;
  probe: ProbeStats;
  peakRssKiB: number | null;
}

export interface ImportMemoryResult {
  limits: { maxRows: number; maxBytes: number; lineBytes: number };
  /** The server's V8 flags: `npm start`'s, unless maxOldSpaceMB replaced one for a diagnosis. */
  serverFlags: string[];
  databases: string[];
  runs: ImportMemoryRun[];
  bounds: Array<{
    database: string;
    freshServer: boolean;
    checks: BoundCheck[];
    /** After the checks: /health 200 and the cheap query answered. */
    serverUp: boolean;
    peakRssKiB: number | null;
    rssKiBAfter: number | null;
    serverOutput?: string;
  }>;
  failed: boolean;
  problems: string[];
  /** How long the whole measurement took (seeding and servers included). */
  seconds: number;
}

// ---------------------------------------------------------------------------
// Ledger files


const BOM = "\uFEFF";
const prefixBytes = () => Buffer.byteLength(`${BOM}${HEADER}\r\n`);

/** The bytes of every data line (CRLF included): as many as IMPORT_MAX_ROWS + 1 lines may have within IMPORT_MAX_BYTES. */
export function lineBytesFor(maxRows: number, maxBytes: number): number {
  return Math.floor((maxBytes - prefixBytes()) / (maxRows + 1));
}

/**
 * Writes a ledger file of `count` valid new rows, all in 中牟县 (410122), to `file`, as Excel saves it (BOM, Chinese
 * header, CRLF): references `ZM<tag><number>`, the leaf sectors, the three stages, dates of 2022–2024, 0.50 to
 * 49.99 亿元, an investor on half the rows; each line padded to exactly `lineBytes` (the name grows, the amount
 * takes trailing zeros). Returns the file's size.
 */
export function writeLedgerFile(file: string, count: number, tag: string, lineBytes: number): number {
  const random = mulberry32(0x410122 ^ tag.charCodeAt(0));
  const parents = new Set(SECTORS.map((s) => s.parentCode));
  const sectors = SECTORS.filter((s) => !parents.has(s.code)).map((s) => s.code);
  const start = Date.UTC(2022, 0, 1);
  const fd = fs.openSync(file, "w");
  let bytes = 0;
  try {
    const write = (text: string) => {
      const buffer = Buffer.from(text);
      fs.writeSync(fd, buffer);
      bytes += buffer.length;
    };
    write(`${BOM}${HEADER}\r\n`);
    let batch: string[] = [];
    for (let i = 1; i <= count; i++) {
      const sector = sectors[Math.floor(random() * sectors.length)];
      let investment = (0.5 + Math.floor(random() * 4950) / 100).toFixed(2);
      const investor = random() < 0.5 ? "中牟城投" : "";
      const stage = STAGES[Math.floor(random() * 3)];
      const date = new Date(start + Math.floor(random() * 3 * 365) * 86_400_000).toISOString().slice(0, 10);
      let name = `${COUNTY.name}${i}号项目`;
      const line = () => `ZM${tag}${String(i).padStart(7, "0")},${name},${COUNTY.code},${sector},${investment},${investor},${stage},${date}\r\n`;
      let missing = lineBytes - Buffer.byteLength(line());
      if (missing < 0) throw new Error(`a ledger line of ${Buffer.byteLength(line())} bytes does not fit in ${lineBytes} bytes: raise IMPORT_MAX_BYTES or lower IMPORT_MAX_ROWS`);
      for (let f = 0; missing >= 3; f++, missing -= 3) name += FILLER[f % FILLER.length];
      investment += "0".repeat(missing); // 0 to 2 more decimals: 4 at most, as the ledger allows
      const text = line();
      if (Buffer.byteLength(text) !== lineBytes) throw new Error(`ledger line ${i} is ${Buffer.byteLength(text)} bytes, not ${lineBytes}`);
      batch.push(text);
      if (batch.length === 5000) {
        write(batch.join(""));
        batch = [];
      }
    }
    if (batch.length) write(batch.join(""));
  } finally {
    fs.closeSync(fd);
  }
  return bytes;
}

// ---------------------------------------------------------------------------
// Databases and servers

interface Target {
  /** "SQLite" or "MariaDB 10.11.19" … */
  label: string;
  kind: "sqlite" | "mysql";
  /** A fresh, seeded database with a county token; `drop` removes it. */
  fresh: () => Promise<{ env: Record<string, string>; token: string; drop: () => Promise<void> }>;
}

function runNode(script: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 300_000, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`node ${path.relative(ROOT, script)} ${args.join(" ")} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The shipped data (`npm run seed`: migrations, then the seed) and a token for 中牟县 (`npm run token -- create`). */
async function seedAndToken(env: Record<string, string>): Promise<string> {
  await runNode(path.join(build, "src/seed/seed.cli.js"), [], env);
  const out = await runNode(path.join(build, "src/auth/token.cli.js"), ["create", "--region", COUNTY.code, "--name", "中牟县发展和改革委员会"], env);
  const token = out.trim().split("\n").pop()!.trim();
  if (!/^mpg_/.test(token)) throw new Error(`npm run token printed no token: ${out}`);
  return token;
}

async function admin(serverUrl: string, sql: string): Promise<unknown> {
  const connection = await createConnection({ uri: serverUrl, connectTimeout: 5000 });
  try {
    const [rows] = await connection.query(sql);
    return rows;
  } finally {
    await connection.end();
  }
}

function sqliteTarget(): Target {
  return {
    label: "SQLite",
    kind: "sqlite",
    fresh: async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mp-import-memory-"));
      const env = { SQLITE_PATH: path.join(dir, "ledger.sqlite"), DATABASE_URL: "" };
      const token = await seedAndToken(env);
      return { env, token, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  };
}

async function mysqlTarget(serverUrl: string): Promise<Target> {
  const server = serverUrl.replace(/\/+$/, "");
  const [{ v }] = (await admin(server, "SELECT VERSION() AS v")) as Array<{ v: string }>;
  const url = new URL(server);
  url.pathname = `/${DATABASE}`;
  const drop = () => admin(server, `DROP DATABASE IF EXISTS \`${DATABASE}\``).then(() => undefined);
  return {
    label: /mariadb/i.test(v) ? `MariaDB ${v.replace(/-MariaDB.*$/i, "")}` : `MySQL ${v}`,
    kind: "mysql",
    fresh: async () => {
      await drop();
      await admin(server, `CREATE DATABASE \`${DATABASE}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      const env = { DATABASE_URL: url.toString() };
      const token = await seedAndToken(env);
      return { env, token, drop };
    },
  };
}

interface Server extends Started {
  pid: number;
  output: () => string;
}

async function startServer(label: string, flags: string[], env: Record<string, string>): Promise<Server> {
  const started = await startChild(label, [...flags, path.join(build, "src/main.js")], { NODE_ENV: "production", PORT: "0", HOST: "127.0.0.1", LOG_SQL: "false", ...env });
  let stderr = "";
  started.child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const exit: { text?: string } = {};
  started.child.once("exit", (code, signal) => (exit.text = `the server exited (${signal ?? `code ${code}`})`));
  // Where startChild sends the server's JSON log (removed when the server exits).
  const logFile = path.join(os.tmpdir(), `mp-bench-${label.replace(/\W+/g, "-")}-${process.pid}.log`);
  const output = () => {
    let warnings: string[] = [];
    try {
      warnings = fs
        .readFileSync(logFile, "utf8")
        .split("\n")
        .filter((line) => /"level":(40|50|60)/.test(line))
        .slice(-10)
        .map((line) => line.slice(0, 1500));
    } catch {
      // gone with the server
    }
    return [exit.text, stderr.trim() && `stderr:\n${stderr.trim()}`, warnings.length ? `log warnings and errors:\n${warnings.join("\n")}` : ""].filter(Boolean).join("\n");
  };
  return { ...started, pid: started.child.pid!, output };
}

/** V8's heap as the server's GET /metrics reports it, MB. */
interface Heap {
  usedMB: number;
  totalMB: number;
  oldSpaceUsedMB: number;
  externalMB: number;
}

async function heapOf(origin: string): Promise<Heap | null> {
  try {
    const text = await (await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    const metric = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN) / 1e6;
    const heap = {
      usedMB: round(metric(/^nodejs_heap_size_used_bytes (\S+)/m), 1),
      totalMB: round(metric(/^nodejs_heap_size_total_bytes (\S+)/m), 1),
      oldSpaceUsedMB: round(metric(/^nodejs_heap_space_size_used_bytes\{space="old"\} (\S+)/m), 1),
      externalMB: round(metric(/^nodejs_external_memory_bytes (\S+)/m), 1),
    };
    return Number.isFinite(heap.usedMB) ? heap : null;
  } catch {
    return null;
  }
}

function rssKiB(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------
// HTTP: the cheap query and the import

const probeAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One cheap query by GET; its latency in ms, or null when it failed. */
function cheapQuery(origin: string): Promise<number | null> {
  const url = `${origin}/graphql?query=${encodeURIComponent(CHEAP_QUERY)}`;
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.get(url, { agent: probeAgent, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString();
        resolve(res.statusCode === 200 && body.includes(COUNTY.name) && !body.includes('"errors"') ? performance.now() - t0 : null);
      });
      res.on("error", () => resolve(null));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(null));
  });
}

/** Sends the cheap query one at a time, one every `intervalMs` (at once when the last took longer), until `stop` resolves. */
async function probe(origin: string, intervalMs: number, stop: Promise<unknown>): Promise<ProbeStats> {
  let stopped = false;
  void stop.finally(() => (stopped = true));
  const latencies: number[] = [];
  let failed = 0;
  const first = performance.now();
  let slowest = { ms: -1, at: 0 };
  while (!stopped) {
    const sent = performance.now();
    const ms = await cheapQuery(origin);
    if (ms === null) failed += 1;
    else {
      latencies.push(ms);
      if (ms > slowest.ms) slowest = { ms, at: (sent - first) / 1000 };
    }
    const wait = sent + intervalMs - performance.now();
    if (wait > 0 && !stopped) await Promise.race([sleep(wait), stop]);
  }
  return probeStats(latencies, failed, latencies.length ? round(slowest.at, 2) : null, intervalMs);
}

function probeStats(latencies: number[], failed: number, maxAtSeconds: number | null = null, intervalMs = 20): ProbeStats {
  const sorted = [...latencies].sort((a, b) => a - b);
  const corrected = [...latencies];
  for (const ms of latencies) for (let missed = ms - intervalMs; missed > intervalMs; missed -= intervalMs) corrected.push(missed);
  corrected.sort((a, b) => a - b);
  const at = (p: number) => (sorted.length ? round(percentile(sorted, p), 1) : null);
  return {
    count: sorted.length,
    failed,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: sorted.length ? round(sorted[sorted.length - 1], 1) : null,
    over100ms: sorted.filter((ms) => ms > 100).length,
    over1s: sorted.filter((ms) => ms > 1000).length,
    maxAtSeconds,
    p99Corrected: corrected.length ? round(percentile(corrected, 99), 1) : null,
  };
}

interface Posted {
  status: number | null;
  body: string;
  seconds: number;
  error?: string;
}

/** POSTs `body` (a file or bytes) to the import; with `chunked`, without a Content-Length. Gives up after `timeoutMs`. */
function postLedger(origin: string, token: string, body: { file: string } | { bytes: Buffer }, options: { dryRun?: boolean; chunked?: boolean; timeoutMs: number }): Promise<Posted> {
  const t0 = performance.now();
  const length = "file" in body ? fs.statSync(body.file).size : body.bytes.length;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (posted: Omit<Posted, "seconds">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...posted, seconds: (performance.now() - t0) / 1000 });
    };
    const req = http.request(`${origin}/import/projects.csv${options.dryRun ? "?dryRun=true" : ""}`, {
      method: "POST",
      agent: false,
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "text/csv; charset=utf-8",
        ...(options.chunked ? { "transfer-encoding": "chunked" } : { "content-length": String(length) }),
      },
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ status: null, body: "", error: `no answer within ${options.timeoutMs / 1000} s` });
    }, options.timeoutMs);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => finish({ status: res.statusCode ?? null, body: Buffer.concat(chunks).toString() }));
      res.on("error", (error) => finish({ status: res.statusCode ?? null, body: Buffer.concat(chunks).toString(), error: error.message }));
    });
    // A 413 may come (and the connection close) before the whole body is sent: the answer, when it came, is what counts.
    req.on("error", (error) => setTimeout(() => finish({ status: null, body: "", error: error.message }), 1000));
    if ("file" in body) {
      const stream = fs.createReadStream(body.file, { highWaterMark: 1 << 20 });
      stream.on("error", (error) => req.destroy(error));
      stream.pipe(req);
    } else if (options.chunked) {
      for (let i = 0; i < body.bytes.length; i += 1 << 20) req.write(body.bytes.subarray(i, i + (1 << 20)));
      req.end();
    } else req.end(body.bytes);
  });
}

/** The import (or a bound check) with the cheap query alongside, the CPU time and the RSS of the server while it runs. */
async function measuredPost(
  server: Server,
  token: string,
  body: { file: string } | { bytes: Buffer },
  options: { dryRun?: boolean; chunked?: boolean; timeoutMs: number; intervalMs: number; databasePid: number | null },
): Promise<{ posted: Posted; call: ImportCall }> {
  const before = { server: processTicks(server.pid), db: processTicks(options.databasePid), client: process.cpuUsage(), machine: machineBusyTicks() };
  let rssMax: number | null = null;
  const everySecond: number[] = [];
  let tick = 0;
  const sampler = setInterval(() => {
    const rss = rssKiB(server.pid);
    if (rss !== null) rssMax = Math.max(rssMax ?? 0, rss);
    if (rss !== null && ++tick % 4 === 0) everySecond.push(rss);
  }, 250);
  const posting = postLedger(server.origin, token, body, options);
  const [posted, probed] = await Promise.all([posting, probe(server.origin, options.intervalMs, posting)]);
  clearInterval(sampler);
  const after = { server: processTicks(server.pid), db: processTicks(options.databasePid), client: process.cpuUsage(before.client), machine: machineBusyTicks() };
  const ticks = (a: number | null, b: number | null) => (a === null || b === null ? null : ((b - a) * TICK_MS) / 1000);
  const serverSeconds = ticks(before.server, after.server);
  const databaseSeconds = ticks(before.db, after.db);
  const machineSeconds = ticks(before.machine, after.machine);
  const clientSeconds = (after.client.user + after.client.system) / 1e6;
  const otherPercentOfCore =
    machineSeconds === null || posted.seconds === 0 ? null : round((100 * Math.max(0, machineSeconds - (serverSeconds ?? 0) - (databaseSeconds ?? 0) - clientSeconds)) / posted.seconds, 0);
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(posted.body) as Record<string, unknown>;
  } catch {
    // not JSON (or no answer)
  }
  const error = (parsed.errors as Array<{ message?: string; extensions?: { code?: string; setting?: string } }> | undefined)?.[0];
  const count = (key: string) => (typeof parsed[key] === "number" ? (parsed[key] as number) : undefined);
  const problems = Array.isArray(parsed.problems) ? parsed.problems.length + (count("problemsNotListed") ?? 0) : undefined;
  const call: ImportCall = {
    status: posted.status,
    rows: count("rows"),
    created: count("created"),
    advanced: count("advanced"),
    updated: count("updated"),
    unchanged: count("unchanged"),
    problems,
    dryRun: typeof parsed.dryRun === "boolean" ? parsed.dryRun : undefined,
    ...(error || posted.error ? { error: { code: error?.extensions?.code, message: error?.message ?? posted.error, setting: error?.extensions?.setting } } : {}),
    seconds: round(posted.seconds, 2),
    rowsPerSecond: posted.status === 200 && count("rows") ? Math.round(count("rows")! / posted.seconds) : null,
    probe: probed,
    cpu: { serverSeconds, databaseSeconds, otherPercentOfCore },
    rssMaxSampledKiB: rssMax,
    rssEverySecondKiB: everySecond,
  };
  return { posted, call };
}

/** Why an import's answer is not "200, every row created", or null. */
function importProblem(call: ImportCall, rows: number, dryRun: boolean): string | null {
  if (call.status !== 200) return `status ${call.status ?? "none"}${call.error ? `: ${call.error.code ?? ""} ${call.error.message ?? ""}` : ""}${call.problems ? ` (${call.problems} problems)` : ""}`;
  if (call.rows !== rows || call.created !== rows) return `the report says rows ${call.rows}, created ${call.created}, where ${rows} new rows were sent`;
  if (call.dryRun !== dryRun) return `the report says dryRun ${call.dryRun}`;
  if (call.probe.failed) return `${call.probe.failed} cheap queries failed during the import`;
  return null;
}

// ---------------------------------------------------------------------------
// The measurement

/** Every size on every database on fresh servers, then the bounds; see the file's comment. */
export async function measureImportMemory(options: ImportMemoryOptions): Promise<ImportMemoryResult> {
  const say = options.say ?? (() => undefined);
  const intervalMs = options.probeIntervalMs ?? 20;
  const timeoutMs = (options.timeoutSeconds ?? 900) * 1000;
  const withDryRun = options.dryRun ?? true;
  const idleMs = (options.idleSeconds ?? 2) * 1000;
  const began = performance.now();
  const checkingBounds = options.bounds ?? true;
  const boundsOnFresh = options.boundsOnFreshServer ?? true;
  const { maxRows, maxBytes } = options;
  const lineBytes = lineBytesFor(maxRows, maxBytes);
  const flags = options.maxOldSpaceMB === undefined ? START_FLAGS : [...START_FLAGS.filter((f) => !f.startsWith("--max-old-space-size")), `--max-old-space-size=${options.maxOldSpaceMB}`];
  if (!fs.existsSync(path.join(DIST, "src/main.js"))) throw new Error("dist/src/main.js is missing: run npm run build first");
  const limitsEnv: Record<string, string> = {
    IMPORT_MAX_ROWS: String(maxRows),
    IMPORT_MAX_BYTES: String(maxBytes),
  };
  const targets = [sqliteTarget(), ...(options.mysql ? [await mysqlTarget(options.mysql)] : [])];
  const databasePid = options.mysql ? findDatabasePid() : null;
  const result: ImportMemoryResult = {
    limits: { maxRows, maxBytes, lineBytes },
    serverFlags: flags,
    databases: targets.map((t) => t.label),
    runs: [],
    bounds: [],
    failed: false,
    problems: [],
    seconds: 0,
  };
  const fail = (problem: string) => {
    result.failed = true;
    result.problems.push(problem);
    say(`FAILED: ${problem}`);
  };

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mp-import-memory-files-"));
  // The build measured: dist/ as it is now (migrations at ../../migrations from src/db, as in dist/), node_modules linked.
  build = path.join(dir, "dist");
  fs.cpSync(DIST, build, { recursive: true, filter: (source) => !source.endsWith(".tsbuildinfo") && !source.endsWith(".map") });
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  const files = new Map<string, { file: string; bytes: number }>();
  const fileOf = (count: number, tag: string) => {
    const key = `${tag}${count}`;
    let found = files.get(key);
    if (!found) {
      const file = path.join(dir, `${key}.csv`);
      found = { file, bytes: writeLedgerFile(file, count, tag, lineBytes) };
      files.set(key, found);
    }
    return found;
  };
  try {
    for (const target of targets) {
      const kind = target.kind === "sqlite" ? "sqlite" : "mysql";
      const sizes = [...options.rows];
      for (const [index, rows] of sizes.entries()) {
        const last = index === sizes.length - 1;
        const file = fileOf(rows, "A");
        say(`${target.label}, ${rows.toLocaleString("en-US")} rows (${(file.bytes / 1e6).toFixed(2)} MB): seeding a fresh database, making a 410122 token`);
        const db = await target.fresh();
        let server: Server | undefined;
        const run: ImportMemoryRun = {
          database: target.label,
          rows,
          fileBytes: file.bytes,
          ok: false,
          server: { startSeconds: 0, peakRssKiBBefore: null, peakRssKiB: null, rssKiBAfter: null },
          idle: probeStats([], 0),
          import: undefined as unknown as ImportCall,
        };
        try {
          server = await startServer(`import-memory ${kind} ${rows}`, flags, { ...db.env, ...limitsEnv });
          run.server.startSeconds = round(server.startSeconds, 2);
          say(`  server pid ${server.pid} ready in ${run.server.startSeconds} s (node ${flags.join(" ")}); the cheap query for ${idleMs / 2000} s (warm-up), then ${idleMs / 1000} s with nothing else running`);
          await probe(server.origin, intervalMs, sleep(idleMs / 2));
          run.idle = await probe(server.origin, intervalMs, sleep(idleMs));
          run.server.peakRssKiBBefore = peakRssKiB(server.pid);
          say(`  idle: p50 ${run.idle.p50} ms, p99 ${run.idle.p99} ms (${run.idle.count}); VmHWM ${mb(run.server.peakRssKiBBefore)} MB; importing`);
          const { call } = await measuredPost(server, db.token, { file: file.file }, { timeoutMs, intervalMs, databasePid });
          run.import = call;
          run.server.peakRssKiB = peakRssKiB(server.pid);
          run.server.rssKiBAfter = rssKiB(server.pid);
          run.server.heapAfter = await heapOf(server.origin);
          say(
            `  import: status ${call.status}, created ${call.created ?? "?"} of ${rows} in ${call.seconds} s (${call.rowsPerSecond ?? "?"} rows/s); ` +
              `VmHWM ${mb(run.server.peakRssKiB)} MB (heap used ${run.server.heapAfter?.usedMB ?? "?"} of ${run.server.heapAfter?.totalMB ?? "?"} MB, external ${run.server.heapAfter?.externalMB ?? "?"} MB); cheap query ${call.probe.count}× p50 ${call.probe.p50} p99 ${call.probe.p99} max ${call.probe.max} ms (at ${call.probe.maxAtSeconds} s), p99 corrected ${call.probe.p99Corrected} ms; ` +
              `other work ${call.cpu.otherPercentOfCore ?? "?"} % of a core`,
          );
          const problem = importProblem(call, rows, false);
          if (problem) throw new Error(`import of ${rows} rows on ${target.label}: ${problem}`);
          if (withDryRun) {
            const dry = fileOf(rows, "D");
            const { call: dryCall } = await measuredPost(server, db.token, { file: dry.file }, { dryRun: true, timeoutMs, intervalMs, databasePid });
            run.dryRun = dryCall;
            run.server.peakRssKiBAfterDryRun = peakRssKiB(server.pid);
            say(`  dry run of ${rows} other new rows: status ${dryCall.status} in ${dryCall.seconds} s (${dryCall.rowsPerSecond ?? "?"} rows/s); VmHWM ${mb(run.server.peakRssKiBAfterDryRun)} MB`);
            const dryProblem = importProblem(dryCall, rows, true);
            if (dryProblem) throw new Error(`dry run of ${rows} rows on ${target.label}: ${dryProblem}`);
          }
          run.ok = true;
          if (last && checkingBounds && !boundsOnFresh) result.bounds.push(await checkBounds(target.label, false, server, db.token));
        } catch (error) {
          run.problem = (error as Error).message;
          if (server) run.serverOutput = server.output();
          fail(`${run.problem}${run.serverOutput ? `\n${run.serverOutput}` : ""}`);
        } finally {
          if (run.import === undefined) delete (run as Partial<ImportMemoryRun>).import;
          result.runs.push(run);
          if (server) await stopChild(server.child);
          await db.drop();
        }
      }
      if (checkingBounds && boundsOnFresh) {
        say(`${target.label}, the bounds: seeding a fresh database for a fresh server`);
        const db = await target.fresh();
        let server: Server | undefined;
        try {
          server = await startServer(`import-memory ${kind} bounds`, flags, { ...db.env, ...limitsEnv });
          result.bounds.push(await checkBounds(target.label, true, server, db.token));
        } catch (error) {
          fail(`the bounds on ${target.label}: ${(error as Error).message}${server ? `\n${server.output()}` : ""}`);
        } finally {
          if (server) await stopChild(server.child);
          await db.drop();
        }
      }
    }
  } finally {
    build = DIST;
    fs.rmSync(path.join(dir, "node_modules"), { force: true }); // the link only, before the directory goes
    fs.rmSync(dir, { recursive: true, force: true });
    probeAgent.destroy();
    result.seconds = round((performance.now() - began) / 1000, 1);
  }
  return result;

  /** A file of IMPORT_MAX_ROWS + 1 rows, then IMPORT_MAX_BYTES + 1 bytes with and without a Content-Length; the server must stay up. */
  async function checkBounds(database: string, freshServer: boolean, server: Server, token: string): Promise<ImportMemoryResult["bounds"][number]> {
    const checks: BoundCheck[] = [];
    const overRows = fileOf(maxRows + 1, "R");
    say(`  bounds on ${database} (server pid ${server.pid}${freshServer ? ", fresh" : ", after its import"}): ${maxRows + 1} rows (${(overRows.bytes / 1e6).toFixed(2)} MB)`);
    const record = (what: string, rows: number | null, bytes: number, expected: string, call: ImportCall) => {
      const ok = call.status === 413 && call.error?.setting === expected;
      const check: BoundCheck = { database, what, rows, bytes, expected: `413 ${expected}`, status: call.status, setting: call.error?.setting ?? null, ok, seconds: call.seconds, probe: call.probe, peakRssKiB: peakRssKiB(server.pid) };
      checks.push(check);
      say(`    ${what}: status ${call.status} ${call.error?.setting ?? call.error?.message ?? ""} in ${call.seconds} s; VmHWM ${mb(check.peakRssKiB)} MB; cheap query p99 ${call.probe.p99} max ${call.probe.max} ms`);
      if (!ok) fail(`${what} on ${database}: expected 413 naming ${expected}, got ${call.status} ${JSON.stringify(call.error ?? {})}`);
    };
    record(`${(maxRows + 1).toLocaleString("en-US")} rows (IMPORT_MAX_ROWS + 1)`, maxRows + 1, overRows.bytes, "IMPORT_MAX_ROWS", (await measuredPost(server, token, { file: overRows.file }, { timeoutMs, intervalMs, databasePid })).call);
    // The largest accepted file, then blank lines (which an import skips) up to IMPORT_MAX_BYTES + 1 bytes.
    const largest = fs.readFileSync(fileOf(maxRows, "A").file);
    const overBytes = Buffer.concat([largest, Buffer.alloc(maxBytes + 1 - largest.length, "\n")]);
    for (const chunked of [false, true]) {
      const what = `${(maxBytes + 1).toLocaleString("en-US")} bytes (IMPORT_MAX_BYTES + 1), ${chunked ? "chunked" : "Content-Length"}`;
      record(what, null, overBytes.length, "IMPORT_MAX_BYTES", (await measuredPost(server, token, { bytes: overBytes }, { chunked, timeoutMs, intervalMs, databasePid })).call);
    }
    let serverUp = false;
    try {
      const health = await fetch(`${server.origin}/health`, { signal: AbortSignal.timeout(10_000) });
      serverUp = health.ok && (await cheapQuery(server.origin)) !== null;
    } catch {
      serverUp = false;
    }
    const peak = peakRssKiB(server.pid);
    const bounds = { database, freshServer, checks, serverUp, peakRssKiB: peak, rssKiBAfter: rssKiB(server.pid), ...(serverUp ? {} : { serverOutput: server.output() }) };
    say(`    after them: server ${serverUp ? "up (health 200, the cheap query answered)" : "DOWN"}; VmHWM ${mb(peak)} MB`);
    if (!serverUp) fail(`the server on ${database} did not answer after the bound checks\n${bounds.serverOutput ?? ""}`);
    return bounds;
  }
}

// ---------------------------------------------------------------------------
// Output

const mb = (kib: number | null | undefined) => (kib === null || kib === undefined ? "?" : ((kib * 1024) / 1e6).toFixed(1));

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? "")].length)));
  return rows.map((r, i) => {
    const line = r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ").trimEnd();
    return i === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
  });
}

/** The result as lines of text: a table of the imports, one of the bounds, the problems. */
export function renderImportMemory(result: ImportMemoryResult): string[] {
  const n = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? "" : v.toFixed(d));
  const rows: string[][] = [
    ["database", "rows", "MB", "status", "created", "s", "rows/s", "RSS before MB", "peak RSS MB", "heap used/total MB", "external MB", "q n", "q p50", "q p99", "q max", "q p99 corr.", ">100ms", "idle p99", "other %", "dry run s", "dry rows/s", "peak after dry MB"],
  ];
  for (const r of result.runs) {
    const i = r.import;
    rows.push([
      r.database,
      r.rows.toLocaleString("en-US"),
      (r.fileBytes / 1e6).toFixed(2),
      String(i?.status ?? "-"),
      String(i?.created ?? "-"),
      n(i?.seconds, 2),
      i?.rowsPerSecond?.toLocaleString("en-US") ?? "",
      mb(r.server.peakRssKiBBefore),
      mb(r.server.peakRssKiB),
      r.server.heapAfter ? `${r.server.heapAfter.usedMB.toFixed(0)}/${r.server.heapAfter.totalMB.toFixed(0)}` : "",
      n(r.server.heapAfter?.externalMB),
      String(i?.probe.count ?? ""),
      n(i?.probe.p50),
      n(i?.probe.p99),
      n(i?.probe.max),
      n(i?.probe.p99Corrected),
      String(i?.probe.over100ms ?? ""),
      n(r.idle.p99),
      String(i?.cpu.otherPercentOfCore ?? ""),
      n(r.dryRun?.seconds, 2),
      r.dryRun?.rowsPerSecond?.toLocaleString("en-US") ?? "",
      r.dryRun ? mb(r.server.peakRssKiBAfterDryRun) : "",
    ]);
  }
  const lines = [
    `Ledger import in bounded memory (bench/import-memory.ts): a fresh server per size (node ${result.serverFlags.join(" ")} dist/src/main.js), every row new, all in 410122;`,
    `IMPORT_MAX_ROWS ${result.limits.maxRows.toLocaleString("en-US")}, IMPORT_MAX_BYTES ${result.limits.maxBytes.toLocaleString("en-US")}, ${result.limits.lineBytes} bytes a line. q = the cheap query ${CHEAP_QUERY} by GET,`,
    "one at a time every 20 ms during the import (ms; p99 corr.: corrected for coordinated omission, as if sent every 20 ms whatever the wait); RSS before = VmHWM after start-up and the idle queries; peak RSS = VmHWM when the import answered; heap and external (Buffers) = V8's after it (/metrics).",
    "",
    ...table(rows),
  ];
  const bounds: string[][] = [["database", "sent", "MB", "expected", "status", "s", "peak RSS MB", "q n", "q p99", "q max"]];
  for (const b of result.bounds) {
    for (const c of b.checks) {
      bounds.push([c.database, c.what, (c.bytes / 1e6).toFixed(2), c.expected, `${c.status ?? "none"}${c.ok ? "" : " WRONG"}`, c.seconds.toFixed(2), mb(c.peakRssKiB), String(c.probe.count), n(c.probe.p99), n(c.probe.max)]);
    }
  }
  if (result.bounds.length) {
    lines.push("", "Bounds (413 expected; the server must stay up):", ...table(bounds));
    for (const b of result.bounds) lines.push(`${b.database}: after them the server is ${b.serverUp ? "up" : "DOWN"}, VmHWM ${mb(b.peakRssKiB)} MB, VmRSS ${mb(b.rssKiBAfter)} MB (${b.freshServer ? "a fresh server" : "the last size's server, after its import"})`);
  }
  lines.push(`(${result.seconds} s in all, seeding and servers included)`);
  for (const p of result.problems) lines.push(`FAILED: ${p}`);
  return lines;
}

// ---------------------------------------------------------------------------
// Command line

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      mysql: { type: "string" },
      rows: { type: "string" },
      smoke: { type: "boolean" },
      "no-dry-run": { type: "boolean" },
      "no-bounds": { type: "boolean" },
      timeout: { type: "string", default: "900" },
      "max-old-space-size": { type: "string" },
    },
    strict: true,
  });
  const smoke = values.smoke === true;
  const plan = importMemoryPlan(smoke);
  const { maxRows, maxBytes } = plan;
  const rows = values.rows === undefined ? plan.rows : values.rows.split(",").map((s) => {
    const count = Number(s.trim().replace(/_/g, ""));
    if (!Number.isInteger(count) || count < 1 || count > maxRows) throw new Error(`--rows takes whole numbers from 1 to ${maxRows} (IMPORT_MAX_ROWS), comma-separated (got "${s}")`);
    return count;
  });
  process.stderr.write("building (npm run build)\n");
  await new Promise<void>((resolve, reject) =>
    execFile("npm", ["run", "build", "--silent"], { cwd: ROOT, timeout: 600_000 }, (error, stdout, stderr) => (error ? reject(new Error(`npm run build failed:\n${stdout}${stderr}`)) : resolve())),
  );
  const started = new Date();
  // The commit built and measured (others may commit while it runs).
  const commit = gitCommit();
  const result = await measureImportMemory({
    rows,
    mysql: values.mysql,
    maxRows,
    maxBytes,
    dryRun: values["no-dry-run"] !== true,
    bounds: values["no-bounds"] !== true,
    boundsOnFreshServer: plan.boundsOnFreshServer,
    idleSeconds: plan.idleSeconds,
    timeoutSeconds: Number(values.timeout),
    maxOldSpaceMB: values["max-old-space-size"] === undefined ? undefined : Number(values["max-old-space-size"]),
    say: (what) => process.stderr.write(`${what}\n`),
  });
  const stamp = started.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const file = path.join(RESULTS_DIR, `${stamp}-import-memory-${smoke ? "smoke-" : ""}${rows.join("-")}.json`);
  const cpus = os.cpus();
  const report = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npx ts-node --transpile-only bench/import-memory.ts ${process.argv.slice(2).join(" ")}`.trim(),
    commit,
    machine: { cpuModel: cpus[0]?.model ?? "unknown", cpuCount: cpus.length, totalMemoryBytes: os.totalmem(), node: process.version, loadAverageAtStart: round(os.loadavg()[0]) },
    importMemory: result,
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  const checks = importMemoryChecks(result).map((c) => `  ${c.pass === null ? "  -  " : c.pass ? " ok  " : "MISS "} ${c.target}: ${c.value}`);
  process.stdout.write(`${["", ...renderImportMemory(result), "", "Targets (reported, not enforced):", ...checks, "", `Written to ${path.relative(ROOT, file)}`, ""].join("\n")}`);
  return result.failed ? 1 : 0;
}


if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`import-memory benchmark failed: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
