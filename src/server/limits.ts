import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import type { ApolloServerPlugin } from "@apollo/server";
import type { RequestHandler } from "express";
import {
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  Lexer,
  type SelectionSetNode,
  Source,
  TokenKind,
  type ValidationContext,
  type ValidationRule,
} from "graphql";
import { getComplexity } from "graphql-query-complexity";

import type { Limits } from "../config";
import { AppError, ErrorCode, LimitError } from "../common/errors";
import { getOrCreate } from "../common/maps";
import { costEstimators, type CostModel, GROUPED_QUERY_COST } from "./cost";
import { sendJsonError } from "./observability";

/**
 * The limits every request passes before anything is executed or compiled,
 * cheapest first:
 * 1. body size (express.json) and document size, before parsing (`documentSizeGuard`);
 * 2. lexical tokens, while parsing (graphql-js's own `maxTokens`, `parseOptions`);
 * 3. depth (introspection included), aliases and directives (graphql-armor's
 *    rules), root fields and fragment spreads after expansion (`limitRules`),
 *    in validation, once per distinct document;
 * 4. cost (graphql-query-complexity with the estimators of ./cost), once the
 *    variables are known, in `didResolveOperation`, before graphql-jit compiles.
 * Each refusal is a LimitError: its own `extensions.code`, the measured value
 * and the limit, HTTP 400.
 */

/** Refuses a GraphQL document larger than the limit (comments included) before it is parsed. */
export function documentSizeGuard(limits: Limits): RequestHandler {
  return (req, res, next) => {
    const query = req.method === "GET" ? req.query?.query : (req.body as { query?: unknown } | undefined)?.query;
    const queries = Array.isArray(req.body) ? req.body.map((op: { query?: unknown }) => op?.query) : [query];
    for (const q of queries) {
      if (typeof q !== "string") continue;
      const bytes = Buffer.byteLength(q, "utf8");
      if (bytes > limits.documentBytes) {
        const { message, extensions } = new LimitError(ErrorCode.QUERY_TOO_LARGE, "Document size in bytes", bytes, limits.documentBytes, "MAX_DOCUMENT_BYTES");
        const { http: _http, ...shown } = extensions;
        sendJsonError(res, 400, message, shown as { code: string });
        return;
      }
    }
    next();
  };
}

/** Parser options: graphql-js stops lexing at the token limit. */
export function parseOptions(limits: Limits): { maxTokens: number } {
  return { maxTokens: limits.tokens };
}

/** A parse error that graphql-js raised at the token limit, as a LimitError with the document's real token count. */
export function tokenLimitError(error: GraphQLError, limits: Limits): LimitError | null {
  // graphql-js 16 says "more that N tokens".
  if (!/Document contains more th(?:an|at) \d+ tokens/.test(error.message)) return null;
  const body = error.source?.body;
  return new LimitError(ErrorCode.QUERY_TOO_MANY_TOKENS, "Token count", body ? countTokens(body) : limits.tokens + 1, limits.tokens, "MAX_TOKENS");
}

/** Lexical tokens of a document (bounded by MAX_DOCUMENT_BYTES, so cheap); stops at the first lexical error. */
function countTokens(body: string): number {
  const lexer = new Lexer(new Source(body));
  let n = 0;
  try {
    while (lexer.advance().kind !== TokenKind.EOF) n += 1;
  } catch {
    // A lexical error after the limit: the count so far is already over it.
  }
  return n;
}

/** Validation rules for the structural limits; they run once per distinct document (Apollo keeps validated documents). */
export function limitRules(limits: Limits): ValidationRule[] {
  const reject = (code: ErrorCode, what: string, limit: number, setting: string) => (context: ValidationContext | null, error: GraphQLError) => {
    const measured = Number(/found (\d+)/.exec(error.message)?.[1] ?? limit + 1);
    context?.reportError(new LimitError(code, what, measured, limit, setting));
  };
  const armor = { exposeLimits: true, propagateOnRejection: false } as const;
  return [
    fragmentSpreadsRule(limits.fragmentSpreads),
    rootFieldsRule(limits.rootFields),
    maxDepthRule({ ...armor, n: limits.depth, ignoreIntrospection: false, flattenFragments: true, onReject: [reject(ErrorCode.QUERY_TOO_DEEP, "Query depth", limits.depth, "MAX_DEPTH")] }),
    // Every alias counts, __typename's too (graphql-armor lets those through by default).
    maxAliasesRule({ ...armor, n: limits.aliases, allowList: [], onReject: [reject(ErrorCode.QUERY_TOO_MANY_ALIASES, "Alias count", limits.aliases, "MAX_ALIASES")] }),
    maxDirectivesRule({ ...armor, n: limits.directives, onReject: [reject(ErrorCode.QUERY_TOO_MANY_DIRECTIVES, "Directive count", limits.directives, "MAX_DIRECTIVES")] }),
  ];
}

/**
 * Fragment spreads counted as if every fragment were pasted where it is
 * spread (a "fragment bomb" of 30 fragments each spreading the next twice is
 * 2^30 spreads in 1 KB). Each fragment's expanded count is computed once, so
 * the count itself costs linear time; cycles are left to the spec's own rule.
 */
