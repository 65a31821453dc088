import type { DataSource, EntityManager } from "typeorm";

import type { ProjectStage } from "../common/stage";
import { bumpTreeVersion } from "../db/data-version";
import { insertRows, placeholders } from "../db/sql";
import { SYSTEM_ACTOR } from "../ledger/actor";
import { type Ledger, type ProjectDraft } from "../ledger/ledger";
import { systemLedger } from "../ledger/system-ledger";
import { Problems } from "../ledger/problems";
import { refKeyColumn } from "../ledger/ref-key";
import { generateMeeting20210710 } from "./meeting-2021-07-10";
import { seedSyntheticLayer } from "./synthetic-layer";
import type { MeetingSeed, RegionSeed, SectorSeed } from "./seed.types";
import { SECTORS } from "./sectors";
import HENAN_DIVISIONS from "./data/henan-divisions.json";
import { invariant } from "../common/errors";

/** What a seeding run wrote (zero everywhere on a second run). */
export interface SeedReport {
  regions: number;
  sectors: number;
  meetings: number;
  venues: number;
  projects: number;
  milestones: number;
  /** The illustrative layer (src/seed/synthetic-layer.ts), every row of it marked synthetic. */
  targets: number;
  outputReports: number;
  factorIssues: number;
}

/** References per `IN (…)` lookup: well under both databases' placeholder limits. */
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
  /** Add the illustrative assessment layer (targets, output reports, factor problems; all marked synthetic): the shipped data does. */
  syntheticLayer?: boolean;
}

/** What the product ships: the Henan regions, the sectors and the 2021-07-10 meeting with its projects. */
export function shippedSeedData(): SeedData {
  const regions = henanRegions();
  return { regions, sectors: SECTORS, meetings: [generateMeeting20210710(regions, SECTORS)], syntheticLayer: true };
}

/**
 * Loads a data set, the shipped one by default. Idempotent (rows are keyed by
 * code, title and date, or ledger ref; a second run writes nothing) and
 * all-or-nothing: the region and sector trees, then the meetings and projects
 * through the ledger's rules, in one transaction.
 */
export async function seedDatabase(db: DataSource, data: SeedData = shippedSeedData(), ledger: Ledger = systemLedger(db)): Promise<SeedReport> {
  const report: SeedReport = { regions: 0, sectors: 0, meetings: 0, venues: 0, projects: 0, milestones: 0, targets: 0, outputReports: 0, factorIssues: 0 };
  await ledger.write(SYSTEM_ACTOR, async (tx) => {
    const em = await tx.direct();
    report.regions = await upsertTree(em, "region", data.regions, (r) => [r.code, r.name, r.level], ["code", "name", "level"]);
    report.sectors = await upsertTree(em, "sector", data.sectors, (s) => [s.code, s.name], ["code", "name"]);
    if (report.regions + report.sectors > 0) {
      await bumpTreeVersion(em);
      await tx.refreshTrees();
    }
    for (const meeting of data.meetings) {
      const before = tx.changeCount;
      const meetingId = await tx.addMeeting(meeting, "meeting", new Problems(), { duplicate: "return" });
      if (tx.changeCount > before) {
        report.meetings += 1;
        report.venues += 1 + meeting.subVenueRegionCodes.length;
      }
      const keys = meeting.projects.map((p) => refKeyColumn(p.ref));
      const existing = new Set<string>();
      for (let i = 0; i < keys.length; i += CHUNK) {
        const chunk = keys.slice(i, i + CHUNK);
        const rows: Array<{ ref_key: string }> = await tx.read(`SELECT ref_key FROM project WHERE ref_key IN (${placeholders(chunk.length)})`, chunk);
        for (const row of rows) existing.add(row.ref_key);
      }
      const drafts: ProjectDraft[] = meeting.projects
        .filter((p) => !existing.has(refKeyColumn(p.ref)))
        .map((p) => ({
          ...p,
          milestones: p.milestones.map((m) => ({
            stage: m.stage as ProjectStage,
            reachedOn: m.reachedOn,
            meetingId: m.atMeeting ? meetingId : null,
            venueRegionCode: m.venueRegionCode,
          })),
        }));
      await tx.addProjects(drafts, drafts.map((d) => `projects[${d.ref}]`), new Problems(), { single: false });
      report.projects += drafts.length;
      report.milestones += drafts.reduce((n, d) => n + d.milestones.length, 0);
    }
    if (data.syntheticLayer) Object.assign(report, await seedSyntheticLayer(tx));
  });
  return report;
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
    invariant(ready.length > 0, () => `${table} rows with unknown parents: ${pending.map((r) => r.code).join(", ")}`);
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
