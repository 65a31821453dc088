import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * 达效 (issue 19): `project.designed_annual_output_wan` (设计年产值, exact 万元, null until recorded) and
 * `output_report`, one reported output value per project and year (src/output/output-report.entity.ts), deleted
 * with its project (`synthetic` marks the seed's illustrative layer). No stored row changes. The statements are TypeORM's own for the entities, so
 * `test/integration/database.test.ts` sees no drift.
 */
export class OutputReports1795700000500 implements MigrationInterface {
  name = "OutputReports1795700000500";

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
  "ALTER TABLE `project` ADD `designed_annual_output_wan` bigint NULL",
  "CREATE TABLE `output_report` (`id` int NOT NULL AUTO_INCREMENT, `project_id` int NOT NULL, `year` smallint NOT NULL, `output_wan` bigint NOT NULL, `reported_on` date NOT NULL, `synthetic` tinyint NOT NULL DEFAULT 0, INDEX `idx_output_report_year` (`year`), UNIQUE INDEX `uq_output_report_project_year` (`project_id`, `year`), PRIMARY KEY (`id`)) ENGINE=InnoDB",
  "ALTER TABLE `output_report` ADD CONSTRAINT `fk_output_report_project` FOREIGN KEY (`project_id`) REFERENCES `project`(`id`) ON DELETE CASCADE ON UPDATE NO ACTION",
];

const MYSQL_DOWN = ["ALTER TABLE `output_report` DROP FOREIGN KEY `fk_output_report_project`", "DROP TABLE `output_report`", "ALTER TABLE `project` DROP COLUMN `designed_annual_output_wan`"];

const SQLITE_UP = [
  'ALTER TABLE "project" ADD COLUMN "designed_annual_output_wan" bigint',
  `CREATE TABLE "output_report" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "project_id" integer NOT NULL, "year" smallint NOT NULL, "output_wan" bigint NOT NULL, "reported_on" date NOT NULL, "synthetic" boolean NOT NULL DEFAULT (0), CONSTRAINT "fk_output_report_project" FOREIGN KEY ("project_id") REFERENCES "project" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
  `CREATE INDEX "idx_output_report_year" ON "output_report" ("year") `,
  `CREATE UNIQUE INDEX "uq_output_report_project_year" ON "output_report" ("project_id", "year") `,
];

const SQLITE_DOWN = [`DROP INDEX "uq_output_report_project_year"`, `DROP INDEX "idx_output_report_year"`, `DROP TABLE "output_report"`, 'ALTER TABLE "project" DROP COLUMN "designed_annual_output_wan"'];
