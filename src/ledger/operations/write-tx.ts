/**
 * What an operation uses of its write (`LedgerTx` is one): the trees, the
 * rules, the statements, and what it adds to the rollups, the history and the
 * versions, which the write applies at its end. An operation checks its input
 * with `rules`, sends its statements, then records the rest.
 */
import type { Trees } from "../../common/trees";
import type { RecordedChange } from "../history";
import type { RollupDelta } from "../rollup-delta";
import type { Statement } from "../round-trips";
import type { Rules } from "../rules";

export interface WriteTx {
  readonly trees: Trees;
  readonly rules: Rules;
  /** Whether the write runs on MySQL (which locks the rows it reads FOR UPDATE). */
  readonly mysql: boolean;
  /** A statement whose answer the operation needs (see `Statements.query`). */
  query<T = unknown>(sql: string, params?: unknown[]): Promise<T>;
  /** Several such statements in one round trip. */
  queries(statements: readonly Statement[]): Promise<unknown[]>;
  /** A statement whose answer it does not need: it may go later, in order (see `Statements.queue`). */
  queue(sql: string, params?: unknown[]): Promise<void>;
  /** What the operation changes in the rollups (each project's shape before, sign -1, and after, sign 1). */
  readonly delta: RollupDelta;
  /** Marks a region (and the hosts of the project's meetings) whose versions move at the end. */
  touch(regionId: number, meetingHostIds?: Iterable<number>): void;
  /** Adds a change to the history appended at the end. */
  record(change: RecordedChange): void;
  /** Marks a project whose row the write's answer will show (single-project writes). */
  answerWith(projectId: number): void;
}
