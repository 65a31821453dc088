/**
 * How the server behaves for the people who run it and the browsers that
 * call it (issue 7): request ids on every answer, CORS, security headers,
 * health and metrics, the offline landing page, no internals in errors,
 * client input quoted only in part, production defaults (introspection,
 * suggestions, batching, the SQL header) and the HTTP time limits, all over
 * HTTP against the real server.
 */
import net from "node:net";

import { DB_KINDS } from "../support/databases";
import { type Answer, fetchAnswer } from "../support/answer";
import { startTestServer, type TestServer } from "../support/test-server";

function postJson(server: TestServer, payload: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return fetchAnswer(server.url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(payload) });
}

/** The server's root URL (without /graphql). */
const root = (server: TestServer) => server.url.replace(/\/graphql$/, "");

/** The server's TCP port. */
const portOf = (server: TestServer) => Number(new URL(server.url).port);

/** Request ids the server makes (randomUUID). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The sum of a Prometheus metric's samples whose labels include `labels` (0 when there is none). */
function sample(metrics: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let found: number | undefined;
  for (const line of metrics.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const text = match[2] ?? "";
    if (Object.entries(labels).every(([k, v]) => text.includes(`${k}="${v}"`))) found = (found ?? 0) + Number(match[3]);
  }
  return found;
}

