/**
 * 要素保障: raising a factor-support problem for a project and marking it
 * answered. Both are scoped to the project's region, recorded in the
 * project's history (fields `factorIssues.<id>.…`) and move the region's
 * data version. Each moves the project to its next version, as every change
 * in the ledger's history does (one change per version, so `projectVersion`
 * names one change): an office that read the project before a problem was
 * raised gets CONFLICT with the current version on its next edit, and reads
 * the problem before it writes again. Neither needs an expected version: it
 * overwrites nothing the client read.
 */
import { AppError, ErrorCode } from "../../common/errors";
import { parseId } from "../../common/ids";
import { characterProblem } from "../../common/text";
import { FACTOR_KINDS, type FactorIssueRow, FactorKind, MAX_DEPARTMENT, MAX_DESCRIPTION, MAX_NOTE } from "../../factor/factor-issue.type";
import { fieldChange } from "../history";
import { textLength } from "../ledger.inputs";
import type { Problems } from "../problems";
import { insertedId } from "../round-trips";
import { bumpProject } from "./stored-project";
import type { WriteTx } from "./write-tx";

/** A problem to raise, as the mutation's input carries it. */
export interface RaiseFactorIssueDraft {
  projectId: string;
  kind: FactorKind | string;
  department: string;
  description: string;
  raisedOn: string;
  /** The seed's illustrative layer only (src/seed/synthetic-layer.ts): marks the row as made up. */
  synthetic?: boolean;
}

/** The answer to a problem, as the mutation's arguments carry it. */
export interface ResolveFactorIssueDraft {
  id: string;
  resolvedOn: string;
  note?: string | null;
}

/** Checks text a person typed: 1..max characters after trimming, none that `characterProblem` refuses; the trimmed text, or null after a problem. */
function checkText(problems: Problems, field: string, value: unknown, max: number): string | null {
  const reason =
    typeof value !== "string"
      ? "must be a string"
      : (characterProblem(value) ?? (textLength(value) < 1 || textLength(value) > max ? `must be 1 to ${max} characters after trimming (got ${textLength(value)})` : null));
  if (reason === null) return (value as string).trim();
  problems.add(field, reason);
  return null;
}

/** The project a problem is raised for, its row locked (MySQL), or a problem of `field`. */
async function readProject(tx: WriteTx, problems: Problems, field: string, id: unknown): Promise<{ id: number; regionId: number; version: number } | null> {
  const numeric = parseId(id);
  if (numeric === null) {
    problems.add(field, `must be an id of this API (got ${JSON.stringify(id)?.slice(0, 80)})`);
    return null;
  }
  const rows: Array<{ id: number; region_id: number; version: number }> = await tx.query(`SELECT id, region_id, version FROM project WHERE id = ?${tx.mysql ? " FOR UPDATE" : ""}`, [numeric]);
  if (rows.length === 0) {
    problems.add(field, `no project "${numeric}"`);
    return null;
  }
  return { id: numeric, regionId: Number(rows[0].region_id), version: Number(rows[0].version) };
}

/** Raises a problem for a project in the actor's scope; returns its row as stored. */
export async function raiseFactorIssue(tx: WriteTx, input: RaiseFactorIssueDraft, problems: Problems): Promise<FactorIssueRow> {
  const kind = FACTOR_KINDS.find((k) => k === input.kind);
  if (!kind) problems.add("input.kind", `must be one of ${FACTOR_KINDS.join(", ")} (got ${JSON.stringify(input.kind)?.slice(0, 80)})`);
  const department = checkText(problems, "input.department", input.department, MAX_DEPARTMENT);
  const description = checkText(problems, "input.description", input.description, MAX_DESCRIPTION);
  tx.rules.checkDate(problems, "input.raisedOn", input.raisedOn);
  const project = await readProject(tx, problems, "input.projectId", input.projectId);
  problems.throwIfAny();
  tx.rules.forbidRegion(tx.trees.regions.byId(project!.regionId)!, "input.projectId", "a project in");

  const id = insertedId(
    await tx.query("INSERT INTO factor_issue (project_id, kind, department, description, raised_on, resolved_on, resolution, synthetic) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?)", [
      project!.id,
      kind,
      department,
      description,
      input.raisedOn,
      input.synthetic ? 1 : 0,
    ]),
  );
  // The row is locked (FOR UPDATE on MySQL; SQLite writes one at a time): its version is the one read.
  await bumpProject(tx, project!);
  tx.touch(project!.regionId);
  const name = `factorIssues.${id}`;
  tx.record({
    operation: "RAISE_FACTOR_ISSUE",
    projectId: project!.id,
    meetingId: null,
    projectVersion: project!.version + 1,
    regionId: project!.regionId,
    fields: [fieldChange(`${name}.kind`, null, kind!), fieldChange(`${name}.department`, null, department), fieldChange(`${name}.description`, null, description), fieldChange(`${name}.raisedOn`, null, input.raisedOn)],
    reason: null,
  });
  return { id, project_id: project!.id, kind: kind!, department: department!, description: description!, raised_on: input.raisedOn, resolved_on: null, resolution: null, synthetic: input.synthetic ? 1 : 0 };
}

