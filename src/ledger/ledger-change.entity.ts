import { Column, Entity, Index, PrimaryGeneratedColumn } from "typeorm";

/**
 * A row of `ledger_change` (全程跟踪): one change to a project, its milestones
 * or a meeting, appended by the ledger in the write's transaction and never
 * updated or deleted (triggers refuse both). The region columns hold where
 * the project was after the change, down from its province, so that a
 * region's changes are one index range whatever its level.
 */
@Entity("ledger_change")
@Index("idx_ledger_change_project", ["projectId", "id"])
@Index("idx_ledger_change_province", ["provinceId", "id"])
@Index("idx_ledger_change_city", ["cityId", "id"])
@Index("idx_ledger_change_region", ["regionId", "id"])
@Index("idx_ledger_change_from_province", ["fromProvinceId", "id"])
@Index("idx_ledger_change_from_city", ["fromCityId", "id"])
@Index("idx_ledger_change_from_region", ["fromRegionId", "id"])
export class LedgerChangeEntity {
  @PrimaryGeneratedColumn({ type: "int" })
  id: number;

  /** When the change was committed, ISO 8601 UTC with milliseconds. */
  @Column({ type: "varchar", length: 24, name: "changed_at" })
  changedAt: string;

  /** The token that made it; null for the system (seed, benchmark generator, command-line tools run by the operator). */
  @Column({ type: "int", name: "token_id", nullable: true })
  tokenId: number | null;

  /** The office holding the token at the time (or "system"); never the token. */
  @Column({ type: "varchar", length: 200 })
  office: string;

  /** What was done: CREATE_PROJECT, UPDATE_PROJECT, ADVANCE_STAGE, RECORD_AT_MEETING, CORRECT_MILESTONE_DATE, CREATE_MEETING. */
  @Column({ type: "varchar", length: 32 })
  operation: string;

  @Column({ type: "int", name: "project_id", nullable: true })
  projectId: number | null;

  @Column({ type: "int", name: "meeting_id", nullable: true })
  meetingId: number | null;

  /** The project's version after the change (null for a meeting). */
  @Column({ type: "int", name: "project_version", nullable: true })
  projectVersion: number | null;

  @Column({ type: "int", name: "province_id" })
  provinceId: number;

  @Column({ type: "int", name: "city_id", nullable: true })
  cityId: number | null;

  @Column({ type: "int", name: "region_id" })
  regionId: number;

  /** Where a project moved from (set only when a change moved it), so the region it left lists the change too. */
  @Column({ type: "int", name: "from_province_id", nullable: true })
  fromProvinceId: number | null;

  @Column({ type: "int", name: "from_city_id", nullable: true })
  fromCityId: number | null;

  @Column({ type: "int", name: "from_region_id", nullable: true })
  fromRegionId: number | null;

  /** JSON array of { field, from, to } (strings or null). */
  @Column({ type: "text" })
  fields: string;

  /** Why, for a correction. */
  @Column({ type: "varchar", length: 500, nullable: true })
  reason: string | null;
}
