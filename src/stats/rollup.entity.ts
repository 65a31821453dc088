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

/**
 * `data_version`: a counter per region that writes have touched (`id` is the
 * region's id; 0 counts changes of the region and sector trees), with its
 * province; caches are keyed by the sums per province (src/db/data-version.ts).
 */
@Entity("data_version")
@Index("idx_data_version_province", ["provinceId"])
export class DataVersionEntity {
  @PrimaryColumn({ type: "int" })
  id: number;

  @Column({ type: "int", name: "province_id" })
  provinceId: number;

  @Column({ type: "bigint" })
  version: string;
}
