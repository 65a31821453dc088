/**
 * A redis-server of the test's own, as a child process on 127.0.0.1 and a
 * free port, keeping nothing on disk: tests that stop, freeze or restart
 * Redis do it to this one, never to the shared server on 6379. Stopped and
 * killed by the pid it was started with.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

/** The redis-server binary on PATH (or in /usr/sbin, /usr/local/bin), null when there is none. */
export const REDIS_SERVER_BINARY: string | null = findBinary("redis-server");

/** Every child this file started: none outlives the test process. */
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) if (child.pid && child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGKILL");
});

/** A redis-server this file runs; `start` again after `stop` brings it back on the same port, empty. */
export interface OwnRedis {
  port: number;
  /** redis://127.0.0.1:<port> */
  url: string;
  /** The pid of the running process (null while stopped). */
  readonly pid: number | null;
  /** Starts the server (again) on `port`; resolves once it answers PING. */
  start(): Promise<void>;
  /** SIGKILL to the pid this file started (Redis gone without a goodbye, as a crash or a lost host); resolves once it has exited. */
  stop(): Promise<void>;
  /** SIGSTOP: the server keeps its sockets open and answers nothing (a hung host, a half-open connection). */
  freeze(): void;
  /** SIGCONT after `freeze`. */
  thaw(): void;
  /** Stops it for good and removes its directory (for afterAll). */
  dispose(): Promise<void>;
}

/** A port nothing listens on right now (the kernel's pick, the listener closed at once). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server of this test's own on a free port; started unless `started` is false (then `start()` it when the test wants it up). */
export async function ownRedis(options: { started?: boolean } = {}): Promise<OwnRedis> {
  if (!REDIS_SERVER_BINARY) throw new Error("no redis-server binary on this machine");
  const binary = REDIS_SERVER_BINARY;
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mp-redis-"));
  let child: ChildProcess | null = null;
  let output = "";
  const redis: OwnRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid ?? null;
    },
    async start() {
      if (child) throw new Error("this redis-server is running already");
      const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir, "--logfile", ""];
      const started = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
      if (!started.pid) throw new Error("could not spawn redis-server");
      child = started;
      children.add(started);
      started.once("exit", () => {
        children.delete(started);
        if (child === started) child = null;
      });
      for (const stream of [started.stdout!, started.stderr!]) {
        stream.setEncoding("utf8");
        stream.on("data", (chunk: string) => (output = (output + chunk).slice(-10_000)));
      }
      const deadline = Date.now() + 10_000;
      while (!(await answersPing(port))) {
        if (child !== started) throw new Error(`redis-server on ${port} exited during start-up:\n${output}`);
        if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer PING within 10 s:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
      process.kill(running.pid!, "SIGKILL");
      await exited;
    },
    freeze() {
      if (child?.pid) process.kill(child.pid, "SIGSTOP");
    },
    thaw() {
      if (child?.pid) process.kill(child.pid, "SIGCONT");
    },
    async dispose() {
      redis.thaw();
      await redis.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  if (options.started !== false) await redis.start();
  return redis;
}

/** True when something on 127.0.0.1:`port` answers PING with PONG within a second. */
async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let reply = "";
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1_000);
    socket.once("error", () => done(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}

function findBinary(name: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin", "/usr/local/bin", "/usr/bin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}
