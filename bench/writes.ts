/**
 * The write scenarios of `npm run bench`: reads of the province-to-county
 * question while a bounded writer records changes through the API.
 *
 * bench/run.ts calls `measureWrites` for each size, after the read scenarios
 * and the floor. On `mp_bench_<size>_writes`, a copy of the size's database
 * (see `ensureWriteCopy`), it starts the compiled server as production runs it
 * and measures the province-to-county query of Henan at 10 connections for
 * the run's duration, three ways:
 *
 *   (i)   with no writer: the baseline;
 *   (ii)  while a writer sends createProject / advanceStage at 20 writes/s in
 *         other provinces (广东, 江苏, 浙江, 山东, 四川; round-robin over their
 *         counties, one province token each);
 *   (iii) while a writer sends them at 5 writes/s in Henan's counties (a Henan
 *         province token).
 *
 * The three take turns in rounds of about 3 s (i, ii, iii, i, ii, iii, …; one
 * round with --smoke), so that other work on a shared machine weighs on each
 * alike. It reports reads/s and their ratio to (i), and the latency of each
 * mutation as the writer saw it (p50, p90, p99, max); then, for comparison,
 * the writer of (ii) alone, with no reads. The writer is a child process
 * (this file, run with `--writer`), so its timings do not wait on the event
 * loop that drives the reads; it sends on a fixed schedule (write i at
 * i / rate seconds), never more than `rate × duration` writes, and stops by
 * itself. Its writes alternate createProject (a SIGNED project) and
 * advanceStage of a project it created (SIGNED → STARTED → IN_PRODUCTION, with
 * the version the previous answer gave). After each round of (i) and (ii)
 * Henan's projectCount must not have moved; after each of (iii) it must have
 * grown by the projects created there (the caches saw the writes).
 *
 * Why a copy: the writes stay (the ledger's history is append-only by trigger),
 * and bench/generate.ts regenerates a database that holds a project beyond
 * its size, so writing to `mp_bench_<size>` itself would cost the next run a
 * regeneration. The copy is made once per generated data set and reused;
 * the writes of every run accumulate in it (the report says how many
 * projects earlier runs added).
 */
import { type ChildProcess, fork } from "node:child_process";

import { createConnection } from "mysql2/promise";

import { type Check, type Measurement, percentile, type Pids, round, type Sample, type ScenarioResult } from "./measurement";
import { processTicks, TICK_MS } from "./proc";
import {
  ADVANCE_STAGE,
  CREATE_PROJECT,
  ELSEWHERE_PROVINCE_CODES,
  ELSEWHERE_WRITES_PER_SECOND,
  HENAN_WRITES_PER_SECOND,
  PROVINCE_CODE,
  provinceToCounty,
} from "./scenarios";
import type { Started } from "./servers";

const READ_CONNECTIONS = 10;
/** Writes a writer leaves open at most; at the issue's rates one or two are. */
const MAX_IN_FLIGHT = 32;
/** A write unanswered after this long counts as failed (the server's own request deadline is 30 s). */
const WRITE_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------
// What bench/run.ts hands over (bench/load.ts and bench/servers.ts do the work)

export interface WriteBenchTools {
  /** MySQL server URL without a database. */
  mysql: string;
  /** Seconds of each of the three measurements. */
  seconds: number;
  /** Seconds of warm-up at 10 connections before the baseline. */
  warmup: number;
  /** Starts the compiled server on `database` as production runs it; `profileName` names its CPU profile under --profile. */
  startServer(label: string, database: string, env: Record<string, string>, profileName: string): Promise<Started>;
  stopChild(child: ChildProcess): Promise<void>;
  cannon(url: string, body: string, connections: number, seconds: number, pids: Pids): Promise<Measurement>;
  waitForDatabaseIdle(database: string): Promise<void>;
  post(url: string, body: string): Promise<Sample>;
  peakRssKiB(pid: number): number | null;
  databasePid: number | null;
  say(what: string): void;
}

// ---------------------------------------------------------------------------
// Results

