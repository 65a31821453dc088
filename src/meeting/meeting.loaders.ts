import DataLoader from "dataloader";

import type { Context } from "../common/context";
import { placeholders } from "../db/sql";
import { Meeting, type MeetingRow, Venue, type VenueRow } from "./meeting.type";

/** Meetings by id, one `IN (…)` query per tick. */
export function createMeetingLoader(ctx: Context): DataLoader<number, Meeting | null> {
  return new DataLoader(async (ids) => {
    const rows: MeetingRow[] = await ctx.db.query(
      `SELECT id, title, held_on, host_region_id FROM meeting WHERE id IN (${placeholders(ids.length)})`,
      [...ids],
    );
    const byId = new Map(rows.map((row) => [Number(row.id), Meeting.fromRow(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/** Venues of meetings: the main venue first, then sub-venues by region id; one query per tick. */
export function createVenuesLoader(ctx: Context): DataLoader<number, Venue[]> {
  return new DataLoader(async (meetingIds) => {
    const rows: VenueRow[] = await ctx.db.query(
      `SELECT meeting_id, region_id, kind FROM venue WHERE meeting_id IN (${placeholders(meetingIds.length)}) ORDER BY meeting_id, kind, region_id`,
      [...meetingIds],
    );
    const byMeeting = new Map<number, Venue[]>(meetingIds.map((id) => [id, []]));
    for (const row of rows) byMeeting.get(Number(row.meeting_id))?.push(Venue.fromRow(row));
    return meetingIds.map((id) => byMeeting.get(id) ?? []);
  });
}

/** Which meetings a `meetings` list asks for (ids already resolved). */
export interface MeetingListRequest {
  hostRegionId: number | null;
  from: string | null;
  to: string | null;
}

/** Meeting lists, newest first; every list of one tick in one statement (a UNION ALL of one SELECT per list). */
export function createMeetingListLoader(ctx: Context): DataLoader<MeetingListRequest, Meeting[], string> {
  return new DataLoader(
    async (requests) => {
      const params: unknown[] = [];
      const selects = requests.map((request, k) => {
        const clauses: string[] = [];
        if (request.hostRegionId !== null) clauses.push("host_region_id = ?"), params.push(request.hostRegionId);
        if (request.from !== null) clauses.push("held_on >= ?"), params.push(request.from);
        if (request.to !== null) clauses.push("held_on <= ?"), params.push(request.to);
        return `SELECT ${k} AS request_index, id, title, held_on, host_region_id FROM meeting${clauses.length ? ` WHERE ${clauses.join(" AND ")}` : ""}`;
      });
      const rows: Array<MeetingRow & { request_index: number }> = await ctx.db.query(`${selects.join(" UNION ALL ")} ORDER BY held_on DESC, id DESC`, params);
      const lists: Meeting[][] = requests.map(() => []);
      for (const row of rows) {
        const meeting = Meeting.fromRow(row);
        ctx.loader(createMeetingLoader).prime(row.id, meeting);
        lists[Number(row.request_index)].push(meeting);
      }
      return lists;
    },
    { cacheKeyFn: (request) => JSON.stringify([request.hostRegionId, request.from, request.to]) },
  );
}
