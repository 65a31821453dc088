import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";

import { RegionEntity } from "../region/region.entity";

/** A row of `meeting`: one "三个一批" campaign meeting (推进会). */
@Entity("meeting")
@Index("idx_meeting_held_on", ["heldOn"])
@Index("idx_meeting_host", ["hostRegionId", "heldOn"])
export class MeetingEntity {
  @PrimaryGeneratedColumn({ type: "int" })
  id: number;

  @Column({ type: "varchar", length: 200 })
  title: string;

  /** ISO date string (YYYY-MM-DD). */
  @Column({ type: "date", name: "held_on" })
  heldOn: string;

  @Column({ type: "int", name: "host_region_id" })
  hostRegionId: number;

  /** A major-project meeting (重大项目推进会): its STARTED batch takes only projects of at least 5 亿元. */
  @Column({ type: "boolean", name: "major_projects", default: false })
  majorProjects: boolean;

  @ManyToOne(() => RegionEntity, { onDelete: "RESTRICT" })
  @JoinColumn({ name: "host_region_id", foreignKeyConstraintName: "fk_meeting_host_region" })
  hostRegion?: RegionEntity;
}
