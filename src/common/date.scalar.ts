import { GraphQLError, GraphQLScalarType, Kind } from "graphql";

import { BadUserInputError, ErrorCode } from "./errors";

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written YYYY-MM-DD. */
export function isIsoDate(value: string): boolean {
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/**
 * The scalar checks the shape only: whether YYYY-MM-DD names a real day is
 * checked where the date is used (`checkCalendarDate`, the ledger's rules),
 * so that a write reports an impossible date together with its input's other
 * problems rather than alone.
 */
function parseDate(value: unknown): string {
  if (typeof value !== "string" || !ISO_DATE.test(value)) {
    throw new GraphQLError(`Date must be a calendar date written YYYY-MM-DD (got ${JSON.stringify(value)?.slice(0, 80)})`, {
      extensions: { code: ErrorCode.BAD_USER_INPUT },
    });
  }
  return value;
}

/** A Date argument or filter field that must name a real day: BAD_USER_INPUT naming `field` otherwise. */
export function checkCalendarDate(field: string, value: string | null | undefined): void {
  if (value != null && !isIsoDate(value)) throw new BadUserInputError(field, `must be a calendar date written YYYY-MM-DD (got ${JSON.stringify(value)})`);
}

/** A DATE column (mysql2 may hand back a Date or a string) or a Date, as YYYY-MM-DD. */
export function isoDay(value: unknown): string {
  return value instanceof Date ? value.toISOString().slice(0, 10) : String(value).slice(0, 10);
}

/** Calendar date, ISO 8601 (YYYY-MM-DD); held as that string inside the product. */
export const DateScalar = new GraphQLScalarType<string, string>({
  name: "Date",
  description: "Calendar date, ISO 8601 (YYYY-MM-DD).",
  serialize: isoDay,
  parseValue: parseDate,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError("Date must be a string written YYYY-MM-DD", { extensions: { code: ErrorCode.BAD_USER_INPUT } });
    }
    return parseDate(ast.value);
  },
});
