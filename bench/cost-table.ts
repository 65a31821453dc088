/**
 * What a dozen BI breakdowns cost, against the real server on the seeded data
 * (README, "Limits"): for each, the cost the server measured (from its access
 * log when it answered, from the refusal's `measured` when it refused), whether
 * the default MAX_COST let it through, and the rows it has.
 *
 *   npx ts-node --transpile-only bench/cost-table.ts [--mysql mysql://root@127.0.0.1:3306] [--json out.json] [--before before.json]
 *
 * Two states of the data:
 * - "seeded": the shipped data on a fresh SQLite database, as `npm start` makes it;
 * - "gap" (with --mysql): the shipped data on MariaDB after an insert of 100,000+
 *   projects was rolled back (as a failed import is: InnoDB does not give the ids
 *   back, so the largest project id is far above the number of projects), then one
 *   project created through the ledger.
 * Each state gets two servers on the same database: one with the default limits
 * (the cost and the verdict) and one with MAX_COST raised (the rows, whatever the
 * verdict). `--json` writes the measurements; `--before` reads those of a run of
 * this script on the code before a change (a copy of the tree at that commit) and
 * prints the table with both.
 */
import "reflect-metadata";

import fs from "node:fs";
import { Writable } from "node:stream";

import pino from "pino";
import type { DataSource } from "typeorm";

import { loadConfig } from "../src/config";
import { openDatabase } from "../src/db/open-database";
import { SYSTEM_ACTOR } from "../src/ledger/actor";
import { systemLedger } from "../src/ledger/system-ledger";
import { seedDatabase } from "../src/seed/seed";
import { createObservability } from "../src/server/observability";
import { startServer } from "../src/server/server";
import { createScratchDatabase, type DbKind } from "../test/support/databases";

/** The breakdowns: dimensions, level, filter, and a label. Each row selects its dimensions (code and name), projectCount and totalInvestment. */
export const BREAKDOWNS: ReadonlyArray<{ label: string; groupBy: string[]; regionLevel?: string; filter?: string }> = [
  { label: "REGION × SECTOR, CITY", groupBy: ["REGION", "SECTOR"], regionLevel: "CITY" },
  { label: "REGION × SECTOR, COUNTY", groupBy: ["REGION", "SECTOR"], regionLevel: "COUNTY" },
  { label: "REGION × SECTOR × QUARTER, COUNTY", groupBy: ["REGION", "SECTOR", "QUARTER"], regionLevel: "COUNTY" },
  { label: "REGION × SECTOR × QUARTER, COUNTY, in 郑州 (410100)", groupBy: ["REGION", "SECTOR", "QUARTER"], regionLevel: "COUNTY", filter: `{ regionCodes: ["410100"] }` },
  { label: "REGION × STAGE × YEAR, CITY", groupBy: ["REGION", "STAGE", "YEAR"], regionLevel: "CITY" },
  { label: "REGION × STAGE × YEAR, COUNTY", groupBy: ["REGION", "STAGE", "YEAR"], regionLevel: "COUNTY" },
  { label: "REGION × STAGE, COUNTY, at least 10 亿元", groupBy: ["REGION", "STAGE"], regionLevel: "COUNTY", filter: `{ minInvestment: 10 }` },
  { label: "MEETING × STAGE", groupBy: ["MEETING", "STAGE"] },
  { label: "MEETING × REGION × SECTOR, COUNTY", groupBy: ["MEETING", "REGION", "SECTOR"], regionLevel: "COUNTY" },
  { label: "SECTOR × QUARTER", groupBy: ["SECTOR", "QUARTER"] },
  { label: "SECTOR × YEAR × QUARTER, started (milestone STARTED)", groupBy: ["SECTOR", "YEAR", "QUARTER"], filter: `{ milestone: { stage: STARTED } }` },
  { label: "REGION × SECTOR × STAGE, COUNTY", groupBy: ["REGION", "SECTOR", "STAGE"], regionLevel: "COUNTY" },
  { label: "REGION × SECTOR × STAGE × QUARTER, COUNTY", groupBy: ["REGION", "SECTOR", "STAGE", "QUARTER"], regionLevel: "COUNTY" },
  { label: "REGION × SECTOR × STAGE × QUARTER, COUNTY, started", groupBy: ["REGION", "SECTOR", "STAGE", "QUARTER"], regionLevel: "COUNTY", filter: `{ stages: [STARTED] }` },
];

const SELECTION: Record<string, string> = {
  REGION: "region { code name }",
  SECTOR: "sector { code name }",
  STAGE: "stage",
  MEETING: "meeting { id title }",
  YEAR: "year",
  QUARTER: "year quarter",
};

/** The query of breakdown `i`, named so that the access log tells it apart (and no finished-response cache answers it). */
export function breakdownQuery(i: number, name = `CostTable${i}`): string {
  const b = BREAKDOWNS[i];
  const args = [`groupBy: [${b.groupBy.join(", ")}]`, b.regionLevel ? `regionLevel: ${b.regionLevel}` : "", b.filter ? `filter: ${b.filter}` : ""].filter(Boolean).join(", ");
  const fields = [...new Set(b.groupBy.map((d) => SELECTION[d]))].join(" ");
  return `query ${name} { breakdown(${args}) { ${fields} projectCount totalInvestment } }`;
}

interface Measured {
  cost: number;
  refused: boolean;
  rows: number;
  bytes: number;
}
type Results = Record<string, Measured[]>;

/** Access-log lines, by operation name. */
function logCapture(): { stream: Writable; costOf(operation: string): number | undefined } {
  const costs = new Map<string, number>();
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) {
        if (!line.trim()) continue;
        const entry = JSON.parse(line) as { msg?: string; operation?: string; cost?: number };
        if (entry.msg === "request" && entry.operation && typeof entry.cost === "number") costs.set(entry.operation, entry.cost);
      }
      done();
    },
  });
  return { stream, costOf: (operation) => costs.get(operation) };
}

