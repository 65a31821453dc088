/**
 * "Meeting day, live": GraphQL subscriptions under load (the issue's words: 10,000 screens subscribed while writes
 * arrive at 50/s at the meeting's venues; how late each screen is, whether every screen ends on the right figures,
 * what it costs the server, what it does to the province-to-county reads, and how many screens this machine holds).
 *
 * On `mp_bench_<size>_live`, a copy of the size's generated database (bench/writes.ts's `ensureWriteCopy`: the
 * writes stay, and writing into `mp_bench_<size>` would have the generator make it again), for each session:
 *
 *   1. start the compiled server as `npm start` runs it (its V8 flags from package.json; NODE_ENV=production,
 *      127.0.0.1, a free port; LIVE_MIN_INTERVAL_MS left at the server's default unless --interval is given), or
 *      two of them with REDIS_URL for the two-instance session;
 *   2. fork the screens process (bench/live-load.ts): 90 % of the screens hold `meetingBoard` of Henan's latest
 *      meeting (19 venues: the province's main venue and one per city), 10 % `regionStats` of Henan's cities and
 *      counties (every city and county in turn, with no filter, `stages: [SIGNED]` or one top-level sector), each on
 *      a WebSocket of its own from 127.0.x.y (a block of addresses per session, 10,000 screens an address), over
 *      graphql-transport-ws; two instances: screens alternate between them;
 *   3. 3 s with the screens idle (the server's CPU then), then the writes: a writer process (live-load.ts --writer)
 *      sends createProject (4 in 5) and recordAtMeeting of a Henan project's SIGNED milestone (1 in 5), each
 *      presented at one of the meeting's venues in turn, at 50/s for 60 s (through the first instance), with a
 *      Henan province token; then waits until no screen has had a push for 1 s;
 *   4. (not for the step sessions) the province-to-county query at 10 connections (5 + 5 over two instances) in
 *      rounds: with the screens idle, then with the writes landing (and the screens pushed), taking turns;
 *   5. a fresh query of each subscription's figures (the same selection by `meeting` and `region.stats`, with the
 *      token, so not from the response cache) against each screen's last value; the screens process turns the
 *      pushes into latencies with the writes' times, reports, and exits; the servers' peak RSS; stop.
 *
 * Which write a push shows, by content: every write adds one to the SIGNED batch count of its venue on the board,
 *      and a createProject one to the projectCount of its county and city under the filters it matches; a screen
 *      reads those numbers from each push, and notes when it first showed each state (base + k). The k-th state of
 *      a figure exists once k of the writes that move it have committed — whichever they are, as the writer does
 *      not wait for one answer before the next write (open loop, as a meeting's offices would) — so its commit time
 *      is taken as the time the k-th of their mutation answers arrived at the writer (the issue's "commit"; a push
 *      may come before it: a negative latency), and, as the other bound, the time the k-th of them was sent.
 *      p50/p99/max over every (screen, state) pair, i.e. every (screen, write). Clocks: CLOCK_MONOTONIC in all
 *      processes.
 * Pushes expected: with coalescing (at most one per LIVE_MIN_INTERVAL_MS), a screen must show at least its first
 *      value and, when any write changed it, the final one, and can show at most one per write; the count
 *      delivered is given beside both bounds, and whether each screen reached the figures its writes add up to.
 *
 * Sessions: the main one (10,000 screens, 1 instance); steps (30 s of writes, no reads) up from it (15,000, 18,000)
 * while p99 ≤ 1 s, or down (5,000, 2,000, 1,000) until it is, for the largest count this machine holds; two instances
 * with Redis (REDIS_URL, default redis://127.0.0.1:6379; n/a when it does not answer PING), screens split, writes
 * through one. --smoke: 3,000 projects, 200 screens, 5 s of writes, one round of 1 s reads, the two instances with
 * 200 screens and 3 s of writes, no steps.
 *
 *   npx ts-node --transpile-only bench/live.ts [--smoke] [--mysql mysql://root@127.0.0.1:3306] [--projects 1000000]
 *       [--screens 10000] [--seconds 60] [--rate 50] [--read-seconds 15] [--no-steps] [--no-instances]
 *       [--redis redis://127.0.0.1:6379] [--interval MS] [--no-deflate] [--head | --commit SHA] [--profile] [--threads N]
 *
 * Alone it builds first (`npm run build`; with --head, HEAD alone from `git archive` in a temporary directory, so that
 * others' uncommitted edits in the working tree are not what is measured; --commit SHA, that commit likewise), prints a table with each figure beside its target and writes
 * bench/results/<stamp>-live[-smoke]-<size>.json; bench/run.ts runs it once per run (`measureLive`). Exits 1 when
 * a session failed outright (a server or screen process died, writes were refused, a screen got errors); a missed
 * target is reported, never a failure. Every process is started and stopped here by its pid; traffic stays on 127.x.
 */
import "reflect-metadata";

import { type ChildProcess, execFile, fork } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";

import { createConnection } from "mysql2/promise";

import { gitCommit } from "./git";
import type {
  ConnectReport,
  FromScreens,
  FromWriter,
  LatencyGroup,
  LiveSubscription,
  PhaseReport,
  PlannedWrite,
  ScreensReport,
  ScreensSpec,
  SettleReport,
  ToScreens,
  ToWriter,
  VerifyReport,
  WriteOutcome,
  WriterReport,
} from "./live-load";
import { cannon, findDatabasePid, waitForDatabaseIdle } from "./load";
import { type Check, type Measurement, round } from "./measurement";
import { machineBusyTicks, processTicks, TICK_MS } from "./proc";
import { PROVINCE_CODE, provinceToCounty } from "./scenarios";
import { peakRssKiB, type Started, startChild, stopChild } from "./servers";
import { ensureWriteCopy } from "./writes";

const ROOT = path.resolve(__dirname, "..");
const SERVER_MAIN = path.join(ROOT, "dist/src/main.js");
const LOAD_FILE = path.join(__dirname, "live-load.ts");
const RESULTS_DIR = path.join(__dirname, "results");
/** The V8 flags `npm start` runs a build with (its package.json is their one home: <root>/dist/src/main.js → <root>/package.json). */
function startFlags(serverMain: string): string[] {
  return (JSON.parse(fs.readFileSync(path.resolve(path.dirname(serverMain), "../../package.json"), "utf8")).scripts.start as string)
    .split(/\s+/)
    .filter((token) => token.startsWith("--"));
}

/** The issue's targets. */
export const TARGET_P99_MS = 250;
export const TARGET_STEP_P99_MS = 1000;
export const TARGET_RSS_MB = 1000;
export const TARGET_READ_SHARE = 0.9;
/** How long the screens may take to show every write after the last one, at most. */
const SETTLE_MAX_MS = 120_000;
/** Seconds past the schedule a writer may still send (a server far behind): later writes are reported unsent. */
const WRITE_GRACE_SECONDS = 60;
/** Share of the screens on the meeting board; the rest watch regions. */
const BOARD_SHARE = 0.9;
/** Screens per local address (a loopback address has ~28,000 ephemeral ports). */
const PER_ADDRESS = 10_000;
/** The selection of a meeting board: the meeting's batches, then each venue's (SIGNED first: the screens read its count). */
const BOARD_FIELDS = "id title heldOn batches { stage stats { projectCount totalInvestment } } venues { kind region { code name } batches { stage stats { projectCount totalInvestment } } }";
/** The selection of a region's figures: projectCount first (the screens read it). */
const STATS_FIELDS = "projectCount totalInvestment byStage { stage projectCount totalInvestment } bySector { sector { code name } projectCount totalInvestment }";
const BOARD_SUBSCRIPTION = `subscription LiveBoard($meetingId: ID!) { meetingBoard(meetingId: $meetingId) { ${BOARD_FIELDS} } }`;
const REGION_SUBSCRIPTION = `subscription LiveRegion($code: ID!, $filter: ProjectFilter) { regionStats(code: $code, filter: $filter) { ${STATS_FIELDS} } }`;
/** The same figures by query, under the subscription's field name. */
const BOARD_QUERY = `query LiveBoardNow($meetingId: ID!) { meetingBoard: meeting(id: $meetingId) { ${BOARD_FIELDS} } }`;
const REGION_QUERY = `query LiveRegionNow($code: ID!, $filter: ProjectFilter) { region(code: $code) { regionStats: stats(filter: $filter) { ${STATS_FIELDS} } } }`;
const CREATE = "mutation LiveCreate($input: CreateProjectInput!) { createProject(input: $input) { id version } }";
const RECORD = "mutation LiveRecord($input: RecordAtMeetingInput!) { recordAtMeeting(input: $input) { id version } }";

// ---------------------------------------------------------------------------
// Options and results

