/**
 * The rollups answer exactly what the base tables answer, for every filter
 * field and every scope, including projects that move on from one meeting to
 * the next and a project presented twice at one meeting.
 */
import type { DataSource } from "typeorm";

import { ProjectStage } from "../../src/common/stage";
import { SYSTEM_ACTOR } from "../../src/ledger/actor";
import { systemLedger } from "../../src/ledger/system-ledger";
import { resolveFilter } from "../../src/filter/resolved-filter";
import type { ProjectFilter } from "../../src/filter/project-filter.input";
import { seedDatabase } from "../../src/seed/seed";
import { createContext } from "../../src/server/context";
import { ProjectStats } from "../../src/stats/project-stats.type";
import { verifyRollups } from "../../src/stats/rollups";
import { createStatsLoader } from "../../src/stats/stats.loader";
import { rollupPlan } from "../../src/filter/grouped-queries";
import { computeBreakdown } from "../../src/stats/breakdown";
import type { BreakdownDimension, BreakdownRow } from "../../src/stats/breakdown.type";
import { RegionLevel } from "../../src/region/region-level";
import type { ProjectScope } from "../../src/filter/project-scope";
import { DB_KINDS, type ScratchDatabase, openScratchDataSource } from "../support/databases";
import { advanceProjects, createMeeting } from "../support/ledger";

/** A plain, comparable picture of a ProjectStats. */
function picture(stats: ProjectStats) {
  return {
    count: stats.projectCount,
    wan: stats.totalInvestment(null),
    bySector: stats.bySector().map((r) => [r.sector.code, r.projectCount, r.totalInvestment(null)]),
    subSectors: stats.bySector("SEI").map((r) => [r.sector.code, r.projectCount]),
    byStage: stats.byStage().map((r) => [r.stage, r.projectCount, r.totalInvestment(null)]),
  };
}

