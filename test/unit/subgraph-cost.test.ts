/**
 * The cost of `_entities` (src/federation/cost.ts): its selection counts once
 * per representation, grouped queries still once each, and an operation over
 * MAX_COST is refused with QUERY_TOO_COMPLEX, as the plain cost check refuses
 * a list too large. List sizes are made up here, as in cost.test.ts.
 */
import { type GraphQLSchema, parse } from "graphql";

import { ErrorCode, LimitError } from "../../src/common/errors";
import { loadConfig } from "../../src/config";
import { entitiesCost } from "../../src/federation/cost";
import { type CostModel, GROUPED_QUERY_COST } from "../../src/server/cost";
import { checkCost } from "../../src/server/limits";
import { MODEL } from "../support/cost-model";
import { buildAppSchema } from "../../src/server/schema";


const LIMITS = loadConfig({}).limits;

const QUERY = parse(`query E($r: [_Any!]!) { _entities(representations: $r) { ... on Region { code stats { projectCount totalInvestment } } } }`);
const WIDE = parse(`query W($r: [_Any!]!) { _entities(representations: $r) { ... on Region { code stats { bySector { sector { code name } projectCount totalInvestment } } } } }`);

const regions = (n: number) => Array.from({ length: n }, (_, i) => ({ __typename: "Region", code: String(410000 + i) }));

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildAppSchema({ federation: true });
});

test("the selection counts once per representation; the grouped stats query once", () => {
  const one = entitiesCost(schema, MODEL, LIMITS, QUERY, undefined, { r: regions(1) });
  const many = entitiesCost(schema, MODEL, LIMITS, QUERY, undefined, { r: regions(100) });
  // Per representation: the fragment's code, stats, projectCount, totalInvestment.
  expect(one).toBe(1 + 4 + GROUPED_QUERY_COST);
  expect(many).toBe(1 + 100 * 4 + GROUPED_QUERY_COST);
});

test("the plain cost check alone counts the selection once, whatever the number of representations", () => {
  expect(checkCost(schema, MODEL, LIMITS, QUERY, undefined, { r: regions(100) })).toBe(checkCost(schema, MODEL, LIMITS, QUERY, undefined, { r: regions(1) }));
});

test("over MAX_COST an _entities fetch is refused with QUERY_TOO_COMPLEX", () => {
  // Per representation: code, stats, bySector and 12 sectors × (sector, code, name, projectCount, totalInvestment).
  const per = 3 + 12 * 5;
  const limits = { ...LIMITS, cost: 1000 * per };
  expect(entitiesCost(schema, MODEL, limits, WIDE, undefined, { r: regions(10) })).toBe(1 + 10 * per + GROUPED_QUERY_COST);
  let refused: unknown;
  try {
    entitiesCost(schema, MODEL, limits, WIDE, undefined, { r: regions(3224) });
  } catch (error) {
    refused = error;
  }
  expect(refused).toBeInstanceOf(LimitError);
  expect((refused as LimitError).extensions.code).toBe(ErrorCode.QUERY_TOO_COMPLEX);
  expect((refused as LimitError).extensions.measured).toBe(1 + 3224 * per + GROUPED_QUERY_COST);
});