/**
 * Marks a problem answered on `resolvedOn` (not before it was raised), with
 * an optional note. Its row and its project's are locked first (MySQL; SQLite
 * writes one at a time), so of two answers at once the second finds it
 * answered: CONFLICT, naming the day it was.
 */
export async function resolveFactorIssue(tx: WriteTx, input: ResolveFactorIssueDraft, problems: Problems): Promise<FactorIssueRow> {
  const numeric = parseId(input.id);
  if (numeric === null) problems.add("id", `must be an id of this API (got ${JSON.stringify(input.id)?.slice(0, 80)})`);
  tx.rules.checkDate(problems, "resolvedOn", input.resolvedOn);
  const note = input.note == null ? null : checkText(problems, "note", input.note, MAX_NOTE);
  let issue: (FactorIssueRow & { region_id: number; version: number }) | undefined;
  if (numeric !== null) {
    const rows: Array<FactorIssueRow & { region_id: number; version: number }> = await tx.query(
      `SELECT f.id, f.project_id, f.kind, f.department, f.description, f.raised_on, f.resolved_on, f.resolution, f.synthetic, p.region_id, p.version FROM factor_issue f JOIN project p ON p.id = f.project_id WHERE f.id = ?${tx.mysql ? " FOR UPDATE" : ""}`,
      [numeric],
    );
    issue = rows[0];
    if (!issue) problems.add("id", `no factor issue "${numeric}"`);
  }
  const raisedOn = issue ? String(issue.raised_on).slice(0, 10) : null;
  if (raisedOn !== null && typeof input.resolvedOn === "string" && input.resolvedOn < raisedOn) {
    problems.add("resolvedOn", `must not be before ${raisedOn}, when the issue was raised (got ${input.resolvedOn})`);
  }
  problems.throwIfAny();
  const regionId = Number(issue!.region_id);
  tx.rules.forbidRegion(tx.trees.regions.byId(regionId)!, "id", "a factor issue of a project in");
  if (issue!.resolved_on !== null) {
    const on = String(issue!.resolved_on).slice(0, 10);
    throw new AppError(ErrorCode.CONFLICT, `factor issue ${numeric} was already resolved on ${on}: an answered issue cannot be resolved again (raise a new one if the problem came back)`, {
      field: "id",
      issueId: String(numeric),
      resolvedOn: on,
    });
  }

  await tx.queue("UPDATE factor_issue SET resolved_on = ?, resolution = ? WHERE id = ? AND resolved_on IS NULL", [input.resolvedOn, note, numeric]);
  await bumpProject(tx, { id: Number(issue!.project_id), version: Number(issue!.version) });
  tx.touch(regionId);
  const name = `factorIssues.${numeric}`;
  tx.record({
    operation: "RESOLVE_FACTOR_ISSUE",
    projectId: Number(issue!.project_id),
    meetingId: null,
    projectVersion: Number(issue!.version) + 1,
    regionId,
    fields: [fieldChange(`${name}.resolvedOn`, null, input.resolvedOn), ...(note === null ? [] : [fieldChange(`${name}.resolution`, null, note)])],
    reason: null,
  });
  return { ...issue!, id: numeric!, raised_on: raisedOn!, resolved_on: input.resolvedOn, resolution: note };
}
