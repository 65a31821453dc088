/**
 * Incremental maintenance, as a property: after a seeded random sequence of
 * writes and imports through the API (creates, advances, moves, presentations
 * at the meeting, date corrections, CSV imports, and writes the rules refuse),
 * every figure the warm cache serves and every figure pushed to a subscription
 * equals a fresh computation from the base tables (a second server on the same
 * database with no cache and no rollups). The version is trusted for an hour,
 * so only the change events can keep the cache right, and the warm queries
 * must stay warm: after a write they cost at most the one read of the versions.
 */
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

import { createToken } from "../../src/auth/tokens";
import { loadConfig } from "../../src/config";
import { type RunningServer, startServer } from "../../src/server/server";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";
import { ADVANCE, CORRECT, CREATE, RECORD, send, UPDATE } from "../support/writes";

const ROUNDS = 30;

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)], chance: (p: number) => next() < p };
}

const STATS = "projectCount totalInvestment(unit: WAN_YUAN) byStage { stage projectCount totalInvestment(unit: WAN_YUAN) } bySector { sector { code } projectCount totalInvestment(unit: WAN_YUAN) }";
const BOARD = `id title batches { stage stats { ${STATS} } } venues { kind region { code } batches { stage stats { projectCount totalInvestment(unit: WAN_YUAN) } } }`;

