/**
 * The cost model (src/server/cost.ts) over the real schema, with list sizes
 * made up here: every field costs 1 plus what it selects, a list multiplies
 * what it selects by its known size, `first` multiplies a project page (at
 * most 100), each distinct grouped query is collected once, and a breakdown
 * has at most min(product of its dimensions' sizes, projects) rows, and with
 * the rollups' groups in the model at most what each region's projects and
 * sectors can make (built here from rows of a small tree). Then
 * checkCost (src/server/limits.ts), which adds the grouped queries and
 * refuses over the limit.
 */
import { type GraphQLSchema, parse } from "graphql";
import { getComplexity } from "graphql-query-complexity";

import type { Limits } from "../../src/config";
import { ErrorCode, LimitError } from "../../src/common/errors";
import { CodeTree } from "../../src/common/tree";
import { RegionLevel } from "../../src/region/region-level";
import { Region, type RegionTree } from "../../src/region/region.type";
import { type BreakdownFilterArgs, breakdownRowBound, breakdownRows, costEstimators, type CostModel, GROUPED_QUERY_COST, rollupGroups, type RollupSummaryRow } from "../../src/server/cost";
import type { BreakdownDimension } from "../../src/stats/breakdown.type";
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
  it("sizes the factor stats' departments by those open problems wait on (the model's count), 50 without it or above it", () => {
    const query = `{ region(code: "410000") { factorStats { byDepartment { department openIssues } } } }`;
    const withDepartments = (departments?: number) => fields(query, { ...MODEL, departments });
    // Each department row costs its two fields.
    expect(withDepartments(7) - withDepartments(2)).toBe(5 * 2);
    expect(withDepartments(0)).toBe(withDepartments(1));
    expect(withDepartments(undefined)).toBe(withDepartments(50));
    expect(withDepartments(500)).toBe(withDepartments(50));
  });

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
    expect(fields(`{ stats { bySector { projectCount } byStage { projectCount } } }`)).toBe(1 + (1 + 12) + (1 + 5));
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
    expect(rows(`groupBy: [STAGE]`)).toBe(5);
    expect(rows(`groupBy: [SECTOR, STAGE]`)).toBe(12 * 5);
    expect(rows(`groupBy: [REGION]`)).toBe(19); // regionLevel defaults to CITY
    expect(rows(`groupBy: [REGION, STAGE], regionLevel: CITY`)).toBe(19 * 5);
    expect(rows(`groupBy: [QUARTER]`)).toBe(4 * 3);
    expect(rows(`groupBy: [MEETING, STAGE]`)).toBe(4 * 3);
    expect(rows(`groupBy: []`)).toBe(1);
  });

  it("count at a level the regions above it too, which a project can lie in itself (济源 at COUNTY, the province at CITY)", () => {
    expect(rows(`groupBy: [REGION], regionLevel: COUNTY`)).toBe(175);
    expect(rows(`groupBy: [REGION], regionLevel: PROVINCE`)).toBe(1);
    // Without the count per level, every region.
    expect(rows(`groupBy: [REGION], regionLevel: CITY`, { ...MODEL, breakdownRegions: undefined })).toBe(175);
  });

  it("count the quarters once when grouped by YEAR and QUARTER, and the quarters the dates span when the model knows them", () => {
    expect(rows(`groupBy: [YEAR, QUARTER]`)).toBe(4 * 3);
    expect(rows(`groupBy: [YEAR]`)).toBe(3);
    expect(rows(`groupBy: [SECTOR, QUARTER]`, { ...MODEL, quarters: 9 })).toBe(12 * 9);
    expect(rows(`groupBy: [SECTOR, YEAR, QUARTER]`, { ...MODEL, quarters: 9 })).toBe(12 * 9);
  });

  it("group by top-level sectors, narrowed to the sector codes named", () => {
    expect(rows(`groupBy: [SECTOR]`, { ...MODEL, topSectors: 7 })).toBe(7);
    expect(rows(`groupBy: [SECTOR], filter: { sectorCodes: ["MFG", "SEI_ICT"] }`, { ...MODEL, topSectors: 7 })).toBe(2);
  });

  it("never more rows than there are projects", () => {
    // 175 regions at county level × 12 sectors = 2,100 > 1,337 projects.
    expect(rows(`groupBy: [REGION, SECTOR], regionLevel: COUNTY`)).toBe(1337);
    expect(rows(`groupBy: [REGION, SECTOR], regionLevel: COUNTY`, { ...MODEL, projects: 5000 })).toBe(175 * 12);
    expect(rows(`groupBy: [REGION, SECTOR, STAGE], regionLevel: COUNTY`, { ...MODEL, projects: 100 })).toBe(100);
  });

  it("grouped by meeting, never more rows than there are milestones (batch entries)", () => {
    expect(rows(`groupBy: [MEETING, REGION, SECTOR], regionLevel: COUNTY`)).toBe(2000);
    expect(rows(`groupBy: [MEETING, STAGE]`, { ...MODEL, milestones: 5 })).toBe(5);
    // The project count does not bound batch entries.
    expect(rows(`groupBy: [MEETING, STAGE]`, { ...MODEL, projects: 5 })).toBe(12);
    // Nor when STAGE with a meeting in the filter counts entries: a project can be in several batches of one meeting.
    expect(rows(`groupBy: [SECTOR, STAGE], filter: { meetingId: "1" }`, { ...MODEL, projects: 5 })).toBe(12 * 3);
  });

  it("counting batch entries, STAGE is the batch's: the filter's current stages do not narrow it, a milestone at a meeting does", () => {
    expect(rows(`groupBy: [MEETING, STAGE], filter: { stages: [IN_PRODUCTION] }`)).toBe(4 * 3);
    expect(rows(`groupBy: [STAGE], filter: { meetingId: "1", stages: [IN_PRODUCTION] }`)).toBe(3);
    expect(rows(`groupBy: [MEETING, STAGE], filter: { milestone: { stage: STARTED, meetingId: "1" } }`)).toBe(1);
    // Counting projects, the current stages named narrow it.
    expect(rows(`groupBy: [STAGE], filter: { stages: [IN_PRODUCTION] }`)).toBe(1);
  });

  it("are narrowed by the filter: regions to those named at the level within the filter's subtrees, stages to those named, meetings to one", () => {
    const breakdownRegionsIn = new Map<string, Record<string, number>>([
      ["410000", { PROVINCE: 1, CITY: 19, COUNTY: 175 }],
      ["410100", { PROVINCE: 1, CITY: 1, COUNTY: 13 }],
      ["410300", { PROVINCE: 1, CITY: 1, COUNTY: 15 }],
      ["410102", { PROVINCE: 1, CITY: 1, COUNTY: 1 }],
    ]);
    const model = { ...MODEL, projects: 100_000, breakdownRegionsIn };
    expect(rows(`groupBy: [REGION, STAGE], regionLevel: COUNTY, filter: { regionCodes: ["410100", "410300"] }`, model)).toBe((13 + 15) * 5);
    expect(rows(`groupBy: [REGION], regionLevel: COUNTY, filter: { regionCodes: ["410000"] }`, model)).toBe(175);
    // A county asked at city level is one row (its city); an unknown code counts as one.
    expect(rows(`groupBy: [REGION], regionLevel: CITY, filter: { regionCodes: ["410102", "999999"] }`, model)).toBe(2);
    expect(rows(`groupBy: [SECTOR, STAGE], filter: { stages: [STARTED] }`, model)).toBe(12);
    expect(rows(`groupBy: [MEETING, STAGE], filter: { meetingId: "1" }`, model)).toBe(3);
    // Without the subtrees (or the filter), the whole level counts.
    expect(rows(`groupBy: [REGION], regionLevel: COUNTY, filter: { regionCodes: ["410100"] }`, { ...model, breakdownRegionsIn: undefined })).toBe(175);
  });

  it("multiply what each row selects", () => {
    expect(fields(`{ breakdown(groupBy: [SECTOR]) { projectCount totalInvestment sector { code name } } }`)).toBe(1 + 12 * (1 + 1 + (1 + 2)));
  });
});

