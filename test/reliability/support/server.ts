import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { send } from "./http";
import { freePort, ROOT } from "./mariadb";

/** The V8 flags of `npm start` (package.json's start script is their one home), so the suite runs what production runs. */
export const START_FLAGS: string[] = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts.start as string)
  .split(/\s+/)
  .filter((token) => token.startsWith("--"));

/** Every child this process started, so that none outlives it whatever happens to a test. */
const started = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of started) if (child.pid && child.exitCode === null && child.signalCode === null) safeKill(child.pid, "SIGKILL");
});

export function safeKill(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}


/** The child's stdout, line by line (pino's JSON lines and the start-up line). */
export class LogLines {
  readonly lines: string[] = [];
  private partial = "";
  private readonly max = 400_000;

  push(chunk: string): void {
    const parts = (this.partial + chunk).split("\n");
    this.partial = parts.pop() ?? "";
    for (const line of parts) {
      if (this.lines.length >= this.max) this.lines.shift();
      this.lines.push(line);
    }
  }

  /** Lines since a mark (see `mark`). */
  since(mark: number): string[] {
    return this.lines.slice(mark);
  }

  mark(): number {
    return this.lines.length;
  }

  /** Lines parsed as JSON (the others skipped). */
  json(from = 0): Array<Record<string, any>> {
    const out: Array<Record<string, any>> = [];
    for (const line of this.lines.slice(from)) {
      if (!line.startsWith("{")) continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        // not JSON
      }
    }
    return out;
  }

  text(from = 0): string {
    return this.lines.slice(from).join("\n") + (this.partial ? `\n${this.partial}` : "");
  }
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when it exited. */
  at: number;
}

export interface ServerChild {
  /** The process spawned: node itself, or npm for `viaNpm`. */
  proc: ChildProcess;
  pid: number;
  port: number;
  /** http://127.0.0.1:<port> */
  origin: string;
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  env: Record<string, string>;
  logs: LogLines;
  stderr(): string;
  alive(): boolean;
  exited: Promise<ExitInfo>;
  startSeconds: number;
  /** Sends a signal and waits for the exit (SIGKILL after `timeoutMs`, which the result says). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitInfo & { ms: number; killed: boolean }>;
}

export interface StartOptions {
  /** Settings on top of the suite's defaults (HOST, PORT, DATABASE_URL, NODE_ENV=production). */
  env?: Record<string, string>;
  /** Start as `npm start --ignore-scripts` (the build already ran) instead of node with the start script's flags. */
  viaNpm?: boolean;
  startTimeoutMs?: number;
}

/**
 * Starts the compiled server (dist/src/main.js) as `npm start` runs it, on 127.0.0.1 and a free port, and waits until
 * it is ready: the line "Server ready at" on stdout, or GET /health/live answering 200.
 */
export async function startServer(options: StartOptions = {}): Promise<ServerChild> {
  const port = await freePort();
  const env: Record<string, string> = {
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: String(port),
    DATABASE_URL: process.env.REL_DATABASE_URL ?? "",
    ...options.env,
  };
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  // Settings of the test runner must not leak into the server.
  for (const name of ["REL_DATABASE_URL", "REL_DATABASE_NAME", "JEST_WORKER_ID", "NODE_OPTIONS"]) delete childEnv[name];
  const t0 = performance.now();
  const proc = options.viaNpm
    ? spawn("npm", ["start", "--ignore-scripts"], { cwd: ROOT, env: childEnv, stdio: ["ignore", "pipe", "pipe"] })
    : spawn(process.execPath, [...START_FLAGS, path.join(ROOT, "dist/src/main.js")], { cwd: ROOT, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  if (!proc.pid) throw new Error("could not spawn the server");
  started.add(proc);
  const logs = new LogLines();
  let stderr = "";
  proc.stdout!.setEncoding("utf8");
  proc.stderr!.setEncoding("utf8");
  proc.stdout!.on("data", (chunk: string) => logs.push(chunk));
  proc.stderr!.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = new Promise<ExitInfo>((resolve) => {
    proc.once("exit", (code, signal) => {
      started.delete(proc);
      resolve({ code, signal, at: performance.now() });
    });
  });
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  let ready = false;
  while (!ready) {
    if (!alive()) throw new Error(`the server exited during start-up (code ${proc.exitCode}, signal ${proc.signalCode}):\n${stderr}\n${logs.text()}`);
    if (Date.now() > deadline) {
      safeKill(proc.pid, "SIGKILL");
      throw new Error(`the server was not ready within ${options.startTimeoutMs ?? 60_000} ms:\n${stderr}\n${logs.text()}`);
    }
    if (/Server ready at/.test(logs.text())) ready = true;
    else {
      // (node:http without keep-alive rather than fetch, whose pooled sockets would outlive the test)
      ready = (await send(origin, { method: "GET", path: "/health/live" }, { timeoutMs: 1000, agent: false })).status === 200;
    }
    if (!ready) await sleep(100);
  }
  const startSeconds = (performance.now() - t0) / 1000;
  const child: ServerChild = {
    proc,
    pid: proc.pid,
    port,
    origin,
    url: `${origin}/graphql`,
    env,
    logs,
    stderr: () => stderr,
    alive,
    exited,
    startSeconds,
    async stop(signal = "SIGTERM", timeoutMs = 15_000) {
      const t = performance.now();
      if (!alive()) return { ...(await exited), ms: 0, killed: false };
      safeKill(proc.pid!, signal);
      const timer = idle(timeoutMs).then(() => null);
      const result = await Promise.race([exited, timer]);
      if (result) return { ...result, ms: result.at - t, killed: false };
      safeKill(proc.pid!, "SIGKILL");
      const forced = await exited;
      return { ...forced, ms: forced.at - t, killed: true };
    },
  };
  return child;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A sleep that does not keep the process alive (for the losing side of a race). */
export function idle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Pids of every descendant of a process (from /proc), deepest last. */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid …; comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = parents.get(ppid) ?? [];
      list.push(Number(entry));
      parents.set(ppid, list);
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of parents.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** The command line of a process, or null when it is gone. */
export function commandLine(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return null;
  }
}
