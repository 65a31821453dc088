import { readDataVersion } from "../db/data-version";
import type { SqlClient } from "../db/sql-counter";
import { loadTrees, type Trees } from "./trees";

/** Settings of the cross-request cache. */
export interface SharedCacheOptions {
  /** How long a read of the data version is trusted before it is read again (ms). */
  versionTtlMs: number;
  /** Upper bound on what is kept, in grouped rows (a finished value counts as its own size). */
  maxRows: number;
}

interface Entry {
  value: unknown;
  size: number;
}

/**
 * What one server process keeps between requests: the region and sector
 * trees, the grouped rows of aggregate queries and finished aggregates, all
 * valid for one data version. The version lives in the database
 * (`data_version`), so every instance behind a load balancer sees every
 * write; it is re-read at most once per `versionTtlMs`, so a dashboard
 * repeating a query costs no SQL until the data changes.
 */
export class SharedCache {
  private version: { value: Promise<number>; readAt: number } | undefined;
  private cachedVersion = -1;
  private trees: Promise<Trees> | undefined;
  /** Least recently used first. */
  private readonly entries = new Map<string, Entry>();
  private size = 0;

  constructor(readonly options: SharedCacheOptions) {}

  /** The data version to serve this request from (reads it through `db` when the last read is older than the TTL). */
  currentVersion(db: SqlClient): Promise<number> {
    const now = Date.now();
    if (!this.version || now - this.version.readAt >= this.options.versionTtlMs) {
      const value = readDataVersion(db);
      this.version = { value, readAt: now };
      value.catch(() => (this.version = undefined));
    }
    return this.version.value;
  }

  /** The trees of this version, read once per version. */
  async treesFor(version: number, db: SqlClient): Promise<Trees> {
    if (!this.adopt(version)) return loadTrees(db);
    if (!this.trees) {
      this.trees = loadTrees(db);
      this.trees.catch(() => (this.trees = undefined));
    }
    return this.trees;
  }

  /** Grouped rows for `key` at this version, loaded by `load` once. */
  async rowsFor<T>(version: number, key: string, load: () => Promise<T[]>): Promise<T[]> {
    if (!this.adopt(version)) return load();
    const hit = this.touch(key);
    if (hit) return hit.value as Promise<T[]>;
    const entry: Entry = { value: load(), size: 0 };
    this.entries.set(key, entry);
    try {
      const rows = await (entry.value as Promise<T[]>);
      this.grow(entry, rows.length);
      return rows;
    } catch (error) {
      this.entries.delete(key);
      throw error;
    }
  }

  /** A finished value kept for `key` at this version, if any. */
  valueFor<T>(version: number, key: string): T | undefined {
    return version === this.cachedVersion ? (this.touch(key)?.value as T | undefined) : undefined;
  }

  /** Keeps a finished value for `key` at this version; `size` counts against the bound. */
  keepValue(version: number, key: string, value: unknown, size: number): void {
    if (!this.adopt(version) || this.entries.has(key)) return;
    const entry: Entry = { value, size: 0 };
    this.entries.set(key, entry);
    this.grow(entry, size);
  }

  private touch(key: string): Entry | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  private grow(entry: Entry, size: number): void {
    entry.size = size;
    this.size += size;
    for (const [key, oldest] of this.entries) {
      if (this.size <= this.options.maxRows || this.entries.size <= 1) break;
      this.entries.delete(key);
      this.size -= oldest.size;
    }
  }

  /**
   * Moves the cache to `version` (dropping everything of older ones); false
   * for a request still on an older version than the cache, which then reads
   * around the cache rather than turning it back.
   */
  private adopt(version: number): boolean {
    if (version < this.cachedVersion) return false;
    if (version > this.cachedVersion) {
      this.cachedVersion = version;
      this.trees = undefined;
      this.entries.clear();
      this.size = 0;
    }
    return true;
  }
}