export interface LatencySummary {
  /** Writes of this mutation answered without errors (only these have a latency). */
  ok: number;
  failed: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

export type MutationName = "createProject" | "advanceStage";

/** What the writer process sends back after one run of a plan: the raw latencies, merged over rounds here. */
interface WriterRound {
  planned: number;
  sent: number;
  latencies: Record<MutationName, number[]>;
  failures: Record<MutationName, number>;
  firstError?: string;
  maxLagMs: number;
  elapsedSeconds: number;
  createdByProvince: Record<string, number>;
}

export interface WriterReport {
  provinces: string[];
  ratePerSecond: number;
  seconds: number;
  /** Rounds the writer ran in (see `measureWrites`). */
  rounds: number;
  /** rate × duration: the writer never sends more. */
  planned: number;
  sent: number;
  ok: number;
  failed: number;
  firstError?: string;
  /** Largest delay of a send behind its schedule, ms (timers, or MAX_IN_FLIGHT writes open). */
  maxLagMs: number;
  /** From the first send to the last answer, summed over the rounds. */
  elapsedSeconds: number;
  byMutation: Record<MutationName, LatencySummary>;
  /** Projects created, by province code. */
  createdByProvince: Record<string, number>;
}

export interface ReadPhase {
  key: "baseline" | "elsewhere" | "henan";
  name: string;
  /** The rounds merged: requests, seconds and CPU summed; p50 and p90 the median of the rounds', p99 and max the highest. */
  reads: Measurement;
  rounds: number;
  /** reads/s over the baseline's (null for the baseline itself). */
  ratioToBaseline: number | null;
  writer?: WriterReport;
  /**
   * How much Henan's projectCount moved in the answer over the phase's rounds, and how many projects the
   * writer created in Henan meanwhile: equal after every round, or the run fails (the caches missed a write).
   */
  henanProjects: { moved: number; created: number };
}

export interface WritesResult {
  status: "ok" | "failed";
  problem?: string;
  database: string;
  copy?: { made: boolean; seconds: number; projectsAtStart: number; addedByEarlierRuns: number };
  server?: { startSeconds: number; peakRssKiB: number | null };
  phases: ReadPhase[];
  /** For comparison, not a target: the writer elsewhere again with no reads at all, what a write costs on an idle server. */
  alone?: WriterReport & {
    /** CPU per write meanwhile, in ms: the server process, the database server (which other work on the machine may use too), the writer process. */
    cpuMsPerWrite: { server: number | null; database: number | null; writer: number | null };
  };
}

// ---------------------------------------------------------------------------
// The copy

const q = (name: string) => `\`${name.replace(/`/g, "``")}\``;

/**
 * Makes `target` a copy of `source` (tables with their keys and foreign keys,
 * rows, triggers), unless it already is one of the same generated data set
 * (same `bench_dataset` marker), in which case it is reused with the writes
 * earlier runs left in it. The marker is copied last, so an interrupted copy
 * is made again.
 */
