import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The writable ledger:
 * - `ledger_change`, the history (全程跟踪), append-only: triggers refuse any
 *   UPDATE or DELETE of its rows;
 * - `meeting.major_projects`, set for the shipped 2021-07-10 meeting, whose
 *   STARTED batch took only projects of at least 5 亿元;
 * - `data_version` becomes one counter per written region with its province
 *   (src/db/data-version.ts), so that writers in different regions never wait
 *   on one row. The old single counter carries over as row 0 (the trees).
 * The MySQL statements are the ones TypeORM's schema builder derives from the
 * entities, so `test/integration/database.test.ts` sees no drift.
 */
export class Ledger1795700000100 implements MigrationInterface {
  name = "Ledger1795700000100";

  async up(queryRunner: QueryRunner): Promise<void> {
    const [old] = (await queryRunner.query("SELECT version FROM data_version WHERE id = 1")) as Array<{ version: number | string }>;
    for (const sql of isMysql(queryRunner) ? MYSQL_UP : SQLITE_UP) await queryRunner.query(sql);
    await queryRunner.query("INSERT INTO data_version (id, province_id, version) VALUES (0, 0, ?)", [Number(old?.version ?? 0) + 1]);
    await queryRunner.query("UPDATE meeting SET major_projects = 1 WHERE title = ? AND held_on = ?", ["全省重大项目建设暨“三个一批”推进会", "2021-07-10"]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const [sum] = (await queryRunner.query("SELECT SUM(version) AS version FROM data_version")) as Array<{ version: number | string | null }>;
    for (const sql of isMysql(queryRunner) ? MYSQL_DOWN : SQLITE_DOWN) await queryRunner.query(sql);
    await queryRunner.query("INSERT INTO data_version (id, version) VALUES (1, ?)", [Number(sum?.version ?? 0) + 1]);
  }
}

function isMysql(queryRunner: QueryRunner): boolean {
  return queryRunner.connection.options.type === "mysql" || queryRunner.connection.options.type === "mariadb";
}

const MYSQL_UP = [
  `CREATE TABLE \`ledger_change\` (\`id\` int NOT NULL AUTO_INCREMENT, \`changed_at\` varchar(24) NOT NULL, \`token_id\` int NULL, \`office\` varchar(200) NOT NULL, \`operation\` varchar(32) NOT NULL, \`project_id\` int NULL, \`meeting_id\` int NULL, \`project_version\` int NULL, \`province_id\` int NOT NULL, \`city_id\` int NULL, \`region_id\` int NOT NULL, \`fields\` text NOT NULL, \`reason\` varchar(500) NULL, INDEX \`idx_ledger_change_region\` (\`region_id\`, \`id\`), INDEX \`idx_ledger_change_city\` (\`city_id\`, \`id\`), INDEX \`idx_ledger_change_province\` (\`province_id\`, \`id\`), INDEX \`idx_ledger_change_project\` (\`project_id\`, \`id\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`,
  `CREATE TRIGGER \`ledger_change_no_update\` BEFORE UPDATE ON \`ledger_change\` FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'ledger_change is append-only'`,
  `CREATE TRIGGER \`ledger_change_no_delete\` BEFORE DELETE ON \`ledger_change\` FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'ledger_change is append-only'`,
  `ALTER TABLE \`meeting\` ADD \`major_projects\` tinyint NOT NULL DEFAULT 0`,
  `DELETE FROM \`data_version\``,
  `ALTER TABLE \`data_version\` ADD \`province_id\` int NOT NULL`,
  `CREATE INDEX \`idx_data_version_province\` ON \`data_version\` (\`province_id\`)`,
];

const MYSQL_DOWN = [
  `DELETE FROM \`data_version\``,
  `DROP INDEX \`idx_data_version_province\` ON \`data_version\``,
  `ALTER TABLE \`data_version\` DROP COLUMN \`province_id\``,
  `ALTER TABLE \`meeting\` DROP COLUMN \`major_projects\``,
  `DROP TABLE \`ledger_change\``,
];

const SQLITE_UP = [
  `CREATE TABLE "ledger_change" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "changed_at" varchar(24) NOT NULL, "token_id" integer, "office" varchar(200) NOT NULL, "operation" varchar(32) NOT NULL, "project_id" integer, "meeting_id" integer, "project_version" integer, "province_id" integer NOT NULL, "city_id" integer, "region_id" integer NOT NULL, "fields" text NOT NULL, "reason" varchar(500))`,
  `CREATE INDEX "idx_ledger_change_region" ON "ledger_change" ("region_id", "id")`,
  `CREATE INDEX "idx_ledger_change_city" ON "ledger_change" ("city_id", "id")`,
  `CREATE INDEX "idx_ledger_change_province" ON "ledger_change" ("province_id", "id")`,
  `CREATE INDEX "idx_ledger_change_project" ON "ledger_change" ("project_id", "id")`,
  `CREATE TRIGGER "ledger_change_no_update" BEFORE UPDATE ON "ledger_change" BEGIN SELECT RAISE(ABORT, 'ledger_change is append-only'); END`,
  `CREATE TRIGGER "ledger_change_no_delete" BEFORE DELETE ON "ledger_change" BEGIN SELECT RAISE(ABORT, 'ledger_change is append-only'); END`,
  `ALTER TABLE "meeting" ADD COLUMN "major_projects" boolean NOT NULL DEFAULT (0)`,
  `DROP TABLE "data_version"`,
  `CREATE TABLE "data_version" ("id" integer PRIMARY KEY NOT NULL, "province_id" integer NOT NULL, "version" bigint NOT NULL)`,
  `CREATE INDEX "idx_data_version_province" ON "data_version" ("province_id")`,
];

const SQLITE_DOWN = [
  `DROP INDEX "idx_data_version_province"`,
  `DROP TABLE "data_version"`,
  `CREATE TABLE "data_version" ("id" integer PRIMARY KEY NOT NULL, "version" bigint NOT NULL)`,
  `ALTER TABLE "meeting" DROP COLUMN "major_projects"`,
  `DROP TABLE "ledger_change"`,
];
