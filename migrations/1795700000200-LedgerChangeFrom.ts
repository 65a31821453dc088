import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Where a project moved from: set on the history row of a change that moved
 * it, so that the region it left lists that change in `Region.changes` as the
 * region it entered does. The MySQL statements are TypeORM's own for the
 * entity (no drift).
 */
export class LedgerChangeFrom1795700000200 implements MigrationInterface {
  name = "LedgerChangeFrom1795700000200";

  async up(queryRunner: QueryRunner): Promise<void> {
    const mysql = isMysql(queryRunner);
    for (const level of ["province", "city", "region"]) {
      await queryRunner.query(mysql ? `ALTER TABLE \`ledger_change\` ADD \`from_${level}_id\` int NULL` : `ALTER TABLE "ledger_change" ADD COLUMN "from_${level}_id" integer`);
    }
    for (const level of ["region", "city", "province"]) {
      await queryRunner.query(
        mysql
          ? `CREATE INDEX \`idx_ledger_change_from_${level}\` ON \`ledger_change\` (\`from_${level}_id\`, \`id\`)`
          : `CREATE INDEX "idx_ledger_change_from_${level}" ON "ledger_change" ("from_${level}_id", "id")`,
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const mysql = isMysql(queryRunner);
    for (const level of ["province", "city", "region"]) {
      await queryRunner.query(mysql ? `DROP INDEX \`idx_ledger_change_from_${level}\` ON \`ledger_change\`` : `DROP INDEX "idx_ledger_change_from_${level}"`);
      await queryRunner.query(mysql ? `ALTER TABLE \`ledger_change\` DROP COLUMN \`from_${level}_id\`` : `ALTER TABLE "ledger_change" DROP COLUMN "from_${level}_id"`);
    }
  }
}

function isMysql(queryRunner: QueryRunner): boolean {
  return queryRunner.connection.options.type === "mysql" || queryRunner.connection.options.type === "mariadb";
}
