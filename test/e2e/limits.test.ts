/**
 * The limits every request passes before anything is executed (issue 7):
 * each refusal is HTTP 400 with an `extensions.code` of its own and the
 * configured `limit` and the real `measured` value, computed here from the
 * document sent; each limit holds exactly at its bound (the bound passes, one
 * over is refused); a refused request issues no SQL; the defaults let every
 * example operation and the benchmark's province-to-county query through.
 *
 * The limits are pure request checks, so this file runs on the embedded
 * SQLite default only (the database does not matter to them).
 */
import fs from "node:fs";
import path from "node:path";

import { provinceToCounty } from "../../bench/scenarios";
import { loadConfig } from "../../src/config";
import { GROUPED_QUERY_COST } from "../../src/server/cost";
import { SQL_STATEMENTS_HEADER } from "../../src/server/server";
import { type Answer, readAnswer } from "../support/answer";
import { startTestServer, type TestServer } from "../support/test-server";

function post(server: TestServer, query: string, variables?: Record<string, unknown>): Promise<Answer> {
  return fetch(server.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables }) }).then(readAnswer);
}

function get(server: TestServer, query: string): Promise<Answer> {
  return fetch(`${server.url}?${new URLSearchParams({ query })}`, { headers: { accept: "application/json" } }).then(readAnswer);
}

/** The answer is a refusal by one limit: 400, that code, the configured limit and the measured value, and no SQL at all. */
function expectRefused(res: Answer, code: string, limit: number, measured: number): void {
  expect({ status: res.status, errors: res.body.errors?.length, data: res.body.data ?? null }).toEqual({ status: 400, errors: 1, data: null });
  const [error] = res.body.errors;
  expect(error.extensions).toMatchObject({ code, limit, measured });
  // The message states both figures.
  expect(error.message).toContain(String(measured));
  expect(error.message).toContain(String(limit));
  // Refused before execution: the request ran no SQL (the header is absent when refused before Apollo, e.g. by size).
  expect(res.headers.get(SQL_STATEMENTS_HEADER) ?? "0").toBe("0");
}

/** The answer carries data and no error. */
function expectAnswered(res: Answer): void {
  expect({ status: res.status, errors: res.body.errors }).toEqual({ status: 200, errors: undefined });
  expect(res.body.data).toBeTruthy();
}

/**
 * A root field that issues SQL whenever it is executed: a project count for
 * a name filter no request has asked before (no cross-request cache holds
 * it). Added to a refused document, it shows the refusal came before
 * execution: executed, it would have cost at least one statement.
 */
let probes = 0;
function sqlProbe(): string {
  probes += 1;
  return `projects(first: 1, filter: { nameContains: "probe-${process.pid}-${probes}-${Date.now()}" }) { totalCount }`;
}

/** `parent { … }` n levels under a county, ending in `name`: n + 2 nested fields (region, n parents, name). */
function parentChain(levels: number): string {
  return `region(code: "410102") { ${"parent { ".repeat(levels)}name${" }".repeat(levels)} }`;
}

/** Introspection's `ofType` n levels deep: __type, fields, type, n × ofType, name: n + 4 nested fields. */
function ofTypeChain(levels: number): string {
  return `__type(name: "Query") { fields { type { ${"ofType { ".repeat(levels)}name${" }".repeat(levels)} } } }`;
}

/**
 * A fragment bomb: F0 selects a field, and each F(k) spreads F(k-1) twice,
 * up to F(levels); the operation spreads F(levels) once. Under 2 KB.
 */
function fragmentBomb(levels: number): string {
  const fragments = ["fragment F0 on Region { name }"];
  for (let k = 1; k <= levels; k += 1) fragments.push(`fragment F${k} on Region { ...F${k - 1} ...F${k - 1} }`);
  return `{ region(code: "410000") { ...F${levels} } }\n${fragments.join("\n")}`;
}

/**
 * Spreads in the bomb once every fragment is pasted where it is spread:
 * F0 holds none, F(k) holds its own two spreads plus twice what F(k-1)
 * holds, and the operation holds one spread plus what F(levels) holds.
 * Closed form: 2^(levels+1) - 1 (spreads(F(k)) = 2^(k+1) - 2).
 */
function bombSpreads(levels: number): number {
  let inFragment = 0; // F0
  for (let k = 1; k <= levels; k += 1) inFragment = 2 * (1 + inFragment);
  return 1 + inFragment;
}

