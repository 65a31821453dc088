/**
 * The load processes of bench/live.ts (the "meeting day, live" scenario), forked by it with an IPC channel:
 *
 *   screens (no argument): opens the screens, each a WebSocket of its own speaking graphql-transport-ws with the
 *     `ws` package (connection_init → connection_ack → subscribe; answering the protocol's pings, `ws` answering
 *     the WebSocket pings), and records, for every push on every screen, the figures that tell which writes it
 *     shows; at the end it turns them into write-commit-to-screen latencies with the writes' times, checks each
 *     screen's last value against a fresh query's, and reports its own CPU and event-loop delay (so that it is
 *     clear whether the client was the bottleneck);
 *   writer (--writer): sends the planned mutations over HTTP on a fixed schedule (open loop: a write does not wait
 *     for another's answer; at most MAX_IN_FLIGHT open), and reports when each was sent and when its answer arrived.
 *
 * Both stop by themselves: when bench/live.ts goes (the IPC channel closes) and after a lifetime they are given.
 * Times are ms on the machine's monotonic clock (CLOCK_MONOTONIC, which every process reads alike), so that a push
 * received here and an answer received by the writer are on one clock. Traffic goes to the addresses given (127.x).
 *
 * How a push is read: the screens ask for the figures in a fixed order (bench/live.ts builds the queries), and a
 * push (a message that begins `{"id":"1","type":"next","payload":{"data":`; any other is parsed) has its bytes
 * searched, not parsed: a meeting board's `"stage":"SIGNED","stats":{
 * "projectCount":` occurs once for the meeting and once per venue, a region's first `"projectCount":` is its total.
 * The first push of each screen is parsed whole and checked against the byte search.
 */
import fs from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

import WebSocket from "ws";

// ---------------------------------------------------------------------------
// Shapes shared with bench/live.ts

/** One subscription a group of screens holds (several screens may hold the same one). */
export interface LiveSubscription {
  key: string;
  field: "meetingBoard" | "regionStats";
  query: string;
  variables: Record<string, unknown>;
  /** region screens: the planned writes that change it (each adds one to its projectCount). */
  relevant?: number[];
}

export interface ScreensSpec {
  /** Threads the screens are spread over (screen i on thread i % threads), each with an event loop of its own. */
  threads: number;
  /** ws:// URLs of the servers; screen i connects to targets[i % targets.length]. */
  targets: string[];
  subscriptions: LiveSubscription[];
  /** The subscription of each screen. */
  screens: number[];
  /** Screen i connects from localAddresses[floor(i / perAddress)]. */
  localAddresses: string[];
  perAddress: number;
  /** The meeting board's venues (region codes) in the order the API lists them. */
  venues: string[];
  /** For each planned write, the index in `venues` of the venue whose SIGNED batch it adds one to (-1: none). */
  writeVenue: number[];
  /** Connections being opened at once. */
  concurrency: number;
  /** ms a screen has from its connect to its first value. */
  connectTimeoutMs: number;
  /** Offer permessage-deflate, as browsers do (the server decides). */
  deflate: boolean;
  /** The process exits after this many seconds whatever happens. */
  lifetimeSeconds: number;
}

/** When a planned write was sent and answered (monotonic ms), and whether it went in; null: never sent. */
export type WriteOutcome = { sentAt: number; answeredAt: number; ok: boolean } | null;

export interface PlannedWrite {
  field: "createProject" | "recordAtMeeting";
  /** The JSON body of the request. */
  body: string;
}

export type ToScreens =
  | { type: "connect"; spec: ScreensSpec }
  | { type: "phase"; name: string }
  /** Wait until every screen shows what the writes answered ok add up to (then `quietMs` with no push), or `maxMs`. */
  | { type: "settle"; ok: boolean[]; quietMs: number; maxMs: number }
  | { type: "verify"; expected: Array<string | null> }
  | { type: "finish"; writes: WriteOutcome[]; groups: Array<{ name: string; from: number; to: number }> };

export type FromScreens =
  | { type: "ready"; openFilesLimit: number | null }
  | { type: "progress"; live: number; failed: number; total: number }
  | { type: "connected"; report: ConnectReport }
  | { type: "phase"; report: PhaseReport }
  | { type: "settled"; report: SettleReport }
  | { type: "verified"; report: VerifyReport }
  | { type: "report"; report: ScreensReport }
  | { type: "error"; message: string };

export interface ConnectReport {
  asked: number;
  live: number;
  failed: number;
  firstProblem?: string;
  seconds: number;
  /** ms from a screen's connect to its first value. */
  firstValueMs: { p50: number | null; p99: number | null; max: number | null };
  /** The extension the servers agreed to (permessage-deflate or none). */
  extensions: string;
  /** CPU of this process while connecting, ms. */
  cpuMs: number;
}

export interface PhaseReport {
  name: string;
  seconds: number;
  pushes: number;
  bytes: number;
  /** Pushes identical to the screen's previous value (the API promises none). */
  unchanged: number;
  /** Pushes whose figures went back (an older state after a newer one). */
  regressions: number;
  errors: number;
  /** Screens the server closed meanwhile. */
  closed: number;
  /** CPU of this process, ms, and as % of one core over the phase. */
  cpuMs: number;
  cpuPercent: number;
  /** This process's event-loop delay (ms): how late it was to read what arrived. */
  loopDelayMs: { p50: number; p99: number; max: number };
  rssMB: number;
}

export interface SettleReport {
  /** Every live screen reached its final figures, and no push came for the quiet time after. */
  settled: boolean;
  /** ms from the request (the writer's last answer) until the last screen reached its final figures (null: not all did). */
  convergedMs: number | null;
  waitedMs: number;
  reached: number;
  live: number;
}

export interface VerifyReport {
  checked: number;
  /** Screens whose last value is not the fresh query's. */
  differ: number;
  /** Screens with no value to compare (closed or never live). */
  notLive: number;
  examples: string[];
}

