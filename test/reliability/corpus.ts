/**
 * The hostile corpus: requests an attacker (or a broken client) would send, each with the answers it may get.
 * Generated, deterministic. Every limit is tried at its bound (must pass), just over it (its own code, with
 * `extensions.limit` and `extensions.measured`), and far over it; then malformed HTTP, GraphQL errors, odd
 * values and the example operations that must keep passing.
 */
import { createHash } from "node:crypto";

import { mulberry32 } from "../../bench/generate";
import { getQuery, postJson, type RequestSpec } from "./support/http";
import { countTokens, DEFAULT_LIMITS as L, exampleOperations, PROJECT_PAGE, provinceToCounty, BREAKDOWN, MEETING_BATCHES, SINGLE_REGION, CHEAP } from "./queries";

/** One acceptable answer: an HTTP status and the first error's `extensions.code` (null: no errors and data; undefined: not checked). */
export interface Outcome {
  status: number;
  code?: string | null;
}

export interface CorpusEntry {
  name: string;
  /** The kind of attack, for the report. */
  kind: string;
  request: RequestSpec;
  /** Any one of these is right. */
  expect: Outcome[];
  /**
   * For a refusal by a limit: the configured limit it must report ("configured": a number, for MAX_COST whose default
   * the spec leaves to the server), and the measured value (exact, or just over the limit).
   */
  limit?: { value: number | "configured"; measured: number | "over" };
  /** Answers made by Node's HTTP parser before the application sees the request (431, 400 on a bad request line): no x-request-id there. */
  beforeApp?: boolean;
  /** Raw bytes written on a socket instead of an HTTP request made by the client library. */
  raw?: string;
}

/** Codes of the limits (any of them is a right refusal when several limits are crossed at once). */
export const LIMIT_CODES = [
  "QUERY_TOO_LARGE",
  "QUERY_TOO_MANY_TOKENS",
  "QUERY_TOO_DEEP",
  "QUERY_TOO_MANY_ALIASES",
  "QUERY_TOO_MANY_ROOT_FIELDS",
  "QUERY_TOO_MANY_DIRECTIVES",
  "QUERY_TOO_MANY_FRAGMENTS",
  "QUERY_TOO_COMPLEX",
];

const OK: Outcome[] = [{ status: 200, code: null }];
const refused = (...codes: string[]): Outcome[] => codes.map((code) => ({ status: 400, code }));
const PARSE = refused("GRAPHQL_PARSE_FAILED");
const INVALID = refused("GRAPHQL_VALIDATION_FAILED");
/** A bad argument or variable value: Apollo answers 400 for variables, the resolvers 200 with the error. */
const BAD_INPUT: Outcome[] = [
  { status: 400, code: "BAD_USER_INPUT" },
  { status: 200, code: "BAD_USER_INPUT" },
];
/** Introspection in production without INTROSPECTION=true. */
const NO_INTROSPECTION = refused("GRAPHQL_VALIDATION_FAILED", "INTROSPECTION_DISABLED", "FORBIDDEN");
const BAD_REQUEST: Outcome[] = [{ status: 400, code: "BAD_REQUEST" }];

const post = (query: string, variables?: unknown, extra: Record<string, unknown> = {}): RequestSpec => postJson({ query, variables, ...extra });

/** `parent { … }` n levels under a county, ending in `name`: depth n + 2. */
function parentChain(levels: number): string {
  return `{ region(code: "410102") { ${"parent { ".repeat(levels)}name${" }".repeat(levels)} } }`;
}

/** A query of exactly `depth` nested fields. */
function depthQuery(depth: number): string {
  return parentChain(depth - 2);
}

/** Introspection `ofType` nested n deep. */
function ofTypeChain(n: number): string {
  return `{ __type(name: "Query") { fields { type { ${"ofType { ".repeat(n)}name${" }".repeat(n)} } } } }`;
}

/** A comment-padded document of exactly `bytes` bytes (ASCII) around a valid query. */
function padded(query: string, bytes: number, filler = "#"): string {
  const overhead = query.length + 2; // "\n" before and after the comment line
  const pad = bytes - overhead;
  if (pad < 1) throw new Error("padding too small");
  return `${query}\n${filler === "#" ? "#" + "x".repeat(pad - 1) : filler.repeat(pad)}\n`;
}

/**
 * A valid document of exactly `n` tokens: the padding is the default value of a list variable, which the request
 * also sends (so the default, parsed and validated, is never used and no field sees a long list).
 */
function tokensRequest(n: number): RequestSpec {
  const base = 'query T($s: [ProjectStage!] = []) { region(code: "410100") { stats(filter: { stages: $s }) { projectCount } } }';
  const extra = n - countTokens(base);
  const stages = ["SIGNED", "STARTED", "IN_PRODUCTION"];
  const query = base.replace("= []", `= [${Array.from({ length: extra }, (_, i) => stages[i % 3]).join(" ")}]`);
  if (countTokens(query) !== n) throw new Error(`token query has ${countTokens(query)} tokens, not ${n}`);
  return postJson({ query, variables: { s: ["SIGNED"] } });
}

/** A compact document of at least `n` tokens (two bytes a token). */
function manyTokens(n: number): string {
  return `query T($n: [Int] = [${"1 ".repeat(n)}]) { __typename }`;
}

/** n aliases under one region (not at the root). */
function aliasesQuery(n: number, field = "name"): string {
  return `{ region(code: "410100") { ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(" ")} } }`;
}

/** n aliased root fields. */
function rootFieldsQuery(n: number): string {
  return `{ ${Array.from({ length: n }, (_, i) => `r${i}: region(code: "410100") { name }`).join(" ")} }`;
}

/** n directives, each on its own `name` field under one region. */
function directivesQuery(n: number, directive = "@include(if: true)"): string {
  return `{ region(code: "410100") { ${Array.from({ length: n }, () => `name ${directive}`).join(" ")} } }`;
}

/** n spreads of one fragment, flat. */
function flatSpreads(n: number): string {
  return `{ region(code: "410100") { ${"...N ".repeat(n)}} } fragment N on Region { name }`;
}

/** The fragment bomb: F1 spreads F2 `width` times, F2 spreads F3 …, `levels` fragments; the operation spreads F1 once. */
function fragmentBomb(levels: number, width: number): string {
  const parts = [`{ region(code: "410100") { ...F1 } }`];
  for (let i = 1; i < levels; i++) parts.push(`fragment F${i} on Region { ${`...F${i + 1} `.repeat(width)}}`);
  parts.push(`fragment F${levels} on Region { name }`);
  return parts.join("\n");
}

/** Spreads after expansion of `fragmentBomb(levels, width)`: 1 + w + w² + … + w^(levels-1). */
function bombSpreads(levels: number, width: number): number {
  let total = 0;
  for (let i = 0; i < levels; i++) total += width ** i;
  return total;
}

/** projects(first: 100) { nodes { region { projects … } } } nested `levels` connections deep. */
function nestedProjects(levels: number, first = 100): string {
  let inner = "name";
  for (let i = 0; i < levels; i++) inner = `projects(first: ${first}) { nodes { ${i === 0 ? inner : `region { ${inner} }`} } }`;
  return `{ ${inner} }`;
}

/** meetings → batches → projects → milestones → meeting, nested twice (the 231-byte, 19 MB answer of issue 7). */
function meetingLoop(first: number | null): string {
  const p = first === null ? "projects" : `projects(first: ${first})`;
  return `{ meetings { batches { ${p} { nodes { milestones { meeting { batches { ${p} { nodes { milestones { meeting { title } } } } } } } } } } } }`;
}

/** The province-to-county selection as a fragment, spread under `n` aliased roots (each its own region lookup). */
function provinceAliases(n: number, viaFragment: boolean): string {
  const body = provinceToCounty().replace(/^query ProvinceToCounty \{ region\(code: "410000"\) /, "").replace(/ \}$/, "");
  if (!viaFragment) return `{ ${Array.from({ length: n }, (_, i) => `p${i}: region(code: "410000") ${body}`).join(" ")} }`;
  return `{ ${Array.from({ length: n }, (_, i) => `p${i}: region(code: "410000") { ...P }`).join(" ")} } fragment P on Region ${body}`;
}

