/** Adding a meeting (三个一批) with its main venue and sub-venues. */
import { AppError, ErrorCode, invariant } from "../../common/errors";
import { insertRows } from "../../db/sql";
import type { Region } from "../../region/region.type";
import { fieldChange } from "../history";
import type { Problems } from "../problems";
import { insertedId } from "../round-trips";
import type { WriteTx } from "./write-tx";

/** A meeting to add (the seed). */
export interface MeetingDraft {
  title: string;
  heldOn: string;
  hostRegionCode: string;
  subVenueRegionCodes: readonly string[];
  majorProjects: boolean;
}

/** Checks and inserts a meeting and its venues; a duplicate (title, date, host) is CONFLICT or, for the seed, returned. */
export async function addMeeting(tx: WriteTx, draft: MeetingDraft, path: string, problems: Problems, options: { duplicate: "conflict" | "return" }): Promise<number> {
  const { regions } = tx.trees;
  tx.rules.checkDate(problems, `${path}.heldOn`, draft.heldOn);
  const host = typeof draft.hostRegionCode === "string" && /^\d{6}$/.test(draft.hostRegionCode) ? regions.byCode(draft.hostRegionCode) : undefined;
  if (!host && /^\d{6}$/.test(String(draft.hostRegionCode))) problems.add(`${path}.hostRegionCode`, `no region "${draft.hostRegionCode}"`);
  const subs: Region[] = [];
  const seen = new Set<string>();
  draft.subVenueRegionCodes.forEach((code, i) => {
    const field = `${path}.subVenueRegionCodes[${i}]`;
    if (typeof code !== "string" || !/^\d{6}$/.test(code)) return;
    if (seen.has(code)) return problems.add(field, `${code} is listed twice`);
    seen.add(code);
    const region = regions.byCode(code);
    if (!region) return problems.add(field, `no region "${code}"`);
    if (host && !regions.ancestorsOf(region.id).some((node) => node.id === host.id)) {
      return problems.add(field, `${region.name} (${code}) is not below the host ${host.name} (${host.code}): sub-venues are regions below the host`);
    }
    subs.push(region);
  });
  problems.throwIfAny();
  invariant(host, "host checked");
  tx.rules.forbidRegion(host, `${path}.hostRegionCode`, "a meeting hosted by");

  const existing: Array<{ id: number }> = await tx.query("SELECT id FROM meeting WHERE title = ? AND held_on = ? AND host_region_id = ?", [draft.title, draft.heldOn, host.id]);
  if (existing.length) {
    if (options.duplicate === "return") return Number(existing[0].id);
    throw new AppError(ErrorCode.CONFLICT, `meeting ${existing[0].id} already has this title, date and host`, { meetingId: String(existing[0].id) });
  }
  const id = insertedId(await tx.query("INSERT INTO meeting (title, held_on, host_region_id, major_projects) VALUES (?, ?, ?, ?)", [draft.title, draft.heldOn, host.id, draft.majorProjects ? 1 : 0]));
  await insertRows({ query: (sql, params) => tx.queue(sql, params ?? []) }, "venue", ["meeting_id", "region_id", "kind"], [[id, host.id, "MAIN"], ...subs.map((region) => [id, region.id, "SUB"])], { chunk: 500 });
  tx.touch(host.id);
  tx.record({
    operation: "CREATE_MEETING",
    projectId: null,
    meetingId: id,
    projectVersion: null,
    regionId: host.id,
    fields: [
      fieldChange("title", null, draft.title),
      fieldChange("heldOn", null, draft.heldOn),
      fieldChange("host", null, host.code),
      ...(subs.length ? [fieldChange("subVenues", null, subs.map((r) => r.code).join(","))] : []),
      ...(draft.majorProjects ? [fieldChange("majorProjects", null, "true")] : []),
    ],
    reason: null,
  });
  return id;
}