/** A comment-padded document of exactly `bytes` UTF-8 bytes around `query` (the padding is ASCII). */
function padded(query: string, bytes: number): string {
  const head = `${query}\n#`;
  const pad = bytes - Buffer.byteLength(head) - 1;
  if (pad < 0) throw new Error("document larger than the bytes asked for");
  const document = `${head}${"x".repeat(pad)}\n`;
  expect(Buffer.byteLength(document)).toBe(bytes);
  return document;
}

describe("limits at their bounds (configured below the defaults)", () => {
  const LIMITS = {
    MAX_DEPTH: "8",
    MAX_ROOT_FIELDS: "4",
    MAX_DIRECTIVES: "6",
    MAX_TOKENS: "500",
    MAX_DOCUMENT_BYTES: "3000",
    MAX_FRAGMENT_SPREADS: "50",
    MAX_BODY_BYTES: "20000",
    MAX_COST: "5000",
    MAX_ALIASES: "30",
  };
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("sqlite", LIMITS);
  });
  afterAll(async () => server?.close());

  it("the SQL probe used below issues SQL when it is executed", async () => {
    const res = await post(server, `{ ${sqlProbe()} }`);
    expectAnswered(res);
    expect(Number(res.headers.get(SQL_STATEMENTS_HEADER))).toBeGreaterThan(0);
  });

  it("depth: 8 nested fields pass, 9 are refused with QUERY_TOO_DEEP", async () => {
    const atLimit = await post(server, `{ ${parentChain(6)} }`);
    expectAnswered(atLimit);
    // 410102 中原区 → 410100 郑州市 → 410000 河南省 → null (the rest of the chain is not reached).
    expect(atLimit.body.data.region).toEqual({ parent: { parent: { parent: null } } });
    expectRefused(await post(server, `{ ${parentChain(7)} ${sqlProbe()} }`), "QUERY_TOO_DEEP", 8, 9);
    // Far over: measured, not just flagged (3 tokens a level keep 60 levels under the token limit).
    expectRefused(await post(server, `{ ${parentChain(60)} }`), "QUERY_TOO_DEEP", 8, 62);
  });

  it("depth counts introspection: an ofType chain, under __type and under __schema", async () => {
    const atLimit = await post(server, `{ ${ofTypeChain(4)} }`);
    expectAnswered(atLimit);
    expect(atLimit.body.data.__type.fields.length).toBeGreaterThan(5);
    expectRefused(await post(server, `{ ${ofTypeChain(5)} ${sqlProbe()} }`), "QUERY_TOO_DEEP", 8, 9);
    expectRefused(await post(server, `{ ${ofTypeChain(60)} }`), "QUERY_TOO_DEEP", 8, 64);
    // __schema { types { fields { type { ofType ×4 { name } } } } }: 9 levels.
    const schemaChain = `{ __schema { types { fields { type { ${"ofType { ".repeat(4)}name${" }".repeat(4)} } } } } }`;
    expectRefused(await post(server, schemaChain), "QUERY_TOO_DEEP", 8, 9);
  });

  it("aliases: 30 pass, 31 are refused with QUERY_TOO_MANY_ALIASES", async () => {
    const aliases = (n: number) => Array.from({ length: n }, (_, i) => `a${i}: name`).join(" ");
    const atLimit = await post(server, `{ region(code: "410000") { ${aliases(30)} } }`);
    expectAnswered(atLimit);
    expect(atLimit.body.data.region.a29).toBe("河南省");
    expectRefused(await post(server, `{ region(code: "410000") { ${aliases(31)} } ${sqlProbe()} }`), "QUERY_TOO_MANY_ALIASES", 30, 31);
  });

  it("aliases are counted with fragments expanded: a fragment of 16 aliases spread twice is 32", async () => {
    const fragment = `fragment Names on Region { ${Array.from({ length: 16 }, (_, i) => `n${i}: name`).join(" ")} }`;
    const once = await post(server, `{ region(code: "410000") { ...Names } }\n${fragment}`);
    expectAnswered(once);
    expectRefused(await post(server, `{ region(code: "410000") { ...Names children { ...Names } } ${sqlProbe()} }\n${fragment}`), "QUERY_TOO_MANY_ALIASES", 30, 32);
  });

  it("root fields: 4 pass, 5 are refused with QUERY_TOO_MANY_ROOT_FIELDS, fragments included", async () => {
    const four = `sectors { code } meetings { id } regions(level: PROVINCE) { code } region(code: "410000") { name }`;
    const atLimit = await post(server, `{ ${four} }`);
    expectAnswered(atLimit);
    expect(atLimit.body.data.regions).toEqual([{ code: "410000" }]);
    expectRefused(await post(server, `{ ${four} ${sqlProbe()} }`), "QUERY_TOO_MANY_ROOT_FIELDS", 4, 5);
    // The same five fields, three of them brought in by a fragment and an inline fragment.
    const viaFragments = `{ sectors { code } ...Q ... on Query { region(code: "410000") { name } } }\nfragment Q on Query { meetings { id } regions(level: PROVINCE) { code } ${sqlProbe()} }`;
    expectRefused(await post(server, viaFragments), "QUERY_TOO_MANY_ROOT_FIELDS", 4, 5);
  });

  it("directives: 6 pass, 7 are refused with QUERY_TOO_MANY_DIRECTIVES", async () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `f${i}: code @include(if: true)`).join(" ");
    const atLimit = await post(server, `{ region(code: "410000") { ${fields(6)} } }`);
    expectAnswered(atLimit);
    expect(atLimit.body.data.region.f5).toBe("410000");
    expectRefused(await post(server, `{ region(code: "410000") { ${fields(7)} } ${sqlProbe()} }`), "QUERY_TOO_MANY_DIRECTIVES", 6, 7);
  });

  // Known gap (graphql-armor's max-directives rule): a fragment spread again is counted by its fragment's memoized
  // count, without the directives on the spread itself, so seven `...N @include(if: true)` count as one.
  // This test fails (as `it.failing` expects) until directives are counted on every spread.
  it.failing("directives on a fragment spread repeated are each counted", async () => {
    const spreads = `{ region(code: "410000") { ${"...N @include(if: true) ".repeat(7)}} }\nfragment N on Region { name }`;
    expectRefused(await post(server, spreads), "QUERY_TOO_MANY_DIRECTIVES", 6, 7);
  });

  it("tokens: 500 pass, 501 are refused with QUERY_TOO_MANY_TOKENS and the document's real token count", async () => {
    // `{ region ( code : "410000" ) { code × k } }` is 10 + k tokens.
    const codes = (k: number) => `{ region(code: "410000") { ${"code ".repeat(k)}} }`;
    expectAnswered(await post(server, codes(490)));
    expectRefused(await post(server, codes(491)), "QUERY_TOO_MANY_TOKENS", 500, 501);
    // Far over: 1,400 names between braces are 1,402 tokens; commas and comments are not tokens.
    expectRefused(await post(server, `{ ${"a, ".repeat(1400)}}`.replace(/ /g, "")), "QUERY_TOO_MANY_TOKENS", 500, 1402);
    expectAnswered(await post(server, padded(codes(490), 2900)));
  });

  it("document size: 3000 bytes pass, 3001 are refused with QUERY_TOO_LARGE before parsing, comments and UTF-8 counted", async () => {
    const query = `{ region(code: "410000") { name } ${sqlProbe()} }`;
    expectAnswered(await post(server, padded(query, 3000)));
    expectRefused(await post(server, padded(query, 3001)), "QUERY_TOO_LARGE", 3000, 3001);
    // 1,000 Chinese characters in a comment are 1,000 characters but 3,000 bytes.
    const chinese = `${query}\n# ${"河".repeat(1000)}\n`;
    expect(chinese.length).toBeLessThan(3000);
    expectRefused(await post(server, chinese), "QUERY_TOO_LARGE", 3000, Buffer.byteLength(chinese));
    // Not parsed at all: a document that is not even GraphQL gets the size error, not a syntax error.
    expectRefused(await post(server, `{{{{ ${"!".repeat(3100)}`), "QUERY_TOO_LARGE", 3000, 3105);
  });

  it("document size holds for GET ?query= too", async () => {
    const query = `{ region(code: "410000") { name } ${sqlProbe()} }`;
    expectAnswered(await get(server, padded(query, 3000)));
    expectRefused(await get(server, padded(query, 3001)), "QUERY_TOO_LARGE", 3000, 3001);
  });

  it("document size cannot be dodged by repeating the query parameter of a GET", async () => {
    const big = padded(`{ region(code: "410000") { name } }`, 3500);
    const params = new URLSearchParams();
    params.append("query", big);
    params.append("query", "{ __typename }");
    const res = await fetch(`${server.url}?${params}`, { headers: { accept: "application/json" } }).then(readAnswer);
    // Whatever the server makes of two queries, it must not run the 3,500-byte one.
    expect(res.status).toBe(400);
    expect(res.body.data ?? null).toBeNull();
    expect(["QUERY_TOO_LARGE", "BAD_REQUEST"]).toContain(res.body.errors[0].extensions.code);
  });

  it("a body over MAX_BODY_BYTES is a 413 PAYLOAD_TOO_LARGE", async () => {
    const body = JSON.stringify({ query: "{ __typename }", variables: { pad: "x".repeat(20_000) } });
    const res = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json" }, body }).then(readAnswer);
    expect(res.status).toBe(413);
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0].extensions.code).toBe("PAYLOAD_TOO_LARGE");
    expect(res.body.errors[0].message).toContain("20000");
    // Just under the limit is read (and answered).
    const fits = JSON.stringify({ query: "{ __typename }", variables: { pad: "x".repeat(19_900) } });
    expect(Buffer.byteLength(fits)).toBeLessThanOrEqual(20_000);
    const ok = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json" }, body: fits }).then(readAnswer);
    expect(ok.body).toEqual({ data: { __typename: "Query" } });
  });

  it("fragment spreads: 50 after expansion pass, 51 are refused with QUERY_TOO_MANY_FRAGMENTS", async () => {
    const spreads = (n: number) => `{ region(code: "410000") { ${"...N ".repeat(n)}} }\nfragment N on Region { name }`;
    const atLimit = await post(server, spreads(50));
    expectAnswered(atLimit);
    expect(atLimit.body.data.region).toEqual({ name: "河南省" });
    expectRefused(await post(server, spreads(51)), "QUERY_TOO_MANY_FRAGMENTS", 50, 51);
    // Five doubling levels: 2^6 - 1 = 63 spreads once expanded, though the document writes 11.
    expect(bombSpreads(5)).toBe(2 ** 6 - 1);
    expectRefused(await post(server, fragmentBomb(5)), "QUERY_TOO_MANY_FRAGMENTS", 50, 63);
    expectAnswered(await post(server, fragmentBomb(4))); // 31 spreads
  });

  it("cost takes `first` given by a variable: the same document passes with $n = 1 and is refused with $n = 100", async () => {
    const document = `query Nested($n: Int) { projects(first: $n) { nodes { region { projects(first: $n) { nodes { name } } } } } }`;
    // Inner page: 1 + n × (nodes 1 + name 1); outer: 1 + n × (nodes 1 + region 1 + inner page);
    // plus two distinct grouped queries (Query.projects and Region.projects).
    const cost = (n: number) => 1 + n * (1 + 1 + (1 + n * 2)) + 2 * GROUPED_QUERY_COST;
    expect(cost(1)).toBeLessThan(5000);
    expect(cost(100)).toBeGreaterThan(5000);
    const small = await post(server, document, { n: 1 });
    expectAnswered(small);
    expect(small.body.data.projects.nodes[0].region.projects.nodes).toHaveLength(1);
    expectRefused(await post(server, document, { n: 100 }), "QUERY_TOO_COMPLEX", 5000, cost(100));
  });

  it("cost counts a repeated filter once: one filter under 30 aliases passes where 30 distinct filters are refused", async () => {
    const stats = (filter: (i: number) => string) => `{ region(code: "410000") { ${Array.from({ length: 30 }, (_, i) => `s${i}: stats(filter: ${filter(i)}) { projectCount }`).join(" ")} } }`;
    const same = await post(server, stats(() => `{ minInvestment: 10 }`));
    expectAnswered(same);
    const counts = Object.values(same.body.data.region);
    expect(new Set(counts.map((c: any) => c.projectCount)).size).toBe(1);
    // region 1 + 30 × (stats 1 + projectCount 1), plus one grouped query per distinct filter.
    const fields = 1 + 30 * 2;
    expect(fields + 1 * GROUPED_QUERY_COST).toBeLessThanOrEqual(5000);
    expectRefused(await post(server, stats((i) => `{ minInvestment: ${i + 1000} }`)), "QUERY_TOO_COMPLEX", 5000, fields + 30 * GROUPED_QUERY_COST);
  });
});

