/**
 * A write's statements on its transaction. On MySQL they travel in batches:
 * START TRANSACTION goes with the first statement whose answer the write
 * needs, and the statements whose answers it does not need go with the next
 * one that does, or with the COMMIT, in as few multi-statement round trips as
 * the size bound allows. On SQLite they run one by one in the open transaction.
 */
import type { EntityManager } from "typeorm";

/** How a write's statements go (part of `LedgerSettings`). */
export interface StatementSettings {
  /**
   * Called before each statement of a write with its position; a test breaks
   * a write half-way by throwing from it, or by returning other SQL to send
   * in its place (which the database refuses, after it ran those before it).
   */
  onStatement?: (sql: string, index: number) => string | void;
  /** Largest SQL text one round trip of a MySQL write carries, in bytes (default MAX_ROUND_TRIP_BYTES; tests make it small). */
  maxRoundTripBytes?: number;
}

/**
 * Largest SQL text (with its values) one round trip of a MySQL write carries:
 * a large write (a 100,000-row ledger file is ~40 MB of SQL) goes in as many
 * round trips as it needs, each well under the server's max_allowed_packet
 * (16 MiB by default on MariaDB, 4 MiB on MySQL 5.7, 64 MiB on 8.0), which
 * would otherwise refuse the packet and drop the connection.
 */
export const MAX_ROUND_TRIP_BYTES = 1024 * 1024;

/** One statement with its values. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/** The statements of one write's transaction: sent now, or batched into round trips (MySQL, on a connection of its own). */
export class Statements {
  /** The position of the next statement, as `onStatement` is told it. */
  private count = 0;
  /** Statements waiting to go with the next round trip (batched writes only); START TRANSACTION first. */
  private readonly pending: Statement[];
  /** True once START TRANSACTION has been sent (batched writes). */
  began = false;

  constructor(
    private readonly em: EntityManager,
    private readonly settings: StatementSettings,
    /** Whether statements are batched into round trips (MySQL, on a connection of its own) or run one by one in an open transaction. */
    private readonly batched: boolean,
  ) {
    this.pending = batched ? [{ sql: "START TRANSACTION", params: [] }] : [];
  }

  /** A statement whose answer the write needs: sent now, with whatever is batched before it. (The test hook `onStatement` sees every statement.) */
  async query<T = unknown>(sql: string, params: unknown[] = []): Promise<T> {
    const [answer] = await this.queries([{ sql, params }]);
    return answer as T;
  }

  /** Several statements whose answers the write needs, sent together (with whatever is batched before them); their answers in order. */
  async queries(statements: readonly Statement[]): Promise<unknown[]> {
    const hooked = statements.map(({ sql, params }) => ({ sql: this.settings.onStatement?.(sql, this.count++) ?? sql, params }));
    if (!this.batched) {
      const answers: unknown[] = [];
      for (const { sql, params } of hooked) answers.push(await this.em.query(sql, params));
      return answers;
    }
    const answers = await this.send(hooked);
    return answers.slice(answers.length - hooked.length);
  }

  /**
   * A statement whose answer the write does not need (an INSERT, UPDATE or
   * DELETE by key): batched, it goes with the next `query` or the COMMIT, in
   * order; otherwise it runs now. Either way a failure fails the write.
   */
  async queue(statement: string, params: unknown[] = []): Promise<void> {
    const sql = this.settings.onStatement?.(statement, this.count++) ?? statement;
    if (this.batched) this.pending.push({ sql, params });
    else await this.em.query(sql, params);
  }

  /** Sends what is batched followed by `more`, in order, as few multi-statement round trips as the size bound allows; returns the answer of each. */
  async send(more: Statement[]): Promise<unknown[]> {
    const all = [...this.pending.splice(0), ...more];
    if (all.length === 0) return [];
    if (all[0].sql === "START TRANSACTION") this.began = true;
    const answers: unknown[] = [];
    for (const trip of roundTrips(all, this.settings.maxRoundTripBytes ?? MAX_ROUND_TRIP_BYTES)) {
      const raw = await this.em.query(trip.map((s) => s.sql).join(";\n"), trip.flatMap((s) => s.params));
      if (trip.length === 1) answers.push(raw);
      else answers.push(...(raw as unknown[]));
    }
    return answers;
  }

  /** The transaction's manager, for what cannot go as statements of the write: what is batched is sent first. */
  async direct(): Promise<EntityManager> {
    await this.send([]);
    return this.em;
  }
}

/**
 * Statements in order, cut into round trips of at most `maxBytes` of SQL text
 * and values (estimated from above: a string value at most doubles when
 * escaped); a statement larger than that alone goes alone.
 */
export function roundTrips<S extends { sql: string; params: readonly unknown[] }>(statements: readonly S[], maxBytes: number): S[][] {
  const trips: S[][] = [];
  let trip: S[] = [];
  let bytes = 0;
  for (const statement of statements) {
    const size = estimatedBytes(statement);
    if (trip.length > 0 && bytes + size > maxBytes) {
      trips.push(trip);
      trip = [];
      bytes = 0;
    }
    trip.push(statement);
    bytes += size;
  }
  if (trip.length > 0) trips.push(trip);
  return trips;
}

function estimatedBytes(statement: { sql: string; params: readonly unknown[] }): number {
  let bytes = Buffer.byteLength(statement.sql) + 2;
  for (const value of statement.params) bytes += typeof value === "string" ? 2 * Buffer.byteLength(value) + 2 : 32;
  return bytes;
}

/** The id an INSERT's answer names (MySQL's `insertId`; what TypeORM hands back on SQLite). */
export function insertedId(result: unknown): number {
  if (result && typeof result === "object" && "insertId" in result) return Number((result as { insertId: number }).insertId);
  return Number(result);
}
