import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";

import { RegionEntity } from "../region/region.entity";

/**
 * A row of `assessment_target` (目标亮相): the target a region's office above
 * set for one region, one stage and one period — a year (quarter 0) or one
 * quarter of it — as a number of projects (optional) and an investment, exact
 * in 万元. One row per region, stage and period: setting it again replaces it
 * (the ledger's history keeps what it was). Written only by the ledger's
 * `setTarget` operation (src/ledger/operations/targets.ts).
 */
@Entity("assessment_target")
@Index("uq_assessment_target", ["regionId", "stage", "year", "quarter"], { unique: true })
@Index("idx_assessment_target_period", ["year", "quarter"])
export class AssessmentTargetEntity {
  @PrimaryGeneratedColumn({ type: "int" })
  id: number;

  @Column({ type: "int", name: "region_id" })
  regionId: number;

  /** The stage's stored number (src/common/stage.ts `stageToNumber`). */
  @Column({ type: "smallint" })
  stage: number;

  @Column({ type: "int" })
  year: number;

  /** 1..4, or 0 for the whole year. */
  @Column({ type: "smallint" })
  quarter: number;

  /** Projects to reach the stage in the period; null when only an investment was set. */
  @Column({ type: "int", name: "target_count", nullable: true })
  targetCount: number | null;

  /** Investment of the projects to reach the stage in the period, exact in 万元. */
  @Column({ type: "bigint", name: "target_investment_wan" })
  targetInvestmentWan: string;

  /** When it was last set, ISO 8601 UTC with milliseconds. */
  @Column({ type: "varchar", length: 24, name: "set_at" })
  setAt: string;

  /** The office whose token last set it (or "system"). */
  @Column({ type: "varchar", length: 200, name: "set_by" })
  setBy: string;

  /** Part of the seed's illustrative layer (src/seed/synthetic-layer.ts), not an office's target. */
  @Column({ type: "boolean", default: false })
  synthetic: boolean;

  @ManyToOne(() => RegionEntity, { onDelete: "RESTRICT" })
  @JoinColumn({ name: "region_id", foreignKeyConstraintName: "fk_assessment_target_region" })
  region?: RegionEntity;
}
