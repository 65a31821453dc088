/**
 * `npm run bench`: the HTTP benchmark of the province-to-county question.
 *
 * For each data size: make sure `mp_bench_<size>` holds the synthetic national
 * data set (bench/generate.ts), start the compiled server (dist/src/main.js,
 * NODE_ENV=production) in a child process on it, and measure each scenario
 * with autocannon from this process: latency with 1 connection after a
 * warm-up, throughput with 10 connections, SQL statements of the first and of
 * a warm request, the server's peak RSS. Then the same for the floor
 * (bench/floor.ts: hand-written SQL over the rollups + JSON.stringify). Then
 * the first request after a write (a server with AGGREGATE_CACHE=false) and the
 * reads of Henan while a bounded writer records changes (bench/writes.ts, on a
 * copy of the database). Once per run, the ledger import (bench/import.ts) and
 * its memory with a cheap query meanwhile, on SQLite and MariaDB
 * (bench/import-memory.ts); and the meeting day, live: subscribed screens while writes land (bench/live.ts).
 * Prints the tables and the checks against the targets,
 * and writes it all as JSON to bench/results/.
 *
 *   npm run bench -- [--projects 10000,1000000] [--duration 15] [--warmup 2]
 *                    [--mysql mysql://root@127.0.0.1:3306] [--smoke] [--profile]
 *                    [--scenarios province-to-county,rankings,assessment-tree,...]
 *
 * Exits 1 when a scenario answered with errors (or not 200), never for a missed target.
 */
import "reflect-metadata";

import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import cliProgress from "cli-progress";
import { createConnection } from "mysql2/promise";
import ts from "typescript";

import { assertMysqlUrl, loadConfig, redactUrl } from "../src/config";
import { openDatabase } from "../src/db/open-database";
import { type BenchPhase, ensureBenchData } from "./generate";
import { type ImportResult, measureImport, renderImport } from "./import";
import { type ImportMemoryResult, importMemoryChecks, importMemoryPlan, measureImportMemory, renderImportMemory } from "./import-memory";
import { gitCommit } from "./git";
import { measureInstances } from "./instances";
import { type LiveResult, liveChecks, livePlan, measureLive, renderLive } from "./live";
import { cannon, findDatabasePid, post, waitForDatabaseIdle } from "./load";
import { type Check, type Measurement, type Pids, round, runProblem, type Sample, type ScenarioResult } from "./measurement";
import { peakRssKiB, startChild, stopChild } from "./servers";
import { measureWrites, renderWrites, writeChecks, type WritesResult } from "./writes";
import {
  ASSESSMENT_YEAR,
  assessmentTreeQuery,
  breakdownQuery,
  factorStatsTreeQuery,
  funnelTreeQuery,
  type IntrospectedArg,
  outputStatsTreeQuery,
  PROJECT_PAGE,
  provinceToCounty,
  QUERY_FIELDS_INTROSPECTION,
  rankingsQuery,
} from "./scenarios";

const ROOT = path.resolve(__dirname, "..");
const SERVER_MAIN = path.join(ROOT, "dist/src/main.js");
/** The V8 flags `npm start` runs the server with (package.json is their one home), so the benchmark measures what production runs. */
const START_FLAGS: string[] = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts.start as string)
  .split(/\s+/)
  .filter((token) => token.startsWith("--"));
const RESULTS_DIR = path.join(__dirname, "results");

/**
 * The read scenarios, each measured on the server as production runs it. The assessment reads (issue 19, on the
 * generated assessment layer) are measured once more on the server with the aggregate cache off (which turns the
 * response cache off too): the cost of a request whose answer is not kept. With --smoke they run 1 s and no warm-up.
 */
const SCENARIOS: ReadonlyArray<{ key: string; name: string; query: string; assessment?: true }> = [
  { key: "province-to-county", name: "province-to-county", query: provinceToCounty() },
  { key: "province-to-county-stage", name: "province-to-county, stage filter", query: provinceToCounty("(filter: { stages: [STARTED] })") },
  { key: "project-page", name: "project page (100 rows)", query: PROJECT_PAGE },
  { key: "rankings", name: `rankings (Henan's 18 cities, STARTED, ${ASSESSMENT_YEAR})`, query: rankingsQuery(), assessment: true },
  { key: "assessment-tree", name: `assessment tree (province, cities, counties; ${ASSESSMENT_YEAR})`, query: assessmentTreeQuery(), assessment: true },
  { key: "funnel-tree", name: "funnel tree (province and cities)", query: funnelTreeQuery(), assessment: true },
  { key: "factor-stats-tree", name: "factor stats tree (province and cities)", query: factorStatsTreeQuery(), assessment: true },
  { key: "output-stats-tree", name: `output stats tree (province, cities, counties; ${ASSESSMENT_YEAR})`, query: outputStatsTreeQuery(), assessment: true },
];
const SCENARIO_KEYS = SCENARIOS.map((s) => s.key);

// ---------------------------------------------------------------------------
// Options

interface Options {
  sizes: number[];
  duration: number;
  warmup: number;
  mysql: string;
  smoke: boolean;
  profile: boolean;
  /** --scenarios: only these read scenarios (keys of SCENARIOS), on the server and with the aggregate cache off; nothing else. Null: the whole benchmark. */
  scenarios: string[] | null;
}