export async function ensureWriteCopy(mysql: string, source: string, target: string, size: number): Promise<NonNullable<WritesResult["copy"]>> {
  const t0 = performance.now();
  const connection = await createConnection({ uri: mysql, connectTimeout: 5000 });
  try {
    const marker = async (database: string): Promise<string | null> => {
      try {
        const [rows] = await connection.query(`SELECT projects, generator, created_at FROM ${q(database)}.bench_dataset ORDER BY created_at`);
        return (rows as unknown[]).length ? JSON.stringify(rows) : null;
      } catch {
        return null;
      }
    };
    const wanted = await marker(source);
    if (wanted === null) throw new Error(`${source} has no bench_dataset marker`);
    let made = false;
    if ((await marker(target)) !== wanted) {
      made = true;
      await connection.query(`DROP DATABASE IF EXISTS ${q(target)}`);
      await connection.query(`CREATE DATABASE ${q(target)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      await connection.query(`USE ${q(target)}`);
      await connection.query("SET SESSION foreign_key_checks = 0, unique_checks = 0");
      // Reading the source without locking its rows.
      await connection.query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
      const [tableRows] = await connection.query("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", [source]);
      const tables = (tableRows as Array<{ t: string }>).map((r) => r.t).sort((a, b) => Number(a === "bench_dataset") - Number(b === "bench_dataset"));
      for (const table of tables) {
        const [[ddl]] = (await connection.query(`SHOW CREATE TABLE ${q(source)}.${q(table)}`)) as unknown as [[Record<string, string>]];
        await connection.query(ddl["Create Table"]);
      }
      const copyRows = async (table: string) => {
        const [columnRows] = await connection.query(
          "SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND EXTRA NOT LIKE '%GENERATED%' ORDER BY ORDINAL_POSITION",
          [source, table],
        );
        const columns = (columnRows as Array<{ c: string }>).map((r) => q(r.c)).join(", ");
        await connection.query(`INSERT INTO ${q(target)}.${q(table)} (${columns}) SELECT ${columns} FROM ${q(source)}.${q(table)}`);
      };
      for (const table of tables.filter((t) => t !== "bench_dataset")) await copyRows(table);
      const [triggerRows] = await connection.query("SELECT TRIGGER_NAME AS t FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY TRIGGER_NAME", [source]);
      for (const { t } of triggerRows as Array<{ t: string }>) {
        const [[trigger]] = (await connection.query(`SHOW CREATE TRIGGER ${q(source)}.${q(t)}`)) as unknown as [[Record<string, string>]];
        await connection.query(trigger["SQL Original Statement"]);
      }
      for (const table of tables) await connection.query(`ANALYZE TABLE ${q(target)}.${q(table)}`);
      if (tables.includes("bench_dataset")) await copyRows("bench_dataset");
      if ((await marker(target)) !== wanted) throw new Error(`the copy ${target} of ${source} did not take`);
    }
    const [[count]] = (await connection.query(`SELECT COUNT(*) AS n FROM ${q(target)}.project`)) as unknown as [[{ n: number | string }]];
    const projects = Number(count.n);
    return { made, seconds: Math.round((performance.now() - t0) / 100) / 10, projectsAtStart: projects, addedByEarlierRuns: projects - size };
  } finally {
    await connection.end();
  }
}

// ---------------------------------------------------------------------------
// The writer (a child process)

interface WriterTarget {
  province: string;
  token: string;
  /** Codes of the regions projects may sit in: counties, and cities without counties. */
  leaves: string[];
}

interface WriterPlan {
  url: string;
  ratePerSecond: number;
  seconds: number;
  targets: WriterTarget[];
  sectors: string[];
  /** YYYY-MM-DD, the date every milestone is reached on. */
  today: string;
  /** Distinguishes the names of this run's projects. */
  runId: string;
}

type ToWriter = { type: "go"; plan: WriterPlan };
type FromWriter = { type: "ready" } | { type: "report"; report: WriterRound } | { type: "error"; message: string };

interface OwnProject {
  id: string;
  version: number;
  stage: string;
  target: WriterTarget;
}

const NEXT_STAGE: Record<string, string | undefined> = { SIGNED: "STARTED", STARTED: "IN_PRODUCTION" };

function summarise(latencies: number[], failed: number): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length ? round(percentile(sorted, p)) : null);
  return {
    ok: sorted.length,
    failed,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: sorted.length ? round(sorted[sorted.length - 1]) : null,
    mean: sorted.length ? round(sorted.reduce((a, b) => a + b, 0) / sorted.length) : null,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `rate × seconds` writes on a fixed schedule, then waits for the last answers; never longer than the schedule plus WRITE_TIMEOUT_MS. */
async function runWriter(plan: WriterPlan): Promise<WriterRound> {
  const planned = Math.max(1, Math.round(plan.ratePerSecond * plan.seconds));
  const interval = 1000 / plan.ratePerSecond;
  const latencies: Record<MutationName, number[]> = { createProject: [], advanceStage: [] };
  const failures: Record<MutationName, number> = { createProject: 0, advanceStage: 0 };
  const createdByProvince: Record<string, number> = {};
  let firstError: string | undefined;
  const ready: OwnProject[] = [];
  const open = new Set<Promise<void>>();
  let creates = 0;
  let sent = 0;
  let maxLag = 0;

  const send = async (mutation: MutationName, token: string, query: string, variables: unknown): Promise<{ id: string; version: number; stage: string } | null> => {
    const t = performance.now();
    let problem: string;
    try {
      const response = await fetch(plan.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(WRITE_TIMEOUT_MS),
      });
      const text = await response.text();
      const ms = performance.now() - t;
      let parsed: { data?: Record<string, { id: string; version: number; stage: string } | null>; errors?: unknown[] } | undefined;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const answer = parsed?.data?.[mutation];
      if (response.status === 200 && !parsed?.errors && answer) {
        latencies[mutation].push(ms);
        return answer;
      }
      problem = `status ${response.status}: ${text.slice(0, 500)}`;
    } catch (error) {
      problem = (error as Error).message;
    }
    failures[mutation]++;
    firstError ??= `${mutation}: ${problem}`;
    return null;
  };

  const create = async (n: number): Promise<void> => {
    const target = plan.targets[n % plan.targets.length];
    // Spread over the province's counties: consecutive writes to one province land in different counties.
    const leaf = target.leaves[(Math.floor(n / plan.targets.length) * 37) % target.leaves.length];
    const answer = await send("createProject", target.token, CREATE_PROJECT, {
      input: {
        name: `基准写入 ${plan.runId}-${n}`,
        regionCode: leaf,
        sectorCode: plan.sectors[n % plan.sectors.length],
        investment: round(0.5 + (n % 97) * 0.37, 4),
        stage: "SIGNED",
        reachedOn: plan.today,
      },
    });
    if (answer) {
      createdByProvince[target.province] = (createdByProvince[target.province] ?? 0) + 1;
      ready.push({ id: answer.id, version: answer.version, stage: answer.stage, target });
    }
  };

  const advance = async (project: OwnProject): Promise<void> => {
    const stage = NEXT_STAGE[project.stage]!;
    const answer = await send("advanceStage", project.target.token, ADVANCE_STAGE, {
      input: { projectId: project.id, stage, reachedOn: plan.today, expectedVersion: project.version },
    });
    if (answer) {
      project.version = answer.version;
      project.stage = answer.stage;
      if (NEXT_STAGE[project.stage]) ready.push(project);
    }
  };

  const t0 = performance.now();
  for (let i = 0; i < planned; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    while (open.size >= MAX_IN_FLIGHT) await Promise.race(open);
    maxLag = Math.max(maxLag, performance.now() - due);
    // Odd writes advance the oldest project of this writer that can advance (a create when none can yet).
    const project = i % 2 === 1 ? ready.shift() : undefined;
    const write = project ? advance(project) : create(creates++);
    sent++;
    open.add(write);
    void write.finally(() => open.delete(write));
  }
  await Promise.all(open);
  return {
    planned,
    sent,
    latencies,
    failures,
    ...(firstError ? { firstError } : {}),
    maxLagMs: round(maxLag),
    elapsedSeconds: round((performance.now() - t0) / 1000),
    createdByProvince,
  };
}

/** One report of the rounds a writer plan ran in: latencies pooled, counts summed. */
function mergeWriterRounds(plan: { ratePerSecond: number; targets: WriterTarget[] }, rounds: WriterRound[]): WriterReport {
  const sum = (f: (r: WriterRound) => number) => rounds.reduce((a, r) => a + f(r), 0);
  const pooled = (m: MutationName) => rounds.flatMap((r) => r.latencies[m]);
  const failed = (m: MutationName) => sum((r) => r.failures[m]);
  const createdByProvince: Record<string, number> = {};
  for (const r of rounds) for (const [p, n] of Object.entries(r.createdByProvince)) createdByProvince[p] = (createdByProvince[p] ?? 0) + n;
  const firstError = rounds.find((r) => r.firstError)?.firstError;
  const sent = sum((r) => r.sent);
  const failures = failed("createProject") + failed("advanceStage");
  return {
    provinces: plan.targets.map((t) => t.province),
    ratePerSecond: plan.ratePerSecond,
    seconds: round(sum((r) => r.planned) / plan.ratePerSecond),
    rounds: rounds.length,
    planned: sum((r) => r.planned),
    sent,
    ok: sent - failures,
    failed: failures,
    ...(firstError ? { firstError } : {}),
    maxLagMs: Math.max(...rounds.map((r) => r.maxLagMs)),
    elapsedSeconds: round(sum((r) => r.elapsedSeconds)),
    byMutation: { createProject: summarise(pooled("createProject"), failed("createProject")), advanceStage: summarise(pooled("advanceStage"), failed("advanceStage")) },
    createdByProvince,
  };
}

/** The rounds of one read phase as one measurement (see ReadPhase.reads). */
function mergeReads(runs: Measurement[]): Measurement {
  if (runs.length === 1) return runs[0];
  const sum = (f: (m: Measurement) => number) => runs.reduce((a, m) => a + f(m), 0);
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
  const requests = sum((m) => m.requests);
  const seconds = sum((m) => m.seconds);
  const perRequest = (f: (m: Measurement) => number | null) =>
    runs.some((m) => f(m) === null) || requests === 0 ? null : round(sum((m) => f(m)! * m.requests) / requests);
  const other = runs.some((m) => m.cpu.otherPercentOfCore === null) ? null : Math.round(sum((m) => m.cpu.otherPercentOfCore! * m.seconds) / seconds);
  return {
    connections: runs[0].connections,
    seconds: round(seconds),
    requests,
    requestsPerSecond: round(requests / seconds, 1),
    p50: median(runs.map((m) => m.p50)),
    p90: median(runs.map((m) => m.p90)),
    p99: Math.max(...runs.map((m) => m.p99)),
    mean: requests ? round(sum((m) => m.mean * m.requests) / requests) : NaN,
    max: Math.max(...runs.map((m) => m.max)),
    non2xx: sum((m) => m.non2xx),
    errors: sum((m) => m.errors),
    timeouts: sum((m) => m.timeouts),
    withErrors: sum((m) => m.withErrors),
    unfinished: sum((m) => m.unfinished),
    cpu: {
      serverMsPerRequest: perRequest((m) => m.cpu.serverMsPerRequest),
      databaseMsPerRequest: perRequest((m) => m.cpu.databaseMsPerRequest),
      clientMsPerRequest: perRequest((m) => m.cpu.clientMsPerRequest) ?? NaN,
      otherPercentOfCore: other,
    },
  };
}

/** The child's side: announce readiness, run the plan it is sent, report, exit. */
function writerMain(): void {
  const reply = (message: FromWriter) => process.send!(message);
  // Never outlive the benchmark, nor the longest a plan may take.
  process.on("disconnect", () => process.exit(0));
  process.on("message", (message: ToWriter) => {
    if (message?.type !== "go") return;
    setTimeout(() => process.exit(2), (message.plan.seconds + WRITE_TIMEOUT_MS / 1000 + 30) * 1000).unref();
    runWriter(message.plan).then(
      (report) => {
        reply({ type: "report", report });
        process.disconnect();
      },
      (error: Error) => {
        reply({ type: "error", message: error.stack ?? error.message });
        process.disconnect();
      },
    );
  });
  reply({ type: "ready" });
}

const writers = new Set<ChildProcess>();
process.on("exit", () => {
  for (const writer of writers) if (writer.exitCode === null && writer.signalCode === null) writer.kill("SIGKILL");
});

/** Starts the writer process; resolves once it is loaded, with `go` to start it and the promise of its report. */
async function startWriter(): Promise<{ pid: number; go(plan: WriterPlan): Promise<WriterRound> }> {
  const child = fork(__filename, ["--writer"], {
    execArgv: ["-r", require.resolve("ts-node/register/transpile-only")],
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  writers.add(child);
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let report: ((message: FromWriter) => void) | null = null;
  const exited = new Promise<never>((_resolve, reject) => {
    // "close", not "exit": by then every message the child sent has been delivered.
    child.once("close", (code, signal) => {
      writers.delete(child);
      reject(new Error(`the writer exited (${signal ?? `code ${code}`}) without a report\n${stderr.trim()}`));
    });
  });
  exited.catch(() => undefined);
  child.on("message", (message: FromWriter) => report?.(message));
  await Promise.race([
    new Promise<void>((resolve) => {
      report = (message) => message.type === "ready" && resolve();
    }),
    exited,
  ]);
  return {
    pid: child.pid!,
    go(plan) {
      const done = new Promise<WriterRound>((resolve, reject) => {
        report = (message) => {
          if (message.type === "report") resolve(message.report);
          else if (message.type === "error") reject(new Error(`the writer failed: ${message.message}`));
        };
      });
      child.send({ type: "go", plan } satisfies ToWriter);
      return Promise.race([done, exited]);
    },
  };
}

// ---------------------------------------------------------------------------
// The measurement

/** Reads at 10 connections for `seconds`, with the writer of `plan` (if any) running over the same seconds. */
async function readWhileWriting(
  tools: WriteBenchTools,
  target: { url: string; pids: Pids; database: string },
  body: string,
  plan: Omit<WriterPlan, "url" | "seconds"> | null,
  seconds: number,
): Promise<{ reads: Measurement; writer?: WriterRound }> {
  const writer = plan ? await startWriter() : null;
  const writes = writer?.go({ ...plan!, url: target.url, seconds });
  writes?.catch(() => undefined);
  const reads = await tools.cannon(target.url, body, READ_CONNECTIONS, seconds, target.pids);
  const report = writes ? await writes : undefined;
  await tools.waitForDatabaseIdle(target.database);
  return { reads, writer: report };
}

/** Henan's projectCount in an answer to the province-to-county query. */
function henanProjects(sample: Sample): number {
  const problem = sample.status !== 200 ? `status ${sample.status}` : null;
  const parsed = problem ? null : (JSON.parse(sample.body) as { data?: { region?: { stats?: { projectCount?: number } } }; errors?: unknown });
  const count = parsed?.data?.region?.stats?.projectCount;
  if (problem || parsed?.errors || typeof count !== "number") throw new Error(`the province-to-county answer is not clean: ${problem ?? sample.body.slice(0, 500)}`);
  return count;
}

/** The bad parts of a read run under writes (non-2xx, answers with errors, broken connections), or null. */
function readProblem(run: Measurement): string | null {
  const bad = [run.non2xx && `${run.non2xx} non-2xx`, run.withErrors && `${run.withErrors} responses with errors`, run.errors && `${run.errors} connection errors`].filter(Boolean);
  return bad.length ? bad.join(", ") : null;
}

/** CPU time (user + system) a live process has used so far, in ms; null when it cannot be read (not Linux, gone). */
function cpuMs(pid: number | null): number | null {
  const ticks = processTicks(pid);
  return ticks === null ? null : ticks * TICK_MS;
}

function isoToday(): string {
  return new Date().toISOString().slice(0, 10);
}

/** (i)–(iii) for one size; `source` is `mp_bench_<size>`. */
export async function measureWrites(tools: WriteBenchTools, size: number, source: string): Promise<WritesResult> {
  const database = `${source}_writes`;
  const result: WritesResult = { status: "ok", database, phases: [] };
  const fail = (problem: string): WritesResult => {
    tools.say(`FAILED: ${problem}`);
    return { ...result, status: "failed", problem };
  };
  tools.say(`copy of ${source} for the writes: ${database}`);
  try {
    result.copy = await ensureWriteCopy(tools.mysql, source, database, size);
  } catch (error) {
    return fail(`copying ${source}: ${(error as Error).message}`);
  }
  tools.say(
    `${result.copy.made ? `copied in ${result.copy.seconds} s` : "reused"}; ${result.copy.projectsAtStart.toLocaleString("en-US")} projects` +
      `${result.copy.addedByEarlierRuns ? `, ${result.copy.addedByEarlierRuns.toLocaleString("en-US")} of them written by earlier runs` : ""}`,
  );

  // Province tokens and the regions the writers may write to, straight in the copy.
  const { loadConfig } = await import("../src/config");
  const { openDatabase } = await import("../src/db/open-database");
  const { createToken, revokeToken } = await import("../src/auth/tokens");
  const databaseUrl = new URL(tools.mysql);
  databaseUrl.pathname = `/${database}`;
  const db = await openDatabase(loadConfig({ DATABASE_URL: databaseUrl.toString(), NODE_ENV: "production" }));
  const tokenIds: number[] = [];
  let server: Started | null = null;
  try {
    const regions: Array<{ id: number; code: string; parent_id: number | null }> = await db.query("SELECT id, code, parent_id FROM region");
    const byId = new Map(regions.map((r) => [Number(r.id), r]));
    const parents = new Set(regions.filter((r) => r.parent_id !== null).map((r) => Number(r.parent_id)));
    const provinceOf = (region: (typeof regions)[number]) => {
      let r = region;
      while (r.parent_id !== null) r = byId.get(Number(r.parent_id))!;
      return r.code;
    };
    const leavesOf = new Map<string, string[]>();
    for (const r of regions) if (!parents.has(Number(r.id)) && r.parent_id !== null) leavesOf.set(provinceOf(r), [...(leavesOf.get(provinceOf(r)) ?? []), r.code]);
    const sectors = ((await db.query("SELECT code FROM sector ORDER BY id")) as Array<{ code: string }>).map((s) => s.code);
    const runId = new Date().toISOString().replace(/[-:.TZ]/g, "").slice(0, 14);
    const targetFor = async (province: string): Promise<WriterTarget> => {
      const leaves = leavesOf.get(province);
      if (!leaves?.length) throw new Error(`no county of province ${province} in ${database}`);
      const created = await createToken(db, { regionCode: province, name: `npm run bench writer ${province} ${runId}` });
      tokenIds.push(created.id);
      return { province, token: created.token, leaves };
    };
    const elsewhere = await Promise.all(ELSEWHERE_PROVINCE_CODES.map(targetFor));
    const henan = [await targetFor(PROVINCE_CODE)];

    server = await tools.startServer("the server (writes)", database, {}, `server-writes-${size}-${Date.now()}.cpuprofile`);
    const target = { url: server.url, pids: { server: server.child.pid!, database: tools.databasePid }, database };
    const body = JSON.stringify({ query: provinceToCounty() });
    const count = async () => henanProjects(await tools.post(target.url, body));
    await count();
    if (tools.warmup > 0) {
      tools.say(`warm-up ${tools.warmup} s, ${READ_CONNECTIONS} connections`);
      await tools.cannon(target.url, body, READ_CONNECTIONS, tools.warmup, target.pids);
      await tools.waitForDatabaseIdle(database);
    }
    const common = { sectors, today: isoToday(), runId };
    const phases: Array<{ key: ReadPhase["key"]; name: string; plan: Omit<WriterPlan, "url" | "seconds"> | null }> = [
      { key: "baseline", name: "Henan province-to-county, no writer", plan: null },
      {
        key: "elsewhere",
        name: `the same, writer in 5 other provinces at ${ELSEWHERE_WRITES_PER_SECOND}/s`,
        plan: { ...common, ratePerSecond: ELSEWHERE_WRITES_PER_SECOND, targets: elsewhere },
      },
      { key: "henan", name: `the same, writer in Henan at ${HENAN_WRITES_PER_SECOND}/s`, plan: { ...common, ratePerSecond: HENAN_WRITES_PER_SECOND, targets: henan } },
    ];
    // The three phases take turns in rounds (baseline, elsewhere, Henan, baseline, …), so that other work on a
    // shared machine, which comes and goes over minutes, weighs on each of them alike.
    const rounds = Math.max(1, Math.min(5, Math.floor(tools.seconds / 3)));
    const seconds = tools.seconds / rounds;
    tools.say(`${rounds} round(s) of ${round(seconds)} s per phase, ${READ_CONNECTIONS} connections`);
    const runs = new Map(phases.map((p) => [p.key, { reads: [] as Measurement[], writer: [] as WriterRound[], moved: 0, created: 0 }]));
    for (let r = 0; r < rounds; r++) {
      for (const phase of phases) {
        const before = await count();
        const { reads, writer } = await readWhileWriting(tools, target, body, phase.plan, seconds);
        const after = await count();
        const created = writer?.createdByProvince[PROVINCE_CODE] ?? 0;
        const expected = before + created;
        const run = runs.get(phase.key)!;
        run.reads.push(reads);
        if (writer) run.writer.push(writer);
        run.moved += after - before;
        run.created += created;
        const w = writer && mergeWriterRounds(phase.plan!, [writer]);
        tools.say(
          `round ${r + 1}, ${phase.name}: ${reads.requestsPerSecond} reads/s, other work ${reads.cpu.otherPercentOfCore ?? "?"} % of a core` +
            (w ? `; ${w.ok}/${w.planned} writes ok, createProject p50 ${w.byMutation.createProject.p50} ms, advanceStage p50 ${w.byMutation.advanceStage.p50} ms` : "") +
            `; Henan projectCount ${before} → ${after}`,
        );
        const problem = readProblem(reads);
        if (problem) return fail(`${phase.name}: reads: ${problem}`);
        if (w?.failed) return fail(`${phase.name}: ${w.failed} of ${w.sent} writes failed; first: ${w.firstError}`);
        if (after !== expected) return fail(`${phase.name}: Henan's projectCount is ${after} after the writes, ${expected} expected (${before} before)`);
      }
    }
    for (const phase of phases) {
      const run = runs.get(phase.key)!;
      const reads = mergeReads(run.reads);
      const writer = phase.plan ? mergeWriterRounds(phase.plan, run.writer) : undefined;
      const baseline = result.phases[0]?.reads.requestsPerSecond;
      const ratio = phase.key === "baseline" || !baseline ? null : round(reads.requestsPerSecond / baseline, 2);
      result.phases.push({ key: phase.key, name: phase.name, reads, rounds, ratioToBaseline: ratio, writer, henanProjects: { moved: run.moved, created: run.created } });
      const w = writer?.byMutation;
      tools.say(
        `${phase.name}: ${reads.requestsPerSecond} reads/s${ratio === null ? "" : ` (${Math.round(ratio * 100)} % of the baseline)`}, read p50 ${reads.p50} ms p99 ${reads.p99} ms` +
          (writer
            ? `; ${writer.ok}/${writer.planned} writes ok in ${writer.elapsedSeconds} s, createProject p50 ${w!.createProject.p50} p99 ${w!.createProject.p99} ms, ` +
              `advanceStage p50 ${w!.advanceStage.p50} p99 ${w!.advanceStage.p99} ms, largest lag behind schedule ${writer.maxLagMs} ms`
            : ""),
      );
    }
    tools.say(`for comparison, the writer in 5 other provinces at ${ELSEWHERE_WRITES_PER_SECOND}/s with no reads, ${tools.seconds} s`);
    const alonePlan = { ...common, ratePerSecond: ELSEWHERE_WRITES_PER_SECOND, targets: elsewhere };
    const writer = await startWriter();
    const ticks = () => ({ server: cpuMs(server!.child.pid!), database: cpuMs(tools.databasePid), writer: cpuMs(writer.pid) });
    const ticksBefore = ticks();
    const aloneRound = await writer.go({ ...alonePlan, url: target.url, seconds: tools.seconds });
    const ticksAfter = ticks();
    await tools.waitForDatabaseIdle(database);
    const perWrite = (a: number | null, b: number | null) => (a === null || b === null ? null : round((b - a) / Math.max(1, aloneRound.sent), 1));
    const alone = {
      ...mergeWriterRounds(alonePlan, [aloneRound]),
      cpuMsPerWrite: {
        server: perWrite(ticksBefore.server, ticksAfter.server),
        database: perWrite(ticksBefore.database, ticksAfter.database),
        writer: perWrite(ticksBefore.writer, ticksAfter.writer),
      },
    };
    result.alone = alone;
    tools.say(
      `${alone.ok}/${alone.planned} writes ok, createProject p50 ${alone.byMutation.createProject.p50} p99 ${alone.byMutation.createProject.p99} ms, ` +
        `advanceStage p50 ${alone.byMutation.advanceStage.p50} p99 ${alone.byMutation.advanceStage.p99} ms; ` +
        `CPU per write: server ${alone.cpuMsPerWrite.server ?? "?"} ms, database ${alone.cpuMsPerWrite.database ?? "?"} ms, writer ${alone.cpuMsPerWrite.writer ?? "?"} ms`,
    );
    if (alone.failed) return fail(`the writer alone: ${alone.failed} of ${alone.sent} writes failed; first: ${alone.firstError}`);
    result.server = { startSeconds: round(server.startSeconds), peakRssKiB: tools.peakRssKiB(server.child.pid!) };
    return result;
  } catch (error) {
    return fail((error as Error).message);
  } finally {
    if (server) await tools.stopChild(server.child);
    for (const id of tokenIds) await revokeToken(db, id).catch(() => undefined);
    await db.destroy();
  }
}

