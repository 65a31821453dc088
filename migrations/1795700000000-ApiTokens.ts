import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Write tokens (`api_token`): one row per token, holding the office's name,
 * the region whose subtree it may write to and the SHA-256 of the token, never
 * the token. The statements are the ones TypeORM's schema builder derives from
 * src/auth/token.entity.ts, so `test/integration/database.test.ts` sees no drift.
 */
export class ApiTokens1795700000000 implements MigrationInterface {
  name = "ApiTokens1795700000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of isMysql(queryRunner) ? MYSQL_UP : SQLITE_UP) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of isMysql(queryRunner) ? MYSQL_DOWN : SQLITE_DOWN) await queryRunner.query(sql);
  }
}

function isMysql(queryRunner: QueryRunner): boolean {
  return queryRunner.connection.options.type === "mysql" || queryRunner.connection.options.type === "mariadb";
}

const MYSQL_UP = [
  `CREATE TABLE \`api_token\` (\`id\` int NOT NULL AUTO_INCREMENT, \`name\` varchar(200) NOT NULL, \`region_id\` int NOT NULL, \`secret_hash\` varchar(64) NOT NULL, \`created_at\` varchar(24) NOT NULL, \`revoked_at\` varchar(24) NULL, UNIQUE INDEX \`uq_api_token_hash\` (\`secret_hash\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`,
  `ALTER TABLE \`api_token\` ADD CONSTRAINT \`fk_api_token_region\` FOREIGN KEY (\`region_id\`) REFERENCES \`region\`(\`id\`) ON DELETE RESTRICT ON UPDATE NO ACTION`,
];

const MYSQL_DOWN = [
  `ALTER TABLE \`api_token\` DROP FOREIGN KEY \`fk_api_token_region\``,
  `DROP INDEX \`uq_api_token_hash\` ON \`api_token\``,
  `DROP TABLE \`api_token\``,
];

const SQLITE_UP = [
  `CREATE TABLE "api_token" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar(200) NOT NULL, "region_id" integer NOT NULL, "secret_hash" varchar(64) NOT NULL, "created_at" varchar(24) NOT NULL, "revoked_at" varchar(24), CONSTRAINT "fk_api_token_region" FOREIGN KEY ("region_id") REFERENCES "region" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
  `CREATE UNIQUE INDEX "uq_api_token_hash" ON "api_token" ("secret_hash")`,
];

const SQLITE_DOWN = [`DROP INDEX "uq_api_token_hash"`, `DROP TABLE "api_token"`];
