/**
 * Subscriptions while the database goes away: a new subscription is refused
 * (SERVICE_UNAVAILABLE, or a masked internal error: never the driver's words, never a crash), the
 * screens already subscribed keep their connection and last value, and once
 * the database is back the next write reaches them.
 */
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

import { createToken } from "../../src/auth/tokens";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";
import { CREATE, send } from "../support/writes";

describe.each(DB_KINDS)("subscriptions while the database is away, on %s", (kind) => {
  let server: TestServer;
  let client: Client;

  beforeAll(async () => {
    server = await startTestServer(kind, { LIVE_MIN_INTERVAL_MS: "20" });
    client = createClient({ url: server.url.replace(/^http/, "ws"), webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
  });
  afterAll(async () => {
    await client?.dispose();
    await server?.close();
  });

  it("refuses new subscriptions without the driver's words, keeps the screens it has, and pushes again once it is back", async () => {
    const token = (await createToken(server.db, { regionCode: "410000", name: "省发展改革委（故障）" })).token;
    const counts: number[] = [];
    client.subscribe({ query: `subscription { regionStats(code: "410100") { projectCount } }` }, { next: (v: any) => counts.push(v.data.regionStats.projectCount), error: () => undefined, complete: () => undefined });
    const waitFor = async (check: () => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return check();
    };
    expect(await waitFor(() => counts.length === 1, 5_000)).toBe(true);

    await server.db.destroy();
    let refused: any;
    try {
      refused = await new Promise((resolve) =>
        client.subscribe({ query: `subscription { regionStats(code: "410200", filter: { nameContains: "故障" }) { projectCount } }` }, { next: resolve, error: resolve, complete: () => undefined }),
      );
    } finally {
      await server.db.initialize();
    }
    // As over HTTP: the database's own words never reach the client (a closed SQLite file is not a lost connection).
    expect(["SERVICE_UNAVAILABLE", "INTERNAL_SERVER_ERROR"]).toContain(Array.isArray(refused) ? refused[0].extensions.code : refused);
    expect(JSON.stringify(refused)).not.toMatch(/typeorm|sqlite|mysql|not open|closed/i);

    // The first screen is still there and gets the next write once the database answers again (the gate's backoff: ≤ 2 s).
    const before = counts[counts.length - 1];
    let written = false;
    for (let i = 0; i < 40 && !written; i++) {
      const reply = await send(server, token, CREATE, { input: { name: `故障后 ${kind}`, regionCode: "410102", sectorCode: "CULT", investment: 1, reachedOn: "2026-12-01" } });
      written = Boolean(reply.data?.createProject);
      if (!written) await new Promise((r) => setTimeout(r, 100));
    }
    expect(written).toBe(true);
    expect(await waitFor(() => counts[counts.length - 1] === before + 1, 5_000)).toBe(true);
  });
});

/** A WebSocket that sends what `act` sends once open; resolves with the close code (or "open" if still open after `ms`). */
function closeCodeAfter(url: string, act: (ws: WebSocket) => void, ms = 3_000): Promise<number | "open"> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, "graphql-transport-ws");
    const timer = setTimeout(() => {
      ws.terminate();
      resolve("open");
    }, ms);
    ws.on("open", () => act(ws));
    ws.on("error", () => undefined);
    ws.on("close", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe("hostile WebSocket messages (SQLite)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("sqlite", { MAX_BODY_BYTES: "100000" });
  });
  afterAll(async () => server?.close());

  it("close the connection with the protocol's codes, and the server goes on", async () => {
    const url = server.url.replace(/^http/, "ws");
    const init = '{"type":"connection_init"}';
    const subscribe = (payload: string) => `{"id":"1","type":"subscribe","payload":${payload}}`;
    const good = subscribe(JSON.stringify({ query: 'subscription { regionStats(code: "410000") { projectCount } }' }));
    // Sends connection_init, then `messages` once acknowledged.
    const acked = (...messages: string[]) => (ws: WebSocket) => {
      ws.once("message", () => messages.forEach((m) => ws.send(m)));
      ws.send(init);
    };
    const cases: Array<[string, (ws: WebSocket) => void, number]> = [
      ["text that is not a message", (ws) => ws.send("hello"), 4400],
      ["a binary frame", (ws) => ws.send(Buffer.from([0, 1, 2, 3])), 4400],
      ["a message over MAX_BODY_BYTES", (ws) => ws.send("x".repeat(200_000)), 1009],
      ["connection_init twice", (ws) => (ws.send(init), ws.send(init)), 4429],
      ["a subscribe before connection_init", (ws) => ws.send(good), 4401],
      ["a query that is not a string", acked(subscribe('{"query":42}')), 4400],
      ["variables that are not an object", acked(subscribe('{"query":"subscription { regionStats(code: \\"410000\\") { projectCount } }","variables":[1]}')), 4400],
      ["the same id twice", acked(good, good), 4409],
      ["JSON nested 40,000 deep", (ws) => ws.send(`{"type":"connection_init","payload":${"[".repeat(40_000)}${"]".repeat(40_000)}}`), 4400],
      ["a token of 90 KB", (ws) => ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${"a".repeat(90_000)}` } })), 4403],
    ];
    const got: Record<string, number | "open"> = {};
    for (const [name, act] of cases) got[name] = await closeCodeAfter(url, act);
    expect(got).toEqual(Object.fromEntries(cases.map(([name, , code]) => [name, code])));
    expect((await fetch(`${server.url.replace(/\/graphql$/, "")}/health/live`)).status).toBe(200);
    const after = await server.gql(`{ region(code: "410000") { stats { projectCount } } }`);
    expect(after.data.region.stats.projectCount).toBeGreaterThan(0);
  });
});