export interface LiveOptions {
  mysql: string;
  projects: number;
  smoke: boolean;
  screens: number;
  /** Seconds of writes in the latency measurement. */
  seconds: number;
  ratePerSecond: number;
  /** Rounds of reads (each: no writes, then writes), seconds of each half-round. */
  reads: { rounds: number; seconds: number };
  steps: boolean;
  stepSeconds: number;
  instances: boolean;
  /** Screens and seconds of writes of the two-instance session. */
  instanceScreens: number;
  instanceSeconds: number;
  redisUrl: string;
  /** LIVE_MIN_INTERVAL_MS for the servers; null: their default. */
  intervalMs: number | null;
  deflate: boolean;
  /** Threads of the screens process (each its own event loop; default: one per core). */
  screenThreads: number;
  /** The compiled server measured (default dist/src/main.js; --head: a build of HEAD alone). */
  serverMain?: string;
  /** Run the servers with --cpu-prof (profiles in bench/results/profiles/; bench/profile.ts reads them). */
  profile?: boolean;
  say: (what: string) => void;
}

/** The sizes of a run: the issue's, or --smoke's. */
export function livePlan(smoke: boolean): Omit<LiveOptions, "mysql" | "say"> {
  return smoke
    ? { projects: 3000, smoke, screens: 200, seconds: 5, ratePerSecond: 50, reads: { rounds: 1, seconds: 1 }, steps: false, stepSeconds: 5, instances: true, instanceScreens: 200, instanceSeconds: 3, redisUrl: "redis://127.0.0.1:6379", intervalMs: null, deflate: true, screenThreads: os.cpus().length }
    : { projects: 1_000_000, smoke, screens: 10_000, seconds: 60, ratePerSecond: 50, reads: { rounds: 3, seconds: 5 }, steps: true, stepSeconds: 30, instances: true, instanceScreens: 10_000, instanceSeconds: 60, redisUrl: "redis://127.0.0.1:6379", intervalMs: null, deflate: true, screenThreads: os.cpus().length };
}

interface ReadFigures {
  requests: number;
  /** Wall seconds (the instances' runs of a round overlap: a round counts once). */
  seconds: number;
  requestsPerSecond: number;
  /** Median of the rounds' p50s, highest of their p99s (ms, at 10 connections; null: a round with no answer). */
  p50: number | null;
  p99: number | null;
  problems: number;
  /** Each round: req/s (all instances), and other processes' CPU meanwhile (% of a core: not the servers, the database, the screens, the writer or this process). */
  rounds: Array<{
    requestsPerSecond: number;
    otherPercentOfCore: number | null;
    /** The slowest answer of the round (ms), and requests still open when it ended. */
    maxMs: number | null;
    unfinished: number;
    /** A round with no answer at all: how long one more request took right after it (ms), and what it got. */
    nextRequestMs?: number;
    nextRequestAnswer?: string;
  }>;
}

export interface LiveSession {
  name: string;
  kind: "main" | "step" | "two-instances";
  screens: number;
  instances: number;
  status: "ok" | "failed" | "n/a";
  problem?: string;
  seconds: number;
  setup?: { meetingId: string; venues: string[]; subscriptions: number; regionCodes: number; localAddresses: string[] };
  connect?: ConnectReport;
  openFilesLimit?: number | null;
  /** The writes: mutation latency and lateness during the writes alone; the same (p99 the highest of the rounds') under the reads. */
  writes?: {
    planned: number;
    sent: number;
    ok: number;
    failed: number;
    timedOut: number;
    notSent: number;
    firstError?: string;
    /** Writes answered per second during the writes alone (the plan's rate when the server keeps up). */
    okPerSecond: number;
    latencyMs: WriterReport["latencyMs"];
    lagMs: WriterReport["lagMs"];
    underReads?: { latencyMs: WriterReport["latencyMs"]; lagMax: number };
    writerCpuPercent: number | null;
  };
  /** Write-commit-to-screen during the writes with no reads, and during the read rounds' writes. */
  latency?: LatencyGroup;
  latencyUnderReads?: LatencyGroup;
  pushes?: ScreensReport["pushes"];
  finalState?: ScreensReport["finalState"];
  closedDuringRun?: number;
  firstClose?: string;
  firstRegression?: string;
  /** After the writes alone: how long after the writer's last answer every screen showed its final figures. */
  settled?: SettleReport;
  /** The same at the end, after the read rounds. */
  settledAtEnd?: SettleReport;
  verify?: VerifyReport;
  servers?: Array<{ label: string; pid: number; startSeconds: number; idleCpuPercent: number | null; cpuPercent: number | null; peakRssMB: number | null }>;
  /** The servers' CPU during the writes (ms) over the pushes delivered then. */
  serverCpuMsPerPush?: number | null;
  databaseCpuPercent?: number | null;
  /** Everything else on the machine during the writes (not the servers, the database, the screens, the writer), % of one core. */
  otherCpuPercent?: number | null;
  /** The servers' log lines of level warn and above (the last 20 of each), read before they stop. */
  serverWarnings?: string[];
  /** The screens process: during the writes, and its peak RSS. */
  load?: { writes: PhaseReport; reads?: PhaseReport; cpuMsTotal: number; peakRssMB: number };
  reads?: { baseline: ReadFigures; withWrites: ReadFigures; ratio: number | null; rounds: number; secondsEach: number };
}

export interface LiveResult {
  database: string;
  copy?: { made: boolean; seconds: number; projectsAtStart: number; addedByEarlierRuns: number };
  options: Omit<LiveOptions, "say" | "mysql">;
  sessions: LiveSession[];
  /** The largest screen count whose session held p99 ≤ 1 s (null: none did, or not searched). */
  largestHeld: number | null;
  failed: boolean;
  problems: string[];
  seconds: number;
}

// ---------------------------------------------------------------------------
// The database: data, the copy, what the plan needs

