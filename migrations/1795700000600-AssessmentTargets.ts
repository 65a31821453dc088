import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Targets of the assessment (目标亮相, issue 19): `assessment_target`, one row
 * per region, stage and period (a year, quarter 0, or one of its quarters),
 * with the number of projects (optional) and the investment, in 万元, that the
 * office above set for it. The statements are the ones TypeORM's schema
 * builder derives from src/assessment/assessment-target.entity.ts, so
 * `test/integration/database.test.ts` sees no drift.
 */
export class AssessmentTargets1795700000600 implements MigrationInterface {
  name = "AssessmentTargets1795700000600";

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
  "CREATE TABLE `assessment_target` (`id` int NOT NULL AUTO_INCREMENT, `region_id` int NOT NULL, `stage` smallint NOT NULL, `year` int NOT NULL, `quarter` smallint NOT NULL, `target_count` int NULL, `target_investment_wan` bigint NOT NULL, `set_at` varchar(24) NOT NULL, `set_by` varchar(200) NOT NULL, `synthetic` tinyint NOT NULL DEFAULT 0, INDEX `idx_assessment_target_period` (`year`, `quarter`), UNIQUE INDEX `uq_assessment_target` (`region_id`, `stage`, `year`, `quarter`), PRIMARY KEY (`id`)) ENGINE=InnoDB",
  "ALTER TABLE `assessment_target` ADD CONSTRAINT `fk_assessment_target_region` FOREIGN KEY (`region_id`) REFERENCES `region`(`id`) ON DELETE RESTRICT ON UPDATE NO ACTION",
];

const MYSQL_DOWN = [
  "ALTER TABLE `assessment_target` DROP FOREIGN KEY `fk_assessment_target_region`",
  "DROP INDEX `uq_assessment_target` ON `assessment_target`",
  "DROP INDEX `idx_assessment_target_period` ON `assessment_target`",
  "DROP TABLE `assessment_target`",
];

const SQLITE_UP = [
  `CREATE TABLE "assessment_target" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "region_id" integer NOT NULL, "stage" smallint NOT NULL, "year" integer NOT NULL, "quarter" smallint NOT NULL, "target_count" integer, "target_investment_wan" bigint NOT NULL, "set_at" varchar(24) NOT NULL, "set_by" varchar(200) NOT NULL, "synthetic" boolean NOT NULL DEFAULT (0), CONSTRAINT "fk_assessment_target_region" FOREIGN KEY ("region_id") REFERENCES "region" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
  `CREATE INDEX "idx_assessment_target_period" ON "assessment_target" ("year", "quarter") `,
  `CREATE UNIQUE INDEX "uq_assessment_target" ON "assessment_target" ("region_id", "stage", "year", "quarter") `,
];

const SQLITE_DOWN = [`DROP INDEX "uq_assessment_target"`, `DROP INDEX "idx_assessment_target_period"`, `DROP TABLE "assessment_target"`];
