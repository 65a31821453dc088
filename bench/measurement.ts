/**
 * What the benchmark measures and reports, shared by bench/run.ts, bench/writes.ts and bench/instances.ts:
 * the shapes of a measurement, of a sampled request, of a scenario's result and of a line of the targets
 * (all of them land in the results JSON), and the arithmetic over them.
 *
 * No imports and no side effects: the writer process (bench/writes.ts --writer) loads it too.
 */

/** Who used the CPU during a run, in ms of CPU per completed request (and the rest of the machine, in % of one core). */
export interface CpuShare {
  serverMsPerRequest: number | null;
  databaseMsPerRequest: number | null;
  clientMsPerRequest: number;
  /** Everything else on the machine during the run, in % of one core: other people's work skews the figures. */
  otherPercentOfCore: number | null;
}

export interface Measurement {
  connections: number;
  seconds: number;
  /** Completed 200 responses. */
  requests: number;
  requestsPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
  non2xx: number;
  /** Connection errors other than timeouts. */
  errors: number;
  timeouts: number;
  /** 200 responses whose body has an `errors` member. */
  withErrors: number;
  /** Requests still running when the run ended (their time is in no percentile). */
  unfinished: number;
  cpu: CpuShare;
}

/** The processes whose CPU time a run counts: the server measured and the local database server (null when not found). */
export interface Pids {
  server: number;
  database: number | null;
}

/** One request sent by hand (the first, the warm one), with the statement count the server reported for it. */
export interface Sample {
  status: number;
  body: string;
  sqlStatements: number | null;
  ms: number;
}

export interface ScenarioResult {
  key: string;
  name: string;
  status: "ok" | "failed" | "n/a";
  problem?: string;
  /** Too slow to measure well (too few requests completed): the figures are bounds at best. */
  slow?: string;
  query?: string;
  responseBytes?: number;
  sql?: { cold: number | null; warm: number | null };
  /** Time of the first request and of the warm sample request, ms. */
  sampleMs?: { cold: number; warm: number };
  latency?: Measurement;
  throughput?: Measurement;
  /** Peak RSS of the server that answered, when it is not the size's main server (aggregate cache off). */
  serverPeakRssKiB?: number | null;
}

/** One line of the targets the run is held against (reported, never enforced). */
export interface Check {
  target: string;
  value: string;
  pass: boolean | null;
  note?: string;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const round = (n: number, digits = 2) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);

/** Wrong answers: a status other than 200, a body with errors, a broken connection. */
export function runProblem(run: Measurement): string | null {
  const bad = [
    run.non2xx && `${run.non2xx} non-2xx`,
    run.withErrors && `${run.withErrors} responses with errors`,
    run.errors && `${run.errors} connection errors`,
  ].filter(Boolean);
  return bad.length ? `${run.connections} conn: ${bad.join(", ")}` : null;
}
