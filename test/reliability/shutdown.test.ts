/**
 * Shutdown: SIGTERM under load with requests in flight (large province-to-county answers, and uploads still being
 * sent) lets every started answer finish whole, refuses new connections, closes the pool and exits 0 within
 * SHUTDOWN_TIMEOUT_MS; SIGINT likewise; a request that never finishes does not hold the exit past the timeout; and
 * SIGTERM to `npm start` stops the server it started.
 */
import fs from "node:fs";
import http from "node:http";
import net from "node:net";

import { provinceUnderFilters } from "./corpus";
import { provinceToCounty } from "./queries";
import { type Answer, connectionRefused, ok, postJson, send } from "./support/http";
import { adminConnection, close, createDatabaseUser, type DatabaseUser, globalStatus, scratchDatabaseName } from "./support/mariadb";
import { recordResults } from "./support/results";
import { round } from "./support/rss";
import { commandLine, descendants, idle, type ServerChild, safeKill, sleep, startServer } from "./support/server";

/** Only under test/reliability/jest.config.js, whose global setup makes the database (not under the main `npm test`). */
const describeReliability = process.env.REL_DATABASE_URL ? describe : describe.skip;

const SHUTDOWN_TIMEOUT_MS = 10_000;
const EXIT_SLACK_MS = 1500;

/** An upload sent in two halves: the second only when `resume` settles. Resolves with the whole answer read off the socket. */
function splitUpload(origin: string, body: string, resume: Promise<void>): Promise<{ status: number; complete: boolean; json: any; error?: string; sentAll: boolean }> {
  const url = new URL(origin);
  const bytes = Buffer.from(body);
  const head = `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n`;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let sentAll = false;
    const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => {
      socket.write(head);
      socket.write(bytes.subarray(0, bytes.length >> 1));
      void resume.then(() => {
        if (!socket.destroyed) {
          socket.write(bytes.subarray(bytes.length >> 1));
          sentAll = true;
        }
      });
    });
    let error: string | undefined;
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const end = text.indexOf("\r\n\r\n");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const length = Number(/content-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1] ?? NaN);
      const payload = end >= 0 ? Buffer.concat(chunks).subarray(Buffer.byteLength(text.slice(0, end + 4))) : Buffer.alloc(0);
      let json: any;
      try {
        json = JSON.parse(payload.toString("utf8"));
      } catch {
        json = undefined;
      }
      resolve({ status, complete: Number.isFinite(length) ? payload.length === length : json !== undefined, json, error, sentAll });
    });
    setTimeout(() => socket.destroy(), 30_000).unref();
  });
}

interface Flight {
  start: number;
  end: number;
  answer: Answer;
}

function processState(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return null;
  }
}

/** Alive and not a zombie. */
function running(pid: number): boolean {
  const state = processState(pid);
  return state !== null && state !== "Z" && state !== "X";
}

