import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";

import { ProjectEntity } from "../project/project.entity";

/**
 * A row of `output_report` (达效): a project's reported output value (年产值) for one calendar year, exact in
 * 万元, and the day it was reported. One per project and year: a second report for the same year replaces the
 * first (the history keeps the old value). The region is the project's (joined, never copied). Written only by
 * the ledger (src/ledger/operations/output-reports.ts).
 */
@Entity("output_report")
@Index("uq_output_report_project_year", ["projectId", "year"], { unique: true })
/** The stats read one year's reports across a subtree. */
@Index("idx_output_report_year", ["year"])
export class OutputReportEntity {
  @PrimaryGeneratedColumn({ type: "int" })
  id: number;

  @Column({ type: "int", name: "project_id" })
  projectId: number;

  /** The calendar year the output is for. */
  @Column({ type: "smallint" })
  year: number;

  /** The year's output value in 万元, exact (0 or more). */
  @Column({ type: "bigint", name: "output_wan" })
  outputWan: string;

  /** When it was reported (a ledger date). */
  @Column({ type: "date", name: "reported_on" })
  reportedOn: string;

  /** Part of the seed's illustrative layer (src/seed/synthetic-layer.ts), not reported by an office. */
  @Column({ type: "boolean", default: false })
  synthetic: boolean;

  @ManyToOne(() => ProjectEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "project_id", foreignKeyConstraintName: "fk_output_report_project" })
  project?: ProjectEntity;
}
