/**
 * RedisBus on a real Redis: a redis-server of this file's own (test/support/redis.ts), stopped, frozen and
 * started again by its pid, with two buses on one channel as two instances would be. Skipped, saying so, only
 * where there is no redis-server binary at all.
 */
import { Redis } from "ioredis";
import pino from "pino";

import type { BusMessage } from "../../src/live/change-bus";
import type { ChangeEvent } from "../../src/live/change-event";
import { RedisBus, type RedisBusTimings } from "../../src/live/redis-bus";
import { type OwnRedis, ownRedis, REDIS_SERVER_BINARY } from "../support/redis";

if (!REDIS_SERVER_BINARY) process.stderr.write("\nredis-server is not installed: test/integration/redis-bus.test.ts is skipped.\n");
const describeWithRedis = REDIS_SERVER_BINARY ? describe : describe.skip;

/** Short timings, so that an outage is noticed and recovered from within a test. */
const FAST: Partial<RedisBusTimings> = { connectWaitMs: 2_000, reconnectStepMs: 50, reconnectMaxMs: 200, healthIntervalMs: 300, warnIntervalMs: 0, quitTimeoutMs: 500 };

/** A change as a write publishes it (no origin or seq: the bus fills them in). */
function change(n: number): Omit<ChangeEvent, "origin" | "seq"> {
  // versions: [region id, province, value] (the parser takes any tuple of whole numbers, region first, value last).
  const versions = [[n, 1, n]] as unknown as ChangeEvent["versions"];
  return { committedAt: 1_765_000_000_000 + n, provinces: [1], regions: [n], meetings: [], versions, deltas: { rollup_region: [[n, 1, 10 * n]] } };
}

/** A bus with what it delivered and what it logged. */
interface Instance {
  bus: RedisBus;
  messages: BusMessage[];
  logs: Array<{ level: number; msg: string; [key: string]: unknown }>;
}

let channelSerial = 0;
/** A channel no other run, file or test shares. */
const uniqueChannel = () => `major-projects:test:${process.pid}:${Date.now()}:${++channelSerial}`;

async function instance(url: string, channel: string, timings: Partial<RedisBusTimings> = FAST): Promise<Instance> {
  const logs: Instance["logs"] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const bus = await RedisBus.connect(url, logger, channel, timings);
  const messages: BusMessage[] = [];
  bus.listen((message) => messages.push(message));
  return { bus, messages, logs };
}

