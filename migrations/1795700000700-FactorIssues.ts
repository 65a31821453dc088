import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * 要素保障 (issue 19): `factor_issue`, the problems that hold projects back
 * (src/factor/factor-issue.entity.ts), each tied to its project (deleted with
 * it) and listed through the project's region. Two indexes: a project's own
 * problems, and open problems oldest first (a region's listing, the stats,
 * the weekly export). The statements are TypeORM's own for the entity, so
 * `test/integration/database.test.ts` sees no drift.
 */
export class FactorIssues1795700000700 implements MigrationInterface {
  name = "FactorIssues1795700000700";

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
  "CREATE TABLE `factor_issue` (`id` int NOT NULL AUTO_INCREMENT, `project_id` int NOT NULL, `kind` varchar(16) NOT NULL, `department` varchar(100) NOT NULL, `description` varchar(1000) NOT NULL, `raised_on` date NOT NULL, `resolved_on` date NULL, `resolution` varchar(500) NULL, `synthetic` tinyint NOT NULL DEFAULT 0, INDEX `idx_factor_issue_open` (`resolved_on`, `raised_on`), INDEX `idx_factor_issue_project` (`project_id`, `resolved_on`), PRIMARY KEY (`id`)) ENGINE=InnoDB",
  "ALTER TABLE `factor_issue` ADD CONSTRAINT `fk_factor_issue_project` FOREIGN KEY (`project_id`) REFERENCES `project`(`id`) ON DELETE CASCADE ON UPDATE NO ACTION",
];

const MYSQL_DOWN = ["ALTER TABLE `factor_issue` DROP FOREIGN KEY `fk_factor_issue_project`", "DROP TABLE `factor_issue`"];

const SQLITE_UP = [
  `CREATE TABLE "factor_issue" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "project_id" integer NOT NULL, "kind" varchar(16) NOT NULL, "department" varchar(100) NOT NULL, "description" varchar(1000) NOT NULL, "raised_on" date NOT NULL, "resolved_on" date, "resolution" varchar(500), "synthetic" boolean NOT NULL DEFAULT (0), CONSTRAINT "fk_factor_issue_project" FOREIGN KEY ("project_id") REFERENCES "project" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
  `CREATE INDEX "idx_factor_issue_open" ON "factor_issue" ("resolved_on", "raised_on") `,
  `CREATE INDEX "idx_factor_issue_project" ON "factor_issue" ("project_id", "resolved_on") `,
];

const SQLITE_DOWN = [`DROP INDEX "idx_factor_issue_project"`, `DROP INDEX "idx_factor_issue_open"`, `DROP TABLE "factor_issue"`];