async function admin<T = unknown>(serverUrl: string, sql: string, params: unknown[] = []): Promise<T> {
  const connection = await createConnection({ uri: serverUrl, connectTimeout: 5000 });
  try {
    const [rows] = await connection.query(sql, params);
    return rows as T;
  } finally {
    await connection.end();
  }
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** `mp_bench_<size>` made or reused (bench/generate.ts), as bench/run.ts does. */
async function ensureData(mysql: string, size: number, say: (what: string) => void): Promise<string> {
  const database = `mp_bench_${size}`;
  await admin(mysql, `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const { loadConfig } = await import("../src/config");
  const { openDatabase } = await import("../src/db/open-database");
  const { ensureBenchData } = await import("./generate");
  const db = await openDatabase(loadConfig({ DATABASE_URL: withDatabase(mysql, database), NODE_ENV: "production" }));
  try {
    let last = 0;
    const report = await ensureBenchData(db, {
      projects: size,
      onProgress: (done) => {
        if (done - last >= size / 10) {
          last = done;
          say(`generating ${database}: ${done.toLocaleString("en-US")} projects`);
        }
      },
    });
    say(`${database}: ${report.projects.toLocaleString("en-US")} projects, ${report.generated ? `generated in ${report.seconds.toFixed(1)} s` : "already there"}`);
    return database;
  } finally {
    await db.destroy();
  }
}

/** A city's writes: where its venue's projects go, and its projects that recordAtMeeting may present. */
interface Lane {
  city: string;
  /** Where its projects go: the city's counties (the city itself when it has none). */
  leaves: string[];
  /** The city's projects whose SIGNED milestone is at no meeting, for recordAtMeeting. */
  unpresented: Array<{ id: string; version: number }>;
}

interface Frame {
  meetingId: string;
  /** City codes, in code order, and each county's city. */
  cities: string[];
  counties: string[];
  cityOf: Map<string, string>;
  leavesOf: Map<string, string[]>;
  /** Sector codes, and each one's top-level sector. */
  sectors: string[];
  topOf: Map<string, string>;
  topSectors: string[];
}

/** Henan's regions, sectors and latest meeting, read from the copy. */
async function readFrame(databaseUrl: string): Promise<Frame> {
  const regions = await admin<Array<{ id: number; code: string; parent_id: number | null }>>(databaseUrl, "SELECT id, code, parent_id FROM region ORDER BY code");
  const province = regions.find((r) => r.code === PROVINCE_CODE);
  if (!province) throw new Error(`no region ${PROVINCE_CODE} in the database`);
  const cities = regions.filter((r) => r.parent_id === province.id);
  const cityIds = new Map(cities.map((c) => [c.id, c.code]));
  const counties = regions.filter((r) => r.parent_id !== null && cityIds.has(r.parent_id));
  const cityOf = new Map(counties.map((c) => [c.code, cityIds.get(c.parent_id!)!]));
  const leavesOf = new Map(cities.map((c) => [c.code, counties.filter((k) => k.parent_id === c.id).map((k) => k.code)]));
  for (const [city, leaves] of leavesOf) if (leaves.length === 0) leavesOf.set(city, [city]);
  const sectors = await admin<Array<{ id: number; code: string; parent_id: number | null }>>(databaseUrl, "SELECT id, code, parent_id FROM sector ORDER BY id");
  const sectorById = new Map(sectors.map((s) => [s.id, s]));
  const topOf = new Map(sectors.map((s) => [s.code, s.parent_id === null ? s.code : sectorById.get(s.parent_id)!.code]));
  const meetings = await admin<Array<{ id: number }>>(databaseUrl, "SELECT id FROM meeting WHERE host_region_id = ? ORDER BY held_on DESC, id DESC LIMIT 1", [province.id]);
  if (!meetings.length) throw new Error(`no meeting hosted by ${PROVINCE_CODE} in the database`);
  return {
    meetingId: String(meetings[0].id),
    cities: cities.map((c) => c.code),
    counties: counties.map((c) => c.code),
    cityOf,
    leavesOf,
    sectors: sectors.map((s) => s.code),
    topOf,
    topSectors: sectors.filter((s) => s.parent_id === null).map((s) => s.code),
  };
}

/** In a city's regions, up to `count` projects whose SIGNED milestone was presented at no meeting (fresh each session: earlier ones were used). */
async function unpresented(databaseUrl: string, leaves: string[], count: number): Promise<Array<{ id: string; version: number }>> {
  if (count === 0) return [];
  const rows = await admin<Array<{ id: number; version: number }>>(
    databaseUrl,
    `SELECT p.id, p.version FROM project p JOIN region r ON r.id = p.region_id JOIN milestone m ON m.project_id = p.id AND m.stage = 1 AND m.meeting_id IS NULL
     WHERE r.code IN (?) ORDER BY p.id DESC LIMIT ?`,
    [leaves, count],
  );
  return rows.map((r) => ({ id: String(r.id), version: Number(r.version) }));
}

// ---------------------------------------------------------------------------
// The plan: writes and screens

interface Plan {
  writes: PlannedWrite[];
  /** Per write: the venue index whose SIGNED count it adds one to; its region (createProject only) and sector. */
  writeVenue: number[];
  writeRegion: Array<string | null>;
  writeSector: Array<string | null>;
  subscriptions: LiveSubscription[];
  screens: number[];
  regionCodes: number;
}

function buildPlan(frame: Frame, venues: string[], lanes: Map<string, Lane>, total: number, screens: number, runId: string): Plan {
  const today = new Date().toISOString().slice(0, 10);
  const laneOfVenue = venues.map((code) => (lanes.has(code) ? code : frame.cities[0])); // the main venue's projects: in the first city (郑州)
  const used = new Map<string, number>();
  const placed = new Map<string, number>();
  const writes: PlannedWrite[] = [];
  const writeVenue: number[] = [];
  const writeRegion: Array<string | null> = [];
  const writeSector: Array<string | null> = [];
  for (let i = 0; i < total; i++) {
    const v = i % venues.length;
    const cycle = Math.floor(i / venues.length);
    const lane = lanes.get(laneOfVenue[v])!;
    const venue = venues[v];
    const candidate = cycle % 5 === 4 ? lane.unpresented[used.get(lane.city) ?? 0] : undefined;
    writeVenue.push(v);
    if (candidate) {
      used.set(lane.city, (used.get(lane.city) ?? 0) + 1);
      writes.push({
        field: "recordAtMeeting",
        body: JSON.stringify({ query: RECORD, variables: { input: { projectId: candidate.id, stage: "SIGNED", meetingId: frame.meetingId, venueRegionCode: venue, expectedVersion: candidate.version } } }),
      });
      writeRegion.push(null);
      writeSector.push(null);
      continue;
    }
    const n = placed.get(lane.city) ?? 0;
    placed.set(lane.city, n + 1);
    const region = lane.leaves[(n * 7) % lane.leaves.length];
    const sector = frame.sectors[i % frame.sectors.length];
    writes.push({
      field: "createProject",
      body: JSON.stringify({
        query: CREATE,
        variables: {
          input: { name: `会场直播 ${runId}-${i}`, regionCode: region, sectorCode: sector, investment: round4(0.5 + (i % 97) * 0.37), stage: "SIGNED", reachedOn: today, meetingId: frame.meetingId, venueRegionCode: venue },
        },
      }),
    });
    writeRegion.push(region);
    writeSector.push(sector);
  }

  // Screens: the board, and regions (every city and county in turn; no filter, SIGNED, one top-level sector).
  const subscriptions: LiveSubscription[] = [{ key: `meetingBoard ${frame.meetingId}`, field: "meetingBoard", query: BOARD_SUBSCRIPTION, variables: { meetingId: frame.meetingId } }];
  const byKey = new Map<string, number>();
  const codes = [...frame.cities, ...frame.counties];
  const regionSubscription = (j: number): number => {
    const code = codes[j % codes.length];
    const kind = Math.floor(j / codes.length) % 3;
    const sector = frame.topSectors[j % frame.topSectors.length];
    const filter = kind === 0 ? null : kind === 1 ? { stages: ["SIGNED"] } : { sectorCodes: [sector] };
    const key = `regionStats ${code}${filter ? ` ${JSON.stringify(filter)}` : ""}`;
    const known = byKey.get(key);
    if (known !== undefined) return known;
    const relevant: number[] = [];
    for (let i = 0; i < total; i++) {
      const region = writeRegion[i];
      if (region === null) continue;
      if (region !== code && frame.cityOf.get(region) !== code) continue;
      if (kind === 2 && frame.topOf.get(writeSector[i]!) !== sector) continue;
      relevant.push(i);
    }
    subscriptions.push({ key, field: "regionStats", query: REGION_SUBSCRIPTION, variables: { code, filter }, relevant });
    byKey.set(key, subscriptions.length - 1);
    return subscriptions.length - 1;
  };
  const screenSubs: number[] = [];
  let regionScreens = 0;
  const everyOther = Math.round(1 / (1 - BOARD_SHARE)); // 1 region screen in 10
  for (let s = 0; s < screens; s++) screenSubs.push(s % everyOther === everyOther - 1 ? regionSubscription(regionScreens++) : 0);
  return { writes, writeVenue, writeRegion, writeSector, subscriptions, screens: screenSubs, regionCodes: Math.min(codes.length, regionScreens) };
}

const round4 = (n: number) => Math.round(n * 10_000) / 10_000;

// ---------------------------------------------------------------------------
// The load processes

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

/** A forked live-load.ts, with `ask` (send, then wait for a message of a type) and its stderr kept for errors. */
interface LoadChild {
  pid: number;
  ask<T>(message: unknown, wanted: string, timeoutMs: number): Promise<T>;
  stop(): Promise<void>;
}

async function forkLoad(args: string[], onOther: (message: { type: string } & Record<string, unknown>) => void, profileName?: string): Promise<LoadChild & { ready: Record<string, unknown> }> {
  const profile = profileName ? ["--cpu-prof", "--cpu-prof-dir", path.join(RESULTS_DIR, "profiles"), `--cpu-prof-name=${profileName}`] : [];
  const child = fork(LOAD_FILE, args, {
    // A larger young generation: the screens allocate a buffer or two per push (ws, the socket's reads).
    execArgv: ["--max-semi-space-size=64", ...profile, "-r", require.resolve("ts-node/register/transpile-only")],
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  children.add(child);
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let waiter: { wanted: string; resolve: (m: unknown) => void; reject: (e: Error) => void } | null = null;
  const gone = new Promise<never>((_, reject) =>
    child.once("close", (code, signal) => {
      children.delete(child);
      reject(new Error(`${path.basename(LOAD_FILE)} ${args.join(" ")} exited (${signal ?? `code ${code}`})${stderr.trim() ? `:\n${stderr.trim()}` : ""}`));
    }),
  );
  gone.catch(() => undefined);
  child.on("message", (message: { type: string } & Record<string, unknown>) => {
    if (message.type === "error") waiter?.reject(new Error(`${path.basename(LOAD_FILE)}: ${String(message.message)}`));
    else if (waiter && message.type === waiter.wanted) waiter.resolve(message);
    else onOther(message);
  });
  const wait = <T>(wanted: string, timeoutMs: number): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const answer = new Promise<T>((resolve, reject) => {
      waiter = { wanted, resolve: resolve as (m: unknown) => void, reject };
      timer = setTimeout(() => reject(new Error(`${path.basename(LOAD_FILE)} ${args.join(" ")}: no "${wanted}" within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    return Promise.race([answer, gone]).finally(() => {
      clearTimeout(timer);
      waiter = null;
    });
  };
  const ready = await wait<Record<string, unknown>>("ready", 60_000);
  return {
    pid: child.pid!,
    ready,
    ask: <T>(message: unknown, wanted: string, timeoutMs: number) => {
      const answer = wait<T>(wanted, timeoutMs);
      child.send(message as object);
      return answer;
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // "exit", not "close": the IPC channel may never report closed once the child is gone.
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------
// HTTP and /proc

async function graphql(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<{ data?: Record<string, unknown>; errors?: unknown[] }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`status ${response.status}: ${text.slice(0, 300)}`);
  }
}

/** Whether Redis answers PING at `url` within 2 s. */
function redisAnswers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = net.connect({ host: hostname || "127.0.0.1", port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => done(chunk.toString().startsWith("+PONG")));
  });
}

