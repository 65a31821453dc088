import type { GatewayExecutor, GatewayInterface } from "@apollo/server-gateway-interface";
import { type DocumentNode, getOperationAST, getVariableValues, GraphQLError, type GraphQLSchema, printSchema } from "graphql";
import { type CompiledQuery, compileQuery, isCompiledQuery } from "graphql-jit";

/**
 * Executes operations with graphql-jit: each parsed document (Apollo keeps
 * them in its document store) is compiled once per operation name into a
 * function, which halves the cost of executing the ~20,000 fields of the
 * province-to-county answer (see PERFORMANCE.md of the founders' notes).
 * Wired through Apollo Server's gateway interface, the one hook that replaces
 * execution; the schema itself is static.
 */
export function jitExecution(schema: GraphQLSchema): GatewayInterface {
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery>>();
  const executor: GatewayExecutor = async (request) => {
    const operationName = request.operationName ?? request.request.operationName ?? undefined;
    let byOperation = compiled.get(request.document);
    if (!byOperation) {
      byOperation = new Map();
      compiled.set(request.document, byOperation);
    }
    let query = byOperation.get(operationName ?? "");
    if (!query) {
      const result = compileQuery(schema, request.document, operationName);
      if (!isCompiledQuery(result)) return result;
      query = result;
      byOperation.set(operationName ?? "", query);
    }
    // Variables are coerced by graphql-js, which applies defaults as the spec says (graphql-jit refuses a
    // non-null variable that has a default but was not sent); graphql-jit then sees them all given.
    const operation = getOperationAST(request.document, operationName);
    const variables = getVariableValues(schema, operation?.variableDefinitions ?? [], request.request.variables ?? {});
    if (variables.errors) {
      return { errors: variables.errors.map((error) => new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: "BAD_USER_INPUT" } })) };
    }
    const result = await query.query(undefined, request.context, variables.coerced);
    // Apollo expects graphql-js errors (with `extensions`); graphql-jit's own may lack it.
    if (result.errors) result.errors = result.errors.map((error: GraphQLError) => (error instanceof GraphQLError ? error : asGraphQLError(error)));
    return result;
  };
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => undefined;
    },
    load: async () => ({ schema, executor }),
    stop: async () => undefined,
  };
}

/** A graphql-js error carrying what another error object says. */
function asGraphQLError(error: { message: string; nodes?: GraphQLError["nodes"]; path?: GraphQLError["path"] }): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, path: error.path, originalError: error as Error });
}
