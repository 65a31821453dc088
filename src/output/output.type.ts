/**
 * 达效 in the schema: a project's designed annual output (设计年产值) and its
 * yearly output reports (年产值), the input of `reportOutput`, and a region's
 * output stats by reached-rate band.
 */
import { Arg, Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";

import { DateScalar } from "../common/date.scalar";
import { fromWan, MoneyUnit, UNIT_ARG } from "../common/money";

/** Largest output or designed output one report may give, in 亿元 (as large as the largest investment). */
export const MAX_OUTPUT_YI = 10_000;

@InputType({ description: "A project's output value (年产值) for one year, and its designed annual output (设计年产值) when first known or changed." })
export class ReportOutputInput {
  @Field(() => ID, { description: "The project: IN_PRODUCTION or EFFECTIVE (output is reported after 投产)." })
  projectId: string;

  @Field(() => Int, { description: "The calendar year the output is for: not before the year the project reached IN_PRODUCTION, not after the year of `reportedOn`. A second report for a year replaces the first (the history keeps the old value)." })
  year: number;

  @Field(() => Float, { description: "The year's output value in 亿元: 0 or more, at most 10,000, exact to 0.0001 (1 万元)." })
  output: number;

  @Field(() => Float, {
    nullable: true,
    description: "Designed annual output value in 亿元: more than 0, at most 10,000, exact to 0.0001. Required when the project has none recorded yet; given again, it replaces the recorded one.",
  })
  designedAnnualOutput?: number | null;

  @Field(() => DateScalar, {
    nullable: true,
    description: "When the output was reported (填报日期): a ledger date, not before the project's IN_PRODUCTION milestone nor before January 1 of `year`; omitted, today. The EFFECTIVE milestone, when this report gives it, carries this date.",
  })
  reportedOn?: string | null;

  @Field(() => Int, { description: "The project's version the client last read; a newer one in the database is CONFLICT." })
  expectedVersion: number;
}

@ObjectType({ description: "One year's reported output value (年产值) of a project in production." })
export class OutputReport {
  designedWan: number | null;
  outputWan: number;

  @Field(() => Int, { description: "The calendar year the output is for." })
  year: number;

  @Field(() => DateScalar, { description: "When it was reported (填报日期)." })
  reportedOn: string;

  @Field({ description: "True for the seed's illustrative layer (made-up figures, marked so), false for a report an office made." })
  synthetic: boolean;

  @Field(() => Float, { description: "The year's output value, exact." })
  output(@Arg("unit", () => MoneyUnit, UNIT_ARG) unit: MoneyUnit | null): number {
    return fromWan(this.outputWan, unit ?? undefined);
  }

  @Field(() => Float, { nullable: true, description: "output / designedAnnualOutput (the project's designed output as recorded now; 1 = 100 %); null without a designed output." })
  reachedRate: number | null;

  static of(year: number, outputWan: number, reportedOn: string, designedWan: number | null, synthetic = false): OutputReport {
    const report = new OutputReport();
    report.synthetic = synthetic;
    report.year = year;
    report.outputWan = outputWan;
    report.reportedOn = reportedOn;
    report.designedWan = designedWan;
    report.reachedRate = designedWan ? outputWan / designedWan : null;
    return report;
  }
}

/** A band of reached rates (output / designed output), from lowest to highest. */
export enum ReachedBand {
  BELOW_50 = "BELOW_50",
  FROM_50_TO_80 = "FROM_50_TO_80",
  FROM_80_TO_100 = "FROM_80_TO_100",
  AT_LEAST_100 = "AT_LEAST_100",
}

registerEnumType(ReachedBand, {
  name: "ReachedBand",
  description: "A band of a year's reached rate (output / designed annual output).",
  valuesConfig: {
    BELOW_50: { description: "Below 50 %." },
    FROM_50_TO_80: { description: "50 % or more, below 80 %." },
    FROM_80_TO_100: { description: "80 % or more, below 100 %." },
    AT_LEAST_100: { description: "100 % or more: the designed output reached." },
  },
});

/** The bands in order, with the rate (in basis points of the design, exact on integers) each starts at. */
export const BANDS: ReadonlyArray<{ band: ReachedBand; from: number }> = [
  { band: ReachedBand.BELOW_50, from: 0 },
  { band: ReachedBand.FROM_50_TO_80, from: 50 },
  { band: ReachedBand.FROM_80_TO_100, from: 80 },
  { band: ReachedBand.AT_LEAST_100, from: 100 },
];

/** The band of an output against a design (both 万元, design > 0), compared exactly on integers. */
export function bandOf(outputWan: number, designedWan: number): ReachedBand {
  let found = ReachedBand.BELOW_50;
  for (const { band, from } of BANDS) if (outputWan * 100 >= from * designedWan) found = band;
  return found;
}

@ObjectType({ description: "The projects of one reached-rate band in a year's output stats." })
export class OutputBandStats {
  wan: number;

  @Field(() => ReachedBand, { description: "The band." })
  band: ReachedBand;

  @Field(() => Int, { description: "Projects whose report for the year falls in this band." })
  projectCount: number;

  @Field(() => Float, { description: "Their output for the year, summed, exact." })
  output(@Arg("unit", () => MoneyUnit, UNIT_ARG) unit: MoneyUnit | null): number {
    return fromWan(this.wan, unit ?? undefined);
  }
}

@ObjectType({ description: "达效 over a region's whole subtree for one year: the projects that reported output for the year, their designed and reported output, and how many reached their design." })
export class OutputStats {
  designedWan: number;
  outputWan: number;

  @Field(() => Int, { description: "The year." })
  year: number;

  @Field(() => Int, { description: "Projects in scope with an output report for the year that have a designed annual output." })
  reportingProjects: number;

  @Field(() => Float, { description: "The designed annual output of those projects, summed, exact." })
  designedAnnualOutput(@Arg("unit", () => MoneyUnit, UNIT_ARG) unit: MoneyUnit | null): number {
    return fromWan(this.designedWan, unit ?? undefined);
  }

  @Field(() => Float, { description: "Their output for the year, summed, exact." })
  output(@Arg("unit", () => MoneyUnit, UNIT_ARG) unit: MoneyUnit | null): number {
    return fromWan(this.outputWan, unit ?? undefined);
  }

  @Field(() => Float, { nullable: true, description: "output / designedAnnualOutput over the reporting projects (1 = 100 %); null when none reported." })
  reachedRate: number | null;

  @Field(() => Int, { description: "Projects in scope whose current stage is EFFECTIVE (达效), whether or not they reported for this year." })
  effectiveProjects: number;

  @Field(() => [OutputBandStats], { description: "The reporting projects by reached-rate band, every band in order (BELOW_50 first), empty ones with 0." })
  byBand: OutputBandStats[];
}
