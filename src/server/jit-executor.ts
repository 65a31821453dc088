import type { GatewayExecutor, GatewayInterface } from "@apollo/server-gateway-interface";
import { type DocumentNode, type GraphQLSchema, printSchema } from "graphql";
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
    return query.query(undefined, request.context, request.request.variables ?? {});
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
