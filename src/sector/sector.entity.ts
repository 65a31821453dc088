import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";

/** A row of `sector`: one industry field (产业领域) in a small tree. */
@Entity("sector")
@Index("uq_sector_code", ["code"], { unique: true })
@Index("idx_sector_parent", ["parentId"])
export class SectorEntity {
  @PrimaryGeneratedColumn({ type: "int" })
  id: number;

  @Column({ type: "varchar", length: 32 })
  code: string;

  @Column({ type: "varchar", length: 64 })
  name: string;

  @Column({ type: "int", name: "parent_id", nullable: true })
  parentId: number | null;

  @ManyToOne(() => SectorEntity, { onDelete: "RESTRICT" })
  @JoinColumn({ name: "parent_id", foreignKeyConstraintName: "fk_sector_parent" })
  parent?: SectorEntity | null;
}