const USAGE = `usage: npm run bench -- [--projects 10000,1000000] [--duration S] [--warmup S] [--mysql mysql://root@127.0.0.1:3306] [--smoke] [--profile]
  --projects  data sizes, comma-separated (default 10000,1000000; database mp_bench_<size> each)
  --duration  seconds per measurement (default 15; 3 with --smoke)
  --warmup    seconds of warm-up before the latency run (default 2; 1 with --smoke)
  --mysql     MySQL/MariaDB server URL, without a database (default mysql://root@127.0.0.1:3306)
  --smoke     one size of 3,000 projects and 3-second runs, 2 seconds for the write scenarios, 2,000-row imports, 200 live screens (CI)
  --profile   run the server with --cpu-prof (profiles in bench/results/profiles/)
  --scenarios only these read scenarios, comma-separated keys (${SCENARIO_KEYS.join(", ")}), each measured on the server and
              (province-to-county and the assessment reads) with the aggregate cache off; no floor, writes, imports or live`;

function parseOptions(argv: string[]): Options {
  const values = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new UsageError(`unexpected argument "${arg}"`);
    const [, name, inline] = m;
    if (name === "smoke" || name === "profile") values.set(name, true);
    else if (["projects", "duration", "warmup", "mysql", "scenarios"].includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith("--")) throw new UsageError(`--${name} needs a value`);
      values.set(name, value);
    } else throw new UsageError(`unknown option --${name}`);
  }
  const smoke = values.get("smoke") === true;
  const num = (name: string, fallback: number, min: number, max: number): number => {
    const raw = values.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max} (got "${String(raw)}")`);
    return n;
  };
  const rawSizes = values.get("projects");
  const sizes =
    rawSizes === undefined
      ? smoke
        ? [3000]
        : [10_000, 1_000_000]
      : String(rawSizes)
          .split(",")
          .map((s) => {
            const n = Number(s.trim().replace(/_/g, ""));
            if (!Number.isInteger(n) || n < 1) throw new UsageError(`--projects takes whole numbers separated by commas (got "${String(rawSizes)}")`);
            return n;
          });
  const rawScenarios = values.get("scenarios");
  const scenarios = rawScenarios === undefined ? null : String(rawScenarios).split(",").map((key) => key.trim()).filter(Boolean);
  const unknown = scenarios?.filter((key) => !SCENARIO_KEYS.includes(key)) ?? [];
  if (scenarios && (scenarios.length === 0 || unknown.length)) throw new UsageError(`--scenarios takes keys of ${SCENARIO_KEYS.join(", ")} (got "${String(rawScenarios)}")`);
  const mysql = String(values.get("mysql") ?? process.env.MYSQL_URL ?? "mysql://root@127.0.0.1:3306");
  const parsed = assertMysqlUrl(mysql, "--mysql", false);
  parsed.pathname = "";
  return {
    sizes,
    duration: num("duration", smoke ? 3 : 15, 1, 3600),
    warmup: num("warmup", smoke ? 1 : 2, 0, 600),
    mysql: parsed.toString().replace(/\/$/, ""),
    smoke,
    profile: values.get("profile") === true,
    scenarios,
  };
}

class UsageError extends Error {}

// ---------------------------------------------------------------------------
// Data

interface DataReport {
  database: string;
  generated: boolean;
  projects: number;
  milestones: number;
  seconds: number;
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function adminQuery<T = unknown>(serverUrl: string, sql: string): Promise<T> {
  const connection = await createConnection({ uri: serverUrl, connectTimeout: 5000 });
  try {
    const [rows] = await connection.query(sql);
    return rows as T;
  } finally {
    await connection.end();
  }
}

/** Creates `mp_bench_<size>` if missing, migrates it and has bench/generate.ts fill it (or reuse what is there). */
async function ensureData(options: Options, size: number): Promise<DataReport> {
  const database = `mp_bench_${size}`;
  await adminQuery(options.mysql, `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const db = await openDatabase(loadConfig({ DATABASE_URL: withDatabase(options.mysql, database), NODE_ENV: "production" }));
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `  data ${database} [{bar}] {percentage}% {value}/{total} projects, {phase}, {duration_formatted}`,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const show = (done: number, phase?: BenchPhase) => {
    if (!started) {
      bar.start(size, done, { phase: phase ?? "projects" });
      started = true;
    } else bar.update(done, phase ? { phase } : {});
  };
  let done = 0;
  try {
    const report = await ensureBenchData(db, {
      projects: size,
      onPhase: (phase) => show(done, phase),
      onProgress: (n) => show((done = n)),
    });
    return { database, ...report };
  } finally {
    if (started) bar.stop();
    await db.destroy();
  }
}

// ---------------------------------------------------------------------------
// Measuring

/** Why a sampled response is not a clean answer, or null when it is. */
function sampleProblem(sample: Sample): string | null {
  if (sample.status !== 200) return `status ${sample.status}: ${sample.body.slice(0, 500)}`;
  let parsed: { data?: unknown; errors?: unknown[] };
  try {
    parsed = JSON.parse(sample.body);
  } catch {
    return `body is not JSON: ${sample.body.slice(0, 200)}`;
  }
  if (parsed.errors) return `errors: ${JSON.stringify(parsed.errors).slice(0, 1000)}`;
  if (parsed.data === null || parsed.data === undefined) return "no data";
  const first = Object.values(parsed.data as Record<string, unknown>)[0];
  if (first === null || first === undefined) return `data is empty: ${sample.body.slice(0, 200)}`;
  return null;
}

