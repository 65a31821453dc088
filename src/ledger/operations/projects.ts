/** Adding projects with their milestones, and changing a project's own fields. */
import { ProjectStage, stageToNumber } from "../../common/stage";
import { enteringStageNumber, enteringStageProblem } from "../rules";
import { insertRows, placeholders } from "../../db/sql";
import { type FieldChange, fieldChange, formatWan, milestoneFields } from "../history";
import { characterProblem } from "../../common/text";
import { MAX_TEXT, textLength, type UpdateProjectInput } from "../ledger.inputs";
import type { Problems } from "../problems";
import { refKeyColumn } from "../ref-key";
import { type RollupShape, shapeOf } from "../rollup-delta";
import { insertedId } from "../round-trips";
import { MAJOR_STARTED_MIN_WAN, type MeetingFacts, readMeetingFacts } from "../rules";
import { loadProject, meetingHosts, recordChange } from "./stored-project";
import type { WriteTx } from "./write-tx";

/** A project to add with all its milestones (the seed, the import, the benchmark generator). */
export interface ProjectDraft {
  ref?: string | null;
  name: string;
  regionCode: string;
  sectorCode: string;
  /** 万元, exact. */
  investmentWan: number;
  investor?: string | null;
  synthetic?: boolean;
  /** In stage order; the last is the current stage. */
  milestones: ReadonlyArray<{ stage: ProjectStage; reachedOn: string; meetingId?: number | null; venueRegionCode?: string | null }>;
}

