import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";

import { LocalBus } from "./change-bus";
import type { ChangeEvent } from "./change-event";

/** The pub/sub channel every instance of one deployment shares. */
export const DEFAULT_CHANNEL = "major-projects:changes";

/** Timings of a RedisBus; the defaults suit production, tests shorten them. */
export interface RedisBusTimings {
  /** How long `connect` waits for Redis before it hands out a bus that goes on trying (ms; default 3000). */
  connectWaitMs: number;
  /** Reconnect delay: min(attempt × this, reconnectMaxMs) (ms; default 200). */
  reconnectStepMs: number;
  /** Upper bound of the reconnect delay (ms; default 2000). */
  reconnectMaxMs: number;
  /** Every this many ms each connection is PINGed; one that has not answered by the next PING is dropped and reconnected (default 5000; 0: never). */
  healthIntervalMs: number;
  /** At most one warning of a kind (publish failed, malformed message, Redis error) per this many ms; the rest are counted into the next (default 10000). */
  warnIntervalMs: number;
  /** `close` waits this long for QUIT before it cuts a connection (ms; default 1000). */
  quitTimeoutMs: number;
}

const DEFAULT_TIMINGS: RedisBusTimings = {
  connectWaitMs: 3_000,
  reconnectStepMs: 200,
  reconnectMaxMs: 2_000,
  healthIntervalMs: 5_000,
  warnIntervalMs: 10_000,
  quitTimeoutMs: 1_000,
};

/**
 * PUBLISHes sent and not yet answered, at most: past this the publisher is
 * stuck (a Redis that accepts bytes and answers nothing), and an event is
 * dropped rather than queued behind them.
 */
const MAX_IN_FLIGHT = 1_000;

/** Origins whose last seq is remembered, at most (every process start is a new origin); the oldest is forgotten first. */
const MAX_ORIGINS = 1_000;

/**
 * The change bus of an instance among several: what this instance publishes is
 * delivered to its own listeners at once (as LocalBus does) and PUBLISHed on a
 * Redis channel; what the other instances PUBLISH there is delivered to this
 * one's listeners. Redis pub/sub keeps nothing, so an event sent while an
 * instance is cut off from Redis never reaches it; the bus then says so with
 * a `resync` (after its subscription is back, or when an origin's `seq` skips),
 * and an instance that misses even that still catches up through its
 * data-version check (DATA_VERSION_TTL_MS).
 *
 * Nothing waits for Redis: the publisher has no offline queue (a publish while
 * Redis is away is dropped with a rate-limited warning), both connections
 * reconnect forever with a capped backoff, and a start with Redis down goes
 * ahead with a warning.
 */
