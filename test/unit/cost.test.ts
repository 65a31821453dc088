/**
 * The cost model (src/server/cost.ts) over the real schema, with list sizes
 * made up here: every field costs 1 plus what it selects, a list multiplies
 * what it selects by its known size, `first` multiplies a project page (at
 * most 100), each distinct grouped query is collected once, and a breakdown
 * has at most min(product of its dimensions' sizes, projects) rows. Then
 * checkCost (src/server/limits.ts), which adds the grouped queries and
 * refuses over the limit.
 */
import { type GraphQLSchema, parse } from "graphql";
import { getComplexity } from "graphql-query-complexity";

import type { Limits } from "../../src/config";
import { ErrorCode, LimitError } from "../../src/common/errors";
import { costEstimators, type CostModel, GROUPED_QUERY_COST } from "../../src/server/cost";
import { checkCost } from "../../src/server/limits";
import { MODEL } from "../support/cost-model";
import { buildAppSchema } from "../../src/server/schema";


let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildAppSchema();
});

/** The fields' cost of `query` and the distinct grouped queries it asks. */
function cost(query: string, model: CostModel = MODEL, variables: Record<string, unknown> = {}): { fields: number; grouped: string[] } {
  const grouped = new Set<string>();
  const fields = getComplexity({ schema, query: parse(query), variables, estimators: costEstimators(model, grouped) });
  return { fields, grouped: [...grouped] };
}

const fields = (query: string, model: CostModel = MODEL, variables: Record<string, unknown> = {}) => cost(query, model, variables).fields;

describe("fields and lists", () => {
  it("costs 1 per field plus what it selects", () => {
    expect(fields(`{ region(code: "410000") { code name } }`)).toBe(1 + 2);
    expect(fields(`{ region(code: "410000") { parent { parent { name } } } }`)).toBe(1 + 1 + 1 + 1);
  });

  it("multiplies a region's children by the most children any region has, proportionally", () => {
    const query = `{ region(code: "410000") { children { code name } } }`;
    expect(fields(query)).toBe(1 + (1 + 20 * 2));
    expect(fields(query, { ...MODEL, maxRegionChildren: 40 })).toBe(1 + (1 + 40 * 2));
    // Twice the children, twice what the children select (less `region` and `children` themselves).
    expect(fields(query, { ...MODEL, maxRegionChildren: 40 }) - 2).toBe(2 * (fields(query) - 2));
    // Nested children multiply: k × (1 + k × 1).
    const nested = `{ region(code: "410000") { children { children { code } } } }`;
    expect(fields(nested)).toBe(1 + (1 + 20 * (1 + 20 * 1)));
    expect(fields(nested, { ...MODEL, maxRegionChildren: 10 })).toBe(1 + (1 + 10 * (1 + 10 * 1)));
  });

  it("sizes every list by the model: regions (by parent, level or all), sectors, meetings, venues, batches, milestones, ancestors, breakdowns by sector and stage", () => {
    expect(fields(`{ regions { code } }`)).toBe(1 + 175);
    expect(fields(`{ regions(level: COUNTY) { code } }`)).toBe(1 + 156);
    expect(fields(`{ regions(level: CITY) { code } }`)).toBe(1 + 18);
    expect(fields(`{ regions(parentCode: "410000") { code } }`)).toBe(1 + 20);
    expect(fields(`{ region(code: "410102") { ancestors { code } } }`)).toBe(1 + (1 + 3));
    expect(fields(`{ sectors { code children { code } } }`)).toBe(1 + 12 * (1 + (1 + 5)));
    expect(fields(`{ meetings { id venues { kind } batches { stage } } }`)).toBe(1 + 4 * (1 + (1 + 7) + (1 + 3)));
    expect(fields(`{ meeting(id: "1") { venues { batches { stage } } } }`)).toBe(1 + (1 + 7 * (1 + 3)));
    expect(fields(`{ project(id: "1") { milestones { stage } } }`)).toBe(1 + (1 + 3));
    expect(fields(`{ stats { bySector { projectCount } byStage { projectCount } } }`)).toBe(1 + (1 + 12) + (1 + 3));
    expect(fields(`{ stats { bySector { projectCount } } }`, { ...MODEL, sectors: 24 })).toBe(1 + (1 + 24));
  });
});

