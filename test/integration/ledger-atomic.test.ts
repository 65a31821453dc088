/**
 * A write is all or nothing: a failure injected at any statement after the
 * first (through `LedgerSettings.onStatement`: the server stopping before it,
 * or the database refusing it) leaves every table exactly
 * as it was, rollups, history and versions included; the same write without
 * the fault then applies. A write refused by a domain rule leaves everything
 * as it was too.
 */
import type { DataSource } from "typeorm";

import { AppError } from "../../src/common/errors";
import { ProjectStage } from "../../src/common/stage";
import { DEFAULT_LEDGER_FUTURE_DAYS } from "../../src/config";
import { type Actor, SYSTEM_ACTOR } from "../../src/ledger/actor";
import { Ledger, type LedgerSettings } from "../../src/ledger/ledger";
import { systemLedger } from "../../src/ledger/system-ledger";
import { seedDatabase } from "../../src/seed/seed";
import { loadTrees } from "../../src/common/trees";
import { verifyRollups } from "../../src/stats/rollups";
import { DB_KINDS, type ScratchDatabase, openScratchDataSource } from "../support/databases";
import { differences, snapshot } from "../support/ledger-snapshot";

function codeOf(error: unknown): unknown {
  return error instanceof AppError ? error.extensions.code : `not an AppError: ${String(error)}`;
}

