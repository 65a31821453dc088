/**
 * Hostile input against the compiled server (NODE_ENV=production, default limits) on the suite's MariaDB database:
 * the corpus of test/reliability/corpus.ts, slow clients, and thousands of distinct documents. Each answer must have
 * the right status and code, leak nothing, and be small when it is an error; the server must never exit, and its peak
 * RSS must stay under PEAK_RSS_BOUND_MB. Then the limits as configured (a server with every limit small) and the
 * cost on its own (a server with every other limit raised).
 */
import { createHash } from "node:crypto";

import { type CorpusEntry, COST_ONLY_ENV, costOnlyCorpus, hostileCorpus, TIGHT_ENV, tightCorpus } from "./corpus";
import { CHEAP } from "./queries";
import { checkAnswer, MAX_ERROR_BODY_BYTES, sendEntry } from "./support/checks";
import { type Answer, gql, keepAliveAgent, ok, postJson, send, type SocketOutcome, stalledClient } from "./support/http";
import { summarize } from "./support/load";
import { recordResults } from "./support/results";
import { round, RssSampler } from "./support/rss";
import { idle, type ServerChild, sleep, startServer } from "./support/server";

/** Only under test/reliability/jest.config.js, whose global setup makes the database (not under the main `npm test`). */
const describeReliability = process.env.REL_DATABASE_URL ? describe : describe.skip;

/** The bound the server's peak resident set (VmHWM) must stay under through the whole hostile run (heap capped at 256 MB by the start script). */
const PEAK_RSS_BOUND_MB = 400;
/** Default HEADERS_TIMEOUT_MS and BODY_TIMEOUT_MS, and the slack allowed for the server's check interval. */
const DEFAULT_TIMEOUT_MS = 10_000;
const TIMEOUT_SLACK_MS = 5_000;

/**
 * Sends every entry in order and checks each answer. When the server dies, that is a problem of the entry that killed
 * it; the server is started again (when `restart` is given) so that the rest of the corpus is still tried.
 */
async function runCorpus(start: ServerChild, corpus: CorpusEntry[], production: boolean, restart?: () => Promise<ServerChild>) {
  let server = start;
  const problems: string[] = [];
  const crashes: string[] = [];
  const byKind: Record<string, { sent: number; right: number }> = {};
  const times: number[] = [];
  let largestErrorBody = 0;
  for (const entry of corpus) {
    const answer = await sendEntry(server.origin, entry);
    times.push(answer.ms);
    const found = checkAnswer(entry, answer, { production });
    // No answer at all: give a dying server (out of memory, collecting) a moment, so the death is put on this entry.
    if (answer.status === 0 && server.alive()) await Promise.race([server.exited, idle(5000)]);
    if (!server.alive()) {
      const exit = await server.exited;
      const tail = server.stderr().split("\n").filter((l) => /FATAL|heap|Error/i.test(l)).slice(0, 3).join(" / ");
      found.push(`[${entry.kind}] ${entry.name}: THE SERVER EXITED (code ${exit.code}, signal ${exit.signal}): ${tail}`);
      crashes.push(`${entry.name}: ${exit.signal ?? exit.code} ${tail}`);
    }
    problems.push(...found);
    const kind = (byKind[entry.kind] ??= { sent: 0, right: 0 });
    kind.sent += 1;
    if (found.length === 0) kind.right += 1;
    if (answer.status >= 400 || answer.json?.errors) largestErrorBody = Math.max(largestErrorBody, answer.body.length);
    if (!server.alive()) {
      if (!restart) break;
      server = await restart();
    }
  }
  return { problems, crashes, byKind, latency: summarize(times), largestErrorBody, server };
}

async function liveness(server: ServerChild): Promise<Answer> {
  return send(server.origin, { method: "GET", path: "/health/live" }, { timeoutMs: 5000 });
}