const cpuTicks = (pid: number | null) => processTicks(pid);
const percentOver = (ticksBefore: number | null, ticksAfter: number | null, ms: number) =>
  ticksBefore === null || ticksAfter === null || ms <= 0 ? null : round((100 * (ticksAfter - ticksBefore) * TICK_MS) / ms, 1);

/** One round of reads: a run per instance at the same time, the other processes' CPU meanwhile, and after a round with no answer, the time of one more request. */
interface ReadRound {
  runs: Measurement[];
  otherPercentOfCore: number | null;
  nextRequestMs?: number;
  nextRequestAnswer?: string;
}

/** The rounds of one kind of read. */
function readFigures(rounds: ReadRound[]): ReadFigures {
  const runs = rounds.flatMap((r) => r.runs);
  const requests = runs.reduce((a, m) => a + m.requests, 0);
  const seconds = rounds.reduce((a, r) => a + Math.max(...r.runs.map((m) => m.seconds)), 0);
  const finite = (values: number[]) => values.filter((v) => Number.isFinite(v));
  const p50s = finite(runs.map((m) => m.p50)).sort((a, b) => a - b);
  const p99s = finite(runs.map((m) => m.p99));
  return {
    requests,
    seconds: round(seconds, 2),
    requestsPerSecond: round(requests / Math.max(seconds, 1e-9), 1),
    p50: p50s.length === runs.length && p50s.length ? p50s[Math.floor((p50s.length - 1) / 2)] : null,
    p99: p99s.length === runs.length && p99s.length ? Math.max(...p99s) : null,
    problems: runs.reduce((a, m) => a + m.non2xx + m.errors + m.withErrors + m.timeouts, 0),
    rounds: rounds.map((r) => {
      const maxes = finite(r.runs.map((m) => m.max));
      return {
        requestsPerSecond: round(r.runs.reduce((a, m) => a + m.requests, 0) / Math.max(...r.runs.map((m) => m.seconds), 1e-9), 1),
        otherPercentOfCore: r.otherPercentOfCore,
        maxMs: maxes.length ? Math.max(...maxes) : null,
        unfinished: r.runs.reduce((a, m) => a + m.unfinished, 0),
        ...(r.nextRequestMs !== undefined ? { nextRequestMs: r.nextRequestMs, nextRequestAnswer: r.nextRequestAnswer } : {}),
      };
    }),
  };
}

// ---------------------------------------------------------------------------
// A session

interface SessionSpec {
  name: string;
  kind: LiveSession["kind"];
  screens: number;
  instances: 1 | 2;
  seconds: number;
  reads: { rounds: number; seconds: number } | null;
  /** The third octet of the session's local addresses (127.0.<block>.1, .2, …). */
  block: number;
}

interface Context {
  options: LiveOptions;
  mysql: string;
  database: string;
  databaseUrl: string;
  databasePid: number | null;
  frame: Frame;
  token: string;
  runId: string;
}

