import { AsyncLocalStorage } from "node:async_hooks";

import type { Logger, QueryRunner } from "typeorm";

/** Per-request tally of SQL statements, carried through async calls. */
export interface SqlTally {
  statements: number;
}

const tallies = new AsyncLocalStorage<SqlTally>();

/** Runs `fn` with a fresh tally; every statement issued inside it, sync or async, is counted there. */
export function runWithSqlTally<T>(fn: () => T): T {
  return tallies.run({ statements: 0 }, fn);
}

/** The tally of the request being handled, if any. */
export function currentSqlTally(): SqlTally | undefined {
  return tallies.getStore();
}

/**
 * TypeORM logger that counts every statement the driver is handed into the
 * current request's tally (so tests and the benchmark can assert the count)
 * and optionally prints it.
 */
export class CountingSqlLogger implements Logger {
  constructor(private readonly print: boolean) {}

  logQuery(query: string, parameters?: unknown[]): void {
    const tally = tallies.getStore();
    if (tally) tally.statements += 1;
    if (this.print) process.stderr.write(`sql: ${query}${parameters?.length ? ` -- ${JSON.stringify(parameters)}` : ""}\n`);
  }

  logQueryError(error: string | Error, query: string, parameters?: unknown[]): void {
    process.stderr.write(`sql error: ${String(error)} in: ${query}${parameters?.length ? ` -- ${JSON.stringify(parameters)}` : ""}\n`);
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

  log(level: "log" | "info" | "warn", message: unknown, _queryRunner?: QueryRunner): void {
    if (level === "warn" || this.print) process.stderr.write(`typeorm ${level}: ${String(message)}\n`);
  }
}
