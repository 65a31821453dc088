/**
 * The benchmark's servers as child processes (the compiled server, its instances, the floor): started with
 * `startChild`, which waits until one answers GET /health, stopped with `stopChild`, their peak RSS read from
 * /proc; and every one still running is killed when this process ends, however it ends (the handlers are
 * installed when this module is loaded).
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** The repository: children run from its root. */
const ROOT = path.resolve(__dirname, "..");

const children = new Set<ChildProcess>();

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

process.on("exit", () => {
  for (const child of children) if (alive(child)) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    process.stderr.write(`\n${signal}: stopping the benchmark and its servers\n`);
    for (const child of children) if (alive(child)) child.kill("SIGTERM");
    setTimeout(() => process.exit(130), 300).unref();
  });
}

export interface Started {
  child: ChildProcess;
  /** Base URL, e.g. http://127.0.0.1:41234 */
  origin: string;
  /** URL printed by the child (GraphQL endpoint or floor root). */
  url: string;
  startSeconds: number;
}

/**
 * Spawns `node <args>` and waits for the line "… ready at <url>" on its stdout and for GET /health to answer 200.
 * Its stdout (the server's JSON log, a line per request) goes to a file, as a server in service logs to a file or
 * journald: piped into this process, it would be read by the same event loop that drives the load.
 */
export async function startChild(label: string, args: string[], env: Record<string, string>, stdin?: string): Promise<Started> {
  const t0 = performance.now();
  const logFile = path.join(os.tmpdir(), `mp-bench-${label.replace(/\W+/g, "-")}-${process.pid}.log`);
  const log = fs.openSync(logFile, "w");
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: [stdin === undefined ? "ignore" : "pipe", log, "pipe"],
  });
  fs.closeSync(log);
  child.on("exit", () => fs.rmSync(logFile, { force: true }));
  children.add(child);
  child.on("exit", () => children.delete(child));
  if (stdin !== undefined) child.stdin!.end(stdin);
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`${label} did not start within 180 s\n${stderr}`)), 180_000);
    const poll = setInterval(() => {
      const m = /ready at (http:\/\/[^\s"]+)/.exec(fs.readFileSync(logFile, "utf8").slice(0, 100_000));
      if (m) finish(null, m[1]);
    }, 100);
    const onExit = (code: number | null, signal: string | null) => finish(new Error(`${label} exited during start-up (${signal ?? `code ${code}`}):\n${stderr.trim()}`));
    child.once("exit", onExit);
    function finish(error: Error | null, found?: string) {
      clearTimeout(timer);
      clearInterval(poll);
      child.off("exit", onExit);
      if (error) reject(error);
      else resolve(found!);
    }
  });
  const origin = new URL(url).origin;
  for (let i = 0; ; i++) {
    try {
      const response = await fetch(`${origin}/health`);
      await response.arrayBuffer();
      if (response.ok) break;
    } catch {
      // not yet
    }
    if (i > 600 || !alive(child)) throw new Error(`${label} does not answer GET /health\n${stderr}`);
    await sleep(100);
  }
  return { child, origin, url, startSeconds: (performance.now() - t0) / 1000 };
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (!alive(child)) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Peak resident set size (VmHWM) of a live process, in KiB. */
export function peakRssKiB(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