function fragmentSpreadsRule(limit: number): ValidationRule {
  return (context) => ({
    Document(document) {
      const fragments = new Map<string, FragmentDefinitionNode>();
      for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
      const expanded = new Map<string, number>();
      const countIn = (set: SelectionSetNode | undefined, active: Set<string>): number => {
        let n = 0;
        for (const selection of set?.selections ?? []) {
          if (selection.kind === Kind.FRAGMENT_SPREAD) {
            const name = selection.name.value;
            n += 1 + (active.has(name) ? 0 : fragmentCount(name, active));
          } else n += countIn(selection.selectionSet, active);
        }
        return n;
      };
      const fragmentCount = (name: string, active: Set<string>): number => {
        const known = expanded.get(name);
        if (known !== undefined) return known;
        const fragment = fragments.get(name);
        if (!fragment) return 0;
        active.add(name);
        const n = countIn(fragment.selectionSet, active);
        active.delete(name);
        expanded.set(name, n);
        return n;
      };
      let worst = 0;
      for (const definition of document.definitions) {
        if (definition.kind === Kind.OPERATION_DEFINITION) worst = Math.max(worst, countIn(definition.selectionSet, new Set()));
      }
      if (worst > limit) {
        context.reportError(new LimitError(ErrorCode.QUERY_TOO_MANY_FRAGMENTS, "Fragment spreads after expansion", worst, limit, "MAX_FRAGMENT_SPREADS"));
      }
    },
  });
}

/** Fields at the root of each operation, counting those brought in by fragments and inline fragments. */
function rootFieldsRule(limit: number): ValidationRule {
  return (context): ASTVisitor => ({
    OperationDefinition(operation) {
      const seen = new Set<string>();
      const count = (set: SelectionSetNode | undefined): number => {
        let n = 0;
        for (const selection of set?.selections ?? []) {
          if (selection.kind === Kind.FIELD) n += 1;
          else if (selection.kind === Kind.INLINE_FRAGMENT) n += count(selection.selectionSet);
          else if (!seen.has(selection.name.value)) {
            seen.add(selection.name.value);
            n += count(context.getFragment(selection.name.value)?.selectionSet);
          }
        }
        return n;
      };
      const n = count(operation.selectionSet);
      if (n > limit) context.reportError(new LimitError(ErrorCode.QUERY_TOO_MANY_ROOT_FIELDS, "Root field count", n, limit, "MAX_ROOT_FIELDS"));
    },
  });
}

/** The cost of an operation with its variables; throws a LimitError over the limit. */
export function checkCost(schema: GraphQLSchema, model: CostModel, limits: Limits, document: DocumentNode, operationName: string | undefined, variables: Record<string, unknown>): number {
  // Variables first, stopping at the first wrong value: a list of 100,000 wrong items would otherwise make 100,000
  // errors, each with a stack, in every coercion (the cost walk's and execution's).
  const operation = getOperationAST(document, operationName);
  const coerced = getVariableValues(schema, operation?.variableDefinitions ?? [], variables, { maxErrors: 1 });
  if (coerced.errors) {
    const [first] = coerced.errors;
    throw new GraphQLError(first.message, { nodes: first.nodes, extensions: { code: ErrorCode.BAD_USER_INPUT, http: { status: 400 } } });
  }
  const grouped = new Set<string>();
  let fields: number;
  try {
    // Every field costs at least 1, so a document with more selections than the limit is over it: stop counting there.
    fields = getComplexity({ schema, query: document, operationName, variables, estimators: costEstimators(model, grouped), maxQueryNodes: limits.cost + 1 });
  } catch (error) {
    if (error instanceof GraphQLError && /maximum allowed number of nodes/.test(error.message)) {
      throw new LimitError(ErrorCode.QUERY_TOO_COMPLEX, "Query cost", limits.cost + 1, limits.cost, "MAX_COST");
    }
    throw error;
  }
  const cost = fields + grouped.size * GROUPED_QUERY_COST;
  if (cost > limits.cost) throw new LimitError(ErrorCode.QUERY_TOO_COMPLEX, "Query cost", cost, limits.cost, "MAX_COST");
  return cost;
}

/** Computes each operation's cost before execution (and before graphql-jit compiles it), refusing it over MAX_COST. */
export function costPlugin(schema: GraphQLSchema, costs: { readonly current: CostModel }, limits: Limits): ApolloServerPlugin<{ request: { cost?: number } }> {
  // The cost of an operation without variables depends on its document alone (and the model); Apollo hands repeats
  // of a document the same parsed object (its document store), so those are costed once per model.
  let accepted = new WeakMap<DocumentNode, Map<string, number>>();
  let costedWith = costs.current;
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, operationName, operation, contextValue }) {
          const model = costs.current;
          if (model !== costedWith) {
            accepted = new WeakMap();
            costedWith = model;
          }
          const constant = !operation?.variableDefinitions?.length;
          const known = constant ? accepted.get(document)?.get(operationName ?? "") : undefined;
          if (known !== undefined) {
            contextValue.request.cost = known;
            return;
          }
          const cost = checkCost(schema, model, limits, document, operationName ?? undefined, request.variables ?? {});
          contextValue.request.cost = cost;
          if (constant) {
            getOrCreate(accepted, document, () => new Map<string, number>()).set(operationName ?? "", cost);
          }
        },
      };
    },
  };
}

