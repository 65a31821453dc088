/**
 * The two-instance scenario of `npm run bench`: the province-to-county
 * question answered by two instances of the compiled server on the one
 * database of the size (as N stateless instances behind a load balancer run),
 * the load generator's 10 connections split 5 + 5 across them.
 *
 * bench/run.ts calls `measureInstances` for each size once the one-instance
 * scenarios are done and their server is stopped, and lists the result beside
 * the one-instance province-to-county figure (key "two-instances"): the first
 * and a warm request's statements (instance A), p50/p99 with 1 connection on
 * instance A, req/s with 5 + 5 connections, the CPU of both server processes
 * together per request, and the larger peak RSS of the two. Both instances must
 * give the same answer, byte for byte.
 *
 * Both run on this machine with the load generator and the database, so they
 * share its cores: the figure shows what a second process adds here (the
 * server is one event loop, so a second one can use another core), not what
 * two machines would.
 */
import type { ChildProcess } from "node:child_process";

import autocannon from "autocannon";

import { type Measurement, percentile, round, runProblem, type Sample, type ScenarioResult } from "./measurement";
import { machineBusyTicks, processTicks, TICK_MS } from "./proc";
import type { Started } from "./servers";

/** What bench/run.ts hands over (the same tools as bench/writes.ts gets). */
export interface InstanceBenchTools {
  /** Seconds of each measurement. */
  seconds: number;
  /** Seconds of warm-up (1 + 1 connections) before the latency run. */
  warmup: number;
  startServer(label: string, database: string, env: Record<string, string>, profileName: string): Promise<Started>;
  stopChild(child: ChildProcess): Promise<void>;
  waitForDatabaseIdle(database: string): Promise<void>;
  post(url: string, body: string): Promise<Sample>;
  peakRssKiB(pid: number): number | null;
  databasePid: number | null;
  say(what: string): void;
}

export const TWO_INSTANCES_KEY = "two-instances";
/** Connections per instance in the throughput run (10 in all, as the one-instance figure). */
const CONNECTIONS_EACH = 5;

/** Starts two instances on `database`, measures `query` across them, stops them. */
export async function measureInstances(tools: InstanceBenchTools, size: number, database: string, query: string): Promise<ScenarioResult> {
  const name = `province-to-county, 2 instances (req/s: ${CONNECTIONS_EACH}+${CONNECTIONS_EACH} conn)`;
  const result: ScenarioResult = { key: TWO_INSTANCES_KEY, name, status: "ok", query };
  const say = (what: string) => tools.say(`${name}: ${what}`);
  const fail = (problem: string): ScenarioResult => {
    say(`FAILED: ${problem}`);
    return { ...result, status: "failed", problem };
  };
  const body = JSON.stringify({ query });
  const stamp = Date.now();
  const started = await Promise.allSettled([
    tools.startServer("instance A", database, {}, `server-instance-a-${size}-${stamp}.cpuprofile`),
    tools.startServer("instance B", database, {}, `server-instance-b-${size}-${stamp}.cpuprofile`),
  ]);
  const servers = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) return fail(`an instance did not start: ${(failed.reason as Error)?.message ?? String(failed.reason)}`);
    const [a, b] = servers;
    const pids = { servers: servers.map((s) => s.child.pid!), database: tools.databasePid };
    const run = async (urls: string[], each: number, seconds: number) => {
      const measured = await split(urls, body, each, seconds, pids);
      await tools.waitForDatabaseIdle(database);
      return measured;
    };
    say("first requests");
    const cold = await tools.post(a.url, body);
    const coldB = await tools.post(b.url, body);
    let problem = sampleProblem(cold) ?? sampleProblem(coldB);
    if (problem) return fail(`first response: ${problem}`);
    if (tools.warmup > 0) {
      say(`warm-up ${tools.warmup} s, 1 + 1 connections`);
      problem = runProblem(await run([a.url, b.url], 1, tools.warmup));
      if (problem) return fail(`warm-up: ${problem}`);
    }
    const warm = await tools.post(a.url, body);
    const warmB = await tools.post(b.url, body);
    problem = sampleProblem(warm) ?? sampleProblem(warmB);
    if (problem) return fail(`warm response: ${problem}`);
    if (warm.body !== warmB.body) return fail(`the two instances answer differently (${Buffer.byteLength(warm.body)} and ${Buffer.byteLength(warmB.body)} bytes)`);
    result.responseBytes = Buffer.byteLength(warm.body);
    result.sql = { cold: cold.sqlStatements, warm: warm.sqlStatements };
    result.sampleMs = { cold: cold.ms, warm: warm.ms };
    say(`latency, 1 connection on instance A, ${tools.seconds} s`);
    result.latency = await run([a.url], 1, tools.seconds);
    say(`throughput, ${CONNECTIONS_EACH} + ${CONNECTIONS_EACH} connections, ${tools.seconds} s`);
    result.throughput = await run([a.url, b.url], CONNECTIONS_EACH, tools.seconds);
    problem = runProblem(result.latency) ?? runProblem(result.throughput);
    if (problem) return fail(problem);
    const peaks = servers.map((s) => tools.peakRssKiB(s.child.pid!)).filter((k): k is number => k !== null);
    result.serverPeakRssKiB = peaks.length ? Math.max(...peaks) : null;
    const cpu = result.throughput.cpu;
    say(
      `p50 ${result.latency.p50} ms (1 conn, A), ${result.throughput.requestsPerSecond} req/s (${CONNECTIONS_EACH}+${CONNECTIONS_EACH} conn); ` +
        `CPU ms/request: both servers ${cpu.serverMsPerRequest ?? "?"}, database ${cpu.databaseMsPerRequest ?? "?"}, client ${cpu.clientMsPerRequest}; ` +
        `other work on the machine ${cpu.otherPercentOfCore ?? "?"} % of a core`,
    );
    return result;
  } finally {
    await Promise.all(servers.map((s) => tools.stopChild(s.child)));
  }
}

