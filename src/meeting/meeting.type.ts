import { Field, ID, ObjectType, registerEnumType } from "type-graphql";

import { DateScalar } from "../common/date.scalar";
import { ProjectStage } from "../common/stage";

/** Where a venue sits. */
export enum VenueKind {
  MAIN = "MAIN",
  SUB = "SUB",
}

registerEnumType(VenueKind, {
  name: "VenueKind",
  description: "Where a meeting venue sits: the main venue (主会场) or a sub-venue (分会场).",
  valuesConfig: {
    MAIN: { description: "主会场: the host region's venue." },
    SUB: { description: "分会场: a venue held at the same time in a city or county." },
  },
});

/** A `meeting` row. */
export interface MeetingRow {
  id: number;
  title: string;
  held_on: string;
  host_region_id: number;
}

@ObjectType({ description: "A \"三个一批\" campaign meeting (推进会): a batch signed, a batch started, a batch put into production, at a main venue and sub-venues." })
export class Meeting {
  hostRegionId: number;

  @Field(() => ID, { description: "Stable identifier." })
  id: string;

  @Field({ description: "Title, e.g. 全省重大项目建设暨“三个一批”推进会." })
  title: string;

  @Field(() => DateScalar, { description: "The day it was held." })
  heldOn: string;

  static fromRow(row: MeetingRow): Meeting {
    const meeting = new Meeting();
    meeting.id = String(row.id);
    meeting.title = row.title;
    meeting.heldOn = String(row.held_on).slice(0, 10);
    meeting.hostRegionId = Number(row.host_region_id);
    return meeting;
  }
}

/** A `venue` row. */
export interface VenueRow {
  meeting_id: number;
  region_id: number;
  kind: string;
}

@ObjectType({ description: "A venue of a meeting: the main venue at the host region or a sub-venue in a city or county." })
export class Venue {
  meetingId: number;
  regionId: number;

  @Field(() => VenueKind, { description: "Main venue or sub-venue." })
  kind: VenueKind;

  static fromRow(row: VenueRow): Venue {
    const venue = new Venue();
    venue.meetingId = Number(row.meeting_id);
    venue.regionId = Number(row.region_id);
    venue.kind = row.kind === "MAIN" ? VenueKind.MAIN : VenueKind.SUB;
    return venue;
  }
}

@ObjectType({ description: "One of a meeting's three batches (签约一批, 开工一批, 投产一批): the projects whose milestone of that stage was presented at the meeting." })
export class MeetingBatch {
  meetingId: number;
  /** Null for the whole meeting; a region id for one venue's share. */
  venueRegionId: number | null;

  @Field(() => ProjectStage, { description: "SIGNED is 签约一批, STARTED 开工一批, IN_PRODUCTION 投产一批." })
  stage: ProjectStage;

  static of(meetingId: number, stage: ProjectStage, venueRegionId: number | null): MeetingBatch {
    const batch = new MeetingBatch();
    batch.meetingId = meetingId;
    batch.stage = stage;
    batch.venueRegionId = venueRegionId;
    return batch;
  }
}
