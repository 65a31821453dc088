/**
 * The database gate (src/db/availability.ts), driven by a fake statement
 * function: a connection failure is retried once on a fresh connection; two
 * in a row close the gate (SERVICE_UNAVAILABLE, with the driver's error as
 * the cause); while closed, statements fail at once until the backoff has
 * passed, then one probe at a time is let through, and a probe that succeeds
 * (or fails for a reason that is not the connection) opens the gate. Errors of
 * the statement itself pass through and never close it. Real timers, small waits.
 */
import { QueryFailedError } from "typeorm";

import { ErrorCode } from "../../src/common/errors";
import { DatabaseGate, type DatabaseState, DatabaseUnavailableError, gateFor, isConnectivityError } from "../../src/db/availability";

/** mysql2's error for a refused TCP connection. */
function refused(): Error {
  return Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:3306"), { code: "ECONNREFUSED", errno: -111, syscall: "connect", fatal: true });
}

/** MariaDB's error for a locked account. */
function locked(): Error {
  return Object.assign(new Error("Access denied, this account is locked"), { code: "ER_ACCOUNT_HAS_BEEN_LOCKED", errno: 4151, sqlState: "HY000" });
}

/** A statement the database refused: SQL syntax. */
function syntax(): Error {
  return Object.assign(new Error("You have an error in your SQL syntax"), { code: "ER_PARSE_ERROR", errno: 1064, sqlState: "42000" });
}

