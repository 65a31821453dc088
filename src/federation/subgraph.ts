/**
 * The API as an Apollo Federation 2 subgraph (FEDERATION=true): the same
 * type-graphql schema, printed, with `@key` on the entity types and the
 * federation `@link` prepended, built again by `buildSubgraphSchema` (which
 * adds `_service` and `_entities`), with every resolver of the plain schema
 * carried over and the entities' `__resolveReference` (./entities.ts) added.
 * The plain schema itself is left as it was: a client of the plain API sees
 * no federation types.
 */
import { buildSubgraphSchema } from "@apollo/subgraph";
import {
  type ConstDirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  graphql,
  GraphQLEnumType,
  GraphQLObjectType,
  GraphQLScalarType,
  type GraphQLSchema,
  GraphQLUnionType,
  Kind,
  parse,
  printSchema,
} from "graphql";
import { createResolversMap } from "type-graphql";

import { ENTITY_KEYS, type EntityTypeName, REFERENCE_RESOLVERS } from "./entities";
import { invariant } from "../common/errors";

/**
 * The federation spec the subgraph links: v2.0, the first Federation 2 spec,
 * so any Federation 2 router or gateway composes it; the subgraph uses only `@key`.
 */
export const FEDERATION_SPEC_URL = "https://specs.apollo.dev/federation/v2.0";

const LINK = `extend schema @link(url: "${FEDERATION_SPEC_URL}", import: ["@key"])`;

/** Descriptions of what federation adds to the schema (graphql-js and @apollo/subgraph leave most of them empty). */
const FEDERATION_DESCRIPTIONS = {
  types: {
    _Service: "What a federation router reads of this subgraph (Apollo Federation 2).",
    _Entity: "Every type another subgraph may refer to by key: Region and Sector by code, Project and Meeting by id.",
    _Any: "An entity representation: `__typename` and the type's key fields, e.g. {\"__typename\": \"Region\", \"code\": \"410100\"}.",
    link__Import: "A name a linked spec imports, or {name, as} to rename it (the @link spec).",
    link__Purpose: "Why a spec is linked (the @link spec).",
    federation__FieldSet: "A selection of fields, e.g. the key fields of @key (Apollo Federation).",
  } as Record<string, string>,
  fields: {
    "Query._service": "This subgraph's schema with its federation directives, for a router to compose (Apollo Federation 2).",
    "Query._entities": "The entities another subgraph refers to, one per representation, in order; null for a key that names nothing.",
    "Query._entities(representations)": "`__typename` and key fields of each entity, e.g. {\"__typename\": \"Region\", \"code\": \"410100\"}.",
    "_Service.sdl": "The subgraph SDL (as checked in at schema/subgraph.graphql).",
  } as Record<string, string>,
  enumValues: {
    "link__Purpose.SECURITY": "The spec applies security features.",
    "link__Purpose.EXECUTION": "The spec changes how the schema executes.",
  } as Record<string, string>,
};

/** `@key(fields: "…")` as a directive node. */
function keyDirective(fields: string): ConstDirectiveNode {
  return {
    kind: Kind.DIRECTIVE,
    name: { kind: Kind.NAME, value: "key" },
    arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: "fields" }, value: { kind: Kind.STRING, value: fields } }],
  };
}

/** The plain schema's SDL with the federation `@link` and a `@key` on each entity type. */
export function subgraphTypeDefs(schema: GraphQLSchema): DocumentNode {
  const keyed = new Set<string>();
  const definitions = parse(printSchema(schema)).definitions.map((definition): DefinitionNode => {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION || !(definition.name.value in ENTITY_KEYS)) return definition;
    keyed.add(definition.name.value);
    return { ...definition, directives: [...(definition.directives ?? []), keyDirective(ENTITY_KEYS[definition.name.value as EntityTypeName])] };
  });
  const missing = Object.keys(ENTITY_KEYS).filter((name) => !keyed.has(name));
  invariant(missing.length === 0, () => `no object type ${missing.join(", ")} to key`);
  return { kind: Kind.DOCUMENT, definitions: [...parse(LINK).definitions, ...definitions] };
}

/**
 * The subgraph schema of `schema`, a built type-graphql schema (direct
 * resolvers installed or not: every field keeps the resolver it has there).
 */
export function buildSubgraph(schema: GraphQLSchema): GraphQLSchema {
  const resolvers: Record<string, any> = createResolversMap(schema);
  for (const [typeName, reference] of Object.entries(REFERENCE_RESOLVERS)) {
    resolvers[typeName] = { ...resolvers[typeName], ...reference };
  }
  const subgraph = buildSubgraphSchema({ typeDefs: subgraphTypeDefs(schema), resolvers });
  describeFederation(subgraph);
  return subgraph;
}

function describeFederation(schema: GraphQLSchema): void {
  for (const [name, description] of Object.entries(FEDERATION_DESCRIPTIONS.types)) {
    const type = schema.getType(name);
    if (type instanceof GraphQLObjectType || type instanceof GraphQLUnionType || type instanceof GraphQLScalarType || type instanceof GraphQLEnumType) {
      type.description = description;
    }
  }
  const query = schema.getQueryType();
  for (const [path, description] of Object.entries(FEDERATION_DESCRIPTIONS.fields)) {
    const [, typeName, fieldName, argName] = /^(\w+)\.(\w+)(?:\((\w+)\))?$/.exec(path)!;
    const type = typeName === "Query" ? query : schema.getType(typeName);
    const field = type instanceof GraphQLObjectType ? type.getFields()[fieldName] : undefined;
    if (!field) continue;
    if (argName) {
      const arg = field.args.find((a) => a.name === argName);
      if (arg) arg.description = description;
    } else field.description = description;
  }
  for (const [path, description] of Object.entries(FEDERATION_DESCRIPTIONS.enumValues)) {
    const [typeName, valueName] = path.split(".");
    const type = schema.getType(typeName);
    const value = type instanceof GraphQLEnumType ? type.getValue(valueName) : undefined;
    if (value) value.description = description;
  }
}

/** The SDL the subgraph serves as `_service { sdl }`. */
export async function subgraphSdl(subgraph: GraphQLSchema): Promise<string> {
  const result = await graphql({ schema: subgraph, source: "{ _service { sdl } }" });
  const sdl = (result.data as { _service?: { sdl?: unknown } } | null | undefined)?._service?.sdl;
  invariant(!result.errors?.length && typeof sdl === "string", () => `no subgraph SDL (${result.errors?.map((e) => e.message).join("; ")})`);
  return sdl;
}
