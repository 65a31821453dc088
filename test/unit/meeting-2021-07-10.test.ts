import * as fs from "fs";
import * as path from "path";
import {
  MEETING_2021_07_10_TITLE,
  generateMeeting20210710,
} from "../../src/seed/meeting-2021-07-10";
import { SECTORS } from "../../src/seed/sectors";
import type { MeetingSeed, MilestoneSeed, ProjectSeed, RegionSeed, StageName } from "../../src/seed/seed.types";

const regions: RegionSeed[] = JSON.parse(
  fs.readFileSync(path.join(__dirname, "../../src/seed/data/henan-divisions.json"), "utf8"),
);

const PROVINCE = "410000";
const HELD_ON = "2021-07-10";
const regionByCode = new Map(regions.map((r) => [r.code, r]));
const sectorByCode = new Map(SECTORS.map((s) => [s.code, s]));
const cityCodes = regions.filter((r) => r.level === "CITY").map((r) => r.code).sort();

/** Code of the city containing a region (a city is its own city). */
function cityOf(code: string): string {
  const r = regionByCode.get(code);
  if (!r) throw new Error(`unknown region ${code}`);
  if (r.level === "CITY") return r.code;
  if (r.level === "COUNTY" && r.parentCode) return r.parentCode;
  throw new Error(`region ${code} is not in a city`);
}

/** True when `code` is `ancestor` or one of its descendants in the sector tree. */
function under(code: string, ancestor: string): boolean {
  for (let s = sectorByCode.get(code); s; s = s.parentCode ? sectorByCode.get(s.parentCode) : undefined) {
    if (s.code === ancestor) return true;
  }
  return false;
}

function meetingMilestone(p: ProjectSeed): MilestoneSeed {
  const at = p.milestones.filter((m) => m.atMeeting);
  expect(at).toHaveLength(1);
  return at[0]!;
}

const sumWan = (ps: readonly ProjectSeed[]): number => ps.reduce((s, p) => s + p.investmentWan, 0);
const YI = 10_000;

