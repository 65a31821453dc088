/**
 * The benchmark's data generator against a real database of each kind: the
 * national frame (regions, sectors, meetings, venues) is complete, projects sit
 * at leaf regions with milestones that agree with their stage, the rollups
 * match, the ledger's history holds one creation per meeting and project and
 * the versions moved, a second run of the same size is a no-op, another size
 * regenerates (the history with it, still append-only), and the marker table
 * does not show up as schema drift. The assessment layer (targets, output
 * reports, factor issues) is checked against an oracle made from the projects.
 */
import type { DataSource } from "typeorm";

import { ensureBenchData, GENERATOR_VERSION } from "../../bench/generate";
import { verifyRollups } from "../../src/stats/rollups";
import { DB_KINDS, type ScratchDatabase, openScratchDataSource } from "../support/databases";

const TABLES = ["region", "sector", "meeting", "venue", "project", "milestone", "rollup_region", "rollup_meeting", "rollup_batch", "ledger_change", "data_version"];

async function count(db: DataSource, sql: string): Promise<number> {
  return Number((await db.query(sql))[0].n);
}

/** The counter of the region and sector trees (data_version row 0). */
async function treeVersion(db: DataSource): Promise<number> {
  return count(db, "SELECT version AS n FROM data_version WHERE id = 0");
}

async function counts(db: DataSource): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of TABLES) out[table] = await count(db, `SELECT COUNT(*) AS n FROM ${table}`);
  return out;
}

/** Everything a generated data set must satisfy, whatever its size. */
async function expectConsistent(db: DataSource, projects: number): Promise<void> {
  expect(await count(db, "SELECT COUNT(*) AS n FROM project")).toBe(projects);
  expect(await count(db, "SELECT COUNT(*) AS n FROM region")).toBe(3224);
  expect(await count(db, "SELECT COUNT(*) AS n FROM region WHERE level = 'PROVINCE'")).toBe(31);
  expect(await count(db, "SELECT COUNT(*) AS n FROM sector")).toBe(20);
  expect(await count(db, "SELECT COUNT(*) AS n FROM meeting")).toBe(372);
  // A MAIN venue at the host province and a SUB venue in each of its cities, per meeting.
  expect(await count(db, "SELECT COUNT(*) AS n FROM venue WHERE kind = 'MAIN'")).toBe(372);
  expect(await count(db, "SELECT COUNT(*) AS n FROM venue WHERE kind = 'SUB'")).toBe(12 * 342);
  expect(await count(db, "SELECT COUNT(*) AS n FROM venue v JOIN meeting m ON m.id = v.meeting_id WHERE v.kind = 'MAIN' AND v.region_id <> m.host_region_id")).toBe(0);
  // Every project at a leaf region, synthetic, version 1.
  expect(await count(db, "SELECT COUNT(*) AS n FROM project p WHERE EXISTS (SELECT 1 FROM region c WHERE c.parent_id = p.region_id)")).toBe(0);
  expect(await count(db, "SELECT COUNT(*) AS n FROM project WHERE synthetic <> 1 OR version <> 1 OR investment_wan < 1000 OR investment_wan > 2000000")).toBe(0);
  // One milestone per stage reached, SIGNED first, dates in stage order, the last one's date on the project.
  expect(
    await count(
      db,
      `SELECT COUNT(*) AS n FROM project p
       WHERE p.stage NOT IN (1, 2, 3)
          OR p.stage <> (SELECT COUNT(*) FROM milestone m WHERE m.project_id = p.id)
          OR p.stage <> (SELECT MAX(m.stage) FROM milestone m WHERE m.project_id = p.id)
          OR 1 <> (SELECT MIN(m.stage) FROM milestone m WHERE m.project_id = p.id)
          OR p.stage_reached_on <> (SELECT m.reached_on FROM milestone m WHERE m.project_id = p.id AND m.stage = p.stage)`,
    ),
  ).toBe(0);
  expect(await count(db, "SELECT COUNT(*) AS n FROM milestone a JOIN milestone b ON b.project_id = a.project_id AND b.stage = a.stage + 1 WHERE b.reached_on < a.reached_on")).toBe(0);
  // A milestone at a meeting: one of its province's, on the meeting's date, at one of the meeting's venues.
  expect(
    await count(
      db,
      `SELECT COUNT(*) AS n FROM milestone m
       JOIN meeting g ON g.id = m.meeting_id
       JOIN project p ON p.id = m.project_id
       JOIN region r ON r.id = p.region_id
       LEFT JOIN region c ON c.id = r.parent_id
       LEFT JOIN venue v ON v.meeting_id = m.meeting_id AND v.region_id = m.venue_region_id
       WHERE g.held_on <> m.reached_on OR g.host_region_id <> COALESCE(c.parent_id, c.id) OR v.id IS NULL`,
    ),
  ).toBe(0);
  expect(await count(db, "SELECT COUNT(*) AS n FROM milestone WHERE (meeting_id IS NULL) <> (venue_region_id IS NULL)")).toBe(0);
  // The rollups as `npm run rollups -- verify` checks them.
  expect(await verifyRollups(db)).toEqual([]);
  // The history: one CREATE_PROJECT per project, by the system, where the project is; one CREATE_MEETING per meeting; nothing else.
  expect(await count(db, "SELECT COUNT(*) AS n FROM ledger_change WHERE operation = 'CREATE_PROJECT'")).toBe(projects);
  expect(await count(db, "SELECT COUNT(DISTINCT c.project_id) AS n FROM ledger_change c JOIN project p ON p.id = c.project_id AND p.region_id = c.region_id WHERE c.operation = 'CREATE_PROJECT' AND c.office = 'system' AND c.project_version = 1")).toBe(projects);
  expect(await count(db, "SELECT COUNT(*) AS n FROM ledger_change WHERE operation = 'CREATE_MEETING'")).toBe(372);
  expect(await count(db, "SELECT COUNT(*) AS n FROM ledger_change")).toBe(projects + 372);
  // Each project's region has its version counter, in its province.
  expect(
    await count(
      db,
      `SELECT COUNT(*) AS n FROM project p
       JOIN region r ON r.id = p.region_id
       LEFT JOIN region c ON c.id = r.parent_id
       LEFT JOIN data_version v ON v.id = p.region_id AND v.province_id = COALESCE(c.parent_id, c.id)
       WHERE v.id IS NULL`,
    ),
  ).toBe(0);
  await expectAssessmentLayer(db);
  const marker = await db.query("SELECT projects, generator FROM bench_dataset");
  expect(marker.map((row: { projects: unknown; generator: unknown }) => [Number(row.projects), Number(row.generator)])).toEqual([[projects, GENERATOR_VERSION]]);
}

