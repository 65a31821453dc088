import type { Context } from "../common/context";
import type { GroupedQuery } from "../filter/grouped-queries";

/** Runs a grouped query through the shared cache; `provinces` are those whose writes can change its rows (null: any). */
export function readGroups<Row>(ctx: Context, query: GroupedQuery<Row>, provinces: readonly number[] | null): Promise<Row[]> {
  return ctx.groupedRows(`${query.sql}|${JSON.stringify(query.params)}`, provinces, (db) => db.query(query.sql, query.params));
}
