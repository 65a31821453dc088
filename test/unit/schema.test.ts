import fs from "node:fs";
import path from "node:path";

import { type GraphQLSchema, buildSchema, isEnumType, isInputObjectType, isInterfaceType, isObjectType } from "graphql";

import { buildAppSchema } from "../../src/server/schema";
import { SCHEMA_FILE, renderSchema } from "../../src/server/print-schema";
import { KNOWN_DEPARTURES, contractMismatches, loadContract } from "../support/contract";

const BUILT_IN_SCALARS = new Set(["String", "Int", "Float", "Boolean", "ID"]);

/**
 * Root operation types whose own description is not required: type-graphql builds them itself
 * and offers no way to describe them. Their fields and arguments still need descriptions.
 */
const ROOT_TYPES = new Set(["Query", "Mutation", "Subscription"]);

function hasText(description: string | null | undefined): boolean {
  return typeof description === "string" && description.trim() !== "";
}

/** Every type, field, argument, input field and enum value without a description, as "Type.field(arg)". */
function undescribed(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    const name = type.name;
    if (name.startsWith("__") || BUILT_IN_SCALARS.has(name)) continue;
    if (!hasText(type.description) && !ROOT_TYPES.has(name)) missing.push(name);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (!hasText(field.description)) missing.push(`${name}.${field.name}`);
        for (const arg of field.args) {
          if (!hasText(arg.description)) missing.push(`${name}.${field.name}(${arg.name})`);
        }
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (!hasText(field.description)) missing.push(`${name}.${field.name}`);
      }
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) {
        if (!hasText(value.description)) missing.push(`${name}.${value.name}`);
      }
    }
  }
  return missing;
}

describe("GraphQL schema", () => {
  let generated: GraphQLSchema;

  beforeAll(async () => {
    generated = await buildAppSchema();
  });

  test("the checked-in schema matches the code", async () => {
    const checkedIn = fs.readFileSync(SCHEMA_FILE, "utf8");
    const rendered = await renderSchema();
    if (checkedIn !== rendered) {
      throw new Error(
        `${path.relative(process.cwd(), SCHEMA_FILE)} is out of date with the code: run \`npm run schema:print\` and commit the result.`,
      );
    }
    expect(checkedIn).toBe(rendered);
  });

  // The checker itself is tested in contract-checker.test.ts.
  test("every name of the contract exists with the same type", () => {
    expect(contractMismatches(loadContract().schema, generated, KNOWN_DEPARTURES)).toEqual([]);
  });

  test("everything has a description", () => {
    expect(undescribed(generated)).toEqual([]);
  });

  test("the description checker reports what lacks one", () => {
    const schema = buildSchema(`
      type Query {
        "Has one."
        a(x: Int): E
        b: Int
        c: O
      }
      type O { "Has one." f: Int }
      enum E { "Has one." ONE TWO }
      input I { "  " f: Int }
    `);
    expect(undescribed(schema).sort()).toEqual(["E", "E.TWO", "I", "I.f", "O", "Query.a(x)", "Query.b", "Query.c"].sort());
  });
});
