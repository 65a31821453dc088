import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";

import { RegionEntity } from "../region/region.entity";

/**
 * A row of `api_token`: one write token, held by one office and good for one
 * region's whole subtree. Only the SHA-256 of the token is stored; the token
 * itself is shown once, when it is created (./tokens.ts).
 */
@Entity("api_token")
@Index("uq_api_token_hash", ["secretHash"], { unique: true })
export class ApiTokenEntity {
  /** The token's number, for listing and revoking it; never a credential. */
  @PrimaryGeneratedColumn({ type: "int" })
  id: number;

  /** The office that holds the token (e.g. 郑州市发改委), as the operator typed it. */
  @Column({ type: "varchar", length: 200 })
  name: string;

  /** The region whose subtree the token may write to. */
  @Column({ type: "int", name: "region_id" })
  regionId: number;

  /** A region that still has tokens cannot be deleted: revoke them first. */
  @ManyToOne(() => RegionEntity, { onDelete: "RESTRICT", createForeignKeyConstraints: true })
  @JoinColumn({ name: "region_id", foreignKeyConstraintName: "fk_api_token_region" })
  region?: RegionEntity;

  /**
   * Lower-case hex SHA-256 of the whole token string (always 64 characters);
   * a request's token is found by this hash. varchar, not char: TypeORM has
   * no `char` for SQLite, and the same type on both keeps one schema.
   */
  @Column({ type: "varchar", length: 64, name: "secret_hash" })
  secretHash: string;

  /** When the token was made, as an ISO 8601 UTC string (`Date.toISOString()`): the same text on SQLite and MySQL. */
  @Column({ type: "varchar", length: 24, name: "created_at" })
  createdAt: string;

  /** When the token was revoked (same format), or null while it is good. */
  @Column({ type: "varchar", length: 24, name: "revoked_at", nullable: true })
  revokedAt: string | null;
}