// ---------------------------------------------------------------------------
// Report: a table of its own, and checks

interface SizeView {
  projects: number;
  scenarios: ScenarioResult[];
  floor: ScenarioResult;
  writes?: WritesResult;
}

const fmtSize = (n: number) => n.toLocaleString("en-US");

/** The write scenarios' table (reads/s and their share of the baseline; each writer's latencies). */
export function renderWrites(sizes: SizeView[], table: (rows: string[][], right: Set<number>) => string): string[] {
  const withWrites = sizes.filter((s) => s.writes);
  if (withWrites.length === 0) return [];
  const header = ["reads of Henan (10 conn) while writing", "projects", "reads/s", "of baseline", "read p50 ms", "read p99 ms", "server CPU ms/read", "writes ok/planned", "write", "p50 ms", "p90 ms", "p99 ms", "max ms"];
  const rows: string[][] = [header];
  const lines: string[] = [];
  const num = (n: number | null | undefined, d = 1) => (n === null || n === undefined || !Number.isFinite(n) ? "" : n.toFixed(d));
  for (const s of withWrites) {
    const w = s.writes!;
    for (const phase of w.phases) {
      const r = phase.reads;
      const base = [
        phase.name,
        fmtSize(s.projects),
        num(r.requestsPerSecond),
        phase.ratioToBaseline === null ? "" : `${Math.round(phase.ratioToBaseline * 100)} %`,
        num(r.p50),
        num(r.p99),
        num(r.cpu.serverMsPerRequest),
        phase.writer ? `${phase.writer.ok}/${phase.writer.planned}` : "",
      ];
      if (!phase.writer) rows.push([...base, "", "", "", "", ""]);
      else
        (["createProject", "advanceStage"] as const).forEach((m, i) => {
          const l = phase.writer!.byMutation[m];
          rows.push([...(i === 0 ? base : base.map(() => "")), `${m} (${l.ok})`, num(l.p50), num(l.p90), num(l.p99), num(l.max)]);
        });
    }
    if (w.alone)
      (["createProject", "advanceStage"] as const).forEach((m, i) => {
        const l = w.alone!.byMutation[m];
        const base = i === 0 ? [`no reads, writer in 5 other provinces at ${ELSEWHERE_WRITES_PER_SECOND}/s`, fmtSize(s.projects), "", "", "", "", "", `${w.alone!.ok}/${w.alone!.planned}`] : header.slice(0, 8).map(() => "");
        rows.push([...base, `${m} (${l.ok})`, num(l.p50), num(l.p90), num(l.p99), num(l.max)]);
      });
    if (w.status === "failed") rows.push(["FAILED", fmtSize(s.projects), ...header.slice(2).map(() => "")]);
  }
  lines.push("", table(rows, new Set([1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12])));
  lines.push(
    `Reads: the province-to-county query of Henan, 10 connections; writes: createProject and advanceStage alternating, over HTTP with a province token, ` +
      `on a fixed schedule from a child process; write latencies as that process saw them (count in brackets). Database: a copy, mp_bench_<size>_writes.`,
  );
  for (const s of withWrites) {
    const w = s.writes!;
    if (w.copy)
      lines.push(
        `Writes at ${fmtSize(s.projects)}: ${w.database} ${w.copy.made ? `copied in ${w.copy.seconds} s` : "reused"}, ${fmtSize(w.copy.projectsAtStart)} projects at the start` +
          `${w.copy.addedByEarlierRuns ? ` (${fmtSize(w.copy.addedByEarlierRuns)} created by earlier runs' writers)` : ""}; ` +
          `${w.phases[0]?.rounds ?? 0} round(s) per phase; ` +
          w.phases.map((p) => `${p.key}: Henan projectCount moved by ${p.henanProjects.moved} (${p.henanProjects.created} created there)${p.writer ? `, writer lag ≤ ${p.writer.maxLagMs} ms` : ""}`).join("; "),
      );
    if (w.alone) {
      const c = w.alone.cpuMsPerWrite;
      lines.push(`CPU per write with no reads at ${fmtSize(s.projects)}: server ${c.server ?? "?"} ms, database server ${c.database ?? "?"} ms (other databases' work included), writer ${c.writer ?? "?"} ms.`);
    }
    if (w.status === "failed") lines.push(`FAILED writes at ${fmtSize(s.projects)}: ${w.problem}`);
    for (const p of w.phases) {
      const busy = p.reads.cpu.otherPercentOfCore ?? 0;
      if (busy > 25) lines.push(`NOISE: other processes used up to ${busy} % of a core during "${p.name}" at ${fmtSize(s.projects)}`);
    }
  }
  return lines;
}

/** The issue's targets for the write scenarios, the repeated request (key "repeated") and the aggregate cache off (key "no-aggregate-cache"). */
export function writeChecks(sizes: SizeView[]): Check[] {
  const out: Check[] = [];
  const at1M = (s: SizeView) => (s.projects === 1_000_000 ? "" : " (target is at 1,000,000)");
  const ok = (r: ScenarioResult | undefined) => (r?.status === "ok" ? r : undefined);
  for (const s of sizes) {
    const floor = ok(s.floor);
    const repeated = ok(s.scenarios.find((r) => r.key === "repeated"));
    if (repeated && floor) {
      const perRequest = floor.throughput!.requestsPerSecond / repeated.throughput!.requestsPerSecond;
      const p50 = repeated.latency!.p50 / floor.latency!.p50;
      const cpu = repeated.throughput!.cpu.serverMsPerRequest !== null && floor.throughput!.cpu.serverMsPerRequest ? repeated.throughput!.cpu.serverMsPerRequest / floor.throughput!.cpu.serverMsPerRequest : null;
      out.push({
        target: `repeated identical request ≤ 1.0 × floor per request (p50 at 1 conn; 1/req/s at 10 conn)${at1M(s)}`,
        value: `p50 ${round(p50)}×, per request ${round(perRequest)}×, server CPU per request ${cpu === null ? "?" : `${round(cpu)}×`} at ${fmtSize(s.projects)}`,
        pass: p50 <= 1 && perRequest <= 1,
      });
    } else out.push({ target: "repeated identical request ≤ 1.0 × floor per request", value: `not measured at ${fmtSize(s.projects)}`, pass: null });
    const cold = ok(s.scenarios.find((r) => r.key === "no-aggregate-cache"));
    out.push({
      target: `≥ 100 req/s (10 conn), province-to-county with the aggregate cache off${at1M(s)}`,
      value: cold
        ? `${cold.throughput!.requestsPerSecond} req/s at ${fmtSize(s.projects)}${floor ? ` (${round(cold.throughput!.requestsPerSecond / floor.throughput!.requestsPerSecond)}× the floor's)` : ""}`
        : `not measured at ${fmtSize(s.projects)}`,
      pass: cold ? cold.throughput!.requestsPerSecond >= 100 : null,
    });
    const phases = s.writes?.phases ?? [];
    const phase = (key: ReadPhase["key"]) => phases.find((p) => p.key === key);
    for (const [key, share, label] of [
      ["elsewhere", 0.9, `reads with ${ELSEWHERE_WRITES_PER_SECOND} writes/s elsewhere ≥ 90 % of no writes`],
      ["henan", 0.5, `reads with ${HENAN_WRITES_PER_SECOND} writes/s in Henan ≥ 50 % of no writes`],
    ] as const) {
      const p = phase(key);
      out.push({
        target: `${label}${at1M(s)}`,
        value: p?.ratioToBaseline != null ? `${Math.round(p.ratioToBaseline * 100)} % (${p.reads.requestsPerSecond} vs ${phase("baseline")!.reads.requestsPerSecond} reads/s) at ${fmtSize(s.projects)}` : `not measured at ${fmtSize(s.projects)}`,
        pass: p?.ratioToBaseline != null ? p.ratioToBaseline >= share : null,
      });
    }
    for (const m of ["createProject", "advanceStage"] as const) {
      const measured = phases.filter((p) => p.writer).map((p) => ({ key: p.key, l: p.writer!.byMutation[m] }));
      const p50s = measured.filter((x) => x.l.p50 !== null);
      out.push({
        target: `write p50 ≤ 15 ms, ${m}${at1M(s)}`,
        value: p50s.length ? p50s.map((x) => `${x.l.p50} ms (p99 ${x.l.p99}) writing ${x.key === "henan" ? "in Henan" : "elsewhere"}`).join(", ") + ` at ${fmtSize(s.projects)}` : `not measured at ${fmtSize(s.projects)}`,
        pass: p50s.length ? p50s.every((x) => x.l.p50! <= 15) : null,
      });
    }
  }
  return out;
}

if (require.main === module && process.argv.includes("--writer")) writerMain();