describeReliability("hostile input (production defaults)", () => {
  let server: ServerChild;
  /** A second server with the same settings for the slow clients, so that nothing else (a crash) closes their sockets. */
  let slowServer: ServerChild;
  let rss: RssSampler;
  let slowClients: Promise<{ sockets: Record<string, SocketOutcome>; halfSent: SocketOutcome[]; during: Answer }>;
  const figures: Record<string, unknown> = {};
  /** Peaks of server processes that died (and were restarted) during the corpus. */
  const peaks: Array<{ peakRssMb: number; vmHwmMb: number }> = [];

  beforeAll(async () => {
    server = await startServer({ env: { NODE_ENV: "production" } });
    rss = new RssSampler(server.pid).start();
    figures.startSeconds = round(server.startSeconds, 2);
    slowServer = await startServer({ env: { NODE_ENV: "production" } });
    // Slow clients start now and run beside the corpus (they need the default timeouts to pass).
    const head = (length: number) => `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
    const cap = DEFAULT_TIMEOUT_MS + TIMEOUT_SLACK_MS + 1000;
    slowClients = (async () => {
      const [stalledHeaders, dribbledHeaders, stalledBody, dribbledBody, halfSent, during] = await Promise.all([
        stalledClient(slowServer.origin, "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", { capMs: cap }),
        stalledClient(slowServer.origin, "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n", { drip: "X", dripEveryMs: 500, capMs: cap }),
        stalledClient(slowServer.origin, `${head(1000)}{"query":`, { capMs: cap }),
        stalledClient(slowServer.origin, `${head(100_000)}{"query":"`, { drip: "a", dripEveryMs: 500, capMs: cap }),
        Promise.all(Array.from({ length: 100 }, () => stalledClient(slowServer.origin, "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n", { capMs: cap }))),
        // While they all hang, the server answers.
        sleep(3000).then(() => gql(slowServer.origin, CHEAP)),
      ]);
      return { sockets: { stalledHeaders, dribbledHeaders, stalledBody, dribbledBody }, halfSent, during };
    })();
  });

  afterAll(async () => {
    const stats = rss?.stop();
    if (stats) figures.rss = { ...stats, deadProcesses: peaks };
    if (server) {
      const exit = await server.stop("SIGTERM", 15_000);
      figures.exitOnSigterm = { code: exit.code, signal: exit.signal, ms: round(exit.ms, 0), killed: exit.killed };
    }
    if (slowServer) await slowServer.stop("SIGTERM", 15_000);
    recordResults("hostile", figures);
  });

  test("every corpus request gets its status and code; nothing leaks; error answers are small; the server stays up", async () => {
    const corpus = hostileCorpus();
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    const result = await runCorpus(server, corpus, true, async () => {
      // The sampler keeps the peak of the dead process; a new one follows the new process.
      peaks.push(rss.stop());
      server = await startServer({ env: { NODE_ENV: "production" } });
      rss = new RssSampler(server.pid).start();
      return server;
    });
    server = result.server;
    figures.corpus = {
      requests: corpus.length,
      right: Object.values(result.byKind).reduce((n, k) => n + k.right, 0),
      wrong: corpus.length - Object.values(result.byKind).reduce((n, k) => n + k.right, 0),
      byKind: result.byKind,
      latency: result.latency,
      largestErrorBodyBytes: result.largestErrorBody,
      crashes: result.crashes,
      problems: result.problems.slice(0, 150),
    };
    expect(result.problems).toEqual([]);
    expect(server.alive()).toBe(true);
    expect((await liveness(server)).status).toBe(200);
  });

  test(`slow clients (stalled and dribbled headers and bodies, 100 idle half-requests) are cut within the ${DEFAULT_TIMEOUT_MS / 1000} s defaults, and others are still served meanwhile`, async () => {
    const { sockets: single, halfSent, during } = await slowClients;
    const bound = DEFAULT_TIMEOUT_MS + TIMEOUT_SLACK_MS;
    const closedMs = (o: SocketOutcome) => (o.closedAfterMs === null ? null : round(o.closedAfterMs, 0));
    figures.slowClients = {
      stalledHeadersClosedMs: closedMs(single.stalledHeaders),
      dribbledHeadersClosedMs: closedMs(single.dribbledHeaders),
      stalledBodyClosedMs: closedMs(single.stalledBody),
      dribbledBodyClosedMs: closedMs(single.dribbledBody),
      idleHalfRequestsClosed: halfSent.filter((o) => o.closedAfterMs !== null && o.closedAfterMs <= bound).length,
      answerWhileHanging: { status: during.status, ms: round(during.ms, 1) },
      statusLines: [...new Set([...Object.values(single), ...halfSent].map((o) => o.statusLine))],
    };
    expect(`${during.status} ${during.text.slice(0, 200)}`).toMatch(/^200 \{"data":\{"region"/);
    const late: string[] = [];
    for (const name of ["stalledHeaders", "dribbledHeaders", "stalledBody", "dribbledBody"]) {
      const o = single[name];
      if (o.closedAfterMs === null || o.closedAfterMs > bound) late.push(`${name}: ${o.closedAfterMs === null ? "still open" : `closed after ${Math.round(o.closedAfterMs)} ms`}`);
    }
    const idleLate = halfSent.filter((o) => o.closedAfterMs === null || o.closedAfterMs > bound).length;
    if (idleLate) late.push(`${idleLate} of 100 half-sent requests still open after ${bound} ms`);
    expect(late).toEqual([]);
    expect(slowServer.alive()).toBe(true);
  });

  test("thousands of distinct documents (search text as a literal, 99 KB documents, APQ registrations, 900 KB refusals) leave memory bounded", async () => {
    const checkpoints: Array<{ after: string; rssMb: number }> = [];
    const mark = (after: string) => {
      rss.sample();
      checkpoints.push({ after, rssMb: round(rss.lastRssMb, 1) });
    };
    const failures: string[] = [];
    const flood = async (count: number, concurrency: number, make: (i: number) => { body: unknown; expectOk: boolean; expectCode?: string }) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < count && server.alive()) {
            const i = next++;
            const { body, expectOk, expectCode } = make(i);
            const answer = await send(server.origin, postJson(body), { agent: keepAliveAgent, timeoutMs: 30_000 });
            const right = expectOk ? ok(answer) : answer.status === 400 && answer.json?.errors?.[0]?.extensions?.code === expectCode;
            if (!right && failures.length < 20) failures.push(`#${i}: ${answer.status} ${answer.text.slice(0, 160)}`);
            if (!expectOk && answer.body.length > MAX_ERROR_BODY_BYTES) failures.push(`#${i}: error answer of ${answer.body.length} bytes`);
          }
        }),
      );
    };
    mark("start");
    const t0 = performance.now();
    const SEARCHES = 3000;
    await flood(500, 8, (i) => ({ body: { query: `{ projects(first: 5, filter: { nameContains: "s${i}x${(i * 7919) % 10007}" }) { totalCount nodes { name } } }` }, expectOk: true }));
    mark("500 distinct search documents");
    await flood(SEARCHES - 500, 8, (i) => ({ body: { query: `{ projects(first: 5, filter: { nameContains: "t${i + 500}y${(i * 104729) % 10007}" }) { totalCount nodes { name } } }` }, expectOk: true }));
    mark(`${SEARCHES} distinct search documents`);
    const PADDED = 300;
    await flood(PADDED, 4, (i) => {
      const query = `{ region(code: "410100") { name code } } # ${i}`;
      return { body: { query: `${query}\n#${"p".repeat(99_000 - query.length)}\n` }, expectOk: true };
    });
    mark(`${PADDED} distinct 99 KB documents`);
    const APQ = 1000;
    await flood(APQ, 8, (i) => {
      const query = `{ sectors { code n${i}: name } }`;
      return { body: { query, extensions: { persistedQuery: { version: 1, sha256Hash: createHash("sha256").update(query).digest("hex") } } }, expectOk: true };
    });
    mark(`${APQ} persisted query registrations`);
    await flood(30, 2, (i) => ({ body: { query: `{ region(code: "410100") { name } }\n#${"q".repeat(900_000 + i)}\n` }, expectOk: false, expectCode: "QUERY_TOO_LARGE" }));
    mark("30 distinct 900 KB documents");
    const seconds = (performance.now() - t0) / 1000;
    const afterSearches = checkpoints.find((c) => c.after === "500 distinct search documents")!.rssMb;
    const end = checkpoints[checkpoints.length - 1].rssMb;
    figures.distinctDocuments = {
      searchDocuments: SEARCHES,
      paddedDocuments99Kb: PADDED,
      apqRegistrations: APQ,
      refused900Kb: 30,
      seconds: round(seconds, 1),
      checkpoints,
      growthAfterFirst500Mb: round(end - afterSearches, 1),
      vmHwmMb: round(rss.hwmMb, 1),
    };
    expect(server.alive()).toBe(true);
    expect(failures).toEqual([]);
    expect((await liveness(server)).status).toBe(200);
    expect(rss.hwmMb).toBeLessThan(PEAK_RSS_BOUND_MB);
  });

  test("the answers carry x-request-id, no x-sql-statements by default, CORS for any origin without credentials", async () => {
    const answer = await send(server.origin, postJson({ query: CHEAP }, { origin: "https://anywhere.example" }));
    expect(ok(answer)).toBe(true);
    expect(answer.headers["x-request-id"]).toBeTruthy();
    expect(answer.headers["x-sql-statements"]).toBeUndefined();
    expect(answer.headers["access-control-allow-origin"]).toBe("*");
    expect(answer.headers["access-control-allow-credentials"]).toBeUndefined();
    const preflight = await send(server.origin, {
      method: "OPTIONS",
      path: "/graphql",
      headers: { origin: "https://anywhere.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect([200, 204]).toContain(preflight.status);
    expect(preflight.headers["access-control-allow-origin"]).toBe("*");
    expect(String(preflight.headers["access-control-allow-methods"] ?? "")).toMatch(/POST/);
    // helmet-style security headers on every answer (issue 7, production defaults).
    expect(answer.headers["x-content-type-options"]).toBe("nosniff");
  });

  test(`the server never exited and its peak RSS (VmHWM) stayed under ${PEAK_RSS_BOUND_MB} MB`, async () => {
    expect(server.alive()).toBe(true);
    expect((await liveness(server)).status).toBe(200);
    const stats = rss.stop();
    figures.rss = { ...stats, deadProcesses: peaks };
    expect(stats.vmHwmMb).toBeLessThan(PEAK_RSS_BOUND_MB);
    expect(peaks).toEqual([]);
  });
});

describeReliability("limits as configured (every limit small, batching, introspection and x-sql-statements on)", () => {
  let server: ServerChild;
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    server = await startServer({ env: { NODE_ENV: "production", ...TIGHT_ENV } });
  });

  afterAll(async () => {
    if (server) await server.stop("SIGTERM", 15_000);
    recordResults("configuredLimits", figures);
  });

  test("each refusal reports the configured limit and the measured value", async () => {
    const corpus = tightCorpus();
    const result = await runCorpus(server, corpus, true);
    figures.requests = corpus.length;
    figures.problems = result.problems.slice(0, 50);
    expect(result.problems).toEqual([]);
  });

  test("a batch runs when BATCH_REQUESTS=true; x-sql-statements is sent when SQL_STATEMENTS_HEADER=true; CORS_ORIGINS is honoured", async () => {
    const batch = await send(server.origin, postJson([{ query: CHEAP }, { query: "{ __typename }" }]));
    expect(batch.status).toBe(200);
    expect(Array.isArray(batch.json)).toBe(true);
    expect(batch.json).toHaveLength(2);
    expect(batch.json[0].data.region.name).toBe("郑州市");
    const single = await gql(server.origin, CHEAP);
    expect(ok(single)).toBe(true);
    expect(single.headers["x-sql-statements"]).toMatch(/^\d+$/);
    const allowed = await send(server.origin, { method: "OPTIONS", path: "/graphql", headers: { origin: "https://dash.example.org", "access-control-request-method": "POST" } });
    expect(allowed.headers["access-control-allow-origin"]).toBe("https://dash.example.org");
    const other = await send(server.origin, postJson({ query: CHEAP }, { origin: "https://evil.example" }));
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
  });

  test("BODY_TIMEOUT_MS=2000 and HEADERS_TIMEOUT_MS=2000 cut stalled requests within about 2 s", async () => {
    const cap = 2000 + TIMEOUT_SLACK_MS + 1000;
    const [headers, body] = await Promise.all([
      stalledClient(server.origin, "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n", { capMs: cap }),
      stalledClient(server.origin, 'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"query":', { capMs: cap }),
    ]);
    figures.stalledHeadersClosedMs = headers.closedAfterMs === null ? null : round(headers.closedAfterMs, 0);
    figures.stalledBodyClosedMs = body.closedAfterMs === null ? null : round(body.closedAfterMs, 0);
    expect(headers.closedAfterMs).not.toBeNull();
    expect(headers.closedAfterMs!).toBeLessThanOrEqual(2000 + TIMEOUT_SLACK_MS);
    expect(body.closedAfterMs).not.toBeNull();
    expect(body.closedAfterMs!).toBeLessThanOrEqual(2000 + TIMEOUT_SLACK_MS);
    expect(server.alive()).toBe(true);
  });
});

