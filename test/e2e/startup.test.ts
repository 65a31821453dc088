/**
 * Start-up as an operator sees it: a bad setting or an unreachable database
 * stops the process with one clear line; the embedded default seeds itself on
 * first start, and says so, and a MySQL start never seeds; the log names the
 * address it listens on and where a browser opens the explorer.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { loadConfig } from "../../src/config";
import { openDatabase } from "../../src/db/open-database";
import { COMPILED_MAIN, ROOT } from "../support/compiled";
import { createScratchDatabase } from "../support/databases";

/** Runs the compiled entry point, as `npm start` does, with the given environment until it exits (it must, on a bad setting). */
function start(env: Record<string, string>): { status: number | null; stderr: string; stdout: string } {
  const result = spawnSync(process.execPath, [COMPILED_MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", SQLITE_PATH: ":memory:", ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, stderr: result.stderr, stdout: result.stdout };
}

/** A server started as `npm start` runs it, until it said it is ready. */
interface Started {
  /** Everything it wrote (stdout and stderr) until it said it was ready, the log's messages one per line. */
  messages: string;
  stop(): Promise<void>;
}

/** Starts the compiled entry point with `env` (PORT 0: a free port) and waits for its "Server ready" line; it is stopped by SIGTERM. */
async function startUntilReady(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [COMPILED_MAIN], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", PORT: "0", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const messages = () =>
    output
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        try {
          return String(JSON.parse(line).msg);
        } catch {
          return line;
        }
      })
      .join("\n");
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + 60_000;
  while (!/Server ready at/.test(output)) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      await exited;
      throw new Error(`the server did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { messages: messages(), stop };
}

describe("start-up", () => {
  it.each([
    ["PORT", { PORT: "abc" }],
    ["PORT", { PORT: "99999" }],
    ["DATABASE_URL", { DATABASE_URL: "postgres://u:secret@localhost/db" }],
    ["DATABASE_URL", { DATABASE_URL: "mysql://root@127.0.0.1:3306" }],
    ["NODE_ENV", { NODE_ENV: "staging" }],
    ["LOG_SQL", { LOG_SQL: "perhaps" }],
  ])("a bad %s stops it with one line naming the setting", (setting, env) => {
    const { status, stderr } = start(env);
    expect(status).toBe(1);
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^Configuration error: ${setting} `));
    expect(stderr).not.toMatch(/secret/);
  });

  it("an unreachable database stops it with one line naming DATABASE_URL", () => {
    const { status, stderr } = start({ DATABASE_URL: "mysql://root:secret@127.0.0.1:1/projects" });
    expect(status).toBe(1);
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Database error: cannot open MySQL at DATABASE_URL/);
    expect(stderr).not.toMatch(/secret/);
  });

  it("says it seeded the embedded database on its first start, how many projects, and found it seeded on the next", async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "mp-startup-"));
    const file = path.join(directory, "projects.sqlite");
    try {
      const first = await startUntilReady({ SQLITE_PATH: file, HOST: "127.0.0.1" });
      await first.stop();
      expect(first.messages).toContain(`seeded the embedded database on its first start: 1337 projects, 1 meeting, 175 regions (SQLite ${file})`);
      expect(first.messages).not.toMatch(/seeded already/);

      const second = await startUntilReady({ SQLITE_PATH: file, HOST: "127.0.0.1" });
      await second.stop();
      expect(second.messages).toContain(`the embedded database was seeded already: 1337 projects (SQLite ${file})`);
      expect(second.messages).not.toMatch(/on its first start/);
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  it("names the address it listens on: every interface by default, with the explorer's address on this machine", async () => {
    const server = await startUntilReady({ SQLITE_PATH: ":memory:" });
    try {
      const m = /listening on http:\/\/0\.0\.0\.0:(\d+) \(all interfaces\); open http:\/\/localhost:(\d+)\/explorer$/m.exec(server.messages);
      expect(m).not.toBeNull();
      const [, port, explorerPort] = m!;
      expect(explorerPort).toBe(port);
      expect(Number(port)).toBeGreaterThan(0); // PORT=0: the port it really got, not the setting
      // The address it names is the one it answers on.
      const explorer = await fetch(`http://127.0.0.1:${port}/explorer`);
      expect(explorer.status).toBe(200);
      expect(await explorer.text()).toContain("<title>");
      expect(server.messages).not.toMatch(/listening on http:\/\/localhost/);
    } finally {
      await server.stop();
    }
  });

  it("names one interface when HOST sets it", async () => {
    const server = await startUntilReady({ SQLITE_PATH: ":memory:", HOST: "127.0.0.1" });
    try {
      const m = /Server ready at http:\/\/127\.0\.0\.1:(\d+)\/graphql \(SQLite :memory:\): listening on http:\/\/127\.0\.0\.1:(\d+); open http:\/\/127\.0\.0\.1:(\d+)\/explorer$/m.exec(server.messages);
      expect(m).not.toBeNull();
      expect(new Set(m!.slice(1)).size).toBe(1);
      expect(server.messages).not.toMatch(/all interfaces/);
      const health = await fetch(`http://127.0.0.1:${m![1]}/health`);
      expect([health.status, await health.json()]).toEqual([200, { status: "ok" }]);
    } finally {
      await server.stop();
    }
  });

  it("the embedded default is migrated and seeded on its first start", async () => {
    const scratch = await createScratchDatabase("sqlite");
    try {
      const db = await openDatabase({ ...loadConfig({}), database: scratch.config });
      expect(Number((await db.query("SELECT COUNT(*) AS n FROM project"))[0].n)).toBe(1337);
      await db.destroy();
    } finally {
      await scratch.drop();
    }
  });

  (process.env.MYSQL_URL ? it : it.skip)("a MySQL start migrates but never seeds", async () => {
    const scratch = await createScratchDatabase("mysql");
    try {
      const db = await openDatabase({ ...loadConfig({}), database: scratch.config });
      expect(Number((await db.query("SELECT COUNT(*) AS n FROM region"))[0].n)).toBe(0);
      expect(await db.showMigrations()).toBe(false);
      await db.destroy();
    } finally {
      await scratch.drop();
    }
  });
});