async function runSession(ctx: Context, spec: SessionSpec): Promise<LiveSession> {
  const { options } = ctx;
  const say = (what: string) => options.say(`${spec.name}: ${what}`);
  const t0 = performance.now();
  const session: LiveSession = { name: spec.name, kind: spec.kind, screens: spec.screens, instances: spec.instances, status: "ok", seconds: 0 };
  const servers: Started[] = [];
  let screens: (LoadChild & { ready: Record<string, unknown> }) | null = null;
  let writer: (LoadChild & { ready: Record<string, unknown> }) | null = null;
  const fail = (problem: string) => {
    say(`FAILED: ${problem}`);
    session.status = "failed";
    session.problem = problem;
    return session;
  };
  try {
    // 1. The servers.
    const env: Record<string, string> = {
      NODE_ENV: "production",
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: ctx.databaseUrl,
      LOG_SQL: "false",
      ...(options.intervalMs !== null ? { LIVE_MIN_INTERVAL_MS: String(options.intervalMs) } : {}),
      ...(spec.instances === 2 ? { REDIS_URL: options.redisUrl } : {}),
    };
    const labels = spec.instances === 2 ? ["live instance A", "live instance B"] : ["live server"];
    const serverMain = options.serverMain ?? SERVER_MAIN;
    const flags = startFlags(serverMain);
    say(`starting ${labels.length === 2 ? "two instances with REDIS_URL" : "the server"} (node ${flags.join(" ")} ${path.relative(ROOT, serverMain)}, NODE_ENV=production) on ${ctx.database}`);
    const profileFlags = (label: string) =>
      options.profile ? ["--cpu-prof", "--cpu-prof-dir", path.join(RESULTS_DIR, "profiles"), `--cpu-prof-name=live-${spec.screens}-${label.replace(/\W+/g, "-")}-${Date.now()}.cpuprofile`] : [];
    for (const label of labels) servers.push(await startChild(`${label} ${process.pid}`, [...flags, ...profileFlags(label), serverMain], env));
    const httpUrl = servers[0].url;
    const pids = servers.map((s) => s.child.pid!);

    // The board's venues in the API's order.
    const board = await graphql(httpUrl, BOARD_QUERY, { meetingId: ctx.frame.meetingId });
    const venues = ((board.data?.meetingBoard as { venues?: Array<{ region: { code: string } }> } | null)?.venues ?? []).map((v) => v.region.code);
    if (board.errors || venues.length === 0) return fail(`the meeting ${ctx.frame.meetingId} has no venues: ${JSON.stringify(board).slice(0, 500)}`);

    // 2. The plan: writes of every phase, then the screens.
    const liveWrites = Math.round(options.ratePerSecond * spec.seconds);
    const readWrites = spec.reads ? Math.round(options.ratePerSecond * spec.reads.seconds) : 0;
    const total = liveWrites + (spec.reads ? spec.reads.rounds * readWrites : 0);
    const lanes = new Map<string, Lane>();
    const perLane = Math.ceil(total / venues.length / 5) * 2 + 2;
    for (const city of ctx.frame.cities) {
      const leaves = ctx.frame.leavesOf.get(city)!;
      lanes.set(city, { city, leaves, unpresented: await unpresented(ctx.databaseUrl, leaves, perLane) });
    }
    const plan = buildPlan(ctx.frame, venues, lanes, total, spec.screens, `${ctx.runId}-${spec.block}`);
    const blocks = Math.ceil(spec.screens / PER_ADDRESS);
    const localAddresses = Array.from({ length: blocks }, (_, k) => `127.0.${spec.block}.${k + 1}`);
    session.setup = { meetingId: ctx.frame.meetingId, venues, subscriptions: plan.subscriptions.length, regionCodes: plan.regionCodes, localAddresses };
    const records = plan.writes.filter((w) => w.field === "recordAtMeeting").length;
    say(
      `${spec.screens.toLocaleString("en-US")} screens (${plan.screens.filter((s) => s === 0).length.toLocaleString("en-US")} meetingBoard of meeting ${ctx.frame.meetingId} with ${venues.length} venues, ` +
        `${plan.screens.filter((s) => s !== 0).length.toLocaleString("en-US")} regionStats over ${plan.subscriptions.length - 1} subscriptions), ${total} writes planned (${records} recordAtMeeting)`,
    );

    // 3. The screens.
    screens = await forkLoad(
      [],
      (message) => {
        if (message.type === "progress") say(`screens: ${String(message.live)} live, ${String(message.failed)} failed of ${String(message.total)}`);
      },
      options.profile ? `live-${spec.screens}-screens-process-${Date.now()}.cpuprofile` : undefined,
    );
    session.openFilesLimit = (screens.ready.openFilesLimit as number | null) ?? null;
    if (session.openFilesLimit !== null && session.openFilesLimit < spec.screens + 64) {
      return fail(`the screens process may open ${session.openFilesLimit} files (ulimit -n), too few for ${spec.screens} sockets`);
    }
    const screensSpec: ScreensSpec = {
      threads: options.screenThreads,
      targets: servers.map((s) => s.url.replace(/^http/, "ws")),
      subscriptions: plan.subscriptions,
      screens: plan.screens,
      localAddresses,
      perAddress: PER_ADDRESS,
      venues,
      writeVenue: plan.writeVenue,
      concurrency: 100,
      connectTimeoutMs: 60_000,
      deflate: options.deflate,
      lifetimeSeconds: 1800 + spec.seconds + (spec.reads ? 2 * spec.reads.rounds * spec.reads.seconds : 0),
    };
    say(`opening ${spec.screens.toLocaleString("en-US")} WebSockets from ${localAddresses.join(", ")} (100 at a time)`);
    const connected = await screens.ask<{ report: ConnectReport }>({ type: "connect", spec: screensSpec } satisfies ToScreens, "connected", 600_000);
    session.connect = connected.report;
    say(
      `${connected.report.live}/${connected.report.asked} screens live in ${connected.report.seconds} s (first value p50 ${connected.report.firstValueMs.p50} ms, p99 ${connected.report.firstValueMs.p99} ms; ` +
        `extensions: ${connected.report.extensions})${connected.report.firstProblem ? `; first problem: ${connected.report.firstProblem}` : ""}`,
    );
    if (connected.report.live === 0) return fail(`no screen went live: ${connected.report.firstProblem ?? "?"}`);

    // Idle: the screens connected, nothing written.
    const idleSeconds = options.smoke ? 1 : 3;
    const idleBefore = pids.map(cpuTicks);
    const idleT0 = performance.now();
    await screens.ask({ type: "phase", name: "idle" } satisfies ToScreens, "phase", 30_000);
    await sleep(idleSeconds * 1000);
    const idleMs = performance.now() - idleT0;
    const idleCpu = pids.map((pid, i) => percentOver(idleBefore[i], cpuTicks(pid), idleMs));

    // 4. The writes, alone.
    writer = await forkLoad(["--writer"], () => undefined);
    const runWrites = async (from: number, to: number, seconds: number): Promise<WriterReport> => {
      const done = await writer!.ask<{ report: WriterReport }>(
        { type: "go", url: httpUrl, token: ctx.token, writes: plan.writes, from, to, ratePerSecond: options.ratePerSecond, deadlineMs: (seconds + WRITE_GRACE_SECONDS) * 1000, lifetimeSeconds: seconds + WRITE_GRACE_SECONDS + 120 } satisfies ToWriter,
        "done",
        (seconds + WRITE_GRACE_SECONDS + 90) * 1000,
      );
      return done.report;
    };
    // Until every screen shows what the writes answered so far add up to, then 1 s with no push (2 minutes at most).
    const settle = async () =>
      (await screens!.ask<{ report: SettleReport }>({ type: "settle", ok: outcomes.map((o) => o?.ok === true), quietMs: 1000, maxMs: SETTLE_MAX_MS } satisfies ToScreens, "settled", SETTLE_MAX_MS + 60_000)).report;
    const outcomes: WriteOutcome[] = new Array(total).fill(null);
    const writerReports: WriterReport[] = [];
    const keep = (report: WriterReport) => {
      writerReports.push(report);
      report.outcomes.forEach((o, k) => (outcomes[report.from + k] = o));
    };
    say(`writes: ${options.ratePerSecond}/s for ${spec.seconds} s at the meeting's ${venues.length} venues (through ${servers.length === 2 ? "instance A" : "the server"})`);
    const before = { servers: pids.map(cpuTicks), database: cpuTicks(ctx.databasePid), writer: cpuTicks(writer.pid), screens: cpuTicks(screens.pid), machine: machineBusyTicks() };
    const liveT0 = performance.now();
    await screens.ask({ type: "phase", name: "writes" } satisfies ToScreens, "phase", 30_000);
    const liveReport = await runWrites(0, liveWrites, spec.seconds);
    keep(liveReport);
    session.settled = await settle();
    const liveMs = performance.now() - liveT0;
    const after = { servers: pids.map(cpuTicks), database: cpuTicks(ctx.databasePid), writer: cpuTicks(writer.pid), screens: cpuTicks(screens.pid), machine: machineBusyTicks() };
    const writesPhase = (await screens.ask<{ report: PhaseReport }>({ type: "phase", name: "after writes" } satisfies ToScreens, "phase", 30_000)).report;
    const serverCpu = pids.map((_, i) => percentOver(before.servers[i], after.servers[i], liveMs));
    const serverMs = pids.reduce((a, _, i) => a + (after.servers[i] !== null && before.servers[i] !== null ? (after.servers[i]! - before.servers[i]!) * TICK_MS : 0), 0);
    session.serverCpuMsPerPush = writesPhase.pushes ? round(serverMs / writesPhase.pushes, 3) : null;
    session.databaseCpuPercent = percentOver(before.database, after.database, liveMs);
    const ours = [...pids.map((_, i) => [before.servers[i], after.servers[i]]), [before.database, after.database], [before.writer, after.writer], [before.screens, after.screens]];
    const machine = percentOver(before.machine, after.machine, liveMs);
    session.otherCpuPercent = machine === null ? null : round(Math.max(0, machine - ours.reduce((a, [b, e]) => a + (percentOver(b, e, liveMs) ?? 0), 0)), 0);
    say(
      `${liveReport.ok}/${liveWrites} writes ok in ${liveReport.elapsedSeconds} s${liveReport.notSent ? ` (${liveReport.notSent} not sent: the writer was more than ${WRITE_GRACE_SECONDS} s behind)` : ""}${liveReport.timedOut ? `, ${liveReport.timedOut} unanswered in 30 s` : ""} (mutation p50 ${liveReport.latencyMs.p50} ms, p99 ${liveReport.latencyMs.p99} ms; sent up to ${liveReport.lagMs.max} ms late)` +
        `${liveReport.firstError ? `; first error: ${liveReport.firstError}` : ""}; ${writesPhase.pushes.toLocaleString("en-US")} pushes; ` +
        `server CPU ${serverCpu.map((c) => `${c ?? "?"} %`).join(" + ")}, database ${session.databaseCpuPercent ?? "?"} %, screens process ${writesPhase.cpuPercent} % (event-loop delay p99 ${writesPhase.loopDelayMs.p99} ms), ` +
        `other processes ${session.otherCpuPercent ?? "?"} % of a core` +
        `; every screen at its final figures ${session.settled.convergedMs === null ? `NOT within ${SETTLE_MAX_MS / 1000} s (${session.settled.reached}/${session.settled.live})` : `${session.settled.convergedMs} ms after the last answer`}`,
    );

    // 5. Reads: the province-to-county query with the screens idle, then with the writes landing, in rounds.
    let readsPhase: PhaseReport | undefined;
    if (spec.reads) {
      const body = JSON.stringify({ query: provinceToCounty() });
      const read = async (seconds: number): Promise<ReadRound> => {
        const urls = servers.map((s) => s.url);
        const each = Math.round(10 / urls.length);
        const ours = () => [...pids, ctx.databasePid, screens!.pid, writer!.pid].map(cpuTicks);
        const t = performance.now();
        const [machine0, ours0, self0] = [machineBusyTicks(), ours(), process.cpuUsage()];
        const runs = await Promise.all(urls.map((url, i) => cannon(url, body, each, seconds, { server: pids[i], database: ctx.databasePid })));
        const [machine1, ours1, self1] = [machineBusyTicks(), ours(), process.cpuUsage(self0)];
        const ms = performance.now() - t;
        const used = ours0.reduce((a: number, b, i) => a + (b === null || ours1[i] === null ? 0 : (ours1[i]! - b) * TICK_MS), 0) + (self1.user + self1.system) / 1000;
        const other = machine0 === null || machine1 === null ? null : round(Math.max(0, (100 * ((machine1 - machine0) * TICK_MS - used)) / ms), 0);
        if (runs.every((m) => m.requests === 0)) {
          // No answer in the whole round: the same request again, the same with the token (not from the response cache),
          // and a small anonymous query, at once, each timed.
          const timed = async (what: string, requestBody: string, token?: string) => {
            const t0 = performance.now();
            const answer = await fetch(urls[0], {
              method: "POST",
              headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
              body: requestBody,
              signal: AbortSignal.timeout(120_000),
            })
              .then(async (r) => `${r.status} ${(await r.text()).slice(0, 200)}`)
              .catch((error: Error) => error.message);
            return { what, ms: round(performance.now() - t0, 0), answer };
          };
          const probes = await Promise.all([
            timed("the same", body),
            timed("the same with the token", body, ctx.token),
            timed("{ region(code: 410000) { name } }", JSON.stringify({ query: '{ region(code: "410000") { name } }' })),
          ]);
          return {
            runs,
            otherPercentOfCore: other,
            nextRequestMs: probes[0].ms,
            nextRequestAnswer: probes.map((p) => `${p.what}: ${p.ms} ms, ${p.answer.slice(0, 120)}`).join("; "),
          };
        }
        return { runs, otherPercentOfCore: other };
      };
      say(`reads: warm-up 1 s, then ${spec.reads.rounds} round(s) of ${spec.reads.seconds} s with no writes and ${spec.reads.seconds} s with writes at ${options.ratePerSecond}/s, 10 connections`);
      await read(1);
      await waitForDatabaseIdle(ctx.mysql, ctx.database);
      const baseline: ReadRound[] = [];
      const withWrites: ReadRound[] = [];
      for (let r = 0; r < spec.reads.rounds; r++) {
        baseline.push(await read(spec.reads.seconds));
        await waitForDatabaseIdle(ctx.mysql, ctx.database);
        const from = liveWrites + r * readWrites;
        const writing = runWrites(from, from + readWrites, spec.reads.seconds);
        withWrites.push(await read(spec.reads.seconds));
        keep(await writing);
        await settle();
        await waitForDatabaseIdle(ctx.mysql, ctx.database);
      }
      const b = readFigures(baseline);
      const w = readFigures(withWrites);
      session.reads = { baseline: b, withWrites: w, ratio: b.requestsPerSecond ? round(w.requestsPerSecond / b.requestsPerSecond, 3) : null, rounds: spec.reads.rounds, secondsEach: spec.reads.seconds };
      readsPhase = (await screens.ask<{ report: PhaseReport }>({ type: "phase", name: "after reads" } satisfies ToScreens, "phase", 30_000)).report;
      const rounds = (f: ReadFigures) =>
        f.rounds
          .map((r) => `${r.requestsPerSecond}${r.otherPercentOfCore !== null && r.otherPercentOfCore > 25 ? ` (others ${r.otherPercentOfCore} %)` : ""}${r.nextRequestMs !== undefined ? ` (no answer; then ${r.nextRequestAnswer})` : ""}`)
          .join(", ");
      say(
        `reads: ${b.requestsPerSecond} req/s with no writes (rounds: ${rounds(b)}), ${w.requestsPerSecond} req/s with the writes (rounds: ${rounds(w)}): ` +
          `${session.reads.ratio === null ? "?" : Math.round(session.reads.ratio * 100)} %`,
      );
    }

    // 6. Every screen against a fresh query.
    session.settledAtEnd = await settle();
    const expected: Array<string | null> = [];
    for (const sub of plan.subscriptions) {
      const answer = sub.field === "meetingBoard" ? await graphql(httpUrl, BOARD_QUERY, sub.variables, ctx.token) : await graphql(httpUrl, REGION_QUERY, sub.variables, ctx.token);
      const value = sub.field === "meetingBoard" ? answer.data?.meetingBoard : (answer.data?.region as { regionStats?: unknown } | null)?.regionStats;
      expected.push(answer.errors || value === undefined ? null : JSON.stringify(value));
    }
    session.verify = (await screens.ask<{ report: VerifyReport }>({ type: "verify", expected } satisfies ToScreens, "verified", 120_000)).report;

    // 7. Latencies, pushes, final states.
    const groups = [{ name: "writes", from: 0, to: liveWrites }, ...(spec.reads ? [{ name: "writes under reads", from: liveWrites, to: total }] : [])];
    const report = (await screens.ask<{ report: ScreensReport }>({ type: "finish", writes: outcomes, groups } satisfies ToScreens, "report", 300_000)).report;
    session.latency = report.groups[0];
    session.latencyUnderReads = report.groups[1];
    session.pushes = report.pushes;
    session.finalState = report.finalState;
    session.closedDuringRun = report.closedDuringRun;
    if (report.firstClose) session.firstClose = report.firstClose;
    if (report.firstRegression) session.firstRegression = report.firstRegression;
    session.load = { writes: writesPhase, ...(readsPhase ? { reads: readsPhase } : {}), cpuMsTotal: report.cpuMs, peakRssMB: report.peakRssMB };
    const all = writerReports;
    const lat = liveReport.latencyMs;
    session.writes = {
      planned: total,
      sent: all.reduce((a, r) => a + r.sent, 0),
      ok: all.reduce((a, r) => a + r.ok, 0),
      failed: all.reduce((a, r) => a + r.failed, 0),
      timedOut: all.reduce((a, r) => a + r.timedOut, 0),
      notSent: all.reduce((a, r) => a + r.notSent, 0),
      okPerSecond: round(liveReport.ok / Math.max(liveReport.elapsedSeconds, 1e-9), 1),
      ...(all.find((r) => r.firstError) ? { firstError: all.find((r) => r.firstError)!.firstError } : {}),
      latencyMs: lat,
      lagMs: liveReport.lagMs,
      ...(spec.reads ? { underReads: { latencyMs: mergedLatency(all.slice(1)), lagMax: Math.max(...all.slice(1).map((r) => r.lagMs.max)) } } : {}),
      writerCpuPercent: percentOver(before.writer, after.writer, liveMs),
    };
    session.servers = servers.map((s, i) => ({
      label: labels[i],
      pid: pids[i],
      startSeconds: round(s.startSeconds, 2),
      idleCpuPercent: idleCpu[i],
      cpuPercent: serverCpu[i],
      peakRssMB: mb(peakRssKiB(pids[i])),
    }));
    const l = session.latency;
    say(
      `write-commit-to-screen p50 ${l.fromAnswer.p50} ms, p99 ${l.fromAnswer.p99} ms, max ${l.fromAnswer.max} ms over ${l.fromAnswer.count.toLocaleString("en-US")} (screen, write) pairs ` +
        `(from the send: p99 ${l.fromSend.p99} ms), ${l.missed} never shown; final state on ${report.finalState.reached}/${report.live} screens; ` +
        `${session.verify.differ} screens differ from a fresh query; peak RSS ${session.servers.map((s) => `${s.peakRssMB ?? "?"} MB`).join(" + ")}`,
    );
    if (session.writes.failed) return fail(`${session.writes.failed} of ${session.writes.sent} writes were refused; first: ${session.writes.firstError}`);
    if (report.pushes.errors) return fail(`${report.pushes.errors} messages on the screens were errors or unreadable; first: ${connected.report.firstProblem ?? "see the screens' report"}`);
    return session;
  } catch (error) {
    return fail((error as Error).message);
  } finally {
    await screens?.stop();
    await writer?.stop();
    const warnings = servers.flatMap((server, i) => logWarnings(`${i === 0 ? (servers.length === 2 ? "live instance A" : "live server") : "live instance B"} ${process.pid}`).map((line) => `${i === 0 ? "A" : "B"}: ${line}`));
    if (warnings.length) session.serverWarnings = warnings;
    for (const server of servers) await stopChild(server.child);
    session.seconds = round((performance.now() - t0) / 1000, 1);
  }
}

