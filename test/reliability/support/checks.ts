import net from "node:net";

import type { CorpusEntry, Outcome } from "../corpus";
import { type Answer, firstCode, send } from "./http";

/** No error answer to a hostile request may be larger than this (error messages quote at most a short prefix). */
export const MAX_ERROR_BODY_BYTES = 8 * 1024;
/** Nor may the response headers grow with what the client sent. */
export const MAX_HEADER_BYTES = 8 * 1024;

/** What must never appear in an answer: stack traces, absolute paths, source locations. */
const LEAK = /stacktrace|node_modules|\/work\/|\/home\/|\/root\/|\/usr\/(?:lib|local|src)|dist\/src|\bat (?:async )?[\w$.<>[\]]+ \(|\.(?:js|ts):\d+:\d+/i;

export function leak(text: string): string | null {
  const m = LEAK.exec(text);
  if (!m) return null;
  const start = Math.max(0, m.index - 60);
  return text.slice(start, m.index + 80).replace(/\s+/g, " ");
}

function headerBytes(answer: Answer): number {
  let n = 0;
  for (const [name, value] of Object.entries(answer.headers)) n += name.length + 4 + (Array.isArray(value) ? value.join(", ").length : String(value ?? "").length);
  return n;
}

function matches(answer: Answer, outcome: Outcome): boolean {
  if (answer.status !== outcome.status) return false;
  if (outcome.code === undefined) return true;
  if (outcome.code === null) return answer.json !== undefined && answer.json.data != null && !answer.json.errors;
  return firstCode(answer) === outcome.code;
}

function describeAnswer(answer: Answer): string {
  if (answer.error && answer.status === 0) return `no answer (${answer.error})`;
  const code = firstCode(answer);
  const message = answer.json?.errors?.[0]?.message;
  return `${answer.status}${code ? ` ${code}` : ""}${message ? ` "${String(message).slice(0, 160)}"` : answer.json === undefined ? ` body "${answer.text.slice(0, 120).replace(/\s+/g, " ")}"` : ""}${answer.cut ? " (cut)" : ""}`;
}

/** Every problem with one answer to one corpus entry (empty when it is right). */
export function checkAnswer(entry: CorpusEntry, answer: Answer, options: { production: boolean }): string[] {
  const problems: string[] = [];
  const where = `[${entry.kind}] ${entry.name}`;
  const expected = entry.expect.map((o) => `${o.status}${o.code === null ? " ok" : o.code ? ` ${o.code}` : ""}`).join(" | ");
  if (!entry.expect.some((o) => matches(answer, o))) problems.push(`${where}: expected ${expected}, got ${describeAnswer(answer)}`);
  if (answer.cut && !entry.beforeApp) problems.push(`${where}: the answer was cut mid-body (${answer.error})`);
  if (entry.limit && answer.status === 400) {
    const ext = answer.json?.errors?.[0]?.extensions ?? {};
    const limit = entry.limit.value === "configured" ? ext.limit : entry.limit.value;
    if (entry.limit.value === "configured" ? typeof ext.limit !== "number" : ext.limit !== entry.limit.value) {
      problems.push(`${where}: extensions.limit is ${JSON.stringify(ext.limit)}, expected ${entry.limit.value === "configured" ? "the configured limit (a number)" : entry.limit.value}`);
    }
    if (entry.limit.measured === "over") {
      if (!(typeof ext.measured === "number" && typeof limit === "number" && ext.measured > limit)) problems.push(`${where}: extensions.measured is ${JSON.stringify(ext.measured)}, expected a number over ${limit}`);
    } else if (ext.measured !== entry.limit.measured) problems.push(`${where}: extensions.measured is ${JSON.stringify(ext.measured)}, expected ${entry.limit.measured}`);
  }
  const leaked = leak(answer.text) ?? leak(JSON.stringify(answer.headers));
  if (leaked) problems.push(`${where}: the answer leaks internals: …${leaked}…`);
  const isError = answer.status >= 400 || Boolean(answer.json?.errors);
  if (isError && answer.body.length > MAX_ERROR_BODY_BYTES) problems.push(`${where}: error answer of ${answer.body.length} bytes (> ${MAX_ERROR_BODY_BYTES})`);
  if (headerBytes(answer) > MAX_HEADER_BYTES) problems.push(`${where}: response headers of ${headerBytes(answer)} bytes`);
  if (!entry.beforeApp && answer.status !== 0 && answer.status !== 431 && !answer.headers["x-request-id"]) problems.push(`${where}: no x-request-id header (status ${answer.status})`);
  // A masked error (internal, or the database unavailable) names the request, so a user's report can be found in the log.
  for (const error of (answer.json?.errors ?? []) as Array<{ extensions?: Record<string, unknown> }>) {
    const code = error?.extensions?.code;
    if ((code === "INTERNAL_SERVER_ERROR" || code === "SERVICE_UNAVAILABLE") && (!error.extensions?.requestId || error.extensions.requestId !== answer.headers["x-request-id"])) {
      problems.push(`${where}: ${code} without extensions.requestId equal to x-request-id (${JSON.stringify(error.extensions?.requestId)} vs ${JSON.stringify(answer.headers["x-request-id"])})`);
    }
  }
  if (options.production) {
    for (const error of (answer.json?.errors ?? []) as Array<{ message?: string; extensions?: Record<string, unknown> }>) {
      if (/did you mean/i.test(String(error?.message))) problems.push(`${where}: suggestion in production: "${String(error.message).slice(0, 120)}"`);
      if (error?.extensions && "stacktrace" in error.extensions) problems.push(`${where}: stacktrace in extensions`);
    }
  }
  return problems;
}

/** Sends a corpus entry: an HTTP request, or raw bytes on a socket (the status line parsed from what comes back). */
export async function sendEntry(origin: string, entry: CorpusEntry): Promise<Answer> {
  if (entry.raw === undefined) return send(origin, entry.request, { timeoutMs: 30_000, agent: false });
  const url = new URL(origin);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => socket.write(entry.raw!, "latin1"));
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const buffer = Buffer.concat(chunks);
      const text = buffer.toString("latin1");
      const [head, ...rest] = text.split("\r\n\r\n");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of head.split("\r\n").slice(1)) {
        const i = line.indexOf(":");
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const body = Buffer.from(rest.join("\r\n\r\n"), "latin1");
      let json: any;
      try {
        json = JSON.parse(body.toString("utf8"));
      } catch {
        json = undefined;
      }
      resolve({ status, headers, body, text: body.toString("utf8"), json, ms: performance.now() - t0, error: status ? undefined : "no status line" });
    };
    const timer = setTimeout(done, 5000);
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      // One answer is enough: stop once the head and a Content-Length's worth of body are in.
      const text = Buffer.concat(chunks).toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      const length = Number(/content-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1] ?? NaN);
      if (end > 0 && Number.isFinite(length) && text.length >= end + 4 + length) done();
    });
    socket.on("close", done);
    socket.on("error", done);
  });
}