/** Slowness, which is reported but is not a failure: timeouts (30 s), requests cut off at the end of the run. */
function runSlowness(run: Measurement): string | null {
  const slow = [
    run.requests === 0 && `no request completed within ${run.seconds} s`,
    run.timeouts && `${run.timeouts} timeouts (30 s)`,
    run.unfinished && run.requests < 10 * run.connections && `${run.unfinished} requests cut off at the end`,
  ].filter(Boolean);
  return slow.length ? `${run.connections} conn: ${slow.join(", ")}` : null;
}

/** Cold request, warm-up, warm request, latency (1 connection), throughput (10 connections). */
async function measureScenario(
  options: Options,
  target: { url: string; pids: Pids; database: string },
  scenario: { key: string; name: string; query?: string },
  onWarmBody?: (body: string) => void,
): Promise<ScenarioResult> {
  const { url, pids } = target;
  const result: ScenarioResult = { key: scenario.key, name: scenario.name, status: "ok", query: scenario.query };
  const body = scenario.query === undefined ? "{}" : JSON.stringify({ query: scenario.query });
  const say = (what: string) => process.stderr.write(`  ${scenario.name}: ${what}\n`);
  const run = async (connections: number, seconds: number) => {
    const measured = await cannon(url, body, connections, seconds, pids);
    await waitForDatabaseIdle(options.mysql, target.database);
    return measured;
  };
  say("first request");
  const cold = await post(url, body);
  const fail = (problem: string): ScenarioResult => {
    process.stderr.write(`  ${scenario.name}: FAILED: ${problem}\n`);
    return { ...result, status: "failed", problem };
  };
  let problem = sampleProblem(cold);
  if (problem) return fail(`first response: ${problem}`);
  if (options.warmup > 0) {
    say(`warm-up ${options.warmup} s`);
    problem = runProblem(await run(1, options.warmup));
    if (problem) return fail(`warm-up: ${problem}`);
  }
  const warm = await post(url, body);
  problem = sampleProblem(warm);
  if (problem) return fail(`warm response: ${problem}`);
  onWarmBody?.(warm.body);
  result.responseBytes = Buffer.byteLength(warm.body);
  result.sql = { cold: cold.sqlStatements, warm: warm.sqlStatements };
  result.sampleMs = { cold: cold.ms, warm: warm.ms };
  say(`first request ${cold.ms} ms, warm request ${warm.ms} ms; latency, 1 connection, ${options.duration} s`);
  result.latency = await run(1, options.duration);
  say(`throughput, 10 connections, ${options.duration} s`);
  result.throughput = await run(10, options.duration);
  problem = runProblem(result.latency) ?? runProblem(result.throughput);
  if (problem) return fail(problem);
  const slow = [runSlowness(result.latency), runSlowness(result.throughput)].filter(Boolean).join("; ");
  if (slow) result.slow = slow;
  const cpu = result.throughput.cpu;
  say(
    `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${result.throughput.requestsPerSecond} req/s; ` +
      `CPU ms/request at 10 conn: server ${cpu.serverMsPerRequest ?? "?"}, database ${cpu.databaseMsPerRequest ?? "?"}, client ${cpu.clientMsPerRequest}; ` +
      `other work on the machine ${cpu.otherPercentOfCore ?? "?"} % of a core${slow ? `; SLOW: ${slow}` : ""}`,
  );
  return result;
}

// ---------------------------------------------------------------------------
// One size

interface FloorResult extends ScenarioResult {
  /** The floor's body equals the GraphQL server's answer to scenario 1, byte for byte (null: not compared). */
  sameBody: boolean | null;
  difference?: string;
  peakRssKiB: number | null;
}

interface SizeResult {
  projects: number;
  data: DataReport;
  server: { startSeconds: number; peakRssKiB: number | null; profile?: string };
  scenarios: ScenarioResult[];
  floor: FloorResult;
  /** Reads while writing (bench/writes.ts); not run with --scenarios. */
  writes?: WritesResult;
  /** GraphQL / floor for province-to-county: p50 (1 conn) and req/s (10 conn). */
  ratios: { p50: number | null; requestsPerSecond: number | null };
}

