/**
 * The benchmark's data generator against a real database of each kind: the
 * national frame (regions, sectors, meetings, venues) is complete, projects sit
 * at leaf regions with milestones that agree with their stage, the rollups
 * match, the ledger's history holds one creation per meeting and project and
 * the versions moved, a second run of the same size is a no-op, another size
 * regenerates (the history with it, still append-only), and the marker table
 * does not show up as schema drift.
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
  const marker = await db.query("SELECT projects, generator FROM bench_dataset");
  expect(marker.map((row: { projects: unknown; generator: unknown }) => [Number(row.projects), Number(row.generator)])).toEqual([[projects, GENERATOR_VERSION]]);
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
