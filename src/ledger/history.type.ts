import { ArgsType, Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";

import { DateScalar } from "../common/date.scalar";
import { PageInfo } from "../common/pagination";
import type { FieldChange as FieldChangeRecord } from "./history";

/** What a change did. */
export enum ChangeOperation {
  CREATE_PROJECT = "CREATE_PROJECT",
  UPDATE_PROJECT = "UPDATE_PROJECT",
  ADVANCE_STAGE = "ADVANCE_STAGE",
  RECORD_AT_MEETING = "RECORD_AT_MEETING",
  CORRECT_MILESTONE_DATE = "CORRECT_MILESTONE_DATE",
  CREATE_MEETING = "CREATE_MEETING",
  SET_TARGET = "SET_TARGET",
  RAISE_FACTOR_ISSUE = "RAISE_FACTOR_ISSUE",
  RESOLVE_FACTOR_ISSUE = "RESOLVE_FACTOR_ISSUE",
  REPORT_OUTPUT = "REPORT_OUTPUT",
}

registerEnumType(ChangeOperation, {
  name: "ChangeOperation",
  description: "What a change in the ledger's history did.",
  valuesConfig: {
    CREATE_PROJECT: { description: "A project entered the ledger (by mutation, import or seed)." },
    UPDATE_PROJECT: { description: "A project's own fields changed (name, sector, investment, investor, region)." },
    ADVANCE_STAGE: { description: "A project reached a later stage." },
    RECORD_AT_MEETING: { description: "A milestone already reached was presented at a meeting venue." },
    CORRECT_MILESTONE_DATE: { description: "A milestone's date was corrected; `reason` says why, the old date stays in the history." },
    CREATE_MEETING: { description: "A meeting was created." },
    SET_TARGET: { description: "A region's target for a stage and period was set or replaced (目标亮相); `fields` say from what to what, with no project." },
    RAISE_FACTOR_ISSUE: { description: "A factor-support problem (要素保障) was raised for the project (fields `factorIssues.<id>.…`); the project's version does not move." },
    REPORT_OUTPUT: {
      description:
        "A year's output value was reported for a project in production (fields `outputReports.<year>` in 亿元, `outputReports.<year>.reportedOn`, `designedAnnualOutput` when it was set or changed); when the report reached the designed output (EFFECTIVE_THRESHOLD), also `stage` IN_PRODUCTION → EFFECTIVE and the EFFECTIVE milestone.",
    },
    RESOLVE_FACTOR_ISSUE: { description: "A factor-support problem of the project was answered (fields `factorIssues.<id>.resolvedOn`, `.resolution`); the project's version does not move." },
  },
});

@ObjectType({ simpleResolvers: true, description: "One field of a change, from what to what (null: not set). Values are written as the API writes them: codes, 亿元, stage names, dates." })
export class FieldChange {
  @Field({ description: "The field, e.g. `investment`, `region`, `milestones.STARTED.reachedOn`." })
  field: string;

  @Field(() => String, { nullable: true, description: "The value before; null when it was not set (e.g. on creation)." })
  from: string | null;

  @Field(() => String, { nullable: true, description: "The value after." })
  to: string | null;
}

/** A `ledger_change` row as read. */
export interface ChangeRow {
  id: number;
  changed_at: string;
  office: string;
  operation: string;
  project_id: number | null;
  meeting_id: number | null;
  project_version: number | null;
  region_id: number;
  fields: string;
  reason: string | null;
}

@ObjectType({ description: "One change in the ledger's history (全程跟踪): appended by every write, never edited or deleted." })
export class ProjectChange {
  projectId: number | null;
  meetingIdValue: number | null;
  regionId: number;

  @Field(() => ID, { description: "Stable identifier; later changes have larger ones." })
  id: string;

  @Field({ description: "When the change was committed: ISO 8601, UTC, e.g. 2026-11-26T15:31:07.123Z." })
  changedAt: string;

  @Field({ description: "The office whose token made the change, or `system` for the operator's tools (seed, command line)." })
  office: string;

  @Field(() => ChangeOperation, { description: "What the change did." })
  operation: ChangeOperation;

  @Field(() => Int, { nullable: true, description: "The project's version after the change; null for a meeting." })
  projectVersion: number | null;

  @Field(() => [FieldChange], { description: "Each changed field, from what to what." })
  fields: FieldChange[];

  @Field(() => String, { nullable: true, description: "Why, for a correction." })
  reason: string | null;

  static fromRow(row: ChangeRow): ProjectChange {
    const change = new ProjectChange();
    change.id = String(row.id);
    change.changedAt = row.changed_at;
    change.office = row.office;
    change.operation = row.operation as ChangeOperation;
    change.projectId = row.project_id === null ? null : Number(row.project_id);
    change.meetingIdValue = row.meeting_id === null ? null : Number(row.meeting_id);
    change.projectVersion = row.project_version === null ? null : Number(row.project_version);
    change.regionId = Number(row.region_id);
    change.fields = (JSON.parse(row.fields) as FieldChangeRecord[]).map((f) => Object.assign(new FieldChange(), f));
    change.reason = row.reason;
    return change;
  }
}

@ObjectType({ description: "A change with its cursor." })
export class ProjectChangeEdge {
  @Field({ description: "Opaque cursor; pass it as `after` to continue after this change." })
  cursor: string;

  @Field(() => ProjectChange, { description: "The change." })
  node: ProjectChange;
}

@ObjectType({ description: "A page of changes, newest first (Relay cursor connection)." })
export class ProjectChangeConnection {
  @Field(() => [ProjectChangeEdge], { description: "The page's changes with their cursors." })
  edges: ProjectChangeEdge[];

  @Field(() => [ProjectChange], { description: "The page's changes, without cursors." })
  nodes: ProjectChange[];

  @Field(() => PageInfo, { description: "Where this page sits in the whole list." })
  pageInfo: PageInfo;
}

/** Arguments of `Project.history`. */
@ArgsType()
export class HistoryArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20, description: "Page size, 1 to 100." })
  first?: number | null;

  @Field(() => String, { nullable: true, description: "Return the changes after (older than) this cursor." })
  after?: string | null;
}

/** Arguments of `Region.changes`. */
@ArgsType()
export class ChangesArgs extends HistoryArgs {
  @Field(() => DateScalar, { nullable: true, description: "Only changes on or after this day (UTC)." })
  since?: string | null;
}
