/** The history (全程跟踪) the ledger appends: one `ledger_change` row per change, never updated or deleted. */

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

/** Rows per INSERT of the history. */
const CHUNK = 200;

/** Appends the changes of one write, all stamped with the write's time. */
export async function appendChanges(query: (sql: string, params: unknown[]) => Promise<unknown>, changes: readonly ChangeRecord[], changedAt: string): Promise<void> {
  const columns =
    "changed_at, token_id, office, operation, project_id, meeting_id, project_version, province_id, city_id, region_id, from_province_id, from_city_id, from_region_id, fields, reason";
  for (let i = 0; i < changes.length; i += CHUNK) {
    const chunk = changes.slice(i, i + CHUNK);
    await query(
      `INSERT INTO ledger_change (${columns}) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`,
      chunk.flatMap((c) => [
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
      ]),
    );
  }
}