async function runSize(options: Options, size: number): Promise<SizeResult> {
  process.stderr.write(`\n== ${size.toLocaleString("en-US")} projects\n`);
  const data = await ensureData(options, size);
  process.stderr.write(
    `  data: ${data.database}, ${data.projects} projects, ${data.milestones} milestones${data.generated ? `, generated in ${data.seconds.toFixed(1)} s` : ", already there"}\n`,
  );
  const databaseUrl = withDatabase(options.mysql, data.database);

  // The product, as production runs it.
  const profileDir = path.join(RESULTS_DIR, "profiles");
  const startServer = (label: string, database: string, env: Record<string, string>, profileName: string) => {
    const nodeArgs = [...START_FLAGS, ...(options.profile ? ["--cpu-prof", "--cpu-prof-dir", profileDir, `--cpu-prof-name=${profileName}`] : [])];
    const settings = Object.entries(env).map(([k, v]) => `, ${k}=${v}`).join("");
    process.stderr.write(`  starting ${label} (node ${START_FLAGS.join(" ")} dist/src/main.js, NODE_ENV=production${settings}) on ${database}\n`);
    return startChild(label, [...nodeArgs, SERVER_MAIN], {
      NODE_ENV: "production",
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: withDatabase(options.mysql, database),
      LOG_SQL: "false",
      // The benchmark reads the statement count of each answer and introspects the schema; both are off in production.
      SQL_STATEMENTS_HEADER: "true",
      INTROSPECTION: "true",
      ...env,
    });
  };
  const server = await startServer("the server", data.database, {}, `server-${size}-${Date.now()}.cpuprofile`);
  const url = server.url;
  const databasePid = findDatabasePid();
  const target = { url, pids: { server: server.child.pid!, database: databasePid }, database: data.database };
  const scenarios: ScenarioResult[] = [];
  let graphqlBody: string | null = null;
  /** The warm answer of each scenario, which the server without the aggregate cache must give byte for byte. */
  const bodies = new Map<string, string>();
  const only = options.scenarios;
  const selected = SCENARIOS.filter((scenario) => !only || only.includes(scenario.key));
  // The assessment reads, in CI: the code path, not figures.
  const optionsOf = (scenario: { assessment?: true }) => (scenario.assessment && options.smoke ? { ...options, duration: 1, warmup: 0 } : options);
  let peak: number | null = null;
  try {
    for (const scenario of selected) {
      scenarios.push(
        await measureScenario(optionsOf(scenario), target, scenario, (b) => {
          bodies.set(scenario.key, b);
          if (scenario.key === "province-to-county") graphqlBody = b;
        }),
      );
    }
    if (only) peak = peakRssKiB(server.child.pid!);
  } finally {
    if (only) await stopChild(server.child);
  }
  if (only) {
    // --scenarios: the same scenarios with the aggregate cache off, and nothing else.
    scenarios.push(...(await measureWithoutAggregateCache(options, startServer, data.database, databasePid, selected, bodies, optionsOf)));
    return {
      projects: size,
      data,
      server: { startSeconds: round(server.startSeconds), peakRssKiB: peak },
      scenarios,
      floor: { key: "floor", name: "floor (JSON.stringify)", status: "n/a", problem: "not run (--scenarios)", sameBody: null, peakRssKiB: null },
      ratios: { p50: null, requestsPerSecond: null },
    };
  }
  try {
    const introspection = await post(url, JSON.stringify({ query: QUERY_FIELDS_INTROSPECTION }));
    const fields = (JSON.parse(introspection.body).data?.__type?.fields ?? []) as Array<{ name: string; args: IntrospectedArg[] }>;
    const breakdown = fields.find((f) => f.name === "breakdown");
    const query = breakdown ? breakdownQuery(breakdown.args) : null;
    if (!breakdown) scenarios.push({ key: "breakdown", name: "breakdown", status: "n/a", problem: "the schema has no Query.breakdown" });
    else if (!query) scenarios.push({ key: "breakdown", name: "breakdown", status: "n/a", problem: "Query.breakdown has no groupBy argument" });
    else scenarios.push(await measureScenario(options, target, { key: "breakdown", name: "breakdown", query }));
    // (bench/writes.ts) Scenario 1 again, after the others: an anonymous repeat of it is answered from the finished-response cache.
    scenarios.push(await measureScenario(options, target, { key: "repeated", name: "repeated identical request (response cache)", query: provinceToCounty() }));
    peak = peakRssKiB(server.child.pid!);
  } finally {
    await stopChild(server.child);
  }
  const profile = options.profile ? newestFile(profileDir, `server-${size}-`) : undefined;

  // (bench/instances.ts) The same question from two instances on this database, the 10 connections split 5 + 5; its row follows the one-instance row.
  scenarios.splice(1, 0, await measureInstances({ seconds: options.duration, warmup: options.warmup, startServer, stopChild, waitForDatabaseIdle: (database) => waitForDatabaseIdle(options.mysql, database), post, peakRssKiB, databasePid, say: (what) => process.stderr.write(`  ${what}\n`) }, size, data.database, provinceToCounty()));

  // The floor, on the same database; its TypeScript is transpiled here and fed to node on stdin.
  process.stderr.write(`  starting the floor (bench/floor.ts)\n`);
  const floorJs = ts.transpileModule(fs.readFileSync(path.join(__dirname, "floor.ts"), "utf8"), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
  const floorServer = await startChild("the floor", ["-"], { PORT: "0", HOST: "127.0.0.1", DATABASE_URL: databaseUrl }, floorJs);
  let floor: FloorResult;
  try {
    let floorBody: string | null = null;
    const floorTarget = { url: floorServer.url, pids: { server: floorServer.child.pid!, database: databasePid }, database: data.database };
    const measured = await measureScenario(options, floorTarget, { key: "floor", name: "floor (JSON.stringify)" }, (b) => (floorBody = b));
    floor = { ...measured, sameBody: null, peakRssKiB: peakRssKiB(floorServer.child.pid!) };
    if (graphqlBody !== null && floorBody !== null) {
      floor.sameBody = floorBody === graphqlBody;
      if (!floor.sameBody) {
        floor.difference = firstDifference(graphqlBody, floorBody);
        process.stderr.write(`  WARNING: the floor's answer differs from the server's: ${floor.difference}\n`);
      }
    }
  } finally {
    await stopChild(floorServer.child);
  }

  // (bench/writes.ts) What the first request after a write costs: the server with no aggregate cache (and so no response cache).
  // Province-to-county, and the assessment reads except with --smoke.
  scenarios.push(...(await measureWithoutAggregateCache(options, startServer, data.database, databasePid, SCENARIOS.filter((s) => s.key === "province-to-county" || (s.assessment && !options.smoke)), bodies, optionsOf)));

  // The write scenarios, on a copy of the database (bench/writes.ts).
  process.stderr.write(`  reads while writing (bench/writes.ts)\n`);
  const writes = await measureWrites(
    {
      mysql: options.mysql,
      seconds: options.smoke ? Math.min(2, options.duration) : options.duration,
      warmup: options.warmup,
      startServer,
      stopChild,
      cannon,
      waitForDatabaseIdle: (database) => waitForDatabaseIdle(options.mysql, database),
      post,
      peakRssKiB,
      databasePid,
      say: (what) => process.stderr.write(`  writes: ${what}\n`),
    },
    size,
    data.database,
  );

  const main = scenarios[0];
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? round(a / b, 2) : null);
  return {
    projects: size,
    data,
    server: { startSeconds: round(server.startSeconds), peakRssKiB: peak, profile },
    scenarios,
    floor,
    writes,
    ratios: {
      p50: main.status === "ok" && floor.status === "ok" ? ratio(main.latency?.p50, floor.latency?.p50) : null,
      requestsPerSecond: main.status === "ok" && floor.status === "ok" ? ratio(main.throughput?.requestsPerSecond, floor.throughput?.requestsPerSecond) : null,
    },
  };
}

