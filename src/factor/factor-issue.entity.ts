import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";

import { ProjectEntity } from "../project/project.entity";

/**
 * A row of `factor_issue` (要素保障): a problem that holds a project back,
 * the kind of support it needs, the department that must answer it, when it
 * was raised and, once answered, when and how. The region is the project's
 * (joined, never copied): a project that moves takes its problems along.
 * Written only by the ledger (src/ledger/operations/factor-issues.ts).
 */
@Entity("factor_issue")
/** A project's problems, open ones (resolved_on NULL) together. */
@Index("idx_factor_issue_project", ["projectId", "resolvedOn"])
/** Open problems anywhere, oldest first: a region's listing and the stats read open ones only. */
@Index("idx_factor_issue_open", ["resolvedOn", "raisedOn"])
export class FactorIssueEntity {
  @PrimaryGeneratedColumn({ type: "int" })
  id: number;

  @Column({ type: "int", name: "project_id" })
  projectId: number;

  /** FactorKind: PLANNING, APPROVAL, ENVIRONMENT, LAND, FINANCING, STAFFING, UTILITIES, OTHER. */
  @Column({ type: "varchar", length: 16 })
  kind: string;

  /** The department that must answer it (对号入座), trimmed. */
  @Column({ type: "varchar", length: 100 })
  department: string;

  @Column({ type: "varchar", length: 1000 })
  description: string;

  @Column({ type: "date", name: "raised_on" })
  raisedOn: string;

  /** When it was answered; null while open. */
  @Column({ type: "date", name: "resolved_on", nullable: true })
  resolvedOn: string | null;

  /** How it was answered, when the resolver said. */
  @Column({ type: "varchar", length: 500, nullable: true })
  resolution: string | null;

  /** Part of the seed's illustrative layer (src/seed/synthetic-layer.ts), not raised by an office. */
  @Column({ type: "boolean", default: false })
  synthetic: boolean;

  @ManyToOne(() => ProjectEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "project_id", foreignKeyConstraintName: "fk_factor_issue_project" })
  project?: ProjectEntity;
}