/** Waits (polling) until `condition` holds; fails naming `what` after `ms`. */
async function waitFor(what: string, condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The changes among `messages` from `origin`, as their seqs. */
const seqsFrom = (messages: BusMessage[], origin: string) => messages.flatMap((m) => (m.kind === "change" && m.event.origin === origin ? [m.event.seq] : []));
const resyncs = (messages: BusMessage[]) => messages.filter((m) => m.kind === "resync");

describeWithRedis("RedisBus on a real Redis", () => {
  let redis: OwnRedis;
  const open: Instance[] = [];
  const extraClients: Redis[] = [];

  beforeAll(async () => {
    redis = await ownRedis();
  }, 30_000);

  afterEach(async () => {
    await Promise.all(open.splice(0).map((i) => i.bus.close()));
    await Promise.all(extraClients.splice(0).map((c) => c.quit().catch(() => c.disconnect())));
    // A test that stopped or froze Redis leaves it running for the next.
    redis.thaw();
    if (redis.pid === null) await redis.start();
  }, 30_000);

  afterAll(async () => {
    await redis?.dispose();
  }, 30_000);

  async function pair(timings: Partial<RedisBusTimings> = FAST): Promise<[Instance, Instance]> {
    const channel = uniqueChannel();
    const a = await instance(redis.url, channel, timings);
    const b = await instance(redis.url, channel, timings);
    open.push(a, b);
    return [a, b];
  }

  /** A plain client publishing raw text on the channel `bus` listens to. */
  async function rawPublisher(): Promise<Redis> {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    extraClients.push(client);
    return client;
  }

  it("delivers its own event synchronously on publish, and not a second time when Redis sends it back", async () => {
    const [a, b] = await pair();
    a.bus.publish(change(1));
    // Synchronous: before any I/O has happened.
    expect(a.messages).toEqual([{ kind: "change", event: { ...change(1), origin: a.bus.instanceId, seq: 1 } }]);
    // B receiving it proves the round trip through Redis is done; A's own copy came back too and was dropped.
    await waitFor("B to receive A's event", () => seqsFrom(b.messages, a.bus.instanceId).length === 1);
    b.bus.publish(change(2));
    await waitFor("A to receive B's event", () => seqsFrom(a.messages, b.bus.instanceId).length === 1);
    expect(seqsFrom(a.messages, a.bus.instanceId)).toEqual([1]);
    expect(seqsFrom(b.messages, b.bus.instanceId)).toEqual([1]);
  });

  it("delivers each other's events exactly once, in order, as published", async () => {
    const [a, b] = await pair();
    for (let n = 1; n <= 5; n++) a.bus.publish(change(n));
    for (let n = 1; n <= 3; n++) b.bus.publish(change(10 + n));
    await waitFor("B to receive A's 5", () => seqsFrom(b.messages, a.bus.instanceId).length >= 5);
    await waitFor("A to receive B's 3", () => seqsFrom(a.messages, b.bus.instanceId).length >= 3);
    // One more each way, after which any duplicate of the earlier ones would have arrived.
    a.bus.publish(change(6));
    b.bus.publish(change(14));
    await waitFor("B to receive A's 6th", () => seqsFrom(b.messages, a.bus.instanceId).includes(6));
    await waitFor("A to receive B's 4th", () => seqsFrom(a.messages, b.bus.instanceId).includes(4));
    expect(seqsFrom(b.messages, a.bus.instanceId)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seqsFrom(a.messages, b.bus.instanceId)).toEqual([1, 2, 3, 4]);
    expect(b.messages.find((m) => m.kind === "change" && m.event.origin === a.bus.instanceId && m.event.seq === 3)).toEqual({
      kind: "change",
      event: { ...change(3), origin: a.bus.instanceId, seq: 3 },
    });
    expect(resyncs(a.messages)).toEqual([]);
    expect(resyncs(b.messages)).toEqual([]);
  });

  it("ignores and logs a malformed message, and goes on delivering", async () => {
    const [, b] = await pair();
    const raw = await rawPublisher();
    const channel = (b.bus as unknown as { channel: string }).channel;
    const valid = { ...change(1), origin: "another-instance", seq: 1 };
    for (const bad of ["not json", "[1,2]", "null", JSON.stringify({ ...valid, seq: "1" }), JSON.stringify({ ...valid, versions: [[1]] }), JSON.stringify({ ...valid, deltas: { rollup_region: [["x"]] } })]) {
      await raw.publish(channel, bad);
    }
    await raw.publish(channel, JSON.stringify(valid));
    await waitFor("the valid event", () => b.messages.length >= 1);
    expect(b.messages).toEqual([{ kind: "change", event: valid }]);
    const warnings = b.logs.filter((l) => l.msg === "ignored a malformed message on the change channel");
    expect(warnings.map((w) => w.problem)).toEqual([
      "not JSON",
      "not an object",
      "not an object",
      "seq is not a whole number from 1",
      "versions is not a list of tuples of whole numbers",
      "deltas holds something other than rows of numbers",
    ]);
  });

  it("delivers a resync when another origin's seq skips one, and drops a repeated seq", async () => {
    const [, b] = await pair();
    const raw = await rawPublisher();
    const channel = (b.bus as unknown as { channel: string }).channel;
    const from = (seq: number) => JSON.stringify({ ...change(seq), origin: "another-instance", seq });
    // The first seen from an origin sets its count, whatever it is (the origin started before this bus).
    for (const seq of [7, 8, 10, 10, 9, 11]) await raw.publish(channel, from(seq));
    await waitFor("seq 11", () => seqsFrom(b.messages, "another-instance").includes(11));
    expect(b.messages.map((m) => (m.kind === "change" ? m.event.seq : m.kind))).toEqual([7, 8, 10, "resync", 11]);
    expect(resyncs(b.messages)).toEqual([{ kind: "resync", reason: expect.stringContaining("events 9..9 of instance another-instance") }]);
  });

  it("drops what is published while Redis is down (no throw, no queue), then resyncs and delivers again once it is back", async () => {
    const [a, b] = await pair();
    a.bus.publish(change(1));
    await waitFor("B to receive A's first", () => seqsFrom(b.messages, a.bus.instanceId).length === 1);

    await redis.stop();
    await waitFor("both buses to see Redis gone", () => [a, b].every((i) => i.logs.some((l) => l.msg === "Redis connection lost; reconnecting")));
    for (let n = 2; n <= 201; n++) expect(() => a.bus.publish(change(n))).not.toThrow();
    // Still delivered here, at once, every one of them.
    expect(seqsFrom(a.messages, a.bus.instanceId)).toHaveLength(201);
    await waitFor("A to warn that a publish was dropped", () => a.logs.some((l) => l.msg.startsWith("could not publish a change event to Redis: dropped")));
    const publisher = (a.bus as unknown as { publisher: Redis }).publisher;
    // Nothing waits in ioredis's queues either (the offline queue is off; the command queue is the one sent).
    expect((publisher as unknown as { offlineQueue: unknown[] }).offlineQueue.length).toBe(0);
    expect(publisher.commandQueue.length).toBe(0);
    await pause(500); // a few reconnect attempts meanwhile

    await redis.start();
    await waitFor("B's resync", () => resyncs(b.messages).length === 1);
    await waitFor("A's resync", () => resyncs(a.messages).length === 1);
    expect(resyncs(b.messages)[0]).toEqual({ kind: "resync", reason: expect.stringContaining("subscribed to the change channel again") });
    await waitFor("A's publisher to be back", () => publisher.status === "ready");
    a.bus.publish(change(202));
    b.bus.publish(change(1));
    await waitFor("B to receive A's 202nd", () => seqsFrom(b.messages, a.bus.instanceId).includes(202));
    await waitFor("A to receive B's first", () => seqsFrom(a.messages, b.bus.instanceId).includes(1));
    // Nothing of the outage was held and sent late, and the seq skip after a resync is no second resync.
    expect(seqsFrom(b.messages, a.bus.instanceId)).toEqual([1, 202]);
    const received = b.messages.filter((m) => m.kind === "resync" || m.event.origin !== b.bus.instanceId);
    expect(received.map((m) => m.kind)).toEqual(["change", "resync", "change"]);
  }, 60_000);

  it("starts with Redis down without failing or waiting long, and joins once Redis comes up", async () => {
    const late = await ownRedis({ started: false });
    try {
      const channel = uniqueChannel();
      const started = Date.now();
      const a = await instance(late.url, channel);
      open.push(a);
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(a.logs.some((l) => l.level === 40 && String(l.msg).startsWith("Redis is not reachable"))).toBe(true);
      expect(() => a.bus.publish(change(1))).not.toThrow();
      expect(seqsFrom(a.messages, a.bus.instanceId)).toEqual([1]);

      await late.start();
      // Events may have been missed between the start and now: the first subscription is a resync too.
      await waitFor("A's resync", () => resyncs(a.messages).length === 1);
      const b = await instance(late.url, channel);
      open.push(b);
      await waitFor("A's publisher up", () => (a.bus as unknown as { publisher: Redis }).publisher.status === "ready");
      a.bus.publish(change(2));
      await waitFor("B to receive A's second", () => seqsFrom(b.messages, a.bus.instanceId).includes(2));
      expect(seqsFrom(b.messages, a.bus.instanceId)).toEqual([2]);
    } finally {
      await Promise.all(open.splice(0).map((i) => i.bus.close()));
      await late.dispose();
    }
  }, 60_000);

  it("drops connections to a Redis that stops answering (frozen), and resyncs when it answers again", async () => {
    const [a, b] = await pair();
    redis.freeze();
    const frozenAt = Date.now();
    // None throws; a thousand wait for an answer at most, the rest are dropped.
    for (let n = 1; n <= 1_500; n++) expect(() => a.bus.publish(change(n))).not.toThrow();
    const publisher = (a.bus as unknown as { publisher: Redis }).publisher;
    // (+1: a health-check PING may be waiting too.)
    expect(publisher.commandQueue.length).toBeLessThanOrEqual(1_001);
    expect(a.logs.some((l) => l.msg.startsWith("Redis is not answering: change event dropped"))).toBe(true);
    await waitFor("the health check to give up on both buses' connections", () =>
      [a, b].every((i) => i.logs.filter((l) => l.msg === "Redis did not answer a PING in time; reconnecting").length >= 2),
    );
    // Two health intervals at most, plus slack.
    expect(Date.now() - frozenAt).toBeLessThan(3_000);
    redis.thaw();
    await waitFor("B's resync", () => resyncs(b.messages).length >= 1, 15_000);
    await waitFor("A's publisher back", () => publisher.status === "ready");
    a.bus.publish(change(5_000));
    await waitFor("B to receive A's event after the thaw", () => b.messages.some((m) => m.kind === "change" && m.event.committedAt === change(5_000).committedAt), 15_000);
  }, 60_000);

  it("close quits both connections and forgets its listeners", async () => {
    const [a, b] = await pair();
    await a.bus.close();
    expect(connections(a.bus).map((c) => c.status)).toEqual(["end", "end"]);
    const before = a.messages.length;
    a.bus.publish(change(1));
    expect(a.messages).toHaveLength(before);
    // B's publish reaches nobody at A any more.
    b.bus.publish(change(1));
    await pause(200);
    expect(a.messages).toHaveLength(before);
  });

  it("close with Redis down returns at once and stops the reconnecting for good", async () => {
    const a = await instance(redis.url, uniqueChannel());
    open.push(a);
    await redis.stop();
    await waitFor("A to see Redis gone", () => a.logs.some((l) => l.msg === "Redis connection lost; reconnecting"));
    const started = Date.now();
    await a.bus.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    await redis.start();
    await pause(600); // three reconnect delays of FAST
    const clients = (await (await rawPublisher()).client("LIST")) as string;
    expect(clients).not.toMatch(/name=major-projects-/);
  });
});

/** A bus's two connections (publisher, subscriber). */
function connections(bus: RedisBus): Redis[] {
  const inner = bus as unknown as { publisher: Redis; subscriber: Redis };
  return [inner.publisher, inner.subscriber];
}