async function metrics(server: TestServer): Promise<string> {
  const res = await fetch(`${root(server)}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
  return res.text();
}

/** Metrics are counted when an answer has gone out; polls until `check` holds (or returns the last text). */
async function metricsWhen(server: TestServer, check: (text: string) => boolean): Promise<string> {
  let text = "";
  for (let i = 0; i < 20; i += 1) {
    text = await metrics(server);
    if (check(text)) return text;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return text;
}

/**
 * Writes `raw` on a plain TCP connection and collects what comes back until
 * the server closes it (or `waitMs` passes): for requests fetch cannot send,
 * such as a body that stops half way.
 */
function rawExchange(port: number, raw: string, waitMs: number): Promise<{ received: string; closed: boolean; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, "127.0.0.1");
    let received = "";
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received, closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (received += chunk));
    socket.on("close", () => finish(true));
    socket.on("error", (error) => (settled ? undefined : reject(error)));
    socket.write(raw);
  });
}

/** A POST announcing a 100-byte body and sending only its first 10 bytes. */
const STALLED_POST = (port: number) =>
  `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":"`;

/** A client string of 90 KB and the longest run of it an answer may quote (QUOTE_MAX of src/common/errors.ts). */
const HUGE = "Q".repeat(90_000);
const QUOTE_MAX = 64;
const longestRun = (text: string) => Math.max(0, ...(text.match(/Q+/g) ?? []).map((run) => run.length));

/** Documents whose errors would all suggest a name in development. */
const MISSPELLED = [
  `{ regin(code: "410000") { name } }`, // a field
  `{ region(cod: "410000") { name } }`, // an argument
  `{ stats(filter: { stages: [SIGNE] }) { projectCount } }`, // an enum value
  `{ stats(filter: { stage: [SIGNED] }) { projectCount } }`, // an input field
];

describe.each(DB_KINDS)("operating on %s", (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind, { MAX_DOCUMENT_BYTES: "200000" });
  });
  afterAll(async () => server?.close());

  it("sends x-request-id with every answer: GraphQL, CSV, health, metrics, 404, refused bodies", async () => {
    const base = root(server);
    const answers = [
      await postJson(server, { query: `{ region(code: "410000") { name } }` }),
      await fetchAnswer(`${server.url}?query=${encodeURIComponent("{ __typename }")}`),
      await fetchAnswer(`${base}/export/breakdown.csv?groupBy=STAGE`),
      await fetchAnswer(`${base}/health/live`),
      await fetchAnswer(`${base}/health/ready`),
      await fetchAnswer(`${base}/metrics`),
      await fetchAnswer(`${base}/no/such/path`),
      await fetchAnswer(server.url, { method: "POST", headers: { "content-type": "application/json" }, body: "{ not json" }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200, 404, 400]);
    const ids = answers.map((a) => a.headers.get("x-request-id"));
    for (const id of ids) expect(id).toMatch(UUID);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("echoes a sane incoming x-request-id and replaces one that is too long or has odd characters", async () => {
    const query = { query: "{ __typename }" };
    const sane = "req-2026.11_26:abc-XYZ";
    expect((await postJson(server, query, { "x-request-id": sane })).headers.get("x-request-id")).toBe(sane);
    expect((await fetchAnswer(`${root(server)}/health/live`, { headers: { "x-request-id": sane } })).headers.get("x-request-id")).toBe(sane);
    for (const insane of ["x".repeat(65), "a b", "<script>", "id;drop", "ä-id"]) {
      const id = (await postJson(server, query, { "x-request-id": insane })).headers.get("x-request-id");
      expect([insane, id]).toEqual([insane, expect.stringMatching(UUID)]);
    }
    expect((await postJson(server, query, { "x-request-id": "x".repeat(64) })).headers.get("x-request-id")).toBe("x".repeat(64));
  });

  it("answers a CORS preflight 204 for any origin, without credentials", async () => {
    const res = await fetchAnswer(server.url, {
      method: "OPTIONS",
      headers: { origin: "https://dash.example.gov.cn", "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(",");
    expect(allowed).toEqual(expect.arrayContaining(["content-type", "authorization"]));
    // The answer to the real request is readable from another origin, with its request id.
    const real = await postJson(server, { query: "{ __typename }" }, { origin: "https://dash.example.gov.cn" });
    expect(real.headers.get("access-control-allow-origin")).toBe("*");
    expect(real.headers.get("access-control-expose-headers")).toContain("x-request-id");
  });

  it("sends helmet's security headers, with a Content-Security-Policy that allows nothing on the API", async () => {
    for (const res of [await postJson(server, { query: "{ __typename }" }), await fetchAnswer(`${root(server)}/health/live`), await fetchAnswer(`${root(server)}/export/breakdown.csv?groupBy=STAGE`)]) {
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp.split(";")[0]).toBe("default-src 'none'");
      expect(csp).not.toMatch(/script-src|unsafe-inline|unsafe-eval/);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-powered-by")).toBeNull();
    }
  });

  it("reports the process on /health/live and the database on /health/ready, as JSON never cached", async () => {
    const live = await fetchAnswer(`${root(server)}/health/live`);
    expect(live.status).toBe(200);
    expect(live.headers.get("content-type")).toMatch(/^application\/json/);
    expect(live.headers.get("cache-control")).toBe("no-store");
    expect(live.body).toEqual({ status: "ok" });
    const ready = await fetchAnswer(`${root(server)}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.headers.get("cache-control")).toBe("no-store");
    expect(ready.body).toEqual({ status: "ok", database: "up" });
  });

  it("serves Prometheus metrics: requests by route, errors by code, heap, event-loop lag, db_up", async () => {
    await postJson(server, { query: `query Named { region(code: "410000") { name } }` });
    const before = await metrics(server);
    const badInput = (text: string) => sample(text, "graphql_errors_total", { code: "BAD_USER_INPUT" }) ?? 0;
    const tooDeep = (text: string) => sample(text, "graphql_errors_total", { code: "QUERY_TOO_DEEP" }) ?? 0;
    const failed = await postJson(server, { query: `{ projects(first: 0) { totalCount } }` });
    expect(failed.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    const deep = await postJson(server, { query: `{ region(code: "410102") { ${"parent { ".repeat(20)}name${" }".repeat(20)} } }` });
    expect(deep.body.errors[0].extensions.code).toBe("QUERY_TOO_DEEP");
    const after = await metricsWhen(server, (text) => badInput(text) >= badInput(before) + 1 && tooDeep(text) >= tooDeep(before) + 1);
    expect(badInput(after)).toBe(badInput(before) + 1);
    expect(tooDeep(after)).toBe(tooDeep(before) + 1);
    expect(sample(after, "http_requests_total", { route: "/graphql", operation: "Named", outcome: "ok" })).toBeGreaterThanOrEqual(1);
    expect(sample(after, "http_requests_total", { route: "/graphql", outcome: "error" })).toBeGreaterThanOrEqual(2);
    expect(sample(after, "http_request_duration_seconds_count", { route: "/graphql" })).toBeGreaterThanOrEqual(3);
    expect(sample(after, "nodejs_heap_size_used_bytes")).toBeGreaterThan(1_000_000);
    expect(sample(after, "nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);
    expect(sample(after, "nodejs_eventloop_lag_p99_seconds")).toBeGreaterThanOrEqual(0);
    expect(sample(after, "db_up")).toBe(1);
    // The raw path never becomes a label (a client could vary it without end).
    await fetchAnswer(`${root(server)}/random-${Date.now()}`);
    expect(await metricsWhen(server, (text) => text.includes('route="(other)"'))).not.toMatch(/route="\/random-/);
  });

  it("counts refusals made before GraphQL runs by their code too: QUERY_TOO_LARGE, PAYLOAD_TOO_LARGE, a body that is not JSON", async () => {
    const codes = ["QUERY_TOO_LARGE", "PAYLOAD_TOO_LARGE", "BAD_REQUEST"];
    const count = (text: string) => Object.fromEntries(codes.map((code) => [code, sample(text, "graphql_errors_total", { code }) ?? 0]));
    const before = count(await metrics(server));
    const tooLarge = await postJson(server, { query: `{ __typename }\n#${"x".repeat(200_000)}` });
    const tooBig = await postJson(server, { query: "{ __typename }", variables: { pad: "x".repeat(1_000_000) } });
    const notJson = await fetchAnswer(server.url, { method: "POST", headers: { "content-type": "application/json" }, body: "{ not json" });
    expect([tooLarge, tooBig, notJson].map((res) => [res.status, res.body.errors[0].extensions.code])).toEqual([
      [400, "QUERY_TOO_LARGE"],
      [413, "PAYLOAD_TOO_LARGE"],
      [400, "BAD_REQUEST"],
    ]);
    const expected = Object.fromEntries(codes.map((code) => [code, before[code] + 1]));
    const after = await metricsWhen(server, (text) => codes.every((code) => count(text)[code] >= expected[code]));
    expect(count(after)).toEqual(expected);
  });

  it("shows browsers a landing page without script that links to the offline explorer", async () => {
    const res = await fetchAnswer(server.url, { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.text).toMatch(/<a href="\/explorer">/);
    expect(res.text.toLowerCase()).not.toContain("<script");
    expect(res.text).not.toMatch(/cdn\.|embeddable-sandbox/);
    const explorer = await fetchAnswer(`${root(server)}/explorer`);
    expect(explorer.status).toBe(200);
    expect(explorer.headers.get("content-type")).toMatch(/^text\/html/);
  });

  it("sends no stack trace and no server path with any error (EXPOSE_STACKTRACES is off by default)", async () => {
    const answers = [
      await postJson(server, { query: `{ projects(first: 0) { totalCount } }` }), // BAD_USER_INPUT from a resolver
      await postJson(server, { query: `{ stats(filter: { regionCodes: ["999999"] }) { projectCount } }` }), // NOT_FOUND
      await postJson(server, { query: `{ regin { name } }` }), // validation
      await postJson(server, { query: `{ region(code: ` }), // syntax
      await postJson(server, { query: `query($n: Int) { projects(first: $n) { totalCount } }`, variables: { n: "x" } }), // variables
      await fetchAnswer(server.url, { method: "POST", headers: { "content-type": "application/json" }, body: "{ not json" }),
    ];
    expect(answers[0].body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    for (const res of answers) {
      expect(res.body.errors.length).toBeGreaterThan(0);
      for (const error of res.body.errors) expect(error.extensions?.stacktrace).toBeUndefined();
      expect(res.text).not.toContain(process.cwd());
      expect(res.text).not.toContain("node_modules");
      expect(res.text).not.toMatch(/\n\s+at |\.ts:\d+/);
    }
  });

  it("quotes at most a short prefix of a 90 KB client string in any error", async () => {
    const requests: Record<string, { query: string; variables?: Record<string, unknown>; operationName?: string }> = {
      "unknown field": { query: `{ ${HUGE} }` },
      "unknown region code (NOT_FOUND)": { query: `{ stats(filter: { regionCodes: ["${HUGE}"] }) { projectCount } }` },
      "unknown region code in a variable": { query: `query($c: [ID!]) { stats(filter: { regionCodes: $c }) { projectCount } }`, variables: { c: [HUGE] } },
      "unknown parent code (NOT_FOUND)": { query: `{ regions(parentCode: "${HUGE}") { code } }` },
      "unknown enum value": { query: `{ stats(filter: { stages: [${HUGE}] }) { projectCount } }` },
      "bad date": { query: `{ meetings(from: "${HUGE}") { id } }` },
      "bad variable": { query: `query($n: Int) { projects(first: $n) { totalCount } }`, variables: { n: HUGE } },
      "unknown operation name": { query: `{ __typename }`, operationName: HUGE },
    };
    const seen: Record<string, { errors: boolean; under2KB: boolean; quotesAtMost64: boolean }> = {};
    for (const [what, request] of Object.entries(requests)) {
      const res = await postJson(server, request);
      seen[what] = { errors: res.body.errors?.length > 0, under2KB: Buffer.byteLength(res.text) < 2000, quotesAtMost64: longestRun(res.text) <= QUOTE_MAX };
    }
    expect(seen).toEqual(Object.fromEntries(Object.keys(requests).map((what) => [what, { errors: true, under2KB: true, quotesAtMost64: true }])));
  });

  it("suggests names in development (production strips them: see below)", async () => {
    for (const query of MISSPELLED) {
      const res = await postJson(server, { query });
      expect([query, res.body.errors[0].message]).toEqual([query, expect.stringContaining("Did you mean")]);
    }
  });

  it("refuses a batched (array) request with 400 unless BATCH_REQUESTS is on", async () => {
    const res = await postJson(server, [{ query: "{ __typename }" }, { query: "{ __typename }" }]);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions.code).toBe("BAD_REQUEST");
    expect(res.body.data).toBeUndefined();
  });

  it("answers a body that is not JSON with 400 BAD_REQUEST", async () => {
    for (const body of ['{"query": ', "query { __typename }", '{"query": "{ __typename }"']) {
      const res = await fetchAnswer(server.url, { method: "POST", headers: { "content-type": "application/json" }, body });
      expect([body, res.status, res.body?.errors?.[0]?.extensions?.code]).toEqual([body, 400, "BAD_REQUEST"]);
    }
  });

  it("answers a mutation by GET with 405 and runs nothing", async () => {
    const mutation = `mutation { createMeeting(input: { title: "by GET", heldOn: "2021-01-01", hostRegionCode: "410000" }) { id } }`;
    const res = await fetchAnswer(`${server.url}?query=${encodeURIComponent(mutation)}`, { headers: { accept: "application/json" } });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(res.headers.get("x-sql-statements")).toBe("0");
    const meetings = await server.gql(`{ meetings { title } }`);
    expect(meetings.data.meetings.map((m: { title: string }) => m.title)).not.toContain("by GET");
  });

  it("sends x-sql-statements when SQL_STATEMENTS_HEADER is on (the test server's setting)", async () => {
    const res = await postJson(server, { query: `{ stats(filter: { nameContains: "header-${Date.now()}" }) { projectCount } }` });
    expect(Number(res.headers.get("x-sql-statements"))).toBeGreaterThan(0);
  });

  it("answers /health/ready 503 while the database cannot be used, and 200 once it can again", async () => {
    await server.db.destroy();
    try {
      const down = await fetchAnswer(`${root(server)}/health/ready`);
      expect(down.status).toBe(503);
      expect(down.headers.get("retry-after")).toBe("1");
      expect(down.body).toEqual({ status: "unavailable", database: "down" });
      expect(down.text).not.toContain(process.cwd());
      // The process itself is fine.
      expect((await fetchAnswer(`${root(server)}/health/live`)).status).toBe(200);
      // A query that needs the database fails with a masked error that carries the request id, for the log.
      const failed = await postJson(server, { query: `{ stats(filter: { nameContains: "down-${Date.now()}" }) { projectCount } }` });
      expect(failed.body.errors).toHaveLength(1);
      const [error] = failed.body.errors;
      expect(["INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"]).toContain(error.extensions.code);
      expect(error.extensions.requestId).toBe(failed.headers.get("x-request-id"));
      expect(Object.keys(error.extensions).sort()).toEqual(["code", "requestId"]);
      expect(failed.text).not.toContain(process.cwd());
      expect(failed.text).not.toMatch(/typeorm|sqlite|mysql|not open|closed/i);
    } finally {
      await server.db.initialize();
    }
    // Back within the gate's backoff (at most 2 s).
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i += 1) {
      status = (await fetchAnswer(`${root(server)}/health/ready`)).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
  });
});

describe("production defaults (NODE_ENV=production)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("sqlite", { NODE_ENV: "production", REQUEST_TIMEOUT_MS: "1000" });
  });
  afterAll(async () => server?.close());

  it("refuses introspection", async () => {
    for (const query of [`{ __schema { types { name } } }`, `{ __type(name: "Region") { fields { name } } }`]) {
      const res = await postJson(server, { query });
      expect([query, res.status]).toEqual([query, 400]);
      expect(res.body.data ?? null).toBeNull();
      expect(res.body.errors[0].message).toMatch(/introspection/i);
    }
    // __typename is not introspection.
    expect((await postJson(server, { query: "{ __typename }" })).body).toEqual({ data: { __typename: "Query" } });
  });

  it("makes no name suggestions", async () => {
    for (const query of MISSPELLED) {
      const res = await postJson(server, { query });
      expect(res.body.errors.length).toBeGreaterThan(0);
      for (const error of res.body.errors) expect([query, error.message]).toEqual([query, expect.not.stringMatching(/did you mean/i)]);
    }
  });

  it("refuses a batched request", async () => {
    const res = await postJson(server, [{ query: "{ __typename }" }]);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions.code).toBe("BAD_REQUEST");
  });

  it("shows the production landing page, without script, linking to the explorer", async () => {
    const res = await fetchAnswer(server.url, { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/<a href="\/explorer">/);
    expect(res.text.toLowerCase()).not.toContain("<script");
  });

  it("sends no stack trace and no path with errors", async () => {
    const res = await postJson(server, { query: `{ projects(first: 1000) { totalCount } }` });
    expect(res.body.errors[0].extensions).toEqual({ code: "BAD_USER_INPUT", field: "first", reason: expect.any(String) });
    expect(res.text).not.toContain(process.cwd());
  });

  it("answers a request that takes longer than REQUEST_TIMEOUT_MS with 503 REQUEST_TIMEOUT and closes the connection", async () => {
    // The body stops half way, so the request cannot finish: the whole-request timer (1 s) answers.
    const { received, closed, ms } = await rawExchange(portOf(server), STALLED_POST(portOf(server)), 5000);
    expect(received).toMatch(/^HTTP\/1\.1 503 /);
    expect(received).toContain('"REQUEST_TIMEOUT"');
    expect(received).toMatch(/\r\nx-request-id: [0-9a-f-]{36}\r\n/i);
    expect(closed).toBe(true);
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(3000);
  });
});