/** Checks and inserts projects with their milestones; `paths` names each draft for its problems (a string: one draft). */
export async function addProjects(tx: WriteTx, drafts: readonly ProjectDraft[], paths: readonly string[] | string, problems: Problems, options: { single: boolean }): Promise<number[]> {
  const pathOf = (i: number) => (typeof paths === "string" ? paths : paths[i]);
  const fieldOf = (i: number, name: string, milestone?: number) =>
    options.single ? `${pathOf(i)}.${name}` : milestone === undefined ? `${pathOf(i)}.${name}` : `${pathOf(i)}.milestones[${milestone}].${name}`;
  const meetings = await readMeetingFacts(tx, drafts.flatMap((d) => d.milestones.map((m) => m.meetingId ?? null).filter((id): id is number => id !== null)));
  const keys = drafts.map((d) => d.ref).filter((ref): ref is string => typeof ref === "string").map(refKeyColumn);
  const taken = new Set<string>();
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    const rows: Array<{ ref_key: string }> = await tx.query(`SELECT ref_key FROM project WHERE ref_key IN (${placeholders(chunk.length)})`, chunk);
    for (const row of rows) taken.add(row.ref_key);
  }
  const seen = new Set<string>();
  const rows: unknown[][] = [];
  const placed: Array<{ regionId: number; shape: RollupShape; milestones: Array<[number, string, number | null, number | null]>; checks: Array<() => void>; hosts: number[] }> = [];
  drafts.forEach((draft, i) => {
    if (!options.single) {
      const length = typeof draft.name === "string" ? textLength(draft.name) : 0;
      const characters = typeof draft.name === "string" ? characterProblem(draft.name) : null;
      if (characters) problems.add(fieldOf(i, "name"), characters);
      else if (length < 1 || length > MAX_TEXT) problems.add(fieldOf(i, "name"), `must be 1 to ${MAX_TEXT} characters after trimming (got ${length})`);
      if (!Number.isSafeInteger(draft.investmentWan) || draft.investmentWan <= 0 || draft.investmentWan > 100_000_000) {
        problems.add(fieldOf(i, "investment"), "must be positive, exact to 1 万元 and at most 10,000 亿元");
      }
    }
    if (draft.ref) {
      const key = refKeyColumn(draft.ref);
      if (taken.has(key)) problems.add(fieldOf(i, "ref"), `ledger reference "${draft.ref}" is taken by another project`);
      else if (seen.has(key)) problems.add(fieldOf(i, "ref"), `ledger reference "${draft.ref}" appears twice`);
      seen.add(key);
    }
    const region = tx.rules.projectRegion(problems, fieldOf(i, "regionCode"), draft.regionCode);
    const sectorId = tx.rules.sectorId(problems, fieldOf(i, "sectorCode"), draft.sectorCode);
    if (draft.milestones.length === 0) problems.add(fieldOf(i, "stage"), "a project needs its first milestone");
    let previous: { stage: number; reachedOn: string } | undefined;
    const milestones: Array<[number, string, number | null, number | null]> = [];
    const checks: Array<() => void> = [];
    const hosts: number[] = [];
    draft.milestones.forEach((m, j) => {
      const stage = enteringStageNumber(m.stage);
      // The API's input rules may have said so already (createProject checks the field first).
      if (stage < 0 && !problems.list.some((p) => p.field === fieldOf(i, "stage", j))) problems.add(fieldOf(i, "stage", j), enteringStageProblem(m.stage));
      tx.rules.checkDate(problems, fieldOf(i, "reachedOn", j), m.reachedOn);
      if (previous && stage <= previous.stage) problems.add(fieldOf(i, "stage", j), "milestones must move forward, one per stage");
      if (previous && m.reachedOn < previous.reachedOn) problems.add(fieldOf(i, "reachedOn", j), `must not be before the previous milestone's date ${previous.reachedOn}`);
      const at = tx.rules.placement(
        problems,
        options.single ? pathOf(i) : `${pathOf(i)}.milestones[${j}]`,
        { meetingId: m.meetingId ?? null, venueRegionCode: m.venueRegionCode ?? null, stage, investmentWan: draft.investmentWan },
        meetings,
        "investment",
      );
      checks.push(at.check);
      if (at.meetingId !== null) hosts.push(meetings.get(at.meetingId)!.hostRegionId);
      milestones.push([stage, m.reachedOn, at.meetingId, at.venueRegionId]);
      previous = { stage, reachedOn: m.reachedOn };
    });
    if (!region || sectorId === undefined || !previous) return;
    const last = milestones[milestones.length - 1];
    const shape: RollupShape = {
      regionId: region.id,
      sectorId,
      stage: last[0],
      investmentWan: draft.investmentWan,
      milestones: milestones.map(([stage, , meetingId, venueRegionId]) => ({ stage, meetingId, venueRegionId })),
    };
    placed.push({ regionId: region.id, shape, milestones, checks: [() => tx.rules.forbidRegion(region, fieldOf(i, "regionCode"), "a project in"), ...checks], hosts });
    rows.push([draft.ref ?? null, draft.ref ? refKeyColumn(draft.ref) : null, draft.name.trim(), region.id, sectorId, last[0], last[1], draft.investmentWan, draft.investor?.trim() || null, draft.synthetic ? 1 : 0, 1]);
  });
  problems.throwIfAny();
  for (const p of placed) for (const check of p.checks) check();

  const ids: number[] = [];
  const columns = ["ref", "ref_key", "name", "region_id", "sector_id", "stage", "stage_reached_on", "investment_wan", "investor", "synthetic", "version"];
  if (rows.length > 1 && rows.every((row) => row[0] !== null)) {
    // With references (the import, the seed): 500 rows per statement, ids read back by reference, whatever the auto-increment lock mode.
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      await insertRows(tx, "project", columns, chunk, { chunk: 500 });
      const found: Array<{ id: number; ref_key: string }> = await tx.query(`SELECT id, ref_key FROM project WHERE ref_key IN (${placeholders(chunk.length)})`, chunk.map((row) => row[1]));
      const idOf = new Map(found.map((row) => [row.ref_key, Number(row.id)]));
      for (const row of chunk) ids.push(idOf.get(row[1] as string)!);
    }
  } else {
    // One row per statement: the only way to learn each id on both databases without a reference.
    for (const row of rows) ids.push(insertedId(await tx.query(`INSERT INTO project (${columns.join(", ")}) VALUES (${placeholders(columns.length)})`, row)));
  }
  const milestoneRows = placed.flatMap((p, i) => p.milestones.map(([stage, reachedOn, meetingId, venueRegionId]) => [ids[i], stage, reachedOn, meetingId, venueRegionId]));
  await insertRows({ query: (sql, params) => tx.queue(sql, params ?? []) }, "milestone", ["project_id", "stage", "reached_on", "meeting_id", "venue_region_id"], milestoneRows, { chunk: 500 });
  placed.forEach((p, i) => {
    tx.delta.add(p.shape, 1);
    tx.touch(p.regionId, p.hosts);
    const row = rows[i];
    const fields: FieldChange[] = [
      fieldChange("name", null, String(row[2])),
      fieldChange("region", null, tx.trees.regions.byId(p.regionId)!.code),
      fieldChange("sector", null, tx.trees.sectors.byId(p.shape.sectorId)!.code),
      fieldChange("investment", null, formatWan(p.shape.investmentWan)),
      ...(row[8] ? [fieldChange("investor", null, String(row[8]))] : []),
      ...(row[0] ? [fieldChange("ref", null, String(row[0]))] : []),
      ...p.milestones.flatMap(([stage, reachedOn, meetingId, venueRegionId]) => milestoneFields(stage, null, { reachedOn, meetingId, venueRegionId }, tx.trees.regions)),
    ];
    tx.record({ operation: "CREATE_PROJECT", projectId: ids[i], meetingId: null, projectVersion: 1, regionId: p.regionId, fields, reason: null });
  });
  if (options.single) tx.answerWith(ids[0]);
  return ids;
}

