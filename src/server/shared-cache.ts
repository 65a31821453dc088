import { readDataVersion } from "../db/data-version";
import type { SqlClient } from "../db/sql-counter";
import { loadTrees, type Trees } from "./trees";

/** Settings of the cross-request cache. */
export interface SharedCacheOptions {
  /** How long a read of the data version is trusted before it is read again (ms); a write in this process resets it at once. */
  versionTtlMs: number;
  /** Upper bound on cached grouped rows, all entries together. */
  maxRows: number;
}

interface Entry<T> {
  value: Promise<T>;
  size: number;
}

/**
 * What one server process keeps between requests: the region and sector
 * trees and the grouped rows of aggregate queries, all valid for one data
 * version. The version lives in the database (`data_version`), so every
 * instance behind a load balancer sees every write; it is re-read at most
 * once per `versionTtlMs`, so a dashboard repeating a query costs no SQL
 * until the data changes.
 */
export class SharedCache {
  private version: { value: Promise<number>; readAt: number } | undefined;
  private cachedVersion = -1;
  private trees: Promise<Trees> | undefined;
  private readonly rows = new Map<string, Entry<unknown[]>>();
  private rowCount = 0;

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

  /** Forgets the version read, so the next request reads it again (after a write in this process). */
  invalidate(): void {
    this.version = undefined;
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

  /** Grouped rows for `key` at this version, loaded by `load` once (least recently used entries go first). */
  async rowsFor<T>(version: number, key: string, load: () => Promise<T[]>): Promise<T[]> {
    if (!this.adopt(version)) return load();
    const hit = this.rows.get(key);
    if (hit) {
      this.rows.delete(key);
      this.rows.set(key, hit);
      return hit.value as Promise<T[]>;
    }
    const entry: Entry<unknown[]> = { value: load(), size: 0 };
    this.rows.set(key, entry);
    try {
      const rows = await entry.value;
      entry.size = rows.length;
      this.rowCount += rows.length;
      this.evict();
      return rows as T[];
    } catch (error) {
      this.rows.delete(key);
      throw error;
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
      this.rows.clear();
      this.rowCount = 0;
    }
    return true;
  }

  private evict(): void {
    for (const [key, entry] of this.rows) {
      if (this.rowCount <= this.options.maxRows || this.rows.size <= 1) break;
      this.rows.delete(key);
      this.rowCount -= entry.size;
    }
  }
}
