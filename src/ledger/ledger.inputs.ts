import {
  ArrayMaxSize,
  IsIn,
  IsInt,
  IsOptional,
  Max,
  Min,
  registerDecorator,
  validateSync,
  type ValidationError,
  type ValidationOptions,
} from "class-validator";
import { Field, Float, ID, InputType, Int } from "type-graphql";

import { DateScalar } from "../common/date.scalar";
import { parseId } from "../common/ids";
import { amountProblem } from "../common/money";
import { ProjectStage } from "../common/stage";
import { characterProblem } from "../common/text";
import type { Problems } from "./problems";

/** Largest investment one project may declare, in 亿元 (1 万亿元; the largest single projects in China are a few thousand 亿元). */
export const MAX_INVESTMENT_YI = 10_000;
/** Longest name, title, investor or office name, in characters after trimming. */
export const MAX_TEXT = 200;

/** Characters after trimming, as a reader counts them (𠮷 is one, not two UTF-16 units). */
export function textLength(value: string): number {
  return [...value.trim()].length;
}

/** Text of 1..max characters after trimming, without control characters (line breaks and tabs included) or the others `characterProblem` refuses. */
function IsLedgerText(max: number, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: "isLedgerText",
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => typeof value === "string" && textLength(value) >= 1 && textLength(value) <= max && characterProblem(value) === null,
        defaultMessage: (args) => {
          const value = args?.value;
          if (typeof value !== "string") return "must be a string";
          const characters = characterProblem(value);
          if (characters) return characters;
          return `must be 1 to ${max} characters after trimming (got ${textLength(value)})`;
        },
      },
    });
}

/** An amount in 亿元: positive, at most MAX_INVESTMENT_YI, and exact to 0.0001 (1 万元). */
function IsInvestment(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: "isInvestment",
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => typeof value === "number" && investmentProblem(value) === null,
        defaultMessage: (args) => investmentProblem(args?.value) ?? "must be an amount in 亿元",
      },
    });
}

function investmentProblem(value: unknown): string | null {
  return amountProblem(value, { positive: true, maxYi: MAX_INVESTMENT_YI });
}

/** A region code as the API writes them: six digits (GB/T 2260). */
function IsRegionCode(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: "isRegionCode",
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => typeof value === "string" && /^\d{6}$/.test(value),
        defaultMessage: (args) => `must be a six-digit region code (got ${JSON.stringify(args?.value)?.slice(0, 80)})`,
      },
    });
}

/** An id of this API: digits only. */
function IsNumericId(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: "isNumericId",
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => parseId(value) !== null,
        defaultMessage: (args) => `must be an id of this API (got ${JSON.stringify(args?.value)?.slice(0, 80)})`,
      },
    });
}

/** A ledger reference (台账编号): 1–64 printable characters without spaces, nor any `characterProblem` refuses. */
function IsLedgerRef(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: "isLedgerRef",
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => typeof value === "string" && value.length >= 1 && value.length <= 64 && !/\s/u.test(value) && characterProblem(value) === null,
        defaultMessage: (args) => (typeof args?.value === "string" && characterProblem(args.value)) || "must be 1 to 64 characters without spaces or control characters",
      },
    });
}

@InputType({ description: "A new project and its first milestone." })
export class CreateProjectInput {
  @IsLedgerText(MAX_TEXT)
  @Field({ description: "Project name: 1–200 characters after trimming, no control characters." })
  name: string;

  @IsRegionCode()
  @Field(() => ID, { description: "Where the project is: a county, or a city that has no counties (e.g. 济源 419001)." })
  regionCode: string;

  @Field(() => ID, { description: "Sector code (see `sectors`)." })
  sectorCode: string;

  @IsInvestment()
  @Field(() => Float, { description: "亿元, exact to 0.0001 (1 万元); positive and at most 10,000 亿元." })
  investment: number;

