import type { MigrationInterface, QueryRunner } from "typeorm";

import { refKeyColumn } from "../src/ledger/ref-key";

/**
 * One rule for "the same ledger reference" on both databases (issue 17):
 * `project.ref_key` holds each reference's key (src/ledger/ref-key.ts) under a
 * unique index, and the unique index on `ref` itself goes — on MariaDB its
 * utf8mb4_unicode_ci collation was a second, different rule (café-1 and
 * cafe-1 the same, seq-abc-1 and ＳＥＱ－ＡＢＣ－１ too, while SQLite's index
 * told all of them apart). Existing references get their keys here; two that
 * the rule makes one stop the migration with both named, to be renamed first.
 * The statements are TypeORM's own for the entity (no drift).
 */
export class ProjectRefKey1795700000300 implements MigrationInterface {
  name = "ProjectRefKey1795700000300";

  async up(queryRunner: QueryRunner): Promise<void> {
    const mysql = isMysql(queryRunner);
    await queryRunner.query(mysql ? "ALTER TABLE `project` ADD `ref_key` varchar(64) NULL" : 'ALTER TABLE "project" ADD COLUMN "ref_key" varchar(64)');
    const rows: Array<{ id: number; ref: string }> = await queryRunner.query("SELECT id, ref FROM project WHERE ref IS NOT NULL ORDER BY id");
    const owner = new Map<string, { id: number; ref: string }>();
    const clashes: string[] = [];
    for (const row of rows) {
      const key = refKeyColumn(String(row.ref));
      const first = owner.get(key);
      if (first) clashes.push(`"${first.ref}" (project ${first.id}) and "${row.ref}" (project ${row.id})`);
      else owner.set(key, { id: Number(row.id), ref: String(row.ref) });
    }
    if (clashes.length) {
      throw new Error(
        `${clashes.length} pair(s) of ledger references are the same reference under the ledger's rule (letter case, width and accents aside): ` +
          `${clashes.slice(0, 10).join("; ")}${clashes.length > 10 ? "; …" : ""}. Rename one of each pair (UPDATE project SET ref = … WHERE id = …) and run the migrations again`,
      );
    }
    const keyed = [...owner].map(([key, { id }]) => [id, key] as const);
    for (let i = 0; i < keyed.length; i += 500) {
      const chunk = keyed.slice(i, i + 500);
      await queryRunner.query(
        `UPDATE project SET ref_key = CASE id ${chunk.map(() => "WHEN ? THEN ?").join(" ")} END WHERE id IN (${chunk.map(() => "?").join(", ")})`,
        [...chunk.flat(), ...chunk.map(([id]) => id)],
      );
    }
    await queryRunner.query(mysql ? "CREATE UNIQUE INDEX `uq_project_ref_key` ON `project` (`ref_key`)" : 'CREATE UNIQUE INDEX "uq_project_ref_key" ON "project" ("ref_key")');
    await queryRunner.query(mysql ? "DROP INDEX `uq_project_ref` ON `project`" : 'DROP INDEX "uq_project_ref"');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const mysql = isMysql(queryRunner);
    await queryRunner.query(mysql ? "CREATE UNIQUE INDEX `uq_project_ref` ON `project` (`ref`)" : 'CREATE UNIQUE INDEX "uq_project_ref" ON "project" ("ref")');
    await queryRunner.query(mysql ? "DROP INDEX `uq_project_ref_key` ON `project`" : 'DROP INDEX "uq_project_ref_key"');
    await queryRunner.query(mysql ? "ALTER TABLE `project` DROP COLUMN `ref_key`" : 'ALTER TABLE "project" DROP COLUMN "ref_key"');
  }
}

function isMysql(queryRunner: QueryRunner): boolean {
  return queryRunner.connection.options.type === "mysql" || queryRunner.connection.options.type === "mariadb";
}
