import { LRUCache } from "lru-cache";

import type { CacheAccess } from "../common/context";
import { type DataVersions, readDataVersions } from "../db/data-version";
import type { SqlClient } from "../db/sql-counter";
import { loadTrees, type Trees } from "../common/trees";
import type { ChangeEvent } from "../live/change-event";
import { advanceStamp, applyDeltas, fitOf, type GroupIndex, type IncrementalSpec, type Stamp } from "../stats/incremental";

/** Settings of the cross-request cache. */
export interface SharedCacheOptions {
  /** How long a read of the data versions is trusted before it is read again (ms). */
  versionTtlMs: number;
  /** Upper bound on what is kept, in grouped rows (a finished value counts as its own size). */
  maxRows: number;
  /** Keep aggregates (AGGREGATE_CACHE); false keeps only the trees, so every aggregate is computed afresh. */
  aggregates?: boolean;
  /** Called when a read of the versions finds them newer than any read before (a write here or on another instance). */
  onNewVersions?: () => void;
}

/** Counts of what the cache did with change events, for tests and /metrics. */
export interface SharedCacheCounts {
  /** Grouped rows brought up to date by adding a write's deltas. */
  applied: number;
  /** Values dropped because a change could not be added to them (finished values, a missed event, a rebuild). */
  dropped: number;
  /** Grouped rows read from the database. */
  loads: number;
}

interface Entry {
  /** Grouped rows (a promise while they load) or a finished value. */
  value: unknown;
  /** Provinces whose writes can change the value; null: any write. */
  provinces: readonly number[] | null;
  /**
   * The `data_version` counters of those provinces (and of the trees) the value holds: exact for rows read with
   * them (src/stats/incremental.ts), else those of the request that made it (the value holds at least those).
   * Null while the rows load.
   */
  stamp: Stamp | null;
  /**
   * True for an exact stamp of this entry's own, moved on by the events added to the rows; false for the stamp of
   * a request's versions, shared by every value made at those versions for the same provinces (never changed: a
   * national cache holds thousands of finished values, which must not each copy thousands of counters).
   */
  exact?: boolean;
  /** How change events are added to the rows; absent for values that are dropped instead. */
  incremental?: IncrementalSpec;
  /** Events that arrived while the rows loaded, applied (or not) once the stamp is known. */
  pending?: ChangeEvent[];
  /** Where each group's row is (src/stats/incremental.ts), made when the first event is added to the rows. */
  index?: GroupIndex;
  /** The last versions this entry was found to cover (the check is done once per read of the versions). */
  covers?: DataVersions;
}

/**
 * What one server process keeps between requests: the region and sector
 * trees, the grouped rows of aggregate queries and finished aggregates. The
 * versions live in the database (`data_version`, one counter per region a
 * write touched), so every instance behind a load balancer sees every write;
 * they are re-read at most once per `versionTtlMs`.
 *
 * Writes reach the cache as change events (src/live/): grouped rows read from
 * a rollup table take the write's rollup deltas and stay warm (incremental
 * maintenance); finished values of the provinces it touched are dropped, and
 * are summed again from those rows without SQL. A value is served to a request
 * only while it holds at least the counters the request read; one that is
 * behind (a write on another instance whose event did not arrive: no Redis,
 * or Redis away) is read again. A write in 广东 leaves Henan's values alone.
 */
export class SharedCache {
  private versions: { value: Promise<DataVersions>; readAt: number } | undefined;
  /** The largest total of the versions read so far. */
  private newestTotal: number | undefined;
  private trees: { value: Promise<Trees>; version: number } | undefined;
  /** Changes since start: a finished value computed across a change is not kept (it may mix before and after). */
  private epoch = 0;
  /** Shared stamps of values made at a request's versions (see `Entry.exact`), per versions read and provinces. */
  private readonly stamps = new WeakMap<DataVersions, Map<string, Stamp>>();
  /**
   * Bounded in grouped rows (a finished value counts its own size; rows still loading count 1), least recently used
   * dropped first. A value larger than the whole bound is used by its request but not kept.
   */
  private readonly entries: LRUCache<string, Entry>;
  /** The keys of the entries whose values depend on each province (null: on any write). */
  private readonly byProvince = new Map<number | null, Set<string>>();
  readonly counts: SharedCacheCounts = { applied: 0, dropped: 0, loads: 0 };