  @IsOptional()
  @IsLedgerText(MAX_TEXT)
  @Field(() => String, { nullable: true, description: "Investor (投资方), when known." })
  investor?: string | null;

  @IsOptional()
  @IsIn([ProjectStage.RESERVE, ProjectStage.SIGNED, ProjectStage.STARTED, ProjectStage.IN_PRODUCTION], {
    message: "must be RESERVE, SIGNED, STARTED or IN_PRODUCTION (EFFECTIVE is reached when an output report reaches the designed output: reportOutput)",
  })
  @Field(() => ProjectStage, {
    nullable: true,
    defaultValue: ProjectStage.SIGNED,
    description: "The first milestone: SIGNED unless the project enters the ledger earlier (RESERVE, 储备: in the project library) or later (omitted or null: SIGNED). Not EFFECTIVE, which only `reportOutput` gives.",
  })
  stage?: ProjectStage | null = ProjectStage.SIGNED;

  @Field(() => DateScalar, { description: "Date the stage was reached: a real date, not before 1949, not more than LEDGER_FUTURE_DAYS ahead." })
  reachedOn: string;

  @IsOptional()
  @IsNumericId()
  @Field(() => ID, { nullable: true, description: "The meeting the milestone was presented at, if any." })
  meetingId?: string | null;

  @IsOptional()
  @IsRegionCode()
  @Field(() => ID, { nullable: true, description: "The venue it was presented at: the meeting's host region or one of its sub-venues (needs `meetingId`)." })
  venueRegionCode?: string | null;

  @IsOptional()
  @IsLedgerRef()
  @Field(() => String, { nullable: true, description: "The region's own ledger reference (台账编号), unique; the key of the CSV import." })
  ref?: string | null;
}

@InputType({ description: "Changes to a project's own fields; omitted fields stay as they are." })
export class UpdateProjectInput {
  @IsOptional()
  @IsLedgerText(MAX_TEXT)
  @Field(() => String, { nullable: true, description: "New name." })
  name?: string | null;

  @IsOptional()
  @Field(() => ID, { nullable: true, description: "New sector code." })
  sectorCode?: string | null;

  @IsOptional()
  @IsInvestment()
  @Field(() => Float, { nullable: true, description: "New total investment, 亿元 exact to 0.0001." })
  investment?: number | null;

  @IsOptional()
  @IsLedgerText(MAX_TEXT)
  @Field(() => String, { nullable: true, description: "New investor; null clears it." })
  investor?: string | null;

  @IsOptional()
  @IsRegionCode()
  @Field(() => ID, { nullable: true, description: "Moves the project to another region (a county, or a city without counties), inside the token's scope." })
  regionCode?: string | null;
}

@InputType({ description: "A project reaching a later stage." })
export class AdvanceStageInput {
  @IsNumericId()
  @Field(() => ID, { description: "The project." })
  projectId: string;

  @IsIn([ProjectStage.SIGNED, ProjectStage.STARTED, ProjectStage.IN_PRODUCTION], {
    message: "must be SIGNED, STARTED or IN_PRODUCTION (a stage after RESERVE; EFFECTIVE is reached when an output report reaches the designed output: reportOutput)",
  })
  @Field(() => ProjectStage, { description: "Must be later than the current stage." })
  stage: ProjectStage;

  @Field(() => DateScalar, { description: "Date it was reached: not before the current stage's date." })
  reachedOn: string;

  @IsOptional()
  @IsNumericId()
  @Field(() => ID, { nullable: true, description: "The meeting it was presented at, if any." })
  meetingId?: string | null;

  @IsOptional()
  @IsRegionCode()
  @Field(() => ID, { nullable: true, description: "The venue it was presented at (needs `meetingId`)." })
  venueRegionCode?: string | null;

  @IsInt()
  @Min(1)
  @Field(() => Int, { description: "The project's version the client last read; a newer one in the database is CONFLICT." })
  expectedVersion: number;
}

