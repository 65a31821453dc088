/**
 * The live hub: every subscription a screen holds, grouped by what it asks
 * (same document, operation and variables: one "live query"), computed once
 * per change and sent to all its screens as one serialised payload.
 *
 * - A live query is computed when its first screen subscribes; a later screen
 *   of the same query gets the last payload at once.
 * - A committed write (a change event on the bus) marks dirty the live queries
 *   it can change: `regionStats` of any region on the lineage of a region the
 *   write touched, `meetingBoard` of a meeting whose batches it touched;
 *   everything after a change of the trees or a resync.
 * - Dirty queries are computed at most once per `minIntervalMs` each (a burst of
 *   writes gives one push at once, then one per interval, the last on the final
 *   state), all those due in one turn with one context, so their stats share
 *   grouped queries and the aggregate cache.
 * - A payload equal to the last one sent is not sent: never a push that changes nothing.
 */
import { performance } from "node:perf_hooks";

import type { DocumentNode, ExecutionResult, GraphQLSchema } from "graphql";
import { execute, GraphQLError } from "graphql";
import type { Logger } from "pino";
import type { WebSocket } from "ws";

import type { Context } from "../common/context";
import type { DataVersions } from "../db/data-version";
import type { RegionTree } from "../region/region.type";
import type { BusMessage } from "./change-bus";
import type { ChangeEvent } from "./change-event";

/** A live query that could not be computed (the database away) is tried again this much later. */
const RETRY_AFTER_MS = 1000;
/** Failed computations are logged at most this often. */
const WARN_EVERY_MS = 10_000;

/** One subscription of one connection: where its pushes go. */
export interface Screen {
  socket: WebSocket;
  /** The graphql-ws subscription id the client chose. */
  id: string;
  /** `{"id":…,"type":"next","payload":` for this subscription, as the first frame of a text message (`frame(…, false)`), made once. */
  head: Buffer;
}

/** What a subscription asks, as the hub groups it. */
export interface LiveRequest {
  document: DocumentNode;
  operationName: string | undefined;
  variables: Record<string, unknown>;
  /** The same for every request asking the same thing (document text, operation, variables). */
  key: string;
  /** What changes it: a region's subtree, a meeting's batches, or (null) any write. */
  watches: { kind: "region"; regionId: number } | { kind: "meeting"; meetingId: number } | null;
}

/** Settings and collaborators of the hub. */
export interface LiveHubOptions {
  schema: GraphQLSchema;
  /** A fresh context for one computation turn (served from the shared cache). */
  context: () => Context;
  /** The region tree, to find the lineage of a region a write touched. */
  regions: () => Promise<RegionTree>;
  minIntervalMs: number;
  /** Bytes a socket may have queued before it is cut off as a slow consumer. */
  maxBufferedBytes: number;
  logger: Logger;
  /** Called when a slow consumer is cut off. */
  onSlowConsumer?: () => void;
  /** Called after each push of a changed value: seconds spent writing it to its `screens`. */
  onPushed?: (seconds: number, screens: number) => void;
  /**
   * The data versions as the shared cache reads them (at most once per DATA_VERSION_TTL_MS), checked every
   * `checkIntervalMs` while anything is subscribed: a counter ahead of every change event heard means a write this
   * instance was not told of (another instance without Redis, or Redis away), and every live query is computed again.
   */
  versions?: () => Promise<DataVersions>;
  checkIntervalMs?: number;
}

/** Counts, for /metrics and tests. */
export interface LiveCounts {
  screens: number;
  queries: number;
  computations: number;
  pushes: number;
  unchanged: number;
  slowConsumers: number;
}

/** One distinct subscription and the screens that hold it. */
class LiveQuery {
  readonly screens = new Set<Screen>();
  /** The last payload sent (serialised), undefined before the first computation finished. */
  last: string | undefined;
  /** `last` followed by the `}` that closes each screen's message, as the message's last frame, made once for every screen. */
  tail: Buffer | undefined;
  /** The first computation (screens that join wait for it). */
  first: Promise<ExecutionResult> | undefined;
  dirty = false;
  running = false;
  timer: NodeJS.Timeout | undefined;
  lastRunAt = 0;

  constructor(readonly request: LiveRequest) {}
}

export class LiveHub {
  private readonly queries = new Map<string, LiveQuery>();
  private readonly byRegion = new Map<number, Set<LiveQuery>>();
  private readonly byMeeting = new Map<number, Set<LiveQuery>>();
  private readonly everything = new Set<LiveQuery>();
  /** Queries due in the current turn: computed together with one context. */
  private due: LiveQuery[] = [];
  private turnScheduled = false;
  private closed = false;
  /** The highest value of each data_version counter heard of (events and version checks). */
  private readonly known = new Map<number, number>();
  private watch: NodeJS.Timeout | undefined;
  private failures = 0;
  private warnedAt = 0;
  readonly counts: LiveCounts = { screens: 0, queries: 0, computations: 0, pushes: 0, unchanged: 0, slowConsumers: 0 };

