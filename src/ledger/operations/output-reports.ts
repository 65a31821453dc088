/**
 * 达效: a project's output value for a year (and its designed annual output
 * when first known or changed), reported after it reached IN_PRODUCTION.
 * When a report of a project IN_PRODUCTION reaches the designed output (the
 * share EFFECTIVE_THRESHOLD, default 100 %), the same write moves it to
 * EFFECTIVE, with the milestone dated the report's date. Forward only: a
 * later, lower report never moves a project back. A second report for the
 * same year replaces the first; the history keeps the old value.
 */
import { isIsoDate, isoDay } from "../../common/date.scalar";
import { parseId } from "../../common/ids";
import { amountProblem } from "../../common/money";
import { ProjectStage, stageFromNumber, stageToNumber } from "../../common/stage";
import { MAX_OUTPUT_YI } from "../../output/output.type";
import { fieldChange, type FieldChange, formatWan } from "../history";
import type { Problems } from "../problems";
import { reachStage } from "./milestones";
import { EARLIEST_DATE } from "../rules";
import { bumpProject, loadProject, meetingHosts, recordChange } from "./stored-project";
import type { WriteTx } from "./write-tx";

const IN_PRODUCTION = stageToNumber(ProjectStage.IN_PRODUCTION);
const EFFECTIVE = stageToNumber(ProjectStage.EFFECTIVE);

/** A report as the mutation's input (or an import row) carries it. */
export interface OutputReportDraft {
  projectId: string;
  year: number;
  /** 亿元. */
  output: number;
  /** 亿元; null or omitted keeps the recorded one. */
  designedAnnualOutput?: number | null;
  /** YYYY-MM-DD; null or omitted: the ledger's today. */
  reportedOn?: string | null;
  expectedVersion: number;
  /** The seed's illustrative layer only (src/seed/synthetic-layer.ts): marks the report as made up. */
  synthetic?: boolean;
}

/** What a report did: the project, whether it became EFFECTIVE. */
export interface ReportedOutput {
  projectId: number;
  effective: boolean;
}

/** An amount in 亿元 as exact 万元, or a problem of `field`: finite, exact to 1 万元, at most MAX_OUTPUT_YI, and more than 0 (`positive`) or at least 0. */
export function outputWan(problems: Problems, field: string, value: unknown, positive: boolean): number | null {
  const reason = amountProblem(value, { positive, maxYi: MAX_OUTPUT_YI });
  if (reason === null) return Math.round((value as number) * 10_000);
  problems.add(field, reason);
  return null;
}

/** A year output can be reported for (and read by): from the ledger's earliest year to 9999. */
export function isOutputYear(year: unknown): year is number {
  return typeof year === "number" && Number.isInteger(year) && year >= Number(EARLIEST_DATE.slice(0, 4)) && year <= 9999;
}

/** Whether `outputWan` reaches `threshold` × `designedWan` (the threshold to 6 decimals; exact on integers). */
export function reachesThreshold(outputWan: number, designedWan: number, threshold: number): boolean {
  return BigInt(outputWan) * 1_000_000n >= BigInt(Math.round(threshold * 1_000_000)) * BigInt(designedWan);
}

/**
 * Records a project's output for a year at the input's expected version (`path` names the input in problems, e.g.
 * "input"). Options for the import: `sinceAnyYear` does not hold the year to the IN_PRODUCTION milestone's (a
 * project entering the ledger at EFFECTIVE, whose IN_PRODUCTION date the file does not know).
 */