/** The defaults, as the configuration states them. */
const DEFAULTS = loadConfig({}).limits;

describe("limits with their defaults", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("sqlite");
  });
  afterAll(async () => server?.close());

  it("let the benchmark's province-to-county query through, with its real figures", async () => {
    const res = await post(server, provinceToCounty());
    expectAnswered(res);
    const region = res.body.data.region;
    expect(region.stats.projectCount).toBe(1337);
    expect(region.children.length).toBeGreaterThan(10);
    expect(region.children[0].children.length).toBeGreaterThan(5);
    // The same with a stage filter on every stats (one grouped query).
    expectAnswered(await post(server, provinceToCounty("(filter: { stages: [STARTED] })")));
  });

  it("let every example operation through", async () => {
    const dir = path.join(__dirname, "../../schema/examples");
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".graphql"));
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const file of files) {
      const res = await post(server, fs.readFileSync(path.join(dir, file), "utf8"));
      expect([file, res.status, res.body.errors]).toEqual([file, 200, undefined]);
    }
  });

  it("refuse the issue's 1,000-deep parent chain and 500-deep ofType chain with their real depth", async () => {
    expectRefused(await post(server, `{ ${parentChain(1000)} }`), "QUERY_TOO_DEEP", DEFAULTS.depth, 1002);
    expectRefused(await post(server, `{ ${ofTypeChain(500)} }`), "QUERY_TOO_DEEP", DEFAULTS.depth, 504);
  });

  it("refuse a fragment bomb of 30 doubling levels with its real expanded count, at once", async () => {
    const document = fragmentBomb(30);
    expect(Buffer.byteLength(document)).toBeLessThan(2000);
    const started = Date.now();
    const res = await post(server, document);
    expectRefused(res, "QUERY_TOO_MANY_FRAGMENTS", DEFAULTS.fragmentSpreads, bombSpreads(30));
    expect(bombSpreads(30)).toBe(2 ** 31 - 1);
    expect(Date.now() - started).toBeLessThan(2000);
    // The server is still there.
    expectAnswered(await post(server, `{ region(code: "410000") { name } }`));
  });

  it("refuse project connections nested three deep as QUERY_TOO_COMPLEX with their cost", async () => {
    const document = `{ projects(first: 100) { nodes { region { projects(first: 100) { nodes { region { projects(first: 100) { nodes { name } } } } } } } } }`;
    const inner = 1 + 100 * (1 + 1); // projects(first: 100) { nodes { name } }
    const middle = 1 + 100 * (1 + 1 + inner); // projects { nodes { region { inner } } }
    const outer = 1 + 100 * (1 + 1 + middle);
    // Query.projects(first:100) and Region.projects(first:100) (asked twice): two distinct grouped queries.
    expectRefused(await post(server, document), "QUERY_TOO_COMPLEX", DEFAULTS.cost, outer + 2 * GROUPED_QUERY_COST);
  });
});