export interface Latency {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  min: number | null;
  /** Samples below 0 (the push arrived before the writer had the mutation's answer). */
  negative: number;
}

export interface LatencyGroup {
  name: string;
  writes: number;
  /** Push time minus the time the mutation's answer arrived at the writer (the write's commit, as the issue takes it). */
  fromAnswer: Latency;
  /** Push time minus the time the mutation was sent. */
  fromSend: Latency;
  /** (screen, write) pairs where the screen never showed the write. */
  missed: number;
  /** Of the screens, the highest p99 one screen had (from the answer). */
  worstScreenP99: number | null;
}

export interface ScreensReport {
  screens: number;
  live: number;
  groups: LatencyGroup[];
  pushes: {
    delivered: number;
    /** Each live screen's initial value plus, if any write changed it, its final one. */
    atLeast: number;
    /** Each live screen's initial value plus one per write that changed it (no coalescing at all). */
    atMost: number;
    unchanged: number;
    regressions: number;
    errors: number;
  };
  /** Live screens whose figures reached the count every committed write adds up to, and those short of it or past it. */
  finalState: { reached: number; short: number; beyond: number; example?: string };
  closedDuringRun: number;
  firstClose?: string;
  /** The first push that went back: screen, figure, from and to, and ms since the screens connected. */
  firstRegression?: string;
  cpuMs: number;
  peakRssMB: number;
}

// ---------------------------------------------------------------------------
// Clock and small helpers

const OFFSET = Number(process.hrtime.bigint()) / 1e6 - performance.now();
/** ms on CLOCK_MONOTONIC, the same in every process of the machine. */
export function monotonicMs(): number {
  return performance.now() + OFFSET;
}

const round = (n: number, digits = 1) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);

function openFilesLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync("/proc/self/limits", "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function rssMB(field: "VmRSS" | "VmHWM"): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(fs.readFileSync("/proc/self/status", "utf8"));
    return m ? round((Number(m[1]) * 1024) / 1e6) : NaN;
  } catch {
    return NaN;
  }
}

function cpuMsNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

interface HistogramData {
  buckets: Uint32Array;
  count: number;
  negative: number;
  min: number;
  max: number;
}

/**
 * A histogram of ms at 0.1 ms from LOW to HIGH (values outside are clamped into the end buckets; min and max
 * are kept exactly): 27 million samples for 10,000 screens would not fit in arrays of numbers.
 */
class Histogram {
  private static readonly LOW = -5_000;
  private static readonly HIGH = 300_000;
  private readonly buckets = new Uint32Array((Histogram.HIGH - Histogram.LOW) * 10 + 1);
  count = 0;
  negative = 0;
  min = Infinity;
  max = -Infinity;

  add(ms: number): void {
    const i = Math.min(this.buckets.length - 1, Math.max(0, Math.round((ms - Histogram.LOW) * 10)));
    this.buckets[i]++;
    this.count++;
    if (ms < 0) this.negative++;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  percentile(p: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i];
      if (seen >= rank) return i / 10 + Histogram.LOW;
    }
    return this.max;
  }

  /** The counts, to send to another thread. */
  data(): HistogramData {
    return { buckets: this.buckets, count: this.count, negative: this.negative, min: this.min, max: this.max };
  }

  /** The sum of several threads' histograms. */
  static merged(list: HistogramData[]): Histogram {
    const sum = new Histogram();
    for (const d of list) {
      for (let i = 0; i < d.buckets.length; i++) if (d.buckets[i]) sum.buckets[i] += d.buckets[i];
      sum.count += d.count;
      sum.negative += d.negative;
      sum.min = Math.min(sum.min, d.min);
      sum.max = Math.max(sum.max, d.max);
    }
    return sum;
  }

  summary(): Latency {
    const at = (p: number) => {
      const v = this.percentile(p);
      return v === null ? null : round(Math.min(Math.max(v, this.min), this.max));
    };
    return {
      count: this.count,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      max: this.count ? round(this.max) : null,
      min: this.count ? round(this.min) : null,
      negative: this.negative,
    };
  }
}

// ---------------------------------------------------------------------------
// The screens

/** How a push of subscription "1" with data begins as graphql-ws writes it: the fast path; anything else is parsed. */
const PUSH_PREFIX = Buffer.from('{"id":"1","type":"next","payload":{"data":');
const COUNT = Buffer.from('"projectCount":');
const CONNECTION_INIT = JSON.stringify({ type: "connection_init", payload: {} });
const PONG = JSON.stringify({ type: "pong" });

/** The whole number written at `pos`, or -1. */
function readCount(buf: Buffer, pos: number): number {
  let n = 0;
  let digits = 0;
  for (let c = buf[pos]; c >= 48 && c <= 57; c = buf[++pos]) {
    n = n * 10 + (c - 48);
    digits++;
  }
  return digits ? n : -1;
}

/** After the `G` of `"stage":"SIGNED","stats":{"projectCount":` (the only capital G a board has: its names are Chinese). */
const SIGNED_TAIL = Buffer.from('NED","stats":{"projectCount":');
const G = 0x47;

function tailAt(buf: Buffer, pos: number): boolean {
  if (buf[pos - 2] !== 0x53 || buf[pos - 1] !== 0x49) return false; // "SI"
  for (let i = 0; i < SIGNED_TAIL.length; i++) if (buf[pos + 1 + i] !== SIGNED_TAIL[i]) return false;
  return true;
}

/**
 * The figures of a push, into `out`: for a board, each venue's SIGNED batch projectCount (the first occurrence
 * is the meeting's own, skipped), found by memchr for "G" and a check of the bytes around it (a search for the
 * whole string costs its set-up on every call, 20 times a push); for a region, its first projectCount. False when
 * they are not where expected.
 */
