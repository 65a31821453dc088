import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";

import { RegionLevel } from "./region-level";

/** A row of `region`: one administrative division (行政区划) with its GB/T 2260 code. */
@Entity("region")
@Index("uq_region_code", ["code"], { unique: true })
@Index("idx_region_parent", ["parentId"])
export class RegionEntity {
  @PrimaryGeneratedColumn({ type: "int" })
  id: number;

  @Column({ type: "varchar", length: 12 })
  code: string;

  @Column({ type: "varchar", length: 64 })
  name: string;

  @Column({ type: "varchar", length: 16 })
  level: RegionLevel;

  @Column({ type: "int", name: "parent_id", nullable: true })
  parentId: number | null;

  @ManyToOne(() => RegionEntity, { onDelete: "RESTRICT", createForeignKeyConstraints: true })
  @JoinColumn({ name: "parent_id", foreignKeyConstraintName: "fk_region_parent" })
  parent?: RegionEntity | null;
}