/** The rounds' mutation latencies as one: p50 the median of theirs, p99 and max the highest. */
function mergedLatency(reports: WriterReport[]): WriterReport["latencyMs"] {
  const p50s = reports.map((r) => r.latencyMs.p50).filter((v): v is number => v !== null).sort((a, b) => a - b);
  const highest = (values: Array<number | null>) => (values.some((v) => v !== null) ? Math.max(...values.filter((v): v is number => v !== null)) : null);
  return { p50: p50s.length ? p50s[Math.floor((p50s.length - 1) / 2)] : null, p99: highest(reports.map((r) => r.latencyMs.p99)), max: highest(reports.map((r) => r.latencyMs.max)) };
}

/** The last warnings and errors of a server's JSON log (where bench/servers.ts's startChild writes it, for the label given). */
function logWarnings(label: string): string[] {
  try {
    return fs
      .readFileSync(path.join(os.tmpdir(), `mp-bench-${label.replace(/\W+/g, "-")}-${process.pid}.log`), "utf8")
      .split("\n")
      .filter((line) => /"level":(40|50|60)/.test(line))
      .slice(-20)
      .map((line) => line.slice(0, 600));
  } catch {
    return [];
  }
}

const mb = (kib: number | null) => (kib === null ? null : round((kib * 1024) / 1e6, 1));

/** A session held its screens: all live, none closed, every one at its final figures, p99 within `limitMs`. */
function held(session: LiveSession, limitMs: number): boolean {
  return (
    session.status === "ok" &&
    session.connect?.live === session.screens &&
    (session.closedDuringRun ?? 0) === 0 &&
    session.finalState?.reached === session.screens &&
    session.latency?.fromAnswer.p99 !== null &&
    session.latency!.fromAnswer.p99! <= limitMs
  );
}

// ---------------------------------------------------------------------------
// The measurement