/**
 * autocannon against each of `urls` at once, `each` connections per URL, for `seconds`: one measurement of them all
 * (latencies merged before the percentiles; CPU of every server process summed).
 */
async function split(urls: string[], body: string, each: number, seconds: number, pids: { servers: number[]; database: number | null }): Promise<Measurement> {
  const ticksOf = (pid: number | null) => processTicks(pid);
  const before = { servers: pids.servers.map(ticksOf), db: ticksOf(pids.database), client: process.cpuUsage(), machine: machineBusyTicks() };
  const latencies: number[] = [];
  const results = await Promise.all(
    urls.map(
      (url) =>
        new Promise<autocannon.Result>((resolve, reject) => {
          const instance = autocannon(
            {
              url,
              method: "POST",
              headers: { "content-type": "application/json" },
              body,
              connections: each,
              duration: seconds,
              timeout: 30,
              verifyBody: (text) => !String(text).includes('"errors"'),
            },
            (error, result) => (error ? reject(error) : resolve(result)),
          );
          instance.on("response", (_client, status, _bytes, responseTime) => {
            if (status >= 200 && status < 300) latencies.push(responseTime);
          });
        }),
    ),
  );
  const after = { servers: pids.servers.map(ticksOf), db: ticksOf(pids.database), client: process.cpuUsage(before.client), machine: machineBusyTicks() };
  latencies.sort((x, y) => x - y);
  const sum = (pick: (r: autocannon.Result) => number) => results.reduce((s, r) => s + pick(r), 0);
  const ok = sum((r) => r["2xx"]);
  const duration = Math.max(...results.map((r) => r.duration));
  const ticks = (x: number | null, y: number | null) => (x === null || y === null ? null : (y - x) * TICK_MS);
  const serverTicks = pids.servers.map((_, i) => ticks(before.servers[i], after.servers[i]));
  const serverMs = serverTicks.some((t) => t === null) ? null : serverTicks.reduce((s: number, t) => s + t!, 0);
  const dbMs = ticks(before.db, after.db);
  const clientMs = (after.client.user + after.client.system) / 1000;
  const machineMs = ticks(before.machine, after.machine);
  const otherMs = machineMs === null ? null : Math.max(0, machineMs - (serverMs ?? 0) - (dbMs ?? 0) - clientMs);
  const perRequest = (ms: number | null) => (ms === null || ok === 0 ? null : round(ms / ok));
  const errors = sum((r) => r.errors);
  const timeouts = sum((r) => r.timeouts);
  return {
    connections: each * urls.length,
    seconds: duration,
    requests: ok,
    requestsPerSecond: round(ok / duration, 1),
    p50: round(percentile(latencies, 50)),
    p90: round(percentile(latencies, 90)),
    p99: round(percentile(latencies, 99)),
    mean: round(latencies.reduce((s, v) => s + v, 0) / latencies.length),
    max: round(latencies[latencies.length - 1]),
    non2xx: sum((r) => r.non2xx),
    errors: errors - timeouts,
    timeouts,
    withErrors: sum((r) => r.mismatches),
    unfinished: Math.max(0, sum((r) => r.requests.sent) - sum((r) => r.non2xx) - ok - errors),
    cpu: {
      serverMsPerRequest: perRequest(serverMs),
      databaseMsPerRequest: perRequest(dbMs),
      clientMsPerRequest: perRequest(clientMs)!,
      otherPercentOfCore: otherMs === null ? null : round((100 * otherMs) / (duration * 1000), 0),
    },
  };
}

function sampleProblem(sample: Sample): string | null {
  if (sample.status !== 200) return `status ${sample.status}: ${sample.body.slice(0, 500)}`;
  try {
    const parsed = JSON.parse(sample.body) as { data?: Record<string, unknown> | null; errors?: unknown };
    if (parsed.errors) return `errors: ${JSON.stringify(parsed.errors).slice(0, 1000)}`;
    if (!parsed.data || Object.values(parsed.data)[0] == null) return `no data: ${sample.body.slice(0, 200)}`;
    return null;
  } catch {
    return `body is not JSON: ${sample.body.slice(0, 200)}`;
  }
}