export class RedisBus extends LocalBus {
  /** The last seq seen per other origin, to notice a lost event. */
  private readonly lastSeq = new Map<string, number>();
  /** PUBLISHes in flight on the publisher's current connection (those of a closed one are forgotten, never resent). */
  private inFlight = 0;
  private connectionEpoch = 0;
  /** Set once `connect` has handed the bus out: a subscription made after that is a resync. */
  private handedOut = false;
  private closed = false;
  private healthTimer: NodeJS.Timeout | null = null;
  /** Connections whose last health-check PING has not been answered yet, with a token of that PING. */
  private readonly pingPending = new Map<Redis, object>();
  private readonly warnings: RateLimitedWarnings;

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly channel: string,
    private readonly logger: Logger,
    private readonly timings: RedisBusTimings,
  ) {
    super();
    this.warnings = new RateLimitedWarnings(logger, timings.warnIntervalMs);
  }

  /**
   * Opens the two connections (one publishes, the other subscribes to `channel`) and waits up to
   * `connectWaitMs` for both; with Redis down it warns and returns a bus that keeps trying, never throws for that.
   */
  static async connect(url: string, logger: Logger, channel = DEFAULT_CHANNEL, timings: Partial<RedisBusTimings> = {}): Promise<RedisBus> {
    const t = { ...DEFAULT_TIMINGS, ...timings };
    const options: RedisOptions = {
      // Nothing is queued while Redis is away: a command then fails at once.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // A PUBLISH in flight when the connection drops is not sent again on the next: the others have resynced by then.
      autoResendUnfulfilledCommands: false,
      // The subscription is made again by hand on every `ready`, so that the resync is delivered after it holds.
      autoResubscribe: false,
      connectTimeout: 5_000,
      // ioredis keeps a timer this long after a disconnect, even of a stream closed already (one while reconnecting):
      // 2 s by default, which would hold a stopping process that long.
      disconnectTimeout: 200,
      retryStrategy: (attempt) => Math.min(attempt * t.reconnectStepMs, t.reconnectMaxMs),
      lazyConnect: true,
    };
    const bus = new RedisBus(
      new Redis(url, { ...options, connectionName: "major-projects-publisher" }),
      new Redis(url, { ...options, connectionName: "major-projects-subscriber" }),
      channel,
      logger,
      t,
    );
    const where = redisAddress(url);
    await bus.start(where);
    return bus;
  }

  /** Wires the connections' events, starts both, waits for them (bounded), starts the health check. */
  private async start(where: string): Promise<void> {
    const { publisher, subscriber } = this;
    for (const [role, connection] of [["publisher", publisher], ["subscriber", subscriber]] as const) {
      connection.on("error", (error: Error) => this.warnings.warn(`redis-${role}`, { redis: where, role, err: error.message }, "Redis connection error; retrying"));
      let everReady = false;
      let up = false;
      connection.on("ready", () => {
        if (everReady) this.logger.info({ redis: where, role }, "Redis connection restored");
        everReady = up = true;
      });
      connection.on("close", () => {
        if (up && !this.closed) this.logger.warn({ redis: where, role }, "Redis connection lost; reconnecting");
        up = false;
      });
    }
    publisher.on("close", () => {
      this.connectionEpoch++;
      this.inFlight = 0;
    });
    subscriber.on("message", (channel: string, message: string) => {
      if (channel === this.channel) this.receive(message);
    });
    const subscribed = new Promise<void>((resolve) => subscriber.on("ready", () => void this.subscribe().then((ok) => ok && resolve())));
    const publisherReady = new Promise<void>((resolve) => publisher.once("ready", resolve));
    // Both connect in the background; their first failure is an `error` event, handled above.
    publisher.connect().catch(() => {});
    subscriber.connect().catch(() => {});
    // A first failure (refused: Redis is down) ends the wait at once, as does the bound.
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<"gave up">((resolve) => {
      timer = setTimeout(() => resolve("gave up"), this.timings.connectWaitMs);
      publisher.once("error", () => resolve("gave up"));
      subscriber.once("error", () => resolve("gave up"));
    });
    const outcome = await Promise.race([Promise.all([subscribed, publisherReady]), gaveUp]);
    clearTimeout(timer);
    if (outcome === "gave up") {
      this.logger.warn({ redis: where, channel: this.channel }, "Redis is not reachable: this instance starts without it, tries again every few seconds, and sees other instances' writes through its data-version check until then");
    } else {
      this.logger.info({ redis: where, channel: this.channel, instanceId: this.instanceId }, "change bus on Redis");
    }
    this.handedOut = true;
    if (this.timings.healthIntervalMs > 0) {
      this.healthTimer = setInterval(() => this.checkHealth(), this.timings.healthIntervalMs);
      this.healthTimer.unref();
    }
  }

  /**
   * SUBSCRIBEs on a connection just ready; after `connect` has returned, then delivers a resync, since events sent
   * while it was not subscribed are lost. False when the connection dropped again first (the next `ready` retries).
   */
  private async subscribe(): Promise<boolean> {
    try {
      await this.subscriber.subscribe(this.channel);
    } catch (error) {
      if (!this.closed) this.warnings.warn("redis-subscribe", { channel: this.channel, err: (error as Error).message }, "could not subscribe to the change channel; retrying on the next connection");
      return false;
    }
    if (this.closed) return false;
    // Whatever the seqs seen before, events in between are lost: the first of each origin from now on sets the count again.
    this.lastSeq.clear();
    if (this.handedOut) this.deliver({ kind: "resync", reason: "subscribed to the change channel again: events sent meanwhile were missed" });
    return true;
  }

  /** Drops a connection that has not answered its last PING (half-open TCP, a frozen Redis); it reconnects, and the subscriber then resyncs. */
  private checkHealth(): void {
    for (const connection of [this.publisher, this.subscriber]) {
      const pending = this.pingPending.has(connection);
      this.pingPending.delete(connection);
      if (connection.status !== "ready") continue;
      if (pending) {
        this.logger.warn({ connection: connection.options.connectionName, waitedMs: this.timings.healthIntervalMs }, "Redis did not answer a PING in time; reconnecting");
        connection.disconnect(true);
        continue;
      }
      const token = {};
      this.pingPending.set(connection, token);
      // A late answer (or failure) of an earlier PING must not clear a later one's mark.
      const answered = () => this.pingPending.get(connection) === token && this.pingPending.delete(connection);
      connection.ping().then(answered, answered);
    }
  }

  /** Handles one message of the channel: another instance's event delivered once, in order; anything else ignored. */
  private receive(message: string): void {
    const event = parseChangeEvent(message);
    if (typeof event === "string") {
      this.warnings.warn("redis-malformed", { channel: this.channel, problem: event, length: message.length }, "ignored a malformed message on the change channel");
      return;
    }
    if (event.origin === this.instanceId) return;
    const last = this.lastSeq.get(event.origin);
    if (last !== undefined && event.seq <= last) return; // seen already
    this.lastSeq.delete(event.origin);
    this.lastSeq.set(event.origin, event.seq);
    if (this.lastSeq.size > MAX_ORIGINS) this.lastSeq.delete(this.lastSeq.keys().next().value!);
    this.deliver({ kind: "change", event });
    // After the change, so that what listeners hold at the end is read afresh, whatever the change did to it.
    if (last !== undefined && event.seq > last + 1) {
      this.deliver({ kind: "resync", reason: `events ${last + 1}..${event.seq - 1} of instance ${event.origin} were missed` });
    }
  }

  /** PUBLISHes an event this instance has delivered locally already; dropped (with a warning) if Redis is away or stuck. */
  protected override forward(event: ChangeEvent): void {
    if (this.closed) return;
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.warnings.warn("redis-publish", { seq: event.seq, inFlight: this.inFlight }, "Redis is not answering: change event dropped (other instances catch up through their data-version check)");
      return;
    }
    const epoch = this.connectionEpoch;
    this.inFlight++;
    const settled = () => {
      if (epoch === this.connectionEpoch) this.inFlight--;
    };
    this.publisher.publish(this.channel, JSON.stringify(event)).then(settled, (error: Error) => {
      settled();
      if (!this.closed) this.warnings.warn("redis-publish", { seq: event.seq, err: error.message }, "could not publish a change event to Redis: dropped (other instances catch up through their data-version check)");
    });
  }

  /** Quits both connections (cut after `quitTimeoutMs`), and forgets every listener. */
  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.healthTimer) clearInterval(this.healthTimer);
    await Promise.all([quit(this.publisher, this.timings.quitTimeoutMs), quit(this.subscriber, this.timings.quitTimeoutMs)]);
    this.publisher.removeAllListeners();
    this.subscriber.removeAllListeners();
    // An error after this (none is expected) must not be an unhandled `error` event.
    this.publisher.on("error", () => {});
    this.subscriber.on("error", () => {});
    await super.close();
  }
}

