import type { DataSource, EntityManager } from "typeorm";

import { stageToNumber, ProjectStage } from "../common/stage";
import { bumpDataVersion } from "../db/data-version";
import { applyToRollups } from "../stats/rollups";
import { generateMeeting20210710 } from "./meeting-2021-07-10";
import type { MeetingSeed, RegionSeed, SectorSeed } from "./seed.types";
import { SECTORS } from "./sectors";
import HENAN_DIVISIONS from "./data/henan-divisions.json";

/** What a seeding run wrote (zero everywhere on a second run). */
export interface SeedReport {
  regions: number;
  sectors: number;
  meetings: number;
  venues: number;
  projects: number;
  milestones: number;
}

/** Rows per multi-row INSERT: well under both databases' placeholder limits. */
const CHUNK = 200;

/** The shipped regions: the product's own copy of the 2023 Henan division list (see data/PROVENANCE.md). */
export function henanRegions(): RegionSeed[] {
  return HENAN_DIVISIONS as RegionSeed[];
}

/** A data set to load: a region tree, a sector tree and meetings with their projects. */
export interface SeedData {
  regions: readonly RegionSeed[];
  sectors: readonly SectorSeed[];
  meetings: readonly MeetingSeed[];
}

/** What the product ships: the Henan regions, the sectors and the 2021-07-10 meeting with its projects. */
export function shippedSeedData(): SeedData {
  const regions = henanRegions();
  return { regions, sectors: SECTORS, meetings: [generateMeeting20210710(regions, SECTORS)] };
}

/**
 * Loads a data set, the shipped one by default. Idempotent (rows are keyed by
 * code, title and date, or ledger ref; a second run writes nothing) and
 * all-or-nothing (one transaction).
 */
export async function seedDatabase(db: DataSource, data: SeedData = shippedSeedData()): Promise<SeedReport> {
  return db.transaction(async (em) => {
    const report: SeedReport = { regions: 0, sectors: 0, meetings: 0, venues: 0, projects: 0, milestones: 0 };
    report.regions = await upsertTree(em, "region", data.regions, (r) => [r.code, r.name, r.level], ["code", "name", "level"]);
    report.sectors = await upsertTree(em, "sector", data.sectors, (s) => [s.code, s.name], ["code", "name"]);
    for (const meeting of data.meetings) {
      const written = await insertMeeting(em, meeting);
      for (const key of Object.keys(written) as Array<keyof typeof written>) report[key] += written[key];
    }
    if (Object.values(report).some((n) => n > 0)) await bumpDataVersion(em);
    return report;
  });
}

/**
 * Inserts the rows of a code tree that are missing, parents before children
 * (a pass per depth, so parent ids are known). Existing rows are left alone.
 */
async function upsertTree<T extends RegionSeed | SectorSeed>(
  em: EntityManager,
  table: "region" | "sector",
  rows: readonly T[],
  values: (row: T) => unknown[],
  columns: string[],
): Promise<number> {
  let ids = await codeIds(em, table);
  let inserted = 0;
  let pending = rows.filter((row) => !ids.has(row.code));
  while (pending.length) {
    const ready = pending.filter((row) => row.parentCode === null || ids.has(row.parentCode));
    if (ready.length === 0) throw new Error(`invariant: ${table} rows with unknown parents: ${pending.map((r) => r.code).join(", ")}`);
    await insertRows(em, table, [...columns, "parent_id"], ready.map((row) => [...values(row), row.parentCode === null ? null : ids.get(row.parentCode)]));
    inserted += ready.length;
    ids = await codeIds(em, table);
    pending = pending.filter((row) => !ids.has(row.code));
  }
  return inserted;
}

async function codeIds(em: EntityManager, table: "region" | "sector"): Promise<Map<string, number>> {
  const rows: Array<{ id: number; code: string }> = await em.query(`SELECT id, code FROM ${table}`);
  return new Map(rows.map((row) => [row.code, Number(row.id)]));
}