function readFigures(buf: Buffer, board: boolean, out: Int32Array): boolean {
  if (!board) {
    const at = buf.indexOf(COUNT);
    if (at < 0) return false;
    out[0] = readCount(buf, at + COUNT.length);
    return out[0] >= 0;
  }
  let v = -1;
  for (let at = buf.indexOf(G); at >= 0; at = buf.indexOf(G, at + 1)) {
    if (!tailAt(buf, at)) continue;
    if (v >= 0) {
      if (v >= out.length) return false;
      out[v] = readCount(buf, at + 1 + SIGNED_TAIL.length);
      if (out[v] < 0) return false;
    }
    v++;
    at += SIGNED_TAIL.length;
  }
  return v === out.length;
}

interface Screen {
  index: number;
  sub: number;
  board: boolean;
  ws: WebSocket | null;
  state: "connecting" | "acked" | "live" | "gone";
  startedAt: number;
  base: Int32Array;
  current: Int32Array;
  scratch: Int32Array;
  /**
   * When this screen first showed each state of its figures (ms since the epoch, 0: not yet): a board's venue v
   * reaching base + k + 1 in slot venueWrites[v][k], a region's count reaching base + k + 1 in slot k.
   */
  seen: Float32Array;
  /** The last value's bytes, in a buffer of the screen's own that is reused (no allocation per push). */
  last: Buffer | null;
  lastLength: number;
  pushes: number;
}

function keepLast(screen: Screen, data: Buffer): void {
  if (screen.last === null || screen.last.length < data.length) screen.last = Buffer.allocUnsafe(Math.ceil(data.length * 1.25));
  data.copy(screen.last);
  screen.lastLength = data.length;
}

function sameAsLast(screen: Screen, data: Buffer): boolean {
  return screen.last !== null && screen.lastLength === data.length && data.compare(screen.last, 0, screen.lastLength) === 0;
}

interface Counters {
  pushes: number;
  bytes: number;
  unchanged: number;
  regressions: number;
  errors: number;
  closed: number;
}

/** What a thread of screens tells the process's main thread (which adds the threads up for bench/live.ts). */
type FromShard =
  | { type: "progress"; live: number; failed: number }
  | { type: "connected"; report: { asked: number; live: number; failed: number; firstProblem?: string; firstValues: number[]; extensions: string[] } }
  | { type: "phase"; report: { counters: Counters; loopDelayMs: PhaseReport["loopDelayMs"] } }
  | { type: "settled"; report: SettleReport }
  | { type: "verified"; report: VerifyReport }
  | { type: "report"; report: ShardReport }
  | { type: "error"; message: string };

interface ShardReport extends Omit<ScreensReport, "groups" | "cpuMs" | "peakRssMB"> {
  groups: Array<Omit<LatencyGroup, "fromAnswer" | "fromSend"> & { fromAnswer: HistogramData; fromSend: HistogramData }>;
}