export async function measureLive(options: LiveOptions): Promise<LiveResult> {
  const t0 = performance.now();
  const { say } = options;
  const mysql = options.mysql.replace(/\/+$/, "");
  const source = await ensureData(mysql, options.projects, say);
  const database = `${source}_live`;
  const { say: _say, mysql: _mysql, serverMain: _serverMain, profile: _profile, ...shown } = options;
  const result: LiveResult = { database, options: shown, sessions: [], largestHeld: null, failed: false, problems: [], seconds: 0 };
  say(`copy of ${source} for the writes: ${database}`);
  result.copy = await ensureWriteCopy(mysql, source, database, options.projects);
  say(`${result.copy.made ? `copied in ${result.copy.seconds} s` : "reused"}; ${result.copy.projectsAtStart.toLocaleString("en-US")} projects (${result.copy.addedByEarlierRuns.toLocaleString("en-US")} written by earlier runs)`);
  const databaseUrl = withDatabase(mysql, database);
  const frame = await readFrame(databaseUrl);

  // A Henan province token, straight in the copy (revoked at the end).
  const { loadConfig } = await import("../src/config");
  const { openDatabase } = await import("../src/db/open-database");
  const { createToken, revokeToken } = await import("../src/auth/tokens");
  const db = await openDatabase(loadConfig({ DATABASE_URL: databaseUrl, NODE_ENV: "production" }));
  const runId = new Date().toISOString().replace(/[-:.TZ]/g, "").slice(0, 14);
  const created = await createToken(db, { regionCode: PROVINCE_CODE, name: `bench live ${runId}` });
  const ctx: Context = { options, mysql, database, databaseUrl, databasePid: findDatabasePid(), frame, token: created.token, runId };
  let block = 10;
  const session = async (spec: Omit<SessionSpec, "block">) => {
    const s = await runSession(ctx, { ...spec, block: block++ });
    result.sessions.push(s);
    if (s.status === "failed") {
      result.failed = true;
      result.problems.push(`${s.name}: ${s.problem}`);
    }
    return s;
  };
  try {
    const main = await session({ name: `${options.screens.toLocaleString("en-US")} screens`, kind: "main", screens: options.screens, instances: 1, seconds: options.seconds, reads: options.reads });
    // The largest count held at p99 ≤ 1 s: up from the main session while it holds, down until one does.
    if (options.steps && main.status === "ok") {
      const up = held(main, TARGET_STEP_P99_MS);
      if (up) result.largestHeld = options.screens;
      const steps = up ? [15_000, 18_000].filter((n) => n > options.screens) : [5_000, 2_000, 1_000].filter((n) => n < options.screens);
      for (const n of steps) {
        const s = await session({ name: `step: ${n.toLocaleString("en-US")} screens`, kind: "step", screens: n, instances: 1, seconds: options.stepSeconds, reads: null });
        const ok = held(s, TARGET_STEP_P99_MS);
        if (ok) result.largestHeld = Math.max(result.largestHeld ?? 0, n);
        if (up ? !ok : ok) break;
      }
    }
    if (options.instances) {
      if (await redisAnswers(options.redisUrl)) {
        await session({ name: `two instances + Redis, ${options.instanceScreens.toLocaleString("en-US")} screens`, kind: "two-instances", screens: options.instanceScreens, instances: 2, seconds: options.instanceSeconds, reads: options.reads });
      } else {
        say(`two instances: n/a (no Redis answers PING at ${options.redisUrl})`);
        result.sessions.push({ name: "two instances + Redis", kind: "two-instances", screens: options.instanceScreens, instances: 2, status: "n/a", problem: `no Redis at ${options.redisUrl}`, seconds: 0 });
      }
    }
  } finally {
    await revokeToken(db, created.id).catch(() => undefined);
    await db.destroy();
    result.seconds = round((performance.now() - t0) / 1000, 1);
  }
  return result;
}

// ---------------------------------------------------------------------------
// Targets and the table

const n = (v: number | null | undefined, digits = 1) => (v === null || v === undefined || !Number.isFinite(v) ? "?" : v.toFixed(digits));
const int = (v: number | null | undefined) => (v === null || v === undefined ? "?" : v.toLocaleString("en-US"));

/** The issue's targets for the main and the two-instance sessions (reported, never enforced). */
export function liveChecks(result: LiveResult): Check[] {
  const out: Check[] = [];
  for (const s of result.sessions.filter((x) => x.kind !== "step")) {
    const at = ` (${s.name})`;
    if (s.status !== "ok") {
      out.push({ target: `live scenario${at}`, value: s.status === "n/a" ? `n/a: ${s.problem}` : `failed: ${s.problem}`, pass: s.status === "n/a" ? null : false });
      continue;
    }
    const l = s.latency!;
    out.push({ target: `write-commit-to-screen p99 ≤ ${TARGET_P99_MS} ms${at}`, value: `p99 ${n(l.fromAnswer.p99)} ms (p50 ${n(l.fromAnswer.p50)}, max ${n(l.fromAnswer.max)}; from the send p99 ${n(l.fromSend.p99)} ms)`, pass: l.fromAnswer.p99 !== null && l.fromAnswer.p99 <= TARGET_P99_MS });
    out.push({ target: `final state reached on every screen${at}`, value: `${int(s.finalState!.reached)}/${int(s.screens)} (${int(s.pushes!.delivered)} pushes, between ${int(s.pushes!.atLeast)} and ${int(s.pushes!.atMost)})`, pass: s.finalState!.reached === s.screens });
    out.push({ target: `screens differing from a fresh query = 0${at}`, value: `${s.verify!.differ} of ${int(s.verify!.checked)} (${s.verify!.notLive} not live)`, pass: s.verify!.differ === 0 && s.verify!.notLive === 0 });
    const rss = Math.max(...s.servers!.map((x) => x.peakRssMB ?? 0));
    out.push({ target: `server peak RSS ≤ ${TARGET_RSS_MB / 1000} GB${at}`, value: `${s.servers!.map((x) => `${n(x.peakRssMB)} MB`).join(" + ")}`, pass: rss <= TARGET_RSS_MB });
    if (s.reads) out.push({ target: `province-to-county reads with the writes ≥ ${TARGET_READ_SHARE * 100} % of no writes${at}`, value: `${Math.round((s.reads.ratio ?? 0) * 100)} % (${s.reads.withWrites.requestsPerSecond} vs ${s.reads.baseline.requestsPerSecond} req/s)`, pass: s.reads.ratio !== null && s.reads.ratio >= TARGET_READ_SHARE });
  }
  if (result.options.steps) {
    const steps = result.sessions.filter((s) => s.kind !== "two-instances" && s.status === "ok");
    out.push({
      target: `largest screen count held at p99 ≤ ${TARGET_STEP_P99_MS / 1000} s (one server)`,
      value: result.largestHeld === null ? `none of ${steps.map((s) => int(s.screens)).join(", ")}` : `${int(result.largestHeld)} (tried ${steps.map((s) => `${int(s.screens)}: p99 ${n(s.latency?.fromAnswer.p99)} ms`).join(", ")})`,
      pass: null,
    });
  }
  return out;
}