describeReliability("cost alone (every other limit raised)", () => {
  let server: ServerChild;
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    server = await startServer({ env: { NODE_ENV: "production", ...COST_ONLY_ENV } });
  });

  afterAll(async () => {
    if (server) await server.stop("SIGTERM", 15_000);
    recordResults("costAlone", figures);
  });

  test("1,000 distinct filters and 300 province-to-county aliases are refused as QUERY_TOO_COMPLEX, before any SQL", async () => {
    const corpus = costOnlyCorpus();
    const result = await runCorpus(server, corpus, true);
    figures.requests = corpus.length;
    figures.problems = result.problems.slice(0, 50);
    figures.latency = result.latency;
    expect(result.problems).toEqual([]);
    expect(server.alive()).toBe(true);
    // Refused before execution: not one SQL statement ran for them.
    const statements: string[] = [];
    for (const entry of corpus.slice(0, 2)) {
      const answer = await sendEntry(server.origin, entry);
      statements.push(String(answer.headers["x-sql-statements"] ?? "absent"));
    }
    figures.sqlStatementsOfRefusals = statements;
    expect(statements.every((s) => s === "0" || s === "absent")).toBe(true);
  });
});

describeReliability("development mode (NODE_ENV=development) still sends no stack trace and no path", () => {
  let server: ServerChild;
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    server = await startServer({ env: { NODE_ENV: "development" } });
  });

  afterAll(async () => {
    if (server) await server.stop("SIGTERM", 15_000);
    recordResults("developmentMode", figures);
  });

  test("errors of every kind carry no stacktrace and no absolute path", async () => {
    const kinds = new Set(["syntax", "validation", "invalid JSON", "content type", "operations", "values", "http body", "methods"]);
    const corpus = hostileCorpus().filter((e) => kinds.has(e.kind) || (e.kind === "variables" && !/100,000/.test(e.name)));
    const result = await runCorpus(server, corpus, false);
    // Only what development mode could change: stack traces and paths (the codes are the production run's business).
    const leaks = result.problems.filter((p) => /leaks internals|stacktrace/.test(p));
    figures.requests = corpus.length;
    figures.leaks = leaks.slice(0, 50);
    expect(leaks).toEqual([]);
    expect(server.alive()).toBe(true);
  });
  test("introspection is on by default in development, and still bounded by MAX_DEPTH (1,000-deep ofType refused)", async () => {
    const allowed = await gql(server.origin, "{ __schema { queryType { name } } }");
    expect(ok(allowed)).toBe(true);
    const deep = `{ __type(name: "Query") { fields { type { ${"ofType { ".repeat(1000)}name${" }".repeat(1000)} } } } }`;
    const answer = await gql(server.origin, deep);
    figures.deepIntrospection = { status: answer.status, code: answer.json?.errors?.[0]?.extensions?.code, measured: answer.json?.errors?.[0]?.extensions?.measured, ms: round(answer.ms, 1) };
    expect(answer.status).toBe(400);
    expect(answer.json?.errors?.[0]?.extensions).toMatchObject({ code: "QUERY_TOO_DEEP", limit: 15, measured: 1004 });
    expect(server.alive()).toBe(true);
  });
});

