import { isIsoDate } from "../common/date.scalar";
import { MoneyUnit } from "../common/money";
import { ProjectStage } from "../common/stage";
import { ProjectFilter } from "../filter/project-filter.input";
import { OrderDirection, type ProjectOrder, ProjectOrderField } from "../project/project-order.input";
import { RegionLevel } from "../region/region-level";
import { BreakdownDimension } from "../stats/breakdown.type";
import { CsvEncoding } from "./csv";

/** A query parameter that cannot be used; the message names it and says why. */
export class ExportParamError extends Error {
  constructor(readonly param: string, reason: string) {
    super(`${param}: ${reason}`);
  }
}

/** The filter parameters both exports take (ProjectFilter, flattened: `milestone.stage` may also be written `milestoneStage`). */
export const FILTER_PARAMS = [
  "stages",
  "sectorCodes",
  "regionCodes",
  "meetingId",
  "milestone.stage",
  "milestone.meetingId",
  "milestone.from",
  "milestone.to",
  "minInvestment",
  "maxInvestment",
  "nameContains",
  "unit",
] as const;

/** Reads a URL's query into a lookup, refusing parameters the export does not know (a typo must not silently widen the data). */
export function readQuery(url: string, known: readonly string[]): (name: string) => string | undefined {
  const params = new URL(url, "http://export.local").searchParams;
  const values = new Map<string, string>();
  for (const [rawName, value] of params) {
    const name = rawName.replace(/^milestone(Stage|MeetingId|From|To)$/, (_, part: string) => `milestone.${part[0].toLowerCase()}${part.slice(1)}`);
    if (!known.includes(name)) throw new ExportParamError(rawName, `unknown parameter; known: ${known.join(", ")}`);
    values.set(name, values.has(name) ? `${values.get(name)},${value}` : value);
  }
  return (name) => {
    const value = values.get(name)?.trim();
    return value === "" ? undefined : value;
  };
}

/** One value of an enum, or the fallback when absent. */
export function enumParam<T extends string>(get: (n: string) => string | undefined, name: string, values: Record<string, T>, fallback: T): T {
  const raw = get(name);
  if (raw === undefined) return fallback;
  const value = values[raw.toUpperCase()];
  if (!value) throw new ExportParamError(name, `must be one of ${Object.keys(values).join(", ")} (got "${raw}")`);
  return value;
}

/** A comma-separated list of enum values (either case), as given. */
export function enumList<T extends string>(get: (n: string) => string | undefined, name: string, values: Record<string, T>): T[] | undefined {
  const raw = get(name);
  if (raw === undefined) return undefined;
  return raw.split(",").map((part) => {
    const value = values[part.trim().toUpperCase()];
    if (!value) throw new ExportParamError(name, `"${part.trim()}" is not one of ${Object.keys(values).join(", ")}`);
    return value;
  });
}

function list(get: (n: string) => string | undefined, name: string): string[] | undefined {
  const raw = get(name);
  return raw === undefined ? undefined : raw.split(",").map((part) => part.trim()).filter(Boolean);
}

function amount(get: (n: string) => string | undefined, name: string): number | undefined {
  const raw = get(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new ExportParamError(name, `must be a non-negative number of 亿元 (got "${raw}")`);
  return value;
}

function date(get: (n: string) => string | undefined, name: string): string | undefined {
  const raw = get(name);
  if (raw !== undefined && !isIsoDate(raw)) throw new ExportParamError(name, `must be a date written YYYY-MM-DD (got "${raw}")`);
  return raw;
}

/** The ProjectFilter the parameters describe (codes are checked later, against the data, like the API's). */
export function filterParams(get: (n: string) => string | undefined): ProjectFilter {
  const filter = new ProjectFilter();
  filter.stages = enumList(get, "stages", ProjectStage);
  filter.sectorCodes = list(get, "sectorCodes");
  filter.regionCodes = list(get, "regionCodes");
  filter.meetingId = get("meetingId");
  const milestoneStage = get("milestone.stage") === undefined ? undefined : enumParam(get, "milestone.stage", ProjectStage, ProjectStage.SIGNED);
  const milestoneParts = ["milestone.meetingId", "milestone.from", "milestone.to"].filter((name) => get(name) !== undefined);
  if (milestoneStage) {
    filter.milestone = { stage: milestoneStage, meetingId: get("milestone.meetingId"), from: date(get, "milestone.from"), to: date(get, "milestone.to") };
  } else if (milestoneParts.length) {
    throw new ExportParamError(milestoneParts[0], "needs milestone.stage (the stage that was reached)");
  }
  filter.minInvestment = amount(get, "minInvestment");
  filter.maxInvestment = amount(get, "maxInvestment");
  filter.nameContains = get("nameContains");
  return filter;
}

/** The money unit of the amounts (亿元 unless asked). */
export function unitParam(get: (n: string) => string | undefined): MoneyUnit {
  return enumParam(get, "unit", MoneyUnit, MoneyUnit.YI_YUAN);
}

/** encoding: `utf-8` (the default, with a BOM) or `gb18030` (for spreadsheets that ignore the BOM); either case. */
export function encodingParam(get: (n: string) => string | undefined): CsvEncoding {
  const raw = get("encoding");
  if (raw === undefined) return CsvEncoding.UTF8;
  const encoding = Object.values(CsvEncoding).find((e) => e === raw.toLowerCase());
  if (!encoding) throw new ExportParamError("encoding", `must be one of ${Object.values(CsvEncoding).join(", ")} (got "${raw}")`);
  return encoding;
}

/** groupBy: a comma-separated list of dimensions, in the order rows are sorted. */
export function groupByParam(get: (n: string) => string | undefined): BreakdownDimension[] {
  return enumList(get, "groupBy", BreakdownDimension) ?? [];
}

/** regionLevel, CITY unless given. */
export function regionLevelParam(get: (n: string) => string | undefined): RegionLevel {
  return enumParam(get, "regionLevel", RegionLevel, RegionLevel.CITY);
}

/** orderBy (NAME, INVESTMENT, STAGE) and direction (ASC, DESC); id order without orderBy. */
export function orderParam(get: (n: string) => string | undefined): ProjectOrder | null {
  if (get("orderBy") === undefined) {
    if (get("direction") !== undefined) throw new ExportParamError("direction", "needs orderBy");
    return null;
  }
  return {
    field: enumParam(get, "orderBy", ProjectOrderField, ProjectOrderField.NAME),
    direction: enumParam(get, "direction", OrderDirection, OrderDirection.ASC),
  };
}