/**
 * A small tree: the province 410000; the city 410100 with the counties 410102 and 410103; 济源 419001, a city
 * without counties; the city 410300 with the county 410302. Projects (per stage SIGNED, STARTED, IN_PRODUCTION)
 * and their rows of rollup_region (one per sector and stage) lie in 410102, 410103, 419001 and 410100 itself.
 */
function region(id: number, code: string, level: RegionLevel, parentId: number | null): Region {
  return Object.assign(new Region(), { id, code, name: code, level, parentId });
}
const TREE: RegionTree = new CodeTree([
  region(1, "410000", RegionLevel.PROVINCE, null),
  region(2, "410100", RegionLevel.CITY, 1),
  region(3, "410102", RegionLevel.COUNTY, 2),
  region(4, "410103", RegionLevel.COUNTY, 2),
  region(5, "419001", RegionLevel.CITY, 1),
  region(6, "410300", RegionLevel.CITY, 1),
  region(7, "410302", RegionLevel.COUNTY, 6),
]);
const SUMMARY: RollupSummaryRow[] = [
  { regionId: 3, projects: [0, 5, 0, 2, 0], sectorRows: [0, 2, 0, 1, 0] },
  { regionId: 4, projects: [0, 1, 1, 0, 0], sectorRows: [0, 1, 1, 0, 0] },
  { regionId: 5, projects: [0, 3, 0, 0, 0], sectorRows: [0, 3, 0, 0, 0] },
  { regionId: 2, projects: [0, 1, 0, 0, 0], sectorRows: [0, 1, 0, 0, 0] },
];
/** 13 projects; 5 top-level sectors; dates over 10 quarters; 4 meetings. */
const SMALL: CostModel = {
  ...MODEL,
  regions: 7,
  regionsByLevel: { PROVINCE: 1, CITY: 3, COUNTY: 3 },
  breakdownRegions: { PROVINCE: 1, CITY: 4, COUNTY: 7 },
  breakdownRegionsIn: undefined,
  sectors: 12,
  topSectors: 5,
  years: 3,
  quarters: 10,
  meetings: 4,
  projects: 13,
  milestones: 39,
  groups: rollupGroups(TREE, SUMMARY),
};

