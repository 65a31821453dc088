/**
 * Answers that depend on who asks, and the validators and caches in front of
 * them: a GET read's ETag is made with the viewer (anonymous, or which token),
 * so a conditional GET is answered 304 only to the viewer whose answer it
 * validated; a revoked token gets its 401, never a 304; every answer with an
 * ETag varies with Authorization (and keeps CORS's Origin); the finished-
 * response cache never hands one viewer's answer to another.
 */
import { createToken, revokeToken } from "../../src/auth/tokens";
import { SQL_STATEMENTS_HEADER } from "../../src/server/server";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";

const ORIGIN = "https://dashboard.example.org";
const VIEWER = `{ viewer { office region { code } } }`;

/** The tokens of the names listed in Vary. */
function varyOf(res: Response): string[] {
  return (res.headers.get("vary") ?? "").split(",").map((name) => name.trim().toLowerCase()).filter(Boolean);
}

describe.each(DB_KINDS)("private answers and their validators on %s", (kind) => {
  let server: TestServer;
  /** 郑州市's token and 中原区's. */
  let a: string;
  let b: string;

  beforeAll(async () => {
    // A CORS origin list, so that CORS puts Origin in Vary: Authorization must be added to it, not replace it.
    server = await startTestServer(kind, { DATA_VERSION_TTL_MS: "0", HTTP_CACHE_MAX_AGE: "30", CORS_ORIGINS: ORIGIN });
    a = (await createToken(server.db, { regionCode: "410100", name: "郑州市发展和改革委员会" })).token;
    b = (await createToken(server.db, { regionCode: "410102", name: "中原区发展和改革委员会" })).token;
  });
  afterAll(async () => server?.close());

  const bearer = (token: string | null): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});
  const get = (query: string, token: string | null, headers: Record<string, string> = {}) =>
    fetch(`${server.url}?${new URLSearchParams({ query })}`, { headers: { accept: "application/json", ...bearer(token), ...headers } });
  const post = (query: string, token: string | null) =>
    fetch(server.url, { method: "POST", headers: { "content-type": "application/json", ...bearer(token) }, body: JSON.stringify({ query }) });
  const office = async (res: Response) => ((await res.json()) as any).data.viewer?.office ?? null;
  const csv = (token: string | null, headers: Record<string, string> = {}) =>
    fetch(server.url.replace(/\/graphql$/, "/export/breakdown.csv?groupBy=STAGE"), { headers: { ...bearer(token), ...headers } });

  describe("GET /graphql", () => {
    it("gives an anonymous read and a token's read of the same query different ETags, each with Vary: Authorization", async () => {
      const anonymous = await get(VIEWER, null);
      const withA = await get(VIEWER, a);
      expect([anonymous.status, withA.status]).toEqual([200, 200]);
      expect(await office(anonymous)).toBeNull();
      expect(await office(withA)).toBe("郑州市发展和改革委员会");
      expect(anonymous.headers.get("etag")).toMatch(/^W\/"v\d+-/);
      expect(withA.headers.get("etag")).toMatch(/^W\/"v\d+-/);
      expect(withA.headers.get("etag")).not.toBe(anonymous.headers.get("etag"));
      expect(anonymous.headers.get("cache-control")).toBe("public, max-age=30");
      expect(withA.headers.get("cache-control")).toBe("private, max-age=30");
      for (const res of [anonymous, withA]) expect(varyOf(res)).toEqual(expect.arrayContaining(["origin", "authorization"]));
    });

    it("answers a token holder who sends the anonymous ETag 200 with their own office, not 304", async () => {
      const anonymousEtag = (await get(VIEWER, null)).headers.get("etag")!;
      const res = await get(VIEWER, a, { "if-none-match": anonymousEtag });
      expect(res.status).toBe(200);
      expect(await office(res)).toBe("郑州市发展和改革委员会");
      expect(res.headers.get("etag")).not.toBe(anonymousEtag);
    });

    it("answers token B sending token A's ETag 200 with B's office, and an anonymous reader sending it 200 with no viewer", async () => {
      const etagA = (await get(VIEWER, a)).headers.get("etag")!;
      const byB = await get(VIEWER, b, { "if-none-match": etagA });
      expect(byB.status).toBe(200);
      expect(await office(byB)).toBe("中原区发展和改革委员会");
      expect(byB.headers.get("etag")).not.toBe(etagA);
      const anonymous = await get(VIEWER, null, { "if-none-match": etagA });
      expect(anonymous.status).toBe(200);
      expect(await office(anonymous)).toBeNull();
    });

    it("still answers a viewer revalidating its own ETag 304 without executing, with Vary: Authorization (token and anonymous)", async () => {
      for (const token of [a, null]) {
        const first = await get(VIEWER, token);
        const etag = first.headers.get("etag")!;
        const again = await get(VIEWER, token, { "if-none-match": etag });
        expect(again.status).toBe(304);
        expect(await again.text()).toBe("");
        expect(again.headers.get(SQL_STATEMENTS_HEADER)).toBeNull(); // nothing was executed
        expect(again.headers.get("etag")).toBe(etag);
        expect(again.headers.get("cache-control")).toBe(token ? "private, max-age=30" : "public, max-age=30");
        expect(varyOf(again)).toEqual(expect.arrayContaining(["origin", "authorization"]));
      }
    });

    it("answers a revoked token that sends its once-valid ETag 401, never 304", async () => {
      const made = await createToken(server.db, { regionCode: "410103", name: "二七区发展和改革委员会" });
      const first = await get(VIEWER, made.token);
      expect(await office(first)).toBe("二七区发展和改革委员会");
      const etag = first.headers.get("etag")!;
      expect((await get(VIEWER, made.token, { "if-none-match": etag })).status).toBe(304); // good before
      await revokeToken(server.db, made.id);
      const res = await get(VIEWER, made.token, { "if-none-match": etag });
      expect(res.status).toBe(401);
      expect(((await res.json()) as any).errors[0].extensions.code).toBe("UNAUTHENTICATED");
      expect(res.headers.get("etag")).toBeNull();
    });
  });

  describe("CSV exports", () => {
    it("make the ETag with the viewer too, revalidate per viewer, and vary with Authorization on 200 and 304", async () => {
      const anonymous = await csv(null);
      const withA = await csv(a);
      expect([anonymous.status, withA.status]).toEqual([200, 200]);
      const anonymousEtag = anonymous.headers.get("etag")!;
      const etagA = withA.headers.get("etag")!;
      expect(anonymousEtag).toMatch(/^W\/"v\d+-/);
      expect(etagA).toMatch(/^W\/"v\d+-/);
      expect(etagA).not.toBe(anonymousEtag);
      for (const res of [anonymous, withA]) expect(varyOf(res)).toEqual(expect.arrayContaining(["origin", "authorization"]));
      // A shared cache may keep the anonymous sheet, never a token holder's (as on their 304 below and on GraphQL reads).
      expect(anonymous.headers.get("cache-control")).toMatch(/^public, /);
      expect(withA.headers.get("cache-control")).toMatch(/^private, /);

      const own = await csv(a, { "if-none-match": etagA });
      expect(own.headers.get("cache-control")).toMatch(/^private, /);
      expect(own.status).toBe(304);
      expect(varyOf(own)).toEqual(expect.arrayContaining(["origin", "authorization"]));
      expect((await csv(null, { "if-none-match": anonymousEtag })).status).toBe(304);
      expect((await csv(a, { "if-none-match": anonymousEtag })).status).toBe(200);
      expect((await csv(b, { "if-none-match": etagA })).status).toBe(200);
    });

    it("answer a revoked token that sends its once-valid ETag 401", async () => {
      const made = await createToken(server.db, { regionCode: "410104", name: "管城回族区发展和改革委员会" });
      const etag = (await csv(made.token)).headers.get("etag")!;
      expect((await csv(made.token, { "if-none-match": etag })).status).toBe(304); // good before
      await revokeToken(server.db, made.id);
      expect((await csv(made.token, { "if-none-match": etag })).status).toBe(401);
    });
  });

  describe("the finished-response cache", () => {
    // Each test its own query text (the cache's key), so that what one keeps cannot be what another reads.
    const viewerQuery = (name: string) => `query ${name} ${VIEWER}`;

    it.each([
      ["POST", (query: string, token: string | null) => post(query, token)],
      ["GET", (query: string, token: string | null) => get(query, token)],
    ])("never hands one viewer's answer to another (%s)", async (method, send) => {
      // A token holder first: their answer must not be what the anonymous reader after them gets.
      const tokenFirst = viewerQuery(`TokenFirst${method}`);
      expect(await office(await send(tokenFirst, a))).toBe("郑州市发展和改革委员会");
      expect(await office(await send(tokenFirst, null))).toBeNull();
      const anonymousAgain = await send(tokenFirst, null);
      expect(anonymousAgain.headers.get("x-response-cache")).toBe("hit"); // the cache is on and keeps the anonymous answer
      expect(await office(anonymousAgain)).toBeNull();
      expect(await office(await send(tokenFirst, b))).toBe("中原区发展和改革委员会");

      // The anonymous reader first, kept: each token holder after them gets their own office, computed, not the kept one.
      const anonymousFirst = viewerQuery(`AnonymousFirst${method}`);
      expect(await office(await send(anonymousFirst, null))).toBeNull();
      for (const [token, name] of [
        [a, "郑州市发展和改革委员会"],
        [b, "中原区发展和改革委员会"],
        [a, "郑州市发展和改革委员会"],
      ] as const) {
        const res = await send(anonymousFirst, token);
        expect(res.headers.get("x-response-cache")).toBeNull();
        expect(await office(res)).toBe(name);
      }
    });
  });
});