describe("production with every opt-in (INTROSPECTION, BATCH_REQUESTS, CORS_ORIGINS, EXPOSE_STACKTRACES; no SQL header)", () => {
  let server: TestServer;
  const ALLOWED = "https://a.example.org";
  beforeAll(async () => {
    server = await startTestServer("sqlite", {
      NODE_ENV: "production",
      INTROSPECTION: "true",
      BATCH_REQUESTS: "true",
      CORS_ORIGINS: ALLOWED,
      EXPOSE_STACKTRACES: "true",
      SQL_STATEMENTS_HEADER: "false",
      BODY_TIMEOUT_MS: "1000",
    });
  });
  afterAll(async () => server?.close());

  it("allows introspection with INTROSPECTION=true", async () => {
    const res = await postJson(server, { query: `{ __schema { types { name } } }` });
    expect(res.status).toBe(200);
    expect(res.body.data.__schema.types.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(["Region", "ProjectStats"]));
  });

  it("answers a batched request as an array with BATCH_REQUESTS=true", async () => {
    const res = await postJson(server, [{ query: `{ region(code: "410000") { name } }` }, { query: `{ region(code: "410100") { name } }` }]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([{ data: { region: { name: "河南省" } } }, { data: { region: { name: "郑州市" } } }]);
  });

  it("sends no x-sql-statements header when SQL_STATEMENTS_HEADER is off, and does not expose it", async () => {
    const res = await postJson(server, { query: `{ stats(filter: { nameContains: "nohdr-${Date.now()}" }) { projectCount } }` }, { origin: ALLOWED });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-sql-statements")).toBeNull();
    expect(res.headers.get("access-control-expose-headers") ?? "").not.toContain("x-sql-statements");
  });

  it("echoes an allowed origin and gives another origin no CORS header", async () => {
    const preflight = (origin: string) =>
      fetchAnswer(server.url, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" } });
    const allowed = await preflight(ALLOWED);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(allowed.headers.get("access-control-allow-credentials")).toBeNull();
    expect(allowed.headers.get("vary") ?? "").toMatch(/origin/i);
    const other = await preflight("https://b.example.org");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const real = await postJson(server, { query: "{ __typename }" }, { origin: "https://b.example.org" });
    expect(real.headers.get("access-control-allow-origin")).toBeNull();
    expect((await postJson(server, { query: "{ __typename }" }, { origin: ALLOWED })).headers.get("access-control-allow-origin")).toBe(ALLOWED);
  });

  it("sends stack traces only because EXPOSE_STACKTRACES=true says so", async () => {
    const res = await postJson(server, { query: `{ projects(first: 0) { totalCount } }` });
    expect(res.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    expect(Array.isArray(res.body.errors[0].extensions.stacktrace)).toBe(true);
  });

  it("closes a connection whose body stalls, within BODY_TIMEOUT_MS (1 s) and the check interval", async () => {
    const { received, closed, ms } = await rawExchange(portOf(server), STALLED_POST(portOf(server)), 5000);
    expect(closed).toBe(true);
    // Node answers 408 (or just closes) once the request has taken longer than its requestTimeout.
    if (received) expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(1000 + 2000);
  });
});