describe("limits raised for big documents, with a small answer bound and a small document cache", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("sqlite", { MAX_ALIASES: "1000", MAX_TOKENS: "20000", MAX_RESPONSE_BYTES: "20000", DOCUMENT_CACHE_MAX_ENTRIES: "50" });
  });
  afterAll(async () => server?.close());

  it("refuses 1,000 distinct stats filters as QUERY_TOO_COMPLEX without running one statement", async () => {
    const aliases = Array.from({ length: 1000 }, (_, i) => `s${i}: stats(filter: { minInvestment: ${i} }) { projectCount }`).join(" ");
    // region 1 + 1000 × (stats 1 + projectCount 1), plus 1000 distinct grouped queries.
    expectRefused(await post(server, `{ region(code: "410000") { ${aliases} } }`), "QUERY_TOO_COMPLEX", DEFAULTS.cost, 1 + 1000 * 2 + 1000 * GROUPED_QUERY_COST);
  });

  it("refuses an answer over MAX_RESPONSE_BYTES with RESPONSE_TOO_LARGE instead of sending it", async () => {
    const res = await post(server, provinceToCounty());
    expect(res.body.errors).toHaveLength(1);
    const [error] = res.body.errors;
    expect(error.extensions.code).toBe("RESPONSE_TOO_LARGE");
    expect(res.status).toBe(400);
    expect(error.extensions.limit).toBe(20_000);
    // Counting stops at the first step past the bound (one key, number or short name): measured is just over it.
    expect(error.extensions.measured).toBeGreaterThan(20_000);
    expect(error.extensions.measured).toBeLessThan(20_000 + 200);
    expect(res.body.data ?? null).toBeNull();
    expect(res.bytes).toBeLessThan(2000);
    // A smaller answer on the same server goes through.
    expectAnswered(await post(server, `{ region(code: "410000") { name children { code name } } }`));
  });

  it("answers 600 distinct documents (more than the 50 cached) correctly, and the first again", async () => {
    const regions = (await post(server, `{ regions { code name } }`)).body.data.regions as Array<{ code: string; name: string }>;
    expect(regions.length).toBe(175);
    const ask = (i: number) => post(server, `# document ${i}\n{ region(code: "${regions[i % regions.length].code}") { code name } }`);
    for (let start = 0; start < 600; start += 20) {
      const batch = await Promise.all(Array.from({ length: 20 }, (_, j) => ask(start + j)));
      batch.forEach((res, j) => expect(res.body).toEqual({ data: { region: regions[(start + j) % regions.length] } }));
    }
    expect((await ask(0)).body).toEqual({ data: { region: regions[0] } });
  });
});
