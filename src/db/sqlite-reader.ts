import Database from "better-sqlite3";
import { LRUCache } from "lru-cache";
import { type DataSource, QueryFailedError } from "typeorm";

/** Prepared statements kept per reader connection (the read path has a few dozen distinct texts). */
const STATEMENTS = 200;

/** A second SQLite connection for reads, with its prepared statements. */
interface Reader {
  connection: Database.Database;
  statements: LRUCache<string, Database.Statement>;
}

const readers = new WeakMap<DataSource, Reader | null>();

/**
 * The read connection of an SQLite file database, or null (another kind of
 * database, or `:memory:`, which a second connection would not see).
 *
 * SQLite through TypeORM is one connection, so a write's transaction used to
 * hold every read until it committed: a 100,000-row import held the server's
 * reads for the whole import. In WAL mode (the file is opened so) a second
 * connection reads the last committed state while a write is under way, so
 * reads go here and never wait for a writer, nor see what a write has not
 * committed. It is read-only (`query_only`), opened on the first read and
 * closed with the DataSource.
 */
export function sqliteReader(db: DataSource): Reader | null {
  let reader = readers.get(db);
  if (reader !== undefined) return reader;
  const options = db.options;
  const path = options.type === "better-sqlite3" ? String(options.database) : ":memory:";
  if (options.type !== "better-sqlite3" || path === ":memory:" || path === "" || !db.isInitialized) {
    if (options.type !== "better-sqlite3" || db.isInitialized) readers.set(db, null);
    return null;
  }
  const connection = new Database(path, { fileMustExist: true, timeout: 5000 });
  connection.pragma("query_only = ON");
  reader = { connection, statements: new LRUCache({ max: STATEMENTS }) };
  readers.set(db, reader);
  const destroy = db.destroy.bind(db);
  db.destroy = async () => {
    readers.delete(db);
    connection.close();
    return destroy();
  };
  return reader;
}

/** Runs one read statement on the reader: rows for a SELECT (as TypeORM's query answers them); errors as TypeORM's QueryFailedError. */
export function readOn<T>(reader: Reader, sql: string, params: unknown[] = []): T {
  const values = params.map((p) => (typeof p === "boolean" ? (p ? 1 : 0) : p));
  try {
    let statement = reader.statements.get(sql);
    if (!statement) {
      statement = reader.connection.prepare(sql);
      reader.statements.set(sql, statement);
    }
    return (statement.reader ? statement.all(...values) : statement.run(...values)) as T;
  } catch (error) {
    throw new QueryFailedError(sql, values, error as Error);
  }
}