describeReliability("shutdown", () => {
  const figures: Record<string, unknown> = {};
  let user: DatabaseUser | null = null;
  const servers: ServerChild[] = [];
  const strays: number[] = [];

  afterAll(async () => {
    for (const server of servers) if (server.alive()) await server.stop("SIGKILL", 5000);
    for (const pid of strays) if (running(pid)) safeKill(pid, "SIGKILL");
    if (user) await user.drop();
    recordResults("shutdown", figures);
  });

  test(`SIGTERM under load: every started answer arrives whole, new connections are refused, the pool is closed, exit 0 within ${SHUTDOWN_TIMEOUT_MS / 1000} s`, async () => {
    user = await createDatabaseUser(scratchDatabaseName());
    const server = await startServer({ env: { NODE_ENV: "production", DATABASE_URL: user.url } });
    servers.push(server);
    // Warm up (compiled documents, trees), then load: 12 loops of large answers, each on a keep-alive connection of
    // its own (accepted long before the signal: a connection still in the listen backlog when the listener closes is
    // reset by the kernel, which is "refused", not "cut").
    for (let i = 0; i < 3; i++) expect(ok(await send(server.origin, postJson({ query: provinceToCounty() })))).toBe(true);
    const agents = Array.from({ length: 12 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    // Three uploads, opened now and half sent; the rest follows 800 ms after the signal.
    let resume!: () => void;
    const resumed = new Promise<void>((r) => (resume = r));
    const uploads = Array.from({ length: 3 }, () => splitUpload(server.origin, JSON.stringify({ query: provinceToCounty() }), resumed));
    const flights: Flight[] = [];
    let tSignal = Infinity;
    let stopped = false;
    let salt = 0;
    const worker = async (w: number) => {
      while (!stopped) {
        const query = w % 2 === 0 ? provinceToCounty() : provinceUnderFilters(2, salt++);
        const start = performance.now();
        const answer = await send(server.origin, postJson({ query }), { agent: agents[w], timeoutMs: 30_000 });
        flights.push({ start, end: performance.now(), answer });
        if (start > tSignal && answer.status === 0) await sleep(20);
      }
    };
    const workers = Array.from({ length: 12 }, (_, w) => worker(w));
    await sleep(2000);
    const connectionsBefore = await user.connections();
    const admin = await adminConnection();
    const abortedClients0 = await globalStatus(admin, "Aborted_clients");
    tSignal = performance.now();
    server.proc.kill("SIGTERM");
    // Poll the port until it refuses connections (the listener closed), while the uploads hold the drain open.
    let listenerClosedMs: number | null = null;
    while (performance.now() - tSignal < 800 && server.alive()) {
      if (await connectionRefused(server.origin, 500)) {
        listenerClosedMs = performance.now() - tSignal;
        break;
      }
      await sleep(25);
    }
    const refusedWhileDraining = listenerClosedMs !== null && server.alive();
    await sleep(Math.max(0, 800 - (performance.now() - tSignal)));
    resume();
    const exit = await server.exited;
    const exitMs = exit.at - tSignal;
    stopped = true;
    await Promise.all(workers);
    for (const agent of agents) agent.destroy();
    const uploaded = await Promise.all(uploads);
    const refusedAfter = await connectionRefused(server.origin);
    await sleep(500);
    const connectionsAfter = await user.connections();
    const abortedClients1 = await globalStatus(admin, "Aborted_clients");
    await close(admin);

    const before = flights.filter((f) => f.start < tSignal - 50);
    const inFlightAtSignal = flights.filter((f) => f.start < tSignal && f.end > tSignal);
    const after = flights.filter((f) => f.start >= tSignal);
    const brokenBefore = before.filter((f) => !ok(f.answer));
    const cut = flights.filter((f) => f.answer.status !== 0 && (f.answer.cut || f.answer.json === undefined));
    const afterAnswered = after.filter((f) => f.answer.status !== 0);
    figures.sigtermUnderLoad = {
      requests: flights.length,
      inFlightAtSignal: inFlightAtSignal.length,
      inFlightAnsweredWhole: inFlightAtSignal.filter((f) => ok(f.answer)).length,
      halfSentUploads: uploaded.length,
      halfSentUploadsAnsweredWhole: uploaded.filter((u) => u.status === 200 && u.complete && u.json?.data).length,
      sentAfterSignal: after.length,
      sentAfterSignalAnswered: afterAnswered.length,
      sentAfterSignalRefused: after.filter((f) => f.answer.status === 0).length,
      cutMidBody: cut.length,
      // How long before the signal each request that got no answer had been sent (ms).
      unansweredSentBeforeSignalAgesMs: before.filter((f) => !ok(f.answer)).map((f) => round(tSignal - f.start, 0)),
      uploads: uploaded.map((u) => ({ status: u.status, complete: u.complete, error: u.error ?? null })),
      refusedWhileDraining,
      listenerClosedMs: listenerClosedMs === null ? null : round(listenerClosedMs, 0),
      refusedAfterExit: refusedAfter,
      exitCode: exit.code,
      exitSignal: exit.signal,
      exitMs: round(exitMs, 0),
      dbConnectionsBefore: connectionsBefore,
      dbConnectionsAfter: connectionsAfter,
      abortedClientsDelta: abortedClients1 - abortedClients0,
      logSaysShuttingDown: /shutting down|shutdown/i.test(server.logs.text()),
    };
    expect(inFlightAtSignal.length).toBeGreaterThan(0);
    expect(brokenBefore.slice(0, 3).map((f) => `${f.answer.status} ${f.answer.error ?? ""} ${f.answer.text.slice(0, 120)}`)).toEqual([]);
    expect(cut.slice(0, 3).map((f) => `${f.answer.status} ${f.answer.error ?? ""} ${f.answer.body.length} bytes`)).toEqual([]);
    for (const u of uploaded) expect({ status: u.status, complete: u.complete, data: Boolean(u.json?.data), sentAll: u.sentAll }).toEqual({ status: 200, complete: true, data: true, sentAll: true });
    // Sent after the signal: refused, or answered whole (200, or 503 while shutting down) — never cut.
    for (const f of afterAnswered) expect([200, 503]).toContain(f.answer.status);
    // The listener is closed while requests are still being drained (the figure says how soon, with the loop busy).
    expect(refusedWhileDraining).toBe(true);
    expect(refusedAfter).toBe(true);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThanOrEqual(SHUTDOWN_TIMEOUT_MS + EXIT_SLACK_MS);
    expect(connectionsBefore).toBeGreaterThan(0);
    expect(connectionsAfter).toBe(0);
    // Connections closed with COM_QUIT (the pool was closed), not dropped by the process dying.
    expect(abortedClients1 - abortedClients0).toBe(0);
  });

  test("SIGINT stops it the same way: exit 0, port closed", async () => {
    const server = await startServer({ env: { NODE_ENV: "production" } });
    servers.push(server);
    expect(ok(await send(server.origin, postJson({ query: "{ __typename }" })))).toBe(true);
    const t = performance.now();
    server.proc.kill("SIGINT");
    const exit = await server.exited;
    figures.sigint = { exitCode: exit.code, exitSignal: exit.signal, exitMs: round(exit.at - t, 0) };
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.at - t).toBeLessThanOrEqual(SHUTDOWN_TIMEOUT_MS + EXIT_SLACK_MS);
    expect(await connectionRefused(server.origin)).toBe(true);
  });

  test("a request that never finishes does not hold the exit past SHUTDOWN_TIMEOUT_MS=2000", async () => {
    const server = await startServer({ env: { NODE_ENV: "production", SHUTDOWN_TIMEOUT_MS: "2000" } });
    servers.push(server);
    // Headers and half a body, and then nothing: a request in flight that will never complete.
    const never = splitUpload(server.origin, JSON.stringify({ query: provinceToCounty() }), new Promise<void>(() => undefined));
    await sleep(300);
    const t = performance.now();
    server.proc.kill("SIGTERM");
    const exit = await server.exited;
    const stalled = await never;
    figures.stalledRequestAtShutdown = { exitCode: exit.code, exitSignal: exit.signal, exitMs: round(exit.at - t, 0), stalledRequestStatus: stalled.status };
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.at - t).toBeLessThanOrEqual(2000 + EXIT_SLACK_MS);
  });

  test("SIGTERM to `npm start` stops the server it started, and npm exits", async () => {
    const npm = await startServer({ env: { NODE_ENV: "production" }, viaNpm: true });
    servers.push(npm);
    const tree = descendants(npm.pid);
    strays.push(...tree);
    const nodePids = tree.filter((pid) => /dist\/src\/main\.js/.test(commandLine(pid) ?? ""));
    expect(ok(await send(npm.origin, postJson({ query: "{ __typename }" })))).toBe(true);
    const t = performance.now();
    npm.proc.kill("SIGTERM");
    const exit = await Promise.race([npm.exited, idle(SHUTDOWN_TIMEOUT_MS + 5000).then(() => null)]);
    await sleep(300);
    const leftovers = tree.filter(running);
    const refused = await connectionRefused(npm.origin);
    figures.npmStart = {
      npmExitCode: exit?.code ?? null,
      npmExitSignal: exit?.signal ?? null,
      npmExitMs: exit ? round(exit.at - t, 0) : null,
      serverPids: nodePids,
      processesLeft: leftovers.map((pid) => `${pid} ${commandLine(pid)}`),
      portRefusedAfter: refused,
    };
    expect(nodePids.length).toBe(1);
    expect(exit).not.toBeNull();
    expect(leftovers).toEqual([]);
    expect(refused).toBe(true);
    expect(exit!.code).toBe(0);
  });
});
