/**
 * Reads over HTTP the way caches and BI tools use them: queries by GET,
 * Cache-Control set per operation, ETags that change with every write,
 * conditional GETs answered 304 without executing, Automatic Persisted Queries.
 */
import { createHash } from "node:crypto";

import { SQL_STATEMENTS_HEADER } from "../../src/server/server";
import { DB_KINDS } from "../support/databases";
import { createToken } from "../../src/auth/tokens";
import { advanceProjects } from "../support/ledger";
import { startTestServer, type TestServer } from "../support/test-server";

const QUERY = `query Province { region(code: "410000") { name stats { projectCount byStage { stage projectCount } } } }`;

describe.each(DB_KINDS)("HTTP caching on %s", (kind) => {
  let server: TestServer;
  const get = (params: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${server.url}?${new URLSearchParams(params)}`, { headers: { accept: "application/json", ...headers } });
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(server.url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

  beforeAll(async () => {
    server = await startTestServer(kind, { DATA_VERSION_TTL_MS: "0", HTTP_CACHE_MAX_AGE: "30" });
  });
  afterAll(async () => server?.close());

  it("answers a query by GET, publicly cacheable for the configured max-age, with an ETag", async () => {
    const res = await get({ query: QUERY });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).data.region.name).toBe("河南省");
    expect(res.headers.get("cache-control")).toBe("public, max-age=30");
    expect(res.headers.get("vary")).toMatch(/Authorization/);
    expect(res.headers.get("etag")).toMatch(/^W\/"v\d+-/);
  });

  it("marks a read that carries a token private", async () => {
    const { token } = await createToken(server.db, { regionCode: "410000", name: "河南省发展和改革委员会" });
    const res = await get({ query: QUERY }, { authorization: `Bearer ${token}` });
    expect(res.headers.get("cache-control")).toBe("private, max-age=30");
  });

  it("never lets an answer with errors be cached", async () => {
    const res = await get({ query: `{ regions(parentCode: "999999") { code } }` });
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("etag") ?? "").not.toMatch(/^W\/"v/);
  });

  it("never runs a mutation over GET: 405, POST allowed, nothing written", async () => {
    // A token that may write anywhere, so that only the method stands between the request and a new meeting.
    const { token } = await createToken(server.db, { regionCode: "410000", name: "河南省发展和改革委员会" });
    const count = async () => (await server.gql(`{ meetings(hostRegionCode: "410000") { id } }`)).data.meetings.length;
    const before = await count();
    const res = await get(
      { query: `mutation Meet { createMeeting(input: { title: "GET 推进会", heldOn: "2021-01-01", hostRegionCode: "410000" }) { id } }` },
      { authorization: `Bearer ${token}` },
    );
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(((await res.json()) as any).errors[0].extensions.code).toBe("BAD_REQUEST");
    expect(await count()).toBe(before);
  });

  it("answers a conditional GET 304 without executing while nothing changed, and anew after a write", async () => {
    const first = await get({ query: QUERY });
    const etag = first.headers.get("etag")!;
    const before: any = await first.json();

    const unchanged = await get({ query: QUERY }, { "if-none-match": etag });
    expect(unchanged.status).toBe(304);
    expect(await unchanged.text()).toBe("");
    expect(unchanged.headers.get(SQL_STATEMENTS_HEADER)).toBeNull(); // nothing was executed
    expect(unchanged.headers.get("etag")).toBe(etag);

    const [{ id }] = await server.db.query("SELECT id FROM project WHERE stage = 1 ORDER BY id LIMIT 1");
    await advanceProjects(server.db, [Number(id)], { stage: 2, reachedOn: "2021-12-01", meetingId: null, venueRegionId: null });

    const changed = await get({ query: QUERY }, { "if-none-match": etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    const after: any = await changed.json();
    const signed = (body: any) => body.data.region.stats.byStage.find((r: any) => r.stage === "SIGNED").projectCount;
    expect(signed(after)).toBe(signed(before) - 1);
  });

  it("gives other variables another ETag", async () => {
    const query = `query R($c: ID!) { region(code: $c) { name } }`;
    const a = await get({ query, variables: JSON.stringify({ c: "410100" }) });
    const b = await get({ query, variables: JSON.stringify({ c: "410300" }) });
    expect(a.headers.get("etag")).not.toBe(b.headers.get("etag"));
  });

  it("serves Automatic Persisted Queries: the hash alone once the query is known, also by GET", async () => {
    const sha256Hash = createHash("sha256").update(QUERY).digest("hex");
    const extensions = { persistedQuery: { version: 1, sha256Hash } };
    const unknown: any = await (await post({ extensions })).json();
    expect(unknown.errors[0].extensions.code).toBe("PERSISTED_QUERY_NOT_FOUND");
    const registered: any = await (await post({ query: QUERY, extensions })).json();
    expect(registered.data.region.name).toBe("河南省");
    const byHash = await get({ extensions: JSON.stringify(extensions) });
    expect(byHash.status).toBe(200);
    expect(((await byHash.json()) as any).data).toEqual(registered.data);
    expect(byHash.headers.get("cache-control")).toBe("public, max-age=30");
    expect(byHash.headers.get("etag")).toMatch(/^W\/"v/);
  });

  it("caches the CSV exports the same way", async () => {
    const url = server.url.replace(/\/graphql$/, "/export/breakdown.csv?groupBy=REGION");
    const first = await fetch(url);
    expect(first.headers.get("cache-control")).toBe("public, max-age=30");
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^W\/"v/);
    const again = await fetch(url, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
  });
});