describe("generateMeeting20210710", () => {
  let meeting: MeetingSeed;
  let byStage: Record<StageName, ProjectSeed[]>;

  beforeAll(() => {
    meeting = generateMeeting20210710(regions, SECTORS);
    byStage = { SIGNED: [], STARTED: [], IN_PRODUCTION: [] };
    for (const p of meeting.projects) byStage[meetingMilestone(p).stage].push(p);
  });

  it("is the 2021-07-10 meeting hosted by the province with every city as a sub-venue", () => {
    expect(MEETING_2021_07_10_TITLE).toBe("全省重大项目建设暨“三个一批”推进会");
    expect(meeting.title).toBe(MEETING_2021_07_10_TITLE);
    expect(meeting.heldOn).toBe(HELD_ON);
    expect(meeting.hostRegionCode).toBe(PROVINCE);
    expect([...meeting.subVenueRegionCodes].sort()).toEqual(cityCodes);
    expect(meeting.subVenueRegionCodes).toHaveLength(18);
    expect(meeting.subVenueRegionCodes).toContain("419001");
  });

  it("is deterministic", () => {
    expect(generateMeeting20210710(regions, SECTORS)).toEqual(meeting);
    expect(generateMeeting20210710(regions, SECTORS)).toEqual(generateMeeting20210710(regions, SECTORS));
  });

  it("has 1,337 projects, each in exactly one batch", () => {
    expect(meeting.projects).toHaveLength(258 + 555 + 524);
    expect(byStage.SIGNED.length + byStage.STARTED.length + byStage.IN_PRODUCTION.length).toBe(1337);
  });

  it("signed batch: 258 projects, 2860.5 亿元", () => {
    expect(byStage.SIGNED).toHaveLength(258);
    expect(sumWan(byStage.SIGNED)).toBe(2860.5 * YI);
  });

  it("signed 先进制造业 (MFG and sub-sectors): 74 projects, 770 亿元", () => {
    const mfg = byStage.SIGNED.filter((p) => under(p.sectorCode, "MFG"));
    expect(mfg).toHaveLength(74);
    expect(sumWan(mfg)).toBe(770 * YI);
  });

  it("signed 战略性新兴产业 (SEI and sub-sectors): 89 projects, 1133.5 亿元", () => {
    const sei = byStage.SIGNED.filter((p) => under(p.sectorCode, "SEI"));
    expect(sei).toHaveLength(89);
    expect(sumWan(sei)).toBe(1133.5 * YI);
  });

  it("signed elsewhere: 95 projects, 957 亿元", () => {
    const other = byStage.SIGNED.filter((p) => !under(p.sectorCode, "MFG") && !under(p.sectorCode, "SEI"));
    expect(other).toHaveLength(95);
    expect(sumWan(other)).toBe(957 * YI);
  });

  it("main venue: 16 signings, 313.5 亿元, only MFG / RND / HQ / LOG, each present", () => {
    const main = byStage.SIGNED.filter((p) => meetingMilestone(p).venueRegionCode === PROVINCE);
    expect(main).toHaveLength(16);
    expect(sumWan(main)).toBe(313.5 * YI);
    const families = ["MFG", "RND", "HQ", "LOG"];
    for (const p of main) expect(families.some((f) => under(p.sectorCode, f))).toBe(true);
    for (const f of families) expect(main.some((p) => under(p.sectorCode, f))).toBe(true);
    // no other batch is presented at the main venue
    for (const p of [...byStage.STARTED, ...byStage.IN_PRODUCTION]) {
      expect(meetingMilestone(p).venueRegionCode).not.toBe(PROVINCE);
    }
  });

  it("started batch: 555 projects, 7345 亿元, every one ≥ 5 亿元", () => {
    expect(byStage.STARTED).toHaveLength(555);
    expect(sumWan(byStage.STARTED)).toBe(7345 * YI);
    for (const p of byStage.STARTED) expect(p.investmentWan).toBeGreaterThanOrEqual(50_000);
  });

  it("in-production batch: 524 projects, 3621 亿元", () => {
    expect(byStage.IN_PRODUCTION).toHaveLength(524);
    expect(sumWan(byStage.IN_PRODUCTION)).toBe(3621 * YI);
  });

  it("amounts are positive integers in 万元, multiples of 100", () => {
    for (const p of meeting.projects) {
      expect(Number.isInteger(p.investmentWan)).toBe(true);
      expect(p.investmentWan).toBeGreaterThan(0);
      expect(p.investmentWan % 100).toBe(0);
    }
  });

  it("refs and names are unique", () => {
    expect(new Set(meeting.projects.map((p) => p.ref)).size).toBe(meeting.projects.length);
    expect(new Set(meeting.projects.map((p) => p.name)).size).toBe(meeting.projects.length);
    for (const p of meeting.projects) expect(p.name.length).toBeGreaterThan(0);
  });

  it("milestones follow the batch rules", () => {
    for (const p of byStage.SIGNED) {
      expect(p.milestones.map((m) => m.stage)).toEqual(["SIGNED"]);
      expect(p.milestones[0]).toMatchObject({ reachedOn: HELD_ON, atMeeting: true });
    }
    for (const p of byStage.STARTED) {
      expect(p.milestones.map((m) => m.stage)).toEqual(["SIGNED", "STARTED"]);
      const [signed, started] = p.milestones as [MilestoneSeed, MilestoneSeed];
      expect(signed.atMeeting).toBe(false);
      expect(signed.venueRegionCode).toBeNull();
      expect(signed.reachedOn >= "2019-06-01" && signed.reachedOn <= "2021-06-30").toBe(true);
      expect(started).toMatchObject({ reachedOn: HELD_ON, atMeeting: true });
    }
    for (const p of byStage.IN_PRODUCTION) {
      expect(p.milestones.map((m) => m.stage)).toEqual(["SIGNED", "STARTED", "IN_PRODUCTION"]);
      const [signed, started, production] = p.milestones as [MilestoneSeed, MilestoneSeed, MilestoneSeed];
      for (const m of [signed, started]) {
        expect(m.atMeeting).toBe(false);
        expect(m.venueRegionCode).toBeNull();
      }
      expect(signed.reachedOn >= "2017-01-01" && signed.reachedOn <= "2019-12-31").toBe(true);
      expect(started.reachedOn > signed.reachedOn).toBe(true);
      expect(started.reachedOn < "2021-06-30").toBe(true);
      expect(production).toMatchObject({ reachedOn: HELD_ON, atMeeting: true });
    }
    for (const p of meeting.projects) {
      for (const m of p.milestones) expect(m.reachedOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(p.milestones[p.milestones.length - 1]!.atMeeting).toBe(true);
    }
  });

  it("venue: the province for main-venue signings, otherwise the project's city", () => {
    let main = 0;
    for (const p of meeting.projects) {
      const venue = meetingMilestone(p).venueRegionCode;
      if (venue === PROVINCE) {
        main++;
        expect(meetingMilestone(p).stage).toBe("SIGNED");
      } else {
        expect(venue).toBe(cityOf(p.regionCode));
      }
    }
    expect(main).toBe(16);
    const jiyuan = meeting.projects.filter((p) => cityOf(p.regionCode) === "419001");
    expect(jiyuan.length).toBeGreaterThan(0);
    for (const p of jiyuan) {
      expect(p.regionCode).toBe("419001");
      const venue = meetingMilestone(p).venueRegionCode;
      expect(venue === "419001" || venue === PROVINCE).toBe(true);
    }
  });

  it("every region and sector exists in the inputs, and no project sits at the province", () => {
    for (const p of meeting.projects) {
      expect(regionByCode.has(p.regionCode)).toBe(true);
      expect(regionByCode.get(p.regionCode)!.level).not.toBe("PROVINCE");
      expect(sectorByCode.has(p.sectorCode)).toBe(true);
    }
  });

  it("every city has projects in every batch", () => {
    for (const stage of ["SIGNED", "STARTED", "IN_PRODUCTION"] as const) {
      const present = new Set(byStage[stage].map((p) => cityOf(p.regionCode)));
      expect([...present].sort()).toEqual(cityCodes);
    }
    // 郑州 has the most projects
    const perCity = new Map<string, number>();
    for (const p of meeting.projects) perCity.set(cityOf(p.regionCode), (perCity.get(cityOf(p.regionCode)) ?? 0) + 1);
    const max = Math.max(...perCity.values());
    expect(perCity.get("410100")).toBe(max);
  });

  it("has exactly the two named real projects as synthetic: false", () => {
    const real = meeting.projects.filter((p) => !p.synthetic);
    expect(real.map((p) => p.name).sort()).toEqual(["华锐光电第5代TFT-LCD项目", "安图生物德迈药业产业园"].sort());
    const autobio = real.find((p) => p.name === "安图生物德迈药业产业园")!;
    expect(meetingMilestone(autobio).stage).toBe("STARTED");
    expect(autobio.sectorCode).toBe("SEI_BIO");
    expect(autobio.regionCode).toBe("410104");
    expect(meetingMilestone(autobio).venueRegionCode).toBe("410100");
    const huarui = real.find((p) => p.name === "华锐光电第5代TFT-LCD项目")!;
    expect(meetingMilestone(huarui).stage).toBe("IN_PRODUCTION");
    expect(huarui.sectorCode).toBe("SEI_ICT");
    expect(huarui.regionCode).toBe("410184");
    expect(meetingMilestone(huarui).venueRegionCode).toBe("410100");
    for (const p of meeting.projects) expect(typeof p.synthetic).toBe("boolean");
  });

  it("does not depend on the order of its inputs", () => {
    expect(generateMeeting20210710([...regions].reverse(), [...SECTORS].reverse())).toEqual(meeting);
  });
});
