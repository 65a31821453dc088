import { Column, Entity, Index, PrimaryColumn } from "typeorm";

/** The measures every rollup row holds for its group: how many projects, and their exact investment in 万元. */
abstract class RollupMeasures {
  @Column({ type: "int", name: "project_count" })
  projectCount: number;

  @Column({ type: "bigint", name: "investment_wan" })
  investmentWan: string;
}

/**
 * `rollup_region`: per (project's own) region × sector × current stage, the
 * number of projects and their exact investment. Kept equal to `project` by
 * every write, in the write's transaction.
 */
@Entity("rollup_region")
@Index("idx_rollup_region_sector", ["sectorId", "stage"])
export class RollupRegionEntity extends RollupMeasures {
  @PrimaryColumn({ type: "int", name: "region_id" })
  regionId: number;

  @PrimaryColumn({ type: "int", name: "sector_id" })
  sectorId: number;

  @PrimaryColumn({ type: "smallint" })
  stage: number;

}

/**
 * `rollup_meeting`: per meeting × region × sector × current stage, the
 * projects presented at the meeting (in any batch, each counted once).
 */
@Entity("rollup_meeting")
export class RollupMeetingEntity extends RollupMeasures {
  @PrimaryColumn({ type: "int", name: "meeting_id" })
  meetingId: number;

  @PrimaryColumn({ type: "int", name: "region_id" })
  regionId: number;

  @PrimaryColumn({ type: "int", name: "sector_id" })
  sectorId: number;

  @PrimaryColumn({ type: "smallint" })
  stage: number;

}

/**
 * `rollup_batch`: per meeting × batch stage × venue × region × sector ×
 * current stage, the projects whose milestone of that stage was presented
 * there. `venue_region_id` is 0 for a milestone at the meeting without a venue.
 */
@Entity("rollup_batch")
export class RollupBatchEntity extends RollupMeasures {
  @PrimaryColumn({ type: "int", name: "meeting_id" })
  meetingId: number;

  @PrimaryColumn({ type: "smallint", name: "batch_stage" })
  batchStage: number;

  @PrimaryColumn({ type: "int", name: "venue_region_id" })
  venueRegionId: number;

  @PrimaryColumn({ type: "int", name: "region_id" })
  regionId: number;

  @PrimaryColumn({ type: "int", name: "sector_id" })
  sectorId: number;

  @PrimaryColumn({ type: "smallint" })
  stage: number;

}

/** `data_version`: one row whose `version` every write bumps; caches are keyed by it. */
@Entity("data_version")
export class DataVersionEntity {
  @PrimaryColumn({ type: "int" })
  id: number;

  @Column({ type: "bigint" })
  version: string;
}
