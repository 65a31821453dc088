/**
 * How a grouped query's rows follow from a rollup table's rows: the grouped
 * queries (src/filter/grouped-queries.ts) say it, and the shared cache adds
 * writes' rollup deltas to cached rows by it (src/stats/incremental.ts).
 */
export interface IncrementalSpec {
  table: string;
  /** Conditions on the rollup's key columns, all of which must hold: the column's value is one of `values`. */
  where: Array<{ column: string; values: ReadonlySet<number> }>;
  /** The row's group fields, each from a key column: [field name in the row, rollup key column]. */
  groupBy: Array<[string, string]>;
}

