/**
 * SQL statements per request do not grow with the answer: the
 * province-to-county query with stats, bySector and byStage at all three
 * levels costs at most 3 statements, on Henan alone and on the whole national
 * tree (31 provinces down to 2,851 counties), with 10 projects or 10,000.
 * Measured at the driver (the x-sql-statements header), cross-request cache off,
 * and the cost limit raised: the whole nation at once is more than it allows.
 */
import { ensureBenchData } from "../../bench/generate";
import { loadConfig } from "../../src/config";
import { openDatabase } from "../../src/db/open-database";
import { startServer, SQL_STATEMENTS_HEADER } from "../../src/server/server";
import { createScratchDatabase, DB_KINDS, type DbKind } from "../support/databases";

const STATS = `stats { projectCount totalInvestment bySector { sector { code name } projectCount totalInvestment } byStage { stage projectCount totalInvestment } }`;
const HENAN = `{ region(code: "410000") { code ${STATS} children { code ${STATS} children { code ${STATS} } } } }`;
const NATION = `{ regions(level: PROVINCE) { code ${STATS} children { code ${STATS} children { code ${STATS} } } } }`;

async function post(url: string, query: string): Promise<{ statements: number; body: any }> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) });
  return { statements: Number(response.headers.get(SQL_STATEMENTS_HEADER)), body: await response.json() };
}

function countRegions(nodes: any[]): number {
  return nodes.reduce((n, node) => n + 1 + countRegions(node.children ?? []), 0);
}

interface Measurement {
  projects: number;
  henan: { statements: number; body: any };
  nation: { statements: number; body: any };
}

/** A fresh scratch database with `projects` synthetic projects on the national tree, and the two queries asked of it. */
async function measure(kind: DbKind, projects: number): Promise<Measurement> {
  const scratch = await createScratchDatabase(kind);
  const config = { ...loadConfig({ PORT: "0", HOST: "127.0.0.1", NODE_ENV: "test", AGGREGATE_CACHE: "false", DATA_VERSION_TTL_MS: "0", SQL_STATEMENTS_HEADER: "true", LOG_LEVEL: "silent", MAX_COST: "1000000000" }), database: scratch.config };
  const db = await openDatabase(config);
  try {
    const server = await startServer(config, db);
    try {
      const report = await ensureBenchData(db, { projects });
      if (report.projects !== projects) throw new Error(`the generator made ${report.projects} projects, not ${projects}`);
      // The trees are kept whatever AGGREGATE_CACHE says (they change only with the region and sector tables): read
      // them once, so that both requests below cost the same kind of statements (the versions, then the aggregates).
      await post(server.url, `{ regions(level: PROVINCE) { code } }`);
      const henan = await post(server.url, HENAN);
      const nation = await post(server.url, NATION);
      return { projects, henan, nation };
    } finally {
      await server.close();
    }
  } finally {
    await db.destroy();
    await scratch.drop();
  }
}

describe.each(DB_KINDS)("statements per request on %s, national data", (kind) => {
  // Each test asks for the measurements it needs; a size is measured once per database whichever test asks first,
  // so every test also passes alone (-t) or in any order (--randomize).
  const measurements = new Map<number, Promise<Measurement>>();
  const measured = (projects: number): Promise<Measurement> => {
    if (!measurements.has(projects)) measurements.set(projects, measure(kind, projects));
    return measurements.get(projects)!;
  };

  it.each([10, 10_000])("with %i projects: at most 3, the same for Henan and the nation", async (projects) => {
    const { henan, nation } = await measured(projects);
    expect(henan.body.errors).toBeUndefined();
    expect(nation.body.errors).toBeUndefined();
    expect(countRegions([henan.body.data.region])).toBe(176); // the national list also has 419000 (省直辖县级行政区划) above 济源
    expect(countRegions(nation.body.data.regions)).toBe(3224);
    const total = nation.body.data.regions.reduce((n: number, p: any) => n + p.stats.projectCount, 0);
    expect(total).toBe(projects);
    expect(henan.statements).toBeGreaterThan(0);
    expect(henan.statements).toBeLessThanOrEqual(3);
    expect(nation.statements).toBe(henan.statements);
  });

  it("the same count with 10 projects as with 10,000", async () => {
    const few = await measured(10);
    const many = await measured(10_000);
    for (const { henan } of [few, many]) {
      expect(henan.body.errors).toBeUndefined();
      expect(henan.statements).toBeGreaterThan(0);
    }
    expect(many.henan.statements).toBe(few.henan.statements);
  });
});