@InputType({ description: "Presents a milestone already reached at a meeting venue (e.g. a signing of March shown in July's signing batch)." })
export class RecordAtMeetingInput {
  @IsNumericId()
  @Field(() => ID, { description: "The project." })
  projectId: string;

  @Field(() => ProjectStage, { description: "Which of its milestones." })
  stage: ProjectStage;

  @IsNumericId()
  @Field(() => ID, { description: "The meeting." })
  meetingId: string;

  @IsOptional()
  @IsRegionCode()
  @Field(() => ID, { nullable: true, description: "The venue: the meeting's host region or one of its sub-venues; omitted for the meeting as a whole." })
  venueRegionCode?: string | null;

  @IsInt()
  @Min(1)
  @Field(() => Int, { description: "The project's version the client last read." })
  expectedVersion: number;
}

@InputType({ description: "Corrects the date of a milestone entered wrongly: a new change in the history, with its reason; the old date stays in the history." })
export class CorrectMilestoneDateInput {
  @IsNumericId()
  @Field(() => ID, { description: "The project." })
  projectId: string;

  @Field(() => ProjectStage, { description: "Which of its milestones." })
  stage: ProjectStage;

  @Field(() => DateScalar, { description: "The right date: after the previous milestone's and not after the next one's." })
  reachedOn: string;

  @IsLedgerText(500)
  @Field({ description: "Why (recorded in the history): 1–500 characters." })
  reason: string;

  @IsInt()
  @Min(1)
  @Field(() => Int, { description: "The project's version the client last read." })
  expectedVersion: number;
}

@InputType({ description: "A new campaign meeting with its venues." })
export class CreateMeetingInput {
  @IsLedgerText(MAX_TEXT)
  @Field({ description: "Title: 1–200 characters after trimming." })
  title: string;

  @Field(() => DateScalar, { description: "Date held: not before 1949, not more than LEDGER_FUTURE_DAYS ahead." })
  heldOn: string;

  @IsRegionCode()
  @Field(() => ID, { description: "The host region (main venue); inside the token's scope." })
  hostRegionCode: string;

  @IsOptional()
  @ArrayMaxSize(500)
  @IsRegionCode({ each: true })
  @Field(() => [ID], { nullable: true, description: "Regions holding sub-venues: each strictly below the host, without repeats." })
  subVenueRegionCodes?: string[] | null;

  @IsOptional()
  @Field(() => Boolean, { nullable: true, defaultValue: false, description: "A major-project meeting (重大项目推进会): its STARTED batch takes only projects of at least 5 亿元." })
  majorProjects?: boolean | null;
}

/**
 * Checks an input's fields with their class-validator rules, adding each
 * failure to `problems` under `path` (e.g. "input.name"). A plain object of
 * the same shape (a CSV row, a seed entry) is checked as the class it claims.
 */
export function checkFields<T extends object>(type: new () => T, value: Partial<T>, path: string, problems: Problems): T {
  const instance = Object.assign(new type(), value);
  for (const error of validateSync(instance, { forbidUnknownValues: false })) addErrors(error, path, problems);
  return instance;
}

function addErrors(error: ValidationError, path: string, problems: Problems): void {
  const field = `${path}.${error.property}`;
  for (const [constraint, message] of Object.entries(error.constraints ?? {})) {
    // A rule applied to each element (`each: true`) is reported per element, with its index.
    if (constraint === "isRegionCode" && Array.isArray(error.value)) {
      error.value.forEach((v: unknown, i: number) => {
        if (typeof v !== "string" || !/^\d{6}$/.test(v)) problems.add(`${field}[${i}]`, `must be a six-digit region code (got ${JSON.stringify(v)?.slice(0, 80)})`);
      });
    } else problems.add(field, message.replace(new RegExp(`^${error.property} `), ""));
  }
  for (const child of error.children ?? []) addErrors(child, field, problems);
}