  constructor(private readonly options: LiveHubOptions) {}

  /** The bus listener: marks dirty what a change can affect. */
  readonly onMessage = (message: BusMessage): void => {
    if (message.kind === "resync") this.markAll();
    else {
      for (const [region, , version] of message.event.versions) if ((this.known.get(region) ?? 0) < version) this.known.set(region, version);
      void this.changed(message.event);
    }
  };

  /**
   * Adds a screen to its live query (computing the query if it is new) and
   * sends it the current value. Resolves to the first result's errors when the
   * subscription cannot be served (no such region or meeting), in which case
   * nothing was added; else to null, and `remove` takes the screen off.
   */
  async add(request: LiveRequest, screen: Screen): Promise<{ errors: readonly GraphQLError[] } | { remove: () => void }> {
    let query = this.queries.get(request.key);
    if (!query) {
      query = new LiveQuery(request);
      this.queries.set(request.key, query);
      this.index(query, true);
      query.first = this.compute([query], true).then((results) => results[0]);
      this.startWatch();
    }
    const first = await query.first!;
    if (first.errors?.length && !first.data) {
      // A query that cannot be served is not kept (another screen may ask again after a fix).
      if (this.queries.get(request.key) === query && query.screens.size === 0) this.drop(query);
      return { errors: first.errors };
    }
    if (this.closed) return { errors: [new GraphQLError("the server is shutting down")] };
    query.screens.add(screen);
    this.counts.screens++;
    if (query.tail !== undefined) this.send(screen, query.tail);
    const live = query;
    return {
      remove: () => {
        if (!live.screens.delete(screen)) return;
        this.counts.screens--;
        if (live.screens.size === 0) this.drop(live);
      },
    };
  }

  /** Stops computing (at shutdown); screens are closed by the WebSocket server. */
  close(): void {
    this.closed = true;
    clearInterval(this.watch);
    for (const query of this.queries.values()) if (query.timer) clearTimeout(query.timer);
  }

  private async changed(event: ChangeEvent): Promise<void> {
    if (this.queries.size === 0) return;
    if (event.provinces.includes(0) || event.deltas === null) return this.markAll();
    for (const query of this.everything) this.markDirty(query);
    for (const meetingId of event.meetings) for (const query of this.byMeeting.get(meetingId) ?? []) this.markDirty(query);
    if (this.byRegion.size === 0) return;
    const regions = await this.options.regions();
    const seen = new Set<number>();
    for (const regionId of event.regions) {
      for (const node of regions.lineageOf(regionId)) {
        if (seen.has(node.id)) continue;
        seen.add(node.id);
        for (const query of this.byRegion.get(node.id) ?? []) this.markDirty(query);
      }
    }
  }

  /** Checks the versions while anything is subscribed (see `versions`). */
  private startWatch(): void {
    const { versions, checkIntervalMs } = this.options;
    if (this.watch || !versions || !checkIntervalMs) return;
    const learn = (read: DataVersions) => {
      let missed = false;
      for (const [region, { version }] of read.byRegion) {
        if ((this.known.get(region) ?? 0) < version) {
          missed = true;
          this.known.set(region, version);
        }
      }
      return missed;
    };
    // Where the counters stand as the first live query is computed (the same read of the versions, within the TTL).
    versions().then(learn, () => undefined);
    this.watch = setInterval(() => {
      if (this.queries.size === 0) {
        clearInterval(this.watch);
        this.watch = undefined;
        return;
      }
      versions().then(
        (read) => {
          if (learn(read)) this.markAll();
        },
        () => undefined,
      );
    }, checkIntervalMs);
    this.watch.unref();
  }

  private markAll(): void {
    for (const query of this.queries.values()) this.markDirty(query);
  }

