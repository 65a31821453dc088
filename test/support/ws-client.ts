/**
 * A graphql-ws client at the protocol level, over `ws` directly: the test
 * decides when to send connection_init, what to subscribe, whether to answer
 * pings and whether to read at all, and sees every message and the close code
 * as they came. Also: an upgrade attempt that reports the HTTP status of a
 * refusal instead of failing.
 */
import type { IncomingMessage } from "node:http";

import WebSocket, { type ClientOptions } from "ws";

/** The graphql-ws subprotocol. */
export const GRAPHQL_TRANSPORT_WS = "graphql-transport-ws";

/** ws://…/graphql for the server's http://…/graphql. */
export function wsUrl(httpUrl: string): string {
  return httpUrl.replace(/^http/, "ws");
}

/** One graphql-ws message as received. */
export interface WsMessage {
  type: string;
  id?: string;
  payload?: any;
}

/** How a socket closed, as the client saw it, and when (ms since the epoch). */
export interface Closed {
  code: number;
  reason: string;
  at: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An open WebSocket speaking graphql-transport-ws, with every message it received. */
export class RawClient {
  readonly messages: WsMessage[] = [];
  /** Raw bytes of the text frames received. */
  bytes = 0;
  readonly openedAt = Date.now();
  /** Set once the socket has closed. */
  closedWith: Closed | undefined;
  readonly closed: Promise<Closed>;
  private readonly taken = new Set<number>();

  constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) =>
      ws.once("close", (code, reason) => {
        this.closedWith = { code, reason: String(reason), at: Date.now() };
        resolve(this.closedWith);
      }),
    );
    ws.on("message", (data) => {
      const text = String(data);
      this.bytes += Buffer.byteLength(text);
      this.messages.push(JSON.parse(text) as WsMessage);
    });
    // An error always ends in 'close', which is what the tests look at.
    ws.on("error", () => undefined);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(message: WsMessage | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  /** The first message not taken yet that matches; waits for it up to `ms`, failing naming `what`. */
  async take(what: string, match: (m: WsMessage) => boolean, ms = 15_000): Promise<WsMessage> {
    const deadline = Date.now() + ms;
    for (;;) {
      const index = this.messages.findIndex((m, i) => !this.taken.has(i) && match(m));
      if (index >= 0) {
        this.taken.add(index);
        return this.messages[index];
      }
      if (this.closedWith) throw new Error(`the socket closed (${this.closedWith.code} ${this.closedWith.reason}) while waiting for ${what}; received ${JSON.stringify(this.messages).slice(0, 2000)}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; received ${JSON.stringify(this.messages).slice(0, 2000)}`);
      await pause(10);
    }
  }

  /** connection_init (with `payload` when given); resolves on connection_ack. */
  async init(payload?: Record<string, unknown>): Promise<void> {
    this.send(payload === undefined ? { type: "connection_init" } : { type: "connection_init", payload });
    await this.take("connection_ack", (m) => m.type === "connection_ack");
  }

  subscribe(id: string, query: string, variables?: Record<string, unknown>): void {
    this.send({ id, type: "subscribe", payload: variables ? { query, variables } : { query } });
  }

  /** The next `next`, `error` or `complete` message of subscription `id`. */
  answer(id: string, ms?: number): Promise<WsMessage> {
    return this.take(`an answer to subscription ${id}`, (m) => m.id === id && ["next", "error", "complete"].includes(m.type), ms);
  }

  /** Subscribes and resolves with its first value (failing on anything else). */
  async subscribed(id: string, query: string, variables?: Record<string, unknown>): Promise<any> {
    this.subscribe(id, query, variables);
    const first = await this.answer(id);
    if (first.type !== "next" || first.payload.errors) throw new Error(`subscription ${id} answered ${JSON.stringify(first)}`);
    return first.payload.data;
  }

  /** The errors of the `error` message subscription `id` was refused with (failing on anything else). */
  async refused(id: string, query: string, variables?: Record<string, unknown>): Promise<Array<{ message: string; extensions?: Record<string, any> }>> {
    this.subscribe(id, query, variables);
    const answer = await this.answer(id);
    if (answer.type !== "error") throw new Error(`subscription ${id} was not refused: ${JSON.stringify(answer).slice(0, 500)}`);
    return answer.payload;
  }

  complete(id: string): void {
    this.send({ id, type: "complete" });
  }

  /** `next` messages received for subscription `id`. */
  pushes(id: string): WsMessage[] {
    return this.messages.filter((m) => m.id === id && m.type === "next");
  }

  /** Closes (1000) and waits for the close, or terminates after 2 s. */
  async close(): Promise<Closed> {
    if (!this.closedWith) {
      if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
      const timer = setTimeout(() => this.ws.terminate(), 2_000);
      await this.closed;
      clearTimeout(timer);
    }
    return this.closedWith!;
  }
}

/** What an upgrade attempt came to: a WebSocket, an HTTP refusal, or a network error. */
export type Upgrade = { status: 101; client: RawClient } | { status: number; body: string; headers: IncomingMessage["headers"] } | { status: 0; error: string };

/** Opens ws://…/graphql with the graphql-ws subprotocol; resolves with the client, or how the upgrade was refused. */
export function tryUpgrade(url: string, options: ClientOptions = {}, protocol: string | string[] = GRAPHQL_TRANSPORT_WS): Promise<Upgrade> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, protocol, { handshakeTimeout: 10_000, ...options });
    const client = new RawClient(ws);
    ws.once("open", () => resolve({ status: 101, client }));
    ws.once("unexpected-response", (request, response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.once("end", () => {
        request.destroy();
        resolve({ status: response.statusCode ?? 0, body, headers: response.headers });
      });
      response.once("error", () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers }));
    });
    ws.once("error", (error: NodeJS.ErrnoException) => resolve({ status: 0, error: error.code ?? error.message }));
  });
}

/** Opens a WebSocket that must be accepted. */
export async function connect(url: string, options: ClientOptions = {}): Promise<RawClient> {
  const result = await tryUpgrade(url, options);
  if (result.status !== 101) throw new Error(`the upgrade was refused: ${JSON.stringify(result)}`);
  return (result as { client: RawClient }).client;
}
