/**
 * The cost limit (src/server/cost.ts) for `_entities`: a router's fetch asks
 * for one selection per representation, so what it selects counts once per
 * representation, as a list field's selection counts once per item. The cost
 * model itself has no entry for `_entities` (it knows the plain schema), so
 * with FEDERATION=true this plugin runs after the usual cost check on the
 * operations that select `_entities` and refuses those over MAX_COST with the
 * same QUERY_TOO_COMPLEX error; every other operation is left as costed.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import { type DocumentNode, GraphQLError, Kind, type OperationDefinitionNode } from "graphql";
import { type ComplexityEstimator, getComplexity } from "graphql-query-complexity";
import type { GraphQLSchema } from "graphql";

import { ErrorCode, LimitError } from "../common/errors";
import type { Limits } from "../config";
import { costEstimators, type CostModel, GROUPED_QUERY_COST } from "../server/cost";

/** `_entities` costs 1 plus its selection once per representation. */
const entitiesEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  if (field.name !== "_entities" || type.name !== "Query") return undefined;
  const representations = Array.isArray(args.representations) ? args.representations.length : 1;
  return 1 + Math.max(1, representations) * childComplexity;
};

function selectsEntities(operation: OperationDefinitionNode | null | undefined, document: DocumentNode): boolean {
  if (!operation || operation.operation !== "query") return false;
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const seen = new Set<string>();
  const visit = (selections: OperationDefinitionNode["selectionSet"]["selections"]): boolean =>
    selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return selection.name.value === "_entities";
      if (selection.kind === Kind.INLINE_FRAGMENT) return visit(selection.selectionSet.selections);
      if (seen.has(selection.name.value)) return false;
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      return fragment ? visit(fragment.selectionSet.selections) : false;
    });
  return visit(operation.selectionSet.selections);
}

/** The cost of an operation that selects `_entities`, counting each representation; throws a LimitError over MAX_COST. */
export function entitiesCost(schema: GraphQLSchema, model: CostModel, limits: Limits, document: DocumentNode, operationName: string | undefined, variables: Record<string, unknown>): number {
  const grouped = new Set<string>();
  let fields: number;
  try {
    fields = getComplexity({ schema, query: document, operationName, variables, estimators: [entitiesEstimator, ...costEstimators(model, grouped)] });
  } catch (error) {
    if (error instanceof GraphQLError) throw new GraphQLError(error.message, { extensions: { code: ErrorCode.BAD_USER_INPUT, http: { status: 400 } } });
    throw error;
  }
  const cost = fields + grouped.size * GROUPED_QUERY_COST;
  if (cost > limits.cost) throw new LimitError(ErrorCode.QUERY_TOO_COMPLEX, "Query cost", cost, limits.cost, "MAX_COST");
  return cost;
}

/** Runs after the server's cost plugin: an operation selecting `_entities` is costed again with its representations counted. */
export function entitiesCostPlugin(schema: GraphQLSchema, costs: { readonly current: CostModel }, limits: Limits): ApolloServerPlugin<{ request: { cost?: number } }> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, operationName, operation, contextValue }) {
          if (!selectsEntities(operation, document)) return;
          contextValue.request.cost = entitiesCost(schema, costs.current, limits, document, operationName ?? undefined, request.variables ?? {});
        },
      };
    },
  };
}
