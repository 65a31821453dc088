import type { DataSource } from "typeorm";

import { isConnectivityError } from "./availability";
import { type DataVersions, readDataVersions } from "./data-version";
import type { SqlClient, SqlTally } from "./sql-counter";

/**
 * Reads on MySQL/MariaDB read replicas (DATABASE_REPLICA_URLS), through
 * TypeORM's replication (src/db/data-source.ts: the primary is the cluster's
 * MASTER, replica i its SLAVE<i>).
 *
 * The rule: a request never reads older data than the data version it read
 * from the primary. Every request is served at versions read from the primary
 * (`data_version`, per province; at most once per DATA_VERSION_TTL_MS, and
 * again after a write on this instance). A replica may serve the request's
 * reads only when its own `data_version` (the same statement, on the replica)
 * is at least that, for every province: a replica applies the primary's
 * transactions in commit order and every write moves its province's sum in the
 * same transaction, so such a replica already holds every write the request's
 * versions include. A replica that is behind for any province at all takes no
 * reads at those versions; they go to the primary (never waiting for the
 * replica). Reads are routed per statement among the replicas that have caught
 * up (round robin), falling back to the primary when none has.
 *
 * Cost: a replica's versions are read at most once per primary read that it
 * is not already known to cover (and at least once per TTL, so a replica
 * rebuilt from an older copy is noticed); a request waits at most
 * CHECK_WAIT_MS for that read, or reads from the primary. A replica that
 * cannot be reached takes no reads for a while (DOWN_MS, or the TTL when
 * longer); the statement that found it down runs on the primary instead.
 *
 * Writes, the data versions, tokens and everything in a write's transaction
 * never come here: they use the DataSource's default (master) query runners.
 */
export class ReadReplicas {
  private readonly replicas: Replica[];
  /** Per versions read from the primary: the replicas that hold at least them. */
  private readonly caughtUpAt = new WeakMap<DataVersions, Promise<Replica[]>>();
  private turn = 0;

  constructor(
    private readonly db: DataSource,
    count: number,
    private readonly ttlMs: number,
  ) {
    this.replicas = Array.from({ length: count }, (_, index) => ({ index, known: null, knownAt: 0, reading: null, downUntil: 0 }));
  }

  /**
   * A client that sends each statement to a replica that has caught up with
   * `versions()` (the versions the request is served at, read from the
   * primary), or else through `primary`. Its statements count into `tally`.
   */
  client(tally: SqlTally, versions: () => Promise<DataVersions>, primary: SqlClient): SqlClient {
    return {
      query: async (sql, params) => {
        const replica = await this.pick(await versions(), tally);
        if (!replica) return primary.query(sql, params);
        try {
          return await this.run(replica, tally, (client) => client.query(sql, params));
        } catch (error) {
          if (!isConnectivityError(error)) throw error;
          this.down(replica, error);
          return primary.query(sql, params);
        }
      },
    };
  }

  /** The replicas that hold at least `versions` (for tests and the log): their indexes. */
  async caughtUp(versions: DataVersions, tally: SqlTally = { statements: 0 }): Promise<number[]> {
    return (await this.caughtUpWith(versions, tally)).map((r) => r.index);
  }

  private async pick(versions: DataVersions, tally: SqlTally): Promise<Replica | null> {
    const now = Date.now();
    const usable = (await this.caughtUpWith(versions, tally)).filter((r) => r.downUntil <= now);
    if (usable.length === 0) return null;
    return usable[this.turn++ % usable.length];
  }

  private caughtUpWith(versions: DataVersions, tally: SqlTally): Promise<Replica[]> {
    let found = this.caughtUpAt.get(versions);
    if (!found) {
      found = Promise.all(this.replicas.map(async (r) => ((await this.holds(r, versions, tally)) ? r : null))).then((rs) => rs.filter((r): r is Replica => r !== null));
      this.caughtUpAt.set(versions, found);
    }
    return found;
  }

  /** True when `replica` is known to hold at least `versions`, reading its versions when that is not known. */
  private async holds(replica: Replica, versions: DataVersions, tally: SqlTally): Promise<boolean> {
    if (replica.downUntil > Date.now()) return false;
    if (replica.known && Date.now() - replica.knownAt < this.ttlMs && covers(replica.known, versions)) return true;
    const read = await bounded(this.readVersions(replica, tally), CHECK_WAIT_MS);
    return read !== null && covers(read, versions);
  }

