import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";

import { MeetingEntity } from "../meeting/meeting.entity";
import { RegionEntity } from "../region/region.entity";
import { ProjectEntity } from "./project.entity";

/**
 * A row of `milestone` (台账记录): a project reaching a stage on a date,
 * optionally presented at a meeting venue. One per project and stage.
 */
@Entity("milestone")
@Index("uq_milestone_project_stage", ["projectId", "stage"], { unique: true })
@Index("idx_milestone_meeting", ["meetingId", "stage", "venueRegionId"])
@Index("idx_milestone_stage_date", ["stage", "reachedOn"])
/** Covering for the assessment's reached statement (migrations/1795700000900-AssessmentIndexes.ts). */
@Index("idx_milestone_project_stage_date", ["projectId", "stage", "reachedOn"])
export class MilestoneEntity {
  @PrimaryGeneratedColumn({ type: "int" })
  id: number;

  @Column({ type: "int", name: "project_id" })
  projectId: number;

  @Column({ type: "smallint" })
  stage: number;

  @Column({ type: "date", name: "reached_on" })
  reachedOn: string;

  @Column({ type: "int", name: "meeting_id", nullable: true })
  meetingId: number | null;

  @Column({ type: "int", name: "venue_region_id", nullable: true })
  venueRegionId: number | null;

  @ManyToOne(() => ProjectEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "project_id", foreignKeyConstraintName: "fk_milestone_project" })
  project?: ProjectEntity;

  @ManyToOne(() => MeetingEntity, { onDelete: "RESTRICT" })
  @JoinColumn({ name: "meeting_id", foreignKeyConstraintName: "fk_milestone_meeting" })
  meeting?: MeetingEntity;

  @ManyToOne(() => RegionEntity, { onDelete: "RESTRICT" })
  @JoinColumn({ name: "venue_region_id", foreignKeyConstraintName: "fk_milestone_venue_region" })
  venueRegion?: RegionEntity;
}
