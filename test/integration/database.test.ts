/**
 * Migrations and seeding against a real database of each kind: the migrations
 * build exactly the schema the entities describe, revert cleanly, and seeding
 * is idempotent and complete.
 */
import type { DataSource } from "typeorm";

import { seedDatabase, shippedSeedData } from "../../src/seed/seed";
import { ProjectStage } from "../../src/common/stage";
import { RegionLevel } from "../../src/region/region-level";
import { SYSTEM_ACTOR } from "../../src/ledger/actor";
import { systemLedger } from "../../src/ledger/system-ledger";
import { rebuildRollups, verifyRollups } from "../../src/stats/rollups";
import { DB_KINDS, type ScratchDatabase, openScratchDataSource } from "../support/databases";

const TABLES = ["region", "sector", "meeting", "venue", "project", "milestone", "rollup_region", "rollup_meeting", "rollup_batch", "data_version"];

async function counts(db: DataSource): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of TABLES) out[table] = Number((await db.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
  return out;
}

describe.each(DB_KINDS)("database on %s", (kind) => {
  let scratch: ScratchDatabase;
  let db: DataSource;

  beforeAll(async () => {
    ({ scratch, db } = await openScratchDataSource(kind));
  });

  afterAll(async () => {
    await db?.destroy();
    await scratch?.drop();
  });

  it("migrations build exactly the schema the entities describe", async () => {
    const applied = await db.runMigrations({ transaction: "each" });
    expect(applied.length).toBeGreaterThan(0);
    const drift = await db.driver.createSchemaBuilder().log();
    expect(drift.upQueries.map((q) => q.query)).toEqual([]);
    expect(await db.showMigrations()).toBe(false);
  });

  it("the first seed loads the regions, sectors, meeting, venues and projects", async () => {
    const report = await seedDatabase(db);
    expect(report.regions).toBe(175);
    expect(report.venues).toBe(19);
    expect(report.meetings).toBe(1);
    expect(report.projects).toBe(258 + 555 + 524);
    expect(report.milestones).toBeGreaterThan(report.projects);
    const rows = await counts(db);
    expect(rows).toMatchObject({ region: 175, meeting: 1, venue: 19, project: 1337, milestone: report.milestones, sector: report.sectors });
    // The illustrative layer: targets of the 18 cities for three stages in two periods (2021, its third quarter),
    // output reports and factor problems; every row of it marked synthetic, none of it an office's.
    expect(report.targets).toBe(18 * 3 * 2);
    expect(report.outputReports).toBeGreaterThan(0);
    expect(report.factorIssues).toBeGreaterThan(0);
    for (const [table, written] of [["assessment_target", report.targets], ["output_report", report.outputReports], ["factor_issue", report.factorIssues]] as const) {
      const [row] = await db.query(`SELECT COUNT(*) AS n, SUM(CASE WHEN synthetic = 1 THEN 1 ELSE 0 END) AS marked FROM ${table}`);
      expect([table, Number(row.n), Number(row.marked)]).toEqual([table, written, written]);
    }
    // No project became EFFECTIVE: the published current-stage figures stay as they are.
    expect(Number((await db.query("SELECT COUNT(*) AS n FROM project WHERE stage = 4"))[0].n)).toBe(0);
  });

  it("a second seed changes nothing", async () => {
    const before = await counts(db);
    const checksum = async () =>
      JSON.stringify(await db.query("SELECT ref, name, region_id, sector_id, stage, stage_reached_on, investment_wan, version FROM project ORDER BY ref"));
    const sumBefore = await checksum();
    const report = await seedDatabase(db);
    expect(Object.values(report).every((n) => n === 0)).toBe(true);
    expect(await counts(db)).toEqual(before);
    expect(await checksum()).toBe(sumBefore);
  });

  it("a seed that fails half-way leaves nothing behind", async () => {
    const before = await counts(db);
    const shipped = shippedSeedData();
    const [meeting] = shipped.meetings;
    const broken = {
      ...shipped,
      regions: [...shipped.regions, { code: "419900", name: "测试区", level: RegionLevel.COUNTY, parentCode: "419001" }],
      meetings: [
        {
          ...meeting,
          title: "测试会议",
          projects: [
            { ...meeting.projects[0], ref: "test/ok", name: "written before the failure" },
            { ...meeting.projects[1], ref: "test/bad", name: "unknown sector", sectorCode: "NO_SUCH_SECTOR" },
          ],
        },
      ],
    };
    await expect(seedDatabase(db, broken)).rejects.toThrow(/NO_SUCH_SECTOR/);
    expect(await counts(db)).toEqual(before);
    expect(await db.query("SELECT code FROM region WHERE code = '419900'")).toEqual([]);
  });

  it("the rollups equal what the base tables say after seeding", async () => {
    expect(await verifyRollups(db)).toEqual([]);
    const rows = await db.query("SELECT SUM(project_count) AS n FROM rollup_region");
    expect(Number(rows[0].n)).toBe(1337);
  });

  it("rollups follow project changes made through the ledger, and verify reports a stale one", async () => {
    const [{ id, version, investment_wan: wan }] = await db.query("SELECT id, version, investment_wan FROM project WHERE stage = 1 ORDER BY id LIMIT 1");
    const ledger = systemLedger(db);
    await ledger.updateProject(SYSTEM_ACTOR, String(id), Number(version), { investment: (Number(wan) + 7) / 10_000 });
    await ledger.advanceStage(SYSTEM_ACTOR, { projectId: String(id), stage: ProjectStage.IN_PRODUCTION, reachedOn: "2022-01-01", expectedVersion: Number(version) + 1 });
    const [after] = await db.query("SELECT stage, investment_wan FROM project WHERE id = ?", [id]);
    expect({ stage: Number(after.stage), wan: Number(after.investment_wan) }).toEqual({ stage: 3, wan: Number(wan) + 7 });
    expect(await verifyRollups(db)).toEqual([]);
    await db.query("UPDATE project SET investment_wan = investment_wan + 1 WHERE id = ?", [id]);
    const differences = await verifyRollups(db);
    expect(differences.map((d) => d.table).sort()).toEqual(expect.arrayContaining(["rollup_region"]));
    await rebuildRollups(db);
    expect(await verifyRollups(db)).toEqual([]);
  });

  it("migrations revert and apply again", async () => {
    // The seed's illustrative layer first: its rows point at projects and regions.
    for (const table of ["factor_issue", "output_report", "assessment_target"]) await db.query(`DELETE FROM ${table}`);
    await db.query("DELETE FROM milestone");
    await db.query("DELETE FROM project");
    await db.query("DELETE FROM venue");
    await db.query("DELETE FROM meeting");
    await db.query("UPDATE region SET parent_id = NULL");
    await db.query("DELETE FROM region");
    await db.query("UPDATE sector SET parent_id = NULL");
    await db.query("DELETE FROM sector");
    for (let i = 0; i < db.migrations.length; i++) await db.undoLastMigration({ transaction: "each" });
    const left = await db.query(
      kind === "mysql"
        ? "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name <> 'migrations'"
        : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('migrations', 'sqlite_sequence')",
    );
    expect(left).toEqual([]);
    await db.runMigrations({ transaction: "each" });
    expect((await db.driver.createSchemaBuilder().log()).upQueries).toEqual([]);
  });
});