describe.each(DB_KINDS)("live figures and the warm cache on %s", (kind) => {
  let server: TestServer;
  let oracle: RunningServer;
  let token: string;
  let meetingId: string;
  let counties: string[];
  let sectors: string[];
  let client: Client;

  beforeAll(async () => {
    server = await startTestServer(kind, { DATA_VERSION_TTL_MS: "3600000", LIVE_MIN_INTERVAL_MS: "20", RESPONSE_CACHE_MAX_BYTES: "0" });
    const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", NODE_ENV: "test", LOG_LEVEL: "silent", AGGREGATE_CACHE: "false", USE_ROLLUPS: "false" });
    oracle = await startServer({ ...config, database: { type: "sqlite", path: ":memory:" } }, server.db);
    token = (await createToken(server.db, { regionCode: "410000", name: "省发展改革委（测试）" })).token;
    const seeded = await server.gql(`{ meetings { id } region(code: "410000") { children { code children { code } } } sectors { code } }`);
    meetingId = seeded.data.meetings[0].id;
    counties = seeded.data.region.children.flatMap((city: any) => (city.children.length ? city.children.map((c: any) => c.code) : [city.code]));
    sectors = seeded.data.sectors.map((s: any) => s.code);
    client = createClient({ url: server.url.replace(/^http/, "ws"), webSocketImpl: WebSocket, retryAttempts: 0 });
  });

  afterAll(async () => {
    await client?.dispose();
    await oracle?.close();
    await server?.close();
  });

  it("serves and pushes exactly what the base tables say, after every round of random writes", async () => {
    const rng = random(kind === "sqlite" ? 18 : 1818);
    const city = counties[0].slice(0, 4) + "00";
    // What a dashboard asks, as queries (warm after the first round) and as subscriptions.
    const queries = [
      `{ region(code: "410000") { stats { ${STATS} } children { code stats { ${STATS} } children { code stats { projectCount totalInvestment(unit: WAN_YUAN) } } } } }`,
      `{ region(code: "410000") { stats(filter: { stages: [SIGNED, STARTED] }) { ${STATS} } } }`,
      `{ region(code: "${city}") { stats(filter: { sectorCodes: ["${sectors[1]}", "${sectors[2]}"], regionCodes: ["${counties[0]}", "${counties[1]}"] }) { ${STATS} } } }`,
      `{ region(code: "410000") { stats(filter: { meetingId: "${meetingId}" }) { ${STATS} } } }`,
      `{ region(code: "410000") { stats(filter: { milestone: { stage: SIGNED, meetingId: "${meetingId}" } }) { ${STATS} } } }`,
      `{ meeting(id: "${meetingId}") { ${BOARD} } }`,
      // Read from the base tables (an investment bound): dropped and read again after a write, never wrong.
      `{ region(code: "410000") { stats(filter: { minInvestment: 10 }) { ${STATS} } } }`,
    ];
    const incremental = queries.length - 1;
    const subscriptions: Array<{ query: string; equivalent: string; pick: (data: any) => unknown }> = [
      { query: `subscription { regionStats(code: "410000") { ${STATS} } }`, equivalent: `{ region(code: "410000") { stats { ${STATS} } } }`, pick: (d) => d.regionStats ?? d.region.stats },
      { query: `subscription { regionStats(code: "${city}", filter: { stages: [SIGNED] }) { ${STATS} } }`, equivalent: `{ region(code: "${city}") { stats(filter: { stages: [SIGNED] }) { ${STATS} } } }`, pick: (d) => d.regionStats ?? d.region.stats },
      { query: `subscription { regionStats(code: "${counties[0]}") { ${STATS} } }`, equivalent: `{ region(code: "${counties[0]}") { stats { ${STATS} } } }`, pick: (d) => d.regionStats ?? d.region.stats },
      { query: `subscription { meetingBoard(meetingId: "${meetingId}") { ${BOARD} } }`, equivalent: `{ meeting(id: "${meetingId}") { ${BOARD} } }`, pick: (d) => d.meetingBoard ?? d.meeting },
    ];
    const last: unknown[] = subscriptions.map(() => undefined);
    const pushes: number[] = subscriptions.map(() => 0);
    const errors: unknown[] = [];
    subscriptions.forEach((s, i) =>
      client.subscribe({ query: s.query }, { next: (v) => ((last[i] = s.pick(v.data)), pushes[i]++), error: (e) => errors.push(e), complete: () => undefined }),
    );
    const fresh = async (query: string) => {
      const reply = await fetch(oracle.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) });
      const body = (await reply.json()) as any;
      expect(body.errors).toBeUndefined();
      return body.data;
    };
    const mine: Array<{ id: string; version: number; stage: string }> = [];
    const as = (query: string, variables: Record<string, unknown>) => send(server, token, query, variables);
    const date = () => `202${1 + Math.floor(rng.next() * 5)}-0${1 + Math.floor(rng.next() * 9)}-1${Math.floor(rng.next() * 9)}`;
    const next = { SIGNED: "STARTED", STARTED: "IN_PRODUCTION" } as Record<string, string>;
    let succeeded = 0;
    let attempted = 0;
    let warmStatements = 0;
    let warmAsked = 0;

    // Warm, then what a repeat costs with nothing written (0 for aggregates; the meeting's own row for the board).
    for (const q of queries) await server.gql(q);
    const repeat = await Promise.all(queries.map(async (q) => (await server.gql(q)).sqlStatements));
    expect(repeat.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    for (let round = 0; round < ROUNDS; round++) {
      for (let w = 0; w < 1 + Math.floor(rng.next() * 3); w++) {
        attempted++;
        const kindOfWrite = rng.next();
        const p = mine.length ? rng.pick(mine) : null;
        let reply;
        if (kindOfWrite < 0.3 || !p) {
          const atMeeting = rng.chance(0.4);
          reply = await as(CREATE, {
            input: {
              name: `实时${kind}${round}-${w}`,
              regionCode: rng.pick(counties),
              sectorCode: rng.pick(sectors.slice(1)),
              investment: Math.round(rng.next() * 500_000) / 10_000 + 0.1,
              stage: rng.pick(["SIGNED", "STARTED", "IN_PRODUCTION"]),
              reachedOn: atMeeting ? "2021-07-10" : date(),
              ...(atMeeting ? { meetingId, venueRegionCode: "410000" } : {}),
            },
          });
          if (reply.data?.createProject) mine.push({ id: reply.data.createProject.id, version: reply.data.createProject.version, stage: reply.data.createProject.stage });
        } else if (kindOfWrite < 0.5 && next[p.stage]) {
          reply = await as(ADVANCE, { input: { projectId: p.id, stage: next[p.stage], reachedOn: "2026-11-30", expectedVersion: p.version, ...(rng.chance(0.3) ? { meetingId, venueRegionCode: "410000" } : {}) } });
        } else if (kindOfWrite < 0.7) {
          const input = rng.chance(0.5) ? { regionCode: rng.pick(counties) } : rng.chance(0.5) ? { sectorCode: rng.pick(sectors.slice(1)) } : { investment: Math.round(rng.next() * 90_000) / 10_000 + 0.2 };
          reply = await as(UPDATE, { id: p.id, v: p.version, input });
        } else if (kindOfWrite < 0.8) {
          reply = await as(RECORD, { input: { projectId: p.id, stage: p.stage, meetingId, venueRegionCode: "410000", expectedVersion: p.version } });
        } else if (kindOfWrite < 0.9) {
          reply = await as(CORRECT, { input: { projectId: p.id, stage: p.stage, reachedOn: date(), reason: "录入错误", expectedVersion: p.version } });
        } else {
          const rows = Array.from({ length: 3 }, (_, j) => `live-${kind}-${round}-${j},导入${round}-${j},${rng.pick(counties)},${rng.pick(sectors.slice(1))},${(1 + j).toFixed(2)},,SIGNED,${date()},,`);
          const response = await fetch(server.url.replace(/\/graphql$/, "/import/projects.csv"), {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "text/csv" },
            body: ["ref,name,regionCode,sectorCode,investment,investor,stage,date,meetingId,venueRegionCode", ...rows].join("\n"),
          });
          await response.text();
          if (response.status === 200) succeeded++;
          continue;
        }
        const changed = reply.data && (Object.values(reply.data)[0] as any);
        if (changed) {
          succeeded++;
          const own = mine.find((m) => m.id === changed.id);
          if (own) Object.assign(own, { version: changed.version, stage: changed.stage });
        }
      }
      // Every cached figure as a fresh computation says.
      for (const [i, q] of queries.entries()) {
        const served = await server.gql(q);
        expect(served.errors).toBeUndefined();
        expect(served.data).toEqual(await fresh(q));
        if (i < incremental) {
          warmAsked++;
          warmStatements += served.sqlStatements;
          // Warm: nothing but the read of the versions (after a write of this instance).
          // Warm after writes: what a repeat costs, plus the one read of the versions (after a write of this instance).
          if (served.sqlStatements > repeat[i] + 1) throw new Error(`query ${i} cost ${served.sqlStatements} statements in round ${round} (a repeat: ${repeat[i]})`);
        }
      }
    }
    expect(succeeded).toBeGreaterThan(attempted / 3);
    expect(warmStatements).toBeLessThanOrEqual(warmAsked * 2);

    // Every screen ends on the final state, and pushed only changes.
    const expected = await Promise.all(subscriptions.map(async (s) => s.pick(await fresh(s.equivalent))));
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && subscriptions.some((_, i) => JSON.stringify(last[i]) !== JSON.stringify(expected[i]))) await new Promise((r) => setTimeout(r, 50));
    expect(errors).toEqual([]);
    subscriptions.forEach((_, i) => expect(last[i]).toEqual(expected[i]));
    // The province's figures changed with every successful write; a county's only with writes there.
    expect(pushes[0]).toBeGreaterThan(5);
    expect(pushes[3]).toBeGreaterThan(1);
    for (const n of pushes) expect(n).toBeLessThanOrEqual(1 + attempted);
  });
});
