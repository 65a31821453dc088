import { ArrayMaxSize, IsOptional, MaxLength, Min } from "class-validator";
import { Field, Float, ID, InputType } from "type-graphql";

import { DateScalar } from "../common/date.scalar";
import { ProjectStage } from "../common/stage";
import { IsPlainText } from "../common/text";

/** Lists in a filter are capped so that a request cannot carry an unbounded IN list. */
const MAX_CODES = 500;

@InputType({ description: "A project reaching a stage: at a meeting, in a date range, or both." })
export class MilestoneFilter {
  @Field(() => ProjectStage, { description: "The stage that was reached." })
  stage: ProjectStage;

  @Field(() => ID, { nullable: true, description: "Reached at this meeting (one of its three batches)." })
  meetingId?: string | null;

  @Field(() => DateScalar, { nullable: true, description: "Reached on or after this date." })
  from?: string | null;

  @Field(() => DateScalar, { nullable: true, description: "Reached on or before this date." })
  to?: string | null;
}

@InputType({ description: "All given conditions must hold. An omitted or null condition does not restrict." })
export class ProjectFilter {
  @Field(() => [ProjectStage], { nullable: true, description: "Current stage is one of these." })
  @IsOptional()
  @ArrayMaxSize(3)
  stages?: ProjectStage[] | null;

  @Field(() => [ID], { nullable: true, description: "Primary sector is one of these or below one of them." })
  @IsOptional()
  @ArrayMaxSize(MAX_CODES)
  sectorCodes?: string[] | null;

  @Field(() => [ID], { nullable: true, description: "Located in one of these regions' subtrees." })
  @IsOptional()
  @ArrayMaxSize(MAX_CODES)
  regionCodes?: string[] | null;

  @Field(() => ID, { nullable: true, description: "Presented at this meeting, in any of its batches." })
  meetingId?: string | null;

  @Field(() => MilestoneFilter, { nullable: true, description: "Reached a stage (at a meeting, or in a date range)." })
  milestone?: MilestoneFilter | null;

  @Field(() => Float, { nullable: true, description: "Total investment at least this many 亿元." })
  @IsOptional()
  @Min(0)
  minInvestment?: number | null;

  @Field(() => Float, { nullable: true, description: "Total investment at most this many 亿元." })
  @IsOptional()
  @Min(0)
  maxInvestment?: number | null;

  @Field(() => String, { nullable: true, description: "Name contains this text (case-insensitive for Latin letters)." })
  @IsOptional()
  @MaxLength(100)
  @IsPlainText()
  nameContains?: string | null;
}
