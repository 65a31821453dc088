import { Field, Int, ObjectType, registerEnumType } from "type-graphql";

import { ProjectStage } from "../common/stage";
import { Meeting } from "../meeting/meeting.type";
import { Region } from "../region/region.type";
import { Sector } from "../sector/sector.type";
import { Share } from "./project-stats.type";
import type { Bucket } from "./tally";

/** Dimensions a flat breakdown can group by. */
export enum BreakdownDimension {
  REGION = "REGION",
  SECTOR = "SECTOR",
  STAGE = "STAGE",
  MEETING = "MEETING",
  YEAR = "YEAR",
  QUARTER = "QUARTER",
}

registerEnumType(BreakdownDimension, {
  name: "BreakdownDimension",
  description: "Dimensions a flat breakdown can group by.",
  valuesConfig: {
    REGION: { description: "The region at `regionLevel` that each project lies in (the project's own region when it lies above that level, as 济源 does for COUNTY)." },
    SECTOR: { description: "The top-level sector (a sector's row includes its sub-sectors)." },
    STAGE: { description: "The current stage; with MEETING, or with a meeting in the filter, the batch (签约/开工/投产一批) the entry was presented in." },
    MEETING: { description: "The meeting a batch entry was presented at: rows count batch entries (milestones at meetings), not projects." },
    YEAR: { description: "The year of the date the project reached the stage named in `filter.milestone.stage`, or else its current stage (a batch entry's date when milestones are counted)." },
    QUARTER: { description: "The calendar quarter of that same date, as `year` and `quarter` (a quarter-by-quarter series)." },
  },
});

/** One flat row of a breakdown. */
@ObjectType({ simpleResolvers: true, description: "One flat row for BI tools; only the grouped dimensions are set." })
export class BreakdownRow extends Share {
  constructor(bucket: Bucket, keys: Partial<Pick<BreakdownRow, "region" | "sector" | "stage" | "meeting" | "year" | "quarter">>) {
    super(bucket);
    this.region = keys.region ?? null;
    this.sector = keys.sector ?? null;
    this.stage = keys.stage ?? null;
    this.meeting = keys.meeting ?? null;
    this.year = keys.year ?? null;
    this.quarter = keys.quarter ?? null;
  }

  @Field(() => Region, { nullable: true, description: "The region, when grouped by REGION." })
  region: Region | null;

  @Field(() => Sector, { nullable: true, description: "The top-level sector, when grouped by SECTOR." })
  sector: Sector | null;

  @Field(() => ProjectStage, { nullable: true, description: "The stage (current, or the batch's when milestones are counted), when grouped by STAGE." })
  stage: ProjectStage | null;

  @Field(() => Meeting, { nullable: true, description: "The meeting, when grouped by MEETING." })
  meeting: Meeting | null;

  @Field(() => Int, { nullable: true, description: "The year, when grouped by YEAR or QUARTER." })
  year: number | null;

  @Field(() => Int, { nullable: true, description: "The quarter of `year`, 1 to 4, when grouped by QUARTER." })
  quarter: number | null;
}