/** The screens of one thread: those whose index is `shard` modulo `shards`. */
function shardMain(post: (message: FromShard) => void, listen: (handler: (message: ToScreens) => void) => void, shard: number, shards: number): void {
  let spec: ScreensSpec;
  let screens: Screen[] = [];
  /** performance.now() at the start: pushes are stored as ms after it (Float32 keeps 0.01 ms for hours). */
  let epochPerf = performance.now();
  let venueWrites: number[][] = [];
  let counters: Counters = { pushes: 0, bytes: 0, unchanged: 0, regressions: 0, errors: 0, closed: 0 };
  const totals: Counters = { pushes: 0, bytes: 0, unchanged: 0, regressions: 0, errors: 0, closed: 0 };
  let firstProblem: string | undefined;
  let firstClose: string | undefined;
  let firstRegression: string | undefined;
  let lastPushAt = performance.now();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const send = post;

  const problem = (screen: Screen | null, what: string) => {
    firstProblem ??= screen ? `screen ${screen.index} (${spec.subscriptions[screen.sub].key}): ${what}` : what;
  };

  /** A push on a live screen: which writes it shows, first time seen. */
  const onPush = (screen: Screen, data: Buffer, t: number) => {
    counters.pushes++;
    counters.bytes += data.length;
    screen.pushes++;
    lastPushAt = performance.now();
    if (sameAsLast(screen, data)) {
      counters.unchanged++;
      return;
    }
    keepLast(screen, data);
    const figures = screen.scratch;
    if (!readFigures(data, screen.board, figures)) {
      counters.errors++;
      problem(screen, `a push whose figures are not where expected: ${data.toString("utf8", 0, 300)}`);
      return;
    }
    const { base, current, seen } = screen;
    if (screen.board) {
      for (let v = 0; v < figures.length; v++) {
        const now = figures[v];
        const before = current[v];
        if (now === before) continue;
        if (now < before) {
          counters.regressions++;
          firstRegression ??= `screen ${screen.index} (${spec.subscriptions[screen.sub].key}, on ${spec.targets[screen.index % spec.targets.length]}): venue ${spec.venues[v]} went from ${before - base[v]} to ${now - base[v]} writes at ${round(t)} ms`;
        } else {
          const writes = venueWrites[v];
          for (let k = before - base[v]; k < now - base[v] && k < writes.length; k++) if (seen[writes[k]] === 0) seen[writes[k]] = t;
        }
        current[v] = now;
      }
    } else {
      const now = figures[0];
      const before = current[0];
      if (now < before) {
        counters.regressions++;
        firstRegression ??= `screen ${screen.index} (${spec.subscriptions[screen.sub].key}, on ${spec.targets[screen.index % spec.targets.length]}): projectCount went from ${before} to ${now} at ${round(t)} ms`;
      }
      else for (let k = before - base[0]; k < now - base[0] && k < seen.length; k++) if (seen[k] === 0) seen[k] = t;
      current[0] = now;
    }
  };

  /** Every message of a screen: pushes on the fast path, the rest parsed. */
  const onMessage = (screen: Screen, data: Buffer, resolveLive: () => void) => {
    const t = performance.now() - epochPerf;
    if (screen.state === "live" && data.length > PUSH_PREFIX.length && data.compare(PUSH_PREFIX, 0, PUSH_PREFIX.length, 0, PUSH_PREFIX.length) === 0) return onPush(screen, data, t);
    let message: { type?: string; id?: string; payload?: { data?: Record<string, unknown> | null; errors?: unknown[] } | unknown[] };
    try {
      message = JSON.parse(data.toString("utf8"));
    } catch {
      counters.errors++;
      problem(screen, `a message that is not JSON: ${data.toString("utf8", 0, 200)}`);
      return;
    }
    switch (message.type) {
      case "connection_ack":
        if (screen.state === "connecting") {
          screen.state = "acked";
          const sub = spec.subscriptions[screen.sub];
          screen.ws!.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: sub.query, variables: sub.variables } }));
        }
        return;
      case "ping":
        screen.ws?.send(PONG);
        return;
      case "pong":
        return;
      case "next": {
        const payload = message.payload as { data?: Record<string, unknown> | null; errors?: unknown[] };
        const field = spec.subscriptions[screen.sub].field;
        if (payload?.errors || !payload?.data?.[field]) {
          counters.errors++;
          problem(screen, `a next message with errors or no ${field}: ${data.toString("utf8", 0, 500)}`);
          return;
        }
        if (screen.state !== "acked") return onPush(screen, data, t);
        // The first value: parsed whole, checked against the byte search, the screen's base.
        if (!readFigures(data, screen.board, screen.base)) {
          problem(screen, `its first value's figures are not where expected: ${data.toString("utf8", 0, 300)}`);
          return screen.ws?.terminate();
        }
        const value = payload.data[field] as { venues?: Array<{ region: { code: string }; batches: Array<{ stage: string; stats: { projectCount: number } }> }>; projectCount?: number };
        const parsed = screen.board
          ? (value.venues ?? []).map((venue) => venue.batches.find((b) => b.stage === "SIGNED")?.stats.projectCount ?? -1)
          : [value.projectCount ?? -1];
        const codes = screen.board ? (value.venues ?? []).map((venue) => venue.region.code).join(",") : "";
        if (screen.board && codes !== spec.venues.join(",")) {
          problem(screen, `its venues are ${codes}, not ${spec.venues.join(",")}`);
          return screen.ws?.terminate();
        }
        if (parsed.join(",") !== Array.from(screen.base).join(",")) {
          problem(screen, `its first value's counts ${parsed.join(",")} are not what the byte search read (${Array.from(screen.base).join(",")})`);
          return screen.ws?.terminate();
        }
        screen.current.set(screen.base);
        keepLast(screen, data);
        screen.pushes = 1;
        screen.state = "live";
        counters.pushes++;
        counters.bytes += data.length;
        resolveLive();
        return;
      }
      case "error":
        counters.errors++;
        problem(screen, `error message: ${data.toString("utf8", 0, 500)}`);
        return;
      case "complete":
        problem(screen, "the server completed the subscription");
        screen.state = "gone";
        return;
      default:
        counters.errors++;
        problem(screen, `an unexpected message: ${data.toString("utf8", 0, 200)}`);
    }
  };

  const open = (screen: Screen): Promise<boolean> =>
    new Promise((resolve) => {
      const url = spec.targets[screen.index % spec.targets.length];
      const localAddress = spec.localAddresses[Math.floor(screen.index / spec.perAddress)];
      let settled = false;
      const done = (ok: boolean, why?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!ok) {
          problem(screen, why ?? "failed");
          screen.state = "gone";
          screen.ws?.terminate();
        }
        resolve(ok);
      };
      const timer = setTimeout(() => done(false, `no first value within ${spec.connectTimeoutMs} ms (state ${screen.state})`), spec.connectTimeoutMs);
      screen.startedAt = performance.now();
      const ws = new WebSocket(url, "graphql-transport-ws", {
        localAddress,
        skipUTF8Validation: true,
        perMessageDeflate: spec.deflate,
        handshakeTimeout: spec.connectTimeoutMs,
      });
      screen.ws = ws;
      ws.on("open", () => ws.send(CONNECTION_INIT));
      ws.on("message", (data: Buffer) => onMessage(screen, data, () => done(true)));
      ws.on("error", (error) => done(false, error.message));
      ws.on("close", (code, reason) => {
        if (screen.state === "live") {
          counters.closed++;
          firstClose ??= `screen ${screen.index}: closed by the server, code ${code} ${reason.toString().slice(0, 200)}`;
        }
        screen.state = "gone";
        done(false, `closed during set-up, code ${code} ${reason.toString().slice(0, 200)}`);
      });
    });

  const connect = async () => {
    const t0 = performance.now();
    epochPerf = t0;
    venueWrites = spec.venues.map(() => []);
    spec.writeVenue.forEach((v, i) => v >= 0 && venueWrites[v].push(i));
    const planned = spec.writeVenue.length;
    const V = spec.venues.length;
    screens = spec.screens.flatMap((sub, index): Screen[] => {
      if (index % shards !== shard) return [];
      const board = spec.subscriptions[sub].field === "meetingBoard";
      const n = board ? V : 1;
      const screen: Screen = {
        index,
        sub,
        board,
        ws: null,
        state: "connecting",
        startedAt: 0,
        base: new Int32Array(n),
        current: new Int32Array(n),
        scratch: new Int32Array(n),
        seen: new Float32Array(board ? planned : (spec.subscriptions[sub].relevant ?? []).length),
        last: null,
        lastLength: 0,
        pushes: 0,
      };
      return [screen];
    });
    const firstValue: number[] = [];
    let next = 0;
    let live = 0;
    let failed = 0;
    const progress = setInterval(() => send({ type: "progress", live, failed }), 1000);
    const worker = async () => {
      while (next < screens.length) {
        const screen = screens[next++];
        if (await open(screen)) {
          live++;
          firstValue.push(performance.now() - screen.startedAt);
        } else failed++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(Math.ceil(spec.concurrency / shards), screens.length) }, worker));
    clearInterval(progress);
    send({ type: "progress", live, failed });
    const extensions = [...new Set(screens.filter((s) => s.ws).map((s) => s.ws!.extensions || "none"))];
    send({ type: "connected", report: { asked: screens.length, live, failed, ...(firstProblem ? { firstProblem } : {}), firstValues: firstValue, extensions } });
  };

  /** This thread's counts since the last phase began, and how late its event loop was. */
  const endPhase = () => {
    const report = { counters, loopDelayMs: { p50: round(loop.percentile(50) / 1e6), p99: round(loop.percentile(99) / 1e6), max: round(loop.max / 1e6) } };
    for (const k of Object.keys(totals) as Array<keyof Counters>) totals[k] += counters[k];
    counters = { pushes: 0, bytes: 0, unchanged: 0, regressions: 0, errors: 0, closed: 0 };
    loop.reset();
    return report;
  };

  /** Per screen, the figures the writes answered ok add up to: per venue for a board, its count for a region. */
  const targetsOf = (ok: boolean[]): Int32Array[] => {
    const perVenue = Int32Array.from(venueWrites.map((list) => list.filter((i) => ok[i]).length));
    const perSub = spec.subscriptions.map((sub) => (sub.relevant ?? []).filter((i) => ok[i]).length);
    return screens.map((screen) => (screen.board ? perVenue : Int32Array.of(perSub[screen.sub])));
  };
  const reachedOf = (screen: Screen, target: Int32Array) => {
    for (let v = 0; v < target.length; v++) if (screen.current[v] - screen.base[v] < target[v]) return false;
    return true;
  };

  const settle = async (ok: boolean[], quietMs: number, maxMs: number) => {
    const t0 = performance.now();
    const targets = targetsOf(ok);
    let convergedAt: number | null = null;
    let reached = 0;
    let live = 0;
    for (;;) {
      reached = 0;
      live = 0;
      screens.forEach((screen, i) => {
        if (screen.state !== "live") return;
        live++;
        if (reachedOf(screen, targets[i])) reached++;
      });
      const now = performance.now();
      if (reached === live) {
        convergedAt ??= now;
        if (now - lastPushAt >= quietMs) break;
      }
      if (now - t0 >= maxMs) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const report: SettleReport = {
      settled: reached === live && performance.now() - lastPushAt >= quietMs,
      convergedMs: convergedAt === null ? null : round(convergedAt - t0),
      waitedMs: round(performance.now() - t0),
      reached,
      live,
    };
    send({ type: "settled", report });
  };

  const verify = (expected: Array<string | null>) => {
    const report: VerifyReport = { checked: 0, differ: 0, notLive: 0, examples: [] };
    for (const screen of screens) {
      const sub = spec.subscriptions[screen.sub];
      if (screen.state !== "live" || screen.last === null) {
        report.notLive++;
        continue;
      }
      report.checked++;
      let shown: string;
      try {
        shown = JSON.stringify((JSON.parse(screen.last.toString("utf8", 0, screen.lastLength)) as { payload: { data: Record<string, unknown> } }).payload.data[sub.field]);
      } catch (error) {
        shown = `unreadable: ${(error as Error).message}`;
      }
      if (shown !== expected[screen.sub]) {
        report.differ++;
        if (report.examples.length < 3) report.examples.push(`screen ${screen.index} (${sub.key}) shows ${shown.slice(0, 400)} where a query now gives ${String(expected[screen.sub]).slice(0, 400)}`);
      }
    }
    send({ type: "verified", report });
  };

  /**
   * A figure's k-th state (base + k) exists once k of the writes that move it have committed, whichever they are
   * (several may be open at once): its time is taken as the k-th of their answers to arrive (by then k have
   * committed), and, as the other bound, the k-th of their sends. `slots[k]` is where a screen noted when it first
   * showed that state; `write[k]` the write whose answer came k-th (its group is the state's).
   */
  interface States {
    slots: number[];
    answered: Float64Array;
    sent: Float64Array;
    write: number[];
  }
  const statesOf = (writes: WriteOutcome[], movers: number[], slotOf: (k: number) => number): States => {
    const ok = movers.filter((i) => writes[i]?.ok);
    const byAnswer = [...ok].sort((a, b) => writes[a]!.answeredAt - writes[b]!.answeredAt);
    return {
      slots: byAnswer.map((_, k) => slotOf(k)),
      answered: Float64Array.from(byAnswer, (i) => writes[i]!.answeredAt),
      sent: Float64Array.from(ok, (i) => writes[i]!.sentAt).sort(),
      write: byAnswer,
    };
  };

  const finish = (writes: WriteOutcome[], groups: Array<{ name: string; from: number; to: number }>) => {
    endPhase();
    const epochMono = epochPerf + OFFSET;
    const out: ShardReport["groups"] = [];
    const venueStates = venueWrites.map((list) => statesOf(writes, list, (k) => list[k]));
    const subStates = spec.subscriptions.map((sub) => statesOf(writes, sub.relevant ?? [], (k) => k));
    for (const group of groups) {
      const fromAnswer = new Histogram();
      const fromSend = new Histogram();
      let missed = 0;
      let worst: number | null = null;
      let committed = 0;
      for (let i = group.from; i < group.to; i++) if (writes[i]?.ok) committed++;
      const own = new Float64Array(writes.length);
      for (const screen of screens) {
        if (screen.state !== "live") continue;
        let owned = 0;
        const take = (states: States) => {
          for (let k = 0; k < states.write.length; k++) {
            const i = states.write[k];
            if (i < group.from || i >= group.to) continue;
            const t = screen.seen[states.slots[k]];
            if (t === 0) {
              missed++;
              continue;
            }
            const ms = t - (states.answered[k] - epochMono);
            fromAnswer.add(ms);
            fromSend.add(t - (states.sent[k] - epochMono));
            own[owned++] = ms;
          }
        };
        if (screen.board) venueStates.forEach(take);
        else take(subStates[screen.sub]);
        if (owned) {
          const mine = own.subarray(0, owned).sort();
          const p99 = mine[Math.min(owned - 1, Math.ceil(0.99 * owned) - 1)];
          worst = worst === null ? p99 : Math.max(worst, p99);
        }
      }
      out.push({ name: group.name, writes: committed, fromAnswer: fromAnswer.data(), fromSend: fromSend.data(), missed, worstScreenP99: worst === null ? null : round(worst) });
    }
    // Pushes and final states, over every write.
    let atLeast = 0;
    let atMost = 0;
    let delivered = 0;
    const finalState: ScreensReport["finalState"] = { reached: 0, short: 0, beyond: 0 };
    const okWritesOfVenue = venueWrites.map((list) => list.filter((i) => writes[i]?.ok).length);
    for (const screen of screens) {
      if (screen.state !== "live") continue;
      delivered += screen.pushes;
      const changes = screen.board ? okWritesOfVenue.reduce((a, b) => a + b, 0) : (spec.subscriptions[screen.sub].relevant ?? []).filter((i) => writes[i]?.ok).length;
      atLeast += 1 + (changes > 0 ? 1 : 0);
      atMost += 1 + changes;
      const wanted = screen.board ? okWritesOfVenue : [changes];
      let short = false;
      let beyond = false;
      wanted.forEach((n, v) => {
        const moved = screen.current[v] - screen.base[v];
        if (moved < n) short = true;
        if (moved > n) beyond = true;
      });
      if (short) finalState.short++;
      else if (beyond) finalState.beyond++;
      else finalState.reached++;
      if ((short || beyond) && !finalState.example) {
        finalState.example = `screen ${screen.index} (${spec.subscriptions[screen.sub].key}) moved by ${Array.from(screen.current, (c, v) => c - screen.base[v]).join(",")}, the writes add ${wanted.join(",")}`;
      }
    }
    const report: ShardReport = {
      screens: screens.length,
      live: screens.filter((s) => s.state === "live").length,
      groups: out,
      pushes: { delivered, atLeast, atMost, unchanged: totals.unchanged, regressions: totals.regressions, errors: totals.errors },
      finalState,
      closedDuringRun: totals.closed,
      ...(firstClose ? { firstClose } : {}),
      ...(firstRegression ? { firstRegression } : {}),
    };
    send({ type: "report", report });
  };

  listen((message: ToScreens) => {
    try {
      switch (message.type) {
        case "connect":
          spec = message.spec;
          void connect().catch((error: Error) => send({ type: "error", message: error.stack ?? error.message }));
          return;
        case "phase":
          send({ type: "phase", report: endPhase() });
          return;
        case "settle":
          void settle(message.ok, message.quietMs, message.maxMs);
          return;
        case "verify":
          verify(message.expected);
          return;
        case "finish":
          finish(message.writes, message.groups);
          return;
      }
    } catch (error) {
      send({ type: "error", message: (error as Error).stack ?? String(error) });
    }
  });
}