export function renderLive(result: LiveResult): string[] {
  const o = result.options;
  const sessions = result.sessions.filter((s) => s.status !== "n/a");
  const lines: string[] = [
    `Meeting day, live (bench/live.ts): ${int(o.projects)} projects (${result.database}), screens 90 % meetingBoard / 10 % regionStats over WebSockets (graphql-transport-ws) from a separate process;`,
    `writes ${o.ratePerSecond}/s (createProject 4 in 5, recordAtMeeting 1 in 5) at the meeting's venues through one server; latency = first push showing a write − the time its mutation's answer arrived (the commit), over every (screen, write) pair.`,
    "",
  ];
  const col = (s: LiveSession) => s.name;
  const rows: string[][] = [["figure", ...sessions.map(col), "target"]];
  const row = (figure: string, value: (s: LiveSession) => string, target = "") => rows.push([figure, ...sessions.map((s) => (s.connect ? value(s) : "FAILED")), target]);
  row("screens live / asked (connect s)", (s) => `${int(s.connect?.live)}/${int(s.screens)} (${n(s.connect?.seconds)})`, "all");
  row("seconds of writes", (s) => `${s.kind === "step" ? o.stepSeconds : s.kind === "two-instances" ? o.instanceSeconds : o.seconds}`);
  row("commit→screen p50 / p99 / max ms", (s) => `${n(s.latency?.fromAnswer.p50)} / ${n(s.latency?.fromAnswer.p99)} / ${n(s.latency?.fromAnswer.max)}`, `p99 ≤ ${TARGET_P99_MS}`);
  row("send→screen p50 / p99 / max ms", (s) => `${n(s.latency?.fromSend.p50)} / ${n(s.latency?.fromSend.p99)} / ${n(s.latency?.fromSend.max)}`);
  row("(screen, write) pairs; never shown; pushed before the answer", (s) => `${int(s.latency?.fromAnswer.count)}; ${int(s.latency?.missed)}; ${int(s.latency?.fromAnswer.negative)}`, "never shown 0");
  row("worst single screen's p99 ms", (s) => n(s.latency?.worstScreenP99));
  row("final state reached on screens", (s) => `${int(s.finalState?.reached)}/${int(s.connect?.live)}`, "all");
  row("all screens final, ms after the last answer", (s) => (s.settled ? (s.settled.convergedMs === null ? `> ${SETTLE_MAX_MS}` : n(s.settled.convergedMs, 0)) : "?"));
  row("pushes delivered (at least … at most)", (s) => `${int(s.pushes?.delivered)} (${int(s.pushes?.atLeast)} … ${int(s.pushes?.atMost)})`);
  row("pushes that changed nothing / went back", (s) => `${int(s.pushes?.unchanged)} / ${int(s.pushes?.regressions)}`, "0 / 0");
  row("screens differing from a fresh query", (s) => `${int(s.verify?.differ)}`, "0");
  row("screens closed by the server", (s) => `${int(s.closedDuringRun)}`, "0");
  row("server CPU % of a core: idle → writes", (s) => `${(s.servers ?? []).map((x) => n(x.idleCpuPercent, 0)).join(" + ")} → ${(s.servers ?? []).map((x) => n(x.cpuPercent, 0)).join(" + ")}`);
  row("server CPU ms per push", (s) => n(s.serverCpuMsPerPush, 3));
  row("server peak RSS MB", (s) => (s.servers ?? []).map((x) => n(x.peakRssMB, 0)).join(" + "), `≤ ${TARGET_RSS_MB}`);
  row("database CPU % during the writes", (s) => n(s.databaseCpuPercent, 0));
  row("screens process CPU % / loop delay p99 ms", (s) => `${n(s.load?.writes.cpuPercent, 0)} / ${n(s.load?.writes.loopDelayMs.p99)}`, "< 100 %");
  row("other processes on the machine, CPU %", (s) => n(s.otherCpuPercent, 0));
  row("writes ok / planned; mutation p50 / p99 ms", (s) => `${int(s.writes?.ok)}/${int(s.writes?.planned)}; ${n(s.writes?.latencyMs.p50)} / ${n(s.writes?.latencyMs.p99)}`);
  row("writes answered per s (alone); not sent, unanswered", (s) => `${n(s.writes?.okPerSecond)}; ${int(s.writes?.notSent)}, ${int(s.writes?.timedOut)}`, `${o.ratePerSecond}; 0, 0`);
  row("writes sent late (500 open), max ms", (s) => n(s.writes?.lagMs.max));
  row("province-to-county req/s: no writes → writes", (s) => (s.reads ? `${n(s.reads.baseline.requestsPerSecond)} → ${n(s.reads.withWrites.requestsPerSecond)} (${Math.round((s.reads.ratio ?? 0) * 100)} %)` : "-"), `≥ ${TARGET_READ_SHARE * 100} %`);
  row("under those reads: commit→screen p99; mutation p99 ms", (s) => (s.latencyUnderReads ? `${n(s.latencyUnderReads.fromAnswer.p99)}; ${n(s.writes?.underReads?.latencyMs.p99)}` : "-"));
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? "")].length)));
  rows.forEach((r, i) => {
    lines.push(r.map((cell, c) => (c === 0 || c === r.length - 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ").trimEnd());
    if (i === 0) lines.push(widths.map((w) => "-".repeat(w)).join("  "));
  });
  if (o.steps) lines.push("", `Largest screen count held at p99 ≤ ${TARGET_STEP_P99_MS / 1000} s with one server: ${result.largestHeld === null ? "none of those tried" : int(result.largestHeld)}.`);
  for (const s of result.sessions) {
    if (s.status === "n/a") lines.push(`${s.name}: n/a (${s.problem})`);
    if (s.status === "failed") lines.push(`FAILED ${s.name}: ${s.problem}`);
    if (s.connect?.firstProblem) lines.push(`${s.name}: first screen problem: ${s.connect.firstProblem}`);
    if (s.firstClose) lines.push(`${s.name}: ${s.firstClose}`);
    if (s.firstRegression) lines.push(`${s.name}: a push went back: ${s.firstRegression}`);
    if (s.finalState?.example) lines.push(`${s.name}: ${s.finalState.example}`);
    for (const e of s.verify?.examples ?? []) lines.push(`${s.name}: ${e}`);
    for (const [when, settled] of [["after the writes", s.settled], ["at the end", s.settledAtEnd]] as const) {
      if (settled && settled.convergedMs === null) lines.push(`${s.name}: ${when}, ${settled.live - settled.reached} screens still short of their final figures ${SETTLE_MAX_MS / 1000} s after the last write`);
    }
    for (const w of (s.serverWarnings ?? []).slice(-5)) lines.push(`${s.name}: server log: ${w.slice(0, 300)}`);
  }
  lines.push(`(${result.seconds} s in all)`);
  return lines;
}

// ---------------------------------------------------------------------------
// Command line

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      smoke: { type: "boolean" },
      mysql: { type: "string" },
      projects: { type: "string" },
      screens: { type: "string" },
      seconds: { type: "string" },
      rate: { type: "string" },
      "read-seconds": { type: "string" },
      "no-steps": { type: "boolean" },
      "no-instances": { type: "boolean" },
      redis: { type: "string" },
      interval: { type: "string" },
      "no-deflate": { type: "boolean" },
      head: { type: "boolean" },
      commit: { type: "string" },
      profile: { type: "boolean" },
      threads: { type: "string" },
    },
    strict: true,
  });
  const smoke = values.smoke === true;
  const plan = livePlan(smoke);
  const num = (raw: string | undefined, fallback: number, min: number, max: number, name: string) => {
    if (raw === undefined) return fallback;
    const v = Number(raw.replace(/_/g, ""));
    if (!Number.isFinite(v) || v < min || v > max) throw new Error(`--${name} must be a number from ${min} to ${max} (got "${raw}")`);
    return v;
  };
  const screens = num(values.screens, plan.screens, 1, 19_000, "screens");
  const seconds = num(values.seconds, plan.seconds, 1, 3600, "seconds");
  const options: LiveOptions = {
    ...plan,
    mysql: values.mysql ?? process.env.MYSQL_URL ?? "mysql://root@127.0.0.1:3306",
    projects: num(values.projects, plan.projects, 1, 100_000_000, "projects"),
    screens,
    seconds,
    ratePerSecond: num(values.rate, plan.ratePerSecond, 1, 1000, "rate"),
    reads: { ...plan.reads, seconds: values["read-seconds"] === undefined ? plan.reads.seconds : num(values["read-seconds"], 0, 1, 600, "read-seconds") / plan.reads.rounds },
    steps: plan.steps && values["no-steps"] !== true,
    instances: plan.instances && values["no-instances"] !== true,
    instanceScreens: values.screens === undefined ? plan.instanceScreens : screens,
    instanceSeconds: values.seconds === undefined ? plan.instanceSeconds : seconds,
    redisUrl: values.redis ?? process.env.REDIS_URL ?? plan.redisUrl,
    intervalMs: values.interval === undefined ? null : num(values.interval, 200, 0, 60_000, "interval"),
    deflate: values["no-deflate"] !== true,
    profile: values.profile === true,
    screenThreads: num(values.threads, plan.screenThreads, 1, 64, "threads"),
    say: (what) => process.stderr.write(`  live: ${what}\n`),
  };
  const run = (command: string, args: string[], cwd: string) =>
    new Promise<string>((resolve, reject) =>
      execFile(command, args, { cwd, timeout: 600_000, maxBuffer: 64 * 1024 * 1024, encoding: "buffer" }, (error, stdout, stderr) =>
        error ? reject(new Error(`${command} ${args.join(" ")} failed:\n${stdout.toString()}${stderr.toString()}`)) : resolve(stdout.toString()),
      ),
    );
  let commit: string;
  let headDir: string | null = null;
  if (values.head === true || values.commit !== undefined) {
    // HEAD (or the commit given) alone, built apart: others' uncommitted edits in the working tree are not measured.
    const wanted = values.commit ?? "HEAD";
    commit = (await run("git", ["rev-parse", "--short", `${wanted}^{commit}`], ROOT)).trim();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mp-bench-live-head-"));
    headDir = dir;
    // However the run ends (Ctrl-C included): the link first, so that nothing is removed through it.
    process.on("exit", () => {
      fs.rmSync(path.join(dir, "node_modules"), { force: true });
      fs.rmSync(dir, { recursive: true, force: true });
    });
    process.stderr.write(`building ${wanted} (${commit}) in ${headDir}\n`);
    const archive = path.join(headDir, "head.tar");
    await run("git", ["archive", "--format=tar", "-o", archive, commit], ROOT);
    await run("tar", ["-xf", archive], headDir);
    fs.rmSync(archive);
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(headDir, "node_modules"));
    await run(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-b", "tsconfig.json"], headDir);
    options.serverMain = path.join(headDir, "dist/src/main.js");
  } else {
    process.stderr.write("building (npm run build)\n");
    await run("npm", ["run", "build", "--silent"], ROOT);
    commit = gitCommit();
  }
  const started = new Date();
  let result: LiveResult;
  try {
    result = await measureLive(options);
  } finally {
    if (headDir) {
      fs.rmSync(path.join(headDir, "node_modules"), { force: true }); // the link only, before the directory goes
      fs.rmSync(headDir, { recursive: true, force: true });
    }
  }
  const stamp = started.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const file = path.join(RESULTS_DIR, `${stamp}-live-${smoke ? "smoke-" : ""}${options.projects}.json`);
  const cpus = os.cpus();
  const report = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npx ts-node --transpile-only bench/live.ts ${process.argv.slice(2).join(" ")}`.trim(),
    commit,
    machine: { cpuModel: cpus[0]?.model ?? "unknown", cpuCount: cpus.length, totalMemoryBytes: os.totalmem(), node: process.version, loadAverageAtStart: round(os.loadavg()[0]) },
    live: result,
    checks: liveChecks(result),
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  const mark = (c: Check) => (c.pass === null ? "  -  " : c.pass ? " ok  " : "MISS ");
  process.stdout.write(
    ["", ...renderLive(result), "", "Targets (reported, not enforced):", ...report.checks.map((c) => `  ${mark(c)} ${c.target}: ${c.value}`), "", `Written to ${path.relative(ROOT, file)}`, ""].join("\n"),
  );
  return result.failed ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`live benchmark failed: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