async function countRows(db: DataSource, table: string): Promise<number> {
  return Number((await db.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
}

describe.each(DB_KINDS)("atomic writes on %s", (kind) => {
  let scratch: ScratchDatabase;
  let db: DataSource;
  /** The ledger under test; its onStatement is set per run. */
  let settings: LedgerSettings;
  let ledger: Ledger;
  /** The same rules without the hook, to set up what a test needs. */
  let setup: Ledger;
  let meetingId: string;
  let majorMeetingId: string;
  const regionIds = new Map<string, number>();

  beforeAll(async () => {
    ({ scratch, db } = await openScratchDataSource(kind));
    await db.runMigrations();
    await seedDatabase(db);
    settings = { futureDays: DEFAULT_LEDGER_FUTURE_DAYS };
    ledger = new Ledger(db, settings, () => loadTrees(db));
    setup = systemLedger(db);
    meetingId = String((await setup.createMeeting(SYSTEM_ACTOR, { title: "原子性测试推进会", heldOn: "2022-05-01", hostRegionCode: "410000", subVenueRegionCodes: ["410100", "410300"] })).value);
    majorMeetingId = String((await setup.createMeeting(SYSTEM_ACTOR, { title: "重大项目推进会", heldOn: "2022-06-01", hostRegionCode: "410000", majorProjects: true })).value);
    for (const row of await db.query("SELECT id, code FROM region")) regionIds.set(row.code, Number(row.id));
  });

  afterAll(async () => {
    await db?.destroy();
    await scratch?.drop();
  });

  /** A project made without faults: signed (at the meeting's 郑州 venue when `atMeeting`), optionally started. */
  async function project(name: string, options: { regionCode?: string; atMeeting?: boolean; started?: boolean; investment?: number } = {}): Promise<number> {
    const id = (
      await setup.createProject(SYSTEM_ACTOR, {
        name,
        regionCode: options.regionCode ?? "410102",
        sectorCode: "SEI_BIO",
        investment: options.investment ?? 2.5,
        stage: ProjectStage.SIGNED,
        reachedOn: "2022-03-01",
        meetingId: options.atMeeting ? meetingId : null,
        venueRegionCode: options.atMeeting ? "410100" : null,
      })
    ).value;
    if (options.started) await setup.advanceStage(SYSTEM_ACTOR, { projectId: String(id), stage: ProjectStage.STARTED, reachedOn: "2022-04-01", expectedVersion: 1 });
    return id;
  }

  /**
   * Runs `write` with a fault at statement k, for k = 1, 2, … until a run
   * meets no fault (the write has that many statements), two ways each: the
   * server stops before sending statement k (an exception), and the database
   * refuses statement k after running those before it (on MySQL they travel
   * in the same batch as k, so only the database can fail there). After each
   * fault every table must be as before. Returns the number of statements.
   */
  async function faultAtEveryStatement(write: () => Promise<unknown>): Promise<number> {
    const before = await snapshot(db);
    for (let k = 1; k <= 1_000; k++) {
      for (const mode of ["throw", "refuse"] as const) {
        let injected = false;
        settings.onStatement = (_sql, index) => {
          if (index !== k) return undefined;
          injected = true;
          if (mode === "throw") throw new Error(`injected fault before statement ${k}`);
          return `SELECT * FROM injected_fault_${k}`;
        };
        try {
          await write();
        } catch (error) {
          if (!injected) throw error;
          expect((error as Error).message).toMatch(mode === "throw" ? `injected fault before statement ${k}` : `injected_fault_${k}`);
          expect({ k, mode, differences: differences(before, await snapshot(db)) }).toEqual({ k, mode, differences: [] });
          continue;
        } finally {
          settings.onStatement = undefined;
        }
        expect(injected).toBe(false);
        return k;
      }
    }
    throw new Error("the write never finished");
  }

  describe("a fault before any statement after the first leaves every table as it was; without it the write applies", () => {
    it("createProject at a meeting venue", async () => {
      const changes = await countRows(db, "ledger_change");
      const statements = await faultAtEveryStatement(() =>
        ledger.createProject(SYSTEM_ACTOR, {
          name: "故障注入新签项目",
          regionCode: "410103",
          sectorCode: "MFG_AUTO",
          investment: 1.25,
          reachedOn: "2022-05-01",
          meetingId,
          venueRegionCode: "410100",
        }),
      );
      expect(statements).toBeGreaterThanOrEqual(5);
      expect(await db.query("SELECT stage, investment_wan, version FROM project WHERE name = '故障注入新签项目'")).toEqual([{ stage: 1, investment_wan: 12_500, version: 1 }]);
      expect(await countRows(db, "ledger_change")).toBe(changes + 1);
      expect(await verifyRollups(db)).toEqual([]);
    });

    it("addProjects with several milestones each", async () => {
      const before = await countRows(db, "project");
      const statements = await faultAtEveryStatement(() =>
        ledger.addProjects(
          SYSTEM_ACTOR,
          ["410104", "410105", "410305"].map((regionCode, i) => ({
            name: `故障注入导入项目${i}`,
            regionCode,
            sectorCode: "SEI_ICT",
            investmentWan: 30_000 + i,
            milestones: [
              { stage: ProjectStage.SIGNED, reachedOn: "2022-01-05", meetingId: Number(meetingId), venueRegionCode: regionCode.startsWith("4101") ? "410100" : "410300" },
              { stage: ProjectStage.STARTED, reachedOn: "2022-05-01", meetingId: Number(meetingId), venueRegionCode: null },
            ],
          })),
        ),
      );
      expect(statements).toBeGreaterThanOrEqual(8);
      expect(await countRows(db, "project")).toBe(before + 3);
      expect(await verifyRollups(db)).toEqual([]);
    });

    it("updateProject moving a project presented at a meeting to another city and sector, with a new investment", async () => {
      const id = await project("故障注入迁移项目", { atMeeting: true, started: true });
      const statements = await faultAtEveryStatement(() => ledger.updateProject(SYSTEM_ACTOR, String(id), 2, { regionCode: "410305", sectorCode: "LOG", investment: 7.5, investor: "某集团" }));
      expect(statements).toBeGreaterThanOrEqual(6);
      expect(await db.query("SELECT region_id, investment_wan, investor, version FROM project WHERE id = ?", [id])).toEqual([
        { region_id: regionIds.get("410305"), investment_wan: 75_000, investor: "某集团", version: 3 },
      ]);
      expect(await verifyRollups(db)).toEqual([]);
    });

    it("advanceStage at a meeting venue", async () => {
      const id = await project("故障注入开工项目", { atMeeting: true });
      const statements = await faultAtEveryStatement(() =>
        ledger.advanceStage(SYSTEM_ACTOR, { projectId: String(id), stage: ProjectStage.STARTED, reachedOn: "2022-05-01", meetingId, venueRegionCode: "410100", expectedVersion: 1 }),
      );
      expect(statements).toBeGreaterThanOrEqual(6);
      expect(await db.query("SELECT stage, version FROM project WHERE id = ?", [id])).toEqual([{ stage: 2, version: 2 }]);
      expect(await verifyRollups(db)).toEqual([]);
    });

    it("recordAtMeeting", async () => {
      const id = await project("故障注入补记项目");
      const statements = await faultAtEveryStatement(() =>
        ledger.recordAtMeeting(SYSTEM_ACTOR, { projectId: String(id), stage: ProjectStage.SIGNED, meetingId, venueRegionCode: "410100", expectedVersion: 1 }),
      );
      expect(statements).toBeGreaterThanOrEqual(6);
      expect(await db.query("SELECT meeting_id, venue_region_id FROM milestone WHERE project_id = ?", [id])).toEqual([
        { meeting_id: Number(meetingId), venue_region_id: regionIds.get("410100") },
      ]);
      expect(await verifyRollups(db)).toEqual([]);
    });

    it("correctMilestoneDate of the current stage", async () => {
      const id = await project("故障注入更正项目", { started: true });
      const statements = await faultAtEveryStatement(() =>
        ledger.correctMilestoneDate(SYSTEM_ACTOR, { projectId: String(id), stage: ProjectStage.STARTED, reachedOn: "2022-04-15", reason: "开工日期录入有误", expectedVersion: 2 }),
      );
      expect(statements).toBeGreaterThanOrEqual(5);
      expect(await db.query("SELECT stage_reached_on, version FROM project WHERE id = ?", [id])).toEqual([{ stage_reached_on: "2022-04-15", version: 3 }]);
    });

    it("createMeeting with sub-venues", async () => {
      const statements = await faultAtEveryStatement(() =>
        ledger.createMeeting(SYSTEM_ACTOR, { title: "故障注入推进会", heldOn: "2022-07-01", hostRegionCode: "410300", subVenueRegionCodes: ["410305", "410307"] }),
      );
      expect(statements).toBeGreaterThanOrEqual(4);
      const rows: Array<{ n: number }> = await db.query("SELECT COUNT(*) AS n FROM venue v JOIN meeting m ON m.id = v.meeting_id WHERE m.title = '故障注入推进会'");
      expect(Number(rows[0].n)).toBe(3);
    });
  });

  describe("a write refused by a domain rule leaves every table as it was", () => {
    async function refusedUnchanged(write: () => Promise<unknown>): Promise<unknown> {
      const before = await snapshot(db);
      const code = await write().then(
        () => "applied",
        (error: unknown) => codeOf(error),
      );
      expect(differences(before, await snapshot(db))).toEqual([]);
      return code;
    }

    it("a stale expectedVersion is CONFLICT", async () => {
      const id = await project("过期版本项目", { started: true });
      expect(await refusedUnchanged(() => ledger.updateProject(SYSTEM_ACTOR, String(id), 1, { investment: 9 }))).toBe("CONFLICT");
    });

    it("a stale expectedVersion is CONFLICT even when another writer has made the same advance since", async () => {
      // Two offices read the project at version 1; the first advances it. The second's advance names version 1: it must be told to read again.
      const id = await project("两处同时开工项目");
      await setup.advanceStage(SYSTEM_ACTOR, { projectId: String(id), stage: ProjectStage.STARTED, reachedOn: "2022-05-01", expectedVersion: 1 });
      expect(await refusedUnchanged(() => ledger.advanceStage(SYSTEM_ACTOR, { projectId: String(id), stage: ProjectStage.STARTED, reachedOn: "2022-05-01", expectedVersion: 1 }))).toBe(
        "CONFLICT",
      );
    });

    it("a stage moving backward is BAD_USER_INPUT", async () => {
      const id = await project("倒退阶段项目", { started: true });
      expect(await refusedUnchanged(() => ledger.advanceStage(SYSTEM_ACTOR, { projectId: String(id), stage: ProjectStage.STARTED, reachedOn: "2022-06-01", expectedVersion: 2 }))).toBe(
        "BAD_USER_INPUT",
      );
    });

    it("a date before 1949 is BAD_USER_INPUT", async () => {
      const id = await project("错误日期项目");
      expect(
        await refusedUnchanged(() => ledger.correctMilestoneDate(SYSTEM_ACTOR, { projectId: String(id), stage: ProjectStage.SIGNED, reachedOn: "1900-01-01", reason: "测试", expectedVersion: 1 })),
      ).toBe("BAD_USER_INPUT");
    });

    it("a venue that is not one of the meeting's is BAD_USER_INPUT", async () => {
      const id = await project("错误会场项目");
      expect(
        await refusedUnchanged(() =>
          ledger.advanceStage(SYSTEM_ACTOR, { projectId: String(id), stage: ProjectStage.STARTED, reachedOn: "2022-05-01", meetingId, venueRegionCode: "410200", expectedVersion: 1 }),
        ),
      ).toBe("BAD_USER_INPUT");
    });

    it("4 亿元 in a major-project meeting's STARTED batch is BAD_USER_INPUT", async () => {
      const id = await project("四亿项目", { investment: 4 });
      expect(
        await refusedUnchanged(() =>
          ledger.advanceStage(SYSTEM_ACTOR, { projectId: String(id), stage: ProjectStage.STARTED, reachedOn: "2022-06-01", meetingId: majorMeetingId, expectedVersion: 1 }),
        ),
      ).toBe("BAD_USER_INPUT");
    });

    it("a county's actor writing a neighbouring county's project is FORBIDDEN", async () => {
      const id = await project("邻县项目", { regionCode: "410103" });
      const county: Actor = { tokenId: null, office: "测试县", scopeRegionId: regionIds.get("410102")! };
      expect(await refusedUnchanged(() => ledger.updateProject(county, String(id), 1, { investment: 3 }))).toBe("FORBIDDEN");
    });

    it("a batch whose last project names an unknown sector adds none of them", async () => {
      const drafts = ["410102", "410103"].map((regionCode, i) => ({
        name: `半途失败导入${i}`,
        regionCode,
        sectorCode: i === 1 ? "NO_SUCH_SECTOR" : "SEI_BIO",
        investmentWan: 10_000,
        milestones: [{ stage: ProjectStage.SIGNED, reachedOn: "2022-03-01" }],
      }));
      expect(await refusedUnchanged(() => ledger.addProjects(SYSTEM_ACTOR, drafts))).toBe("BAD_USER_INPUT");
    });

    it("a second meeting of the same title, date and host is CONFLICT", async () => {
      expect(await refusedUnchanged(() => ledger.createMeeting(SYSTEM_ACTOR, { title: "原子性测试推进会", heldOn: "2022-05-01", hostRegionCode: "410000" }))).toBe("CONFLICT");
    });
  });
});