  constructor(readonly options: SharedCacheOptions) {
    this.entries = new LRUCache<string, Entry>({
      maxSize: Math.max(1, options.maxRows),
      // Evicted, deleted or replaced: out of the index too (`put` indexes a replacement again).
      dispose: (entry, key) => this.keysOf(entry.provinces, false, key),
    });
  }

  /** The data versions to serve this request from (read through `db` when the last read is older than the TTL). */
  currentVersions(db: SqlClient): Promise<DataVersions> {
    const now = Date.now();
    if (!this.versions || now - this.versions.readAt >= this.options.versionTtlMs) {
      // A new object per read, even when nothing changed: the replicas' check (src/db/replicas.ts) is kept per object.
      const value = readDataVersions(db);
      this.versions = { value, readAt: now };
      value.then(
        (read) => {
          if (this.newestTotal !== undefined && read.total > this.newestTotal) this.options.onNewVersions?.();
          this.newestTotal = Math.max(this.newestTotal ?? read.total, read.total);
        },
        () => (this.versions = undefined),
      );
    }
    return this.versions.value;
  }

  /** Forgets the last read of the versions: after a write on this instance, the next request reads them again (read-your-writes). */
  expireVersions(): void {
    this.versions = undefined;
  }

  /** The trees at these versions, read once while the trees do not change. */
  async treesFor(versions: DataVersions, db: SqlClient): Promise<Trees> {
    const version = versions.byProvince.get(0) ?? 0;
    if (this.trees && this.trees.version > version) return loadTrees(db);
    if (!this.trees || this.trees.version < version) {
      const value = loadTrees(db);
      const trees = { value, version };
      this.trees = trees;
      value.catch(() => {
        if (this.trees === trees) this.trees = undefined;
      });
    }
    return this.trees.value;
  }

  /** What a request served at `versions` may use of the cache. */
  accessAt(versions: DataVersions): CacheAccess {
    const epoch = this.epoch;
    return {
      rowsFor: (key, provinces, load, incremental) => this.rowsFor(versions, key, provinces, load, incremental),
      dependsOn: (key) => this.entries.peek(key)?.provinces ?? null,
      kept: {
        get: (key) => this.valueFor(versions, key),
        keep: (key, value, size, provinces) => {
          // Computed across a change: it may hold rows from before and after it.
          if (this.epoch === epoch) this.keepValue(versions, key, value, size, provinces);
        },
      },
    };
  }

  /**
   * A committed write (this instance's, or another's through Redis): its
   * deltas are added to the grouped rows that take them, finished values of
   * the provinces it touched are dropped, and so is anything it cannot be
   * added to. Everything, when the trees changed or the rollups were rebuilt.
   */
  applyChange(event: ChangeEvent): void {
    this.epoch++;
    if (event.provinces.includes(0)) {
      this.trees = undefined;
      this.counts.dropped += this.entries.size;
      this.entries.clear();
      this.byProvince.clear();
      return;
    }
    // The entries of the provinces it touched (and those of every province), found by the index, not by a scan.
    const keys = new Set<string>(this.byProvince.get(null) ?? []);
    for (const province of event.provinces) for (const key of this.byProvince.get(province) ?? []) keys.add(key);
    for (const key of keys) {
      const entry = this.entries.peek(key);
      if (!entry) continue;
      if (entry.stamp === null) (entry.pending ??= []).push(event);
      else this.fold(key, entry, event);
    }
  }

  /** Keeps an entry (its size counted against the bound) and indexes it by its provinces. */
  private put(key: string, entry: Entry, size: number): void {
    this.entries.set(key, entry, { size: Math.max(1, size) });
    if (this.entries.peek(key) === entry) this.keysOf(entry.provinces, true, key);
  }

  /** Adds `key` to (or removes it from) the index of the provinces its value depends on (null: all of them). */
  private keysOf(provinces: readonly number[] | null, add: boolean, key: string): void {
    for (const province of provinces ?? [null]) {
      let keys = this.byProvince.get(province);
      if (add) {
        if (!keys) this.byProvince.set(province, (keys = new Set()));
        keys.add(key);
      } else if (keys) {
        keys.delete(key);
        if (keys.size === 0) this.byProvince.delete(province);
      }
    }
  }