/** `n` stats, each with a filter of its own (a grouped query each), aliased under the province or at the root. */
function distinctFilters(n: number, atRoot: boolean): string {
  const fields = Array.from({ length: n }, (_, i) => `f${i}: stats(filter: { nameContains: "q${i}" }) { projectCount }`).join(" ");
  return atRoot ? `{ ${fields} }` : `{ region(code: "410000") { ${fields} } }`;
}

/** The province-to-county query asked under `n` distinct filters (aliases at the root): the heaviest shape the limits still let through at small n. */
export function provinceUnderFilters(n: number, salt = 0): string {
  const s = (i: number) =>
    `stats(filter: { minInvestment: ${(0.001 * (i + 1) + salt * 1e-6).toFixed(6)} }) { projectCount totalInvestment bySector { sector { code name } projectCount totalInvestment } byStage { stage projectCount totalInvestment } }`;
  return `{ ${Array.from({ length: n }, (_, i) => `p${i}: region(code: "410000") { code name ${s(i)} children { code name ${s(i)} children { code name ${s(i)} } } }`).join(" ")} }`;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** The whole corpus. */
export function hostileCorpus(): CorpusEntry[] {
  const c: CorpusEntry[] = [];
  const add = (kind: string, name: string, request: RequestSpec, expect: Outcome[], extra: Partial<CorpusEntry> = {}) =>
    c.push({ kind, name, request, expect, ...extra });
  const over = (value: number | "configured", measured: number | "over" = "over") => ({ limit: { value, measured } });
  const rnd = mulberry32(7); // deterministic: the corpus is the same on every run

  // --- Must pass: the example operations, the benchmark's questions, and every limit exactly at its bound.
  for (const example of exampleOperations()) {
    add("must pass", `example ${example.name} (POST)`, post(example.query), OK);
    add("must pass", `example ${example.name} (GET)`, getQuery({ query: example.query }), OK);
  }
  add("must pass", "province-to-county (bench)", post(provinceToCounty()), OK);
  add("must pass", "province-to-county, STARTED only", post(provinceToCounty("(filter: { stages: [STARTED] })")), OK);
  add("must pass", "project page of 100", post(PROJECT_PAGE), OK);
  add("must pass", "breakdown county x sector x stage", post(BREAKDOWN), OK);
  add("must pass", "a meeting's batches", post(MEETING_BATCHES), OK);
  add("must pass", "one region", post(SINGLE_REGION), OK);
  add("must pass", "cheap region name", post(CHEAP), OK);
  add("must pass", "__typename", post("{ __typename }"), OK);
  add("must pass", "named operation chosen by operationName", postJson({ query: "query A { __typename } query B { sectors { code } }", operationName: "B" }), OK);
  add("must pass", "variables given", post("query R($c: ID!) { region(code: $c) { name } }", { c: "410300" }), OK);
  add("must pass", `document of exactly ${L.documentBytes} bytes (comment padding)`, post(padded(CHEAP, L.documentBytes)), OK);
  add("must pass", `exactly ${L.tokens} tokens`, tokensRequest(L.tokens), OK);
  add("must pass", `depth exactly ${L.depth}`, post(depthQuery(L.depth)), OK);
  add("must pass", `exactly ${L.aliases} aliases`, post(aliasesQuery(L.aliases)), OK);
  add("must pass", `exactly ${L.rootFields} root fields`, post(rootFieldsQuery(L.rootFields)), OK);
  add("must pass", `exactly ${L.directives} directives`, post(directivesQuery(L.directives)), OK);
  add("must pass", `exactly ${L.fragmentSpreads} fragment spreads (flat)`, post(flatSpreads(L.fragmentSpreads)), OK);
  add("must pass", "fragment tree of 127 spreads (7 levels of 2)", post(fragmentBomb(7, 2)), OK);
  add("must pass", "liveness", { method: "GET", path: "/health/live" }, [{ status: 200 }]);
  add("must pass", "readiness", { method: "GET", path: "/health/ready" }, [{ status: 200 }]);
  add("must pass", "CSV breakdown export", { method: "GET", path: "/export/breakdown.csv?groupBy=REGION,SECTOR&regionLevel=COUNTY&unit=YI_YUAN" }, [{ status: 200 }]);

  // --- Document size (comments included), refused before parsing.
  add("document size", `${L.documentBytes + 1} bytes (one over)`, post(padded(CHEAP, L.documentBytes + 1)), refused("QUERY_TOO_LARGE"), over(L.documentBytes, L.documentBytes + 1));
  for (const kb of [150, 300, 500]) {
    add("document size", `${kb} KB padded with comments`, post(padded(CHEAP, kb * 1000)), refused("QUERY_TOO_LARGE"), over(L.documentBytes, kb * 1000));
  }
  for (let i = 0; i < 9; i++) {
    // Nine distinct 900 KB documents (issue 7: nine of them exhausted the heap).
    const doc = padded(`{ region(code: "4101${String(i).padStart(2, "0")}") { name } }`, 900_000 + i);
    add("document size", `900 KB comment-padded document #${i + 1}`, post(doc), refused("QUERY_TOO_LARGE"), over(L.documentBytes, Buffer.byteLength(doc)));
  }
  add("document size", "900 KB of whitespace", post(`{ __typename ${" ".repeat(900_000)}}`), refused("QUERY_TOO_LARGE"), over(L.documentBytes));
  add("document size", "900 KB of commas (ignored tokens)", post(`{ __typename ${",".repeat(900_000)}}`), refused("QUERY_TOO_LARGE"), over(L.documentBytes));
  add("document size", "900 KB search text as a literal", post(`{ projects(filter: { nameContains: "${"搜".repeat(300_000)}" }) { totalCount } }`), refused("QUERY_TOO_LARGE"), over(L.documentBytes));
  add("document size", "200 KB multi-byte comment (bytes, not characters)", post(`${CHEAP}\n#${"中".repeat(70_000)}\n`), refused("QUERY_TOO_LARGE"), over(L.documentBytes, CHEAP.length + 3 + 3 * 70_000));
  add("document size", "150 KB document by GET (URL over Node's header limit)", getQuery({ query: padded(CHEAP, 150_000) }), [{ status: 431 }, { status: 414 }], { beforeApp: true });
  add("document size", "12 KB document by GET", getQuery({ query: padded(CHEAP, 12_000) }), OK);

  // --- Tokens.
  add("tokens", `${L.tokens + 1} tokens (one over)`, tokensRequest(L.tokens + 1), refused("QUERY_TOO_MANY_TOKENS"), over(L.tokens, L.tokens + 1));
  add("tokens", "20,000 tokens", post(manyTokens(20_000)), refused("QUERY_TOO_MANY_TOKENS"), over(L.tokens));
  add("tokens", "45,000 tokens", post(manyTokens(45_000)), refused("QUERY_TOO_MANY_TOKENS"), over(L.tokens));
  add("tokens", "9,000 __typename", post(`{ ${"__typename ".repeat(9000)}}`), refused("QUERY_TOO_MANY_TOKENS"), over(L.tokens));
  add("tokens", "30,000 unknown one-letter fields", post(`{ ${"a ".repeat(30_000)}}`), refused("QUERY_TOO_MANY_TOKENS"), over(L.tokens));
  add("tokens", "30,000 braces", post("{".repeat(30_000)), refused("QUERY_TOO_MANY_TOKENS", "GRAPHQL_PARSE_FAILED"));
  add("tokens", "list literal of 10,000 ids", post(`{ stats(filter: { regionCodes: [${'"410100" '.repeat(10_000)}] }) { projectCount } }`), refused("QUERY_TOO_MANY_TOKENS"), over(L.tokens));

  // --- Depth (introspection included).
  add("depth", `depth ${L.depth + 1} (one over)`, post(depthQuery(L.depth + 1)), refused("QUERY_TOO_DEEP"), over(L.depth, L.depth + 1));
  for (const d of [30, 100, 1000]) add("depth", `parent chain ${d} deep`, post(depthQuery(d)), refused("QUERY_TOO_DEEP"), over(L.depth, d));
  add("depth", "children chain 20 deep", post(`{ region(code: "410000") { ${"children { ".repeat(19)}name${" }".repeat(19)} } }`), refused("QUERY_TOO_DEEP"), over(L.depth, 21));
  add("depth", "ancestors chain 500 deep", post(`{ region(code: "410102") { ${"ancestors { ".repeat(500)}name${" }".repeat(500)} } }`), refused("QUERY_TOO_DEEP"), over(L.depth, 502));
  add("depth", "sector parent chain 200 deep", post(`{ sector(code: "MFG") { ${"parent { ".repeat(200)}name${" }".repeat(200)} } }`), refused("QUERY_TOO_DEEP"), over(L.depth, 202));
  add("depth", "parent chain 100 deep inside inline fragments", post(`{ region(code: "410102") { ${"... on Region { parent { ".repeat(100)}name${" } }".repeat(100)} } }`), refused("QUERY_TOO_DEEP"), over(L.depth));
  add("depth", "parent chain 100 deep across named fragments", post(`{ region(code: "410102") { ...P0 } } ${Array.from({ length: 100 }, (_, i) => `fragment P${i} on Region { parent { ${i < 99 ? `...P${i + 1}` : "name"} } }`).join(" ")}`), refused("QUERY_TOO_DEEP"), over(L.depth));
  add("depth", "project → region → projects cycle 8 times", post(`{ project(id: "1") { ${"region { projects(first: 1) { nodes { ".repeat(8)}name${" } } }".repeat(8)} } }`), refused("QUERY_TOO_DEEP", "QUERY_TOO_COMPLEX"), over(L.depth));
  add("depth", "introspection ofType 1000 deep (production)", post(ofTypeChain(1000)), [...NO_INTROSPECTION, ...refused("QUERY_TOO_DEEP")]);
  add("depth", "introspection ofType 500 deep under __schema (production)", post(`{ __schema { types { fields { type { ${"ofType { ".repeat(500)}name${" }".repeat(500)} } } } } }`), [...NO_INTROSPECTION, ...refused("QUERY_TOO_DEEP")]);
  add("depth", "introspection 16 deep (production)", post(ofTypeChain(12)), [...NO_INTROSPECTION, ...refused("QUERY_TOO_DEEP")]);

  // --- Aliases.
  add("aliases", `${L.aliases + 1} aliases (one over)`, post(aliasesQuery(L.aliases + 1)), refused("QUERY_TOO_MANY_ALIASES"), over(L.aliases, L.aliases + 1));
  add("aliases", "100 aliases", post(aliasesQuery(100)), refused("QUERY_TOO_MANY_ALIASES"), over(L.aliases, 100));
  add("aliases", "1,000 aliases of __typename", post(aliasesQuery(1000, "__typename")), refused("QUERY_TOO_MANY_ALIASES"), over(L.aliases, 1000));
  add("aliases", "300 aliases of the province-to-county query (fragment, at the root)", post(provinceAliases(300, true)), refused("QUERY_TOO_MANY_ALIASES", "QUERY_TOO_MANY_ROOT_FIELDS", "QUERY_TOO_MANY_FRAGMENTS", "QUERY_TOO_COMPLEX"), over("configured"));
  add("aliases", "300 aliases of the province-to-county query (written out)", post(provinceAliases(300, false)), refused(...LIMIT_CODES));
  add("aliases", "300 aliases of children under the province", post(`{ region(code: "410000") { ${Array.from({ length: 300 }, (_, i) => `c${i}: children { ...C }`).join(" ")} } } fragment C on Region { code name stats { projectCount bySector { sector { code } projectCount } } children { code name stats { projectCount } } }`), refused("QUERY_TOO_MANY_ALIASES", "QUERY_TOO_MANY_FRAGMENTS", "QUERY_TOO_COMPLEX"), over("configured"));
  add("aliases", "40 aliases hidden in a fragment", post(`{ region(code: "410100") { ...A } } fragment A on Region { ${Array.from({ length: 40 }, (_, i) => `x${i}: code`).join(" ")} }`), refused("QUERY_TOO_MANY_ALIASES"), over(L.aliases, 40));

  // --- Root fields.
  add("root fields", `${L.rootFields + 1} root fields (one over)`, post(rootFieldsQuery(L.rootFields + 1)), refused("QUERY_TOO_MANY_ROOT_FIELDS"), over(L.rootFields, L.rootFields + 1));
  add("root fields", "25 root fields through a fragment", post(`{ ...Q } fragment Q on Query { ${Array.from({ length: 25 }, (_, i) => `r${i}: region(code: "410100") { name }`).join(" ")} }`), refused("QUERY_TOO_MANY_ROOT_FIELDS"), over(L.rootFields, 25));
  add("root fields", "1,000 aliased root lookups", post(rootFieldsQuery(1000)), refused(...LIMIT_CODES));
  add("root fields", "4,000 root __typename", post(`{ ${"__typename ".repeat(4000)}}`), refused("QUERY_TOO_MANY_ROOT_FIELDS", "QUERY_TOO_COMPLEX"));

  // --- Directives.
  add("directives", `${L.directives + 1} directives (one over)`, post(directivesQuery(L.directives + 1)), refused("QUERY_TOO_MANY_DIRECTIVES"), over(L.directives, L.directives + 1));
  add("directives", "60 @skip(if: false)", post(directivesQuery(60, "@skip(if: false)")), refused("QUERY_TOO_MANY_DIRECTIVES"), over(L.directives, 60));
  add("directives", "@include(if: true) x1000 on separate fields", post(directivesQuery(1000)), refused("QUERY_TOO_MANY_DIRECTIVES", "QUERY_TOO_MANY_TOKENS"));
  add("directives", "@include(if: true) x1000 on one field", post(`{ region(code: "410100") { name ${"@include(if: true) ".repeat(1000)}} }`), refused("QUERY_TOO_MANY_DIRECTIVES", "QUERY_TOO_MANY_TOKENS", "GRAPHQL_VALIDATION_FAILED"));
  add("directives", "@include(if: true) x100 on one field", post(`{ region(code: "410100") { name ${"@include(if: true) ".repeat(100)}} }`), refused("QUERY_TOO_MANY_DIRECTIVES", "GRAPHQL_VALIDATION_FAILED"));
  add("directives", "60 unknown directives", post(directivesQuery(60, "@nope")), refused("QUERY_TOO_MANY_DIRECTIVES", "GRAPHQL_VALIDATION_FAILED"));
  add("directives", "60 directives in a fragment", post(`{ region(code: "410100") { ...D } } fragment D on Region { ${"name @include(if: true) ".repeat(60)}}`), refused("QUERY_TOO_MANY_DIRECTIVES"), over(L.directives, 60));
  add("directives", "@deprecated in a query (wrong location)", post('{ region(code: "410100") { name @deprecated } }'), INVALID);

  // --- Fragment spreads after expansion.
  add("fragments", `${L.fragmentSpreads + 1} flat spreads (one over)`, post(flatSpreads(L.fragmentSpreads + 1)), refused("QUERY_TOO_MANY_FRAGMENTS"), over(L.fragmentSpreads, L.fragmentSpreads + 1));
  for (const [levels, width] of [
    [30, 2],
    [8, 2],
    [20, 3],
    [10, 10],
    [5, 50],
    [50, 2],
  ] as const) {
    const total = bombSpreads(levels, width);
    add("fragments", `fragment bomb ${levels} levels x ${width} (${total.toExponential(1)} spreads)`, post(fragmentBomb(levels, width)), refused("QUERY_TOO_MANY_FRAGMENTS"), over(L.fragmentSpreads));
  }
  add("fragments", "fragment bomb with fields at every level", post(`{ region(code: "410100") { ...F1 } } ${Array.from({ length: 29 }, (_, i) => `fragment F${i + 1} on Region { code name ...F${i + 2} ...F${i + 2} }`).join(" ")} fragment F30 on Region { name }`), refused("QUERY_TOO_MANY_FRAGMENTS"), over(L.fragmentSpreads));
  add("fragments", "fragment cycle", post('{ region(code: "410100") { ...A } } fragment A on Region { name ...B } fragment B on Region { code ...A }'), refused("GRAPHQL_VALIDATION_FAILED", "QUERY_TOO_MANY_FRAGMENTS"));
  add("fragments", "self-spreading fragment", post('{ region(code: "410100") { ...A } } fragment A on Region { name ...A }'), refused("GRAPHQL_VALIDATION_FAILED", "QUERY_TOO_MANY_FRAGMENTS"));
  add("fragments", "400 unused fragments", post(`{ __typename } ${Array.from({ length: 400 }, (_, i) => `fragment U${i} on Region { name }`).join(" ")}`), INVALID);
  add("fragments", "spread of an unknown fragment", post('{ region(code: "410100") { ...Nope } }'), INVALID);
  add("fragments", "fragment on an unknown type", post('{ region(code: "410100") { ...A } } fragment A on Nope { name }'), INVALID);
  add("fragments", "inline fragments nested 400 deep", post(`{ ${"... on Query { ".repeat(400)}__typename${" }".repeat(400)} }`), [...OK, ...refused(...LIMIT_CODES)]);

  // --- Cost: lists multiply by `first` or their size, each distinct filter is a grouped query.
  add("cost", "projects connections 4 deep, first 100", post(nestedProjects(4)), refused("QUERY_TOO_COMPLEX"), over("configured"));
  add("cost", "projects connections 3 deep, first 100", post(nestedProjects(3)), refused("QUERY_TOO_COMPLEX"), over("configured"));
  add("cost", "projects connections 4 deep, default page size", post(nestedProjects(4, 20).replace(/\(first: 20\)/g, "")), refused("QUERY_TOO_COMPLEX"), over("configured"));
  add("cost", "meetings→batches→projects→milestones→meeting twice, first 100", post(meetingLoop(100)), refused("QUERY_TOO_COMPLEX"), over("configured"));
  add("cost", "meetings→batches→projects→milestones→meeting twice, default page", post(meetingLoop(null)), [...OK, ...refused("QUERY_TOO_COMPLEX")]);
  add("cost", "1,000 distinct filters at the root", post(distinctFilters(1000, true)), refused(...LIMIT_CODES));
  add("cost", "1,000 distinct filters under the province", post(distinctFilters(1000, false)), refused(...LIMIT_CODES));
  add("cost", "100 distinct filters under the province", post(distinctFilters(100, false)), refused("QUERY_TOO_MANY_ALIASES", "QUERY_TOO_COMPLEX"));
  add("cost", "province-to-county under 10 distinct filters", post(provinceUnderFilters(10)), refused("QUERY_TOO_COMPLEX"), over("configured"));
  add("cost", "province-to-county under 20 distinct filters", post(provinceUnderFilters(20)), refused("QUERY_TOO_COMPLEX", "QUERY_TOO_MANY_TOKENS"));
  add("cost", "300 distinct filters as variables", postJson({
    query: `query Q(${Array.from({ length: 300 }, (_, i) => `$f${i}: ProjectFilter`).join(", ")}) { region(code: "410000") { ${Array.from({ length: 300 }, (_, i) => `s${i}: stats(filter: $f${i}) { projectCount }`).join(" ")} } }`,
    variables: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, { nameContains: `v${i}` }])),
  }), refused(...LIMIT_CODES));
  add("cost", "every region's projects, 100 each, with milestones and meetings", post('{ regions { projects(first: 100) { nodes { name milestones { meeting { venues { region { name } batches { stage } } } } } } } }'), refused("QUERY_TOO_COMPLEX"), over("configured"));
  add("cost", "sectors x projects x milestones x venues x batches x projects", post('{ sectors { projects(first: 100) { nodes { milestones { meeting { venues { batches { projects(first: 100) { nodes { name } } } } } } } } } }'), refused("QUERY_TOO_COMPLEX"), over("configured"));
  add("cost", "every region's stats under 30 filters", post(`{ regions { ${Array.from({ length: 30 }, (_, i) => `s${i}: stats(filter: { nameContains: "r${i}" }) { projectCount bySector { sector { code name } projectCount totalInvestment } }`).join(" ")} } }`), refused("QUERY_TOO_COMPLEX"), over("configured"));
  add("cost", "breakdown by every dimension at county level", post("{ breakdown(groupBy: [REGION, SECTOR, STAGE, MEETING, YEAR, QUARTER], regionLevel: COUNTY) { region { code name ancestors { name } } sector { code name } stage meeting { title } year quarter projectCount totalInvestment } }"), [...OK, ...refused("QUERY_TOO_COMPLEX")]);

  // --- HTTP: bodies, content types, methods, headers.
  add("http body", "1.1 MB JSON body", post(CHEAP, { pad: "x".repeat(1_100_000) }), [{ status: 413 }]);
  add("http body", "5 MB JSON body", post(CHEAP, { pad: "x".repeat(5_000_000) }), [{ status: 413 }]);
  add("http body", "900 KB variables (unused)", post(CHEAP, { big: "y".repeat(900_000) }), OK);
  add("http body", "900 KB search text in a variable", post("query S($t: String) { projects(first: 1, filter: { nameContains: $t }) { totalCount } }", { t: "z".repeat(900_000) }), [...OK, ...BAD_INPUT]);
  add("http body", "20,000-deep nested array variable", { method: "POST", path: "/graphql", headers: { "content-type": "application/json" }, body: `{"query":"query Q($c: [ID!]) { stats(filter: { regionCodes: $c }) { projectCount } }","variables":{"c":${"[".repeat(20_000)}${"]".repeat(20_000)}}}` }, [...BAD_INPUT, ...BAD_REQUEST]);
  add("http body", "20,000-deep nested object variable", { method: "POST", path: "/graphql", headers: { "content-type": "application/json" }, body: `{"query":"query Q($f: ProjectFilter) { stats(filter: $f) { projectCount } }","variables":{"f":${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}}}` }, [...BAD_INPUT, ...BAD_REQUEST]);
  add("http body", "40,000 unused variables", postJson({ query: CHEAP, variables: Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`v${i}`, i])) }), OK);
  for (const [name, body] of [
    ["truncated JSON", '{"query": "{ __typename }"'],
    ["single quotes", "{'query': '{ __typename }'}"],
    ["trailing comma", '{"query": "{ __typename }",}'],
    ["JSON null", "null"],
    ["JSON string", '"{ __typename }"'],
    ["JSON number", "42"],
    ["bare GraphQL as JSON", "{ __typename }"],
    ["NUL bytes", '{"query":"{ __typename }"}\u0000\u0000'],
    ["binary garbage", "\u00ff\u00fe\u0000\u0001garbage"],
    ["JSON with a BOM", '\ufeff{"query": "{ __typename }"}'],
    ["unterminated string 500 KB", `{"query": "${"a".repeat(500_000)}`],
  ] as const) {
    add("invalid JSON", name, { method: "POST", path: "/graphql", headers: { "content-type": "application/json" }, body }, name === "JSON with a BOM" ? [...OK, ...BAD_REQUEST] : BAD_REQUEST);
  }
  add("http body", "empty body", { method: "POST", path: "/graphql", headers: { "content-type": "application/json" }, body: "" }, BAD_REQUEST);
  add("http body", "empty object", postJson({}), BAD_REQUEST);
  add("http body", "query is a number", postJson({ query: 42 }), BAD_REQUEST);
  add("http body", "query is an object", postJson({ query: { a: 1 } }), BAD_REQUEST);
  add("http body", "variables is a string", postJson({ query: CHEAP, variables: "{}x" }), BAD_REQUEST);
  add("http body", "variables is an array", postJson({ query: CHEAP, variables: [1, 2] }), BAD_REQUEST);
  add("http body", "operationName is a number", postJson({ query: CHEAP, operationName: 7 }), BAD_REQUEST);
  add("http body", "extensions is a string", postJson({ query: CHEAP, extensions: "x" }), BAD_REQUEST);
  add("batching", "array of 2 operations", postJson([{ query: CHEAP }, { query: "{ __typename }" }]), [{ status: 400 }]);
  add("batching", "array of 1,000 operations", postJson(Array.from({ length: 1000 }, () => ({ query: provinceToCounty() }))), [{ status: 400 }, { status: 413 }]);
  add("batching", "empty array", postJson([]), [{ status: 400 }]);
  for (const [name, type] of [
    ["text/plain", "text/plain"],
    ["application/graphql", "application/graphql"],
    ["form-urlencoded", "application/x-www-form-urlencoded"],
    ["multipart", "multipart/form-data; boundary=x"],
    ["application/xml", "application/xml"],
    ["no content type", ""],
  ] as const) {
    const headers: Record<string, string> = type ? { "content-type": type } : {};
    add("content type", `JSON sent as ${name}`, { method: "POST", path: "/graphql", headers, body: JSON.stringify({ query: CHEAP }) }, [{ status: 400, code: "BAD_REQUEST" }, { status: 415 }]);
  }
  add("content type", "JSON in charset latin1", { method: "POST", path: "/graphql", headers: { "content-type": "application/json; charset=latin1" }, body: JSON.stringify({ query: CHEAP }) }, [{ status: 415 }, { status: 400, code: "BAD_REQUEST" }]);
  add("content type", "Accept: application/graphql-response+json", postJson({ query: CHEAP }, { accept: "application/graphql-response+json" }), OK);
  add("methods", "GET mutation", getQuery({ query: "mutation { __typename }" }), [{ status: 405 }]);
  add("methods", "GET mutation with operationName", getQuery({ query: "mutation M { __typename }", operationName: "M" }), [{ status: 405 }]);
  add("methods", "POST mutation asking only __typename (needs no token)", post("mutation { __typename }"), OK);
  add("methods", "POST mutation without a token", post('mutation { createMeeting(input: { title: "x", heldOn: "2021-01-01", hostRegionCode: "410000" }) { id } }'), [{ status: 401, code: "UNAUTHENTICATED" }]);
  add("methods", "POST mutation with an unknown token", postJson({ query: "mutation { __typename }" }, { authorization: "Bearer mpg_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }), [{ status: 401, code: "UNAUTHENTICATED" }]);
  add("methods", "POST subscription", post("subscription { __typename }"), [...INVALID, ...BAD_REQUEST]);
  add("methods", "GET subscription", getQuery({ query: "subscription { __typename }" }), [{ status: 405 }, ...INVALID]);
  for (const method of ["PUT", "DELETE", "PATCH"]) add("methods", `${method} /graphql`, { method, path: "/graphql", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: CHEAP }) }, [{ status: 405 }]);
  add("methods", "GET without a query", { method: "GET", path: "/graphql?foo=1", headers: { accept: "application/json" } }, BAD_REQUEST);
  add("methods", "GET with invalid variables JSON", getQuery({ query: "query R($c: ID!) { region(code: $c) { name } }", variables: "{c:" }, { accept: "application/json" }), BAD_REQUEST);
  add("methods", "GET with invalid extensions JSON", getQuery({ query: CHEAP, extensions: "[[[" }, { accept: "application/json" }), BAD_REQUEST);
  add("headers", "20 KB header", { method: "POST", path: "/graphql", headers: { "content-type": "application/json", "x-junk": "j".repeat(20_000) }, body: JSON.stringify({ query: CHEAP }) }, [{ status: 431 }], { beforeApp: true });
  add("headers", "200 headers of 50 bytes", { method: "POST", path: "/graphql", headers: { "content-type": "application/json", ...Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-h${i}`, "v".repeat(50)])) }, body: JSON.stringify({ query: CHEAP }) }, OK);
  add("headers", "15 KB Authorization header", { method: "POST", path: "/graphql", headers: { "content-type": "application/json", authorization: `Bearer ${"t".repeat(15_000)}` }, body: JSON.stringify({ query: CHEAP }) }, [...OK, { status: 401 }, { status: 400 }]);
  add("headers", "client-chosen x-request-id of 10 KB", { method: "POST", path: "/graphql", headers: { "content-type": "application/json", "x-request-id": "r".repeat(10_000) }, body: JSON.stringify({ query: CHEAP }) }, OK);
  add("headers", "Accept: text/html on POST", { method: "POST", path: "/graphql", headers: { "content-type": "application/json", accept: "text/html" }, body: JSON.stringify({ query: CHEAP }) }, [{ status: 200, code: null }, { status: 406 }]);
  add("headers", "If-None-Match of 8 KB on GET", getQuery({ query: CHEAP }, { "if-none-match": `"${"e".repeat(8000)}"` }), OK);

  // Raw bytes on a socket: Node's HTTP parser answers these itself.
  add("raw http", "Content-Length and Transfer-Encoding together (smuggling)", { method: "RAW", path: "/graphql" }, [{ status: 400 }], {
    beforeApp: true,
    raw: 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 26\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{"query":"{ __typename }"}',
  });
  add("raw http", "garbage request line", { method: "RAW", path: "/" }, [{ status: 400 }], { beforeApp: true, raw: "HELLO WORLD\r\n\r\n" });
  add("raw http", "chunk size of 2^64", { method: "RAW", path: "/graphql" }, [{ status: 400 }, { status: 413 }], {
    beforeApp: true,
    raw: "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\nabc\r\n",
  });
  add("raw http", "header with a NUL byte", { method: "RAW", path: "/graphql" }, [{ status: 400 }], { beforeApp: true, raw: "GET /health/live HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n" });
  add("raw http", "HTTP/0.9 style request", { method: "RAW", path: "/" }, [{ status: 400 }, { status: 505 }], { beforeApp: true, raw: "GET /graphql\r\n\r\n" });

  // --- GraphQL syntax and validation.
  for (const [name, query] of [
    ["unclosed brace", "{ region(code: \"410100\") { name }"],
    ["lone closing brace", "}"],
    ["unterminated string", '{ region(code: "410100) { name } }'],
    ["invalid character", "{ region(code: \"410100\") { name ☃ } }"],
    ["raw NUL in the document", "{ __typename \u0000 }"],
    ["lone surrogate escape in a string", '{ projects(filter: { nameContains: "\\ud800" }) { totalCount } }'],
    ["empty document", ""],
    ["only a comment", "# nothing"],
    ["only whitespace", "     \n\t  "],
    ["fragment without type condition", "{ ...on { name } }"],
    ["number as a field name", "{ 123 }"],
    ["variable definition without type", "query ($a) { __typename }"],
  ] as const) {
    add("syntax", name, post(query), name === "empty document" || name === "only whitespace" ? [...PARSE, ...BAD_REQUEST] : PARSE);
  }
  add("validation", "unknown field with a near name (no suggestion)", post('{ regio(code: "410100") { name } }'), INVALID);
  add("validation", "unknown nested field with a near name", post('{ region(code: "410100") { nam } }'), INVALID);
  add("validation", "unknown argument with a near name", post('{ region(cod: "410100") { name } }'), INVALID);
  add("validation", "unknown enum value with a near name", post("{ regions(level: CITI) { name } }"), INVALID);
  add("validation", "unknown type in a variable", post("query Q($a: Regoin) { __typename }"), INVALID);
  add("validation", "missing required argument", post("{ region { name } }"), INVALID);
  add("validation", "scalar with a selection", post('{ region(code: "410100") { name { x } } }'), INVALID);
  add("validation", "object without a selection", post('{ region(code: "410100") }'), INVALID);
  add("validation", "conflicting aliases", post('{ region(code: "410100") { a: name a: code } }'), INVALID);
  add("validation", "two anonymous operations", post("{ __typename } { __typename }"), INVALID);
  add("validation", "unused variable", post("query Q($a: Int) { __typename }"), INVALID);
  add("validation", "undefined variable", post("{ region(code: $c) { name } }"), INVALID);
  add("validation", "90 KB field name", post(`{ ${"f".repeat(90_000)} }`), INVALID);
  add("validation", "90 KB argument name", post(`{ region(${"a".repeat(90_000)}: "410100") { name } }`), INVALID);
  add("validation", "90 KB enum value", post(`{ regions(level: ${"L".repeat(90_000)}) { name } }`), INVALID);
  add("validation", "90 KB type condition", post(`{ region(code: "410100") { ... on ${"T".repeat(90_000)} { name } } }`), INVALID);
  add("validation", "90 KB operation name", post(`query ${"O".repeat(90_000)} { __typename }`), OK);
  add("validation", "Int literal over 32 bits for first", post("{ projects(first: 99999999999999999999) { totalCount } }"), INVALID);
  add("validation", "first = 2^31", post("{ projects(first: 2147483648) { totalCount } }"), INVALID);
  add("validation", "first as a float", post("{ projects(first: 1e10) { totalCount } }"), INVALID);
  add("validation", "first as a string", post('{ projects(first: "10") { totalCount } }'), INVALID);
  add("validation", "impossible date literal", post('{ meetings(from: "2021-02-30") { id } }'), [...INVALID, ...BAD_INPUT]);
  add("validation", "90 KB date literal", post(`{ meetings(from: "${"9".repeat(90_000)}") { id } }`), [...INVALID, ...BAD_INPUT]);
  add("operations", "unknown operationName", postJson({ query: "query A { __typename }", operationName: "Nope" }), [{ status: 400, code: "OPERATION_RESOLUTION_FAILURE" }, ...BAD_REQUEST]);
  add("operations", "two operations without operationName", post("query A { __typename } query B { __typename }"), [{ status: 400, code: "OPERATION_RESOLUTION_FAILURE" }, ...BAD_REQUEST]);
  add("operations", "90 KB unknown operationName", postJson({ query: "query A { __typename }", operationName: "N".repeat(90_000) }), [{ status: 400, code: "OPERATION_RESOLUTION_FAILURE" }, ...BAD_REQUEST]);
  add("introspection", "__schema in production", post("{ __schema { queryType { name } } }"), NO_INTROSPECTION);
  add("introspection", "__type in production", post('{ __type(name: "Query") { name } }'), NO_INTROSPECTION);
  add("introspection", "full introspection query in production", post("query IntrospectionQuery { __schema { types { name kind fields { name args { name type { name ofType { name } } } } } } }"), NO_INTROSPECTION);
  add("introspection", "__schema by GET in production", getQuery({ query: "{ __schema { types { name } } }" }), NO_INTROSPECTION);

  // --- Variables of the wrong type.
  add("variables", "ID! given an object", post("query R($c: ID!) { region(code: $c) { name } }", { c: { x: 1 } }), BAD_INPUT);
  add("variables", "ID! missing", post("query R($c: ID!) { region(code: $c) { name } }", {}), BAD_INPUT);
  add("variables", "ID! given null", post("query R($c: ID!) { region(code: $c) { name } }", { c: null }), BAD_INPUT);
  add("variables", "Int given 1e300", post("query P($n: Int) { projects(first: $n) { totalCount } }", { n: 1e300 }), BAD_INPUT);
  add("variables", "Int given a string", post("query P($n: Int) { projects(first: $n) { totalCount } }", { n: "100" }), BAD_INPUT);
  add("variables", "enum given a wrong value", post("query P($l: RegionLevel) { regions(level: $l) { name } }", { l: "TOWN" }), BAD_INPUT);
  add("variables", "input object with an unknown field", post("query P($f: ProjectFilter) { stats(filter: $f) { projectCount } }", { f: { nope: 1 } }), BAD_INPUT);
  add("variables", "list given 1,000 items of the wrong type", post("query P($f: ProjectFilter) { stats(filter: $f) { projectCount } }", { f: { stages: Array.from({ length: 1000 }, () => 1) } }), BAD_INPUT);
  add("variables", "list given 100,000 items of the wrong type", post("query P($f: ProjectFilter) { stats(filter: $f) { projectCount } }", { f: { stages: Array.from({ length: 100_000 }, () => 1) } }), BAD_INPUT);
  add("variables", "Date given garbage", post("query M($d: Date) { meetings(from: $d) { id } }", { d: "not a date" }), BAD_INPUT);
  add("variables", "Float given a string", post("query P($m: Float) { stats(filter: { minInvestment: $m }) { projectCount } }", { m: "lots" }), BAD_INPUT);

  // --- Values: page sizes, cursors, codes, search text, unicode.
  for (const first of [0, -1, -2147483648, 101, 1000, 2147483647]) {
    add("values", `first: ${first}`, post(`{ projects(first: ${first}) { totalCount } }`), BAD_INPUT);
  }
  for (const [name, after] of [
    ["garbage cursor", "!!!not-a-cursor!!!"],
    ["base64 of JSON", Buffer.from('{"id":1,"v":[1,2,3]}').toString("base64")],
    ["base64 of a negative offset", Buffer.from("-999999").toString("base64")],
    ["empty cursor", ""],
    ["90 KB cursor", "c".repeat(90_000)],
    ["cursor with NUL", "abc\u0000def"],
  ] as const) {
    add("values", `after: ${name}`, post("query P($a: String) { projects(first: 5, after: $a, orderBy: { field: INVESTMENT, direction: DESC }) { totalCount nodes { id } } }", { a: after }), [...BAD_INPUT, ...OK]);
  }
  add("values", "unknown region code in a filter", post('{ stats(filter: { regionCodes: ["999999"] }) { projectCount } }'), [{ status: 200, code: "NOT_FOUND" }, { status: 400, code: "NOT_FOUND" }]);
  add("values", "90 KB region code in a filter", post(`{ stats(filter: { regionCodes: ["${"9".repeat(90_000)}"] }) { projectCount } }`), [...BAD_INPUT, { status: 200, code: "NOT_FOUND" }, { status: 400, code: "NOT_FOUND" }]);
  add("values", "90 KB sector code in a filter", post(`{ stats(filter: { sectorCodes: ["${"S".repeat(90_000)}"] }) { projectCount } }`), [...BAD_INPUT, { status: 200, code: "NOT_FOUND" }, { status: 400, code: "NOT_FOUND" }]);
  add("values", "90 KB region code lookup", post(`{ region(code: "${"4".repeat(90_000)}") { name } }`), [...OK, ...BAD_INPUT]);
  add("values", "90 KB project id", post(`{ project(id: "${"7".repeat(90_000)}") { name } }`), [...OK, ...BAD_INPUT]);
  add("values", "project id not a number", post('{ project(id: "abc") { name } }'), [...OK, ...BAD_INPUT]);
  add("values", "meeting id -1", post('{ meeting(id: "-1") { title } }'), [...OK, ...BAD_INPUT]);
  add("values", "minInvestment 1e308", post("{ stats(filter: { minInvestment: 1e308 }) { projectCount } }"), [...OK, ...BAD_INPUT]);
  add("values", "minInvestment -1e308", post("{ stats(filter: { minInvestment: -1e308 }) { projectCount } }"), [...OK, ...BAD_INPUT]);
  add("values", "min above max", post("{ stats(filter: { minInvestment: 10, maxInvestment: 1 }) { projectCount } }"), [...OK, ...BAD_INPUT]);
  add("values", "90 KB search text as a literal", post(`{ projects(first: 1, filter: { nameContains: "${"q".repeat(90_000)}" }) { totalCount } }`), [...OK, ...BAD_INPUT]);
  add("values", "search text of 30,000 Chinese characters", post(`{ projects(first: 1, filter: { nameContains: "${"项".repeat(30_000)}" }) { totalCount } }`), [...OK, ...BAD_INPUT]);
  add("values", "search text with LIKE wildcards", post('{ projects(first: 5, filter: { nameContains: "%_%\\\\%" }) { totalCount } }'), [...OK, ...BAD_INPUT]);
  add("values", "search text with SQL", post(`{ projects(first: 5, filter: { nameContains: "' OR 1=1; DROP TABLE project; --" }) { totalCount } }`), [...OK, ...BAD_INPUT]);
  add("values", "search text with an escaped NUL", post('{ projects(first: 5, filter: { nameContains: "a\\u0000b" }) { totalCount } }'), [...OK, ...BAD_INPUT]);
  add("values", "search text with emoji and RTL override", post('{ projects(first: 5, filter: { nameContains: "😀\\u202e项目" }) { totalCount } }'), [...OK, ...BAD_INPUT]);
  add("values", "BOM before the document", post(`\ufeff${CHEAP}`), OK);
  add("values", "unicode escapes in a code", post('{ region(code: "\\u0034\\u0031\\u0030\\u0031\\u0030\\u0030") { name } }'), OK);
  add("values", "invalid UTF-8 in the JSON body", { method: "POST", path: "/graphql", headers: { "content-type": "application/json" }, body: Buffer.concat([Buffer.from('{"query":"{ projects(first: 1, filter: { nameContains: \\"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('\\" }) { totalCount } }"}')]) }, [...OK, ...BAD_INPUT, ...BAD_REQUEST, ...PARSE]);
  add("values", "breakdown with 1,000 repeated dimensions", post(`{ breakdown(groupBy: [${"REGION ".repeat(1000)}]) { projectCount } }`), [...BAD_INPUT, ...refused(...LIMIT_CODES), ...OK]);
  add("values", "bySector of an unknown parent", post('{ stats { bySector(parentCode: "NOPE") { projectCount } } }'), [{ status: 200, code: "NOT_FOUND" }, { status: 400, code: "NOT_FOUND" }]);

  // --- Issue 19 (targets and assessment, 达效, 要素保障): the new fields and mutations, anonymous and malformed.
  const ISSUE19_FIELDS = "assessment(year: 2021, quarter: 3) { stage reachedInvestment completionRate rank card } funnel { from rate } outputStats(year: 2022) { reportingProjects } factorStats { openIssues } factorIssues(first: 5) { id daysOpen }";
  add("must pass", "issue 19: province-to-county assessment, funnel, output and factor fields", post(`{ region(code: "410000") { ${ISSUE19_FIELDS} children { ${ISSUE19_FIELDS} children { ${ISSUE19_FIELDS} } } } }`), OK);
  add("must pass", "issue 19: rankings of the cities", post('{ rankings(parentCode: "410000", stage: SIGNED, year: 2021) { region { code } rank card } }'), OK);
  add("must pass", "issue 19: assessment CSV", { method: "GET", path: "/export/assessment.csv?parentCode=410000&stage=EFFECTIVE&year=2021&encoding=gb18030" }, [{ status: 200 }]);
  add("must pass", "issue 19: factor issues CSV", { method: "GET", path: "/export/factor-issues.csv?region=410000&kinds=LAND,APPROVAL" }, [{ status: 200 }]);
  add("must pass", "issue 19: 6 aliases of regions { factorIssues } (over 500 listings)", post(`{ ${Array.from({ length: 6 }, (_, i) => `a${i}: regions { factorIssues(first: ${i + 1}) { id } }`).join(" ")} }`), OK);
  add("values", "issue 19: factorIssues first: 0", post('{ region(code: "410000") { factorIssues(first: 0) { id } } }'), BAD_INPUT);
  add("values", "issue 19: factorIssues first: 1e9", post('{ region(code: "410000") { factorIssues(first: 1000000000) { id } } }'), BAD_INPUT);
  add("values", "issue 19: assessment quarter 5", post('{ region(code: "410000") { assessment(year: 2021, quarter: 5) { stage } } }'), BAD_INPUT);
  add("values", "issue 19: assessment year 99999", post('{ region(code: "410000") { assessment(year: 99999) { stage } } }'), BAD_INPUT);
  add("values", "issue 19: rankings of an unknown parent", post('{ rankings(parentCode: "999999", stage: SIGNED, year: 2021) { rank } }'), BAD_INPUT);
  add("values", "issue 19: outputStats year 0", post('{ region(code: "410000") { outputStats(year: 0) { reportingProjects } } }'), BAD_INPUT);
  add("variables", "issue 19: 10,000 unknown factor kinds", post("query Q($k: [FactorKind!]) { region(code: \"410000\") { factorIssues(kinds: $k) { id } } }", { k: Array.from({ length: 10_000 }, () => "WATER") }), BAD_INPUT);
  const UNAUTHENTICATED: Outcome[] = [{ status: 401, code: "UNAUTHENTICATED" }, { status: 200, code: "UNAUTHENTICATED" }];
  add("values", "issue 19: setTarget without a token", post('mutation { setTarget(input: { regionCode: "410100", stage: SIGNED, year: 2021, investment: 1e308 }) { rank } }'), UNAUTHENTICATED);
  add("values", "issue 19: reportOutput without a token", post('mutation { reportOutput(input: { projectId: "1", year: 2022, output: 1, designedAnnualOutput: 1e-300, expectedVersion: 1 }) { id } }'), UNAUTHENTICATED);
  add("values", "issue 19: raiseFactorIssue without a token", post(`mutation { raiseFactorIssue(input: { projectId: "1", kind: LAND, department: "${"部".repeat(30_000)}", description: "x", raisedOn: "2024-01-01" }) { id } }`), UNAUTHENTICATED);
  add("values", "issue 19: resolveFactorIssue without a token", post('mutation { resolveFactorIssue(id: "abc", resolvedOn: "2024-01-01") { id } }'), UNAUTHENTICATED);
  add("aliases", "issue 19: 50 aliases of rankings", post(`{ ${Array.from({ length: 50 }, (_, i) => `a${i}: rankings(parentCode: "410000", stage: SIGNED, year: ${2000 + i}) { rank }`).join(" ")} }`), refused(...LIMIT_CODES));
  add(
    "aliases",
    "issue 19: 30 periods of the whole tree's assessment",
    post(`{ region(code: "410000") { ${Array.from({ length: 30 }, (_, i) => `a${i}: children { children { assessment(year: ${2001 + i}) { rank } } }`).join(" ")} } }`),
    // Sixty statements, each a range of one period's milestones: answered or refused by the cost, never a 500.
    [...OK, ...refused(...LIMIT_CODES)],
  );
  add("paths", "issue 19: assessment CSV with quarter=7", { method: "GET", path: "/export/assessment.csv?parentCode=410000&stage=SIGNED&year=2021&quarter=7" }, [{ status: 400 }]);
  add("paths", "issue 19: assessment CSV with an unknown parameter", { method: "GET", path: "/export/assessment.csv?parentCode=410000&stage=SIGNED&year=2021&drop=table" }, [{ status: 400 }]);
  add("paths", "issue 19: factor issues CSV of an unknown region", { method: "GET", path: "/export/factor-issues.csv?region=999999" }, [{ status: 400 }]);
  add("paths", "issue 19: factor issues CSV in latin1", { method: "GET", path: "/export/factor-issues.csv?region=410000&encoding=latin1" }, [{ status: 400 }]);

  // --- __typename floods and other cheap-looking floods.
  // graphql-js itself gives up on merging this many identical fields ("Validation aborted."): a clean refusal too.
  add("floods", "__typename x4,900 under one region", post(`{ region(code: "410100") { ${"__typename ".repeat(4900)}} }`), [...OK, ...refused(...LIMIT_CODES, "GRAPHQL_VALIDATION_FAILED")]);
  add("floods", "the same field x4,900", post(`{ region(code: "410100") { ${"name ".repeat(4900)}} }`), [...OK, ...refused(...LIMIT_CODES, "GRAPHQL_VALIDATION_FAILED")]);
  add("floods", "__typename at every level of a deep tree", post(`{ region(code: "410000") { __typename children { __typename children { __typename stats { __typename bySector { __typename sector { __typename } } } } } } }`), OK);

  // --- APQ.
  add("persisted queries", "unknown hash", postJson({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(`{ nope${rnd()} }`) } } }), [
    { status: 200, code: "PERSISTED_QUERY_NOT_FOUND" },
    { status: 400, code: "PERSISTED_QUERY_NOT_FOUND" },
    { status: 404, code: "PERSISTED_QUERY_NOT_FOUND" },
  ]);
  add("persisted queries", "hash that does not match the query", postJson({ query: CHEAP, extensions: { persistedQuery: { version: 1, sha256Hash: sha256("other") } } }), [{ status: 400 }]);
  add("persisted queries", "unsupported version", postJson({ query: CHEAP, extensions: { persistedQuery: { version: 99, sha256Hash: sha256(CHEAP) } } }), [{ status: 400 }]);
  add("persisted queries", "90 KB hash", postJson({ extensions: { persistedQuery: { version: 1, sha256Hash: "a".repeat(90_000) } } }), [{ status: 400 }, { status: 200, code: "PERSISTED_QUERY_NOT_FOUND" }, { status: 400, code: "PERSISTED_QUERY_NOT_FOUND" }]);
  add("persisted queries", "register a valid query", postJson({ query: CHEAP, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(CHEAP) } } }), OK);
  add("persisted queries", "register a document over the size limit", postJson({ query: padded(CHEAP, 200_000), extensions: { persistedQuery: { version: 1, sha256Hash: sha256(padded(CHEAP, 200_000)) } } }), refused("QUERY_TOO_LARGE"), over(L.documentBytes, 200_000));
  add("persisted queries", "register a fragment bomb", postJson({ query: fragmentBomb(30, 2), extensions: { persistedQuery: { version: 1, sha256Hash: sha256(fragmentBomb(30, 2)) } } }), refused("QUERY_TOO_MANY_FRAGMENTS"), over(L.fragmentSpreads));

  // --- Other paths.
  add("paths", "unknown path", { method: "GET", path: "/nope" }, [{ status: 404 }]);
  add("paths", "path traversal", { method: "GET", path: "/explorer/..%2f..%2f..%2f..%2fetc%2fpasswd" }, [{ status: 404 }, { status: 400 }, { status: 301 }, { status: 302 }, { status: 403 }]);
  add("paths", "10 KB unknown path", { method: "GET", path: `/${"p".repeat(10_000)}` }, [{ status: 404 }, { status: 414 }]);
  add("paths", "CSV export with a 9 KB unknown dimension", { method: "GET", path: `/export/breakdown.csv?groupBy=${"D".repeat(9000)}` }, [{ status: 400 }]);
  add("paths", "CSV export with a 9 KB region code", { method: "GET", path: `/export/projects.csv?regionCodes=${"4".repeat(9000)}` }, [{ status: 400 }, { status: 404 }]);
  add("paths", "CSV export with an unknown parameter", { method: "GET", path: "/export/breakdown.csv?groupBy=REGION&drop=table" }, [{ status: 400 }]);
  add("paths", "CSV export with every dimension at county level", { method: "GET", path: "/export/breakdown.csv?groupBy=REGION,SECTOR,STAGE,MEETING,YEAR,QUARTER&regionLevel=COUNTY" }, [{ status: 200 }, { status: 400 }]);
  add("paths", "POST to /health/live", { method: "POST", path: "/health/live", headers: { "content-type": "application/json" }, body: "{}" }, [{ status: 404 }, { status: 405 }]);

  return c;
}

/** Requests for the tight-limits server: every limit configured small, and `extensions.limit` must be the configured one. */
export const TIGHT_ENV: Record<string, string> = {
  MAX_DEPTH: "5",
  MAX_ALIASES: "3",
  MAX_ROOT_FIELDS: "2",
  MAX_DIRECTIVES: "2",
  MAX_FRAGMENT_SPREADS: "3",
  MAX_TOKENS: "300",
  MAX_DOCUMENT_BYTES: "3000",
  MAX_COST: "2000",
  MAX_RESPONSE_BYTES: "5000",
  MAX_BODY_BYTES: "5000",
  BATCH_REQUESTS: "true",
  INTROSPECTION: "true",
  SQL_STATEMENTS_HEADER: "true",
  BODY_TIMEOUT_MS: "2000",
  HEADERS_TIMEOUT_MS: "2000",
  CORS_ORIGINS: "https://dash.example.org",
};

export function tightCorpus(): CorpusEntry[] {
  const c: CorpusEntry[] = [];
  const add = (name: string, request: RequestSpec, expect: Outcome[], limit?: CorpusEntry["limit"]) => c.push({ kind: "configured limits", name, request, expect, limit });
  add("depth 6 over MAX_DEPTH=5", post(depthQuery(6)), refused("QUERY_TOO_DEEP"), { value: 5, measured: 6 });
  add("depth 5 passes", post(depthQuery(5)), OK);
  add("introspection depth 6 over MAX_DEPTH=5", post(ofTypeChain(2)), refused("QUERY_TOO_DEEP"), { value: 5, measured: 6 });
  add("introspection allowed by INTROSPECTION=true", post("{ __schema { queryType { name } } }"), OK);
  add("4 aliases over MAX_ALIASES=3", post(aliasesQuery(4)), refused("QUERY_TOO_MANY_ALIASES"), { value: 3, measured: 4 });
  add("3 root fields over MAX_ROOT_FIELDS=2", post(rootFieldsQuery(3)), refused("QUERY_TOO_MANY_ROOT_FIELDS"), { value: 2, measured: 3 });
  add("3 directives over MAX_DIRECTIVES=2", post(directivesQuery(3)), refused("QUERY_TOO_MANY_DIRECTIVES"), { value: 2, measured: 3 });
  add("4 spreads over MAX_FRAGMENT_SPREADS=3", post(flatSpreads(4)), refused("QUERY_TOO_MANY_FRAGMENTS"), { value: 3, measured: 4 });
  add("301 tokens over MAX_TOKENS=300", tokensRequest(301), refused("QUERY_TOO_MANY_TOKENS"), { value: 300, measured: 301 });
  add("3001 bytes over MAX_DOCUMENT_BYTES=3000", post(padded(CHEAP, 3001)), refused("QUERY_TOO_LARGE"), { value: 3000, measured: 3001 });
  add("every region's stats by sector over MAX_COST=2000", post("{ regions { stats { bySector { projectCount } } } }"), refused("QUERY_TOO_COMPLEX"), { value: 2000, measured: "over" });
  add("every region's code and name over MAX_RESPONSE_BYTES=5000", post("{ regions { code name level } }"), refused("RESPONSE_TOO_LARGE"), { value: 5000, measured: "over" });
  add("6 KB body over MAX_BODY_BYTES=5000", post(CHEAP, { pad: "x".repeat(6000) }), [{ status: 413 }]);
  add("batch of two allowed by BATCH_REQUESTS=true", postJson([{ query: CHEAP }, { query: "{ __typename }" }]), [{ status: 200 }]);
  return c;
}

/** Limits raised far enough that only the cost can refuse these (each distinct filter is a grouped query; lists multiply). */
export const COST_ONLY_ENV: Record<string, string> = {
  MAX_TOKENS: "1000000",
  MAX_ALIASES: "100000",
  MAX_ROOT_FIELDS: "100000",
  MAX_DOCUMENT_BYTES: "3000000",
  MAX_FRAGMENT_SPREADS: "100000",
  MAX_DIRECTIVES: "100000",
  MAX_DEPTH: "100",
  MAX_BODY_BYTES: "4000000",
  SQL_STATEMENTS_HEADER: "true",
};

export function costOnlyCorpus(): CorpusEntry[] {
  const c: CorpusEntry[] = [];
  const add = (name: string, request: RequestSpec) => c.push({ kind: "cost alone", name, request, expect: refused("QUERY_TOO_COMPLEX"), limit: { value: "configured", measured: "over" } });
  add("1,000 distinct filters at the root", post(distinctFilters(1000, true)));
  add("1,000 distinct filters under the province", post(distinctFilters(1000, false)));
  add("300 aliases of the province-to-county query (written out)", post(provinceAliases(300, false)));
  add("300 aliases of the province-to-county query (fragment)", post(provinceAliases(300, true)));
  add("province-to-county under 20 distinct filters", post(provinceUnderFilters(20)));
  return c;
}
