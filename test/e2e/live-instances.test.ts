/**
 * Live subscriptions across instances: two server processes (dist/src/main.js, as in two-instances.test.ts)
 * on one database, a screen subscribed over graphql-ws on B, the writes made through A.
 *
 * - With Redis (a redis-server of this file's own, test/support/redis.ts): A's change events reach B through
 *   it, so B's screen moves within seconds although each instance trusts the data version it read for a
 *   minute (DATA_VERSION_TTL_MS): the bus, not the version check, carries the news. Redis is then killed,
 *   A writes while it is away (its mutations answer as usual, the events are lost), Redis comes back: B
 *   resyncs and its screen ends on the final state, equal to a fresh query.
 * - Without Redis (REDIS_URL unset): B has no events from A at all; it catches up through its data-version
 *   check (DATA_VERSION_TTL_MS short here), and its screen ends on the final state too.
 *
 * On MySQL (MYSQL_URL) and on the embedded SQLite file, which two processes share.
 */
import { createClient } from "graphql-ws";
import WebSocket from "ws";

import { createToken } from "../../src/auth/tokens";
import { loadConfig } from "../../src/config";
import { openDatabase } from "../../src/db/open-database";
import { seedDatabase } from "../../src/seed/seed";
import { createScratchDatabase, DB_KINDS, type ScratchDatabase } from "../support/databases";
import { type OwnRedis, ownRedis, REDIS_SERVER_BINARY } from "../support/redis";
import { type ServerProcess as Instance, startServerProcess } from "../support/server-process";

if (!REDIS_SERVER_BINARY) process.stderr.write("\nredis-server is not installed: the Redis half of test/e2e/live-instances.test.ts is skipped.\n");
const describeWithRedis = REDIS_SERVER_BINARY ? describe : describe.skip;

/** The province's stats, as the screen subscribes to them. */
const SUBSCRIPTION = `subscription { regionStats(code: "410000") { projectCount totalInvestment } }`;
/** The same figures by a plain query: the fresh answer a screen must end on. */
const QUERY = `{ region(code: "410000") { stats { projectCount totalInvestment } } }`;
const CREATE = `mutation Create($input: CreateProjectInput!) { createProject(input: $input) { id } }`;

interface Stats {
  projectCount: number;
  totalInvestment: number;
}

/** Bound on a push after a write (the bus, coalescing at LIVE_MIN_INTERVAL_MS, one computation). */
const PUSH_WITHIN_MS = 5_000;
/** Bound on catching up after Redis comes back (reconnect backoff of at most 2 s, SUBSCRIBE, resync, computation). */
const RESYNC_WITHIN_MS = 15_000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function gql(instance: Instance, query: string, variables?: Record<string, unknown>, token?: string): Promise<{ data: any; errors?: unknown[] }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(instance.url, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  return (await response.json()) as { data: any; errors?: unknown[] };
}

/** Waits (polling) until `condition` holds; fails naming `what` after `ms`. */
async function waitFor(what: string, condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await pause(25);
  }
}

/** A screen: a graphql-ws client on an instance holding the subscription, with every value it was pushed. */
interface Screen {
  values: Stats[];
  errors: unknown[];
  /** True once the server completed the subscription or the socket closed (neither should happen here). */
  ended: boolean;
  last(): Stats | undefined;
  close(): Promise<void>;
}

/** Subscribes on `instance` over ws://…/graphql; resolves once the first value is in. */
async function openScreen(instance: Instance): Promise<Screen> {
  const client = createClient({
    url: instance.url.replace(/^http:/, "ws:"),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    shouldRetry: () => false,
    on: { closed: () => (screen.ended = true) },
  });
  const screen: Screen = {
    values: [],
    errors: [],
    ended: false,
    last: () => screen.values[screen.values.length - 1],
    close: async () => {
      unsubscribe();
      await client.dispose();
    },
  };
  const unsubscribe = client.subscribe<{ regionStats: Stats }>(
    { query: SUBSCRIPTION },
    {
      next: (value) => {
        if (value.errors) screen.errors.push(...value.errors);
        if (value.data) screen.values.push(value.data.regionStats);
      },
      error: (error) => screen.errors.push(error),
      complete: () => (screen.ended = true),
    },
  );
  await waitFor("the subscription's first value", () => screen.values.length > 0 || screen.errors.length > 0 || screen.ended, 15_000);
  expect(screen.errors).toEqual([]);
  expect(screen.values).toHaveLength(1);
  return screen;
}

/** Two instances on one fresh, seeded database, with `env` added to both. */
function twoInstances(kind: (typeof DB_KINDS)[number], env: () => Record<string, string>) {
  const state: { scratch?: ScratchDatabase; a?: Instance; b?: Instance; token: string; serial: number } = { token: "", serial: 0 };

  beforeAll(async () => {
    state.scratch = await createScratchDatabase(kind);
    const config = { ...loadConfig({ LOG_LEVEL: "silent" }), database: state.scratch.config };
    const db = await openDatabase(config);
    try {
      if (kind === "mysql") await seedDatabase(db);
      state.token = (await createToken(db, { regionCode: "410000", name: "河南省发展和改革委员会" })).token;
    } finally {
      await db.destroy();
    }
    const database: Record<string, string> = state.scratch.config.type === "mysql" ? { DATABASE_URL: state.scratch.config.url, DB_POOL_SIZE: "4" } : { SQLITE_PATH: state.scratch.config.path };
    const settings = { ...database, ...env() };
    const started = await Promise.allSettled([startServerProcess("instance A", settings), startServerProcess("instance B", settings)]);
    if (started[0].status === "fulfilled") state.a = started[0].value;
    if (started[1].status === "fulfilled") state.b = started[1].value;
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([state.a?.stop(), state.b?.stop()]);
    await state.scratch?.drop();
  }, 30_000);

  return {
    get a() {
      return state.a!;
    },
    get b() {
      return state.b!;
    },
    /** A project in 郑州市中原区 (inside 410000) through `instance`, `investment` 亿元. */
    async write(instance: Instance, investment: number): Promise<void> {
      const input = { name: `多实例实时 ${kind} #${++state.serial}`, regionCode: "410102", sectorCode: "MFG", investment, reachedOn: "2024-03-01" };
      const reply = await gql(instance, CREATE, { input }, state.token);
      expect(reply.errors).toBeUndefined();
      expect(reply.data.createProject.id).toEqual(expect.any(String));
    },
  };
}

