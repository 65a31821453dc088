import type { DataSource } from "typeorm";
import { getOrCreate } from "../common/maps";

/**
 * SQLite through TypeORM is one connection: a write transaction that awaits
 * between its statements would let another request's reads run inside it
 * (and see what a rollback then takes back), and a second write would nest.
 * So on SQLite, writes take this lock exclusively — after the reads in flight
 * finish, one at a time, in order — and reads share it. MySQL needs none of
 * this (a transaction holds its own connection).
 */
class ReadWriteLock {
  private readers = 0;
  private writing: Promise<unknown> | null = null;
  private drained: (() => void) | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  async read<T>(run: () => Promise<T>): Promise<T> {
    while (this.writing) await this.writing.catch(() => undefined);
    this.readers += 1;
    try {
      return await run();
    } finally {
      this.readers -= 1;
      if (this.readers === 0) this.drained?.();
    }
  }

  write<T>(run: () => Promise<T>): Promise<T> {
    const turn = this.queue.then(async () => {
      let release!: () => void;
      this.writing = new Promise<void>((resolve) => (release = resolve));
      try {
        if (this.readers > 0) await new Promise<void>((resolve) => (this.drained = resolve));
        this.drained = null;
        return await run();
      } finally {
        this.writing = null;
        release();
      }
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }
}

const locks = new WeakMap<DataSource, ReadWriteLock>();

function lockOf(db: DataSource): ReadWriteLock | null {
  const type = db.options.type;
  if (type !== "better-sqlite3") return null;
  return getOrCreate(locks, db, () => new ReadWriteLock());
}

/** Runs a read statement: on SQLite, never inside another request's write. */
export function sharedAccess<T>(db: DataSource, run: () => Promise<T>): Promise<T> {
  const lock = lockOf(db);
  return lock ? lock.read(run) : run();
}

/** Runs a write transaction: on SQLite, alone (writes in order, reads wait). */
export function exclusiveAccess<T>(db: DataSource, run: () => Promise<T>): Promise<T> {
  const lock = lockOf(db);
  return lock ? lock.write(run) : run();
}
