/**
 * The contract checker (test/support/contract.ts) on its own: it reports each
 * kind of break, one line each, accepts what honours the contract, and allows
 * an output to be stricter (non-null) than the contract asks.
 */
import { buildSchema } from "graphql";

import { buildAppSchema } from "../../src/server/schema";
import { KNOWN_DEPARTURES, contractMismatches, loadContract } from "../support/contract";

/** The same minimal contract for the small cases below; each case breaks one thing of it. */
const SMALL_CONTRACT = `
  type Query { region(code: ID!): Region, regions(level: Level = CITY): [Region!]! }
  type Region { code: ID!, name: String!, level: Level! }
  enum Level { PROVINCE CITY COUNTY }
`;

function mismatches(generatedSdl: string): string[] {
  return contractMismatches(buildSchema(SMALL_CONTRACT), buildSchema(generatedSdl));
}

describe("the contract checker", () => {
  it("accepts the real schema (the one the code builds) and the contract itself", async () => {
    const { schema: contract } = loadContract();
    expect(contractMismatches(contract, await buildAppSchema(), KNOWN_DEPARTURES)).toEqual([]);
    expect(contractMismatches(contract, contract)).toEqual([]);
    expect(mismatches(SMALL_CONTRACT)).toEqual([]);
  });

  it("reports a missing type", () => {
    expect(
      mismatches(`
        type Query { region(code: ID!): Area, regions(level: Level = CITY): [Area!]! }
        type Area { code: ID!, name: String!, level: Level! }
        enum Level { PROVINCE CITY COUNTY }
      `),
    ).toEqual(["Query.region: type is Area, contract says Region", "Query.regions: type is [Area!]!, contract says [Region!]!", "Region: missing type"]);
  });

  it("reports a missing field", () => {
    expect(
      mismatches(`
        type Query { region(code: ID!): Region, regions(level: Level = CITY): [Region!]! }
        type Region { code: ID!, level: Level! }
        enum Level { PROVINCE CITY COUNTY }
      `),
    ).toEqual(["Region.name: missing field"]);
  });

  it("reports an incompatible type: another type, a nullable output, a stricter input, another kind", () => {
    expect(
      mismatches(`
        type Query { region(code: ID): Region, regions(level: Level! = CITY): [Region]! }
        type Region { code: ID!, name: Int!, level: Level! }
        scalar Level
      `).sort(),
    ).toEqual(
      [
        "Level: is scalar, contract says enum",
        "Query.region(code): type is ID, contract says ID!",
        // A default of a scalar prints as a string, not as the enum value the contract has.
        'Query.regions(level): default is "CITY", contract says CITY',
        "Query.regions: type is [Region]!, contract says [Region!]!",
        "Query.regions(level): type is Level!, contract says Level",
        "Region.name: type is Int!, contract says String!",
      ].sort(),
    );
  });

  it("reports a missing argument and a changed default", () => {
    expect(
      mismatches(`
        type Query { region: Region, regions(level: Level = COUNTY): [Region!]! }
        type Region { code: ID!, name: String!, level: Level! }
        enum Level { PROVINCE CITY COUNTY }
      `),
    ).toEqual(["Query.region(code): missing argument", "Query.regions(level): default is COUNTY, contract says CITY"]);
  });

  it("reports a missing enum value", () => {
    expect(
      mismatches(`
        type Query { region(code: ID!): Region, regions(level: Level = CITY): [Region!]! }
        type Region { code: ID!, name: String!, level: Level! }
        enum Level { PROVINCE CITY }
      `),
    ).toEqual(["Level.COUNTY: missing enum value"]);
  });

  it("reports a missing input field and a union member, and leaves out what it is told to skip", () => {
    const contract = buildSchema(`
      type Query { find(filter: Filter): [Hit!]!, extra: Int }
      input Filter { name: String, code: ID }
      union Hit = A | B
      type A { a: Int }
      type B { b: Int }
      type Later { x: Int }
    `);
    const generated = buildSchema(`
      type Query { find(filter: Filter): [Hit!]! }
      input Filter { name: String }
      union Hit = A
      type A { a: Int }
      type B { b: Int }
    `);
    expect(contractMismatches(contract, generated).sort()).toEqual(
      ["Filter.code: missing input field", "Hit: union lacks member B", "Later: missing type", "Query.extra: missing field"].sort(),
    );
    expect(contractMismatches(contract, generated, new Set(["Later", "Query.extra", "Filter.code"])).sort()).toEqual(["Hit: union lacks member B"]);
  });

  it("allows a non-null output, also inside lists, but not a nullable one or a list for a single value", () => {
    const contract = buildSchema("type Query { a: [[Int]] b: [Int!]! c: Int }");
    const stricter = buildSchema("type Query { a: [[Int!]!]! b: [Int!]! c: [Int] }");
    const looser = buildSchema("type Query { a: [[Int]] b: [Int]! c: Int }");
    expect(contractMismatches(contract, stricter)).toEqual(["Query.c: type is [Int], contract says Int"]);
    expect(contractMismatches(contract, looser)).toEqual(["Query.b: type is [Int]!, contract says [Int!]!"]);
  });

  it("reports exactly the breaks made in a copy of the real contract, and not its stricter outputs", () => {
    const { sdl: contractSdl, schema: contract } = loadContract();
    const edit = (sdl: string, from: string, to: string): string => {
      expect(sdl).toContain(from);
      return sdl.replace(from, to);
    };
    let sdl = contractSdl;
    // Breaks: an output type changed, an input nullability changed, a default changed, a field,
    // an argument, an input field, an enum value and a type removed, a type's kind changed.
    sdl = edit(sdl, "  name: String!\n  level: RegionLevel!", "  name: Int!\n  level: RegionLevel!");
    sdl = edit(sdl, "projects(filter: ProjectFilter, first: Int = 20, after: String, orderBy: ProjectOrder): ProjectConnection!\n  \"Flat", "projects(filter: ProjectFilter, first: Int! = 20, after: String, orderBy: ProjectOrder): ProjectConnection!\n  \"Flat");
    sdl = edit(sdl, "regionLevel: RegionLevel = CITY", "regionLevel: RegionLevel = COUNTY");
    sdl = edit(sdl, "  sector(code: ID!): Sector", "  sector: Sector");
    sdl = edit(sdl, "  \"Name contains this text.\"\n  nameContains: String\n", "");
    sdl = edit(sdl, "enum VenueKind { MAIN SUB }", "enum VenueKind { MAIN }");
    sdl = edit(sdl, "type PageInfo {", "type PageInfoRenamed {");
    sdl = edit(sdl, "pageInfo: PageInfo!", "pageInfo: PageInfoRenamed!");
    sdl = edit(sdl, "enum OrderDirection { ASC DESC }", "scalar OrderDirection");
    sdl = edit(sdl, "direction: OrderDirection = ASC", "direction: OrderDirection");
    // Allowed: an output made non-null, also inside a list.
    sdl = edit(sdl, "  investor: String\n  \"True", "  investor: String!\n  \"True");
    sdl = edit(sdl, "  sector: Sector\n  stage: ProjectStage\n", "  sector: Sector!\n  stage: ProjectStage\n");
    const broken = buildSchema(sdl);

    expect([...contractMismatches(contract, broken)].sort()).toEqual(
      [
        "Region.name: type is Int!, contract says String!",
        "Query.projects(first): type is Int!, contract says Int",
        "Query.breakdown(regionLevel): default is COUNTY, contract says CITY",
        "Query.sector(code): missing argument",
        "ProjectFilter.nameContains: missing input field",
        "VenueKind.SUB: missing enum value",
        "PageInfo: missing type",
        "ProjectConnection.pageInfo: type is PageInfoRenamed!, contract says PageInfo!",
        "OrderDirection: is scalar, contract says enum",
        "ProjectOrder.direction: default is (none), contract says ASC",
      ].sort(),
    );
  });
});