  private markDirty(query: LiveQuery): void {
    if (this.closed || query.first === undefined) return;
    query.dirty = true;
    if (query.running || query.timer) return;
    const wait = query.lastRunAt + this.options.minIntervalMs - Date.now();
    // At once (with the other changes of this turn), or when the interval since the last computation is over.
    query.timer = setTimeout(() => {
      query.timer = undefined;
      this.due.push(query);
      this.scheduleTurn();
    }, Math.max(0, wait));
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => {
      this.turnScheduled = false;
      const due = this.due.filter((q) => this.queries.get(q.request.key) === q && q.dirty && !q.running);
      this.due = [];
      if (due.length) void this.compute(due, false);
    });
  }

  /** Computes the queries with one context; sends each changed payload to its screens. */
  private async compute(queries: LiveQuery[], first: boolean): Promise<ExecutionResult[]> {
    const ctx = this.options.context();
    const startedAt = Date.now();
    for (const query of queries) {
      query.running = true;
      query.dirty = false;
      query.lastRunAt = startedAt;
    }
    const results = await Promise.all(
      queries.map(async (query) => {
        try {
          return await execute({ schema: this.options.schema, document: query.request.document, operationName: query.request.operationName, variableValues: query.request.variables, contextValue: ctx });
        } catch (error) {
          return { errors: [error instanceof GraphQLError ? error : new GraphQLError((error as Error).message, { originalError: error as Error })] } as ExecutionResult;
        }
      }),
    );
    this.counts.computations += queries.length;
    queries.forEach((query, i) => {
      query.running = false;
      const result = results[i];
      if (result.errors?.length) {
        // Keep the last good value on screen (the database may be away for a moment); try again a second later.
        if (!first) {
          this.warnFailed(result.errors[0].message);
          query.lastRunAt = startedAt + RETRY_AFTER_MS - this.options.minIntervalMs;
          query.dirty = true;
        }
      } else {
        const payload = JSON.stringify({ data: result.data });
        if (payload === query.last) this.counts.unchanged++;
        else {
          query.last = payload;
          query.tail = frame(Buffer.from(`${payload}}`), true);
          const started = performance.now();
          for (const screen of query.screens) this.send(screen, query.tail);
          this.options.onPushed?.((performance.now() - started) / 1000, query.screens.size);
        }
      }
      if (query.dirty && this.queries.get(query.request.key) === query) {
        query.dirty = false;
        this.markDirty(query);
      }
    });
    return results;
  }

  /**
   * One push to one screen, as one WebSocket message in two frames: the screen's own head (its subscription id,
   * framed when it subscribed), then the payload every screen of the query shares, framed once per push: the same
   * bytes for all, nothing framed, encoded or copied per screen, both written in one system call. (Frames go
   * straight to the socket, as ws's own sender writes them when it does not compress, which this server never
   * asks for; nothing else is written between the two.) A screen whose socket has more than the bound queued is
   * cut off instead of buffering more.
   */
  private send(screen: Screen, tail: Buffer): void {
    const { socket } = screen;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > this.options.maxBufferedBytes) {
      this.counts.slowConsumers++;
      this.options.onSlowConsumer?.();
      this.options.logger.warn({ buffered: socket.bufferedAmount, limit: this.options.maxBufferedBytes }, "cut off a slow consumer (LIVE_MAX_BUFFERED_BYTES)");
      socket.terminate();
      return;
    }
    this.counts.pushes++;
    const raw = (socket as unknown as { _socket: { cork(): void; uncork(): void; write(data: Buffer): boolean } })._socket;
    raw.cork();
    raw.write(screen.head);
    raw.write(tail);
    raw.uncork();
  }

  /** Logs that live queries could not be computed, at most once per WARN_EVERY_MS with the count since. */
  private warnFailed(message: string): void {
    this.failures++;
    const now = Date.now();
    if (now - this.warnedAt < WARN_EVERY_MS) return;
    this.options.logger.warn({ failures: this.failures, error: message }, "live queries could not be computed; each is tried again a second later, and screens keep their last value");
    this.warnedAt = now;
    this.failures = 0;
  }

  private drop(query: LiveQuery): void {
    if (this.queries.get(query.request.key) !== query) return;
    this.queries.delete(query.request.key);
    if (query.timer) clearTimeout(query.timer);
    this.index(query, false);
  }

  private index(query: LiveQuery, add: boolean): void {
    const watches = query.request.watches;
    const set =
      watches === null
        ? this.everything
        : watches.kind === "region"
          ? getSet(this.byRegion, watches.regionId)
          : getSet(this.byMeeting, watches.meetingId);
    if (add) set.add(query);
    else {
      set.delete(query);
      if (watches?.kind === "region" && set.size === 0) this.byRegion.delete(watches.regionId);
      if (watches?.kind === "meeting" && set.size === 0) this.byMeeting.delete(watches.meetingId);
    }
    this.counts.queries = this.queries.size;
  }
}

/**
 * A WebSocket frame as a server sends it (RFC 6455 §5.2, unmasked): the first frame of a text message (`fin` false)
 * or the last frame of one (a continuation, `fin` true).
 */
export function frame(payload: Buffer, fin: boolean): Buffer {
  const first = fin ? 0x80 : 0x01;
  const length = payload.length;
  const header = length < 126 ? Buffer.from([first, length]) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (length >= 126 && length < 65536) {
    header[0] = first;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else if (length >= 65536) {
    header[0] = first;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, payload]);
}

function getSet<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  return set;
}
