import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { admin, createScratchDatabase, dropOrphanedDatabases, mysqlServerUrl, ROOT, seed } from "./mariadb";
import { resetResults } from "./results";

/**
 * Once per run: the compiled server must exist (`npm run test:reliability` builds it first), MariaDB must answer,
 * and the suite gets a database of its own, migrated and seeded by the product's seed command. Its URL is handed to
 * the test files as REL_DATABASE_URL; the global teardown drops it.
 */
export default async function globalSetup(): Promise<void> {
  if (!fs.existsSync(path.join(ROOT, "dist/src/main.js"))) {
    throw new Error("dist/src/main.js is missing: run `npm run build` (npm run test:reliability does) before the reliability suite");
  }
  let version: string;
  try {
    version = (await admin<Array<{ v: string }>>("SELECT VERSION() AS v"))[0].v;
  } catch (error) {
    throw new Error(`The reliability suite needs MariaDB at MYSQL_URL (${mysqlServerUrl().replace(/\/\/[^@/]*@/, "//***@")}): ${(error as Error).message}`);
  }
  const orphans = await dropOrphanedDatabases();
  const t0 = performance.now();
  const scratch = await createScratchDatabase();
  process.env.REL_DATABASE_URL = scratch.url;
  process.env.REL_DATABASE_NAME = scratch.name;
  let seeded: string;
  try {
    seeded = await seed(scratch.url);
  } catch (error) {
    await admin(`DROP DATABASE IF EXISTS \`${scratch.name}\``);
    throw error;
  }
  let commit = "";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    // not a git checkout
  }
  resetResults({
    startedAt: new Date().toISOString(),
    commit,
    node: process.version,
    mariadb: version,
    database: scratch.name,
    seedSeconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
    seed: seeded,
  });
  process.stdout.write(`\n[reliability] database ${scratch.name} seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s (${seeded})${orphans.length ? `; dropped orphans ${orphans.join(", ")}` : ""}\n`);
}
