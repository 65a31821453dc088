/**
 * Start-up as an operator sees it: a bad setting or an unreachable database
 * stops the process with one clear line; the embedded default seeds itself on
 * first start and a MySQL start never seeds.
 */
import { spawnSync } from "node:child_process";

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
