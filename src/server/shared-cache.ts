import { LRUCache } from "lru-cache";

import type { CacheAccess } from "../common/context";
import { changedProvinces, type DataVersions, readDataVersions } from "../db/data-version";
import type { SqlClient } from "../db/sql-counter";
import { loadTrees, type Trees } from "../common/trees";

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

interface Entry {
  value: unknown;
  /** Provinces whose writes can change the value; null: any write. */
  provinces: readonly number[] | null;
}

/**
 * What one server process keeps between requests: the region and sector
 * trees, the grouped rows of aggregate queries and finished aggregates. The
 * versions live in the database (`data_version`, per province), so every
 * instance behind a load balancer sees every write; they are re-read at most
 * once per `versionTtlMs`, so a dashboard repeating a query costs no SQL until
 * the data changes. A write drops only what depends on the provinces it
 * changed: a write in 广东 leaves Henan's cached answers alone.
 */
export class SharedCache {
  private versions: { value: Promise<DataVersions>; readAt: number } | undefined;
  /** The versions the entries are valid for. */
  private current: DataVersions | undefined;
  /** The largest total of the versions read so far. */
  private newestTotal: number | undefined;
  private trees: Promise<Trees> | undefined;
  /**
   * Bounded in grouped rows (a finished value counts its own size; rows still loading count 1), least recently used
   * dropped first. A value larger than the whole bound is used by its request but not kept.
   */
  private readonly entries: LRUCache<string, Entry>;

  constructor(readonly options: SharedCacheOptions) {
    this.entries = new LRUCache<string, Entry>({ maxSize: Math.max(1, options.maxRows) });
  }

  /** The data versions to serve this request from (read through `db` when the last read is older than the TTL). */
  currentVersions(db: SqlClient): Promise<DataVersions> {
    const now = Date.now();
    if (!this.versions || now - this.versions.readAt >= this.options.versionTtlMs) {
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
    if (!this.adopt(versions)) return loadTrees(db);
    if (!this.trees) {
      this.trees = loadTrees(db);
      this.trees.catch(() => (this.trees = undefined));
    }
    return this.trees;
  }

  /** What a request served at `versions` may use of the cache. */
  accessAt(versions: DataVersions): CacheAccess {
    return {
      rowsFor: (key, provinces, load) => this.rowsFor(versions, key, provinces, load),
      dependsOn: (key) => this.entries.peek(key)?.provinces ?? null,
      kept: {
        get: (key) => this.valueFor(versions, key),
        keep: (key, value, size, provinces) => this.keepValue(versions, key, value, size, provinces),
      },
    };
  }

  private async rowsFor<T>(versions: DataVersions, key: string, provinces: readonly number[] | null, load: () => Promise<T[]>): Promise<T[]> {
    if (!this.adopt(versions) || this.options.aggregates === false) return load();
    const hit = this.entries.get(key);
    if (hit) return hit.value as Promise<T[]>;
    const entry: Entry = { value: load(), provinces };
    this.entries.set(key, entry, { size: 1 });
    try {
      const rows = await (entry.value as Promise<T[]>);
      // A new object: lru-cache keeps the old size when the same value is set again.
      if (this.entries.peek(key) === entry) this.entries.set(key, { ...entry }, { size: Math.max(1, rows.length) });
      return rows;
    } catch (error) {
      if (this.entries.peek(key) === entry) this.entries.delete(key);
      throw error;
    }
  }

  private valueFor<T>(versions: DataVersions, key: string): T | undefined {
    return this.current && versions.total === this.current.total ? (this.entries.get(key)?.value as T | undefined) : undefined;
  }

  private keepValue(versions: DataVersions, key: string, value: unknown, size: number, provinces: readonly number[] | null): void {
    if (!this.adopt(versions) || this.options.aggregates === false || this.entries.has(key)) return;
    this.entries.set(key, { value, provinces }, { size: Math.max(1, size) });
  }

  /**
   * Moves the cache to `versions`, dropping what depends on a province whose
   * version changed (everything when the trees changed); false for a request
   * still on older versions than the cache, which then reads around the cache
   * rather than turning it back.
   */
  private adopt(versions: DataVersions): boolean {
    const current = this.current;
    if (current && versions.total < current.total) return false;
    if (current && versions.total === current.total) return true;
    this.current = versions;
    const changed = current ? changedProvinces(current, versions) : null;
    if (changed === null || changed.includes(0)) {
      this.trees = undefined;
      this.entries.clear();
      return true;
    }
    const touched = new Set(changed);
    const stale: string[] = [];
    for (const [key, entry] of this.entries.entries()) {
      if (entry.provinces === null || entry.provinces.some((p) => touched.has(p))) stale.push(key);
    }
    for (const key of stale) this.entries.delete(key);
    return true;
  }
}
