import type { GatewayExecutor, GatewayInterface } from "@apollo/server-gateway-interface";
import { getOperationAST, getVariableValues, GraphQLError, type GraphQLSchema, printSchema } from "graphql";
import { type CompiledQuery, compileQuery, isCompiledQuery } from "graphql-jit";
import { LRUCache } from "lru-cache";

import { ErrorCode, LimitError } from "../common/errors";

/** Bounds of the compiled-query cache and of each answer. */
export interface JitOptions {
  /** Compiled operations kept (least recently used dropped first). */
  maxEntries: number;
  /** Estimated bytes of compiled code kept. */
  maxBytes: number;
  /** An answer whose JSON would be larger than this is refused (RESPONSE_TOO_LARGE) instead of sent. */
  maxResponseBytes: number;
}

/**
 * Heap a compiled operation holds, estimated as a fixed part plus a part per
 * byte of its document: measured with 200 compilations each of a 67-byte
 * search (23.7 KB each) and of the 543-byte province-to-county query (60 KB
 * each). The cache bound is in these estimated bytes.
 */
const COMPILED_FIXED_BYTES = 20_000;
const COMPILED_BYTES_PER_DOCUMENT_BYTE = 75;

/**
 * Executes operations with graphql-jit: each distinct document is compiled
 * once per operation name into a function, which halves the cost of executing
 * the ~20,000 fields of the province-to-county answer (see PERFORMANCE.md of
 * the founders' notes). Compiled operations live in an LRU cache bounded by
 * count and estimated bytes, so a stream of distinct documents cannot grow the
 * heap. Every limit (./limits.ts) has been checked before this runs. Wired
 * through Apollo Server's gateway interface, the one hook that replaces
 * execution; the schema itself is static.
 */
export function jitExecution(schema: GraphQLSchema, options: JitOptions): GatewayInterface {
  const compiled = new LRUCache<string, CompiledQuery>({
    max: options.maxEntries,
    maxSize: options.maxBytes,
    sizeCalculation: (_query, key) => COMPILED_FIXED_BYTES + key.length * COMPILED_BYTES_PER_DOCUMENT_BYTE,
  });
  const executor: GatewayExecutor = async (request) => {
    const operationName = request.operationName ?? request.request.operationName ?? undefined;
    // The key holds the source itself, so its length is the document's size (the hash alone would do as a key).
    const key = `${operationName ?? ""}\u0000${request.source}`;
    let query = compiled.get(key);
    if (!query) {
      const result = compileQuery(schema, request.document, operationName);
      // A valid document that cannot run here (a mutation on a schema without one, an unknown operation name).
      if (!isCompiledQuery(result)) return { errors: (result.errors ?? []).map((error) => new GraphQLError(error.message, { extensions: { code: ErrorCode.GRAPHQL_VALIDATION_FAILED, http: { status: 400 } } })) };
      query = result;
      compiled.set(key, query);
    }
    // Variables are coerced by graphql-js, which applies defaults as the spec says (graphql-jit refuses a
    // non-null variable that has a default but was not sent); graphql-jit then sees them all given.
    const operation = getOperationAST(request.document, operationName);
    const variables = getVariableValues(schema, operation?.variableDefinitions ?? [], request.request.variables ?? {});
    if (variables.errors) {
      return { errors: variables.errors.map((error) => new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: ErrorCode.BAD_USER_INPUT } })) };
    }
    const result = await query.query(undefined, request.context, variables.coerced);
    // Apollo expects graphql-js errors (with `extensions`); graphql-jit's own may lack it.
    if (result.errors) result.errors = result.errors.map((error: GraphQLError) => (error instanceof GraphQLError ? error : asGraphQLError(error)));
    const bytes = jsonBytesOver(result.data, options.maxResponseBytes);
    if (bytes !== null) {
      return { errors: [new LimitError(ErrorCode.RESPONSE_TOO_LARGE, "Answer size in bytes (at least)", bytes, options.maxResponseBytes, "MAX_RESPONSE_BYTES")] };
    }
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

/**
 * The JSON size of `value` once it passes `limit` (counting stops there), or
 * null when it stays within. Strings count their UTF-16 length: their UTF-8
 * bytes for ASCII, a third of them for Chinese text (so the bound errs on
 * letting an answer through, by at most a factor of three on names).
 */
export function jsonBytesOver(value: unknown, limit: number): number | null {
  let bytes = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const item = stack.pop();
    if (item === null || item === undefined) bytes += 4;
    else if (typeof item === "string") bytes += item.length + 2;
    else if (typeof item === "number" || typeof item === "boolean") bytes += 8;
    else if (Array.isArray(item)) {
      bytes += 2 + item.length;
      for (const element of item) stack.push(element);
    } else if (typeof item === "object") {
      for (const key in item) {
        bytes += key.length + 4;
        stack.push((item as Record<string, unknown>)[key]);
      }
    }
    if (bytes > limit) return bytes;
  }
  return null;
}

/** A graphql-js error carrying what another error object says. */
function asGraphQLError(error: { message: string; nodes?: GraphQLError["nodes"]; path?: GraphQLError["path"] }): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, path: error.path, originalError: error as Error });
}
