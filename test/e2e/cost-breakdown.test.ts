/**
 * A breakdown's cost is bounded by what the data holds (issue 17, defect 7):
 * `breakdown(groupBy: [REGION, SECTOR, QUARTER], regionLevel: COUNTY)` was
 * refused while its answer is some 760 rows, because its rows were bounded by
 * the product of the dimensions' sizes (156 counties × 20 sectors × 20
 * quarters = 62,400) capped by the largest project id, which after a
 * rolled-back insert on MariaDB (InnoDB does not give the ids back) is far
 * above the number of projects. Now the rows are capped by the projects (the
 * rollups' sum) and by what each region's projects and sectors can make.
 *
 * On each database: the shipped data, then the state a failed import leaves
 * (ids burned: on MariaDB a real rolled-back insert, on SQLite, which gives
 * rolled-back ids back, the same counter set by hand), then a few projects
 * created through the ledger; then the server starts (its cost model read
 * from that data) with the default limits. The query is answered, with the
 * rows a computation from the base tables gives; a genuinely large request is
 * still refused; and the bound the model gives is never under the rows the
 * server answers, for every grouping.
 */
import pino from "pino";
import type { DataSource } from "typeorm";

import { ProjectStage } from "../../src/common/stage";
import { loadConfig } from "../../src/config";
import { bumpTreeVersion } from "../../src/db/data-version";
import { openDatabase } from "../../src/db/open-database";
import { SYSTEM_ACTOR } from "../../src/ledger/actor";
import { systemLedger } from "../../src/ledger/system-ledger";
import { seedDatabase } from "../../src/seed/seed";
import { breakdownRowBound, type CostModel, GROUPED_QUERY_COST, readCostModel } from "../../src/server/cost";
import { createObservability } from "../../src/server/observability";
import { type RunningServer, startServer } from "../../src/server/server";
import type { BreakdownDimension } from "../../src/stats/breakdown.type";
import { burnProjectIds as burnMysqlProjectIds } from "../../bench/cost-table";
import { createScratchDatabase, DB_KINDS, type DbKind, type ScratchDatabase } from "../support/databases";

const DEFAULTS = loadConfig({}).limits;

/** The ids a failed import of 100,000+ projects leaves behind. */
async function burnProjectIds(db: DataSource, kind: DbKind): Promise<void> {
  if (kind === "mysql") {
    await burnMysqlProjectIds(db);
  } else {
    await db.query("UPDATE sqlite_sequence SET seq = 171136 WHERE name = 'project'");
  }
}

async function post(url: string, query: string, variables?: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables }) });
  return { status: response.status, body: await response.json() };
}

/** `breakdown(groupBy: [REGION, SECTOR, QUARTER], regionLevel: COUNTY)` from the base tables: at COUNTY, a project's own region; its top-level sector; the quarter of the date it reached its current stage. */
async function freshRegionSectorQuarter(db: DataSource): Promise<string[]> {
  const regions = new Map<number, string>((await db.query("SELECT id, code FROM region")).map((r: any) => [Number(r.id), String(r.code)]));
  const sectors = new Map<number, { code: string; parent: number | null }>(
    (await db.query("SELECT id, code, parent_id FROM sector")).map((s: any) => [Number(s.id), { code: String(s.code), parent: s.parent_id === null ? null : Number(s.parent_id) }]),
  );
  const top = (id: number): string => {
    let sector = sectors.get(id)!;
    while (sector.parent !== null) sector = sectors.get(sector.parent)!;
    return sector.code;
  };
  const groups = new Map<string, { count: number; wan: number }>();
  for (const p of await db.query("SELECT region_id, sector_id, stage_reached_on, investment_wan FROM project")) {
    const day = String(p.stage_reached_on);
    const key = `${regions.get(Number(p.region_id))}|${top(Number(p.sector_id))}|${day.slice(0, 4)}|${Math.floor((Number(day.slice(5, 7)) - 1) / 3) + 1}`;
    const group = groups.get(key) ?? { count: 0, wan: 0 };
    group.count += 1;
    group.wan += Number(p.investment_wan);
    groups.set(key, group);
  }
  return [...groups].map(([key, g]) => `${key}|${g.count}|${g.wan}`).sort();
}

/** Projects added after the failed import: region, sector, stage, date. */
const ADDED: Array<[string, string, ProjectStage, string]> = [
  ["410102", "MFG_EQUIP", ProjectStage.SIGNED, "2023-05-06"],
  ["410102", "RND", ProjectStage.STARTED, "2019-11-20"],
  ["419001", "LOG", ProjectStage.IN_PRODUCTION, "2024-02-29"],
  ["410103", "SEI_BIO", ProjectStage.SIGNED, "2022-08-01"],
  ["410104", "SEI_BIO", ProjectStage.STARTED, "2020-01-15"],
  ["411702", "AGRI", ProjectStage.IN_PRODUCTION, "2018-06-30"],
  ["411721", "CULT", ProjectStage.SIGNED, "2024-12-31"],
  ["411722", "SOCIAL", ProjectStage.STARTED, "2021-10-01"],
  // One county, sector and stage over twelve quarters: as many rows as projects when grouped by date.
  ...Array.from({ length: 12 }, (_, q): [string, string, ProjectStage, string] => ["411702", "HQ", ProjectStage.STARTED, `${2019 + Math.floor(q / 4)}-${String(1 + 3 * (q % 4)).padStart(2, "0")}-15`]),
];

