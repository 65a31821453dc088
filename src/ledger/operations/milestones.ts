/** A project's milestones: reaching a later stage, presenting a milestone at a meeting, correcting a milestone's date. */
import { parseId } from "../../common/ids";
import { stageFromNumber, stageToNumber } from "../../common/stage";
import { type FieldChange, fieldChange, milestoneFields } from "../history";
import type { AdvanceStageInput, CorrectMilestoneDateInput, RecordAtMeetingInput } from "../ledger.inputs";
import type { Problems } from "../problems";
import { shapeOf } from "../rollup-delta";
import { enteringStageNumber, enteringStageProblem, type MeetingFacts, type Placement, readMeetingFacts } from "../rules";
import { bumpProject, loadProject, meetingHosts, recordChange, type StoredProject } from "./stored-project";
import type { WriteTx } from "./write-tx";

/** Moves a project to a later stage at the input's expected version. */
export async function advanceStage(tx: WriteTx, input: AdvanceStageInput, problems: Problems): Promise<number> {
  const project = await loadProject(tx, problems, "input.projectId", input.projectId, input.expectedVersion);
  const stage = enteringStageNumber(input.stage);
  // The input's own rules may have said so already (the API checks the field first; the import does not).
  if (stage < 0) {
    if (!problems.list.some((p) => p.field === "input.stage")) problems.add("input.stage", enteringStageProblem(input.stage));
  } else if (stage <= project.stage) {
    problems.add("input.stage", `must be later than the current stage ${stageFromNumber(project.stage)} (a stage only moves forward)`);
  }
  tx.rules.checkDate(problems, "input.reachedOn", input.reachedOn);
  if (typeof input.reachedOn === "string" && input.reachedOn < project.stageReachedOn) {
    problems.add("input.reachedOn", `must not be before ${project.stageReachedOn}, when the project reached ${stageFromNumber(project.stage)}`);
  }
  const { at, meetings, hosts } = await placeAtMeeting(tx, problems, project, input, stage, "stage");
  problems.throwIfAny();
  tx.rules.forbidRegion(tx.trees.regions.byId(project.regionId)!, "input.projectId", "a project in");
  at.check();

  const fields = await reachStage(tx, project, stage, { reachedOn: input.reachedOn, meetingId: at.meetingId, venueRegionId: at.venueRegionId });
  tx.touch(project.regionId, at.meetingId === null ? hosts : [...hosts, meetings.get(at.meetingId)!.hostRegionId]);
  return recordChange(tx, project, { operation: "ADVANCE_STAGE", meetingId: at.meetingId, fields, reason: null });
}

/**
 * Moves a checked project to `stage` (a later one), reached as `place` says: its milestone, its row (stage, date and
 * the next version), its rollup groups; returns the history's fields of the move. advanceStage and reportOutput (a
 * report that reaches the design gives EFFECTIVE) both move a project this way.
 */
export async function reachStage(tx: WriteTx, project: StoredProject, stage: number, place: { reachedOn: string; meetingId: number | null; venueRegionId: number | null }): Promise<FieldChange[]> {
  tx.delta.add(shapeOf(project), -1);
  await tx.queue("INSERT INTO milestone (project_id, stage, reached_on, meeting_id, venue_region_id) VALUES (?, ?, ?, ?, ?)", [
    project.id,
    stage,
    place.reachedOn,
    place.meetingId,
    place.venueRegionId,
  ]);
  await tx.queue("UPDATE project SET stage = ?, stage_reached_on = ?, version = version + 1 WHERE id = ? AND version = ?", [stage, place.reachedOn, project.id, project.version]);
  tx.delta.add({ ...shapeOf(project), stage, milestones: [...project.milestones, { id: 0, stage, ...place }] }, 1);
  return [fieldChange("stage", stageFromNumber(project.stage), stageFromNumber(stage)), ...milestoneFields(stage, null, place, tx.trees.regions)];
}

