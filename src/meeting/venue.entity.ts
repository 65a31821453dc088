import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";

import { RegionEntity } from "../region/region.entity";
import { MeetingEntity } from "./meeting.entity";

/** Where a venue sits: the main venue (主会场) or a sub-venue (分会场). */
export type VenueKindName = "MAIN" | "SUB";

/** A row of `venue`: a meeting's main venue or one of its sub-venues, held in a region. */
@Entity("venue")
@Index("uq_venue_meeting_region", ["meetingId", "regionId"], { unique: true })
@Index("idx_venue_region", ["regionId"])
export class VenueEntity {
  @PrimaryGeneratedColumn({ type: "int" })
  id: number;

  @Column({ type: "int", name: "meeting_id" })
  meetingId: number;

  @Column({ type: "int", name: "region_id" })
  regionId: number;

  @Column({ type: "varchar", length: 8 })
  kind: VenueKindName;

  @ManyToOne(() => MeetingEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "meeting_id", foreignKeyConstraintName: "fk_venue_meeting" })
  meeting?: MeetingEntity;

  @ManyToOne(() => RegionEntity, { onDelete: "RESTRICT" })
  @JoinColumn({ name: "region_id", foreignKeyConstraintName: "fk_venue_region" })
  region?: RegionEntity;
}
