import { execFileSync } from "node:child_process";

import { createConnection } from "mysql2/promise";

import { ROOT } from "./compiled";

/**
 * Before any test: build the compiled server; when MYSQL_URL is set, check the server answers. Under CI
 * an unreachable (or unset) MySQL fails the run instead of silently skipping
 * the MySQL half of the contract tests; on a laptop it is skipped with a note.
 */
export default async function globalSetup(): Promise<void> {
  // The compiled server, for the tests that start it as a process (test/support/compiled.ts); incremental, so a
  // second run with nothing changed costs a few seconds.
  execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
  const url = process.env.MYSQL_URL;
  if (!url) {
    if (process.env.CI) throw new Error("CI is set but MYSQL_URL is not: the contract tests must also run on MySQL in CI");
    process.stderr.write("\nMYSQL_URL is not set: the contract tests run on the embedded SQLite default only.\n");
    return;
  }
  try {
    const connection = await createConnection({ uri: url, connectTimeout: 5000 });
    await connection.query("SELECT 1");
    await connection.end();
  } catch (error) {
    if (process.env.CI) throw new Error(`CI is set and MySQL at MYSQL_URL is unreachable: ${(error as Error).message}`);
    process.stderr.write(`\nMySQL at MYSQL_URL is unreachable (${(error as Error).message}); its tests are skipped.\n`);
    delete process.env.MYSQL_URL;
  }
}
