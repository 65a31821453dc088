/**
 * The subgraph schema (FEDERATION=true): the checked-in SDL matches the code,
 * it is the plain schema plus the federation parts (nothing of the plain API
 * lost or changed), the entity keys are the ones the issue names, and
 * everything a client can see in it is described.
 */
import fs from "node:fs";
import path from "node:path";

import { buildSubgraphSchema } from "@apollo/subgraph";
import {
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isUnionType,
  parse,
  printType,
} from "graphql";

import { ENTITY_KEYS } from "../../src/federation/entities";
import { renderSubgraphSchema, SUBGRAPH_FILE, SUBGRAPH_HEADER } from "../../src/server/print-schema";
import { buildAppSchema } from "../../src/server/schema";

const FEDERATION_NAMES = ["_service", "_entities", "_Service", "_Entity", "_Any", "link__Import", "link__Purpose", "federation__FieldSet"];

/** Every type, field, argument and enum value without a description (root types themselves excepted: type-graphql cannot describe them). */
function undescribed(schema: GraphQLSchema): string[] {
  const has = (text: string | null | undefined) => typeof text === "string" && text.trim() !== "";
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    const name = type.name;
    if (name.startsWith("__") || ["String", "Int", "Float", "Boolean", "ID"].includes(name)) continue;
    if (!has(type.description) && !["Query", "Mutation", "Subscription"].includes(name)) missing.push(name);
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (!has(field.description)) missing.push(`${name}.${field.name}`);
        for (const arg of "args" in field ? field.args : []) if (!has(arg.description)) missing.push(`${name}.${field.name}(${arg.name})`);
      }
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) if (!has(value.description)) missing.push(`${name}.${value.name}`);
    }
  }
  return missing;
}

describe("subgraph schema", () => {
  let plain: GraphQLSchema;
  let subgraph: GraphQLSchema;

  beforeAll(async () => {
    plain = await buildAppSchema();
    subgraph = await buildAppSchema({ federation: true });
  });

  test("the checked-in subgraph SDL matches the code", async () => {
    const checkedIn = fs.readFileSync(SUBGRAPH_FILE, "utf8");
    const rendered = await renderSubgraphSchema();
    if (checkedIn !== rendered) {
      throw new Error(`${path.relative(process.cwd(), SUBGRAPH_FILE)} is out of date with the code: run \`npm run schema:print\` and commit the result.`);
    }
    expect(checkedIn.startsWith(SUBGRAPH_HEADER)).toBe(true);
  });

  test("the checked-in SDL builds a subgraph with the four entity types keyed as the issue says", () => {
    const sdl = fs.readFileSync(SUBGRAPH_FILE, "utf8");
    const rebuilt = buildSubgraphSchema({ typeDefs: parse(sdl) });
    const entity = rebuilt.getType("_Entity");
    expect(isUnionType(entity) && entity.getTypes().map((t) => t.name).sort()).toEqual(Object.keys(ENTITY_KEYS).sort());
    const keys = Object.fromEntries(
      [...sdl.matchAll(/^type (\w+)\s+@key\(fields: "(\w+)"\)/gm)].map(([, type, fields]) => [type, fields]),
    );
    expect(keys).toEqual({ Region: "code", Sector: "code", Project: "id", Meeting: "id" });
  });

  test("the subgraph is the plain schema plus federation: every plain type is printed the same", () => {
    for (const type of Object.values(plain.getTypeMap())) {
      if (type.name.startsWith("__") || type.name === "Query") continue;
      const there = subgraph.getType(type.name);
      expect(there && printType(there)).toBe(printType(type));
    }
    const plainQuery = printType(plain.getQueryType()!);
    const subgraphQuery = printType(subgraph.getQueryType()!);
    // The subgraph's Query is the plain one with _entities and _service appended.
    expect(subgraphQuery.startsWith(plainQuery.replace(/\n}$/, ""))).toBe(true);
    expect(Object.keys(subgraph.getQueryType()!.getFields()).filter((f) => !(f in plain.getQueryType()!.getFields())).sort()).toEqual(["_entities", "_service"]);
  });

  test("the plain schema has nothing of federation", () => {
    const names = [...Object.keys(plain.getTypeMap()), ...Object.keys(plain.getQueryType()!.getFields())];
    expect(names.filter((name) => FEDERATION_NAMES.includes(name))).toEqual([]);
    expect(plain.getDirectives().map((d) => d.name)).not.toContain("key");
  });

  test("everything in the subgraph schema has a description, federation's parts included", () => {
    expect(undescribed(subgraph)).toEqual([]);
    for (const name of FEDERATION_NAMES) expect(subgraph.getType(name) ?? subgraph.getQueryType()!.getFields()[name]).toBeDefined();
  });

  test("the subgraph keeps the direct resolvers of the hot fields", () => {
    for (const [typeName, fieldName] of [["ProjectStats", "totalInvestment"], ["ProjectStats", "bySector"], ["Project", "investment"]]) {
      const plainField = (plain.getType(typeName) as any).getFields()[fieldName];
      const subgraphField = (subgraph.getType(typeName) as any).getFields()[fieldName];
      expect(subgraphField.resolve).toBe(plainField.resolve);
    }
    // Plain properties resolve by graphql's default (graphql-jit inlines it), in both.
    expect((subgraph.getType("Region") as any).getFields().code.resolve).toBeUndefined();
    expect((subgraph.getType("ProjectStats") as any).getFields().projectCount.resolve).toBeUndefined();
  });
});
