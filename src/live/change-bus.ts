import { randomUUID } from "node:crypto";

import type { ChangeEvent } from "./change-event";

/** What the bus delivers: a change, or word that changes may have been missed (Redis was away), so check everything. */
export type BusMessage = { kind: "change"; event: ChangeEvent } | { kind: "resync"; reason: string };

/**
 * Where committed writes are announced. Every instance has one; `publish`
 * delivers to this instance's listeners at once (synchronously, so a
 * mutation's answer is sent after its own instance's caches have the change)
 * and, with REDIS_URL, to every other instance through Redis pub/sub
 * (./redis-bus.ts). Listeners must not throw.
 */
export interface ChangeBus {
  /** This instance's id, as events it publishes carry it in `origin`. */
  readonly instanceId: string;
  /** Announces a committed write (fills in `origin` and `seq`). */
  publish(event: Omit<ChangeEvent, "origin" | "seq">): void;
  /** Adds a listener; returns its removal. */
  listen(listener: (message: BusMessage) => void): () => void;
  /** Stops (closes Redis connections). */
  close(): Promise<void>;
}

/** The bus of one instance alone: listeners in this process only. */
export class LocalBus implements ChangeBus {
  readonly instanceId = randomUUID();
  protected readonly listeners = new Set<(message: BusMessage) => void>();
  private seq = 0;

  publish(change: Omit<ChangeEvent, "origin" | "seq">): void {
    const event: ChangeEvent = { ...change, origin: this.instanceId, seq: ++this.seq };
    this.deliver({ kind: "change", event });
    this.forward(event);
  }

  listen(listener: (message: BusMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  /** Hands a message to every listener of this process. */
  protected deliver(message: BusMessage): void {
    for (const listener of [...this.listeners]) listener(message);
  }

  /** Sends a published event to other instances (none here). */
  protected forward(_event: ChangeEvent): void {}
}
