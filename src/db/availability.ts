import { AppError, ErrorCode } from "../common/errors";
import { getOrCreate } from "../common/maps";

/** The database could not be reached or refused the login: the client sees SERVICE_UNAVAILABLE (HTTP 503); the log sees `cause`. */
export class DatabaseUnavailableError extends AppError {
  constructor(readonly reason: unknown) {
    super(ErrorCode.SERVICE_UNAVAILABLE, "The database is unavailable; try again in a few seconds", { http: { status: 503 } });
    this.cause = reason;
  }
}

/** Node socket errors that mean the server is not there. */
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EPIPE", "EAI_AGAIN"]);

/**
 * MySQL/MariaDB error numbers that concern the connection, not the statement:
 * access denied (1044, 1045), account locked (MariaDB 4151, MySQL 3118), too
 * many connections (1040, 1203), server shutting down (1053), connection
 * killed (1927, MySQL 4031 on idle timeout), client-side connect and
 * gone-away errors (2002, 2003, 2006, 2013).
 */
const MYSQL_ERRNOS = new Set([1040, 1044, 1045, 1053, 1203, 1927, 3118, 4031, 4151, 2002, 2003, 2006, 2013]);

/** True when `error` (or the driver error a TypeORM error wraps) says the database connection failed rather than the statement. */
export function isConnectivityError(error: unknown): boolean {
  const e = ((error as { driverError?: unknown })?.driverError ?? error) as { code?: unknown; errno?: unknown; fatal?: unknown; message?: unknown } | undefined;
  if (!e || typeof e !== "object") return false;
  if (typeof e.code === "string" && (SOCKET_CODES.has(e.code) || e.code.startsWith("PROTOCOL_") || e.code === "ER_CON_COUNT_ERROR")) return true;
  if (typeof e.errno === "number" && MYSQL_ERRNOS.has(e.errno)) return true;
  if (e.fatal === true) return true;
  return typeof e.message === "string" && /Pool is closed|connection is in closed state|Connection lost/i.test(e.message);
}

/** How the gate waits between attempts while the database is down. */
export interface BackoffOptions {
  /** First wait after a failure (ms). */
  minMs: number;
  /** Longest wait (ms): the database is tried again at least this often, so the server recovers within about this long. */
  maxMs: number;
}

/** What the gate knows of the database now. */
export interface DatabaseState {
  up: boolean;
  /** The last connection failure, while down. */
  lastError: unknown;
  /** Consecutive failed attempts. */
  failures: number;
}

/**
 * Stands between the readers and the connection pool. While the database
 * answers, statements pass through, and one that fails for a connection
 * reason (a killed connection, say) is tried once more on a fresh one. Once
 * that fails too, the gate closes: statements fail at once with
 * DatabaseUnavailableError, and only one statement at a time is let through
 * as a probe, after a wait that doubles from `minMs` to `maxMs`. So a locked
 * account costs one login attempt per wait instead of one per request (the
 * pool would otherwise try a login for every statement), and the first probe
 * that succeeds opens the gate for everyone.
 */
export class DatabaseGate {
  private failures = 0;
  private lastError: unknown = null;
  private retryAt = 0;
  private probing = false;

  /** Called on every change of state and every failed attempt (logging, metrics). */
  readonly listeners: Array<(state: DatabaseState) => void> = [];

  constructor(private readonly options: BackoffOptions) {}

  /** The state as the last statement left it. */
  state(): DatabaseState {
    return { up: this.failures === 0, lastError: this.lastError, failures: this.failures };
  }

  /** Runs `statement` through the gate (see the class). */
  async run<T>(statement: () => Promise<T>): Promise<T> {
    if (this.failures > 0) {
      if (this.probing || Date.now() < this.retryAt) throw new DatabaseUnavailableError(this.lastError);
      this.probing = true;
      try {
        return this.succeeded(await statement());
      } catch (error) {
        throw this.failed(error, true);
      } finally {
        this.probing = false;
      }
    }
    try {
      return await statement();
    } catch (error) {
      if (!isConnectivityError(error)) throw error;
      try {
        return this.succeeded(await statement());
      } catch (again) {
        throw this.failed(again, false);
      }
    }
  }

  private succeeded<T>(value: T): T {
    if (this.failures > 0) {
      this.failures = 0;
      this.lastError = null;
      this.notify();
    }
    return value;
  }

  /** Records a failed attempt: a probe's, or the first of the statements that were in flight when the database went away. */
  private failed(error: unknown, probe: boolean): unknown {
    // A statement error means the database answered.
    if (!isConnectivityError(error)) return this.succeeded(error);
    // Statements that were already under way when another one closed the gate are not attempts of their own.
    if (this.failures > 0 && !probe) return new DatabaseUnavailableError(error);
    this.failures += 1;
    this.lastError = error;
    const wait = Math.min(this.options.maxMs, this.options.minMs * 2 ** Math.min(this.failures - 1, 20));
    this.retryAt = Date.now() + wait;
    this.notify();
    return new DatabaseUnavailableError(error);
  }

  private notify(): void {
    const state = this.state();
    for (const listener of this.listeners) listener(state);
  }
}

const GATES = new WeakMap<object, DatabaseGate>();

/** The one gate of a database (keyed by its DataSource): every reader of that database goes through it. */
export function gateFor(db: object, options: BackoffOptions = { minMs: 250, maxMs: 2000 }): DatabaseGate {
  return getOrCreate(GATES, db, () => new DatabaseGate(options));
}
