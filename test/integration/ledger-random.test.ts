/**
 * A seeded random sequence of 1,200 mixed writes through the ledger — creates,
 * edits (amount, sector, a move to another county of Henan), advances with
 * and without meeting venues, presentations at meetings, date corrections,
 * new meetings, batches added through the ledger, imports of ledger CSV files
 * (new references, advances and updates of known ones, rows re-imported
 * unchanged, dry runs) and deliberately refused writes (a file with a bad row,
 * a county's office importing a neighbour's row among them) — checked against
 * a model of what the rules say each write does. Afterwards the
 * rollups verify clean and equal both a GROUP BY over the projects and the
 * model's totals, every project and milestone is as the model says, and the
 * history holds every applied change, one per project version.
 */
import type { DataSource } from "typeorm";

import { AppError } from "../../src/common/errors";
import { ProjectStage, stageFromNumber } from "../../src/common/stage";
import { loadTrees, type Trees } from "../../src/common/trees";
import { DEFAULT_LEDGER_FUTURE_DAYS } from "../../src/config";
import { type ImportReport, importLedger } from "../../src/import/import-ledger";
import { type Actor, SYSTEM_ACTOR } from "../../src/ledger/actor";
import { Ledger, MAJOR_STARTED_MIN_WAN, type ProjectDraft } from "../../src/ledger/ledger";
import { seedDatabase } from "../../src/seed/seed";
import { verifyRollups } from "../../src/stats/rollups";
import { mulberry32 } from "../../bench/generate";
import { DB_KINDS, type ScratchDatabase, openScratchDataSource } from "../support/databases";

const WRITES = 1_200;
const SEED = 0x1ed9_e5;
/** The ledger's today (pinned: the date rules do not move with the calendar) and the latest date it accepts. */
const TODAY = "2023-06-30";
const LATEST = "2023-07-31";

/** PROBLEMS: an import answered with bad rows (nothing written); DRY_RUN: an import's dry run reported what it would do (nothing written). */
type Outcome = "APPLIED" | "CONFLICT" | "BAD_USER_INPUT" | "FORBIDDEN" | "PROBLEMS" | "DRY_RUN";

interface ModelMilestone {
  stage: number;
  reachedOn: string;
  meetingId: number | null;
  venueRegionId: number | null;
}

/** A project as the rules say it must be stored. */
interface ModelProject {
  id: number;
  /** The ledger reference (台账编号) an import finds it by; null for projects created without one. */
  ref: string | null;
  name: string;
  regionId: number;
  sectorId: number;
  wan: number;
  investor: string | null;
  version: number;
  /** In stage order; the last one is the current stage. */
  milestones: ModelMilestone[];
  /** The operations of its history, one per version. */
  operations: string[];
}

interface ModelMeeting {
  id: number;
  major: boolean;
  /** Region ids of the main venue and the sub-venues. */
  venues: number[];
}

/** One write of the sequence: what it is, what the rules say it does, and what it changes in the model when it applies. */
interface Step {
  kind: string;
  expect: Outcome;
  /** The project whose rows a refused write must leave as they are. */
  projectId?: number;
  /** History rows the write appends when it applies. */
  changes: number;
  run(): Promise<{ value: unknown }>;
  /** The outcome of a write that did not throw (APPLIED when absent): an import's report says what happened. */
  judge?(value: unknown): string;
  commit(value: unknown): void;
}