/**
 * Each scenario on a server started with AGGREGATE_CACHE=false (which turns the response cache off too): every
 * request computes its answer from the database. Its answer must be the cached server's, byte for byte. Province-to-county's
 * row is "no-aggregate-cache" (the key the floor's ratios and the checks name), the others' `<key>-no-cache`.
 */
async function measureWithoutAggregateCache(
  options: Options,
  startServer: (label: string, database: string, env: Record<string, string>, profileName: string) => Promise<Awaited<ReturnType<typeof startChild>>>,
  database: string,
  databasePid: number | null,
  scenarios: ReadonlyArray<{ key: string; name: string; query: string; assessment?: true }>,
  bodies: ReadonlyMap<string, string>,
  optionsOf: (scenario: { assessment?: true }) => Options,
): Promise<ScenarioResult[]> {
  if (scenarios.length === 0) return [];
  const out: ScenarioResult[] = [];
  const noCache = await startServer("the server without the aggregate cache", database, { AGGREGATE_CACHE: "false" }, `server-nocache-${database}-${Date.now()}.cpuprofile`);
  try {
    const noCacheTarget = { url: noCache.url, pids: { server: noCache.child.pid!, database: databasePid }, database };
    for (const s of scenarios) {
      const scenario =
        s.key === "province-to-county"
          ? { key: "no-aggregate-cache", name: "province-to-county, aggregate cache off", query: s.query }
          : { key: `${s.key}-no-cache`, name: `${s.name}, aggregate cache off`, query: s.query };
      let noCacheBody: string | null = null;
      let result: ScenarioResult = { ...(await measureScenario(optionsOf(s), noCacheTarget, scenario, (b) => (noCacheBody = b))), serverPeakRssKiB: peakRssKiB(noCache.child.pid!) };
      const cached = bodies.get(s.key);
      if (noCacheBody !== null && cached !== undefined && noCacheBody !== cached) {
        result = { ...result, status: "failed", problem: `its answer differs from the cached server's: ${firstDifference(cached, noCacheBody)}` };
      }
      out.push(result);
    }
  } finally {
    await stopChild(noCache.child);
  }
  return out;
}

function newestFile(dir: string, prefix: string): string | undefined {
  if (!fs.existsSync(dir)) return undefined;
  const files = fs.readdirSync(dir).filter((f) => f.startsWith(prefix)).map((f) => path.join(dir, f));
  files.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return files[0] ? path.relative(ROOT, files[0]) : undefined;
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `lengths ${Buffer.byteLength(a)} (server) and ${Buffer.byteLength(b)} (floor); first difference at character ${i}: server …${JSON.stringify(a.slice(Math.max(0, i - 80), i + 80))}… floor …${JSON.stringify(b.slice(Math.max(0, i - 80), i + 80))}…`;
}

// ---------------------------------------------------------------------------
// Targets

const MB = (kib: number | null) => (kib === null ? null : round((kib * 1024) / 1e6, 1));
const fmtSize = (n: number) => n.toLocaleString("en-US");

