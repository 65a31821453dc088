import "reflect-metadata";

import { runCommand } from "../common/cli";
import { loadConfig } from "../config";
import { bumpTreeVersion } from "../db/data-version";
import { openDatabase } from "../db/open-database";
import { rebuildRollups, verifyRollups } from "./rollups";

const USAGE = "usage: npm run rollups -- verify | rebuild";

/**
 * `npm run rollups -- verify`: recomputes every rollup from the base tables and
 * prints each difference (exit 1 if any). `npm run rollups -- rebuild`:
 * recomputes them in one transaction and bumps the data version.
 */
async function main(command: string | undefined): Promise<number> {
  if (command !== "verify" && command !== "rebuild") {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const config = loadConfig();
  const db = await openDatabase(config);
  try {
    if (command === "rebuild") {
      const started = Date.now();
      await db.transaction(async (em) => {
        await rebuildRollups(em);
        await bumpTreeVersion(em);
      });
      process.stdout.write(`rollups rebuilt in ${Date.now() - started} ms\n`);
      return 0;
    }
    const differences = await verifyRollups(db);
    for (const d of differences) {
      process.stdout.write(
        `${d.table} ${JSON.stringify(d.key)}: stored ${d.stored ? `${d.stored.projectCount} projects, ${d.stored.investmentWan} 万元` : "nothing"}, base tables say ${d.expected ? `${d.expected.projectCount} projects, ${d.expected.investmentWan} 万元` : "nothing"}\n`,
      );
    }
    process.stdout.write(differences.length ? `${differences.length} differences\n` : "rollups match the base tables\n");
    return differences.length ? 1 : 0;
  } finally {
    await db.destroy();
  }
}

runCommand("rollups", () => main(process.argv[2]));