describe.each(DB_KINDS)("rollups against base tables on %s", (kind) => {
  let scratch: ScratchDatabase;
  let db: DataSource;
  let firstMeeting: number;
  let secondMeeting: number;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    ({ scratch, db } = await openScratchDataSource(kind));
    await db.runMigrations();
    await seedDatabase(db);
    firstMeeting = Number((await db.query("SELECT id FROM meeting"))[0].id);
    for (const row of await db.query("SELECT id, code FROM region WHERE code IN ('410000', '410100', '410300', '410102', '419001')")) ids[row.code] = Number(row.id);
    for (const row of await db.query("SELECT id, code FROM sector WHERE code IN ('MFG', 'SEI', 'SEI_BIO', 'RND')")) ids[row.code] = Number(row.id);

    // A second meeting: 40 projects signed at the first one start at it, and two new projects are signed and started at it.
    secondMeeting = await createMeeting(db, "第二期推进会", "2021-10-20", "410000", ["410100"]);
    const advancing: number[] = (await db.query("SELECT project_id FROM milestone WHERE meeting_id = ? AND stage = 1 ORDER BY project_id LIMIT 40", [firstMeeting])).map(
      (r: { project_id: number }) => Number(r.project_id),
    );
    await advanceProjects(db, advancing, { stage: 2, reachedOn: "2021-10-20", meetingId: secondMeeting, venueRegionId: ids["410100"] });
    await systemLedger(db).addProjects(
      SYSTEM_ACTOR,
      ["同会签约开工项目甲", "同会签约开工项目乙"].map((name) => ({
        name,
        regionCode: "410102",
        sectorCode: "SEI_BIO",
        investmentWan: 123_400,
        synthetic: true,
        milestones: [
          { stage: ProjectStage.SIGNED, reachedOn: "2021-10-20", meetingId: secondMeeting, venueRegionCode: "410100" },
          { stage: ProjectStage.STARTED, reachedOn: "2021-10-20", meetingId: secondMeeting, venueRegionCode: null },
        ],
      })),
    );
  });

  afterAll(async () => {
    await db?.destroy();
    await scratch?.drop();
  });

  it("the rollups still equal the base tables after the second meeting", async () => {
    expect(await verifyRollups(db)).toEqual([]);
  });

  const filters: Array<[string, (m1: string, m2: string) => ProjectFilter | null, boolean]> = [
    ["no filter", () => null, true],
    ["stages", () => ({ stages: ["STARTED", "IN_PRODUCTION"] }) as ProjectFilter, true],
    ["sectorCodes", () => ({ sectorCodes: ["SEI", "RND"] }) as ProjectFilter, true],
    ["regionCodes", () => ({ regionCodes: ["410100", "419001"] }) as ProjectFilter, true],
    ["meetingId", (_m1, m2) => ({ meetingId: m2 }) as ProjectFilter, true],
    ["milestone at a meeting", (m1) => ({ milestone: { stage: "SIGNED", meetingId: m1 } }) as ProjectFilter, true],
    ["milestone at the same meeting as meetingId", (_m1, m2) => ({ meetingId: m2, milestone: { stage: "SIGNED", meetingId: m2 } }) as ProjectFilter, true],
    ["milestone and meetingId of different meetings", (m1, m2) => ({ meetingId: m2, milestone: { stage: "SIGNED", meetingId: m1 } }) as ProjectFilter, false],
    ["milestone dates", () => ({ milestone: { stage: "STARTED", from: "2021-07-01", to: "2021-12-31" } }) as ProjectFilter, false],
    ["milestone stage only", () => ({ milestone: { stage: "STARTED" } }) as ProjectFilter, false],
    ["minInvestment", () => ({ minInvestment: 12.5 }) as ProjectFilter, false],
    ["maxInvestment", () => ({ maxInvestment: 3 }) as ProjectFilter, false],
    ["nameContains", () => ({ nameContains: "项目" }) as ProjectFilter, false],
    ["all dimensions with a meeting", (m1) => ({ stages: ["STARTED"], sectorCodes: ["SEI"], regionCodes: ["410100"], milestone: { stage: "SIGNED", meetingId: m1 } }) as ProjectFilter, true],
  ];

  it.each(filters)("%s: same stats from rollups and base tables, for every kind of scope", async (_label, make, answeredByRollups) => {
    const filter = make(String(firstMeeting), String(secondMeeting));
    const rollups = createContext(db, { useRollups: true, shared: null });
    const base = createContext(db, { useRollups: false, shared: null });
    expect(rollupPlan(await resolveFilter(filter, rollups)) !== null).toBe(answeredByRollups);
    const scopes: ProjectScope[] = [
      { kind: "all" },
      { kind: "region", regionId: ids["410000"] },
      { kind: "region", regionId: ids["410100"] },
      { kind: "region", regionId: ids["410102"] },
      { kind: "region", regionId: ids["419001"] },
      { kind: "sector", sectorId: ids.SEI },
      { kind: "sector", sectorId: ids.SEI_BIO },
      ...[firstMeeting, secondMeeting].flatMap((meetingId) =>
        [1, 2, 3].flatMap((stage) => [
          { kind: "batch" as const, meetingId, stage, venueRegionId: null },
          { kind: "batch" as const, meetingId, stage, venueRegionId: ids["410000"] },
          { kind: "batch" as const, meetingId, stage, venueRegionId: ids["410100"] },
        ]),
      ),
    ];
    const fromRollups = await Promise.all(scopes.map((scope) => rollups.loader(createStatsLoader).load({ scope, filter })));
    const fromBase = await Promise.all(scopes.map((scope) => base.loader(createStatsLoader).load({ scope, filter })));
    expect(fromRollups.map(picture)).toEqual(fromBase.map(picture));
    expect(fromBase.some((s) => s.projectCount > 0)).toBe(true);
  });

  it.each(filters)("%s: same breakdowns from rollups and base tables", async (_label, make) => {
    const filter = make(String(firstMeeting), String(secondMeeting));
    const rollups = createContext(db, { useRollups: true, shared: null });
    const base = createContext(db, { useRollups: false, shared: null });
    const flat = (rows: BreakdownRow[]) =>
      rows.map((r) => [r.region?.code, r.sector?.code, r.stage, r.meeting?.id, r.year, r.quarter, r.projectCount, r.totalInvestment(null)]);
    for (const groupBy of [[], ["REGION", "SECTOR"], ["STAGE"], ["MEETING", "STAGE"], ["MEETING", "REGION", "SECTOR"], ["SECTOR", "STAGE"]] as BreakdownDimension[][]) {
      for (const regionLevel of [RegionLevel.CITY, RegionLevel.COUNTY]) {
        const request = { groupBy, filter, regionLevel };
        expect([groupBy, flat(await computeBreakdown(rollups, request))]).toEqual([groupBy, flat(await computeBreakdown(base, request))]);
      }
    }
  });

  it("counts a project presented twice at one meeting once for the meeting and once per batch", async () => {
    const ctx = createContext(db, { useRollups: true, shared: null });
    const m2 = String(secondMeeting);
    const [meeting, signed, started] = await Promise.all([
      ctx.loader(createStatsLoader).load({ scope: { kind: "all" }, filter: { meetingId: m2 } as ProjectFilter }),
      ctx.loader(createStatsLoader).load({ scope: { kind: "batch", meetingId: secondMeeting, stage: 1, venueRegionId: null } }),
      ctx.loader(createStatsLoader).load({ scope: { kind: "batch", meetingId: secondMeeting, stage: 2, venueRegionId: null } }),
    ]);
    expect(signed.projectCount).toBe(2);
    expect(started.projectCount).toBe(42);
    expect(meeting.projectCount).toBe(42);
  });

  it("the funnel: of the projects signed at the first meeting, byStage tells how many have since started", async () => {
    const ctx = createContext(db, { useRollups: true, shared: null });
    const stats = await ctx.loader(createStatsLoader).load({ scope: { kind: "batch", meetingId: firstMeeting, stage: 1, venueRegionId: null } });
    expect(stats.projectCount).toBe(258);
    expect(stats.byStage().map((r) => [r.stage, r.projectCount])).toEqual([
      ["SIGNED", 218],
      ["STARTED", 40],
    ]);
  });
});
