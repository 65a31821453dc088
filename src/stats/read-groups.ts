import type { Context } from "../common/context";
import type { GroupedQuery } from "../filter/grouped-queries";
import { splitStamped, stamped } from "./incremental";

/**
 * Runs a grouped query through the shared cache; `provinces` are those whose writes can change its rows (null: any).
 * A query over a rollup table is read, for the cache, with the counters of those provinces (one statement), so
 * that writes' deltas can be added to its rows (src/stats/incremental.ts).
 */
export function readGroups<Row>(ctx: Context, query: GroupedQuery<Row>, provinces: readonly number[] | null): Promise<Row[]> {
  const { incremental } = query;
  return ctx.groupedRows<Row>(
    `${query.sql}|${JSON.stringify(query.params)}`,
    provinces,
    async (db, withStamp) => {
      if (!withStamp || !incremental) return { rows: await db.query(query.sql, query.params) };
      const read = stamped(query.sql, query.params, incremental, provinces);
      return splitStamped<Row>(await db.query(read.sql, read.params), incremental);
    },
    incremental,
  );
}