  /** Reads the replica's versions (one statement; one at a time per replica, shared by the requests that wait for it). */
  private readVersions(replica: Replica, tally: SqlTally): Promise<DataVersions | null> {
    if (!replica.reading) {
      const issuedAt = Date.now();
      replica.reading = this.run(replica, tally, readDataVersions)
        .then(
          (read) => {
            replica.known = read;
            replica.knownAt = issuedAt;
            if (replica.downUntil > 0) {
              replica.downUntil = 0;
              this.db.logger.log("warn", `read replica ${replica.index} (DATABASE_REPLICA_URLS) answers again`);
            }
            return read;
          },
          (error: unknown) => {
            this.down(replica, error);
            return null;
          },
        )
        .finally(() => (replica.reading = null));
    }
    return replica.reading;
  }

  /** Runs `work` on a connection of replica `replica` (TypeORM's node SLAVE<index>), counting its statements into `tally`. */
  private async run<T>(replica: Replica, tally: SqlTally, work: (client: SqlClient) => Promise<T>): Promise<T> {
    const runner = this.db.createQueryRunner("slave");
    try {
      const connection = await replicaConnection(this.db, replica.index);
      (runner as unknown as { databaseConnection: unknown }).databaseConnection = connection;
      return await work({
        query: (sql, params) => {
          // The driver's logger counts statements of runners carrying a tally (src/db/sql-counter.ts); this one is counted here.
          tally.statements += 1;
          if (tally.also) tally.also.statements += 1;
          return runner.query(sql, params as unknown[]);
        },
      });
    } finally {
      await runner.release();
    }
  }

  private down(replica: Replica, error: unknown): void {
    const wasUp = replica.downUntil === 0;
    replica.downUntil = Date.now() + Math.max(DOWN_MS, this.ttlMs);
    replica.known = null;
    if (wasUp) {
      const reason = (error as { code?: string; message?: string })?.code ?? (error as Error)?.message ?? String(error);
      this.db.logger.log("warn", `read replica ${replica.index} (DATABASE_REPLICA_URLS) failed (${reason}); its reads go to the primary for now`);
    }
  }
}

interface Replica {
  index: number;
  /** The versions last read from it, and when that read was issued. */
  known: DataVersions | null;
  knownAt: number;
  /** The read of its versions in flight. */
  reading: Promise<DataVersions | null> | null;
  /** It takes no reads until then (0: up). */
  downUntil: number;
}

/** How long a request waits for a replica's versions before it reads from the primary instead. */
export const CHECK_WAIT_MS = 250;
/** How long a replica that failed takes no reads (at least; the data version TTL when longer). */
export const DOWN_MS = 1000;

/** True when `replica` holds every write `primary` includes: its sum is at least as large for every province. */
export function covers(replica: DataVersions, primary: DataVersions): boolean {
  for (const [province, version] of primary.byProvince) if ((replica.byProvince.get(province) ?? 0) < version) return false;
  return true;
}

function bounded<T>(value: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
    timer.unref();
  });
  return Promise.race([value, late]).finally(() => clearTimeout(timer));
}

/** A connection of replica `index` from TypeORM's mysql2 pool cluster, with the driver's error handler. */
function replicaConnection(db: DataSource, index: number): Promise<unknown> {
  const cluster = (db.driver as unknown as { poolCluster?: PoolCluster }).poolCluster;
  if (!cluster) return Promise.reject(new Error("the DataSource has no replicas"));
  return new Promise((resolve, reject) =>
    cluster.of(`SLAVE${index}`).getConnection((error, connection) => {
      if (error) return reject(error);
      if (connection.listeners("error").length === 0) connection.on("error", (e: unknown) => db.logger.log("warn", `MySQL replica connection raised an error. ${String(e)}`));
      resolve(connection);
    }),
  );
}

interface PoolConnection {
  listeners(event: string): unknown[];
  on(event: string, listener: (error: unknown) => void): void;
}

interface PoolCluster {
  of(pattern: string): { getConnection(callback: (error: unknown, connection: PoolConnection) => void): void };
}

const REPLICAS = new WeakMap<DataSource, ReadReplicas | null>();

/** The replicas of a DataSource built with DATABASE_REPLICA_URLS, or null (none configured: every read on the primary). */
export function replicasOf(db: DataSource, ttlMs: number): ReadReplicas | null {
  let replicas = REPLICAS.get(db);
  if (replicas === undefined) {
    const count = (db.options as { replication?: { slaves?: unknown[] } }).replication?.slaves?.length ?? 0;
    replicas = count > 0 ? new ReadReplicas(db, count, ttlMs) : null;
    REPLICAS.set(db, replicas);
  }
  return replicas;
}