/**
 * The screens process's main thread: starts the threads of screens, hands each message of bench/live.ts to all of
 * them and adds up their answers; measures the process's CPU (all threads) itself.
 */
function screensMain(): void {
  const send = (message: FromScreens) => process.send!(message);
  process.on("disconnect", () => process.exit(0));
  let threads: Worker[] = [];
  let phase = { name: "connect", startedAt: performance.now(), cpuMs: cpuMsNow() };
  const progress = new Map<Worker, { live: number; failed: number }>();
  let total = 0;
  /** One answer of the wanted type from every thread. */
  const all = <T extends FromShard>(message: ToScreens | null, wanted: T["type"]): Promise<T[]> =>
    Promise.all(
      threads.map(
        (thread) =>
          new Promise<T>((resolve) => {
            const handler = (m: FromShard) => {
              if (m.type !== wanted) return;
              thread.off("message", handler);
              resolve(m as T);
            };
            thread.on("message", handler);
            if (message) thread.postMessage(message);
          }),
      ),
    );
  const startThreads = (count: number) => {
    const loader = require.resolve("ts-node/register/transpile-only");
    threads = Array.from({ length: count }, (_, shard) => {
      const thread = new Worker(`require(${JSON.stringify(loader)}); require(${JSON.stringify(__filename)});`, { eval: true, workerData: { liveShard: shard, liveShards: count } });
      thread.on("message", (m: FromShard) => {
        if (m.type === "progress") progress.set(thread, { live: m.live, failed: m.failed });
        else if (m.type === "error") send(m);
      });
      thread.on("error", (error) => send({ type: "error", message: `a screens thread failed: ${error.stack ?? error.message}` }));
      return thread;
    });
  };

  const connect = async (spec: ScreensSpec) => {
    const t0 = performance.now();
    const cpu0 = cpuMsNow();
    total = spec.screens.length;
    startThreads(Math.max(1, Math.min(spec.threads, spec.screens.length)));
    const ticker = setInterval(() => {
      const sum = [...progress.values()].reduce((a, p) => ({ live: a.live + p.live, failed: a.failed + p.failed }), { live: 0, failed: 0 });
      send({ type: "progress", ...sum, total });
    }, 2000);
    const answers = await all<Extract<FromShard, { type: "connected" }>>({ type: "connect", spec }, "connected");
    clearInterval(ticker);
    const firstValue = answers.flatMap((a) => a.report.firstValues).sort((a, b) => a - b);
    const at = (p: number) => (firstValue.length ? round(firstValue[Math.min(firstValue.length - 1, Math.ceil((p / 100) * firstValue.length) - 1)]) : null);
    const firstProblem = answers.find((a) => a.report.firstProblem)?.report.firstProblem;
    const report: ConnectReport = {
      asked: answers.reduce((a, x) => a + x.report.asked, 0),
      live: answers.reduce((a, x) => a + x.report.live, 0),
      failed: answers.reduce((a, x) => a + x.report.failed, 0),
      ...(firstProblem ? { firstProblem } : {}),
      seconds: round((performance.now() - t0) / 1000, 2),
      firstValueMs: { p50: at(50), p99: at(99), max: firstValue.length ? round(firstValue[firstValue.length - 1]) : null },
      extensions: [...new Set(answers.flatMap((a) => a.report.extensions))].join(", "),
      cpuMs: round(cpuMsNow() - cpu0),
    };
    send({ type: "connected", report });
  };

  const endPhase = async (name: string) => {
    const answers = await all<Extract<FromShard, { type: "phase" }>>({ type: "phase", name }, "phase");
    const now = performance.now();
    const cpu = cpuMsNow();
    const sum = (k: keyof Counters) => answers.reduce((a, x) => a + x.report.counters[k], 0);
    const worst = (k: keyof PhaseReport["loopDelayMs"]) => Math.max(...answers.map((a) => a.report.loopDelayMs[k]));
    const report: PhaseReport = {
      name: phase.name,
      seconds: round((now - phase.startedAt) / 1000, 2),
      pushes: sum("pushes"),
      bytes: sum("bytes"),
      unchanged: sum("unchanged"),
      regressions: sum("regressions"),
      errors: sum("errors"),
      closed: sum("closed"),
      cpuMs: round(cpu - phase.cpuMs),
      cpuPercent: round((100 * (cpu - phase.cpuMs)) / Math.max(1, now - phase.startedAt)),
      loopDelayMs: { p50: worst("p50"), p99: worst("p99"), max: worst("max") },
      rssMB: rssMB("VmRSS"),
    };
    phase = { name, startedAt: now, cpuMs: cpu };
    send({ type: "phase", report });
  };

  const settle = async (message: Extract<ToScreens, { type: "settle" }>) => {
    const answers = (await all<Extract<FromShard, { type: "settled" }>>(message, "settled")).map((a) => a.report);
    send({
      type: "settled",
      report: {
        settled: answers.every((a) => a.settled),
        convergedMs: answers.some((a) => a.convergedMs === null) ? null : Math.max(...answers.map((a) => a.convergedMs!)),
        waitedMs: Math.max(...answers.map((a) => a.waitedMs)),
        reached: answers.reduce((a, x) => a + x.reached, 0),
        live: answers.reduce((a, x) => a + x.live, 0),
      },
    });
  };

  const verify = async (message: Extract<ToScreens, { type: "verify" }>) => {
    const answers = (await all<Extract<FromShard, { type: "verified" }>>(message, "verified")).map((a) => a.report);
    send({
      type: "verified",
      report: {
        checked: answers.reduce((a, x) => a + x.checked, 0),
        differ: answers.reduce((a, x) => a + x.differ, 0),
        notLive: answers.reduce((a, x) => a + x.notLive, 0),
        examples: answers.flatMap((a) => a.examples).slice(0, 3),
      },
    });
  };

  const finish = async (message: Extract<ToScreens, { type: "finish" }>) => {
    const answers = (await all<Extract<FromShard, { type: "report" }>>(message, "report")).map((a) => a.report);
    const sum = (f: (r: ShardReport) => number) => answers.reduce((a, r) => a + f(r), 0);
    const groups: LatencyGroup[] = answers[0].groups.map((g, i) => {
      const worst = answers.map((r) => r.groups[i].worstScreenP99).filter((v): v is number => v !== null);
      return {
        name: g.name,
        writes: g.writes,
        fromAnswer: Histogram.merged(answers.map((r) => r.groups[i].fromAnswer)).summary(),
        fromSend: Histogram.merged(answers.map((r) => r.groups[i].fromSend)).summary(),
        missed: sum((r) => r.groups[i].missed),
        worstScreenP99: worst.length ? Math.max(...worst) : null,
      };
    });
    const example = answers.find((r) => r.finalState.example)?.finalState.example;
    const firstClose = answers.find((r) => r.firstClose)?.firstClose;
    const firstRegression = answers.find((r) => r.firstRegression)?.firstRegression;
    const report: ScreensReport = {
      screens: sum((r) => r.screens),
      live: sum((r) => r.live),
      groups,
      pushes: {
        delivered: sum((r) => r.pushes.delivered),
        atLeast: sum((r) => r.pushes.atLeast),
        atMost: sum((r) => r.pushes.atMost),
        unchanged: sum((r) => r.pushes.unchanged),
        regressions: sum((r) => r.pushes.regressions),
        errors: sum((r) => r.pushes.errors),
      },
      finalState: { reached: sum((r) => r.finalState.reached), short: sum((r) => r.finalState.short), beyond: sum((r) => r.finalState.beyond), ...(example ? { example } : {}) },
      closedDuringRun: sum((r) => r.closedDuringRun),
      ...(firstClose ? { firstClose } : {}),
      ...(firstRegression ? { firstRegression } : {}),
      cpuMs: round(cpuMsNow()),
      peakRssMB: rssMB("VmHWM"),
    };
    // bench/live.ts disconnects once it has the report, and this process exits at once: the kernel closes the
    // sockets (their TIME_WAIT is on local addresses no later session uses).
    send({ type: "report", report });
  };

  process.on("message", (message: ToScreens) => {
    const failed = (error: Error) => send({ type: "error", message: error.stack ?? error.message });
    switch (message.type) {
      case "connect":
        setTimeout(() => process.exit(3), message.spec.lifetimeSeconds * 1000).unref();
        void connect(message.spec).catch(failed);
        return;
      case "phase":
        void endPhase(message.name).catch(failed);
        return;
      case "settle":
        void settle(message).catch(failed);
        return;
      case "verify":
        void verify(message).catch(failed);
        return;
      case "finish":
        void finish(message).catch(failed);
        return;
    }
  });
  send({ type: "ready", openFilesLimit: openFilesLimit() });
}