describe("project pages", () => {
  const page = (first: string) => `{ projects${first} { nodes { id name } } }`;

  it("multiply what a page selects by `first`", () => {
    expect(fields(page("(first: 5)"))).toBe(1 + 5 * (1 + 2));
    expect(fields(page("(first: 50)"))).toBe(1 + 50 * (1 + 2));
  });

  it("take the argument's default (20) when `first` is left out", () => {
    expect(fields(page(""))).toBe(1 + 20 * (1 + 2));
  });

  it("cap `first` at 100 (the field refuses more) and count at least one row", () => {
    expect(fields(page("(first: 100)"))).toBe(1 + 100 * 3);
    expect(fields(page("(first: 100000)"))).toBe(1 + 100 * 3);
    expect(fields(page("(first: 0)"))).toBe(1 + 1 * 3);
  });

  it("take `first` from a variable, and from a variable's default", () => {
    const query = `query P($n: Int) { projects(first: $n) { nodes { id name } } }`;
    expect(fields(query, MODEL, { n: 7 })).toBe(1 + 7 * 3);
    expect(fields(query, MODEL, { n: 70 })).toBe(1 + 70 * 3);
    expect(fields(`query P($n: Int = 90) { projects(first: $n) { nodes { id name } } }`)).toBe(1 + 90 * 3);
  });

  it("multiply nested pages: a region's page under each project of a page", () => {
    const query = `{ projects(first: 10) { nodes { region { projects(first: 30) { nodes { id } } } } } }`;
    expect(fields(query)).toBe(1 + 10 * (1 + (1 + (1 + 30 * (1 + 1)))));
  });
});

describe("grouped queries", () => {
  it("collects a filter asked many times once", () => {
    const aliases = Array.from({ length: 30 }, (_, i) => `s${i}: stats(filter: { stages: [SIGNED] }) { projectCount }`).join(" ");
    const { fields: total, grouped } = cost(`{ region(code: "410000") { ${aliases} } }`);
    expect(grouped).toHaveLength(1);
    expect(total).toBe(1 + 30 * 2);
  });

  it("collects each distinct filter once", () => {
    const aliases = Array.from({ length: 30 }, (_, i) => `s${i}: stats(filter: { minInvestment: ${i} }) { projectCount }`).join(" ");
    expect(cost(`{ region(code: "410000") { ${aliases} } }`).grouped).toHaveLength(30);
    expect(cost(`{ a: stats { projectCount } b: stats(filter: { stages: [SIGNED] }) { projectCount } c: stats { projectCount } }`).grouped).toHaveLength(2);
  });

  it("collects one grouped query for a filter asked on every region of a list (the loaders answer them with one statement)", () => {
    const { fields: total, grouped } = cost(`{ regions(level: COUNTY) { stats(filter: { stages: [STARTED] }) { projectCount } } }`);
    expect(grouped).toHaveLength(1);
    expect(total).toBe(1 + 156 * (1 + 1));
  });

  it("tells apart the places a filter is asked (the whole data set, a region) and collects pages and breakdowns too", () => {
    const { grouped } = cost(
      `{ stats { projectCount } region(code: "410000") { stats { projectCount } projects(first: 5) { totalCount } name } breakdown(groupBy: [STAGE]) { projectCount } regions { code } }`,
    );
    expect(grouped).toHaveLength(4);
    expect(grouped.join(" ")).toMatch(/stats/);
    expect(grouped.join(" ")).toMatch(/projects/);
    expect(grouped.join(" ")).toMatch(/breakdown/);
  });

  it("collects a filter given by the same variable once", () => {
    const query = `query S($f: ProjectFilter) { a: stats(filter: $f) { projectCount } b: stats(filter: $f) { projectCount } }`;
    expect(cost(query, MODEL, { f: { stages: ["SIGNED"] } }).grouped).toHaveLength(1);
  });
});

