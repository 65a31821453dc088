import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";

import { RegionEntity } from "../region/region.entity";
import { SectorEntity } from "../sector/sector.entity";

/**
 * A row of `project`: one major investment project. `stage` is the current
 * stage as a number (0 RESERVE, 1 SIGNED, 2 STARTED, 3 IN_PRODUCTION, 4 EFFECTIVE) so that it sorts in
 * lifecycle order; `investment_wan` is exact, in 万元.
 */
@Entity("project")
@Index("uq_project_ref_key", ["refKey"], { unique: true })
@Index("idx_project_region_sector_stage", ["regionId", "sectorId", "stage"])
@Index("idx_project_sector", ["sectorId"])
@Index("idx_project_stage", ["stage", "stageReachedOn"])
@Index("idx_project_investment", ["investmentWan"])
@Index("idx_project_name", ["name"])
/** Covering for the assessment's reached statement (migrations/1795700000900-AssessmentIndexes.ts). */
@Index("idx_project_region_investment", ["regionId", "investmentWan"])
export class ProjectEntity {
  @PrimaryGeneratedColumn({ type: "int" })
  id: number;

  /** Stable ledger reference (台账编号) from the region's own ledger or the seed; unique when set. */
  @Column({ type: "varchar", length: 64, nullable: true })
  ref: string | null;

  /** The reference's key (src/ledger/ref-key.ts: SHA-256 of its normal form, hex): unique, so that the database holds one rule for "the same reference" on every kind. */
  @Column({ type: "varchar", length: 64, nullable: true, name: "ref_key" })
  refKey: string | null;

  @Column({ type: "varchar", length: 200 })
  name: string;

  @Column({ type: "int", name: "region_id" })
  regionId: number;

  @Column({ type: "int", name: "sector_id" })
  sectorId: number;

  @Column({ type: "smallint" })
  stage: number;

  /** Date the current stage was reached (the latest milestone's date), ISO YYYY-MM-DD. */
  @Column({ type: "date", name: "stage_reached_on" })
  stageReachedOn: string;

  @Column({ type: "bigint", name: "investment_wan" })
  investmentWan: string;

  @Column({ type: "varchar", length: 200, nullable: true })
  investor: string | null;

  /** Designed annual output value (设计年产值) in 万元, exact; null until an output report records it (达效 is measured against it). */
  @Column({ type: "bigint", name: "designed_annual_output_wan", nullable: true })
  designedAnnualOutputWan: string | null;

  @Column({ type: "boolean", default: false })
  synthetic: boolean;

  @Column({ type: "int", default: 1 })
  version: number;

  @ManyToOne(() => RegionEntity, { onDelete: "RESTRICT" })
  @JoinColumn({ name: "region_id", foreignKeyConstraintName: "fk_project_region" })
  region?: RegionEntity;

  @ManyToOne(() => SectorEntity, { onDelete: "RESTRICT" })
  @JoinColumn({ name: "sector_id", foreignKeyConstraintName: "fk_project_sector" })
  sector?: SectorEntity;
}
