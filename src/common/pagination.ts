import { Field, ObjectType } from "type-graphql";

import { BadUserInputError } from "./errors";

/** Largest page a connection serves; also the default cost bound of a list. */
export const MAX_PAGE_SIZE = 100;

/** Relay page information. */
@ObjectType({ description: "Where a page sits in the whole list (Relay cursor connections)." })
export class PageInfo {
  @Field({ description: "True when more items follow this page." })
  hasNextPage: boolean;

  @Field({ description: "True when items precede this page (an `after` cursor was given)." })
  hasPreviousPage: boolean;

  @Field(() => String, { nullable: true, description: "Cursor of the first item of this page; null when the page is empty." })
  startCursor: string | null;

  @Field(() => String, { nullable: true, description: "Cursor of the last item; pass it as `after` to get the next page." })
  endCursor: string | null;
}

/** Checks `first` (1..100, or up to `max` for internal readers); the error names the argument. */
export function checkPageSize(first: number | null | undefined, max = MAX_PAGE_SIZE): number {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > max) {
    throw new BadUserInputError("first", `must be between 1 and ${max} (got ${size})`);
  }
  return size;
}

/** What a cursor records: the ordering it belongs to, the sort value and the id of its item. */
export interface CursorPosition {
  order: string;
  value: string | number;
  id: number;
}

/** Opaque cursor: base64url of the ordering, the sort value and the id (the tiebreak). */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.order, position.value, position.id])).toString("base64url");
}

/** Decodes a cursor made by `encodeCursor` for the same ordering, or fails with BAD_USER_INPUT. */
export function decodeCursor(cursor: string, order: string): CursorPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new BadUserInputError("after", "is not a cursor this API issued");
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 3 ||
    typeof parsed[0] !== "string" ||
    (typeof parsed[1] !== "string" && typeof parsed[1] !== "number") ||
    !Number.isInteger(parsed[2])
  ) {
    throw new BadUserInputError("after", "is not a cursor this API issued");
  }
  if (parsed[0] !== order) {
    throw new BadUserInputError("after", `was issued for ordering ${parsed[0]}, not ${order}; start again without it`);
  }
  return { order, value: parsed[1], id: parsed[2] };
}
