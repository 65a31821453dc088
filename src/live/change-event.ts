/**
 * What one committed ledger write changed, as the live side needs it: the
 * rollup groups it moved (the same deltas the write applied to the rollup
 * tables), the regions, meetings and provinces it touched, and the data
 * versions of the regions it bumped, read inside its transaction. Published
 * after commit on the change bus (./change-bus.ts) to this instance's caches
 * and subscriptions, and through Redis to the other instances'.
 */

/** One rollup group's change: its key columns (in the rollup's key order), then the project count and the 万元 it adds (negative: removes). */
export type DeltaRow = number[];

/** A write's change, as published. Plain JSON: it crosses Redis as is. */
export interface ChangeEvent {
  /** The instance that committed the write (`instanceId` of its bus). */
  origin: string;
  /** That instance's count of events it published, from 1: a gap means an event was lost on the way. */
  seq: number;
  /** When the write committed (ms since the epoch, the committing instance's clock). */
  committedAt: number;
  /** Provinces whose versions moved (0: the region or sector trees changed, or the rollups were rebuilt: drop everything). */
  provinces: number[];
  /** Project regions whose groups the write touched (before and after a move), for subtree subscriptions. */
  regions: number[];
  /** Meetings whose batches the write touched. */
  meetings: number[];
  /**
   * The `data_version` counters the write moved, as [region id, its province, value after the write]. Each counter
   * moves by exactly 1 per write that touches it, under its row lock, so these say which write came before which.
   */
  versions: Array<[number, number, number]>;
  /**
   * The rollup groups it changed, per rollup table (rollup_region, rollup_meeting, rollup_batch), rows of key
   * columns then count and 万元; null when the write rebuilt the rollups instead (caches then reload).
   */
  deltas: Record<string, DeltaRow[]> | null;
}