/**
 * The assessment layer, checked against an oracle computed here from the projects and milestones: a yearly target
 * (quarter 0) of every region for SIGNED, STARTED and IN_PRODUCTION in 2021-2023, between 0.8 and 1.6 times what its
 * subtree reached (at least 100 万元 and one project); output reports, for the projects in production with id % 8 = 0
 * (whose designed output is twice their investment), one per year from their production year (2021 at the earliest)
 * to 2023, each below the design; factor issues on at most one per project, none before its first milestone.
 */
async function expectAssessmentLayer(db: DataSource): Promise<void> {
  const regions: Array<{ id: number; parent_id: number | null }> = await db.query("SELECT id, parent_id FROM region");
  const parent = new Map(regions.map((r) => [Number(r.id), r.parent_id === null ? null : Number(r.parent_id)]));
  const reached = new Map<string, { count: number; wan: number }>();
  const milestones: Array<{ region_id: number; stage: number; day: string; investment_wan: number | string }> = await db.query(
    "SELECT p.region_id, m.stage, CAST(m.reached_on AS CHAR) AS day, p.investment_wan FROM milestone m JOIN project p ON p.id = m.project_id",
  );
  for (const m of milestones) {
    const year = Number(m.day.slice(0, 4));
    if (year < 2021 || year > 2023) continue;
    for (let id: number | null = Number(m.region_id); id !== null; id = parent.get(id) ?? null) {
      const key = `${id}|${Number(m.stage)}|${year}`;
      const cell = reached.get(key) ?? { count: 0, wan: 0 };
      cell.count += 1;
      cell.wan += Number(m.investment_wan);
      reached.set(key, cell);
    }
  }
  const targets: Array<{ region_id: number; stage: number; year: number; quarter: number; target_count: number; target_investment_wan: number | string; synthetic: number | boolean; set_by: string }> =
    await db.query("SELECT region_id, stage, year, quarter, target_count, target_investment_wan, synthetic, set_by FROM assessment_target");
  expect(targets.length).toBe(3224 * 3 * 3);
  const seen = new Set<string>();
  for (const t of targets) {
    const key = `${Number(t.region_id)}|${Number(t.stage)}|${Number(t.year)}`;
    seen.add(key);
    expect([Number(t.quarter), Number(t.synthetic), t.set_by]).toEqual([0, 1, "system"]);
    const got = reached.get(key) ?? { count: 0, wan: 0 };
    const wan = Number(t.target_investment_wan);
    if (got.wan === 0) expect(wan).toBe(100);
    else {
      expect(wan).toBeGreaterThanOrEqual(Math.max(100, Math.floor(got.wan * 0.8)));
      expect(wan).toBeLessThanOrEqual(Math.max(100, Math.ceil(got.wan * 1.6)));
    }
    expect(Number(t.target_count)).toBeGreaterThanOrEqual(Math.max(1, Math.floor(got.count * 0.8)));
    expect(Number(t.target_count)).toBeLessThanOrEqual(Math.max(1, Math.ceil(got.count * 1.6)));
  }
  for (const id of parent.keys()) for (const stage of [1, 2, 3]) for (const year of [2021, 2022, 2023]) expect(seen.has(`${id}|${stage}|${year}`)).toBe(true);

  // Designed output exactly on the projects in production with id % 8 = 0, twice their investment.
  expect(await count(db, "SELECT COUNT(*) AS n FROM project WHERE (designed_annual_output_wan IS NOT NULL) <> (stage = 3 AND id % 8 = 0)")).toBe(0);
  expect(await count(db, "SELECT COUNT(*) AS n FROM project WHERE designed_annual_output_wan <> investment_wan * 2")).toBe(0);
  const producing: Array<{ id: number; day: string }> = await db.query("SELECT id, CAST(stage_reached_on AS CHAR) AS day FROM project WHERE stage = 3 AND id % 8 = 0");
  const expectedReports = producing.flatMap((p) => {
    const out: string[] = [];
    for (let year = Math.max(2021, Number(p.day.slice(0, 4))); year <= 2023; year++) out.push(`${Number(p.id)}|${year}`);
    return out;
  });
  const reports: Array<{ project_id: number; year: number }> = await db.query("SELECT project_id, year FROM output_report ORDER BY project_id, year");
  expect(reports.map((r) => `${Number(r.project_id)}|${Number(r.year)}`).sort()).toEqual(expectedReports.sort());
  expect(
    await count(db, "SELECT COUNT(*) AS n FROM output_report r JOIN project p ON p.id = r.project_id WHERE r.output_wan >= p.designed_annual_output_wan OR r.output_wan < 0 OR r.synthetic <> 1"),
  ).toBe(0);

  // Factor issues: at most one a project, synthetic, answered ones with a resolution after they were raised.
  expect(await count(db, "SELECT COUNT(*) AS n FROM (SELECT project_id FROM factor_issue GROUP BY project_id HAVING COUNT(*) > 1) t")).toBe(0);
  expect(
    await count(
      db,
      `SELECT COUNT(*) AS n FROM factor_issue f
       WHERE f.synthetic <> 1
          OR f.kind NOT IN ('PLANNING', 'APPROVAL', 'ENVIRONMENT', 'LAND', 'FINANCING', 'STAFFING', 'UTILITIES', 'OTHER')
          OR (f.resolved_on IS NULL) <> (f.resolution IS NULL)
          OR f.resolved_on <= f.raised_on
          OR f.raised_on < (SELECT MIN(m.reached_on) FROM milestone m WHERE m.project_id = f.project_id)`,
    ),
  ).toBe(0);
}

