/**
 * The history (全程跟踪) the ledger appends: one `ledger_change` row per
 * change, never updated or deleted. A write records its changes as it goes
 * (`ChangeLog`) and appends them at its end.
 */
import { stageFromNumber } from "../common/stage";
import { insertRows, type StatementRunner } from "../db/sql";
import type { RegionTree } from "../region/region.type";
import type { Actor } from "./actor";

/** One field of a change, from what to what (null: not set), as the API writes values (codes, 亿元, stage names, dates). */
export interface FieldChange {
  field: string;
  from: string | null;
  to: string | null;
}

/** Operations the history records. */
export type ChangeOperation = "CREATE_PROJECT" | "UPDATE_PROJECT" | "ADVANCE_STAGE" | "RECORD_AT_MEETING" | "CORRECT_MILESTONE_DATE" | "CREATE_MEETING" | "RAISE_FACTOR_ISSUE" | "RESOLVE_FACTOR_ISSUE" | "SET_TARGET" | "REPORT_OUTPUT";

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

/** The history fields of one milestone: its date and where it was presented. */
export function milestoneFields(
  stage: number,
  before: { reachedOn: string; meetingId: number | null; venueRegionId: number | null } | null,
  after: { reachedOn: string; meetingId: number | null; venueRegionId: number | null },
  regions: RegionTree,
): FieldChange[] {
  const name = `milestones.${stageFromNumber(stage)}`;
  const venue = (id: number | null) => (id === null ? null : regions.byId(id)?.code ?? String(id));
  const fields: FieldChange[] = [];
  if (before?.reachedOn !== after.reachedOn) fields.push(fieldChange(`${name}.reachedOn`, before?.reachedOn ?? null, after.reachedOn));
  if ((before?.meetingId ?? null) !== after.meetingId) fields.push(fieldChange(`${name}.meeting`, before?.meetingId == null ? null : String(before.meetingId), after.meetingId === null ? null : String(after.meetingId)));
  if ((before?.venueRegionId ?? null) !== after.venueRegionId) fields.push(fieldChange(`${name}.venue`, venue(before?.venueRegionId ?? null), venue(after.venueRegionId)));
  return fields;
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

/** A change as an operation records it: who made it and where its regions lie are filled in by `ChangeLog.record`. */
export type RecordedChange = Omit<ChangeRecord, "tokenId" | "office" | "provinceId" | "cityId" | "from"> & { fromRegionId?: number };

/** The province and city of a region, for the history and the versions. */
export function placeOf(regions: RegionTree, regionId: number): { provinceId: number; cityId: number | null } {
  const lineage = regions.lineageOf(regionId);
  return { provinceId: lineage[0]?.id ?? regionId, cityId: lineage[1]?.id ?? null };
}

/** The changes one write has recorded and not yet appended, all stamped with the write's time. */
export class ChangeLog {
  private readonly changes: ChangeRecord[] = [];
  private readonly now = new Date().toISOString();

  constructor(
    private readonly actor: Actor,
    /** The write's regions (the seed reads them again after it changed them). */
    private readonly regions: () => RegionTree,
  ) {}

  get count(): number {
    return this.changes.length;
  }

  /** Adds a change, made by the actor, to those to append. */
  record(change: RecordedChange): void {
    const { fromRegionId, ...rest } = change;
    const from = fromRegionId === undefined || fromRegionId === change.regionId ? null : { ...placeOf(this.regions(), fromRegionId), regionId: fromRegionId };
    this.changes.push({ ...rest, from, tokenId: this.actor.tokenId, office: this.actor.office, ...placeOf(this.regions(), change.regionId) });
  }

  /** Appends the changes recorded so far with `append` (by default `appendChanges`) through `query`, and forgets them. */
  async append(query: StatementRunner["query"], append: typeof appendChanges = appendChanges): Promise<void> {
    await append(query, this.changes.splice(0), this.now);
  }
}