// ---------------------------------------------------------------------------
// The writer

export type ToWriter = {
  type: "go";
  url: string;
  token: string;
  writes: PlannedWrite[];
  from: number;
  to: number;
  ratePerSecond: number;
  /** ms after the first send past which no write is sent any more (a server far behind): the rest are reported unsent. */
  deadlineMs: number;
  lifetimeSeconds: number;
};
export type FromWriter =
  | { type: "ready" }
  | { type: "done"; report: WriterReport }
  | { type: "error"; message: string };

export interface WriterReport {
  from: number;
  to: number;
  /** Indexed from `from`. */
  outcomes: WriteOutcome[];
  sent: number;
  ok: number;
  /** Answered with errors, or not a GraphQL answer. */
  failed: number;
  /** No answer within WRITE_TIMEOUT_MS (it may still have committed). */
  timedOut: number;
  /** Not sent: their time came after the deadline (MAX_IN_FLIGHT writes open that long). */
  notSent: number;
  firstError?: string;
  /** From the first send to the last answer, s. */
  elapsedSeconds: number;
  /** How late a write was sent after its time (ms): MAX_IN_FLIGHT writes open, or timers. */
  lagMs: { p99: number; max: number };
  /** Mutation latency as this process saw it, ms. */
  latencyMs: { p50: number | null; p99: number | null; max: number | null };
  cpuMs: number;
}

