/** The GraphQL types of 要素保障: a factor issue, its kinds, the input that raises one, and the stats of blocked projects. */
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";

import { DateScalar } from "../common/date.scalar";

/** The kind of support a project is waiting for (the meeting report's 规划、审批、环评、土地、融资、用人 and the rest). */
export enum FactorKind {
  PLANNING = "PLANNING",
  APPROVAL = "APPROVAL",
  ENVIRONMENT = "ENVIRONMENT",
  LAND = "LAND",
  FINANCING = "FINANCING",
  STAFFING = "STAFFING",
  UTILITIES = "UTILITIES",
  OTHER = "OTHER",
}

/** The kinds in the order the API lists them. */
export const FACTOR_KINDS: readonly FactorKind[] = Object.values(FactorKind);

/** Each kind's name in the meeting's words (the CSV export writes them beside the enum names). */
export const FACTOR_KIND_NAMES: Record<FactorKind, string> = {
  PLANNING: "规划",
  APPROVAL: "审批",
  ENVIRONMENT: "环评",
  LAND: "土地",
  FINANCING: "融资",
  STAFFING: "用人",
  UTILITIES: "能耗、水电气等",
  OTHER: "其他",
};

registerEnumType(FactorKind, {
  name: "FactorKind",
  description: "The kind of support (要素保障) a project is waiting for.",
  valuesConfig: {
    PLANNING: { description: "规划: planning permission, land-use planning." },
    APPROVAL: { description: "审批: approvals and permits (立项、核准、备案、施工许可)." },
    ENVIRONMENT: { description: "环评: environmental impact assessment." },
    LAND: { description: "土地: land supply, acquisition, use rights." },
    FINANCING: { description: "融资: loans, bonds, funding." },
    STAFFING: { description: "用人: staff and skilled workers." },
    UTILITIES: { description: "能耗、水电气等: energy-use quota, water, power, gas and the like." },
    OTHER: { description: "Anything else (其他)." },
  },
});

/** Longest department name, in characters after trimming. */
export const MAX_DEPARTMENT = 100;
/** Longest description, in characters after trimming. */
export const MAX_DESCRIPTION = 1000;
/** Longest resolution note, in characters after trimming. */
export const MAX_NOTE = 500;

/** A `factor_issue` row as read (with the project's region when joined). */
export interface FactorIssueRow {
  id: number | string;
  project_id: number | string;
  kind: string;
  department: string;
  description: string;
  raised_on: string;
  resolved_on: string | null;
  resolution: string | null;
  synthetic?: number | boolean | null;
}

/** The columns of a FactorIssueRow, over the alias `f`. */
export const FACTOR_ISSUE_COLUMNS = "f.id, f.project_id, f.kind, f.department, f.description, f.raised_on, f.resolved_on, f.resolution, f.synthetic";

/** Whole days from one calendar date to another (YYYY-MM-DD, UTC). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/**
 * Days an issue raised on `raisedOn` has been open by `until` (its resolvedOn, or today): 0 for one raised on a
 * later day (the ledger accepts dates up to LEDGER_FUTURE_DAYS ahead). Ordering by it agrees with SQL's unclamped
 * difference, as days at or below 0 order by raisedOn either way.
 */
export function daysOpenOf(raisedOn: string, until: string): number {
  return Math.max(0, daysBetween(raisedOn, until));
}

@ObjectType({ description: "要素保障: a problem that holds a project back, the kind of support it needs, and the department that must answer it (对号入座)." })
export class FactorIssue {
  projectId: number;

  @Field(() => ID, { description: "Stable identifier." })
  id: string;

  @Field(() => FactorKind, { description: "The kind of support needed." })
  kind: FactorKind;

  @Field({ description: "The department that must answer it (对号入座), e.g. 省自然资源厅." })
  department: string;

  @Field({ description: "What holds the project back." })
  description: string;

  @Field(() => DateScalar, { description: "When it was raised." })
  raisedOn: string;

  @Field(() => DateScalar, { nullable: true, description: "When it was answered; null while open." })
  resolvedOn: string | null;

  @Field(() => String, { nullable: true, description: "How it was answered, as the office that resolved it wrote it; null while open or when none was given." })
  resolution: string | null;