/** A statement function that plays a script: each call takes the next step (an error to throw, or a value). */
function scripted(...steps: Array<Error | string>): jest.Mock<Promise<string>, []> {
  const queue = [...steps];
  return jest.fn(async () => {
    const step = queue.shift();
    if (step === undefined) throw new Error("the script has no more steps");
    if (step instanceof Error) throw step;
    return step;
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What `promise` rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

/** A gate closed by two connection failures in a row, with its listener's record. */
async function closedGate(minMs: number, maxMs: number): Promise<{ gate: DatabaseGate; states: DatabaseState[] }> {
  const gate = new DatabaseGate({ minMs, maxMs });
  const states: DatabaseState[] = [];
  gate.listeners.push((state) => states.push(state));
  await rejection(gate.run(scripted(refused(), refused())));
  expect(gate.state().up).toBe(false);
  return { gate, states };
}

describe("DatabaseGate while the database answers", () => {
  it("passes statements and their results through", async () => {
    const gate = new DatabaseGate({ minMs: 50, maxMs: 200 });
    const statement = scripted("rows");
    await expect(gate.run(statement)).resolves.toBe("rows");
    expect(statement).toHaveBeenCalledTimes(1);
    expect(gate.state()).toEqual({ up: true, lastError: null, failures: 0 });
  });

  it("retries a statement once after a connection failure and stays open when the retry succeeds", async () => {
    const gate = new DatabaseGate({ minMs: 50, maxMs: 200 });
    const states: DatabaseState[] = [];
    gate.listeners.push((state) => states.push(state));
    const statement = scripted(locked(), "rows");
    await expect(gate.run(statement)).resolves.toBe("rows");
    expect(statement).toHaveBeenCalledTimes(2);
    expect(gate.state().up).toBe(true);
    expect(states).toEqual([]);
  });

  it("passes an error of the statement itself (SQL syntax) through, unretried, and never closes", async () => {
    const gate = new DatabaseGate({ minMs: 50, maxMs: 200 });
    for (let i = 0; i < 5; i += 1) {
      const error = syntax();
      const statement = scripted(error);
      expect(await rejection(gate.run(statement))).toBe(error);
      expect(statement).toHaveBeenCalledTimes(1);
    }
    const constraint = Object.assign(new Error("Duplicate entry"), { code: "ER_DUP_ENTRY", errno: 1062 });
    expect(await rejection(gate.run(scripted(constraint)))).toBe(constraint);
    expect(gate.state()).toEqual({ up: true, lastError: null, failures: 0 });
  });

  it("passes through a statement error after a connection failure (the retry reached the database), and stays open", async () => {
    const gate = new DatabaseGate({ minMs: 50, maxMs: 200 });
    const error = syntax();
    const statement = scripted(refused(), error);
    expect(await rejection(gate.run(statement))).toBe(error);
    expect(statement).toHaveBeenCalledTimes(2);
    expect(gate.state().up).toBe(true);
  });
});

describe("DatabaseGate closing and opening", () => {
  it("closes after two connection failures in a row: DatabaseUnavailableError, SERVICE_UNAVAILABLE, the driver's error as cause", async () => {
    const gate = new DatabaseGate({ minMs: 50, maxMs: 200 });
    const states: DatabaseState[] = [];
    gate.listeners.push((state) => states.push(state));
    const first = locked();
    const second = locked();
    const statement = scripted(first, second);
    const error = await rejection(gate.run(statement));
    expect(statement).toHaveBeenCalledTimes(2);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error.extensions.code).toBe(ErrorCode.SERVICE_UNAVAILABLE);
    expect(error.extensions.http).toEqual({ status: 503 });
    expect(error.cause).toBe(second);
    expect(error.message).toMatch(/database is unavailable/i);
    // The client's message names no internals.
    expect(error.message).not.toContain("locked");
    expect(gate.state()).toEqual({ up: false, lastError: second, failures: 1 });
    expect(states).toEqual([{ up: false, lastError: second, failures: 1 }]);
  });

  it("while closed, fails at once without calling the statement until the backoff has passed", async () => {
    const { gate } = await closedGate(150, 1000);
    const statement = scripted("rows");
    for (let i = 0; i < 10; i += 1) {
      const error = await rejection(gate.run(statement));
      expect(error).toBeInstanceOf(DatabaseUnavailableError);
      expect(error.cause).toBe(gate.state().lastError);
    }
    expect(statement).not.toHaveBeenCalled();
    await sleep(200);
    await expect(gate.run(statement)).resolves.toBe("rows");
    expect(statement).toHaveBeenCalledTimes(1);
  });

  it("opens on the first probe that succeeds, for every later statement, and tells the listeners", async () => {
    const { gate, states } = await closedGate(50, 200);
    await sleep(80);
    await expect(gate.run(scripted("probe"))).resolves.toBe("probe");
    expect(gate.state()).toEqual({ up: true, lastError: null, failures: 0 });
    expect(states.map((s) => s.up)).toEqual([false, true]);
    // Open again: a connection failure is retried, not refused at once.
    const statement = scripted(refused(), "rows");
    await expect(gate.run(statement)).resolves.toBe("rows");
    expect(statement).toHaveBeenCalledTimes(2);
  });

  it("lets only one probe through at a time; the others fail at once", async () => {
    const { gate } = await closedGate(50, 200);
    await sleep(80);
    let release!: (value: string) => void;
    const probe = jest.fn(() => new Promise<string>((resolve) => (release = resolve)));
    const probing = gate.run(probe);
    const others = jest.fn(async () => "other");
    for (let i = 0; i < 5; i += 1) expect(await rejection(gate.run(others))).toBeInstanceOf(DatabaseUnavailableError);
    expect(others).not.toHaveBeenCalled();
    expect(probe).toHaveBeenCalledTimes(1);
    release("probe");
    await expect(probing).resolves.toBe("probe");
    await expect(gate.run(others)).resolves.toBe("other");
    expect(others).toHaveBeenCalledTimes(1);
  });

  it("keeps a probe that fails for a connection reason from being retried, and waits twice as long before the next", async () => {
    const { gate } = await closedGate(100, 1000);
    await sleep(130);
    const probe = scripted(refused(), "never");
    expect(await rejection(gate.run(probe))).toBeInstanceOf(DatabaseUnavailableError);
    expect(probe).toHaveBeenCalledTimes(1);
    expect(gate.state().failures).toBe(2);
    // The wait is now 200 ms: still closed after 130 ms, open to a probe after 230 ms.
    await sleep(130);
    const early = scripted("rows");
    expect(await rejection(gate.run(early))).toBeInstanceOf(DatabaseUnavailableError);
    expect(early).not.toHaveBeenCalled();
    await sleep(100);
    await expect(gate.run(early)).resolves.toBe("rows");
  });

  it("never waits longer than maxMs between probes", async () => {
    const { gate } = await closedGate(40, 120);
    // Failures 2, 3, 4 would wait 80, 160, 320 ms without the bound.
    for (let failures = 2; failures <= 4; failures += 1) {
      await sleep(140);
      expect(await rejection(gate.run(scripted(locked())))).toBeInstanceOf(DatabaseUnavailableError);
      expect(gate.state().failures).toBe(failures);
    }
    await sleep(150);
    await expect(gate.run(scripted("rows"))).resolves.toBe("rows");
  });

  it("opens when a probe fails for a reason that is not the connection (the database answered) and passes that error on", async () => {
    const { gate } = await closedGate(50, 200);
    await sleep(80);
    const error = syntax();
    expect(await rejection(gate.run(scripted(error)))).toBe(error);
    expect(gate.state().up).toBe(true);
  });
});

describe("gateFor", () => {
  it("gives one gate per database, shared by all its readers", () => {
    const a = {};
    const b = {};
    expect(gateFor(a)).toBe(gateFor(a));
    expect(gateFor(a)).not.toBe(gateFor(b));
  });
});

describe("isConnectivityError", () => {
  const driver = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);
  const wrapped = (error: Error) => new QueryFailedError("SELECT 1", [], error);

  it.each([
    ["a refused TCP connection", driver("connect ECONNREFUSED 127.0.0.1:3306", { code: "ECONNREFUSED", errno: -111, fatal: true })],
    ["a reset connection", driver("read ECONNRESET", { code: "ECONNRESET", errno: -104, fatal: true })],
    ["a connect timeout", driver("connect ETIMEDOUT", { code: "ETIMEDOUT", fatal: true })],
    ["an unknown host", driver("getaddrinfo ENOTFOUND db", { code: "ENOTFOUND", errno: -3008 })],
    ["a lost connection", driver("Connection lost: The server closed the connection.", { code: "PROTOCOL_CONNECTION_LOST", fatal: true })],
    ["a wrong password", driver("Access denied for user 'app'@'localhost'", { code: "ER_ACCESS_DENIED_ERROR", errno: 1045, sqlState: "28000" })],
    ["no access to the database", driver("Access denied for user 'app' to database 'x'", { code: "ER_DBACCESS_DENIED_ERROR", errno: 1044 })],
    ["a locked account (MariaDB)", driver("Access denied, this account is locked", { code: "ER_ACCOUNT_HAS_BEEN_LOCKED", errno: 4151 })],
    ["a locked account (MySQL)", driver("Access denied for user. Account is locked.", { code: "ER_ACCOUNT_HAS_BEEN_LOCKED", errno: 3118 })],
    ["too many connections", driver("Too many connections", { code: "ER_CON_COUNT_ERROR", errno: 1040 })],
    ["a server shutting down", driver("Server shutdown in progress", { code: "ER_SERVER_SHUTDOWN", errno: 1053 })],
    ["a killed connection", driver("Connection was killed", { code: "ER_CONNECTION_KILLED", errno: 1927 })],
    ["a closed pool", new Error("Pool is closed.")],
    ["a closed connection", new Error("Can't add new command when connection is in closed state")],
  ])("is true for %s, bare and wrapped in TypeORM's QueryFailedError", (_what, error) => {
    expect(isConnectivityError(error)).toBe(true);
    expect(isConnectivityError(wrapped(error))).toBe(true);
  });

  it.each([
    ["SQL syntax", driver("You have an error in your SQL syntax", { code: "ER_PARSE_ERROR", errno: 1064, sqlState: "42000" })],
    ["a duplicate key", driver("Duplicate entry '1' for key 'PRIMARY'", { code: "ER_DUP_ENTRY", errno: 1062 })],
    ["a missing table", driver("Table 'x.y' doesn't exist", { code: "ER_NO_SUCH_TABLE", errno: 1146 })],
    ["a lock wait timeout", driver("Lock wait timeout exceeded", { code: "ER_LOCK_WAIT_TIMEOUT", errno: 1205 })],
    ["a SQLite constraint", driver("UNIQUE constraint failed: region.code", { code: "SQLITE_CONSTRAINT_UNIQUE" })],
    ["a SQLite syntax error", driver('near "SELEC": syntax error', { code: "SQLITE_ERROR" })],
    ["a programming error", new TypeError("Cannot read properties of undefined (reading 'map')")],
  ])("is false for %s, bare and wrapped", (_what, error) => {
    expect(isConnectivityError(error)).toBe(false);
    expect(isConnectivityError(wrapped(error))).toBe(false);
  });

  it("is false for what is not an error object", () => {
    for (const value of [null, undefined, "ECONNREFUSED", 4151, {}]) expect(isConnectivityError(value)).toBe(false);
  });
});
