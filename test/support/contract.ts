/**
 * The contract checker: does a schema honour the founders' contract
 * (test/contract/API.graphql)? It lists every way it does not, one line each.
 * Tested on its own in test/unit/contract-checker.test.ts; used by
 * test/unit/schema.test.ts on the schema the code builds.
 */
import fs from "node:fs";
import path from "node:path";

import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
  type GraphQLType,
  astFromValue,
  buildSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
  isUnionType,
  print,
} from "graphql";

/** The contract's SDL, checked in. */
export const CONTRACT_FILE = path.join(__dirname, "../contract/API.graphql");

/** The contract's SDL as text (to edit in tests) and as a schema. */
export function loadContract(): { sdl: string; schema: GraphQLSchema } {
  const sdl = fs.readFileSync(CONTRACT_FILE, "utf8");
  return { sdl, schema: buildSchema(sdl) };
}

/**
 * Where the code departs from the contract today, as `Type` or `Type.field`, each with why; the real schema is checked
 * with these left out. Remove a name as soon as the code honours it. None today.
 */
export const KNOWN_DEPARTURES: ReadonlySet<string> = new Set();

type Position = "input" | "output";

/**
 * True when `actual` (generated) may stand for `expected` (contract).
 * Input positions must match exactly; an output may be non-null where the contract is nullable,
 * at any list nesting level.
 */
function typeCompatible(expected: GraphQLType, actual: GraphQLType, position: Position): boolean {
  if (isNonNullType(expected)) {
    return isNonNullType(actual) && typeCompatible(expected.ofType, actual.ofType, position);
  }
  if (isNonNullType(actual)) {
    return position === "output" && typeCompatible(expected, actual.ofType, position);
  }
  if (isListType(expected)) {
    return isListType(actual) && typeCompatible(expected.ofType, actual.ofType, position);
  }
  if (isListType(actual)) return false;
  return expected.name === actual.name;
}

function kindOf(type: GraphQLNamedType): string {
  if (isObjectType(type)) return "object";
  if (isInterfaceType(type)) return "interface";
  if (isUnionType(type)) return "union";
  if (isEnumType(type)) return "enum";
  if (isInputObjectType(type)) return "input";
  if (isScalarType(type)) return "scalar";
  return "unknown";
}

/** A default value as GraphQL source text (enum internal values differ between schemas, their names do not). */
function printDefault(value: unknown, type: GraphQLInputType): string | undefined {
  if (value === undefined) return undefined;
  const ast = astFromValue(value, type);
  return ast ? print(ast) : String(value);
}

function compareInputValue(
  where: string,
  expected: GraphQLArgument | GraphQLInputField,
  actual: GraphQLArgument | GraphQLInputField,
  problems: string[],
): void {
  if (!typeCompatible(expected.type, actual.type, "input")) {
    problems.push(`${where}: type is ${String(actual.type)}, contract says ${String(expected.type)}`);
  }
  const expectedDefault = printDefault(expected.defaultValue, expected.type);
  if (expectedDefault !== undefined) {
    const actualDefault = printDefault(actual.defaultValue, actual.type);
    if (actualDefault !== expectedDefault) {
      problems.push(`${where}: default is ${actualDefault ?? "(none)"}, contract says ${expectedDefault}`);
    }
  }
}

function compareField(
  where: string,
  expected: GraphQLField<unknown, unknown>,
  actual: GraphQLField<unknown, unknown>,
  problems: string[],
): void {
  if (!typeCompatible(expected.type, actual.type, "output")) {
    problems.push(`${where}: type is ${String(actual.type)}, contract says ${String(expected.type)}`);
  }
  for (const arg of expected.args) {
    const actualArg = actual.args.find((a) => a.name === arg.name);
    if (!actualArg) {
      problems.push(`${where}(${arg.name}): missing argument`);
      continue;
    }
    compareInputValue(`${where}(${arg.name})`, arg, actualArg, problems);
  }
}

/**
 * Every way `generated` breaks `contract`, one line each; [] when it honours it.
 * `skip` names contract types (`Type`) or fields (`Type.field`) left out of the comparison.
 */
export function contractMismatches(contract: GraphQLSchema, generated: GraphQLSchema, skip: ReadonlySet<string> = new Set()): string[] {
  const problems: string[] = [];
  for (const expected of Object.values(contract.getTypeMap())) {
    const name = expected.name;
    if (name.startsWith("__") || isSpecifiedScalarType(expected) || skip.has(name)) continue;
    const actual = generated.getType(name);
    if (!actual) {
      problems.push(`${name}: missing type`);
      continue;
    }
    if (kindOf(actual) !== kindOf(expected)) {
      problems.push(`${name}: is ${kindOf(actual)}, contract says ${kindOf(expected)}`);
      continue;
    }
    if (isEnumType(expected) && isEnumType(actual)) {
      for (const value of expected.getValues()) {
        if (!actual.getValue(value.name)) problems.push(`${name}.${value.name}: missing enum value`);
      }
    } else if ((isObjectType(expected) || isInterfaceType(expected)) && (isObjectType(actual) || isInterfaceType(actual))) {
      const actualFields = actual.getFields();
      for (const field of Object.values(expected.getFields())) {
        if (skip.has(`${name}.${field.name}`)) continue;
        const actualField = actualFields[field.name];
        if (!actualField) {
          problems.push(`${name}.${field.name}: missing field`);
          continue;
        }
        compareField(`${name}.${field.name}`, field, actualField, problems);
      }
    } else if (isInputObjectType(expected) && isInputObjectType(actual)) {
      const actualFields = actual.getFields();
      for (const field of Object.values(expected.getFields())) {
        if (skip.has(`${name}.${field.name}`)) continue;
        const actualField = actualFields[field.name];
        if (!actualField) {
          problems.push(`${name}.${field.name}: missing input field`);
          continue;
        }
        compareInputValue(`${name}.${field.name}`, field, actualField, problems);
      }
    } else if (isUnionType(expected) && isUnionType(actual)) {
      const members = new Set(actual.getTypes().map((t) => t.name));
      for (const member of expected.getTypes()) {
        if (!members.has(member.name)) problems.push(`${name}: union lacks member ${member.name}`);
      }
    }
  }
  return problems;
}