async function post(url: string, query: string): Promise<{ body: any; bytes: number }> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) });
  const text = await response.text();
  return { body: JSON.parse(text), bytes: Buffer.byteLength(text) };
}

/** Burns ids as a failed import does on MariaDB: 1,337 × 2^7 = 171,136 projects inserted in one transaction, then rolled back. */
export async function burnProjectIds(db: DataSource): Promise<void> {
  const runner = db.createQueryRunner();
  await runner.connect();
  try {
    await runner.startTransaction();
    const columns = "name, region_id, sector_id, stage, stage_reached_on, investment_wan, synthetic, version";
    for (let i = 0; i < 7; i++) await runner.query(`INSERT INTO project (${columns}) SELECT ${columns} FROM project`);
    await runner.rollbackTransaction();
  } finally {
    await runner.release();
  }
}

async function measureState(kind: DbKind, gap: boolean): Promise<Measured[]> {
  const scratch = await createScratchDatabase(kind);
  const config = { ...loadConfig({ PORT: "0", HOST: "127.0.0.1", NODE_ENV: "test", LOG_LEVEL: "info" }), database: scratch.config };
  const db = await openDatabase(config);
  try {
    if (kind === "mysql") await seedDatabase(db);
    if (gap) {
      await burnProjectIds(db);
      await systemLedger(db).createProject(SYSTEM_ACTOR, { name: "回滚之后的项目", regionCode: "410102", sectorCode: "MFG_EQUIP", investment: 2.5, reachedOn: "2023-05-06" });
      const [{ largest, count }] = await db.query("SELECT MAX(id) AS largest, COUNT(*) AS count FROM project");
      process.stderr.write(`${kind}: ${count} projects, largest id ${largest}\n`);
    }
    const log = logCapture();
    const limited = await startServer(config, db, createObservability("info", pino({ level: "info" }, log.stream)));
    const raised = await startServer({ ...config, limits: { ...config.limits, cost: 1_000_000_000, responseBytes: 1_000_000_000 } }, db, createObservability("silent"));
    try {
      const out: Measured[] = [];
      for (let i = 0; i < BREAKDOWNS.length; i++) {
        const name = `CostTable${i}`;
        const verdict = await post(limited.url, breakdownQuery(i, name));
        const answer = await post(raised.url, breakdownQuery(i, `${name}Rows`));
        if (answer.body.errors) throw new Error(`${BREAKDOWNS[i].label}: ${JSON.stringify(answer.body.errors)}`);
        const error = verdict.body.errors?.[0];
        if (error && error.extensions?.code !== "QUERY_TOO_COMPLEX") throw new Error(`${BREAKDOWNS[i].label}: ${error.message}`);
        // The access line is written once the response has finished; wait for it.
        let cost = error ? Number(error.extensions.measured) : log.costOf(name);
        for (let tries = 0; cost === undefined && tries < 50; tries++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          cost = log.costOf(name);
        }
        if (cost === undefined) throw new Error(`${BREAKDOWNS[i].label}: no cost in the access log`);
        out.push({ cost, refused: Boolean(error), rows: answer.body.data.breakdown.length, bytes: answer.bytes });
      }
      return out;
    } finally {
      await limited.close();
      await raised.close();
    }
  } finally {
    await db.destroy();
    await scratch.drop();
  }
}

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const n = (value: number) => value.toLocaleString("en-US");
const cell = (m: Measured | undefined) => (m ? `${n(m.cost)}${m.refused ? " **refused**" : ""}` : "n/a");

async function main(): Promise<void> {
  const mysql = argument("--mysql");
  if (mysql) process.env.MYSQL_URL = mysql;
  const results: Results = { seeded: await measureState("sqlite", false) };
  if (mysql) results.gap = await measureState("mysql", true);
  const json = argument("--json");
  if (json) fs.writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  const beforePath = argument("--before");
  const before: Results | undefined = beforePath ? JSON.parse(fs.readFileSync(beforePath, "utf8")) : undefined;

  const states = Object.keys(results);
  const title: Record<string, string> = { seeded: "shipped data", gap: "after a rolled-back import" };
  const head = ["breakdown", "rows", ...states.flatMap((s) => (before ? [`${title[s]}: before`, `${title[s]}: after`] : [title[s]]))];
  const lines = [`| ${head.join(" | ")} |`, `| ${head.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`];
  BREAKDOWNS.forEach((b, i) => {
    const rows = results.seeded[i];
    for (const s of states) {
      // The data is the same before and after a change: so must the rows be.
      if (before?.[s] && before[s][i].rows !== results[s][i].rows) throw new Error(`${b.label}: ${before[s][i].rows} rows before, ${results[s][i].rows} after (${s})`);
    }
    // The rows of each state when they differ (the project created after the rolled-back import can add one).
    const rowsCell = `${states.map((s) => n(results[s][i].rows)).filter((r, k, all) => all.indexOf(r) === k).join(" / ")} (${(rows.bytes / 1024).toFixed(0)} KB)`;
    const cells = states.flatMap((s) => (before ? [cell(before[s]?.[i]), cell(results[s][i])] : [cell(results[s][i])]));
    lines.push(`| \`${b.groupBy.join(", ")}\`${b.regionLevel ? ` at ${b.regionLevel}` : ""}${b.filter ? `, \`filter: ${b.filter}\`` : ""} | ${rowsCell} | ${cells.join(" | ")} |`);
  });
  process.stdout.write(`${lines.join("\n")}\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exit(1);
    },
  );
}
