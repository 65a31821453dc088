/**
 * Putting load on a server and reading what it cost, for bench/run.ts (which hands these to bench/writes.ts and
 * bench/instances.ts as their tools): autocannon runs with the CPU time of the server and of the database server
 * from /proc, single requests with the statement count the server reports, and waiting for the database to go
 * quiet between measurements.
 */
import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

import autocannon from "autocannon";
import { createConnection } from "mysql2/promise";

import { type Measurement, percentile, type Pids, round, type Sample } from "./measurement";
import { machineBusyTicks, processTicks, TICK_MS } from "./proc";

/** The response header the server reports each answer's SQL statement count in (SQL_STATEMENTS_HEADER=true). */
const SQL_HEADER = "x-sql-statements";

/** The local MySQL/MariaDB server process, when the database runs on this machine (for its CPU time). */
export function findDatabasePid(): number | null {
  try {
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const comm = fs.readFileSync(`/proc/${entry}/comm`, "utf8").trim();
        if (comm === "mariadbd" || comm === "mysqld") return Number(entry);
      } catch {
        // gone
      }
    }
  } catch {
    // no /proc
  }
  return null;
}

/** One autocannon run; latencies come from autocannon's per-response timings (µs precision, its histogram keeps whole ms). */
export function cannon(url: string, body: string, connections: number, seconds: number, pids: Pids): Promise<Measurement> {
  const before = { server: processTicks(pids.server), db: processTicks(pids.database), client: process.cpuUsage(), machine: machineBusyTicks() };
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const instance = autocannon(
      {
        url,
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        connections,
        duration: seconds,
        timeout: 30,
        // A GraphQL error can come with status 200: any body naming `errors` counts as a failure.
        verifyBody: (text) => !String(text).includes('"errors"'),
      },
      (error, result) => {
        if (error) return reject(error);
        const after = { server: processTicks(pids.server), db: processTicks(pids.database), client: process.cpuUsage(before.client), machine: machineBusyTicks() };
        latencies.sort((a, b) => a - b);
        const ok = result["2xx"];
        const perRequest = (ms: number | null) => (ms === null || ok === 0 ? null : round(ms / ok));
        const ticks = (a: number | null, b: number | null) => (a === null || b === null ? null : (b - a) * TICK_MS);
        const serverMs = ticks(before.server, after.server);
        const dbMs = ticks(before.db, after.db);
        const clientMs = (after.client.user + after.client.system) / 1000;
        const machineMs = ticks(before.machine, after.machine);
        const otherMs = machineMs === null ? null : Math.max(0, machineMs - (serverMs ?? 0) - (dbMs ?? 0) - clientMs);
        resolve({
          connections,
          seconds: result.duration,
          requests: ok,
          requestsPerSecond: round(ok / result.duration, 1),
          p50: round(percentile(latencies, 50)),
          p90: round(percentile(latencies, 90)),
          p99: round(percentile(latencies, 99)),
          mean: round(latencies.reduce((a, b) => a + b, 0) / latencies.length),
          max: round(latencies[latencies.length - 1]),
          non2xx: result.non2xx,
          errors: result.errors - result.timeouts,
          timeouts: result.timeouts,
          withErrors: result.mismatches,
          unfinished: Math.max(0, result.requests.sent - result.non2xx - ok - result.errors),
          cpu: {
            serverMsPerRequest: perRequest(serverMs),
            databaseMsPerRequest: perRequest(dbMs),
            clientMsPerRequest: perRequest(clientMs)!,
            otherPercentOfCore: otherMs === null ? null : round((100 * otherMs) / (result.duration * 1000), 0),
          },
        });
      },
    );
    instance.on("response", (_client, status, _bytes, responseTime) => {
      if (status >= 200 && status < 300) latencies.push(responseTime);
    });
  });
}

/**
 * Waits until no statement runs on `database` (requests a run cut off at its end keep running in the
 * database), so that one measurement never overlaps the next.
 */
export async function waitForDatabaseIdle(serverUrl: string, database: string): Promise<void> {
  const connection = await createConnection({ uri: serverUrl, connectTimeout: 5000 });
  try {
    const deadline = Date.now() + 180_000;
    for (let first = true; Date.now() < deadline; first = false) {
      const [rows] = await connection.query(
        "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND COMMAND NOT IN ('Sleep', 'Daemon') AND ID <> CONNECTION_ID()",
        [database],
      );
      if (Number((rows as Array<{ n: number }>)[0].n) === 0) return;
      if (first) process.stderr.write(`    (waiting for the statements still running on ${database})\n`);
      await sleep(200);
    }
  } finally {
    await connection.end();
  }
}

/** One request, timed, with the statement count the server reported for it. */
export async function post(url: string, body: string): Promise<Sample> {
  const t0 = performance.now();
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
  const text = await response.text();
  const header = response.headers.get(SQL_HEADER);
  return { status: response.status, body: text, sqlStatements: header === null ? null : Number(header), ms: round(performance.now() - t0) };
}
