/**
 * The cost of Query.outputBreakdown (src/server/cost.ts, outputBreakdownRowBound): its rows are bounded like a
 * breakdown's by REGION, SECTOR and STAGE (its reporting projects are among the projects), times the four bands with
 * BAND, never more than the projects; a meeting in the filter does not narrow STAGE (here the current stage); it is
 * collected as a grouped query; and the largest reasonable request on the shipped data's model passes the default
 * MAX_COST.
 */
import { type GraphQLSchema, parse } from "graphql";
import { getComplexity } from "graphql-query-complexity";

import type { Limits } from "../../src/config";
import { breakdownRowBound, costEstimators, type CostModel, GROUPED_QUERY_COST, outputBreakdownRowBound } from "../../src/server/cost";
import { checkCost } from "../../src/server/limits";
import { buildAppSchema } from "../../src/server/schema";
import type { BreakdownDimension } from "../../src/stats/breakdown.type";
import { MODEL } from "../support/cost-model";

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildAppSchema();
});

function cost(query: string, model: CostModel = MODEL): { fields: number; grouped: string[] } {
  const grouped = new Set<string>();
  const fields = getComplexity({ schema, query: parse(query), variables: {}, estimators: costEstimators(model, grouped) });
  return { fields, grouped: [...grouped] };
}

const rows = (args: string, model: CostModel = MODEL) => cost(`{ outputBreakdown(year: 2022, ${args}) { reportingProjects } }`, model).fields - 1;

describe("outputBreakdown's cost", () => {
  it("has the rows of a breakdown by its REGION, SECTOR and STAGE, times the four bands, never more than the projects", () => {
    expect(rows(`groupBy: []`)).toBe(1);
    expect(rows(`groupBy: [BAND]`)).toBe(4);
    expect(rows(`groupBy: [STAGE]`)).toBe(5);
    expect(rows(`groupBy: [REGION, BAND]`)).toBe(19 * 4); // regionLevel defaults to CITY: 18 cities and the province's own
    expect(rows(`groupBy: [SECTOR, BAND], regionLevel: COUNTY`)).toBe(12 * 4);
    expect(rows(`groupBy: [REGION, BAND], regionLevel: COUNTY`)).toBe(Math.min(1337, 175 * 4));
    expect(rows(`groupBy: [REGION, SECTOR, STAGE, BAND], regionLevel: COUNTY`)).toBe(1337);
    expect(rows(`groupBy: [REGION, BAND], filter: { regionCodes: ["410100"] }`, { ...MODEL, breakdownRegionsIn: new Map([["410100", { PROVINCE: 1, CITY: 1, COUNTY: 13 }]]) })).toBe(4);
  });

  it("at least the bound of the same breakdown, a meeting in the filter not narrowing STAGE", () => {
    for (const groupBy of [["STAGE"], ["REGION", "STAGE"], ["SECTOR", "STAGE", "BAND"]]) {
      const dims = groupBy.filter((d) => d !== "BAND") as BreakdownDimension[];
      const meeting = { milestone: { stage: "SIGNED", meetingId: "1" } };
      expect(outputBreakdownRowBound(MODEL, groupBy, "CITY", meeting)).toBe(outputBreakdownRowBound(MODEL, groupBy, "CITY", null));
      expect(outputBreakdownRowBound(MODEL, groupBy, "CITY", null)).toBeGreaterThanOrEqual(breakdownRowBound(MODEL, dims, "CITY", null));
    }
  });

  it("multiplies what each row selects, and is one grouped query per distinct set of arguments", () => {
    const twice = cost(`{ a: outputBreakdown(year: 2022, groupBy: [BAND]) { band reportingProjects region { code name } } b: outputBreakdown(year: 2022, groupBy: [BAND]) { band } }`);
    expect(twice.fields).toBe(1 + 4 * (1 + 1 + 3) + (1 + 4 * 1));
    expect(twice.grouped).toEqual(["Query.outputBreakdown(year:2022,groupBy:[BAND])"]);
    expect(cost(`{ a: outputBreakdown(year: 2022, groupBy: [BAND]) { band } b: outputBreakdown(year: 2023, groupBy: [BAND]) { band } }`).grouped).toHaveLength(2);
  });

  it("lets the largest reasonable request through the default MAX_COST (100,000)", () => {
    const limits = { cost: 100_000 } as Limits;
    const query = parse(`{ outputBreakdown(year: 2022, groupBy: [REGION, SECTOR, STAGE, BAND], regionLevel: COUNTY) {
      region { code name } sector { code name } stage band reportingProjects designedAnnualOutput output reachedRate } }`);
    const measured = checkCost(schema, MODEL, limits, query, undefined, {});
    expect(measured).toBe(1 + 1337 * (3 + 3 + 1 + 1 + 1 + 1 + 1 + 1) + GROUPED_QUERY_COST);
    expect(measured).toBeLessThan(100_000);
  });
});