function checks(sizes: SizeResult[]): Check[] {
  const out: Check[] = [];
  const p2c = (s: SizeResult) => s.scenarios.find((x) => x.key === "province-to-county");
  // --scenarios without province-to-county: its targets were not measured.
  sizes = sizes.filter((s) => p2c(s));
  const ok = (s: SizeResult) => (p2c(s)?.status === "ok" ? p2c(s) : undefined);
  const at = (n: number) => sizes.find((s) => s.projects === n);
  const big = at(1_000_000);
  const small = at(10_000);

  // p50 ≤ 30 ms at 1M (shown for every size; the target is the 1M row).
  for (const s of sizes) {
    const r = ok(s);
    out.push({
      target: `p50 ≤ 30 ms (1 conn), province-to-county${s.projects === 1_000_000 ? "" : " (target is at 1,000,000)"}`,
      value: r ? `${r.latency!.p50} ms at ${fmtSize(s.projects)}` : `failed at ${fmtSize(s.projects)}`,
      pass: r ? r.latency!.p50 <= 30 : false,
    });
  }
  if (!big) out.push({ target: "p50 ≤ 30 ms (1 conn), province-to-county at 1,000,000", value: "not run", pass: null });
  for (const s of sizes) {
    const r = ok(s);
    out.push({
      target: "≥ 100 req/s (10 conn), province-to-county",
      value: r ? `${r.throughput!.requestsPerSecond} req/s at ${fmtSize(s.projects)}` : `failed at ${fmtSize(s.projects)}`,
      pass: r ? r.throughput!.requestsPerSecond >= 100 : false,
    });
  }
  if (big && small && ok(big) && ok(small)) {
    const factor = ok(big)!.latency!.p50 / ok(small)!.latency!.p50;
    out.push({ target: "p50 at 1,000,000 ≤ 1.5 × p50 at 10,000", value: `${round(factor)}× (${ok(big)!.latency!.p50} vs ${ok(small)!.latency!.p50} ms)`, pass: factor <= 1.5 });
  } else out.push({ target: "p50 at 1,000,000 ≤ 1.5 × p50 at 10,000", value: "needs both sizes", pass: null });
  for (const s of sizes) {
    if (s.ratios.p50 === null || s.ratios.requestsPerSecond === null) {
      out.push({ target: "time per request ≤ 2 × floor", value: `not measured at ${fmtSize(s.projects)}`, pass: null });
      continue;
    }
    const perRequest = 1 / s.ratios.requestsPerSecond; // GraphQL time per request at 10 conn, in floor units
    out.push({
      target: "time per request ≤ 2 × floor (p50 at 1 conn; 1/req/s at 10 conn)",
      value: `p50 ${s.ratios.p50}×, per request ${round(perRequest)}× at ${fmtSize(s.projects)}`,
      pass: s.ratios.p50 <= 2 && perRequest <= 2,
      note: s.floor.sameBody === false ? "the floor's answer differs from the server's" : undefined,
    });
  }
  for (const s of sizes) {
    const mb = MB(s.server.peakRssKiB);
    out.push({ target: "server peak RSS ≤ 300 MB", value: mb === null ? "unknown" : `${mb} MB at ${fmtSize(s.projects)}`, pass: mb === null ? null : mb <= 300 });
  }
  if (big?.data.generated) {
    out.push({ target: "data generation ≤ 180 s for 1,000,000", value: `${round(big.data.seconds, 1)} s`, pass: big.data.seconds <= 180 });
  } else {
    out.push({ target: "data generation ≤ 180 s for 1,000,000", value: big ? "data was already there (not generated in this run)" : "not run", pass: null });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Output

function table(rows: string[][], rightAligned: Set<number>): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? "")].length)));
  return rows
    .map((r, i) => {
      const line = r
        .map((cell, c) => (rightAligned.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
        .join("  ")
        .trimEnd();
      return i === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
    })
    .join("\n");
}

function render(report: Report): string {
  const num = (n: number | undefined | null, d = 1) => (n === undefined || n === null || !Number.isFinite(n) ? "" : n.toFixed(d));
  const header = ["scenario", "projects", "p50 ms", "p99 ms", "req/s", "SQL cold/warm", "peak RSS MB", "server CPU ms/req", "DB CPU ms/req", "bytes"];
  const rows: string[][] = [header];
  const blank = (name: string, size: number, what: string) => [name, fmtSize(size), what, ...header.slice(3).map(() => "")];
  const row = (name: string, size: number, r: ScenarioResult, rssKiB: number | null) => {
    const lat = r.latency!;
    const thr = r.throughput!;
    // A run in which nothing completed has no percentile: it only says "longer than the run".
    const p = (v: number) => (lat.requests === 0 ? `>${(lat.seconds * 1000).toFixed(0)}` : num(v));
    return [
      `${name}${r.slow ? " (SLOW*)" : ""}`,
      fmtSize(size),
      p(lat.p50),
      p(lat.p99),
      num(thr.requestsPerSecond),
      `${r.sql!.cold ?? "?"}/${r.sql!.warm ?? "?"}`,
      num(MB(rssKiB), 0),
      num(thr.cpu.serverMsPerRequest),
      num(thr.cpu.databaseMsPerRequest),
      String(r.responseBytes),
    ];
  };
  const keys = [...new Set(report.sizes.flatMap((s) => s.scenarios.map((x) => x.key)))];
  for (const key of keys) {
    for (const s of report.sizes) {
      const r = s.scenarios.find((x) => x.key === key);
      if (!r) continue;
      if (r.status !== "ok") rows.push(blank(r.name, s.projects, r.status === "n/a" ? "n/a" : "FAILED"));
      else rows.push(row(r.name, s.projects, r, r.serverPeakRssKiB ?? s.server.peakRssKiB));
    }
  }
  for (const s of report.sizes) {
    const f = s.floor;
    if (f.status === "n/a") continue;
    if (f.status !== "ok") rows.push(blank(f.name, s.projects, "FAILED"));
    else rows.push(row(`${f.name}${f.sameBody === false ? " (DIFFERENT ANSWER)" : ""}`, s.projects, f, f.peakRssKiB));
  }
  // Each province-to-county row over the floor of its size: p50 and CPU per request as multiples of the floor's, req/s as a share of it.
  const overFloor = [
    ["province-to-county", "GraphQL / floor, province-to-county"],
    ["repeated", "repeated request (response cache) / floor"],
    ["no-aggregate-cache", "aggregate cache off / floor"],
  ];
  for (const [key, label] of overFloor) {
    for (const s of report.sizes) {
      const g = s.scenarios.find((x) => x.key === key);
      if (!g) continue;
      const r = blank(label, s.projects, "");
      if (g.status === "ok" && s.floor.status === "ok") {
        const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? "" : `${(a / b).toFixed(2)}×`);
        r[2] = ratio(g.latency!.p50, s.floor.latency!.p50);
        r[4] = ratio(g.throughput!.requestsPerSecond, s.floor.throughput!.requestsPerSecond);
        r[7] = ratio(g.throughput!.cpu.serverMsPerRequest, s.floor.throughput!.cpu.serverMsPerRequest);
        r[8] = ratio(g.throughput!.cpu.databaseMsPerRequest, s.floor.throughput!.cpu.databaseMsPerRequest);
      }
      rows.push(r);
    }
  }
  const o = report.options;
  const m = report.machine;
  const lines = [
    "",
    `Benchmark ${report.startedAt} of ${report.commit}: latency = 1 connection for ${o.duration} s after a ${o.warmup} s warm-up; req/s = 10 connections for ${o.duration} s (autocannon)`,
    `Machine: ${m.cpuCount} × ${m.cpuModel}, ${(m.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB, ${m.os}, node ${m.node}, ${m.database}; load average ${m.loadAverageAtStart} at start`,
    "",
    table(rows, new Set([1, 2, 3, 4, 5, 6, 7, 8, 9])),
    "p50/p99: 1 connection; req/s and CPU ms per request (server process, database server): 10 connections. (SLOW*): see below.",
    ...renderWrites(report.sizes, table),
    "",
    "Data: " +
      report.sizes
        .map((s) => `${s.data.database}: ${fmtSize(s.data.projects)} projects, ${fmtSize(s.data.milestones)} milestones, ${s.data.generated ? `generated in ${s.data.seconds.toFixed(1)} s` : "already there"}`)
        .join("; "),
  ];
  for (const s of report.sizes) {
    if (s.floor.sameBody === true) lines.push(`Floor answer at ${fmtSize(s.projects)}: byte-for-byte equal to the server's (${s.floor.responseBytes} bytes).`);
    if (s.floor.sameBody === false) lines.push(`Floor answer at ${fmtSize(s.projects)} DIFFERS from the server's: ${s.floor.difference}`);
    for (const r of [...s.scenarios, s.floor]) if (r.status === "failed") lines.push(`FAILED ${r.name} at ${fmtSize(s.projects)}: ${r.problem}`);
    for (const r of s.scenarios) if (r.status === "n/a") lines.push(`${r.name}: n/a (${r.problem})`);
    for (const r of s.scenarios) if (r.status === "ok" && r.sampleMs) lines.push(`${r.name} at ${fmtSize(s.projects)}: first request ${r.sampleMs.cold} ms, warm request ${r.sampleMs.warm} ms`);
    for (const r of [...s.scenarios, s.floor]) {
      if (r.slow) lines.push(`SLOW* ${r.name} at ${fmtSize(s.projects)}: ${r.slow}; a single warm request took ${r.sampleMs?.warm} ms`);
      const busy = Math.max(r.latency?.cpu.otherPercentOfCore ?? 0, r.throughput?.cpu.otherPercentOfCore ?? 0);
      if (busy > 25) lines.push(`NOISE: other processes used up to ${busy} % of a core during ${r.name} at ${fmtSize(s.projects)}`);
    }
  }
  if (report.import) lines.push("", `Ledger import into MariaDB (bench/import.ts, ${fmtSize(report.import.rows)} rows, ${(report.import.fileBytes / 1e6).toFixed(1)} MB):`, ...renderImport(report.import).map((line) => `  ${line}`));
  if (report.importMemory) lines.push("", ...renderImportMemory(report.importMemory));
  if (report.live) lines.push("", ...renderLive(report.live));
  lines.push("", "Targets:");
  const mark = (c: Check) => (c.pass === null ? "  -  " : c.pass ? " ok  " : "MISS ");
  for (const c of report.checks) lines.push(`  ${mark(c)} ${c.target}: ${c.value}${c.note ? ` (${c.note})` : ""}`);
  lines.push("", `Written to ${report.file}`, "");
  return lines.join("\n");
}

