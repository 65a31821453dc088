import type { DataSource, Logger, QueryRunner } from "typeorm";

import { gateFor } from "./availability";
import { sharedAccess } from "./sqlite-lock";
import { readOn, sqliteReader } from "./sqlite-reader";

/** A running count of SQL statements, e.g. one request's. */
export interface SqlTally {
  statements: number;
  /** Another tally each statement also counts into (a request's whole count, of which this is a part). */
  also?: SqlTally;
}

/** What read code needs of the database: one statement at a time. */
export interface SqlClient {
  query<T = any>(sql: string, params?: unknown[]): Promise<T>;
}

/** One statement more in `tally` and in the whole it is part of. */
function countStatement(tally: SqlTally): void {
  tally.statements += 1;
  if (tally.also) tally.also.statements += 1;
}

/** Where a query runner carries the tally its statements count into (TypeORM's per-runner `data`). */
const TALLY = "sqlTally";

/**
 * A client whose statements are counted into `tally` by the driver-level
 * logger below. Each statement gets a query runner of its own, exactly as
 * `DataSource.query` does, so no connection is held between statements; the
 * runner carries the tally, so no async-context tracking (which costs every
 * promise of the request) is needed. Every statement passes the database's
 * gate (./availability.ts): a lost connection is retried once, and while the
 * database is down statements fail at once with SERVICE_UNAVAILABLE. On an
 * SQLite file the statements run on its read connection instead, which a
 * write never holds up.
 */
export function countingClient(db: DataSource, tally: SqlTally): SqlClient {
  const gate = gateFor(db);
  const reader = sqliteReader(db);
  if (reader) {
    // SQLite file: reads on the second connection, never behind a write (./sqlite-reader.ts).
    return {
      query: async (sql, params) => {
        countStatement(tally);
        db.logger.logQuery(sql, params);
        return readOn(reader, sql, params);
      },
    };
  }
  return {
    query: (sql, params) =>
      gate.run(() =>
        sharedAccess(db, async () => {
          const runner = db.createQueryRunner();
          runner.data = { [TALLY]: tally };
          try {
            return await runner.query(sql, params as any[]);
          } finally {
            await runner.release();
          }
        }),
      ),
  };
}

/**
 * TypeORM logger: counts every statement the driver is handed into the tally
 * of the query runner that issued it (tests and the benchmark assert the
 * count per request) and optionally prints it.
 */
export class CountingSqlLogger implements Logger {
  constructor(private readonly print: boolean) {}

  logQuery(query: string, parameters?: unknown[], queryRunner?: QueryRunner): void {
    const tally = queryRunner?.data?.[TALLY] as SqlTally | undefined;
    if (tally) countStatement(tally);
    if (this.print) process.stderr.write(`sql: ${query}${parameters?.length ? ` -- ${JSON.stringify(parameters)}` : ""}\n`);
  }

  /** Failed statements reach the JSON log through the request that issued them (or the database gate); here only with LOG_SQL. */
  logQueryError(error: string | Error, query: string, parameters?: unknown[]): void {
    if (this.print) process.stderr.write(`sql error: ${String(error)} in: ${query}${parameters?.length ? ` -- ${JSON.stringify(parameters)}` : ""}\n`);
  }

  logQuerySlow(time: number, query: string): void {
    if (this.print) process.stderr.write(`sql slow (${time} ms): ${query}\n`);
  }

  logSchemaBuild(message: string): void {
    if (this.print) process.stderr.write(`schema: ${message}\n`);
  }

  logMigration(message: string): void {
    if (this.print) process.stderr.write(`migration: ${message}\n`);
  }

  log(level: "log" | "info" | "warn", message: unknown): void {
    if (level === "warn" || this.print) process.stderr.write(`typeorm ${level}: ${String(message)}\n`);
  }
}