describe.each(DB_KINDS)("bench data generator on %s", (kind) => {
  let scratch: ScratchDatabase;
  let db: DataSource;

  beforeAll(async () => {
    ({ scratch, db } = await openScratchDataSource(kind));
    await db.runMigrations({ transaction: "each" });
  });

  afterAll(async () => {
    await db?.destroy();
    await scratch?.drop();
  });

  it("generates 10 projects in the national frame, consistent and with matching rollups", async () => {
    const progress: Array<[number, number]> = [];
    const trees = await treeVersion(db);
    const report = await ensureBenchData(db, { projects: 10, onProgress: (done, total) => progress.push([done, total]) });
    expect(report).toMatchObject({ generated: true, projects: 10 });
    expect(report.milestones).toBe(await count(db, "SELECT COUNT(*) AS n FROM milestone"));
    expect(progress.at(-1)).toEqual([10, 10]);
    await expectConsistent(db, 10);
    expect(await treeVersion(db)).toBe(trees + 1);
  });

  it("reuses it, changing nothing, when asked for the same size", async () => {
    const before = await counts(db);
    const rows = async () => JSON.stringify(await db.query("SELECT id, name, region_id, sector_id, stage, stage_reached_on, investment_wan FROM project ORDER BY id"));
    const projectsBefore = await rows();
    const report = await ensureBenchData(db, { projects: 10 });
    expect(report).toMatchObject({ generated: false, projects: 10, milestones: before.milestone });
    expect(await counts(db)).toEqual(before);
    expect(await rows()).toBe(projectsBefore);
  });

  it("regenerates for another size, deterministically", async () => {
    const first = await db.query("SELECT id, name, region_id, sector_id, stage, stage_reached_on, investment_wan FROM project ORDER BY id");
    const trees = await treeVersion(db);
    const total = await count(db, "SELECT SUM(version) AS n FROM data_version");
    const report = await ensureBenchData(db, { projects: 200 });
    expect(report).toMatchObject({ generated: true, projects: 200 });
    await expectConsistent(db, 200);
    expect(await treeVersion(db)).toBe(trees + 1);
    // Versions only grow, so that no cached answer of the old data set matches the new one.
    expect(await count(db, "SELECT SUM(version) AS n FROM data_version")).toBeGreaterThan(total);
    // Back to 10: the same rows as the first time (a fixed seed).
    await ensureBenchData(db, { projects: 10 });
    expect(await db.query("SELECT id, name, region_id, sector_id, stage, stage_reached_on, investment_wan FROM project ORDER BY id")).toEqual(first);
  });

  it("spreads 1,000 projects over every province and all three stages", async () => {
    await ensureBenchData(db, { projects: 1000 });
    await expectConsistent(db, 1000);
    const provinces = await count(
      db,
      "SELECT COUNT(DISTINCT COALESCE(c.parent_id, c.id)) AS n FROM project p JOIN region r ON r.id = p.region_id JOIN region c ON c.id = r.parent_id",
    );
    expect(provinces).toBe(31);
    expect(await count(db, "SELECT COUNT(DISTINCT stage) AS n FROM project")).toBe(3);
    const atMeeting = await count(db, "SELECT COUNT(*) AS n FROM milestone WHERE meeting_id IS NOT NULL");
    const all = await count(db, "SELECT COUNT(*) AS n FROM milestone");
    expect(atMeeting / all).toBeGreaterThan(0.4);
    expect(atMeeting / all).toBeLessThan(0.6);
    // About 2 % of the projects with a factor issue, some answered; targets of every card colour.
    const issues = await count(db, "SELECT COUNT(*) AS n FROM factor_issue");
    expect(issues).toBeGreaterThan(5);
    expect(issues).toBeLessThan(50);
    expect(await count(db, "SELECT COUNT(*) AS n FROM factor_issue WHERE resolved_on IS NULL")).toBeGreaterThan(0);
    expect(await count(db, "SELECT COUNT(*) AS n FROM factor_issue WHERE resolved_on IS NOT NULL")).toBeGreaterThan(0);
    expect(await count(db, "SELECT COUNT(*) AS n FROM output_report")).toBeGreaterThan(10);
  });

  it("regenerates a data set whose marker is missing (an interrupted run)", async () => {
    await db.query("DELETE FROM bench_dataset");
    const report = await ensureBenchData(db, { projects: 1000 });
    expect(report.generated).toBe(true);
    await expectConsistent(db, 1000);
  });

  it("keeps the rollups, history and versions right when the load spans several ledger writes", async () => {
    // The first write loads into empty tables (rollups rebuilt); the later ones add their projects' shapes to the rollups.
    const report = await ensureBenchData(db, { projects: 1500, projectsPerWrite: 400 });
    expect(report).toMatchObject({ generated: true, projects: 1500 });
    await expectConsistent(db, 1500);
  });

  it("keeps the history append-only after regenerating", async () => {
    await ensureBenchData(db, { projects: 20 });
    await expect(db.query("DELETE FROM ledger_change")).rejects.toThrow(/append-only/);
    await expect(db.query("UPDATE ledger_change SET office = 'x'")).rejects.toThrow(/append-only/);
    expect(await count(db, "SELECT COUNT(*) AS n FROM ledger_change")).toBe(20 + 372);
  });

  it("leaves the schema as the entities describe it (the marker table is not drift)", async () => {
    const drift = await db.driver.createSchemaBuilder().log();
    expect(drift.upQueries.map((q) => q.query)).toEqual([]);
  });

  it("leaves the connection's session as it was", async () => {
    if (kind !== "mysql") return;
    // Hold every connection of the pool at once, so the one the generator used is among them.
    const runners = Array.from({ length: scratch.config.type === "mysql" ? scratch.config.poolSize : 1 }, () => db.createQueryRunner());
    try {
      for (const runner of runners) await runner.connect();
      for (const runner of runners) {
        const [row] = await runner.query(
          "SELECT @@SESSION.foreign_key_checks AS fk, @@SESSION.unique_checks AS uq, @@SESSION.tmp_table_size = @@GLOBAL.tmp_table_size AS tmp",
        );
        expect([Number(row.fk), Number(row.uq), Number(row.tmp)]).toEqual([1, 1, 1]);
      }
    } finally {
      for (const runner of runners) await runner.release();
    }
  });
});