/** Changes a project's own fields (name, sector, investment, investor, region) at `expectedVersion`. */
export async function updateProject(tx: WriteTx, id: string, expectedVersion: number, input: UpdateProjectInput, problems: Problems): Promise<number> {
  const project = await loadProject(tx, problems, "id", id, expectedVersion);
  const { regions, sectors } = tx.trees;
  const sectorId = input.sectorCode != null ? tx.rules.sectorId(problems, "input.sectorCode", input.sectorCode) : project.sectorId;
  const region = input.regionCode != null ? tx.rules.projectRegion(problems, "input.regionCode", input.regionCode) : regions.byId(project.regionId);
  for (const key of ["name", "sectorCode", "investment", "regionCode"] as const) {
    if (key in input && input[key] === null) problems.add(`input.${key}`, "cannot be cleared (omit it to keep the current value)");
  }
  const wan = typeof input.investment === "number" ? Math.round(input.investment * 10_000) : project.investmentWan;
  const meetings = new Map<number, MeetingFacts>();
  const hosts = await meetingHosts(tx, project, meetings);
  if (wan < MAJOR_STARTED_MIN_WAN) {
    const started = project.milestones.find((m) => m.stage === stageToNumber(ProjectStage.STARTED) && m.meetingId !== null && meetings.get(m.meetingId)!.majorProjects);
    if (started) problems.add("input.investment", `the project started at major-project meeting ${started.meetingId}, whose STARTED batch takes only projects of at least 5 亿元`);
  }
  problems.throwIfAny();
  tx.rules.forbidRegion(regions.byId(project.regionId)!, "id", "a project in");
  if (region && region.id !== project.regionId) tx.rules.forbidRegion(region, "input.regionCode", "moving a project to");

  const next = {
    name: typeof input.name === "string" ? input.name.trim() : project.name,
    sectorId: sectorId ?? project.sectorId,
    regionId: region?.id ?? project.regionId,
    investmentWan: wan,
    investor: input.investor === undefined ? project.investor : input.investor === null ? null : input.investor.trim(),
  };
  const fields: FieldChange[] = [];
  if (next.name !== project.name) fields.push(fieldChange("name", project.name, next.name));
  if (next.regionId !== project.regionId) fields.push(fieldChange("region", regions.byId(project.regionId)!.code, regions.byId(next.regionId)!.code));
  if (next.sectorId !== project.sectorId) fields.push(fieldChange("sector", sectors.byId(project.sectorId)!.code, sectors.byId(next.sectorId)!.code));
  if (next.investmentWan !== project.investmentWan) fields.push(fieldChange("investment", formatWan(project.investmentWan), formatWan(next.investmentWan)));
  if (next.investor !== project.investor) fields.push(fieldChange("investor", project.investor, next.investor));
  tx.answerWith(project.id);
  if (fields.length === 0) return project.id; // nothing changes: no new version, no history

  tx.delta.add(shapeOf(project), -1);
  await tx.queue("UPDATE project SET name = ?, sector_id = ?, region_id = ?, investment_wan = ?, investor = ?, version = version + 1 WHERE id = ? AND version = ?", [
    next.name,
    next.sectorId,
    next.regionId,
    next.investmentWan,
    next.investor,
    project.id,
    project.version,
  ]);
  tx.delta.add({ ...shapeOf(project), regionId: next.regionId, sectorId: next.sectorId, investmentWan: next.investmentWan }, 1);
  tx.touch(project.regionId, hosts);
  if (next.regionId !== project.regionId) tx.touch(next.regionId, hosts);
  return recordChange(tx, project, { operation: "UPDATE_PROJECT", meetingId: null, regionId: next.regionId, fromRegionId: project.regionId, fields, reason: null });
}