/** Inserts a meeting, its venues, and its projects with their milestones; each only if missing. */
async function insertMeeting(em: EntityManager, meeting: MeetingSeed): Promise<Omit<SeedReport, "regions" | "sectors">> {
  const report = { meetings: 0, venues: 0, projects: 0, milestones: 0 };
  const regionIds = await codeIds(em, "region");
  const sectorIds = await codeIds(em, "sector");
  const regionId = (code: string) => {
    const id = regionIds.get(code);
    if (id === undefined) throw new Error(`invariant: seed names unknown region ${code}`);
    return id;
  };
  const hostId = regionId(meeting.hostRegionCode);

  const findMeeting = async () =>
    (await em.query("SELECT id FROM meeting WHERE title = ? AND held_on = ? AND host_region_id = ?", [meeting.title, meeting.heldOn, hostId]))[0] as
      | { id: number }
      | undefined;
  let found = await findMeeting();
  if (!found) {
    await insertRows(em, "meeting", ["title", "held_on", "host_region_id"], [[meeting.title, meeting.heldOn, hostId]]);
    report.meetings = 1;
    found = await findMeeting();
  }
  const meetingId = Number(found!.id);

  const venueRows: Array<{ region_id: number }> = await em.query("SELECT region_id FROM venue WHERE meeting_id = ?", [meetingId]);
  const haveVenue = new Set(venueRows.map((row) => Number(row.region_id)));
  const venues = [
    [meetingId, hostId, "MAIN"],
    ...meeting.subVenueRegionCodes.map((code) => [meetingId, regionId(code), "SUB"]),
  ].filter(([, id]) => !haveVenue.has(id as number));
  await insertRows(em, "venue", ["meeting_id", "region_id", "kind"], venues);
  report.venues = venues.length;

  const existing = new Set(((await em.query("SELECT ref FROM project WHERE ref IS NOT NULL")) as Array<{ ref: string }>).map((row) => row.ref));
  const projects = meeting.projects.filter((project) => !existing.has(project.ref));
  await insertRows(
    em,
    "project",
    ["ref", "name", "region_id", "sector_id", "stage", "stage_reached_on", "investment_wan", "investor", "synthetic", "version"],
    projects.map((project) => {
      const last = project.milestones[project.milestones.length - 1];
      const sectorId = sectorIds.get(project.sectorCode);
      if (sectorId === undefined) throw new Error(`invariant: seed names unknown sector ${project.sectorCode}`);
      return [
        project.ref,
        project.name,
        regionId(project.regionCode),
        sectorId,
        stageToNumber(last.stage as ProjectStage),
        last.reachedOn,
        project.investmentWan,
        project.investor,
        project.synthetic ? 1 : 0,
        1,
      ];
    }),
  );
  report.projects = projects.length;

  if (projects.length) {
    const idRows: Array<{ id: number; ref: string }> = await em.query("SELECT id, ref FROM project WHERE ref IS NOT NULL");
    const projectIds = new Map(idRows.map((row) => [row.ref, Number(row.id)]));
    const milestones = projects.flatMap((project) =>
      project.milestones.map((m) => [
        projectIds.get(project.ref),
        stageToNumber(m.stage as ProjectStage),
        m.reachedOn,
        m.atMeeting ? meetingId : null,
        m.venueRegionCode === null ? null : regionId(m.venueRegionCode),
      ]),
    );
    await insertRows(em, "milestone", ["project_id", "stage", "reached_on", "meeting_id", "venue_region_id"], milestones);
    report.milestones = milestones.length;
    await applyToRollups(em, projects.map((project) => projectIds.get(project.ref)!), 1);
  }
  return report;
}

/** Multi-row INSERTs in chunks; the same SQL on MySQL and SQLite. */
export async function insertRows(em: EntityManager, table: string, columns: string[], rows: unknown[][]): Promise<void> {
  const row = `(${columns.map(() => "?").join(", ")})`;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    await em.query(`INSERT INTO ${table} (${columns.join(", ")}) VALUES ${chunk.map(() => row).join(", ")}`, chunk.flat());
  }
}
