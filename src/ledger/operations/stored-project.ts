/**
 * A project as the operations on one project find it: read with its
 * milestones in one round trip, its row locked first (MySQL); the version the
 * client names checked against it; the hosts of the meetings it was presented
 * at (whose versions its change moves too); its version moved.
 */
import { isoDay } from "../../common/date.scalar";
import { AppError, ErrorCode } from "../../common/errors";
import { parseId } from "../../common/ids";
import type { RecordedChange } from "../history";
import type { Problems } from "../problems";
import { type MeetingFacts, readMeetingFacts } from "../rules";
import type { WriteTx } from "./write-tx";

export interface StoredProject {
  id: number;
  regionId: number;
  sectorId: number;
  stage: number;
  stageReachedOn: string;
  investmentWan: number;
  name: string;
  investor: string | null;
  version: number;
  milestones: Array<{ id: number; stage: number; reachedOn: string; meetingId: number | null; venueRegionId: number | null }>;
}

/** A write naming an older version than the stored one. */
export class ConflictError extends AppError {
  constructor(projectId: number, currentVersion: number, expectedVersion: number) {
    super(ErrorCode.CONFLICT, `project ${projectId} is at version ${currentVersion}, not ${expectedVersion}: read it again and retry`, {
      projectId: String(projectId),
      currentVersion,
      expectedVersion,
    });
  }
}

/**
 * The project `id` (the input's `field`) at the version the client read: NOT_FOUND after the problems found so far,
 * and a stale version CONFLICT before anything else, as the input may have been right at that version (not checked
 * when the input names none).
 */
export async function loadProject(tx: WriteTx, problems: Problems, field: string, id: string, expectedVersion: number): Promise<StoredProject> {
  const project = await readProject(tx, problems, field, id);
  if (Number.isInteger(expectedVersion) && project.version !== expectedVersion) throw new ConflictError(project.id, project.version, expectedVersion);
  return project;
}

async function readProject(tx: WriteTx, problems: Problems, field: string, id: string): Promise<StoredProject> {
  const numeric = parseId(id);
  if (numeric === null) {
    problems.throwIfAny(); // the field rules said why
    throw new AppError(ErrorCode.NOT_FOUND, `${field}: no project "${String(id).slice(0, 64)}"`, { field });
  }
  const lock = tx.mysql ? " FOR UPDATE" : "";
  // One round trip: the project row, locked first (a plain read after it sees what the writer before committed), and its milestones.
  const [rows, milestones] = (await tx.queries([
    { sql: `SELECT id, region_id, sector_id, stage, stage_reached_on, investment_wan, name, investor, version FROM project WHERE id = ?${lock}`, params: [numeric] },
    { sql: "SELECT id, stage, reached_on, meeting_id, venue_region_id FROM milestone WHERE project_id = ? ORDER BY stage", params: [numeric] },
  ])) as [Array<Record<string, unknown>>, Array<Record<string, unknown>>];
  if (rows.length === 0) {
    problems.throwIfAny();
    throw new AppError(ErrorCode.NOT_FOUND, `${field}: no project "${numeric}"`, { field });
  }
  const row = rows[0];
  return {
    id: numeric,
    regionId: Number(row.region_id),
    sectorId: Number(row.sector_id),
    stage: Number(row.stage),
    stageReachedOn: isoDay(row.stage_reached_on),
    investmentWan: Number(row.investment_wan),
    name: String(row.name),
    investor: row.investor === null ? null : String(row.investor),
    version: Number(row.version),
    milestones: milestones.map((m) => ({
      id: Number(m.id),
      stage: Number(m.stage),
      reachedOn: isoDay(m.reached_on),
      meetingId: m.meeting_id === null ? null : Number(m.meeting_id),
      venueRegionId: m.venue_region_id === null ? null : Number(m.venue_region_id),
    })),
  };
}

/** The host regions of the meetings the project's milestones were presented at, adding the facts of those missing to `meetings`. */
export async function meetingHosts(tx: WriteTx, project: StoredProject, meetings: Map<number, MeetingFacts>): Promise<number[]> {
  const missing = project.milestones.map((m) => m.meetingId).filter((id): id is number => id !== null && !meetings.has(id));
  if (missing.length) for (const [id, facts] of await readMeetingFacts(tx, missing)) meetings.set(id, facts);
  return project.milestones.flatMap((m) => (m.meetingId === null ? [] : [meetings.get(m.meetingId)!.hostRegionId]));
}

/** Moves the project's version (a change to its milestones only). */
export function bumpProject(tx: WriteTx, project: Pick<StoredProject, "id" | "version">): Promise<void> {
  return tx.queue("UPDATE project SET version = version + 1 WHERE id = ? AND version = ?", [project.id, project.version]);
}

/** Records the change that moves the project to its next version (in its own region unless `change` says otherwise), and shows the project in the write's answer. */
export function recordChange(tx: WriteTx, project: StoredProject, change: Pick<RecordedChange, "operation" | "meetingId" | "fields" | "reason"> & Partial<Pick<RecordedChange, "regionId" | "fromRegionId">>): number {
  tx.record({ projectId: project.id, projectVersion: project.version + 1, regionId: project.regionId, ...change });
  tx.answerWith(project.id);
  return project.id;
}
