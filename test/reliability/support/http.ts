import http from "node:http";
import net from "node:net";

/** How to send one request: method, path (with query string), headers, body (string or bytes). */
export interface RequestSpec {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** What came back (or how it failed). */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
  ms: number;
  /** Set when no complete answer arrived: the socket error, or "timeout". */
  error?: string;
  /** True when the status line arrived but the body was cut. */
  cut?: boolean;
}

/** A keep-alive agent for request floods (the corpus itself uses a fresh connection per request). */
export const keepAliveAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** Sends one request over HTTP/1.1 to 127.0.0.1 and reads the whole answer. Never throws. */
export function send(origin: string, spec: RequestSpec, options: { timeoutMs?: number; agent?: http.Agent | false } = {}): Promise<Answer> {
  const url = new URL(spec.path, origin);
  const body = spec.body === undefined ? undefined : Buffer.isBuffer(spec.body) ? spec.body : Buffer.from(spec.body, "utf8");
  const headers: Record<string, string | number> = { ...(spec.headers ?? {}) };
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-length")) headers["content-length"] = body.length;
  const t0 = performance.now();
  return new Promise((resolve) => {
    let done = false;
    let status = 0;
    let responseHeaders: http.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    const finish = (error?: string, cut?: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const buffer = Buffer.concat(chunks);
      const text = buffer.toString("utf8");
      let json: any;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ status, headers: responseHeaders, body: buffer, text, json, ms: performance.now() - t0, error, cut });
    };
    const request = http.request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method: spec.method, headers, agent: options.agent ?? false },
      (response) => {
        status = response.statusCode ?? 0;
        responseHeaders = response.headers;
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => finish());
        response.on("aborted", () => finish("aborted", true));
        response.on("error", (error) => finish(error.message, true));
      },
    );
    const timer = setTimeout(() => {
      request.destroy();
      finish("timeout", status !== 0);
    }, options.timeoutMs ?? 30_000);
    request.on("error", (error: NodeJS.ErrnoException) => finish(error.code ?? error.message, status !== 0));
    // A server may answer (413, 431) and close before the whole body is written: the answer still counts.
    request.on("close", () => {
      if (!done && status !== 0) setTimeout(() => finish(chunks.length ? undefined : "closed"), 50);
    });
    if (body !== undefined) request.end(body);
    else request.end();
  });
}

/** POST /graphql with a JSON body made of `payload`. */
export function postJson(payload: unknown, extraHeaders: Record<string, string> = {}): RequestSpec {
  return { method: "POST", path: "/graphql", headers: { "content-type": "application/json", ...extraHeaders }, body: JSON.stringify(payload) };
}

/** GET /graphql?query=…[&variables=…][&operationName=…]. */
export function getQuery(params: Record<string, string>, extraHeaders: Record<string, string> = {}): RequestSpec {
  const search = new URLSearchParams(params).toString();
  return { method: "GET", path: `/graphql?${search}`, headers: { ...extraHeaders } };
}

/** POST a GraphQL query and return the parsed answer (for setup and checks, not for the corpus). */
export async function gql(origin: string, query: string, variables?: Record<string, unknown>, options: { agent?: http.Agent | false; timeoutMs?: number } = {}): Promise<Answer> {
  return send(origin, postJson({ query, variables }), { agent: options.agent ?? keepAliveAgent, timeoutMs: options.timeoutMs });
}

/** True when a GraphQL answer is a 200 with data and no errors. */
export function ok(answer: Answer): boolean {
  return answer.status === 200 && !answer.error && answer.json !== undefined && answer.json.data != null && !answer.json.errors;
}

/** The first error's `extensions.code`, if any. */
export function firstCode(answer: Answer): string | undefined {
  const errors = answer.json?.errors;
  return Array.isArray(errors) ? errors[0]?.extensions?.code : undefined;
}

/** What a raw socket saw: when the server closed it, and what it wrote first. */
export interface SocketOutcome {
  /** ms from the first byte sent until the server closed the socket (null if still open at the cap). */
  closedAfterMs: number | null;
  /** The status line the server sent, if any. */
  statusLine: string | null;
  received: number;
}

/**
 * A slow client: writes `head` at once, then `drip` bytes every `dripEveryMs` (none when 0) and never finishes;
 * resolves when the server closes the socket or after `capMs`.
 */
export function stalledClient(origin: string, head: string, options: { drip?: string; dripEveryMs?: number; capMs: number }): Promise<SocketOutcome> {
  const url = new URL(origin);
  return new Promise((resolve) => {
    const t0 = performance.now();
    let received = "";
    let settled = false;
    let dripTimer: NodeJS.Timeout | null = null;
    const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => {
      socket.write(head);
      if (options.drip && options.dripEveryMs) {
        dripTimer = setInterval(() => {
          if (!socket.destroyed) socket.write(options.drip!);
        }, options.dripEveryMs);
      }
    });
    const settle = (closed: boolean) => {
      if (settled) return;
      settled = true;
      if (dripTimer) clearInterval(dripTimer);
      clearTimeout(cap);
      socket.destroy();
      const line = received.split("\r\n")[0];
      resolve({ closedAfterMs: closed ? performance.now() - t0 : null, statusLine: line ? line.slice(0, 200) : null, received: received.length });
    };
    const cap = setTimeout(() => settle(false), options.capMs);
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.on("end", () => settle(true));
    socket.on("close", () => settle(true));
    socket.on("error", () => settle(true));
  });
}

/** True when a TCP connection to the origin is refused (nothing listening). */
export function connectionRefused(origin: string, timeoutMs = 2000): Promise<boolean> {
  const url = new URL(origin);
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code === "ECONNREFUSED");
    });
  });
}
