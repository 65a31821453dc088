import { GraphQLError } from "graphql";

/** The one set of error codes clients see in `extensions.code`. */
export enum ErrorCode {
  BAD_USER_INPUT = "BAD_USER_INPUT",
  UNAUTHENTICATED = "UNAUTHENTICATED",
  FORBIDDEN = "FORBIDDEN",
  NOT_FOUND = "NOT_FOUND",
  CONFLICT = "CONFLICT",
  INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR",
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
    super(ErrorCode.NOT_FOUND, `${field}: no ${what} "${value}"`, { field, [camel(what)]: value });
  }
}

function camel(what: string): string {
  return what.replace(/ (\w)/g, (_, c: string) => c.toUpperCase()) + "Code";
}