export async function reportOutput(tx: WriteTx, input: OutputReportDraft, problems: Problems, path = "input", options: { sinceAnyYear?: boolean } = {}): Promise<ReportedOutput> {
  const year = input.year;
  const yearOk = isOutputYear(year);
  if (!yearOk) problems.add(`${path}.year`, `must be a year such as 2024 (got ${JSON.stringify(year)})`);
  const newOutputWan = outputWan(problems, `${path}.output`, input.output, false);
  const givenDesignWan = input.designedAnnualOutput == null ? null : outputWan(problems, `${path}.designedAnnualOutput`, input.designedAnnualOutput, true);
  const reportedOn = input.reportedOn ?? tx.rules.today;
  tx.rules.checkDate(problems, `${path}.reportedOn`, reportedOn);
  const dateOk = typeof reportedOn === "string" && isIsoDate(reportedOn);
  if (!Number.isInteger(input.expectedVersion) || input.expectedVersion < 1) problems.add(`${path}.expectedVersion`, `must be a version number, 1 or more (got ${JSON.stringify(input.expectedVersion)})`);
  if (parseId(input.projectId) === null) problems.add(`${path}.projectId`, `must be an id of this API (got ${JSON.stringify(input.projectId)?.slice(0, 80)})`);

  const project = await loadProject(tx, problems, `${path}.projectId`, input.projectId, input.expectedVersion);
  const [stored] = (await tx.query(
    "SELECT p.designed_annual_output_wan AS design, r.output_wan, r.reported_on FROM project p LEFT JOIN output_report r ON r.project_id = p.id AND r.year = ? WHERE p.id = ?",
    [yearOk ? year : 0, project.id],
  )) as Array<{ design: number | string | null; output_wan: number | string | null; reported_on: unknown }>;
  const storedDesignWan = stored?.design == null ? null : Number(stored.design);
  const before = stored?.output_wan == null ? null : { outputWan: Number(stored.output_wan), reportedOn: isoDay(stored.reported_on) };

  const production = project.milestones.find((m) => m.stage === IN_PRODUCTION);
  if (project.stage < IN_PRODUCTION) {
    problems.add(`${path}.projectId`, `project ${project.id} is ${stageFromNumber(project.stage)}: output is reported once it is IN_PRODUCTION (投产)`);
  } else {
    if (yearOk && production && !options.sinceAnyYear && year < Number(production.reachedOn.slice(0, 4))) {
      problems.add(`${path}.year`, `must not be before ${production.reachedOn.slice(0, 4)}, the year the project reached IN_PRODUCTION (${production.reachedOn}) (got ${year})`);
    }
    if (dateOk && production && reportedOn < production.reachedOn) {
      problems.add(`${path}.reportedOn`, `must not be before ${production.reachedOn}, when the project reached IN_PRODUCTION (got ${reportedOn})`);
    }
  }
  if (yearOk && dateOk) {
    if (year > Number(reportedOn.slice(0, 4))) problems.add(`${path}.year`, `must not be after the year of reportedOn (${reportedOn}): a year's output is reported during or after it (got ${year})`);
    else if (reportedOn < `${year}-01-01`) problems.add(`${path}.reportedOn`, `must not be before ${year}-01-01, the start of the year reported (got ${reportedOn})`);
  }
  if (input.designedAnnualOutput == null && storedDesignWan === null) {
    problems.add(`${path}.designedAnnualOutput`, "required: the project has no designed annual output (设计年产值) recorded yet, which its output is measured against");
  }
  problems.throwIfAny();
  tx.rules.forbidRegion(tx.trees.regions.byId(project.regionId)!, `${path}.projectId`, "a project in");

  const designWan = givenDesignWan ?? storedDesignWan!;
  const effective = project.stage === IN_PRODUCTION && reachesThreshold(newOutputWan!, designWan, tx.rules.effectiveThreshold);
  const hosts = await meetingHosts(tx, project, new Map());
  const fields: FieldChange[] = [];
  if (designWan !== storedDesignWan) fields.push(fieldChange("designedAnnualOutput", storedDesignWan === null ? null : formatWan(storedDesignWan), formatWan(designWan)));
  if (before === null || before.outputWan !== newOutputWan) fields.push(fieldChange(`outputReports.${year}`, before === null ? null : formatWan(before.outputWan), formatWan(newOutputWan!)));
  if (before === null || before.reportedOn !== reportedOn) fields.push(fieldChange(`outputReports.${year}.reportedOn`, before?.reportedOn ?? null, reportedOn));

  if (before === null) {
    await tx.queue("INSERT INTO output_report (project_id, year, output_wan, reported_on, synthetic) VALUES (?, ?, ?, ?, ?)", [project.id, year, newOutputWan, reportedOn, input.synthetic ? 1 : 0]);
  } else {
    await tx.queue("UPDATE output_report SET output_wan = ?, reported_on = ?, synthetic = ? WHERE project_id = ? AND year = ?", [newOutputWan, reportedOn, input.synthetic ? 1 : 0, project.id, year]);
  }
  // The design first (the row is locked; its version moves once, below).
  if (designWan !== storedDesignWan) await tx.queue("UPDATE project SET designed_annual_output_wan = ? WHERE id = ?", [designWan, project.id]);
  if (effective) fields.push(...(await reachStage(tx, project, EFFECTIVE, { reachedOn: reportedOn, meetingId: null, venueRegionId: null })));
  else await bumpProject(tx, project);
  tx.touch(project.regionId, hosts);
  recordChange(tx, project, { operation: "REPORT_OUTPUT", meetingId: null, fields, reason: null });
  return { projectId: project.id, effective };
}