describe("breakdowns bounded by what the rollups hold", () => {
  const bound = (groupBy: string[], regionLevel?: string, filter?: BreakdownFilterArgs) => breakdownRowBound(SMALL, groupBy as BreakdownDimension[], regionLevel, filter);
  const coarse = (groupBy: string[], regionLevel?: string, filter?: BreakdownFilterArgs) => breakdownRows(SMALL, groupBy as BreakdownDimension[], regionLevel, filter);

  it("sum the rollups per region a breakdown names at each level: a city without counties and a city's own projects count at COUNTY", () => {
    const { byLevel } = SMALL.groups!;
    expect([...byLevel.COUNTY.keys()].sort()).toEqual([2, 3, 4, 5]);
    expect([...byLevel.CITY.keys()].sort()).toEqual([2, 5]);
    expect(byLevel.CITY.get(2)).toEqual({ projects: [0, 7, 1, 2, 0], sectorRows: [0, 4, 1, 1, 0] });
    expect([...byLevel.PROVINCE.entries()]).toEqual([[1, { projects: [0, 10, 1, 2, 0], sectorRows: [0, 7, 1, 1, 0] }]]);
  });

  it("give each region at most its projects, and its sectors (rollup rows, top-level sectors) times the other dimensions", () => {
    // COUNTY: 410102 min(7 projects, 3 rows), 410103 min(2, 2), 419001 min(3, 3), 410100 min(1, 1).
    expect(bound(["REGION", "SECTOR"], "COUNTY")).toBe(3 + 2 + 3 + 1);
    expect(coarse(["REGION", "SECTOR"], "COUNTY")).toBe(13);
    // CITY: 410100 min(10, top-level sectors 5), 419001 min(3, 3).
    expect(bound(["REGION", "SECTOR"], "CITY")).toBe(5 + 3);
    // With quarters, the projects bound: 7 + 2 + 3 + 1.
    expect(bound(["REGION", "SECTOR", "QUARTER"], "COUNTY")).toBe(13);
    // Not by REGION: all regions as one group, at most the top-level sectors.
    expect(bound(["SECTOR"])).toBe(5);
    expect(bound([])).toBe(1);
    expect(bound(["REGION"], "PROVINCE")).toBe(1);
  });

  it("split by current stage when grouped by STAGE", () => {
    // 410102 SIGNED and IN_PRODUCTION, 410103 SIGNED and STARTED, 419001 SIGNED, 410100 SIGNED.
    expect(bound(["REGION", "STAGE"], "COUNTY")).toBe(2 + 2 + 1 + 1);
    expect(bound(["REGION", "SECTOR", "STAGE"], "COUNTY")).toBe(2 + 1 + (1 + 1) + 3 + 1);
    // SECTOR × STAGE over all regions: SIGNED min(10 projects, 5), STARTED min(1, 1), IN_PRODUCTION min(2, 1).
    expect(bound(["SECTOR", "STAGE"])).toBe(5 + 1 + 1);
    expect(coarse(["SECTOR", "STAGE"])).toBe(13); // 5 × 3 sectors and stages, 13 projects
  });

  it("count only the projects of the current stages and the regions the filter names", () => {
    // STARTED: 410103's one project.
    expect(bound(["REGION", "SECTOR"], "COUNTY", { stages: ["STARTED"] })).toBe(1);
    expect(bound(["SECTOR"], undefined, { stages: ["IN_PRODUCTION", "STARTED"] })).toBe(2);
    // Within 410100: 410102, 410103 and 410100 itself.
    expect(bound(["REGION", "SECTOR"], "COUNTY", { regionCodes: ["410100"] })).toBe(3 + 2 + 1);
    // A county at CITY level: its city, whole (an upper bound).
    expect(bound(["REGION", "SECTOR"], "CITY", { regionCodes: ["410102"] })).toBe(5);
    // Not by REGION, the regions in the filter's subtrees only: 410103's two projects, two sectors.
    expect(bound(["SECTOR", "QUARTER"], undefined, { regionCodes: ["410103"] })).toBe(2);
    // A region without projects: none (costed as one row).
    expect(bound(["REGION", "SECTOR"], "COUNTY", { regionCodes: ["410300"] })).toBe(1);
  });

  it("counting batch entries, up to three per project and the meetings and batch stages they can be in", () => {
    // Per region min(3 × projects, 4 meetings): 410102 4, 410103 4, 419001 4, 410100 min(3, 4).
    expect(bound(["MEETING", "REGION"], "COUNTY")).toBe(4 + 4 + 4 + 3);
    expect(coarse(["MEETING", "REGION"], "COUNTY")).toBe(7 * 4);
    // One meeting, any batch stage: min(3 × projects, 3).
    expect(bound(["REGION", "STAGE"], "COUNTY", { meetingId: "1" })).toBe(3 + 3 + 3 + 3);
    // The current stages named narrow the projects, not the batches' stages: 410103's one STARTED project, 3 entries.
    expect(bound(["MEETING", "STAGE"], undefined, { stages: ["STARTED"] })).toBe(3);
  });

  it("dated, count the quarters the dates of each current stage span (or of the milestone the filter names)", () => {
    // Now at SIGNED: 1 quarter of dates; STARTED: 4; IN_PRODUCTION: 2. Milestones of SIGNED: 2; STARTED: 8; IN_PRODUCTION: 3.
    const dated: CostModel = {
      ...SMALL,
      stageDates: {
        // RESERVE and EFFECTIVE: no projects, no dates.
        current: [{ years: 0, quarters: 0 }, { years: 1, quarters: 1 }, { years: 1, quarters: 4 }, { years: 1, quarters: 2 }, { years: 0, quarters: 0 }],
        milestones: [{ years: 0, quarters: 0 }, { years: 1, quarters: 2 }, { years: 2, quarters: 8 }, { years: 1, quarters: 3 }, { years: 0, quarters: 0 }],
      },
    };
    const at = (groupBy: string[], regionLevel?: string, filter?: BreakdownFilterArgs) => breakdownRowBound(dated, groupBy as BreakdownDimension[], regionLevel, filter);
    // All regions: SIGNED min(10 projects, 5 sectors × 1), STARTED min(1, 1 × 4), IN_PRODUCTION min(2, 1 × 2).
    expect(at(["SECTOR", "QUARTER"])).toBe(5 + 1 + 2);
    expect(bound(["SECTOR", "QUARTER"])).toBe(13);
    // By stage: min(10, 1), min(1, 4), min(2, 2); the milestone SIGNED named, 2 quarters each: min(10, 2), min(1, 2), min(2, 2).
    expect(at(["STAGE", "QUARTER"])).toBe(1 + 1 + 2);
    expect(at(["STAGE", "QUARTER"], undefined, { milestone: { stage: "SIGNED" } })).toBe(2 + 1 + 2);
    // Per county: 410102 min(5, 2 × 1) + min(2, 1 × 2), 410103 min(1, 1) + min(1, 4), 419001 min(3, 3 × 1), 410100 1.
    expect(at(["REGION", "SECTOR", "QUARTER"], "COUNTY")).toBe(2 + 2 + (1 + 1) + 3 + 1);
    // Batch entries count at their own dates: as without the spans.
    expect(at(["MEETING", "QUARTER"])).toBe(bound(["MEETING", "QUARTER"]));
  });

  it("never above the bound of the dimensions alone", () => {
    const all = ["REGION", "SECTOR", "STAGE", "MEETING", "YEAR", "QUARTER"];
    for (let mask = 0; mask < 64; mask++) {
      const groupBy = all.filter((_, i) => mask & (1 << i));
      for (const level of ["PROVINCE", "CITY", "COUNTY"]) {
        for (const filter of [undefined, { stages: ["SIGNED"] }, { regionCodes: ["410100"] }, { meetingId: "1" }]) {
          expect(bound(groupBy, level, filter)).toBeLessThanOrEqual(coarse(groupBy, level, filter));
          expect(bound(groupBy, level, filter)).toBeGreaterThanOrEqual(1);
        }
      }
    }
  });

  it("make the query cost by them", () => {
    expect(fields(`{ breakdown(groupBy: [REGION, SECTOR], regionLevel: COUNTY) { projectCount } }`, SMALL)).toBe(1 + 9);
    expect(fields(`{ breakdown(groupBy: [REGION, SECTOR], regionLevel: COUNTY) { projectCount } }`, { ...SMALL, groups: undefined })).toBe(1 + 13);
  });
});

describe("checkCost", () => {
  const limits = (cost: number): Limits => ({
    importBytes: 20_000_000,
    importRows: 200_000,
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
