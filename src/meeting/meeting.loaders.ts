import DataLoader from "dataloader";

import type { Context } from "../server/context";
import { Meeting, type MeetingRow, Venue, type VenueRow } from "./meeting.type";

/** Meetings by id, one `IN (…)` query per tick. */
export function createMeetingLoader(ctx: Context): DataLoader<number, Meeting | null> {
  return new DataLoader(async (ids) => {
    const rows: MeetingRow[] = await ctx.db.query(
      `SELECT id, title, held_on, host_region_id FROM meeting WHERE id IN (${ids.map(() => "?").join(", ")})`,
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
      `SELECT meeting_id, region_id, kind FROM venue WHERE meeting_id IN (${meetingIds.map(() => "?").join(", ")}) ORDER BY meeting_id, kind, region_id`,
      [...meetingIds],
    );
    const byMeeting = new Map<number, Venue[]>(meetingIds.map((id) => [id, []]));
    for (const row of rows) byMeeting.get(Number(row.meeting_id))?.push(Venue.fromRow(row));
    return meetingIds.map((id) => byMeeting.get(id) ?? []);
  });
}
