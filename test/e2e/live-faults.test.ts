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