interface Report {
  startedAt: string;
  finishedAt: string;
  command: string;
  /** The commit measured, "+changes" when the working tree differs from it. */
  commit: string;
  options: Omit<Options, "mysql"> & { mysql: string };
  machine: { cpuModel: string; cpuCount: number; totalMemoryBytes: number; os: string; node: string; database: string; loadAverageAtStart: number };
  sizes: SizeResult[];
  /** The ledger import (bench/import.ts); not run with --scenarios, as the two below. */
  import?: ImportResult;
  /** The ledger import's peak RSS and a cheap query's latency meanwhile, on SQLite and MariaDB (bench/import-memory.ts). */
  importMemory?: ImportMemoryResult;
  /** The meeting day, live: screens subscribed over WebSockets while writes land (bench/live.ts). */
  live?: LiveResult;
  checks: Check[];
  failed: boolean;
  file: string;
}

// ---------------------------------------------------------------------------


async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const started = new Date();
  if (!fs.existsSync(SERVER_MAIN)) throw new Error(`${path.relative(ROOT, SERVER_MAIN)} is missing: run npm run build first (npm run bench does)`);
  const version = await adminQuery<Array<{ v: string }>>(options.mysql, "SELECT VERSION() AS v").catch((error: Error) => {
    throw new Error(`cannot reach MySQL at ${redactUrl(options.mysql)}: ${error.message}`);
  });
  const cpus = os.cpus();
  const machine = {
    cpuModel: cpus[0]?.model ?? "unknown",
    cpuCount: cpus.length,
    totalMemoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    database: /mariadb/i.test(version[0].v) ? `MariaDB ${version[0].v}` : `MySQL ${version[0].v}`,
    /** 1-minute load average when the run started: other work on the machine skews every figure. */
    loadAverageAtStart: round(os.loadavg()[0]),
  };
  const sizes: SizeResult[] = [];
  for (const size of options.sizes) sizes.push(await runSize(options, size));
  if (options.scenarios) return finish(options, started, machine, sizes, null);
  // The ledger import (bench/import.ts), once per run: 100,000 rows into a database of its own (2,000 with --smoke).
  process.stderr.write("\n== ledger import (bench/import.ts)\n");
  const imported = await measureImport({
    rows: options.smoke ? 2_000 : 100_000,
    advance: options.smoke ? 200 : 10_000,
    mysql: options.mysql,
    say: (what) => process.stderr.write(`  import: ${what}\n`),
  });
  // The import's memory and a cheap query meanwhile (bench/import-memory.ts): 10,000, 100,000 and 200,000 rows on a fresh
  // server each, SQLite and this MariaDB, and the bounds (2,000 rows and bounds of 2,000 rows / 200,000 bytes with --smoke).
  process.stderr.write("\n== ledger import in bounded memory (bench/import-memory.ts)\n");
  const importMemory = await measureImportMemory({
    ...importMemoryPlan(options.smoke),
    mysql: options.mysql,
    say: (what) => process.stderr.write(`  import-memory: ${what}\n`),
  });

  // The meeting day, live (bench/live.ts): at the largest size, 10,000 screens (200 with --smoke).
  process.stderr.write("\n== meeting day, live (bench/live.ts)\n");
  const live = await measureLive({ ...livePlan(options.smoke), projects: Math.max(...options.sizes), mysql: options.mysql, say: (what) => process.stderr.write(`  live: ${what}\n`) });
  return finish(options, started, machine, sizes, { imported, importMemory, live });
}

