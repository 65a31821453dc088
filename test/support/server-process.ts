/**
 * The compiled server as a child process on 127.0.0.1 (a free port), as
 * `npm start` runs it: for tests of what only a real process shows (two
 * instances on one database, a kill in the middle of a write).
 */
import { type ChildProcess, spawn } from "node:child_process";

import { COMPILED_MAIN, ROOT } from "./compiled";

/** Every child this file started: none outlives it. */
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) if (child.pid && child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGKILL");
});

/** A server process this file started. */
export interface ServerProcess {
  pid: number;
  url: string;
  /** SIGTERM, then SIGKILL after 15 s; resolves once the process has exited. */
  stop(): Promise<void>;
  /** SIGKILL at once, as a crash or the OOM killer would; resolves once the process has exited. */
  kill(): Promise<void>;
}

/** Starts the compiled server (dist/src/main.js, as `npm start` does) with `env` on 127.0.0.1 and a free port; resolves once it logs its URL. */
export async function startServerProcess(label: string, env: Record<string, string>): Promise<ServerProcess> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: "test", HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", SQL_STATEMENTS_HEADER: "true", ...env };
  for (const name of ["JEST_WORKER_ID", "NODE_OPTIONS", "MYSQL_URL", "DATABASE_URL", "SQLITE_PATH"]) if (!(name in env)) delete childEnv[name];
  const child = spawn(process.execPath, [COMPILED_MAIN], { cwd: ROOT, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  if (!child.pid) throw new Error(`could not spawn ${label}`);
  children.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      children.delete(child);
      resolve();
    }),
  );
  let output = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => (output = (output + chunk).slice(-20_000)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${label} did not start within 90 s:\n${output}`)), 90_000);
    const onData = (chunk: string) => {
      output = (output + chunk).slice(-20_000);
      const m = /Server ready at (http:\/\/\S+?\/graphql)/.exec(output);
      if (m) {
        cleanup();
        resolve(m[1]);
      }
    };
    const onExit = () => fail(new Error(`${label} exited during start-up:\n${output}`));
    const fail = (error: Error) => {
      cleanup();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      reject(error);
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      child.off("exit", onExit);
    };
    child.stdout!.on("data", onData);
    child.once("exit", onExit);
  });
  // The request log goes on; drained so that the pipe never fills.
  child.stdout!.resume();
  return {
    pid: child.pid,
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(child.pid!, "SIGTERM");
      const timer = setTimeout(() => child.exitCode === null && child.signalCode === null && process.kill(child.pid!, "SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, "SIGKILL");
      await exited;
    },
  };
}
