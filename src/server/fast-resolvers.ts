import { type GraphQLFieldResolver, GraphQLObjectType, type GraphQLSchema } from "graphql";
import { invariant } from "../common/errors";

/**
 * Fields that are pure functions of their parent object, on the types a
 * province-to-county answer repeats thousands of times. type-graphql resolves
 * every field through its own wrapper (argument conversion and validation,
 * middlewares), which costs more than the field itself; these resolve
 * directly: plain properties by graphql's default (graphql-jit inlines it),
 * computed ones by calling the object's own method with the coerced argument.
 */
const DIRECT: Record<string, Record<string, GraphQLFieldResolver<any, unknown, any> | "property">> = {
  ProjectStats: {
    projectCount: "property",
    totalInvestment: (stats, args) => stats.totalInvestment(args.unit ?? null),
    bySector: (stats, args) => stats.bySector(args.parentCode ?? null),
    byStage: (stats) => stats.byStage(),
  },
  SectorStats: {
    sector: "property",
    projectCount: "property",
    totalInvestment: (row, args) => row.totalInvestment(args.unit ?? null),
  },
  StageStats: {
    stage: "property",
    projectCount: "property",
    totalInvestment: (row, args) => row.totalInvestment(args.unit ?? null),
  },
  BreakdownRow: {
    region: "property",
    sector: "property",
    stage: "property",
    meeting: "property",
    year: "property",
    quarter: "property",
    projectCount: "property",
    totalInvestment: (row, args) => row.totalInvestment(args.unit ?? null),
  },
  Region: { code: "property", name: "property", level: "property" },
  Sector: { code: "property", name: "property" },
  Project: {
    id: "property",
    name: "property",
    stage: "property",
    investor: "property",
    synthetic: "property",
    version: "property",
    investment: (project, args) => project.investment(args.unit ?? null),
  },
};

/** Replaces the resolvers of the fields above in a built schema; fails loudly if one no longer exists. */
export function installDirectResolvers(schema: GraphQLSchema): GraphQLSchema {
  for (const [typeName, fields] of Object.entries(DIRECT)) {
    const type = schema.getType(typeName);
    invariant(type instanceof GraphQLObjectType, `no object type ${typeName} for a direct resolver`);
    const defined = type.getFields();
    for (const [fieldName, resolve] of Object.entries(fields)) {
      const field = defined[fieldName];
      invariant(field, `no field ${typeName}.${fieldName} for a direct resolver`);
      field.resolve = resolve === "property" ? undefined : resolve;
    }
  }
  return schema;
}