/** Writes the report (its JSON to bench/results/) and prints its tables; `rest` is null with --scenarios (reads only). */
async function finish(
  options: Options,
  started: Date,
  machine: Report["machine"],
  sizes: SizeResult[],
  rest: { imported: ImportResult; importMemory: ImportMemoryResult; live: LiveResult } | null,
): Promise<number> {
  const stamp = started.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const file = path.join(RESULTS_DIR, `${stamp}-${options.smoke ? "smoke-" : ""}${options.scenarios ? "reads-" : ""}${options.sizes.join("-")}.json`);
  const failed =
    sizes.some((s) => [...s.scenarios, s.floor].some((r) => r.status === "failed") || s.writes?.status === "failed") ||
    (rest !== null &&
      (!rest.imported.rollupsMatch || rest.imported.steps.some((step) => step.problems > 0) || rest.importMemory.failed || rest.live.failed));
  const report: Report = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim(),
    commit: gitCommit(),
    options: { ...options, mysql: redactUrl(options.mysql) },
    machine,
    sizes,
    ...(rest ? { import: rest.imported, importMemory: rest.importMemory, live: rest.live } : {}),
    checks: [
      ...checks(sizes),
      ...writeChecks(sizes),
      ...(rest ? restChecks(options, rest) : []),
    ],
    failed,
    file: path.relative(ROOT, file),
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(render(report));
  if (failed) process.stderr.write("A scenario answered with errors, an import did not go in whole, a bound was not a 413, or a live session failed: failing.\n");
  return failed ? 1 : 0;
}

/** The import's, its memory's and the live session's targets. */
function restChecks(options: Options, { imported, importMemory, live }: { imported: ImportResult; importMemory: ImportMemoryResult; live: LiveResult }): Check[] {
  return [
      {
        target: `ledger import ≥ ${imported.target} rows/s (first import of a new file, MariaDB)`,
        value: `${imported.steps[0].rowsPerSecond.toLocaleString("en-US")} rows/s for ${fmtSize(imported.rows)} rows`,
        pass: options.smoke ? null : imported.met,
        ...(options.smoke ? { note: "the target is for 100,000 rows; --smoke imports 2,000" } : {}),
      },
      ...importMemoryChecks(importMemory).map((c) => (options.smoke ? { ...c, pass: null, note: "the issue's question is for 200,000 rows; --smoke imports 2,000" } : c)),
      ...liveChecks(live).map((c) => (options.smoke ? { ...c, pass: null, note: "the targets are for 10,000 screens at 1,000,000 projects; --smoke has 200 at 3,000" } : c)),
  ];
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) process.stderr.write(`${error.message}\n${USAGE}\n`);
    else process.stderr.write(`bench: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