const WRITE_TIMEOUT_MS = 30_000;
/** Writes open at once, at most: at 50/s, 10 s of answers not coming. */
const MAX_IN_FLIGHT = 500;

async function runWriter(go: Extract<ToWriter, { type: "go" }>): Promise<WriterReport> {
  const cpu0 = cpuMsNow();
  const outcomes: WriteOutcome[] = new Array(go.to - go.from).fill(null);
  const lags: number[] = [];
  const latencies: number[] = [];
  let failed = 0;
  let timedOut = 0;
  let notSent = 0;
  let firstError: string | undefined;
  const open = new Set<Promise<void>>();
  const t0 = monotonicMs();
  const send = async (i: number, due: number) => {
    const write = go.writes[i];
    const sentAt = monotonicMs();
    if (sentAt - t0 > go.deadlineMs) {
      notSent++;
      return;
    }
    lags.push(sentAt - due);
    let ok = false;
    let timeout = false;
    try {
      const response = await fetch(go.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${go.token}` },
        body: write.body,
        signal: AbortSignal.timeout(WRITE_TIMEOUT_MS),
      });
      const text = await response.text();
      let parsed: { data?: Record<string, unknown> | null; errors?: unknown[] } | undefined;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      ok = response.status === 200 && !parsed?.errors && Boolean(parsed?.data?.[write.field]);
      if (!ok) firstError ??= `write ${i} (${write.field}): status ${response.status}: ${text.slice(0, 500)}`;
    } catch (error) {
      timeout = (error as Error).name === "TimeoutError";
      firstError ??= `write ${i} (${write.field}): ${(error as Error).message}`;
    }
    const answeredAt = monotonicMs();
    if (ok) latencies.push(answeredAt - sentAt);
    else if (timeout) timedOut++;
    else failed++;
    lastAnswer = Math.max(lastAnswer, answeredAt);
    outcomes[i - go.from] = { sentAt, answeredAt, ok };
  };
  let lastAnswer = t0;
  const interval = 1000 / go.ratePerSecond;
  for (let i = go.from; i < go.to; i++) {
    const due = t0 + (i - go.from) * interval;
    const wait = due - monotonicMs();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    while (open.size >= MAX_IN_FLIGHT) await Promise.race(open);
    const write = send(i, due);
    open.add(write);
    void write.finally(() => open.delete(write));
  }
  await Promise.all(open);
  lags.sort((a, b) => a - b);
  latencies.sort((a, b) => a - b);
  const at = (list: number[], p: number) => (list.length ? round(list[Math.min(list.length - 1, Math.ceil((p / 100) * list.length) - 1)]) : null);
  return {
    from: go.from,
    to: go.to,
    outcomes,
    sent: outcomes.filter(Boolean).length,
    ok: outcomes.filter((o) => o?.ok).length,
    failed,
    timedOut,
    notSent,
    ...(firstError ? { firstError } : {}),
    elapsedSeconds: round((lastAnswer - t0) / 1000, 2),
    lagMs: { p99: at(lags, 99) ?? 0, max: lags.length ? round(lags[lags.length - 1]) : 0 },
    latencyMs: { p50: at(latencies, 50), p99: at(latencies, 99), max: latencies.length ? round(latencies[latencies.length - 1]) : null },
    cpuMs: round(cpuMsNow() - cpu0),
  };
}

function writerMain(): void {
  const send = (message: FromWriter) => process.send!(message);
  process.on("disconnect", () => process.exit(0));
  let lifetime: NodeJS.Timeout | undefined;
  process.on("message", (message: ToWriter) => {
    if (message?.type !== "go") return;
    if (lifetime) clearTimeout(lifetime);
    lifetime = setTimeout(() => process.exit(3), message.lifetimeSeconds * 1000);
    lifetime.unref();
    runWriter(message).then(
      (report) => send({ type: "done", report }),
      (error: Error) => send({ type: "error", message: error.stack ?? error.message }),
    );
  });
  // Idle writers go too: nothing may outlive the benchmark.
  lifetime = setTimeout(() => process.exit(3), 3600_000);
  lifetime.unref();
  send({ type: "ready" });
}

const shardData = workerData as { liveShard?: number; liveShards?: number } | null;
if (!isMainThread && shardData?.liveShard !== undefined) {
  shardMain(
    (message) => parentPort!.postMessage(message),
    (handler) => parentPort!.on("message", handler),
    shardData.liveShard,
    shardData.liveShards!,
  );
} else if (require.main === module) {
  if (process.argv.includes("--writer")) writerMain();
  else screensMain();
}
