/**
 * Fairness under the limits: which accepted query costs the server most, and
 * how a cheap query fares while four of those are in flight.
 *
 *   npx ts-node --transpile-only bench/fairness.ts --url http://127.0.0.1:4000/graphql [--pid <server pid>] [--seconds 15]
 *
 * Runs against a server already started (as `npm start` runs it, e.g. on the
 * benchmark's national data `mp_bench_1000000`, with NODE_ENV=production).
 * With --pid, the server's CPU time per request (from /proc) picks the worst
 * query, since CPU, not time waiting for the database, is what holds the
 * event loop; without it, wall time does.
 * Each heavy query takes a fresh random filter value on every request, so
 * neither the aggregate cache nor the rollups spare it any work. Prints a JSON
 * report; nothing is sent anywhere but the given URL (127.0.0.1).
 */
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const STATS = "{ projectCount totalInvestment bySector { sector { code name } projectCount totalInvestment } byStage { stage projectCount totalInvestment } }";

/** Heavy candidates; `$x` is replaced by a random number on every request. */
export const CANDIDATES: Record<string, string> = {
  provinceToCountyMinInvestment: `{ region(code: "410000") { code name stats(filter: { minInvestment: $x }) ${STATS} children { code name stats(filter: { minInvestment: $x }) ${STATS} children { code name stats(filter: { minInvestment: $x }) ${STATS} } } } }`,
  countiesByStage: `{ regions(level: COUNTY) { code name stats(filter: { minInvestment: $x }) { projectCount totalInvestment byStage { stage projectCount totalInvestment } } } }`,
  breakdownCountyStage: `{ breakdown(groupBy: [REGION, STAGE], regionLevel: COUNTY, filter: { minInvestment: $x }) { region { code name } stage projectCount totalInvestment } }`,
  pageWithMeetings: `{ projects(first: 100, filter: { minInvestment: $x }, orderBy: { field: INVESTMENT, direction: DESC }) { totalCount nodes { name milestones { stage reachedOn meeting { title venues { region { name } batches { stage stats { projectCount totalInvestment } } } } } } } }`,
  henanMeetings: `{ meetings(hostRegionCode: "410000") { id title batches { stage stats(filter: { minInvestment: $x }) { projectCount totalInvestment bySector { sector { name } projectCount totalInvestment } } } venues { kind region { name } batches { stage stats(filter: { minInvestment: $x }) { projectCount totalInvestment } } } } }`,
};

const CHEAP = `{ region(code: "410100") { name } }`;

interface Answer {
  status: number;
  bytes: number;
  ms: number;
  error?: string;
}

async function ask(url: string, query: string): Promise<Answer> {
  const t0 = performance.now();
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) });
  const text = await response.text();
  const ms = performance.now() - t0;
  let error: string | undefined;
  try {
    error = (JSON.parse(text) as { errors?: Array<{ message: string }> }).errors?.[0]?.message;
  } catch {
    error = "not JSON";
  }
  return { status: response.status, bytes: text.length, ms, error };
}

/** CPU ms (user + system) the process has used, from /proc/<pid>/stat. */
function cpuMs(pid: number | undefined): number {
  if (!pid) return 0;
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

const withValue = (query: string) => query.replaceAll("$x", (Math.random() * 20).toFixed(4));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 10) / 10;
}

async function cheapLatencies(url: string, seconds: number): Promise<{ n: number; errors: number; p50: number; p99: number; max: number }> {
  const end = performance.now() + seconds * 1000;
  const ms: number[] = [];
  let errors = 0;
  while (performance.now() < end) {
    const answer = await ask(url, CHEAP);
    if (answer.status !== 200 || answer.error) errors += 1;
    ms.push(answer.ms);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { n: ms.length, errors, p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.round(Math.max(...ms)) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { url: { type: "string" }, pid: { type: "string" }, seconds: { type: "string", default: "15" } } });
  const pid = values.pid ? Number(values.pid) : undefined;
  const url = values.url ?? "http://127.0.0.1:4000/graphql";
  const seconds = Number(values.seconds);
  const report: Record<string, unknown> = { url, seconds };

  // 1. Each candidate alone, three times with different values: status, size, time.
  const alone: Record<string, Answer & { medianMs: number; serverCpuMs: number }> = {};
  for (const [name, query] of Object.entries(CANDIDATES)) {
    const runs = [];
    const cpu0 = cpuMs(pid);
    for (let i = 0; i < 3; i += 1) runs.push(await ask(url, withValue(query)));
    alone[name] = { ...runs[0], medianMs: percentile(runs.map((r) => r.ms), 50), serverCpuMs: Math.round((cpuMs(pid) - cpu0) / 3) };
  }
  report.alone = alone;
  const accepted = Object.entries(alone).filter(([, a]) => a.status === 200 && !a.error);
  const weight = (a: { medianMs: number; serverCpuMs: number }) => (pid ? a.serverCpuMs : a.medianMs);
  const [worst] = accepted.sort((a, b) => weight(b[1]) - weight(a[1]))[0] ?? [];
  report.worst = worst;

  // 2. The cheap query alone, then with four of the worst in flight all the time.
  report.cheapAlone = await cheapLatencies(url, Math.min(5, seconds));
  if (worst) {
    let running = true;
    const heavy = { done: 0, errors: 0 };
    const loops = Array.from({ length: 4 }, async () => {
      while (running) {
        const answer = await ask(url, withValue(CANDIDATES[worst]));
        heavy.done += 1;
        if (answer.status !== 200 || answer.error) heavy.errors += 1;
      }
    });
    report.cheapWithFourWorst = await cheapLatencies(url, seconds);
    running = false;
    await Promise.all(loops);
    report.heavyDuringThat = heavy;
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
