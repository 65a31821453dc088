/** Small pieces of SQL text every module writes the same way, on MySQL and SQLite alike. */

/** Anything that runs one statement with parameters: a DataSource, an EntityManager, a request's client, a write's transaction. */
export interface StatementRunner {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * Most SELECTs one UNION ALL may join on SQLite (its SQLITE_MAX_COMPOUND_SELECT, 500 by default): the loaders that
 * read one subquery per page or listing batch at most this many terms a statement.
 */
export const MAX_UNION_TERMS = 500;

/** `?, ?, …`: the placeholders of `count` values, for `IN (…)` and row lists. */
export function placeholders(count: number): string {
  return Array.from({ length: count }, () => "?").join(", ");
}

/**
 * Multi-row INSERTs of `rows` into `columns`, `chunk` rows a statement (well
 * under both databases' placeholder limits); `suffix` follows each statement
 * (an upsert clause).
 */
export async function insertRows(db: StatementRunner, table: string, columns: readonly string[], rows: readonly unknown[][], options: { chunk?: number; suffix?: string } = {}): Promise<void> {
  const size = options.chunk ?? 200;
  const row = `(${placeholders(columns.length)})`;
  for (let i = 0; i < rows.length; i += size) {
    const chunk = rows.slice(i, i + size);
    await db.query(`INSERT INTO ${table} (${columns.join(", ")}) VALUES ${chunk.map(() => row).join(", ")}${options.suffix ?? ""}`, chunk.flat());
  }
}
