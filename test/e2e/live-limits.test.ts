/**
 * The limits of subscriptions over graphql-ws (src/live/ws-server.ts, src/live/live-hub.ts), end to end, on
 * every database of DB_KINDS, at the protocol level (`ws` directly: the test decides about connection_init,
 * pings and reading) and through graphql-ws's own client:
 *
 * 1. a subscription over MAX_COST, too deep, unparsable or invalid, a query or mutation, an unknown region or
 *    meeting, a document over MAX_DOCUMENT_BYTES: each refused with an `error` message carrying the code HTTP
 *    gives, the connection left open and a good subscription served on it after each refusal;
 * 2. LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION, one by one and in a burst, and a slot freed by `complete`;
 * 3. LIVE_MAX_CONNECTIONS_PER_IP (429) and LIVE_MAX_CONNECTIONS (503) before any WebSocket, a slot freed by a close;
 * 4. tokens in connection_init or on the upgrade request, bad ones 4403, none under READ_REQUIRES_TOKEN 4403;
 * 5. LIVE_INIT_TIMEOUT_MS (4408) and LIVE_IDLE_TIMEOUT_MS (1000 without a subscription, none with one);
 * 6. LIVE_PING_INTERVAL_MS: a client that does not answer pings is terminated within two intervals;
 * 7. LIVE_MAX_BUFFERED_BYTES: a client that stops reading is cut off while writes keep changing its board,
 *    the server healthy and a reading client of the same board still served;
 * 8. SIGTERM to the compiled server: 1001 to the screens, no new upgrade during the drain, exit 0;
 * 9. a subscription POSTed over HTTP: 400 BAD_REQUEST.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { Writable } from "node:stream";

import { createClient } from "graphql-ws";
import pino from "pino";
import WebSocket, { type ClientOptions } from "ws";

import { createToken } from "../../src/auth/tokens";
import { loadConfig } from "../../src/config";
import { openDatabase } from "../../src/db/open-database";
import { seedDatabase } from "../../src/seed/seed";
import { createObservability, type Observability } from "../../src/server/observability";
import { type RunningServer, startServer } from "../../src/server/server";
import { COMPILED_MAIN, ROOT } from "../support/compiled";
import { createScratchDatabase, DB_KINDS, type ScratchDatabase } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";
import { CREATE } from "../support/writes";
import { connect, type RawClient, tryUpgrade, wsUrl } from "../support/ws-client";

/** What the timing-bound tests measured, printed at the end. */
const timings: string[] = [];
afterAll(() => {
  if (timings.length) process.stderr.write(`\nlive-limits timings:\n${timings.map((t) => `  ${t}`).join("\n")}\n`);
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`'s value, or null after `ms` (the timer cleared either way). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits (polling) until `condition` holds; fails naming `what` after `ms`. */
async function waitFor(what: string, condition: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await pause(20);
  }
}

/** A plain HTTP POST of an operation, with `token` as the bearer when given. */
async function post(url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  return { status: response.status, body: await response.json() };
}

/** The figures a good subscription asks for: cheap, shallow, one grouped statement. */
const GOOD = `subscription { regionStats(code: "410000") { projectCount totalInvestment } }`;
const regionStats = (code: string) => `subscription { regionStats(code: "${code}") { projectCount } }`;
/** Six stats of distinct filters, each a grouped statement of its own (GROUPED_QUERY_COST 1000): over MAX_COST 5000. */
const SIX_STATS = [1, 2, 3, 4, 5, 6].map((i) => `s${i}: stats(filter: { minInvestment: ${i} }) { projectCount }`).join(" ");
const OVER_COST_SUBSCRIPTION = `subscription { meetingBoard(meetingId: "1") { batches { ${SIX_STATS} } } }`;
const OVER_COST_QUERY = `{ meeting(id: "1") { batches { ${SIX_STATS} } } }`;
/** Depth 7 (meetingBoard, venues, batches, stats, bySector, sector, code) over MAX_DEPTH 6. */
const TOO_DEEP = `subscription { meetingBoard(meetingId: "1") { venues { batches { stats { bySector { sector { code } } } } } } }`;
const UNPARSABLE = `subscription { regionStats(code: "410000") { projectCount }`;
const UNKNOWN_FIELD = `subscription { regionStats(code: "410000") { noSuchField } }`;
const CAMPAIGN_STATS = `projectCount totalInvestment bySector { sector { code name } projectCount totalInvestment }`;
/** The meeting's whole board with its batches' first `first` projects: ~115 KB a push on the seeded data. */
const bigBoard = (first: number) =>
  `subscription Board($id: ID!) { meetingBoard(meetingId: $id) { id title batches { stage stats { ${CAMPAIGN_STATS} } projects(first: ${first}) { totalCount nodes { id name investor investment region { code name } sector { code name } } } } venues { kind region { code name } batches { stage stats { ${CAMPAIGN_STATS} } } } } }`;

type GqlError = { message: string; extensions?: Record<string, any> };

/** The single error of a refusal, with its code. */
function onlyError(errors: GqlError[], code: string): GqlError {
  expect(errors.map((e) => e.extensions?.code)).toEqual([code]);
  return errors[0];
}

/** The socket is still open and serves a good subscription (completed again afterwards). */
async function stillServes(client: RawClient, id: string): Promise<void> {
  expect(client.isOpen).toBe(true);
  const data = await client.subscribed(id, GOOD);
  expect(data.regionStats.projectCount).toBeGreaterThan(0);
  client.complete(id);
}

/** A ping answered: what was sent before it has been read, and whatever is sent next arrives in a later read (after the promise turns of a `complete`). */
async function roundTrip(client: RawClient): Promise<void> {
  client.send({ type: "ping" });
  await client.take("pong", (m) => m.type === "pong");
}

/** The compiled server as a child process, with its exit code (test/support/server-process.ts does not give it). */
interface Child {
  pid: number;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  exit: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
  output(): string;
}

const children = new Set<ChildProcess>();

async function spawnCompiled(env: Record<string, string>): Promise<Child> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: "test", HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", ...env };
  for (const name of ["JEST_WORKER_ID", "NODE_OPTIONS", "MYSQL_URL", "DATABASE_URL", "SQLITE_PATH"]) if (!(name in env)) delete childEnv[name];
  const child = spawn(process.execPath, [COMPILED_MAIN], { cwd: ROOT, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  if (!child.pid) throw new Error("could not spawn the compiled server");
  children.add(child);
  let output = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => (output = (output + chunk).slice(-50_000)));
  child.stderr!.on("data", (chunk: string) => (output = (output + chunk).slice(-50_000)));
  const result: Child = {
    pid: child.pid,
    url: "",
    exit: undefined,
    exited: new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        children.delete(child);
        result.exit = { code, signal, at: Date.now() };
        resolve(result.exit);
      }),
    ),
    output: () => output,
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    const m = /Server ready at (http:\/\/\S+?\/graphql)/.exec(output);
    if (m) {
      result.url = m[1];
      return result;
    }
    if (result.exit || Date.now() > deadline) {
      if (!result.exit) process.kill(child.pid, "SIGKILL");
      throw new Error(`the compiled server did not start:\n${output}`);
    }
    await pause(20);
  }
}

afterAll(() => {
  for (const child of children) if (child.pid && child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGKILL");
});

describe.each(DB_KINDS)("live subscription limits on %s", (kind) => {
  /** The database's own server (server A below), whose database the other in-process servers share. */
  let base: TestServer;
  /** Servers with one setting each, on base's database. */
  const extra: RunningServer[] = [];
  let token: string;
  /** Every WebSocket a test opened: closed after each test. */
  const opened: RawClient[] = [];

  const track = (client: RawClient): RawClient => {
    opened.push(client);
    return client;
  };
  const open = async (url: string, options: ClientOptions = {}) => track(await connect(wsUrl(url), options));

  /** Another in-process server on the same database with `env` (and `obs`, for its log). */
  async function serverWith(env: Record<string, string>, obs?: Observability): Promise<RunningServer> {
    const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", NODE_ENV: "test", LOG_LEVEL: "silent", ...env });
    const server = await startServer({ ...config, database: { type: "sqlite", path: ":memory:" } }, base.db, obs ?? createObservability("silent", pino({ level: "silent" })));
    extra.push(server);
    return server;
  }

  beforeAll(async () => {
    base = await startTestServer(kind, { MAX_COST: "5000", MAX_DEPTH: "6", MAX_DOCUMENT_BYTES: "3000" });
    token = (await createToken(base.db, { regionCode: "410000", name: "河南省发展和改革委员会（实时测试）" })).token;
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await Promise.allSettled(extra.map((s) => s.close()));
    await base?.close();
  });

  describe("each subscription is checked as HTTP checks a query", () => {
    it("refuses one over MAX_COST with QUERY_TOO_COMPLEX, as HTTP refuses the same figures, and keeps the connection", async () => {
      const client = await open(base.url);
      await client.init();
      const error = onlyError(await client.refused("cost", OVER_COST_SUBSCRIPTION), "QUERY_TOO_COMPLEX");
      expect(error.extensions).toMatchObject({ limit: 5000, measured: expect.any(Number) });
      expect(error.extensions!.measured).toBeGreaterThan(6 * 1000);
      expect(error.message).toMatch(/MAX_COST/);
      // The same figures as a query over HTTP: the same refusal, the same measured cost (root field aside).
      const http = await post(base.url, OVER_COST_QUERY);
      expect(http.status).toBe(400);
      const httpError = onlyError(http.body.errors, "QUERY_TOO_COMPLEX");
      expect(httpError.extensions).toMatchObject({ limit: 5000 });
      expect(Math.abs(httpError.extensions!.measured - error.extensions!.measured)).toBeLessThanOrEqual(2);
      await stillServes(client, "good-after-cost");
    });

    it("refuses one over MAX_DEPTH with QUERY_TOO_DEEP, the answer HTTP gives the same document", async () => {
      const client = await open(base.url);
      await client.init();
      const error = onlyError(await client.refused("deep", TOO_DEEP), "QUERY_TOO_DEEP");
      expect(error.extensions).toMatchObject({ limit: 6, measured: 7 });
      const http = await post(base.url, TOO_DEEP);
      expect(http.status).toBe(400);
      const httpError = onlyError(http.body.errors, "QUERY_TOO_DEEP");
      expect(error.message).toBe(httpError.message);
      await stillServes(client, "good-after-depth");
    });

    it("refuses a parse error with GRAPHQL_PARSE_FAILED and an unknown field with GRAPHQL_VALIDATION_FAILED, as HTTP does", async () => {
      const client = await open(base.url);
      await client.init();
      const parseError = onlyError(await client.refused("parse", UNPARSABLE), "GRAPHQL_PARSE_FAILED");
      const httpParse = await post(base.url, UNPARSABLE);
      expect(httpParse.status).toBe(400);
      expect(parseError.message).toBe(onlyError(httpParse.body.errors, "GRAPHQL_PARSE_FAILED").message);
      await stillServes(client, "good-after-parse");

      const invalid = onlyError(await client.refused("invalid", UNKNOWN_FIELD), "GRAPHQL_VALIDATION_FAILED");
      expect(invalid.message).toMatch(/noSuchField/);
      const httpInvalid = await post(base.url, UNKNOWN_FIELD);
      expect(httpInvalid.status).toBe(400);
      expect(invalid.message).toBe(onlyError(httpInvalid.body.errors, "GRAPHQL_VALIDATION_FAILED").message);
      await stillServes(client, "good-after-invalid");
    });

    it("refuses a query or a mutation with BAD_REQUEST pointing to HTTP, running nothing", async () => {
      const client = await open(base.url, { headers: { authorization: `Bearer ${token}` } });
      await client.init();
      const query = onlyError(await client.refused("query", `{ region(code: "410000") { name } }`), "BAD_REQUEST");
      expect(query.message).toMatch(/HTTP/);
      expect(query.message).toMatch(/quer/);
      await stillServes(client, "good-after-query");

      const name = `经WebSocket的写入 ${kind}`;
      const input = { name, regionCode: "410102", sectorCode: "MFG", investment: 1, reachedOn: "2024-03-01" };
      const mutation = onlyError(await client.refused("mutation", CREATE, { input }), "BAD_REQUEST");
      expect(mutation.message).toMatch(/HTTP/);
      expect(mutation.message).toMatch(/mutation/);
      const count = await post(base.url, `query($n: String!) { projects(filter: { nameContains: $n }) { totalCount } }`, { n: name });
      expect(count.body.data.projects.totalCount).toBe(0);
      await stillServes(client, "good-after-mutation");
    });

    it("refuses an unknown region or meeting with NOT_FOUND", async () => {
      const client = await open(base.url);
      await client.init();
      const region = onlyError(await client.refused("region", regionStats("999999")), "NOT_FOUND");
      expect(region.message).toMatch(/999999/);
      await stillServes(client, "good-after-region");
      const meeting = onlyError(await client.refused("meeting", `subscription { meetingBoard(meetingId: "987654") { id title } }`), "NOT_FOUND");
      expect(meeting.message).toMatch(/987654/);
      await stillServes(client, "good-after-meeting");
      // The hub kept nothing for it: a later subscriber of the unknown meeting is refused again.
      onlyError(await client.refused("meeting-again", `subscription { meetingBoard(meetingId: "987654") { id title } }`), "NOT_FOUND");
    });

    it("refuses a document over MAX_DOCUMENT_BYTES with QUERY_TOO_LARGE, as HTTP does", async () => {
      const head = `subscription { regionStats(code: "410000") { projectCount } }\n#`;
      const document = `${head}${"x".repeat(3001 - head.length - 1)}\n`;
      expect(Buffer.byteLength(document)).toBe(3001);
      const http = await post(base.url, document);
      expect(http.status).toBe(400);
      const httpError = onlyError(http.body.errors, "QUERY_TOO_LARGE");
      const client = await open(base.url);
      await client.init();
      const errors = await client.refused("large", document);
      expect(client.isOpen).toBe(true);
      await stillServes(client, "good-after-large");
      const error = onlyError(errors, "QUERY_TOO_LARGE");
      expect(error.extensions).toMatchObject({ limit: 3000, measured: 3001 });
      expect(error.message).toBe(httpError.message);
    });
  });

  describe("LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION", () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await serverWith({ LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION: "3" });
    });

    it("refuses the 4th concurrent subscription of a connection with LIVE_TOO_MANY_SUBSCRIPTIONS; completing one frees its slot", async () => {
      const client = await open(server.url);
      await client.init();
      for (const [i, code] of ["410000", "410100", "410200"].entries()) await client.subscribed(`s${i + 1}`, regionStats(code));
      const error = onlyError(await client.refused("s4", regionStats("410300")), "LIVE_TOO_MANY_SUBSCRIPTIONS");
      expect(error.message).toMatch(/\b3\b.*LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION/);
      expect(client.isOpen).toBe(true);
      // The same query as a held one is no exception: the cap counts subscriptions, not distinct queries.
      onlyError(await client.refused("s4-same", regionStats("410000")), "LIVE_TOO_MANY_SUBSCRIPTIONS");

      client.complete("s2");
      await roundTrip(client);
      await client.subscribed("s5", regionStats("410300"));
      onlyError(await client.refused("s6", regionStats("410400")), "LIVE_TOO_MANY_SUBSCRIPTIONS");

      // The cap is per connection: another one holds three of its own meanwhile.
      const other = await open(server.url);
      await other.init();
      for (const [i, code] of ["410000", "410500", "410600"].entries()) await other.subscribed(`o${i + 1}`, regionStats(code));
      onlyError(await other.refused("o4", regionStats("410700")), "LIVE_TOO_MANY_SUBSCRIPTIONS");
      // The held subscriptions are still live on the first connection (s1, s3, s5 got nothing unexpected).
      for (const id of ["s1", "s3", "s5"]) expect(client.messages.filter((m) => m.id === id && m.type !== "next")).toEqual([]);
    });

    // A screen swapping one subscription for another in one tick, at the cap: messages count in the order sent.
    it("frees the slot of a completed subscription for a subscribe sent right after it", async () => {
      const client = await open(server.url);
      await client.init();
      for (const [i, code] of ["410000", "410100", "410200"].entries()) await client.subscribed(`s${i + 1}`, regionStats(code));
      const socket = (client.ws as any)._socket as import("node:net").Socket;
      socket.cork();
      client.complete("s2");
      client.subscribe("s4", regionStats("410300"));
      socket.uncork();
      const answer = await client.answer("s4");
      expect({ type: answer.type, errors: answer.type === "error" ? answer.payload : undefined }).toEqual({ type: "next", errors: undefined });
    });

    // ws hands every message of one read over at once: the slot is taken before the first await.
    it("holds the cap against a burst of subscribe messages arriving together", async () => {
      const client = await open(server.url);
      await client.init();
      // Five subscribe frames in one TCP write: the server reads them in one chunk.
      const socket = (client.ws as any)._socket as import("node:net").Socket;
      socket.cork();
      for (let i = 1; i <= 5; i++) client.subscribe(`b${i}`, regionStats(["410000", "410100", "410200", "410300", "410400"][i - 1]));
      socket.uncork();
      const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => client.answer(`b${i}`)));
      const accepted = answers.filter((a) => a.type === "next").length;
      const refused = answers.filter((a) => a.type === "error" && a.payload[0]?.extensions?.code === "LIVE_TOO_MANY_SUBSCRIPTIONS").length;
      expect({ accepted, refused }).toEqual({ accepted: 3, refused: 2 });
    });
  });

  describe("connections per address and in all", () => {
    it("answers the upgrade over LIVE_MAX_CONNECTIONS_PER_IP with HTTP 429 and no WebSocket; a close frees the slot", async () => {
      const server = await serverWith({ LIVE_MAX_CONNECTIONS_PER_IP: "2" });
      const first = await open(server.url);
      await open(server.url);
      const third = await tryUpgrade(wsUrl(server.url));
      expect(third.status).toBe(429);
      expect(JSON.parse((third as { body: string }).body).errors[0]).toMatchObject({ extensions: { code: "TOO_MANY_CONNECTIONS" }, message: expect.stringMatching(/LIVE_MAX_CONNECTIONS_PER_IP/) });
      await first.close();
      const again = await upgradeWithin(wsUrl(server.url), 3_000);
      expect(again.status).toBe(101);
      const client = track((again as { client: RawClient }).client);
      await client.init();
      await client.subscribed("after", GOOD);
      expect((await tryUpgrade(wsUrl(server.url))).status).toBe(429);
    });

    it("answers the upgrade over LIVE_MAX_CONNECTIONS with HTTP 503 and no WebSocket; a close frees the slot", async () => {
      const server = await serverWith({ LIVE_MAX_CONNECTIONS: "3" });
      const clients = [await open(server.url), await open(server.url), await open(server.url)];
      const fourth = await tryUpgrade(wsUrl(server.url));
      expect(fourth.status).toBe(503);
      expect(JSON.parse((fourth as { body: string }).body).errors[0]).toMatchObject({ extensions: { code: "SERVICE_UNAVAILABLE" }, message: expect.stringMatching(/LIVE_MAX_CONNECTIONS\b/) });
      // HTTP is not affected.
      expect((await post(server.url, `{ region(code: "410000") { name } }`)).status).toBe(200);
      await clients[1].close();
      const again = await upgradeWithin(wsUrl(server.url), 3_000);
      expect(again.status).toBe(101);
      track((again as { client: RawClient }).client);
      expect((await tryUpgrade(wsUrl(server.url))).status).toBe(503);
    });
  });

  describe("tokens", () => {
    it("acks a good token in connection_init and closes a bad one with 4403; the upgrade's Authorization header works too", async () => {
      const good = await open(base.url);
      await good.init({ authorization: `Bearer ${token}` });
      await good.subscribed("g", GOOD);

      const alone = await open(base.url);
      await alone.init({ token });

      const anonymous = await open(base.url);
      await anonymous.init();

      const bad = await open(base.url);
      bad.send({ type: "connection_init", payload: { authorization: "Bearer mp_not-a-real-token" } });
      expect(await bad.closed).toMatchObject({ code: 4403 });
      expect(bad.messages).toEqual([]);

      const header = await open(base.url, { headers: { authorization: `Bearer ${token}` } });
      await header.init();
      await header.subscribed("h", GOOD);
      const badHeader = await open(base.url, { headers: { authorization: "Bearer mp_not-a-real-token" } });
      badHeader.send({ type: "connection_init" });
      expect(await badHeader.closed).toMatchObject({ code: 4403 });

      // graphql-ws's own client sees the same close.
      let closedWith: number | undefined;
      const client = createClient({
        url: wsUrl(base.url),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false,
        connectionParams: { authorization: "Bearer mp_not-a-real-token" },
        on: { closed: (event) => (closedWith = (event as { code: number }).code) },
        onNonLazyError: () => undefined,
      });
      await waitFor("graphql-ws's client to be closed", () => closedWith !== undefined, 10_000);
      expect(closedWith).toBe(4403);
      await client.dispose();
    });

    it("under READ_REQUIRES_TOKEN closes a connection without a token with 4403 and acks one with a good token", async () => {
      const server = await serverWith({ READ_REQUIRES_TOKEN: "true" });
      const none = await open(server.url);
      none.send({ type: "connection_init" });
      expect(await none.closed).toMatchObject({ code: 4403 });

      const good = await open(server.url);
      await good.init({ authorization: `Bearer ${token}` });
      await good.subscribed("g", GOOD);

      const header = await open(server.url, { headers: { authorization: `Bearer ${token}` } });
      await header.init();
      await header.subscribed("h", GOOD);

      const bad = await open(server.url);
      bad.send({ type: "connection_init", payload: { authorization: "Bearer mp_not-a-real-token" } });
      expect(await bad.closed).toMatchObject({ code: 4403 });

      // A subscribe before the ack is not served.
      const early = await open(server.url);
      early.subscribe("early", GOOD);
      expect(await early.closed).toMatchObject({ code: 4401 });
      expect(early.pushes("early")).toEqual([]);
    });
  });

  describe("timeouts", () => {
    it("closes a connection that sends no connection_init within LIVE_INIT_TIMEOUT_MS with 4408", async () => {
      const server = await serverWith({ LIVE_INIT_TIMEOUT_MS: "300" });
      const silent = await open(server.url);
      const inited = await open(server.url);
      await inited.init();
      const closed = await silent.closed;
      expect(closed.code).toBe(4408);
      const after = closed.at - silent.openedAt;
      expect(after).toBeGreaterThanOrEqual(250);
      expect(after).toBeLessThan(2_000);
      // The acked one is not concerned.
      await pause(300);
      expect(inited.isOpen).toBe(true);
      timings.push(`${kind}: init timeout 300 ms → 4408 after ${after} ms`);
    });

    it("closes an acked connection holding no subscription after LIVE_IDLE_TIMEOUT_MS with 1000, and not one holding a subscription", async () => {
      const server = await serverWith({ LIVE_IDLE_TIMEOUT_MS: "300" });
      const idle = await open(server.url);
      await idle.init();
      const busy = await open(server.url);
      await busy.init();
      await busy.subscribed("s", GOOD);
      const closed = await idle.closed;
      expect(closed.code).toBe(1000);
      expect(closed.reason).toMatch(/LIVE_IDLE_TIMEOUT_MS/);
      const after = closed.at - idle.openedAt;
      expect(after).toBeGreaterThanOrEqual(250);
      expect(after).toBeLessThan(2_000);
      // Three timeouts later the one with a subscription is still open.
      await pause(900);
      expect(busy.isOpen).toBe(true);
      // Once it completes its last subscription it is idle, and closed in turn.
      const completedAt = Date.now();
      busy.complete("s");
      const busyClosed = await busy.closed;
      expect(busyClosed.code).toBe(1000);
      expect(busyClosed.at - completedAt).toBeGreaterThanOrEqual(250);
      expect(busyClosed.at - completedAt).toBeLessThan(2_000);
      timings.push(`${kind}: idle timeout 300 ms → 1000 after ${after} ms (and ${busyClosed.at - completedAt} ms after the last complete)`);
    });
  });

  it("pings every LIVE_PING_INTERVAL_MS and terminates a client that has not answered a ping by the next one", async () => {
    const interval = 300;
    const server = await serverWith({ LIVE_PING_INTERVAL_MS: String(interval) });
    const answering = await open(server.url);
    let pings = 0;
    answering.ws.on("ping", () => pings++);
    await answering.init();
    const deaf = await open(server.url, { autoPong: false });
    let deafPings = 0;
    deaf.ws.on("ping", () => deafPings++);
    await deaf.init();
    const closed = await deaf.closed;
    const after = closed.at - deaf.openedAt;
    // Terminated (no close frame: 1006 here) at the second tick: pinged once at the first, not answered by the second.
    expect(closed.code).toBe(1006);
    expect(deafPings).toBe(1);
    expect(after).toBeGreaterThanOrEqual(2 * interval - 50);
    expect(after).toBeLessThan(2 * interval + 250);
    await pause(5 * interval);
    expect(answering.isOpen).toBe(true);
    expect(pings).toBeGreaterThanOrEqual(5);
    timings.push(`${kind}: ping interval ${interval} ms → a client not answering terminated after ${after} ms; ${pings} pings to the answering one in ${Date.now() - answering.openedAt} ms, still open`);
  });

  it("cuts off a client that stops reading (LIVE_MAX_BUFFERED_BYTES) while writes change its board; the server and a reading client go on", async () => {
    const log: Array<Record<string, any>> = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split("\n")) if (line.trim()) log.push(JSON.parse(line));
        done();
      },
    });
    const server = await serverWith(
      { LIVE_MAX_BUFFERED_BYTES: "1000", LIVE_MIN_INTERVAL_MS: "0", LIVE_PING_INTERVAL_MS: "3600000", MAX_COST: "100000000" },
      createObservability("warn", pino({ level: "warn" }, sink)),
    );
    const cutOff = () => log.find((l) => /slow consumer/.test(l.msg));
    const boards = [100, 99, 98, 97].map(bigBoard);

    // The reading screen: graphql-ws's client on the first board.
    const reading: any[] = [];
    const readingErrors: unknown[] = [];
    let readingClosed = false;
    const normal = createClient({ url: wsUrl(server.url), webSocketImpl: WebSocket, retryAttempts: 0, on: { closed: () => (readingClosed = true) } });
    const unsubscribe = normal.subscribe({ query: boards[0], variables: { id: "1" } }, { next: (v) => reading.push(v.data), error: (e) => readingErrors.push(e), complete: () => undefined });

    try {
      // The slow one: four boards on one connection, then it stops reading.
      const slow = await open(server.url);
      await slow.init();
      for (const [i, board] of boards.entries()) await slow.subscribed(`board${i}`, board, { id: "1" });
      const payload = slow.bytes / boards.length;
      await waitFor("the reading screen's first board", () => reading.length > 0, 15_000);
      (slow.ws as any)._socket.pause();
      const beforePause = slow.bytes;

      const started = Date.now();
      let writes = 0;
      const write = async () => {
        const reply = await post(server.url, CREATE, { input: { name: `慢消费者 ${kind} #${++writes}`, regionCode: "410102", sectorCode: "MFG", investment: 1, reachedOn: "2021-07-10", meetingId: "1", venueRegionCode: "410000" } }, token);
        expect(reply.body.errors).toBeUndefined();
      };
      while (!cutOff() && Date.now() - started < 30_000) await write();
      const took = Date.now() - started;
      const entry = cutOff();
      if (!entry) throw new Error(`the slow client was not cut off within 30 s: ${writes} writes, ~${Math.round((writes * boards.length * payload) / 1e6)} MB of pushes`);
      expect(entry).toMatchObject({ limit: 1000 });
      expect(entry.buffered).toBeGreaterThan(1000);

      // Reading again, the slow client gets what the kernel held, then the end of a destroyed socket (no close frame).
      (slow.ws as any)._socket.resume();
      expect(await within(slow.closed, 15_000)).toMatchObject({ code: 1006 });
      // Each board's first value and one push per write, less what the cut kept from it: the cut comes at some board's
      // push (the boards are written one after another), so it is the four boards together that got less than all.
      const delivered = boards.reduce((n, _, i) => n + slow.pushes(`board${i}`).length, 0);
      expect(delivered).toBeLessThan(boards.length * (writes + 1));

      // The server is healthy and the reading screen still gets the figures after a further write.
      await write();
      const health = await fetch(server.url.replace(/\/graphql$/, "/health/live"));
      expect(health.status).toBe(200);
      const fresh = await post(server.url, `{ meeting(id: "1") { batches { stage stats { projectCount totalInvestment } } } }`);
      expect(fresh.status).toBe(200);
      const expected = fresh.body.data.meeting.batches.map((b: any) => b.stats.projectCount);
      const shown = () => reading[reading.length - 1].meetingBoard.batches.map((b: any) => b.stats.projectCount);
      await waitFor(`the reading screen to show ${JSON.stringify(expected)}`, () => JSON.stringify(shown()) === JSON.stringify(expected), 10_000);
      expect(readingErrors).toEqual([]);
      expect(readingClosed).toBe(false);
      expect(reading.length).toBeGreaterThan(writes / 2);
      expect(log.filter((l) => /slow consumer/.test(l.msg))).toHaveLength(1);
      timings.push(
        `${kind}: slow consumer cut off after ${took} ms and ${writes} writes (4 boards of ~${Math.round(payload / 1000)} KB a push: ~${Math.round((writes * boards.length * payload) / 1e6)} MB of pushes), ${entry.buffered} bytes queued at the cut; ${((slow.bytes - beforePause) / 1e6).toFixed(1)} MB had reached it after it stopped reading (held by the kernel; ${delivered} pushes of board 0 in all, the first included); the reading screen got ${reading.length} pushes`,
      );
    } finally {
      unsubscribe();
      await normal.dispose();
    }
  }, 60_000);

  it("answers a subscription POSTed over HTTP with 400 BAD_REQUEST", async () => {
    const http = await post(base.url, GOOD);
    expect(http.status).toBe(400);
    const error = onlyError(http.body.errors, "BAD_REQUEST");
    expect(error.message).toMatch(/WebSocket/);
    expect(http.body.data).toBeUndefined();
  });

  describe("SIGTERM to the compiled server", () => {
    let scratch: ScratchDatabase | undefined;
    afterAll(async () => scratch?.drop());

    it("closes the screens with 1001, refuses new upgrades during the drain and exits 0", async () => {
      scratch = await createScratchDatabase(kind);
      if (kind === "mysql") {
        const db = await openDatabase({ ...loadConfig({ LOG_LEVEL: "silent" }), database: scratch.config });
        try {
          await seedDatabase(db);
        } finally {
          await db.destroy();
        }
      }
      const database: Record<string, string> = scratch.config.type === "mysql" ? { DATABASE_URL: scratch.config.url, DB_POOL_SIZE: "4" } : { SQLITE_PATH: scratch.config.path };
      const child = await spawnCompiled({ ...database, SHUTDOWN_TIMEOUT_MS: "10000" });
      const screen = await open(child.url);
      await screen.init();
      await screen.subscribed("s", GOOD);
      // A screen that stopped reading: it cannot answer the close, so the drain lasts until the server gives up on it (2 s).
      const stuck = await open(child.url);
      await stuck.init();
      await stuck.subscribed("s", GOOD);
      (stuck.ws as any)._socket.pause();

      const signalled = Date.now();
      process.kill(child.pid, "SIGTERM");
      const closed = await screen.closed;
      expect(closed.code).toBe(1001);
      expect(closed.reason).toMatch(/shutting down/);
      const attempts: Array<{ status: number; duringDrain: boolean }> = [];
      while (!child.exit && Date.now() - signalled < 20_000) {
        const attempt = await tryUpgrade(wsUrl(child.url));
        attempts.push({ status: attempt.status, duringDrain: child.exit === undefined });
        if (attempt.status === 101) track((attempt as { client: RawClient }).client);
        await pause(100);
      }
      const exit = await child.exited;
      expect(exit).toEqual({ code: 0, signal: null, at: expect.any(Number) });
      expect(attempts.filter((a) => a.duringDrain).length).toBeGreaterThan(0);
      // Refused: the port no longer listens (ECONNREFUSED, status 0 here), or a 503 should an upgrade still reach it.
      expect(attempts.filter((a) => a.status !== 0 && a.status !== 503)).toEqual([]);
      expect(exit.at - signalled).toBeLessThan(10_000);
      expect(child.output()).toMatch(/stopped: requests finished, database closed/);
      (stuck.ws as any)._socket.resume();
      expect([1001, 1006]).toContain((await stuck.closed).code);
      timings.push(`${kind}: SIGTERM → 1001 after ${closed.at - signalled} ms, exit 0 after ${exit.at - signalled} ms, ${attempts.length} upgrades refused during the drain (${[...new Set(attempts.map((a) => a.status))].join(", ")})`);
    }, 60_000);
  });
});

/** Upgrades until one is accepted (101) or `ms` pass (a closed connection frees its slot a moment after the close). */
async function upgradeWithin(url: string, ms: number): Promise<Awaited<ReturnType<typeof tryUpgrade>>> {
  let again = await tryUpgrade(url);
  const deadline = Date.now() + ms;
  while (again.status !== 101 && Date.now() < deadline) {
    await pause(50);
    again = await tryUpgrade(url);
  }
  return again;
}