describeReliability("REQUEST_TIMEOUT_MS=200 (cost and answer size raised so that a slow query is accepted)", () => {
  let server: ServerChild;
  const figures: Record<string, unknown> = {};
  /** meetings → batches → projects(first: 50) → milestones → meeting, twice: about 2.5 MB and half a second of work. */
  const SLOW = "{ meetings { batches { projects(first: 50) { nodes { milestones { meeting { batches { projects(first: 50) { nodes { milestones { meeting { title } } } } } } } } } } } }";

  beforeAll(async () => {
    server = await startServer({ env: { NODE_ENV: "production", REQUEST_TIMEOUT_MS: "200", MAX_COST: "1000000000", MAX_RESPONSE_BYTES: "100000000" } });
  });

  afterAll(async () => {
    if (server) await server.stop("SIGTERM", 15_000);
    recordResults("requestTimeout", figures);
  });

  test("a request that takes longer is answered 503 REQUEST_TIMEOUT, not 200 late; the server goes on", async () => {
    const answers: Answer[] = [];
    for (let i = 0; i < 3; i++) answers.push(await send(server.origin, postJson({ query: SLOW }), { timeoutMs: 60_000 }));
    figures.answers = answers.map((a) => ({ status: a.status, code: a.json?.errors?.[0]?.extensions?.code ?? null, ms: round(a.ms, 0), bytes: a.body.length }));
    // At least one was cut by the timeout, and none that ran past it (with a margin) came back 200.
    expect(answers.filter((a) => a.status === 503 && a.json?.errors?.[0]?.extensions?.code === "REQUEST_TIMEOUT").length).toBeGreaterThan(0);
    for (const a of answers.filter((a) => a.ms > 200 + 100)) expect({ status: a.status, code: a.json?.errors?.[0]?.extensions?.code }).toEqual({ status: 503, code: "REQUEST_TIMEOUT" });
    expect(server.alive()).toBe(true);
    expect(ok(await gql(server.origin, CHEAP))).toBe(true);
  });
});