  @Field(() => Boolean, { description: "True for the seed's illustrative layer (made up to show the feature, not raised by an office; see the README's Assessment section); false for every problem raised through the API." })
  synthetic: boolean;

  @Field(() => Boolean, { description: "True while it is not answered (resolvedOn is null)." })
  get open(): boolean {
    return this.resolvedOn === null;
  }

  @Field(() => Int, { description: "Days from raisedOn to resolvedOn, or to today (UTC) while open; 0 for one raised on a later day." })
  get daysOpen(): number {
    return daysOpenOf(this.raisedOn, this.resolvedOn ?? this.today);
  }

  /** The day daysOpen counts to while open: the request's today (the ledger's, which tests pin). */
  today: string;

  static fromRow(row: FactorIssueRow, today: string): FactorIssue {
    const issue = new FactorIssue();
    issue.id = String(row.id);
    issue.projectId = Number(row.project_id);
    issue.kind = row.kind as FactorKind;
    issue.department = row.department;
    issue.description = row.description;
    issue.raisedOn = String(row.raised_on).slice(0, 10);
    issue.resolvedOn = row.resolved_on === null ? null : String(row.resolved_on).slice(0, 10);
    issue.resolution = row.resolution;
    issue.synthetic = Boolean(Number(row.synthetic ?? 0));
    issue.today = today;
    return issue;
  }
}

@InputType({ description: "A factor-support problem (要素保障) to raise for a project." })
export class RaiseFactorIssueInput {
  @Field(() => ID, { description: "The project it holds back; in the token's region." })
  projectId: string;

  @Field(() => FactorKind, { description: "The kind of support needed." })
  kind: FactorKind;

  @Field({ description: `The department that must answer it (对号入座), e.g. 省自然资源厅: 1–${MAX_DEPARTMENT} characters after trimming, no control characters.` })
  department: string;

  @Field({ description: `What holds the project back: 1–${MAX_DESCRIPTION} characters after trimming, on one line.` })
  description: string;

  @Field(() => DateScalar, { description: "When it was raised: not before 1949, not more than LEDGER_FUTURE_DAYS ahead." })
  raisedOn: string;
}

@ObjectType({ description: "Open factor issues of one kind in a region's subtree." })
export class FactorKindStats {
  @Field(() => FactorKind, { description: "The kind." })
  kind: FactorKind;

  @Field(() => Int, { description: "Open issues of this kind." })
  openIssues: number;

  @Field(() => Int, { description: "Projects with at least one open issue of this kind." })
  blockedProjects: number;

  @Field(() => Int, { description: "Days the oldest open issue of this kind has been open (to today, UTC)." })
  longestOpenDays: number;
}

@ObjectType({ description: "Open factor issues waiting on one department in a region's subtree (对号入座)." })
export class FactorDepartmentStats {
  @Field({ description: "The department, as written when the issues were raised (trimmed; exact text, so 省自然资源厅 and 自然资源厅 are two)." })
  department: string;

  @Field(() => Int, { description: "Open issues waiting on it." })
  openIssues: number;

  @Field(() => Int, { description: "Projects with at least one open issue waiting on it." })
  blockedProjects: number;

  @Field(() => Int, { description: "Days the oldest open issue waiting on it has been open (to today, UTC)." })
  longestOpenDays: number;
}

@ObjectType({ description: "Projects held back by open factor issues (要素保障) in a region's whole subtree, in all and by kind and department." })
export class FactorIssueStats {
  @Field(() => Int, { description: "Projects with at least one open factor issue (blocked)." })
  blockedProjects: number;

  @Field(() => Int, { description: "Open factor issues." })
  openIssues: number;

  @Field(() => Int, { nullable: true, description: "Days the oldest open issue has been open (to today, UTC); null when none is open." })
  longestOpenDays: number | null;

  @Field(() => [FactorKindStats], { description: "One row per kind with open issues, in FactorKind order." })
  byKind: FactorKindStats[];

  @Field(() => [FactorDepartmentStats], { description: "One row per department with open issues: most open issues first, then longest open, then by name." })
  byDepartment: FactorDepartmentStats[];
}