/** The header of the ledger files the sequence imports (the English column names). */
const CSV_HEADER = "ref,name,regionCode,sectorCode,investment,investor,stage,date,meetingId,venueRegionCode";
/** A CSV cell, quoted when it must be. */
const cell = (value: string) => (/[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;
const iso = (n: number) => new Date(n * 86_400_000).toISOString().slice(0, 10);
const addDays = (date: string, n: number) => iso(day(date) + n);
const minDate = (a: string, b: string) => (a < b ? a : b);

/** Counts and sums of every table the ledger writes, and the rows of one project: a refused write must leave them as they were. */
async function fingerprint(db: DataSource, projectId: number | undefined): Promise<string> {
  const sums = await db.query(
    [
      "SELECT 'project' AS t, COUNT(*) AS a, SUM(version) AS b, SUM(investment_wan + stage + region_id * 7 + sector_id * 11) AS c FROM project",
      "SELECT 'milestone', COUNT(*), COUNT(meeting_id), SUM(stage + COALESCE(venue_region_id, 0)) FROM milestone",
      "SELECT 'meeting', COUNT(*), MAX(id), 0 FROM meeting",
      "SELECT 'venue', COUNT(*), MAX(id), 0 FROM venue",
      "SELECT 'ledger_change', COUNT(*), MAX(id), 0 FROM ledger_change",
      "SELECT 'data_version', COUNT(*), SUM(version), 0 FROM data_version",
      "SELECT 'rollup_region', COUNT(*), SUM(project_count), SUM(investment_wan) FROM rollup_region",
      "SELECT 'rollup_meeting', COUNT(*), SUM(project_count), SUM(investment_wan) FROM rollup_meeting",
      "SELECT 'rollup_batch', COUNT(*), SUM(project_count), SUM(investment_wan) FROM rollup_batch",
    ].join(" UNION ALL "),
  );
  const project = projectId === undefined ? [] : await db.query("SELECT * FROM project WHERE id = ?", [projectId]);
  const milestones = projectId === undefined ? [] : await db.query("SELECT * FROM milestone WHERE project_id = ? ORDER BY stage", [projectId]);
  return JSON.stringify({ sums: sums.map((r: Record<string, unknown>) => [r.t, Number(r.a), Number(r.b), Number(r.c)]), project, milestones });
}

describe.each(DB_KINDS)("a random sequence of writes on %s", (kind) => {
  let scratch: ScratchDatabase;
  let db: DataSource;
  let trees: Trees;
  const projects = new Map<number, ModelProject>();
  const meetings: ModelMeeting[] = [];
  /** History rows before the sequence, and the ones its applied writes appended. */
  let historyBefore = 0;
  let historyAppended = 0;
  const counts = new Map<string, number>();
  /** Rows of the imports that went in, by what they did. */
  const importedRows = { created: 0, advanced: 0, updated: 0, unchanged: 0 };
  /** A write whose outcome was not the rules' (the sequence stops there). */
  let mismatch: { step: number; kind: string; expected: Outcome; got: string } | null = null;
  /** Refused writes after which a table was not as before. */
  const leaks: Array<{ step: number; kind: string }> = [];
  let steps = 0;

  beforeAll(async () => {
    ({ scratch, db } = await openScratchDataSource(kind));
    await db.runMigrations();
    await seedDatabase(db);
    trees = await loadTrees(db);
    const ledger = new Ledger(db, { futureDays: DEFAULT_LEDGER_FUTURE_DAYS, today: () => TODAY }, async () => trees);
    const regions = trees.regions;
    const province = regions.byCode("410000")!;
    const cities = regions.children(province.id);
    const leaves = regions.all().filter((r) => r.parentId !== null && regions.children(r.id).length === 0);
    const sectorIds = trees.sectors.all().map((s) => s.id);
    const codeOf = (regionId: number) => regions.byId(regionId)!.code;
    const sectorCode = (sectorId: number) => trees.sectors.byId(sectorId)!.code;
    const cityOf = (regionId: number) => regions.lineageOf(regionId)[1];

    // The model starts from what the seed stored.
    for (const row of await db.query("SELECT id, ref, name, region_id, sector_id, investment_wan, investor, version FROM project")) {
      projects.set(Number(row.id), {
        id: Number(row.id),
        ref: row.ref === null ? null : String(row.ref),
        name: row.name,
        regionId: Number(row.region_id),
        sectorId: Number(row.sector_id),
        wan: Number(row.investment_wan),
        investor: row.investor,
        version: Number(row.version),
        milestones: [],
        operations: [],
      });
    }
    for (const row of await db.query("SELECT project_id, stage, reached_on, meeting_id, venue_region_id FROM milestone ORDER BY project_id, stage")) {
      projects.get(Number(row.project_id))!.milestones.push({
        stage: Number(row.stage),
        reachedOn: String(row.reached_on).slice(0, 10),
        meetingId: row.meeting_id === null ? null : Number(row.meeting_id),
        venueRegionId: row.venue_region_id === null ? null : Number(row.venue_region_id),
      });
    }
    for (const row of await db.query("SELECT project_id, operation FROM ledger_change WHERE project_id IS NOT NULL ORDER BY project_version")) {
      projects.get(Number(row.project_id))!.operations.push(row.operation);
    }
    for (const row of await db.query("SELECT m.id, m.major_projects, v.region_id FROM meeting m JOIN venue v ON v.meeting_id = m.id ORDER BY m.id, v.region_id")) {
      let meeting = meetings.find((m) => m.id === Number(row.id));
      if (!meeting) meetings.push((meeting = { id: Number(row.id), major: Boolean(Number(row.major_projects)), venues: [] }));
      meeting.venues.push(Number(row.region_id));
    }
    historyBefore = Number((await db.query("SELECT COUNT(*) AS n FROM ledger_change"))[0].n);

    const rnd = mulberry32(SEED);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)];
    const chance = (p: number) => rnd() < p;
    const between = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
    const ids: number[] = [...projects.keys()];
    const anyProject = () => projects.get(pick(ids))!;
    const stageOf = (p: ModelProject) => p.milestones[p.milestones.length - 1].stage;
    const reachedOf = (p: ModelProject) => p.milestones[p.milestones.length - 1].reachedOn;
    const randomWan = () => (chance(0.3) ? between(MAJOR_STARTED_MIN_WAN, 2_000_000) : between(1, MAJOR_STARTED_MIN_WAN - 1));
    const randomDate = () => iso(between(day("2021-01-01"), day(TODAY)));
    /** No milestone of it is in the STARTED batch of a major-project meeting (its amount may drop below 5 亿元). */
    const startedAtMajor = (p: ModelProject) => p.milestones.some((m) => m.stage === 2 && m.meetingId !== null && meetings.find((x) => x.id === m.meetingId)!.major);
    /** A meeting whose `stage` batch takes a project of `wan`, with one of its venues or none. */
    const placementFor = (stage: number, wan: number): { meetingId: number | null; venueRegionId: number | null } => {
      const open = meetings.filter((m) => !(m.major && stage === 2 && wan < MAJOR_STARTED_MIN_WAN));
      if (open.length === 0 || chance(0.5)) return { meetingId: null, venueRegionId: null };
      const meeting = pick(open);
      return { meetingId: meeting.id, venueRegionId: chance(0.6) ? pick(meeting.venues) : null };
    };
    const meetingArgs = (at: { meetingId: number | null; venueRegionId: number | null }) => ({
      meetingId: at.meetingId === null ? null : String(at.meetingId),
      venueRegionCode: at.venueRegionId === null ? null : codeOf(at.venueRegionId),
    });
    const bump = (p: ModelProject, operation: string) => {
      p.version += 1;
      p.operations.push(operation);
    };
    const addToModel = (id: number, draft: { ref?: string; name: string; regionId: number; sectorId: number; wan: number; investor: string | null; milestones: ModelMilestone[] }) => {
      projects.set(id, { id, ref: null, ...draft, version: 1, operations: ["CREATE_PROJECT"] });
      ids.push(id);
    };
    const randomMilestones = (wan: number): ModelMilestone[] => {
      const stages = pick([[1], [1], [1, 2], [1, 2, 3], [2], [1, 3]]);
      let date = randomDate();
      return stages.map((stage) => {
        date = minDate(addDays(date, between(0, 60)), TODAY);
        return { stage, reachedOn: date, ...placementFor(stage, wan) };
      });
    };
    const draftOf = (m: { name: string; regionId: number; sectorId: number; wan: number; investor: string | null; milestones: ModelMilestone[] }): ProjectDraft => ({
      name: m.name,
      regionCode: codeOf(m.regionId),
      sectorCode: sectorCode(m.sectorId),
      investmentWan: m.wan,
      investor: m.investor,
      milestones: m.milestones.map((x) => ({ stage: stageFromNumber(x.stage), reachedOn: x.reachedOn, ...meetingArgs(x), meetingId: x.meetingId })),
    });
    /** An actor whose token covers one city (or one county), for writes inside and outside it. */
    const scoped = (regionId: number): Actor => ({ tokenId: null, office: `测试${codeOf(regionId)}`, scopeRegionId: regionId });

    // ---- the writes that apply ----

    const createProject = (n: number): Step => {
      const wan = randomWan();
      const stage = chance(0.8) ? 1 : 2;
      const reachedOn = randomDate();
      const at = placementFor(stage, wan);
      const m = { name: `随机项目${n}`, regionId: pick(leaves).id, sectorId: pick(sectorIds), wan, investor: chance(0.5) ? `投资方${n % 17}` : null, milestones: [{ stage, reachedOn, ...at }] };
      return {
        kind: "createProject",
        expect: "APPLIED",
        changes: 1,
        run: () =>
          ledger.createProject(SYSTEM_ACTOR, {
            name: m.name,
            regionCode: codeOf(m.regionId),
            sectorCode: sectorCode(m.sectorId),
            investment: wan / 10_000,
            investor: m.investor,
            stage: stageFromNumber(stage),
            reachedOn,
            ...meetingArgs(at),
          }),
        commit: (id) => addToModel(Number(id), m),
      };
    };

    const updateProject = (n: number): Step => {
      const p = anyProject();
      const city = cityOf(p.regionId);
      const byCity = chance(0.2);
      const input: { investment?: number; sectorCode?: string; regionCode?: string; name?: string; investor?: string | null } = {};
      const next = { wan: p.wan, sectorId: p.sectorId, regionId: p.regionId, name: p.name, investor: p.investor };
      if (chance(0.6)) {
        next.wan = startedAtMajor(p) ? between(MAJOR_STARTED_MIN_WAN, 2_000_000) : randomWan();
        input.investment = next.wan / 10_000;
      }
      if (chance(0.3)) input.sectorCode = sectorCode((next.sectorId = pick(sectorIds)));
      if (chance(0.25)) {
        // A move within Henan; a city's office moves only within its city.
        const places = byCity ? leaves.filter((r) => cityOf(r.id).id === city.id) : leaves;
        input.regionCode = codeOf((next.regionId = pick(places).id));
      }
      if (chance(0.1)) input.name = next.name = `改名项目${n}`;
      if (chance(0.1)) input.investor = next.investor = chance(0.5) ? null : `新投资方${n}`;
      const changed = next.wan !== p.wan || next.sectorId !== p.sectorId || next.regionId !== p.regionId || next.name !== p.name || next.investor !== p.investor;
      return {
        kind: byCity ? "updateProject by a city's office" : "updateProject",
        expect: "APPLIED",
        projectId: p.id,
        changes: changed ? 1 : 0,
        run: () => ledger.updateProject(byCity ? scoped(city.id) : SYSTEM_ACTOR, String(p.id), p.version, input),
        commit: () => {
          if (!changed) return;
          Object.assign(p, next);
          bump(p, "UPDATE_PROJECT");
        },
      };
    };

    const advanceStage = (): Step | null => {
      const p = anyProject();
      if (stageOf(p) === 3) return null;
      const stage = stageOf(p) === 1 && chance(0.2) ? 3 : stageOf(p) + 1;
      const reachedOn = minDate(addDays(reachedOf(p), between(0, 120)), LATEST);
      const at = placementFor(stage, p.wan);
      return {
        kind: at.meetingId === null ? "advanceStage" : "advanceStage at a meeting",
        expect: "APPLIED",
        projectId: p.id,
        changes: 1,
        run: () => ledger.advanceStage(SYSTEM_ACTOR, { projectId: String(p.id), stage: stageFromNumber(stage), reachedOn, ...meetingArgs(at), expectedVersion: p.version }),
        commit: () => {
          p.milestones.push({ stage, reachedOn, ...at });
          bump(p, "ADVANCE_STAGE");
        },
      };
    };

    const recordAtMeeting = (): Step | null => {
      const p = anyProject();
      const free = p.milestones.filter((m) => m.meetingId === null);
      if (free.length === 0) return null;
      const milestone = pick(free);
      const at = placementFor(milestone.stage, p.wan);
      if (at.meetingId === null) return null;
      return {
        kind: "recordAtMeeting",
        expect: "APPLIED",
        projectId: p.id,
        changes: 1,
        run: () =>
          ledger.recordAtMeeting(SYSTEM_ACTOR, {
            projectId: String(p.id),
            stage: stageFromNumber(milestone.stage),
            meetingId: String(at.meetingId),
            venueRegionCode: meetingArgs(at).venueRegionCode,
            expectedVersion: p.version,
          }),
        commit: () => {
          Object.assign(milestone, at);
          bump(p, "RECORD_AT_MEETING");
        },
      };
    };

    const correctMilestoneDate = (): Step | null => {
      const p = anyProject();
      const i = Math.floor(rnd() * p.milestones.length);
      const milestone = p.milestones[i];
      const lo = p.milestones[i - 1]?.reachedOn ?? "2019-01-01";
      const hi = p.milestones[i + 1]?.reachedOn ?? TODAY;
      if (day(hi) - day(lo) < 1) return null;
      let reachedOn = iso(between(day(lo), day(hi)));
      if (reachedOn === milestone.reachedOn) reachedOn = reachedOn === hi ? lo : hi;
      return {
        kind: "correctMilestoneDate",
        expect: "APPLIED",
        projectId: p.id,
        changes: 1,
        run: () => ledger.correctMilestoneDate(SYSTEM_ACTOR, { projectId: String(p.id), stage: stageFromNumber(milestone.stage), reachedOn, reason: "核对台账更正", expectedVersion: p.version }),
        commit: () => {
          milestone.reachedOn = reachedOn;
          bump(p, "CORRECT_MILESTONE_DATE");
        },
      };
    };

    const createMeeting = (n: number): Step => {
      const host = chance(0.4) ? province : pick(cities);
      const below = regions.children(host.id);
      const subs = [...new Set(Array.from({ length: between(0, Math.min(4, below.length)) }, () => pick(below).id))];
      const major = chance(0.3);
      return {
        kind: "createMeeting",
        expect: "APPLIED",
        changes: 1,
        run: () => ledger.createMeeting(SYSTEM_ACTOR, { title: `随机推进会${n}`, heldOn: randomDate(), hostRegionCode: host.code, subVenueRegionCodes: subs.map(codeOf), majorProjects: major }),
        commit: (id) => meetings.push({ id: Number(id), major, venues: [host.id, ...subs] }),
      };
    };

    const importBatch = (n: number): Step => {
      const batch = Array.from({ length: between(2, 15) }, (_, j) => {
        const wan = randomWan();
        return { name: `导入项目${n}-${j}`, regionId: pick(leaves).id, sectorId: pick(sectorIds), wan, investor: null, milestones: randomMilestones(wan) };
      });
      return {
        kind: "addProjects (a batch)",
        expect: "APPLIED",
        changes: batch.length,
        run: () => ledger.addProjects(SYSTEM_ACTOR, batch.map(draftOf)),
        commit: (value) => (value as number[]).forEach((id, j) => addToModel(id, batch[j])),
      };
    };

    // ---- the writes the rules refuse ----

    const refused = (kind: string, expect: Outcome, p: ModelProject | undefined, run: () => Promise<{ value: unknown }>): Step => ({
      kind,
      expect,
      projectId: p?.id,
      changes: 0,
      run,
      commit: () => undefined,
    });

    const staleVersion = (): Step | null => {
      const p = anyProject();
      if (p.version < 2) return null;
      return refused("stale expectedVersion", "CONFLICT", p, () => ledger.updateProject(SYSTEM_ACTOR, String(p.id), p.version - 1, { investment: (p.wan + 1) / 10_000 }));
    };

    const backwardStage = (): Step | null => {
      const p = anyProject();
      if (stageOf(p) < 2) return null;
      const stage = between(2, stageOf(p));
      return refused("backward stage", "BAD_USER_INPUT", p, () =>
        ledger.advanceStage(SYSTEM_ACTOR, { projectId: String(p.id), stage: stageFromNumber(stage), reachedOn: TODAY, expectedVersion: p.version }),
      );
    };

    const badDate = (): Step | null => {
      const p = anyProject();
      if (stageOf(p) === 3) return null;
      const reachedOn = pick([addDays(reachedOf(p), -1), "1948-12-31", addDays(LATEST, 1), "2023-02-29", "2023-13-01"]);
      return refused("bad date", "BAD_USER_INPUT", p, () =>
        ledger.advanceStage(SYSTEM_ACTOR, { projectId: String(p.id), stage: stageFromNumber(stageOf(p) + 1), reachedOn, expectedVersion: p.version }),
      );
    };

    const underMajor = (): Step | null => {
      const p = anyProject();
      const major = meetings.filter((m) => m.major);
      if (stageOf(p) !== 1 || p.wan >= MAJOR_STARTED_MIN_WAN || major.length === 0) return null;
      const meeting = pick(major);
      return refused("under 5 亿元 in a major meeting's STARTED batch", "BAD_USER_INPUT", p, () =>
        ledger.advanceStage(SYSTEM_ACTOR, { projectId: String(p.id), stage: ProjectStage.STARTED, reachedOn: minDate(addDays(reachedOf(p), 1), TODAY), meetingId: String(meeting.id), expectedVersion: p.version }),
      );
    };

    const foreignVenue = (): Step | null => {
      const p = anyProject();
      if (stageOf(p) === 3) return null;
      const meeting = pick(meetings);
      const outside = leaves.filter((r) => !meeting.venues.includes(r.id));
      return refused("venue not of the meeting", "BAD_USER_INPUT", p, () =>
        ledger.advanceStage(SYSTEM_ACTOR, {
          projectId: String(p.id),
          stage: stageFromNumber(stageOf(p) + 1),
          reachedOn: minDate(addDays(reachedOf(p), 1), TODAY),
          meetingId: String(meeting.id),
          venueRegionCode: codeOf(pick(outside).id),
          expectedVersion: p.version,
        }),
      );
    };

    const neighbour = (): Step | null => {
      const p = anyProject();
      const siblings = regions.children(regions.byId(p.regionId)!.parentId!).filter((r) => r.id !== p.regionId);
      if (siblings.length === 0 || startedAtMajor(p)) return null;
      const county = scoped(pick(siblings).id);
      return refused("a county's office writing a neighbour's project", "FORBIDDEN", p, () => ledger.updateProject(county, String(p.id), p.version, { investment: (p.wan + 1) / 10_000 }));
    };

    const badImport = (n: number): Step => {
      const batch = Array.from({ length: between(2, 6) }, (_, j) => {
        const wan = randomWan();
        return { name: `坏导入${n}-${j}`, regionId: pick(leaves).id, sectorId: pick(sectorIds), wan, investor: null, milestones: randomMilestones(wan) };
      });
      const drafts = batch.map(draftOf);
      const last = drafts[drafts.length - 1];
      drafts[drafts.length - 1] = chance(0.5) ? { ...last, sectorCode: "NO_SUCH_SECTOR" } : { ...last, regionCode: "410100" }; // a city with counties
      return refused("addProjects with a bad row", "BAD_USER_INPUT", undefined, () => ledger.addProjects(SYSTEM_ACTOR, drafts));
    };


    // ---- imports of ledger files (importLedger, as `npm run import` and POST /import/projects.csv run it) ----

    type Counts = { created: number; advanced: number; updated: number; unchanged: number };
    type ImportResult = { report: ImportReport; ids: Map<string, number> };
    /** One row of a file, and what it does when the file goes in. */
    interface FileRow {
      cells: string[];
      kind: keyof Counts;
      /** History rows it appends: one per ledger operation (an advance that also changes the project's own fields is two). */
      changes: number;
      /** A new reference: the project the model gains, under the id the database gave it. */
      fresh?: { ref: string; name: string; regionId: number; sectorId: number; wan: number; investor: string | null; milestones: ModelMilestone[] };
      /** A known reference: what the row does to its project in the model. */
      apply?: () => void;
    }
    type Place = (typeof leaves)[number];
    const cellsOf = (r: { ref: string | null; name: string; regionId: number; sectorId: number; wan: number; investor: string | null }, m: ModelMilestone): string[] => [
      r.ref!,
      r.name,
      codeOf(r.regionId),
      sectorCode(r.sectorId),
      String(r.wan / 10_000),
      r.investor ?? "",
      stageFromNumber(m.stage),
      m.reachedOn,
      m.meetingId === null ? "" : String(m.meetingId),
      m.venueRegionId === null ? "" : codeOf(m.venueRegionId),
    ];
    const csvOf = (rows: string[][]) => [CSV_HEADER, ...rows.map((r) => r.map(cell).join(","))].join("\r\n") + "\r\n";
    const tally = (rows: FileRow[]): Counts => {
      const counts: Counts = { created: 0, advanced: 0, updated: 0, unchanged: 0 };
      for (const row of rows) counts[row.kind] += 1;
      return counts;
    };
    let refSerial = 0;

    /** Where a row's milestone is presented: as placementFor, but for an office scoped to `scope` only at a venue inside it (the ledger's rule). */
    const placementWithin = (scope: number | null, stage: number, wan: number): { meetingId: number | null; venueRegionId: number | null } => {
      if (scope === null) return placementFor(stage, wan);
      const inside = (regionId: number) => regions.lineageOf(regionId).some((r) => r.id === scope);
      const open = meetings.filter((m) => !(m.major && stage === 2 && wan < MAJOR_STARTED_MIN_WAN) && m.venues.some(inside));
      if (open.length === 0 || chance(0.5)) return { meetingId: null, venueRegionId: null };
      const meeting = pick(open);
      return { meetingId: meeting.id, venueRegionId: pick(meeting.venues.filter(inside)) };
    };

    const freshRow = (n: number, places: readonly Place[], scope: number | null): FileRow => {
      const wan = randomWan();
      const stage = pick([1, 1, 1, 2, 3]);
      const milestone = { stage, reachedOn: randomDate(), ...placementWithin(scope, stage, wan) };
      refSerial += 1;
      const fresh = { ref: `RND/${n}/${refSerial}`, name: `导入项目${n}-${refSerial}`, regionId: pick(places).id, sectorId: pick(sectorIds), wan, investor: chance(0.5) ? `导入投资方${n % 13}` : null, milestones: [milestone] };
      return { cells: cellsOf(fresh, milestone), kind: "created", changes: 1, fresh };
    };

    /** A row for a known project: at a later stage (its own fields changed too, sometimes), at its stage with other fields, or as it is stored. */
    const knownRow = (n: number, p: ModelProject, places: readonly Place[], scope: number | null, want: "advance" | "update" | "unchanged"): FileRow | null => {
      const current = p.milestones[p.milestones.length - 1];
      if (want === "unchanged") return { cells: cellsOf(p, current), kind: "unchanged", changes: 0, apply: () => undefined };
      if (want === "advance" && stageOf(p) === 3) return null;
      const next = { name: p.name, regionId: p.regionId, sectorId: p.sectorId, wan: p.wan, investor: p.investor };
      if (want === "update" || chance(0.4)) {
        if (chance(0.6)) next.wan = startedAtMajor(p) ? between(MAJOR_STARTED_MIN_WAN, 2_000_000) : randomWan();
        if (chance(0.3)) next.sectorId = pick(sectorIds);
        if (chance(0.25)) next.regionId = pick(places).id;
        if (chance(0.15)) next.name = `导入改名${n}`;
        if (chance(0.15)) next.investor = chance(0.5) ? null : `导入新投资方${n}`;
      }
      const changed = next.wan !== p.wan || next.sectorId !== p.sectorId || next.regionId !== p.regionId || next.name !== p.name || next.investor !== p.investor;
      const update = () => {
        if (!changed) return;
        Object.assign(p, next);
        bump(p, "UPDATE_PROJECT");
      };
      if (want === "update") return { cells: cellsOf({ ...p, ...next }, current), kind: changed ? "updated" : "unchanged", changes: changed ? 1 : 0, apply: update };
      const stage = stageOf(p) === 1 && chance(0.2) ? 3 : stageOf(p) + 1;
      const milestone = { stage, reachedOn: minDate(addDays(current.reachedOn, between(0, 120)), LATEST), ...placementWithin(scope, stage, next.wan) };
      return {
        cells: cellsOf({ ...p, ...next }, milestone),
        kind: "advanced",
        changes: changed ? 2 : 1,
        apply: () => {
          update();
          p.milestones.push(milestone);
          bump(p, "ADVANCE_STAGE");
        },
      };
    };

    /** Up to `count` distinct projects with a reference among those that `fit`. */
    const knownProjects = (count: number, fit: (p: ModelProject) => boolean): ModelProject[] => {
      if (count === 0) return [];
      const pool = ids.map((id) => projects.get(id)!).filter((p) => p.ref !== null && fit(p));
      const chosen = new Set<ModelProject>();
      for (let i = 0; i < count * 3 && chosen.size < count && pool.length > 0; i++) chosen.add(pick(pool));
      return [...chosen];
    };

    const shuffle = <T>(list: T[]): T[] => {
      for (let i = list.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [list[i], list[j]] = [list[j], list[i]];
      }
      return list;
    };

    /** A few rows: new references in `places`, and known projects that `fit` advanced, updated or re-imported as they are. */
    const mixedRows = (n: number, places: readonly Place[], scope: number | null, fit: (p: ModelProject) => boolean): FileRow[] => {
      const rows: FileRow[] = [];
      for (let i = between(0, 3); i > 0; i--) rows.push(freshRow(n, places, scope));
      for (const p of knownProjects(between(0, 4), fit)) {
        const row = knownRow(n, p, places, scope, pick(["advance", "advance", "update", "unchanged"] as const));
        if (row) rows.push(row);
      }
      if (rows.length === 0) rows.push(freshRow(n, places, scope));
      return shuffle(rows);
    };

    const judgeImport = (report: ImportReport, rows: number, expected: Counts, dryRun: boolean): string => {
      if (report.problems.length) return `PROBLEMS: ${JSON.stringify(report.problems.slice(0, 3))}`;
      const got = JSON.stringify({ rows: report.rows, created: report.created, advanced: report.advanced, updated: report.updated, unchanged: report.unchanged, dryRun: report.dryRun });
      const want = JSON.stringify({ rows, ...expected, dryRun });
      if (got !== want) return `REPORT ${got}, not ${want}`;
      return dryRun ? "DRY_RUN" : "APPLIED";
    };

    const importFile = (n: number, mode: "mixed" | "unchanged" | "dry run"): Step | null => {
      const city = mode === "mixed" && chance(0.3) ? pick(cities) : null;
      const places = city ? leaves.filter((r) => cityOf(r.id).id === city.id) : leaves;
      const fit = (p: ModelProject) => city === null || cityOf(p.regionId).id === city.id;
      const rows = mode === "unchanged" ? knownProjects(between(1, 5), fit).map((p) => knownRow(n, p, places, null, "unchanged")!) : mixedRows(n, places, city?.id ?? null, fit);
      if (rows.length === 0) return null;
      const expected = tally(rows);
      const dryRun = mode === "dry run";
      return {
        kind: dryRun ? "import dry run" : mode === "unchanged" ? "import of unchanged rows" : city ? "import by a city's office" : "import",
        expect: dryRun ? "DRY_RUN" : "APPLIED",
        changes: dryRun ? 0 : rows.reduce((sum, r) => sum + r.changes, 0),
        run: async () => {
          const report = await importLedger(ledger, city ? scoped(city.id) : SYSTEM_ACTOR, csvOf(rows.map((r) => r.cells)), { dryRun });
          const refs = rows.filter((r) => r.fresh).map((r) => r.fresh!.ref);
          const stored: Array<Record<string, unknown>> =
            refs.length && !dryRun && report.problems.length === 0 ? await db.query(`SELECT id, ref FROM project WHERE ref IN (${refs.map(() => "?").join(", ")})`, refs) : [];
          return { value: { report, ids: new Map(stored.map((r) => [String(r.ref), Number(r.id)])) } satisfies ImportResult };
        },
        judge: (value) => judgeImport((value as ImportResult).report, rows.length, expected, dryRun),
        commit: (value) => {
          const { ids: created } = value as ImportResult;
          for (const row of rows) {
            if (row.fresh) addToModel(created.get(row.fresh.ref)!, row.fresh);
            else row.apply!();
            importedRows[row.kind] += 1;
          }
        },
      };
    };

    /** A row the import must refuse, and with it the whole file. */
    const badRow = (n: number): string[] => {
      const row = freshRow(n, leaves, null).cells; // ref, name, regionCode, sectorCode, investment, investor, stage, date, meetingId, venueRegionCode
      const known = knownProjects(1, () => true)[0];
      switch (between(0, 6)) {
        case 0:
          row[3] = "NO_SUCH_SECTOR";
          return row;
        case 1:
          row[2] = "410100"; // a city with counties
          return row;
        case 2:
          row[4] = pick(["12,5亿", "-3", ""]);
          return row;
        case 3:
          row[7] = pick(["2023-02-29", addDays(LATEST, 1), "1948-12-31", "2023-13-01"]);
          return row;
        case 4:
          row[6] = "FINISHED";
          return row;
        case 5:
          if (!known || stageOf(known) === 1) return [...row.slice(0, 3), "NO_SUCH_SECTOR", ...row.slice(4)];
          // A known project back at an earlier stage.
          return cellsOf(known, { stage: stageOf(known) - 1, reachedOn: known.milestones[0].reachedOn, meetingId: null, venueRegionId: null });
        default: {
          if (!known) return [...row.slice(0, 2), "410100", ...row.slice(3)];
          // A known project at its stage on another day (a date is corrected with correctMilestoneDate, not by an import).
          const current = known.milestones[known.milestones.length - 1];
          return cellsOf(known, { ...current, reachedOn: addDays(current.reachedOn, -1) });
        }
      }
    };

    const importWithBadRow = (n: number): Step => {
      const rows = mixedRows(n, leaves, null, () => true).map((r) => r.cells);
      rows.splice(between(0, rows.length), 0, badRow(n));
      return {
        kind: "import with a bad row",
        expect: "PROBLEMS",
        changes: 0,
        run: async () => ({ value: await importLedger(ledger, SYSTEM_ACTOR, csvOf(rows)) }),
        judge: (value) => judgeImport(value as ImportReport, rows.length, { created: 0, advanced: 0, updated: 0, unchanged: 0 }, false),
        commit: () => undefined,
      };
    };

    const importNeighbour = (n: number): Step | null => {
      const county = pick(leaves);
      // Its neighbours where a project may sit (济源's siblings are the cities, and a city with counties holds no project).
      const siblings = leaves.filter((r) => r.parentId === county.parentId && r.id !== county.id);
      if (siblings.length === 0) return null;
      const rows = mixedRows(n, [county], county.id, (p) => p.regionId === county.id);
      const theirs = chance(0.6) ? knownProjects(1, (p) => siblings.some((s) => s.id === p.regionId))[0] : undefined;
      const intruder = (theirs && knownRow(n, theirs, siblings, county.id, pick(["advance", "update", "unchanged"] as const))) || freshRow(n, siblings, county.id);
      rows.splice(between(0, rows.length), 0, intruder);
      return {
        kind: "a county's office importing a neighbour's row",
        expect: "FORBIDDEN",
        changes: 0,
        run: async () => ({ value: await importLedger(ledger, scoped(county.id), csvOf(rows.map((r) => r.cells))) }),
        judge: (value) => `APPLIED: ${JSON.stringify({ ...(value as ImportReport), problems: (value as ImportReport).problems.slice(0, 3) })}`,
        commit: () => undefined,
      };
    };

    const makers: Array<[number, (n: number) => Step | null]> = [
      [8, createProject],
      [20, updateProject],
      [16, advanceStage],
      [6, recordAtMeeting],
      [8, correctMilestoneDate],
      [2, createMeeting],
      [1, importBatch],
      [5, (n) => importFile(n, "mixed")],
      [2, (n) => importFile(n, "unchanged")],
      [1, (n) => importFile(n, "dry run")],
      [12, staleVersion],
      [5, backwardStage],
      [5, badDate],
      [8, underMajor],
      [5, foreignVenue],
      [5, neighbour],
      [1, badImport],
      [3, importWithBadRow],
      [3, importNeighbour],
    ];
    const total = makers.reduce((sum, [weight]) => sum + weight, 0);
    const nextStep = (n: number): Step => {
      for (;;) {
        let roll = rnd() * total;
        const maker = makers.find(([weight]) => (roll -= weight) < 0)![1];
        const step = maker(n);
        if (step) return step;
      }
    };

    for (steps = 0; steps < WRITES; steps++) {
      const step = nextStep(steps);
      const before = step.expect === "APPLIED" ? "" : await fingerprint(db, step.projectId);
      let got: string;
      let value: unknown;
      try {
        value = (await step.run()).value;
        got = step.judge ? step.judge(value) : "APPLIED";
      } catch (error) {
        got = error instanceof AppError ? String(error.extensions.code) : `${(error as Error).constructor.name}: ${(error as Error).message}`;
        if (error instanceof AppError) got += `: ${error.message}`;
      }
      if (!got.startsWith(step.expect)) {
        mismatch = { step: steps, kind: step.kind, expected: step.expect, got };
        break;
      }
      counts.set(step.kind, (counts.get(step.kind) ?? 0) + 1);
      if (step.expect === "APPLIED") {
        step.commit(value);
        historyAppended += step.changes;
      } else if ((await fingerprint(db, step.projectId)) !== before) {
        leaks.push({ step: steps, kind: step.kind });
      }
    }
  }, 120_000);

  afterAll(async () => {
    await db?.destroy();
    await scratch?.drop();
  });

  it(`every one of ${WRITES} writes applied or was refused as the rules say`, () => {
    expect(mismatch).toBeNull();
    expect(steps).toBe(WRITES);
  });

  it("the sequence holds every kind of write, refused ones included", () => {
    expect([...counts.keys()].sort()).toEqual(
      [
        "createProject",
        "updateProject",
        "updateProject by a city's office",
        "advanceStage",
        "advanceStage at a meeting",
        "recordAtMeeting",
        "correctMilestoneDate",
        "createMeeting",
        "addProjects (a batch)",
        "import",
        "import by a city's office",
        "import of unchanged rows",
        "import dry run",
        "stale expectedVersion",
        "backward stage",
        "bad date",
        "under 5 亿元 in a major meeting's STARTED batch",
        "venue not of the meeting",
        "a county's office writing a neighbour's project",
        "addProjects with a bad row",
        "import with a bad row",
        "a county's office importing a neighbour's row",
      ].sort(),
    );
  });

  it("the imports that went in created, advanced, updated and left unchanged projects", () => {
    expect(Object.entries(importedRows).filter(([, n]) => n < 20)).toEqual([]);
  });

  it("every refused write left every table as it was", () => {
    expect(leaks).toEqual([]);
  });

  it("npm run rollups -- verify finds nothing", async () => {
    expect(await verifyRollups(db)).toEqual([]);
  });

  it("the region rollup equals a GROUP BY over the projects and the model's totals", async () => {
    const text = (rows: Array<Record<string, unknown>>) =>
      rows.map((r) => `${r.region_id}:${r.sector_id}:${r.stage}=${Number(r.project_count)}/${Number(r.investment_wan)}`).sort();
    const stored = text(await db.query("SELECT region_id, sector_id, stage, project_count, investment_wan FROM rollup_region"));
    const grouped = text(
      await db.query("SELECT region_id, sector_id, stage, COUNT(*) AS project_count, SUM(investment_wan) AS investment_wan FROM project GROUP BY region_id, sector_id, stage"),
    );
    const model = new Map<string, { region_id: number; sector_id: number; stage: number; project_count: number; investment_wan: number }>();
    for (const p of projects.values()) {
      const stage = p.milestones[p.milestones.length - 1].stage;
      const key = `${p.regionId}:${p.sectorId}:${stage}`;
      const group = model.get(key) ?? { region_id: p.regionId, sector_id: p.sectorId, stage, project_count: 0, investment_wan: 0 };
      group.project_count += 1;
      group.investment_wan += p.wan;
      model.set(key, group);
    }
    expect(stored).toEqual(grouped);
    expect(stored).toEqual(text([...model.values()]));
  });

  it("every project and milestone is as the model says", async () => {
    const stored = (await db.query("SELECT id, name, region_id, sector_id, stage, stage_reached_on, investment_wan, investor, version FROM project ORDER BY id")).map(
      (r: Record<string, unknown>) => [Number(r.id), r.name, Number(r.region_id), Number(r.sector_id), Number(r.stage), String(r.stage_reached_on).slice(0, 10), Number(r.investment_wan), r.investor, Number(r.version)],
    );
    const modelled = [...projects.values()]
      .sort((a, b) => a.id - b.id)
      .map((p) => {
        const last = p.milestones[p.milestones.length - 1];
        return [p.id, p.name, p.regionId, p.sectorId, last.stage, last.reachedOn, p.wan, p.investor, p.version];
      });
    expect(stored).toEqual(modelled);
    const milestones = (await db.query("SELECT project_id, stage, reached_on, meeting_id, venue_region_id FROM milestone ORDER BY project_id, stage")).map(
      (r: Record<string, unknown>) => [Number(r.project_id), Number(r.stage), String(r.reached_on).slice(0, 10), r.meeting_id === null ? null : Number(r.meeting_id), r.venue_region_id === null ? null : Number(r.venue_region_id)],
    );
    const modelledMilestones = [...projects.values()].sort((a, b) => a.id - b.id).flatMap((p) => p.milestones.map((m) => [p.id, m.stage, m.reachedOn, m.meetingId, m.venueRegionId]));
    expect(milestones).toEqual(modelledMilestones);
  });

  it("the history grew by exactly the applied changes", async () => {
    const after = Number((await db.query("SELECT COUNT(*) AS n FROM ledger_change"))[0].n);
    expect(historyAppended).toBeGreaterThan(WRITES / 2);
    expect(after).toBe(historyBefore + historyAppended);
  });

  it("each project's history is one change per version, 1 to its version, in the order the writes applied", async () => {
    const stored = new Map<number, Array<[number, string]>>();
    for (const row of await db.query("SELECT project_id, project_version, operation FROM ledger_change WHERE project_id IS NOT NULL ORDER BY project_id, id")) {
      const list = stored.get(Number(row.project_id)) ?? [];
      list.push([Number(row.project_version), row.operation]);
      stored.set(Number(row.project_id), list);
    }
    const wrong = [...projects.values()]
      .map((p) => ({ id: p.id, stored: stored.get(p.id) ?? [], expected: p.operations.map((operation, i): [number, string] => [i + 1, operation]) }))
      .filter((p) => JSON.stringify(p.stored) !== JSON.stringify(p.expected));
    expect(wrong.slice(0, 5)).toEqual([]);
  });
});
