import fs from "node:fs";
import path from "node:path";

import { Lexer, Source, TokenKind } from "graphql";

import { breakdownQuery, PROJECT_PAGE, provinceToCounty } from "../../bench/scenarios";
import { loadConfig } from "../../src/config";
import type { WorkItem } from "./support/load";
import { ROOT } from "./support/mariadb";

export { PROJECT_PAGE, provinceToCounty };

/** The limits' defaults, as the server reads them from an empty environment (README "Operating it"). */
export const DEFAULT_LIMITS = loadConfig({}).limits;

/** Every example operation shipped in schema/examples, by file name (each must answer 200 without errors). */
export function exampleOperations(): Array<{ name: string; query: string }> {
  const dir = path.join(ROOT, "schema/examples");
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".graphql"))
    .sort()
    .map((f) => ({ name: f.replace(/\.graphql$/, ""), query: fs.readFileSync(path.join(dir, f), "utf8") }));
}

/** The flat breakdown of the benchmark: Henan by county × sector × stage. */
export const BREAKDOWN = breakdownQuery([
  { name: "groupBy", type: { kind: "NON_NULL", name: null, ofType: null } },
  { name: "filter", type: { kind: "INPUT_OBJECT", name: "ProjectFilter", ofType: null } },
  { name: "regionLevel", type: { kind: "ENUM", name: "RegionLevel", ofType: null } },
])!;

export const CHEAP = '{ region(code: "410100") { name } }';

export const MEETING_BATCHES =
  'query MeetingBatches { meeting(id: "1") { title batches { stage stats { projectCount totalInvestment bySector { sector { code name } projectCount totalInvestment } } projects(first: 20) { totalCount nodes { id name } } } } }';

export const SINGLE_REGION =
  'query OneRegion { region(code: "410300") { code name level parent { name } ancestors { name } stats { projectCount totalInvestment byStage { stage projectCount } } } }';

/** The mixed read workload of the load test. */
export const MIXED_WORKLOAD: WorkItem[] = [
  { name: "province-to-county", query: provinceToCounty() },
  { name: "project page", query: PROJECT_PAGE },
  { name: "breakdown county x sector x stage", query: BREAKDOWN },
  { name: "meeting batches", query: MEETING_BATCHES },
  { name: "single region", query: SINGLE_REGION },
];

/** Lexical tokens of a document as graphql-js counts them against `maxTokens` (comments and commas are not tokens). */
export function countTokens(document: string): number {
  const lexer = new Lexer(new Source(document));
  let n = 0;
  while (lexer.advance().kind !== TokenKind.EOF) n += 1;
  return n;
}