/** The stats by a plain query on `instance`. */
async function fresh(instance: Instance): Promise<Stats> {
  const reply = await gql(instance, QUERY);
  expect(reply.errors).toBeUndefined();
  return reply.data.region.stats as Stats;
}

/** `expected` plus `count` projects of `yi` 亿元 in all. */
const plus = (stats: Stats, count: number, yi: number): Stats => ({ projectCount: stats.projectCount + count, totalInvestment: stats.totalInvestment + yi });

/** Both processes still there and answering. */
async function expectAlive(...instances: Instance[]): Promise<void> {
  for (const instance of instances) {
    expect(() => process.kill(instance.pid, 0)).not.toThrow();
    const health = await fetch(instance.url.replace(/\/graphql$/, "/health/live"));
    expect(health.status).toBe(200);
    await health.arrayBuffer();
  }
}

/** The same figures, the 亿元 up to float rounding (the server divides exact 万元 sums). */
function expectSame(actual: Stats | undefined, expected: Stats): void {
  expect(actual?.projectCount).toBe(expected.projectCount);
  expect(actual?.totalInvestment).toBeCloseTo(expected.totalInvestment, 6);
}

/** Asserts the screen ends on `expected`: reaches it within `ms`, then stays (no later push moves it off). */
async function expectEndsOn(screen: Screen, expected: Stats, ms: number): Promise<void> {
  const close = (s: Stats | undefined) => s !== undefined && s.projectCount === expected.projectCount && Math.abs(s.totalInvestment - expected.totalInvestment) < 1e-6;
  await waitFor(`the screen to show ${JSON.stringify(expected)} (it shows ${JSON.stringify(screen.last())})`, () => close(screen.last()), ms);
  const pushes = screen.values.length;
  await pause(1_000); // five LIVE_MIN_INTERVAL_MS: a late push would be in by now
  expect(screen.values.slice(pushes)).toEqual([]);
  expect(screen.errors).toEqual([]);
  expect(screen.ended).toBe(false);
}

describe.each(DB_KINDS)("live subscriptions across two server processes on one %s database", (kind) => {
  describeWithRedis("with Redis between them", () => {
    let redis: OwnRedis | undefined;
    // Before the servers' beforeAll, which needs its URL.
    beforeAll(async () => {
      redis = await ownRedis();
    }, 30_000);
    afterAll(async () => {
      await redis?.dispose();
    }, 30_000);
    // A minute: within these tests, only the change bus can tell B about A's writes.
    const servers = twoInstances(kind, () => ({ REDIS_URL: redis!.url, DATA_VERSION_TTL_MS: "60000" }));

    it("a screen on B gets A's write within seconds, through Redis", async () => {
      const screen = await openScreen(servers.b);
      try {
        const before = screen.last()!;
        expect(before).toEqual(await fresh(servers.a));
        await servers.write(servers.a, 7);
        const after = plus(before, 1, 7);
        await expectEndsOn(screen, after, PUSH_WITHIN_MS);
        expect(await fresh(servers.a)).toEqual(screen.last());
        expect(await fresh(servers.b)).toEqual(screen.last());
      } finally {
        await screen.close();
      }
    });

    it("Redis killed while A writes and started again: B's screen ends on the final state, no process dies", async () => {
      const screen = await openScreen(servers.b);
      try {
        // The truth before, from the instance that writes (B's screen is held to it below).
        const before = await fresh(servers.a);
        await redis!.stop();
        await pause(500);
        // The mutations answer as usual while Redis is away: their events are dropped, not waited on.
        for (const yi of [1, 2, 3, 4, 5]) await servers.write(servers.a, yi);
        const final = plus(before, 5, 15);
        expectSame(await fresh(servers.a), final);
        await pause(500);
        await redis!.start();
        await expectEndsOn(screen, final, RESYNC_WITHIN_MS);
        expect(await fresh(servers.a)).toEqual(screen.last());
        expect(await fresh(servers.b)).toEqual(screen.last());
        await expectAlive(servers.a, servers.b);
        // And events flow again after the outage.
        await servers.write(servers.a, 6);
        await expectEndsOn(screen, plus(final, 1, 6), PUSH_WITHIN_MS);
      } finally {
        await screen.close();
      }
    }, 60_000);
  });

  describe("without Redis (REDIS_URL unset)", () => {
    const TTL_MS = 300;
    const servers = twoInstances(kind, () => ({ REDIS_URL: "", DATA_VERSION_TTL_MS: String(TTL_MS) }));

    it("a screen on B catches up with A's writes through the data-version check and ends on the final state", async () => {
      const screen = await openScreen(servers.b);
      try {
        const before = await fresh(servers.a);
        for (const yi of [2, 3, 4]) await servers.write(servers.a, yi);
        const final = plus(before, 3, 9);
        expectSame(await fresh(servers.a), final);
        await expectEndsOn(screen, final, 10_000);
        expect(await fresh(servers.b)).toEqual(screen.last());
        await expectAlive(servers.a, servers.b);
      } finally {
        await screen.close();
      }
    }, 60_000);
  });
});
