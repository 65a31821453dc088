import { Field, ObjectType } from "type-graphql";

import { DateScalar } from "../common/date.scalar";
import { ProjectStage, stageFromNumber } from "../common/stage";

/** A `milestone` row. */
export interface MilestoneRow {
  project_id: number;
  stage: number;
  reached_on: string;
  meeting_id: number | null;
  venue_region_id: number | null;
}

@ObjectType({ description: "A ledger entry (台账记录): the project reached a stage on a date, optionally presented at a meeting venue." })
export class Milestone {
  meetingId: number | null;
  venueRegionId: number | null;

  @Field(() => ProjectStage, { description: "The stage reached." })
  stage: ProjectStage;

  @Field(() => DateScalar, { description: "The date it was reached." })
  reachedOn: string;

  static fromRow(row: MilestoneRow): Milestone {
    const milestone = new Milestone();
    milestone.stage = stageFromNumber(Number(row.stage));
    milestone.reachedOn = String(row.reached_on).slice(0, 10);
    milestone.meetingId = row.meeting_id === null ? null : Number(row.meeting_id);
    milestone.venueRegionId = row.venue_region_id === null ? null : Number(row.venue_region_id);
    return milestone;
  }
}
