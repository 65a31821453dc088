/**
 * A small second subgraph, kept for the tests and for trying the composed
 * graph (`npm run supergraph`): a "regional economy" service, as a statistics
 * bureau might run one, contributing `Region.gdp` and `Region.population` by
 * the region's GB/T 2260 code. Plain Apollo Server and @apollo/subgraph, no
 * database.
 *
 * ILLUSTRATIVE FIGURES ONLY. The numbers are not official statistics and
 * not estimates of them: each county's GDP and population are generated
 * deterministically from its code (the same every run), and a city's and the
 * province's are the sums of the regions below them, so that the figures are
 * consistent with each other and a test can check what the gateway merges.
 * The regions themselves are the product's shipped Henan list
 * (src/seed/data/henan-divisions.json, 175 regions).
 */
import fs from "node:fs";
import path from "node:path";

import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";

const DIVISIONS_FILE = path.join(__dirname, "../../../src/seed/data/henan-divisions.json");

/** What this service says of where its figures come from (also served as `Query.economyFiguresNote`). */
export const FIGURES_NOTE =
  "Illustrative figures, not official statistics: each county's GDP and population are generated deterministically from its GB/T 2260 code, and each city's and the province's are the sums of the regions below them.";

/** One region's figures. */
export interface RegionFigures {
  code: string;
  name: string;
  parentCode: string | null;
  /** Gross regional product, 亿元 (illustrative), two decimals. */
  gdp: number;
  /** Resident population, persons (illustrative). */
  population: number;
}

/** 32-bit FNV-1a of a string: the deterministic source of the illustrative figures. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * The figures of every Henan region, in code order: a leaf region (a county,
 * or a city without counties such as 济源) gets GDP between 100 and 1,000
 * 亿元 and a population between 200,000 and 1,500,000 from its code; a region
 * with children gets their sums (GDP summed in 0.01 亿元 units, so exactly).
 */
export function henanFigures(): RegionFigures[] {
  const divisions = JSON.parse(fs.readFileSync(DIVISIONS_FILE, "utf8")) as Array<{ code: string; name: string; parentCode: string | null }>;
  const children = new Map<string, string[]>();
  for (const d of divisions) if (d.parentCode) children.set(d.parentCode, [...(children.get(d.parentCode) ?? []), d.code]);
  const cents = new Map<string, number>();
  const people = new Map<string, number>();
  const figure = (code: string): void => {
    if (cents.has(code)) return;
    const below = children.get(code) ?? [];
    if (below.length === 0) {
      cents.set(code, 10_000 + (fnv1a(`gdp:${code}`) % 90_001));
      people.set(code, 200_000 + (fnv1a(`population:${code}`) % 1_300_001));
      return;
    }
    for (const child of below) figure(child);
    cents.set(code, below.reduce((sum, child) => sum + cents.get(child)!, 0));
    people.set(code, below.reduce((sum, child) => sum + people.get(child)!, 0));
  };
  for (const d of divisions) figure(d.code);
  return divisions
    .map((d) => ({ code: d.code, name: d.name, parentCode: d.parentCode, gdp: cents.get(d.code)! / 100, population: people.get(d.code)! }))
    .sort((a, b) => a.code.localeCompare(b.code));
}

/** The economy subgraph's SDL. */
export const ECONOMY_TYPE_DEFS = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.0", import: ["@key"])

  type Query {
    "Regions this service has figures for, in code order; with parentCode, only the regions directly below that one; with codes, only those. Illustrative figures (see economyFiguresNote)."
    regionFigures(
      "GB/T 2260 code of the region whose direct children are wanted, e.g. 410000."
      parentCode: ID
      "GB/T 2260 codes of the regions wanted."
      codes: [ID!]
    ): [Region!]!
    "Where this service's figures come from: they are illustrative, not official statistics."
    economyFiguresNote: String!
  }

  type Region @key(fields: "code") {
    code: ID!
    "Gross regional product, 亿元. ILLUSTRATIVE: generated from the region's code (counties) or summed (cities, province); not an official figure."
    gdp: Float
    "Resident population, persons. ILLUSTRATIVE: generated from the region's code (counties) or summed (cities, province); not an official figure."
    population: Int
  }
`);

/** The economy subgraph's schema over `figures` (Henan's by default). */
export function economySchema(figures: RegionFigures[] = henanFigures()) {
  const byCode = new Map(figures.map((f) => [f.code, f]));
  // A region this service has no figures for is still the region, with null figures.
  const region = (code: string) => byCode.get(code) ?? { code, gdp: null, population: null };
  return buildSubgraphSchema({
    typeDefs: ECONOMY_TYPE_DEFS,
    resolvers: {
      Query: {
        regionFigures: (_: unknown, args: { parentCode?: string | null; codes?: string[] | null }) =>
          figures.filter((f) => (args.parentCode == null || f.parentCode === args.parentCode) && (args.codes == null || args.codes.includes(f.code))),
        economyFiguresNote: () => FIGURES_NOTE,
      },
      Region: {
        __resolveReference: (reference: { code?: unknown }) => region(String(reference.code)),
      },
    } as any,
  });
}

/** A running economy subgraph. */
export interface RunningSubgraph {
  url: string;
  stop(): Promise<void>;
}

/** Starts the economy subgraph on `host`:`port` (0: a free port). */
export async function startEconomySubgraph(options: { host?: string; port?: number } = {}): Promise<RunningSubgraph> {
  // No inline traces (they are for Apollo Studio's usage reporting, which nothing here sends to).
  const server = new ApolloServer({ schema: economySchema(), plugins: [ApolloServerPluginInlineTraceDisabled()] });
  const { url } = await startStandaloneServer(server, { listen: { host: options.host ?? "127.0.0.1", port: options.port ?? 0 } });
  return { url, stop: () => server.stop() };
}
