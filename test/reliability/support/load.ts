import autocannon from "autocannon";

import { type Answer, gql, keepAliveAgent } from "./http";
import { round } from "./rss";

/** One request of a mixed workload: a name and the GraphQL query (POSTed as JSON). */
export interface WorkItem {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
}

export interface LoadResult {
  connections: number;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  /** Socket errors and timeouts. */
  errors: number;
  timeouts: number;
  /** 2xx answers whose body names `errors` (GraphQL errors with status 200). */
  withGraphqlErrors: number;
  statusCounts: Record<string, number>;
}

/**
 * `connections` connections for `seconds`, each cycling through the work items (POST /graphql, keep-alive),
 * on 127.0.0.1 only. Latency percentiles are over every answer.
 */
export function runLoad(url: string, items: WorkItem[], connections: number, seconds: number): Promise<LoadResult> {
  if (!/^http:\/\/127\.0\.0\.1:/.test(url)) throw new Error(`load only on 127.0.0.1 (got ${url})`);
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const statusCounts: Record<string, number> = {};
    const instance = autocannon(
      {
        url,
        method: "POST",
        headers: { "content-type": "application/json" },
        connections,
        duration: seconds,
        timeout: 30,
        requests: items.map((item) => ({ method: "POST", body: JSON.stringify({ query: item.query, variables: item.variables }) })),
        verifyBody: (text) => !String(text).includes('"errors"'),
      },
      (error, result) => {
        if (error) return reject(error);
        latencies.sort((a, b) => a - b);
        const n = result["2xx"];
        resolve({
          connections,
          seconds: result.duration,
          requests: latencies.length,
          requestsPerSecond: round(n / result.duration, 1),
          p50Ms: round(percentile(latencies, 50), 2),
          p90Ms: round(percentile(latencies, 90), 2),
          p99Ms: round(percentile(latencies, 99), 2),
          maxMs: round(latencies[latencies.length - 1] ?? 0, 2),
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          withGraphqlErrors: result.mismatches,
          statusCounts,
        });
      },
    );
    instance.on("response", (_client: unknown, status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
      statusCounts[status] = (statusCounts[status] ?? 0) + 1;
    });
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Latency summary of a list of ms figures. */
export function summarize(ms: number[]): { count: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50Ms: round(percentile(sorted, 50), 2),
    p90Ms: round(percentile(sorted, 90), 2),
    p99Ms: round(percentile(sorted, 99), 2),
    maxMs: round(sorted[sorted.length - 1] ?? NaN, 2),
  };
}

/**
 * `concurrency` loops each sending `next()`'s request until `stop()` says so (or `maxRequests` in all), on a
 * keep-alive agent; every answer goes to `onAnswer`. Bounded in requests and time.
 */
export async function loop(
  origin: string,
  next: (i: number) => WorkItem,
  options: { concurrency: number; stop: () => boolean; maxRequests: number; onAnswer: (item: WorkItem, answer: Answer, startedAt: number) => void; pauseMs?: number },
): Promise<number> {
  let sent = 0;
  const worker = async () => {
    while (!options.stop() && sent < options.maxRequests) {
      const item = next(sent++);
      const startedAt = performance.now();
      const answer = await gql(origin, item.query, item.variables, { agent: keepAliveAgent, timeoutMs: 30_000 });
      options.onAnswer(item, answer, startedAt);
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return sent;
}
