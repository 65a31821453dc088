import { GraphQLError } from "graphql";

/** The one set of error codes clients see in `extensions.code`. */
export enum ErrorCode {
  BAD_USER_INPUT = "BAD_USER_INPUT",
  UNAUTHENTICATED = "UNAUTHENTICATED",
  FORBIDDEN = "FORBIDDEN",
  NOT_FOUND = "NOT_FOUND",
  CONFLICT = "CONFLICT",
  INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR",
  /** The database cannot be reached or refused us; HTTP 503, worth retrying. */
  SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE",
  /** The request took longer than REQUEST_TIMEOUT_MS; HTTP 503. */
  REQUEST_TIMEOUT = "REQUEST_TIMEOUT",
  /** The HTTP request itself is malformed (not JSON, wrong shape). */
  BAD_REQUEST = "BAD_REQUEST",
  /** The JSON body is larger than MAX_BODY_BYTES; HTTP 413. */
  PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE",
  /** The limits checked before execution, each with `limit` and `measured` in `extensions`. */
  QUERY_TOO_LARGE = "QUERY_TOO_LARGE",
  QUERY_TOO_MANY_TOKENS = "QUERY_TOO_MANY_TOKENS",
  QUERY_TOO_DEEP = "QUERY_TOO_DEEP",
  QUERY_TOO_MANY_ALIASES = "QUERY_TOO_MANY_ALIASES",
  QUERY_TOO_MANY_ROOT_FIELDS = "QUERY_TOO_MANY_ROOT_FIELDS",
  QUERY_TOO_MANY_DIRECTIVES = "QUERY_TOO_MANY_DIRECTIVES",
  QUERY_TOO_MANY_FRAGMENTS = "QUERY_TOO_MANY_FRAGMENTS",
  QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX",
  /** The answer would be larger than MAX_RESPONSE_BYTES. */
  RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE",
  /** A valid document that cannot run on this schema (a mutation where there is none, an unknown operation name). */
  GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED",
  /** The document is not GraphQL (subscriptions; over HTTP Apollo reports it itself). */
  GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED",
  /** A WebSocket connection already holds LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION subscriptions. */
  LIVE_TOO_MANY_SUBSCRIPTIONS = "LIVE_TOO_MANY_SUBSCRIPTIONS",
}

/** Base class of every error meant for the client: sets `extensions.code` and any detail. */
export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...details } });
  }
}

/** Input the client can fix: `field` is the argument path (e.g. "filter.regionCodes[1]"). */
export class BadUserInputError extends AppError {
  constructor(field: string, reason: string) {
    super(ErrorCode.BAD_USER_INPUT, `${field}: ${reason}`, { field, reason });
  }
}

/** A code or id the client named does not exist where the contract has no null for it. */
export class NotFoundError extends AppError {
  constructor(field: string, what: string, value: string) {
    const quoted = shortenQuote(value);
    super(ErrorCode.NOT_FOUND, `${field}: no ${what} "${quoted}"`, { field, [camel(what)]: quoted });
  }
}

function camel(what: string): string {
  return what.replace(/ (\w)/g, (_, c: string) => c.toUpperCase()) + "Code";
}

/** A request over one of the configured limits: says what was measured, the limit and the setting that holds it. */
export class LimitError extends AppError {
  constructor(code: ErrorCode, what: string, measured: number, limit: number, setting: string) {
    super(code, `${what} ${measured} exceeds the limit of ${limit} (${setting})`, { limit, measured, http: { status: 400 } });
  }
}

/** Longest run of client text an error message quotes. */
const QUOTE_MAX = 64;
/** Longest error message sent (after quotes are shortened). */
const MESSAGE_MAX = 500;

/** Client text as an error may quote it: at most QUOTE_MAX characters, then "…". */
export function shortenQuote(value: string): string {
  return value.length > QUOTE_MAX ? `${value.slice(0, QUOTE_MAX)}…` : value;
}

/**
 * An error message safe to send back: every quoted run of client text longer
 * than QUOTE_MAX characters is cut to a prefix, and the whole
 * message to MESSAGE_MAX, so a 900 KB input never comes back as a 3.6 MB error.
 */
export function shortenQuotes(message: string): string {
  // Quotes pair up from the left: each run between an opening and its closing quote (or the end) is one quote.
  const short = message.slice(0, 20 * MESSAGE_MAX).replace(/"([^"]*)("|$)/g, (whole, inner: string, end: string) =>
    inner.length > QUOTE_MAX ? `"${inner.slice(0, QUOTE_MAX)}…${end}` : whole,
  );
  return short.length > MESSAGE_MAX ? `${short.slice(0, MESSAGE_MAX)}… (message cut at ${MESSAGE_MAX} characters)` : short;
}

/** The code a client should see for an error Apollo re-wrapped (validation and parse errors get Apollo's own codes). */
export function appErrorBehind(error: unknown): AppError | null {
  let current = error as { originalError?: unknown } | undefined;
  for (let i = 0; current && i < 4; i += 1) {
    if (current instanceof AppError) return current;
    current = current.originalError as typeof current;
  }
  return null;
}

/** A broken assumption of the code itself (never of the input): an internal error naming what should have held. */
export class InvariantError extends Error {
  constructor(message: string) {
    super(`invariant: ${message}`);
    this.name = "InvariantError";
  }
}

/** Throws an `InvariantError` with `message` unless `condition` holds. */
export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantError(typeof message === "function" ? message() : message);
}
