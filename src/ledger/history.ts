/** The history (全程跟踪) the ledger appends: one `ledger_change` row per change, never updated or deleted. */
import { insertRows, type StatementRunner } from "../db/sql";

/** One field of a change, from what to what (null: not set), as the API writes values (codes, 亿元, stage names, dates). */
export interface FieldChange {
  field: string;
  from: string | null;
  to: string | null;
}

/** Operations the history records. */
export type ChangeOperation = "CREATE_PROJECT" | "UPDATE_PROJECT" | "ADVANCE_STAGE" | "RECORD_AT_MEETING" | "CORRECT_MILESTONE_DATE" | "CREATE_MEETING";

/** A change as the ledger records it. */
export interface ChangeRecord {
  operation: ChangeOperation;
  tokenId: number | null;
  office: string;
  projectId: number | null;
  meetingId: number | null;
  projectVersion: number | null;
  provinceId: number;
  cityId: number | null;
  regionId: number;
  /** Where the project was before, when the change moved it. */
  from?: { provinceId: number; cityId: number | null; regionId: number } | null;
  fields: FieldChange[];
  reason: string | null;
}

export function fieldChange(field: string, from: string | null, to: string | null): FieldChange {
  return { field, from, to };
}

/** An exact amount in 万元 written in 亿元 without float noise (123400 → "12.34"). */
export function formatWan(wan: number): string {
  const sign = wan < 0 ? "-" : "";
  const abs = Math.abs(wan);
  const whole = Math.floor(abs / 10_000);
  const frac = String(abs % 10_000).padStart(4, "0").replace(/0+$/, "");
  return `${sign}${whole}${frac ? `.${frac}` : ""}`;
}

/** The columns of `ledger_change` a change fills, in the order of `changeValues`. */
export const CHANGE_COLUMNS = [
  "changed_at",
  "token_id",
  "office",
  "operation",
  "project_id",
  "meeting_id",
  "project_version",
  "province_id",
  "city_id",
  "region_id",
  "from_province_id",
  "from_city_id",
  "from_region_id",
  "fields",
  "reason",
] as const;

/** A change's row of `ledger_change`, in the order of CHANGE_COLUMNS. */
export function changeValues(c: ChangeRecord, changedAt: string): Array<string | number | null> {
  return [
    changedAt,
    c.tokenId,
    c.office,
    c.operation,
    c.projectId,
    c.meetingId,
    c.projectVersion,
    c.provinceId,
    c.cityId,
    c.regionId,
    c.from?.provinceId ?? null,
    c.from?.cityId ?? null,
    c.from?.regionId ?? null,
    JSON.stringify(c.fields),
    c.reason,
  ];
}

/** Appends the changes of one write, all stamped with the write's time. */
export async function appendChanges(query: StatementRunner["query"], changes: readonly ChangeRecord[], changedAt: string): Promise<void> {
  await insertRows({ query }, "ledger_change", CHANGE_COLUMNS, changes.map((c) => changeValues(c, changedAt)));
}