  /** Adds an event to a stamped entry, or drops the entry. */
  private fold(key: string, entry: Entry, event: ChangeEvent): void {
    const stamp = entry.stamp!;
    const inScope = scopeOf(entry.provinces);
    const fit = entry.exact && entry.incremental && event.deltas ? fitOf(stamp, event.versions, inScope) : "gap";
    if (fit === "held") return;
    if (fit === "gap") {
      this.counts.dropped++;
      this.entries.delete(key);
      return;
    }
    const rows = entry.value as unknown[];
    const before = rows.length;
    entry.index = applyDeltas(rows, entry.incremental!, event.deltas!, entry.index);
    advanceStamp(stamp, event.versions, inScope);
    this.counts.applied++;
    entry.covers = undefined;
    // A new object when the size changed: lru-cache keeps the old size when the same value is set again.
    if (rows.length !== before) this.put(key, { ...entry }, rows.length);
  }

  private async rowsFor<T>(
    versions: DataVersions,
    key: string,
    provinces: readonly number[] | null,
    load: (stamped: boolean) => Promise<{ rows: T[]; stamp?: Stamp }>,
    incremental?: IncrementalSpec,
  ): Promise<T[]> {
    if (this.options.aggregates === false) return (await load(false)).rows;
    const hit = this.entries.get(key);
    if (hit && (hit.stamp === null || this.covers(hit, versions))) return hit.value as T[] | Promise<T[]>;
    const entry: Entry = { value: undefined, provinces, stamp: null, incremental };
    const loading = load(incremental !== undefined);
    const shared = loading.then((loaded) => loaded.rows);
    // Only requests that find the entry loading wait on this; a failure is thrown to this one below.
    shared.catch(() => undefined);
    entry.value = shared;
    this.put(key, entry, 1);
    this.counts.loads++;
    try {
      const { rows, stamp } = await loading;
      if (this.entries.peek(key) !== entry) return rows;
      const kept: Entry = stamp ? { value: rows, provinces, stamp, exact: true, incremental } : { value: rows, provinces, stamp: this.stampAt(versions, provinces) };
      this.put(key, kept, rows.length);
      for (const event of entry.pending ?? []) if (this.entries.peek(key) === kept) this.fold(key, this.entries.peek(key)!, event);
      return rows;
    } catch (error) {
      if (this.entries.peek(key) === entry) this.entries.delete(key);
      throw error;
    }
  }

  private valueFor<T>(versions: DataVersions, key: string): T | undefined {
    const hit = this.entries.get(key);
    return hit && hit.stamp !== null && this.covers(hit, versions) ? (hit.value as T) : undefined;
  }

  private keepValue(versions: DataVersions, key: string, value: unknown, size: number, provinces: readonly number[] | null): void {
    if (this.options.aggregates === false || this.entries.has(key)) return;
    this.put(key, { value, provinces, stamp: this.stampAt(versions, provinces) }, size);
  }

  /** The counters of `versions` that concern values of these provinces: one shared stamp per versions and provinces. */
  private stampAt(versions: DataVersions, provinces: readonly number[] | null): Stamp {
    let byProvinces = this.stamps.get(versions);
    if (!byProvinces) this.stamps.set(versions, (byProvinces = new Map()));
    const key = provinces === null ? "*" : provinces.join(",");
    let stamp = byProvinces.get(key);
    if (!stamp) byProvinces.set(key, (stamp = stampOf(versions, provinces)));
    return stamp;
  }

  /** True when the entry holds every write the versions hold, for its provinces; else it is dropped. */
  private covers(entry: Entry, versions: DataVersions): boolean {
    if (entry.covers === versions) return true;
    const stamp = entry.stamp!;
    const inScope = scopeOf(entry.provinces);
    for (const [region, { province, version }] of versions.byRegion) {
      if (inScope(province) && (stamp.get(region) ?? 0) < version) return false;
    }
    entry.covers = versions;
    return true;
  }
}

/** Whether a province's counters concern a value of these provinces (the trees' always do). */
function scopeOf(provinces: readonly number[] | null): (province: number) => boolean {
  if (provinces === null) return () => true;
  const set = new Set(provinces);
  return (province) => province === 0 || set.has(province);
}

/** The counters of `versions` that concern a value of these provinces. */
function stampOf(versions: DataVersions, provinces: readonly number[] | null): Stamp {
  const inScope = scopeOf(provinces);
  const stamp: Stamp = new Map();
  for (const [region, { province, version }] of versions.byRegion) if (inScope(province)) stamp.set(region, version);
  return stamp;
}