const ISSUE_QUERY = `{ breakdown(groupBy: [REGION, SECTOR, QUARTER], regionLevel: COUNTY) { region { code } sector { code } year quarter projectCount totalInvestment(unit: WAN_YUAN) } }`;

describe.each(DB_KINDS)("a breakdown's cost on %s after a failed import burned 170,000 project ids", (kind) => {
  let scratch: ScratchDatabase;
  let db: DataSource;
  let server: RunningServer;
  let model: CostModel;

  beforeAll(async () => {
    scratch = await createScratchDatabase(kind);
    const config = { ...loadConfig({ PORT: "0", HOST: "127.0.0.1", NODE_ENV: "test", LOG_LEVEL: "silent" }), database: scratch.config };
    db = await openDatabase(config);
    if (kind === "mysql") await seedDatabase(db);
    await burnProjectIds(db, kind);
    // Then projects written through the ledger, at stages and on dates the shipped data has not (its current stages were all reached on one day).
    const ledger = systemLedger(db);
    for (const [i, [regionCode, sectorCode, stage, reachedOn]] of ADDED.entries()) {
      await ledger.createProject(SYSTEM_ACTOR, { name: `回滚之后的项目 ${i + 1}`, regionCode, sectorCode, stage, investment: 2.5 + i, reachedOn });
    }
    server = await startServer(config, db, createObservability("silent", pino({ level: "silent" })));
    model = await readCostModel(db);
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await db?.destroy();
    await scratch?.drop();
  });

  it("the data is in the state of the issue: the largest project id far above the projects", async () => {
    const [{ largest, count }] = await db.query("SELECT MAX(id) AS largest, COUNT(*) AS count FROM project");
    expect(Number(count)).toBe(1337 + ADDED.length);
    expect(Number(largest)).toBeGreaterThan(170_000);
    // The model counts the projects, not the ids.
    expect(model.projects).toBe(1337 + ADDED.length);
  });

  it("answers breakdown(groupBy: [REGION, SECTOR, QUARTER], regionLevel: COUNTY) with the rows the base tables give", async () => {
    const { status, body } = await post(server.url, ISSUE_QUERY);
    expect({ status, errors: body.errors }).toEqual({ status: 200, errors: undefined });
    const rows: string[] = body.data.breakdown.map((r: any) => `${r.region.code}|${r.sector.code}|${r.year}|${r.quarter}|${r.projectCount}|${r.totalInvestment}`).sort();
    expect(rows).toEqual(await freshRegionSectorQuarter(db));
    expect(rows.length).toBeGreaterThan(700);
    // Its bound: at most one row per project, and no fewer than the rows answered.
    const bound = breakdownRowBound(model, ["REGION", "SECTOR", "QUARTER"] as BreakdownDimension[], "COUNTY", null);
    expect(bound).toBeGreaterThanOrEqual(rows.length);
    expect(bound).toBeLessThanOrEqual(1337 + ADDED.length);
  });

  it("still refuses a genuinely large request: project connections nested three deep, and that breakdown with each row's region tree", async () => {
    const nested = `{ projects(first: 100) { nodes { region { projects(first: 100) { nodes { region { projects(first: 100) { nodes { name } } } } } } } } }`;
    const inner = 1 + 100 * (1 + 1);
    const middle = 1 + 100 * (1 + 1 + inner);
    const outer = 1 + 100 * (1 + 1 + middle);
    const refused = await post(server.url, nested);
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", limit: DEFAULTS.cost, measured: outer + 2 * GROUPED_QUERY_COST });

    // Each row with its region's ancestors and their children (up to 3 × 18 regions a row): over 100,000 fields.
    const wide = `{ breakdown(groupBy: [REGION, SECTOR, QUARTER], regionLevel: COUNTY) { region { ancestors { code name children { code name } } } projectCount } }`;
    const answer = await post(server.url, wide);
    expect(answer.status).toBe(400);
    expect(answer.body.errors[0].extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", limit: DEFAULTS.cost });
    expect(answer.body.errors[0].extensions.measured).toBeGreaterThan(DEFAULTS.cost);
  });

  it("never bounds a breakdown under the rows the server answers, for every grouping, level and some filters", async () => {
    const all = ["REGION", "SECTOR", "STAGE", "MEETING", "YEAR", "QUARTER"];
    const [{ id: meetingId }] = await db.query("SELECT MIN(id) AS id FROM meeting");
    const filters = [
      null,
      { stages: ["STARTED"] },
      { regionCodes: ["410100", "419001"] },
      { meetingId: String(meetingId), stages: ["IN_PRODUCTION"] },
      { milestone: { stage: "STARTED" }, sectorCodes: ["SEI", "RND", "AGRI"] },
    ];
    let checked = 0;
    for (let mask = 0; mask < 64; mask++) {
      const groupBy = all.filter((_, i) => mask & (1 << i));
      for (const level of groupBy.includes("REGION") ? ["PROVINCE", "CITY", "COUNTY"] : ["CITY"]) {
        for (const filter of filters) {
          const { status, body } = await post(server.url, `query B($f: ProjectFilter) { breakdown(groupBy: [${groupBy.join(", ")}], regionLevel: ${level}, filter: $f) { projectCount } }`, { f: filter });
          expect({ status, errors: body.errors }).toEqual({ status: 200, errors: undefined });
          const rows = body.data.breakdown.length;
          const bound = breakdownRowBound(model, groupBy as BreakdownDimension[], level, filter);
          if (bound < rows) throw new Error(`${groupBy.join(" × ")} at ${level}, filter ${JSON.stringify(filter)}: bound ${bound} < ${rows} rows`);
          checked += 1;
        }
      }
    }
    expect(checked).toBe((32 + 32 * 3) * filters.length);
  }, 120_000);
});

describe.each(DB_KINDS)("the cost model read again after writes on %s", (kind) => {
  let scratch: ScratchDatabase;
  let db: DataSource;

  beforeAll(async () => {
    scratch = await createScratchDatabase(kind);
    db = await openDatabase({ ...loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent" }), database: scratch.config });
    if (kind === "mysql") await seedDatabase(db);
    // A second province, with a city and a county, beside Henan.
    await db.query("INSERT INTO region (code, name, level, parent_id) VALUES ('420000', '湖北省', 'PROVINCE', NULL)");
    const [{ id: province }] = await db.query("SELECT id FROM region WHERE code = '420000'");
    await db.query("INSERT INTO region (code, name, level, parent_id) VALUES ('420100', '武汉市', 'CITY', ?)", [province]);
    const [{ id: city }] = await db.query("SELECT id FROM region WHERE code = '420100'");
    await db.query("INSERT INTO region (code, name, level, parent_id) VALUES ('420102', '江岸区', 'COUNTY', ?)", [city]);
    await bumpTreeVersion(db);
  }, 120_000);
  afterAll(async () => {
    await db?.destroy();
    await scratch?.drop();
  });

  /** A client that keeps the statements it runs. */
  const recording = () => {
    const statements: Array<{ sql: string; params?: unknown[] }> = [];
    return { statements, client: { query: (sql: string, params?: unknown[]) => (statements.push({ sql, params }), db.query(sql, params)) } };
  };
  const summaryOf = (model: CostModel) => ({ ...model, groups: Object.fromEntries(Object.entries(model.groups!.byLevel).map(([level, m]) => [level, [...m].sort((a, b) => a[0] - b[0])])), versions: undefined });

  it("re-reads the rollups of the provinces written to only, and then equals a full read", async () => {
    const before = await readCostModel(db);
    // Nothing written: the rollups are not read again.
    const idle = recording();
    expect(summaryOf(await readCostModel(idle.client, before))).toEqual(summaryOf(before));
    expect(idle.statements.filter((s) => /rollup_region/.test(s.sql))).toHaveLength(0);

    // Two projects in Hubei: only Hubei's three regions are read again.
    const ledger = systemLedger(db);
    await ledger.createProject(SYSTEM_ACTOR, { name: "武汉项目一", regionCode: "420102", sectorCode: "SEI_ICT", investment: 12, reachedOn: "2023-02-01" });
    await ledger.createProject(SYSTEM_ACTOR, { name: "武汉项目二", regionCode: "420102", sectorCode: "LOG", stage: ProjectStage.STARTED, investment: 3, reachedOn: "2023-03-01" });
    const after = recording();
    const incremental = await readCostModel(after.client, before);
    const reads = after.statements.filter((s) => /rollup_region/.test(s.sql));
    expect(reads).toHaveLength(1);
    const hubei: Array<{ id: number }> = await db.query("SELECT id FROM region WHERE code LIKE '42%'");
    expect([...(reads[0].params ?? [])].map(Number).sort()).toEqual(hubei.map((r) => Number(r.id)).sort());
    expect(summaryOf(incremental)).toEqual(summaryOf(await readCostModel(db)));
    expect(incremental.projects).toBe(before.projects + 2);
    // Hubei's county now names one more region at COUNTY level, with its two projects in two sectors (one SIGNED, one
    // STARTED; the tallies are by stage in lifecycle order, RESERVE first).
    const county = hubei.find((r) => incremental.groups!.byLevel.COUNTY.has(Number(r.id)))!;
    expect(incremental.groups!.byLevel.COUNTY.get(Number(county.id))).toEqual({ projects: [0, 1, 1, 0, 0], sectorRows: [0, 1, 1, 0, 0] });
    expect(breakdownRowBound(incremental, ["REGION", "SECTOR"] as BreakdownDimension[], "COUNTY", { regionCodes: ["420000"] })).toBe(2);
  });
});
