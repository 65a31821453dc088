/**
 * Incremental maintenance of cached grouped rows. A grouped query over a
 * rollup table (src/filter/grouped-queries.ts) is a filter on the rollup's key
 * columns and a sum by some of them, so a write's rollup deltas (the same ones
 * the ledger applied to the table, src/ledger/rollup-delta.ts) can be added to
 * the cached rows instead of reading them again.
 *
 * To know which writes cached rows hold, they are read together with the
 * `data_version` counters of their provinces in one statement (one snapshot on
 * both databases): `stamped`. A change event carries the counters its write
 * moved, each by exactly 1; rows stamped at counter n of a region take the
 * event that moved it to n + 1, already hold one that moved it to n or below,
 * and cannot take one further ahead (an event missed): those rows are dropped
 * and read again (src/server/shared-cache.ts decides).
 */
import type { Stamp } from "../db/data-version";
import type { IncrementalSpec } from "../common/incremental-spec";
import type { DeltaRow } from "../live/change-event";
import { ROLLUPS } from "./rollups";

const STAMP_MARK = "stamp_row";

/**
 * The query's SQL with the `data_version` counters of `provinces` (and of the
 * trees, 0) appended as extra rows in the same statement: each marked row
 * carries a region id in the first group field and its counter in the second.
 */
export function stamped(sql: string, params: readonly unknown[], spec: IncrementalSpec, provinces: readonly number[] | null): { sql: string; params: unknown[] } {
  const fields = [...spec.groupBy.map(([field]) => field), "project_count", "investment_wan"];
  const padding = fields.slice(2).map(() => "NULL");
  const where = provinces === null ? "" : ` WHERE province_id IN (${[0, ...provinces].map(() => "?").join(", ")})`;
  return {
    sql:
      `SELECT ${fields.map((f) => `g.${f}`).join(", ")}, 0 AS ${STAMP_MARK} FROM (${sql}) g ` +
      `UNION ALL SELECT id, version, ${padding.join(", ")}, 1 FROM data_version${where}`,
    params: provinces === null ? [...params] : [...params, 0, ...provinces],
  };
}

/** Splits the rows of a `stamped` query into the grouped rows and the stamp. */
export function splitStamped<T>(raw: ReadonlyArray<Record<string, unknown>>, spec: IncrementalSpec): { rows: T[]; stamp: Stamp } {
  const [idField, versionField] = spec.groupBy.map(([field]) => field);
  const rows: T[] = [];
  const stamp: Stamp = new Map();
  for (const row of raw) {
    if (Number(row[STAMP_MARK]) === 1) stamp.set(Number(row[idField]), Number(row[versionField]));
    else {
      const { [STAMP_MARK]: _mark, ...rest } = row;
      rows.push(rest as T);
    }
  }
  return { rows, stamp };
}

export type { IncrementalSpec, Stamp };

/** What an event means to stamped rows: take it, they hold it already, or they cannot take it (an event between was missed). */
export type Fit = "apply" | "held" | "gap";

/** How an event's counters (those of regions the rows' provinces hold; [region, province, value]) fit a stamp. */
export function fitOf(stamp: Stamp, versions: ReadonlyArray<readonly [number, number, number]>, inScope: (province: number) => boolean): Fit {
  let apply = 0;
  let held = 0;
  let relevant = 0;
  for (const [region, province, version] of versions) {
    if (!inScope(province)) continue;
    relevant++;
    const at = stamp.get(region) ?? 0;
    if (at >= version) held++;
    else if (at === version - 1) apply++;
  }
  if (relevant === 0 || held === relevant) return "held";
  return apply === relevant ? "apply" : "gap";
}

/** Moves the stamp past an event it was applied for. */
export function advanceStamp(stamp: Stamp, versions: ReadonlyArray<readonly [number, number, number]>, inScope: (province: number) => boolean): void {
  for (const [region, province, version] of versions) if (inScope(province)) stamp.set(region, Math.max(stamp.get(region) ?? 0, version));
}

interface SummedRow {
  project_count: number | string;
  investment_wan: number | string;
}

/** Where each group's row is in cached rows (key: the group fields' values joined), built once per cached value. */
export type GroupIndex = Map<string, number>;

/**
 * Adds the deltas of the spec's rollup table to the rows, in place: a group's row gets the new sums, a new group a
 * new row at the end, a group that reaches zero projects leaves (the last row takes its place). `index` (made on
 * the first call, then kept with the rows) finds the rows, so a write costs its own deltas, not the rows' count.
 * Rows already handed to a request change with it: every request reads them in one synchronous pass, and sees a
 * whole write or none (the caller applies one event at a time, synchronously).
 */
export function applyDeltas<T>(rows: T[], spec: IncrementalSpec, deltas: Record<string, DeltaRow[]>, index?: GroupIndex): GroupIndex {
  const keys = ROLLUPS.find((r) => r.table === spec.table)!.keys;
  const group = spec.groupBy.map(([field, column]) => ({ field, at: keys.indexOf(column) }));
  const table = rows as Array<T & SummedRow & Record<string, unknown>>;
  if (!index) {
    index = new Map();
    for (let i = 0; i < table.length; i++) index.set(group.map(({ field }) => Number(table[i][field])).join(":"), i);
  }
  const changes = deltas[spec.table];
  if (!changes?.length) return index;
  const where = spec.where.map(({ column, values }) => ({ at: keys.indexOf(column), values }));
  for (const delta of changes) {
    if (!where.every(({ at, values }) => values.has(delta[at]))) continue;
    const count = delta[keys.length];
    const wan = delta[keys.length + 1];
    const key = group.map(({ at }) => delta[at]).join(":");
    const i = index.get(key);
    if (i === undefined) {
      const row = Object.fromEntries(group.map(({ field, at }) => [field, delta[at]]));
      index.set(key, table.push({ ...row, project_count: count, investment_wan: wan } as unknown as T & SummedRow & Record<string, unknown>) - 1);
      continue;
    }
    const row = table[i];
    row.project_count = Number(row.project_count) + count;
    row.investment_wan = Number(row.investment_wan) + wan;
    if (row.project_count !== 0) continue;
    // The group is empty: the last row moves into its place.
    const last = table.pop()!;
    index.delete(key);
    if (last !== row) {
      table[i] = last;
      index.set(group.map(({ field }) => Number(last[field])).join(":"), i);
    }
  }
  return index;
}