/**
 * QUIT when the connection is up, waiting for it to end; else (or when that takes longer than `timeoutMs`)
 * disconnect at once, which also cancels a pending reconnect. Never throws.
 */
async function quit(connection: Redis, timeoutMs: number): Promise<void> {
  if (connection.status === "end") return;
  if (connection.status !== "ready") {
    connection.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<true>((resolve) => connection.once("end", () => resolve(true)));
  const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  connection.quit().catch(() => {});
  const ok = await Promise.race([ended, gaveUp]);
  clearTimeout(timer);
  if (!ok) connection.disconnect();
}

/** host:port of a Redis URL, without its user or password, for the log. */
function redisAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 6379}`;
  } catch {
    return "(unparsable REDIS_URL)";
  }
}

/** The event a channel message carries, or what is wrong with it: it came over the network, so every field is checked. */
export function parseChangeEvent(message: string): ChangeEvent | string {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return "not JSON";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not an object";
  const e = value as Record<string, unknown>;
  if (typeof e.origin !== "string" || e.origin === "" || e.origin.length > 200) return "origin is not a non-empty string";
  if (!isWhole(e.seq) || e.seq < 1) return "seq is not a whole number from 1";
  if (typeof e.committedAt !== "number" || !Number.isFinite(e.committedAt)) return "committedAt is not a number";
  for (const key of ["provinces", "regions", "meetings"] as const) {
    if (!Array.isArray(e[key]) || !(e[key] as unknown[]).every(isWhole)) return `${key} is not a list of whole numbers`;
  }
  // Each entry a tuple of whole numbers, region id first and value last (its exact width is change-event.ts's business).
  if (!Array.isArray(e.versions) || !e.versions.every((v) => Array.isArray(v) && v.length >= 2 && v.length <= 8 && v.every(isWhole))) {
    return "versions is not a list of tuples of whole numbers";
  }
  if (e.deltas !== null) {
    if (typeof e.deltas !== "object" || Array.isArray(e.deltas)) return "deltas is neither null nor an object";
    for (const rows of Object.values(e.deltas as Record<string, unknown>)) {
      if (!Array.isArray(rows) || !rows.every((row) => Array.isArray(row) && row.every((n) => typeof n === "number" && Number.isFinite(n)))) {
        return "deltas holds something other than rows of numbers";
      }
    }
  }
  return {
    origin: e.origin,
    seq: e.seq,
    committedAt: e.committedAt,
    provinces: e.provinces as number[],
    regions: e.regions as number[],
    meetings: e.meetings as number[],
    versions: e.versions as ChangeEvent["versions"],
    deltas: e.deltas as Record<string, number[][]> | null,
  };
}

function isWhole(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n);
}

/** Warnings at most one per kind per interval, the rest counted into the next (`suppressed`): a Redis down for an hour is not a log line per write. */
class RateLimitedWarnings {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  warn(kind: string, fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    const entry = this.last.get(kind);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    this.logger.warn({ ...fields, ...(entry?.suppressed ? { suppressed: entry.suppressed } : {}) }, message);
    this.last.set(kind, { at: now, suppressed: 0 });
  }
}
