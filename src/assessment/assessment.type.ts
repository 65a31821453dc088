import { Arg, ArgsType, Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";

import { fromWan, MoneyUnit, UNIT_ARG } from "../common/money";
import { ProjectStage } from "../common/stage";
import { Region } from "../region/region.type";

/** 考核亮牌: a region's card for one stage and period. */
export enum AssessmentCard {
  GREEN = "GREEN",
  YELLOW = "YELLOW",
  RED = "RED",
}

registerEnumType(AssessmentCard, {
  name: "AssessmentCard",
  description:
    "考核亮牌: with `elapsed` the share of the period gone by today (days from its first day to today, today counted, over its days; 0 before it begins, 1 once it is over), " +
    "GREEN when completionRate >= elapsed × ASSESSMENT_GREEN_AT (default 1.0), YELLOW when completionRate >= elapsed × ASSESSMENT_YELLOW_AT (default 0.8), else RED.",
  valuesConfig: {
    GREEN: { description: "On schedule: completionRate >= elapsed × ASSESSMENT_GREEN_AT." },
    YELLOW: { description: "Behind, within the margin: completionRate >= elapsed × ASSESSMENT_YELLOW_AT." },
    RED: { description: "Behind beyond the margin." },
  },
});

/** What a StageAssessment is made of (the loader fills it). */
export interface StageAssessmentParts {
  region: Region;
  stage: ProjectStage;
  year: number;
  quarter: number | null;
  targetCount: number | null;
  targetWan: number | null;
  /** Whether the target is the seed's illustrative one; null without a target. */
  targetSynthetic?: boolean | null;
  reachedCount: number;
  reachedWan: number;
  completionRate: number | null;
  rank: number | null;
  card: AssessmentCard | null;
}

@ObjectType({
  simpleResolvers: true,
  description:
    "One region's target and result for one stage in one period (a year, or one quarter of it): 目标亮相、考核亮牌. " +
    "What the region reached counts the projects of its whole subtree (where they are now) whose milestone of the stage is dated inside the period.",
})
export class StageAssessment {
  private readonly targetWan: number | null;
  private readonly reachedWan: number;

  constructor(parts: StageAssessmentParts) {
    this.region = parts.region;
    this.stage = parts.stage;
    this.year = parts.year;
    this.quarter = parts.quarter;
    this.targetCount = parts.targetCount;
    this.targetWan = parts.targetWan;
    this.targetSynthetic = parts.targetSynthetic ?? null;
    this.reachedCount = parts.reachedCount;
    this.reachedWan = parts.reachedWan;
    this.completionRate = parts.completionRate;
    this.rank = parts.rank;
    this.card = parts.card;
  }

  @Field(() => Region, { description: "The region assessed." })
  region: Region;

  @Field(() => ProjectStage, { description: "The stage whose milestones count." })
  stage: ProjectStage;

  @Field(() => Int, { description: "The year of the period." })
  year: number;

  @Field(() => Int, { nullable: true, description: "The quarter of the period (1 = January to March, … 4 = October to December); null for the whole year." })
  quarter: number | null;

  @Field(() => Int, { nullable: true, description: "Projects to reach the stage in the period; null when the target has no count, or there is no target." })
  targetCount: number | null;

  @Field(() => Float, { nullable: true, description: "Investment of the projects to reach the stage in the period (exact; stored in 万元); null without a target." })
  targetInvestment(@Arg("unit", () => MoneyUnit, UNIT_ARG) unit: MoneyUnit | null): number | null {
    return this.targetWan === null ? null : fromWan(this.targetWan, unit ?? undefined);
  }

  @Field(() => Int, { description: "Projects of the region's whole subtree whose milestone of this stage is dated inside the period (its first to its last day)." })
  reachedCount: number;

  @Field(() => Float, { description: "The current total investment of those projects (exact; summed in 万元)." })
  reachedInvestment(@Arg("unit", () => MoneyUnit, UNIT_ARG) unit: MoneyUnit | null): number {
    return fromWan(this.reachedWan, unit ?? undefined);
  }

  @Field(() => Float, {
    nullable: true,
    description: "reachedInvestment / targetInvestment (1 = 100 %; above 1 when exceeded); null without a target. A target of 0 is met from the start: its rate is 1.",
  })
  completionRate: number | null;

  @Field(() => Int, {
    nullable: true,
    description:
      "Place among the region's siblings (the regions with the same parent; the provinces among themselves) that have a target for this stage and period, " +
      "by completionRate, highest first; equal rates share a place and the next place skips as many (1, 2, 2, 4). Null without a target.",
  })
  rank: number | null;

  @Field(() => AssessmentCard, {
    nullable: true,
    description:
      "考核亮牌 by completionRate against the share of the period elapsed today (`elapsed`: days from the first day to today, today counted, over the period's days; " +
      "0 before it begins, 1 once it is over): GREEN when completionRate >= elapsed × ASSESSMENT_GREEN_AT (default 1.0), YELLOW when >= elapsed × ASSESSMENT_YELLOW_AT (default 0.8), else RED. " +
      "Today is the UTC date (ASSESSMENT_TODAY pins it). Null without a target.",
  })
  card: AssessmentCard | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      "True when the target is part of the seed's illustrative layer (made up to show the feature, not set by an office; see the README's Assessment section); false for a target set through setTarget; null without a target.",
  })
  targetSynthetic: boolean | null;

  /** Target investment in 万元 (the CSV export). */
  get targetInvestmentWan(): number | null {
    return this.targetWan;
  }

  /** Reached investment in 万元 (the CSV export). */
  get reachedInvestmentWan(): number {
    return this.reachedWan;
  }
}

@InputType({ description: "A region's target for one stage and period (目标亮相). Setting it again replaces it; the history keeps what it was." })
export class SetTargetInput {
  @Field(() => ID, { description: "The region: strictly below the token's region (the province sets its cities' and counties' targets, a city its counties'; no office sets its own)." })
  regionCode: string;

  @Field(() => ProjectStage, { description: "The stage whose milestones count toward the target." })
  stage: ProjectStage;

  @Field(() => Int, { description: "The year, 2000 to 2100." })
  year: number;

  @Field(() => Int, { nullable: true, description: "1 to 4 for a quarter (1 = January to March); null or omitted for the whole year." })
  quarter?: number | null;

  @Field(() => Int, { nullable: true, description: "Projects to reach the stage in the period, 0 or more; null when the target is an investment only." })
  count?: number | null;

  @Field(() => Float, { description: "亿元: the investment of the projects to reach the stage in the period, 0 or more, exact to 0.0001 (1 万元)." })
  investment: number;
}

/** Arguments of `Region.assessment`, in the contract's order. */
@ArgsType()
export class AssessmentArgs {
  @Field(() => Int, { description: "The year, 2000 to 2100." })
  year: number;

  @Field(() => Int, { nullable: true, description: "1 to 4 for a quarter (1 = January to March); omitted or null for the whole year." })
  quarter?: number | null;
}

/** Arguments of `Query.rankings`, in the contract's order. */
@ArgsType()
export class RankingsArgs {
  @Field(() => ID, { description: "The region whose children are ranked, e.g. 410000 for Henan's cities." })
  parentCode: string;

  @Field(() => ProjectStage, { description: "The stage whose target and milestones count." })
  stage: ProjectStage;

  @Field(() => Int, { description: "The year, 2000 to 2100." })
  year: number;

  @Field(() => Int, { nullable: true, description: "1 to 4 for a quarter (1 = January to March); omitted or null for the whole year." })
  quarter?: number | null;
}