/** Presents a milestone already reached at a meeting venue. */
export async function recordAtMeeting(tx: WriteTx, input: RecordAtMeetingInput, problems: Problems): Promise<number> {
  const project = await loadProject(tx, problems, "input.projectId", input.projectId, input.expectedVersion);
  const stage = stageToNumber(input.stage);
  const milestone = project.milestones.find((m) => m.stage === stage);
  if (!milestone) problems.add("input.stage", `the project has not reached ${input.stage}`);
  else if (milestone.meetingId !== null) problems.add("input.stage", `its ${input.stage} milestone is already recorded at meeting ${milestone.meetingId}`);
  const { at, meetings, hosts } = await placeAtMeeting(tx, problems, project, input, stage, "meetingId");
  problems.throwIfAny();
  tx.rules.forbidRegion(tx.trees.regions.byId(project.regionId)!, "input.projectId", "a project in");
  at.check();

  tx.delta.add(shapeOf(project), -1);
  await tx.queue("UPDATE milestone SET meeting_id = ?, venue_region_id = ? WHERE id = ?", [at.meetingId, at.venueRegionId, milestone!.id]);
  await bumpProject(tx, project);
  const milestones = project.milestones.map((m) => (m.id === milestone!.id ? { ...m, meetingId: at.meetingId, venueRegionId: at.venueRegionId } : m));
  tx.delta.add({ ...shapeOf(project), milestones }, 1);
  tx.touch(project.regionId, [...hosts, meetings.get(at.meetingId!)!.hostRegionId]);
  return recordChange(tx, project, {
    operation: "RECORD_AT_MEETING",
    meetingId: at.meetingId,
    fields: milestoneFields(stage, { reachedOn: milestone!.reachedOn, meetingId: null, venueRegionId: null }, { reachedOn: milestone!.reachedOn, meetingId: at.meetingId, venueRegionId: at.venueRegionId }, tx.trees.regions),
    reason: null,
  });
}

/** Corrects a milestone's date, with the reason in the history. */
export async function correctMilestoneDate(tx: WriteTx, input: CorrectMilestoneDateInput, problems: Problems): Promise<number> {
  const project = await loadProject(tx, problems, "input.projectId", input.projectId, input.expectedVersion);
  const stage = stageToNumber(input.stage);
  const index = project.milestones.findIndex((m) => m.stage === stage);
  tx.rules.checkDate(problems, "input.reachedOn", input.reachedOn);
  if (index < 0) problems.add("input.stage", `the project has not reached ${input.stage}`);
  else {
    const before = project.milestones[index - 1];
    const after = project.milestones[index + 1];
    if (before && input.reachedOn < before.reachedOn) problems.add("input.reachedOn", `must not be before ${before.reachedOn}, the date of ${stageFromNumber(before.stage)}`);
    if (after && input.reachedOn > after.reachedOn) problems.add("input.reachedOn", `must not be after ${after.reachedOn}, the date of ${stageFromNumber(after.stage)}`);
    if (project.milestones[index].reachedOn === input.reachedOn) problems.add("input.reachedOn", `is already ${input.reachedOn}: nothing to correct`);
  }
  const meetings = new Map<number, MeetingFacts>();
  const hosts = await meetingHosts(tx, project, meetings);
  problems.throwIfAny();
  tx.rules.forbidRegion(tx.trees.regions.byId(project.regionId)!, "input.projectId", "a project in");

  const milestone = project.milestones[index];
  await tx.queue("UPDATE milestone SET reached_on = ? WHERE id = ?", [input.reachedOn, milestone.id]);
  if (stage === project.stage) await tx.queue("UPDATE project SET stage_reached_on = ?, version = version + 1 WHERE id = ? AND version = ?", [input.reachedOn, project.id, project.version]);
  else await bumpProject(tx, project);
  tx.touch(project.regionId, hosts);
  return recordChange(tx, project, {
    operation: "CORRECT_MILESTONE_DATE",
    meetingId: milestone.meetingId,
    fields: [fieldChange(`milestones.${stageFromNumber(stage)}.reachedOn`, milestone.reachedOn, input.reachedOn)],
    reason: input.reason.trim(),
  });
}

/**
 * Where the input presents the milestone of `stage` (see `Rules.placement`: `majorField` is the field the
 * major-meeting rule names), with the facts of its meeting and of the meetings the project was presented at, and
 * the hosts of those (whose versions the change moves too).
 */
async function placeAtMeeting(
  tx: WriteTx,
  problems: Problems,
  project: StoredProject,
  input: { meetingId?: string | null; venueRegionCode?: string | null },
  stage: number,
  majorField: string,
): Promise<{ at: Placement; meetings: Map<number, MeetingFacts>; hosts: number[] }> {
  const meetingId = parseId(input.meetingId);
  const meetings = await readMeetingFacts(tx, meetingId === null ? [] : [meetingId]);
  const at = tx.rules.placement(problems, "input", { meetingId, venueRegionCode: input.venueRegionCode ?? null, stage, investmentWan: project.investmentWan }, meetings, majorField);
  const hosts = await meetingHosts(tx, project, meetings);
  return { at, meetings, hosts };
}