describe("breakdowns", () => {
  const rows = (args: string, model: CostModel = MODEL) => fields(`{ breakdown(${args}) { projectCount } }`, model) - 1;

  it("have as many rows as the product of their dimensions' sizes", () => {
    expect(rows(`groupBy: [STAGE]`)).toBe(3);
    expect(rows(`groupBy: [SECTOR, STAGE]`)).toBe(12 * 3);
    expect(rows(`groupBy: [REGION]`)).toBe(18); // regionLevel defaults to CITY
    expect(rows(`groupBy: [REGION, STAGE], regionLevel: CITY`)).toBe(18 * 3);
    expect(rows(`groupBy: [YEAR, QUARTER]`)).toBe(3 * (4 * 3));
    expect(rows(`groupBy: [MEETING, STAGE]`)).toBe(4 * 3);
    expect(rows(`groupBy: []`)).toBe(1);
  });

  it("never more rows than there are projects", () => {
    // 156 counties × 12 sectors = 1,872 > 1,337 projects.
    expect(rows(`groupBy: [REGION, SECTOR], regionLevel: COUNTY`)).toBe(1337);
    expect(rows(`groupBy: [REGION, SECTOR], regionLevel: COUNTY`, { ...MODEL, projects: 5000 })).toBe(156 * 12);
    expect(rows(`groupBy: [REGION, SECTOR, STAGE], regionLevel: COUNTY`, { ...MODEL, projects: 100 })).toBe(100);
  });

  it("grouped by meeting, never more rows than there are milestones (batch entries)", () => {
    expect(rows(`groupBy: [MEETING, REGION, SECTOR], regionLevel: COUNTY`)).toBe(2000);
    expect(rows(`groupBy: [MEETING, STAGE]`, { ...MODEL, milestones: 5 })).toBe(5);
    // The project count does not bound batch entries.
    expect(rows(`groupBy: [MEETING, STAGE]`, { ...MODEL, projects: 5 })).toBe(12);
  });

  it("are narrowed by the filter: regions to those at the level within the filter's subtrees, stages to those named, meetings to one", () => {
    const subtreeByLevel = new Map<string, Record<string, number>>([
      ["410000", { PROVINCE: 1, CITY: 18, COUNTY: 156 }],
      ["410100", { CITY: 1, COUNTY: 12 }],
      ["410300", { CITY: 1, COUNTY: 14 }],
      ["410102", { COUNTY: 1 }],
    ]);
    const model = { ...MODEL, projects: 100_000, subtreeByLevel };
    expect(rows(`groupBy: [REGION, STAGE], regionLevel: COUNTY, filter: { regionCodes: ["410100", "410300"] }`, model)).toBe((12 + 14) * 3);
    expect(rows(`groupBy: [REGION], regionLevel: COUNTY, filter: { regionCodes: ["410000"] }`, model)).toBe(156);
    // A county asked at city level is one row (its city); an unknown code counts as one.
    expect(rows(`groupBy: [REGION], regionLevel: CITY, filter: { regionCodes: ["410102", "999999"] }`, model)).toBe(2);
    expect(rows(`groupBy: [SECTOR, STAGE], filter: { stages: [STARTED] }`, model)).toBe(12);
    expect(rows(`groupBy: [MEETING, STAGE], filter: { meetingId: "1" }`, model)).toBe(3);
    // Without the subtrees (or the filter), the whole level counts.
    expect(rows(`groupBy: [REGION], regionLevel: COUNTY, filter: { regionCodes: ["410100"] }`, { ...model, subtreeByLevel: undefined })).toBe(156);
  });

  it("multiply what each row selects", () => {
    expect(fields(`{ breakdown(groupBy: [SECTOR]) { projectCount totalInvestment sector { code name } } }`)).toBe(1 + 12 * (1 + 1 + (1 + 2)));
  });
});

describe("checkCost", () => {
  const limits = (cost: number): Limits => ({
    importBytes: 20_000_000,
    bodyBytes: 1_000_000,
    documentBytes: 100_000,
    tokens: 5000,
    depth: 15,
    aliases: 30,
    rootFields: 20,
    directives: 50,
    fragmentSpreads: 200,
    cost,
    responseBytes: 5_000_000,
    exportRows: 200_000,
  });
  const query = parse(`{ a: stats { projectCount } b: stats(filter: { stages: [SIGNED] }) { projectCount } c: stats { projectCount } }`);
  // 3 × (stats 1 + projectCount 1), and two distinct grouped queries.
  const expected = 3 * 2 + 2 * GROUPED_QUERY_COST;

  it("adds each distinct grouped query's cost to the fields' and lets a cost at the limit through", () => {
    expect(checkCost(schema, MODEL, limits(expected), query, undefined, {})).toBe(expected);
  });

  it("refuses a cost one over the limit with QUERY_TOO_COMPLEX, the measured cost and the limit", () => {
    let thrown: unknown;
    try {
      checkCost(schema, MODEL, limits(expected - 1), query, undefined, {});
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(LimitError);
    expect((thrown as LimitError).extensions).toMatchObject({ code: ErrorCode.QUERY_TOO_COMPLEX, limit: expected - 1, measured: expected });
  });

  it("costs only the operation named, with its variables", () => {
    const document = parse(`query Small { region(code: "410000") { name } } query Big($n: Int) { projects(first: $n) { nodes { id } } }`);
    expect(checkCost(schema, MODEL, limits(1_000_000), document, "Small", {})).toBe(2);
    expect(checkCost(schema, MODEL, limits(1_000_000), document, "Big", { n: 50 })).toBe(1 + 50 * 2 + GROUPED_QUERY_COST);
  });
});
