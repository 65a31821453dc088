import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Covering indexes for the assessment's "what the subtrees reached" statement (src/assessment/assessment.loader.ts
 * `readReached`: milestones of a period joined to their projects, restricted to a province's regions, grouped by the
 * project's region and the stage). MariaDB drives it from the projects of the regions and then each project's
 * milestones; without these it reads every such project's row (for `investment_wan`) and every milestone's row (for
 * `reached_on`), scattered pages that a buffer pool smaller than the data set reads from disk. At 1,000,000 projects
 * (bench/README.md "Results: assessment reads", ANALYZE on Henan's 18 cities for 2022, 14,042 projects): 2,122 ms
 * without, 64 ms with both (no page read). No stored row changes; the entities declare the same indexes, so
 * `test/integration/database.test.ts` sees no drift.
 */
export class AssessmentIndexes1795700000900 implements MigrationInterface {
  name = "AssessmentIndexes1795700000900";

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
  "CREATE INDEX `idx_project_region_investment` ON `project` (`region_id`, `investment_wan`)",
  "CREATE INDEX `idx_milestone_project_stage_date` ON `milestone` (`project_id`, `stage`, `reached_on`)",
];

const MYSQL_DOWN = ["DROP INDEX `idx_milestone_project_stage_date` ON `milestone`", "DROP INDEX `idx_project_region_investment` ON `project`"];

const SQLITE_UP = [
  `CREATE INDEX "idx_project_region_investment" ON "project" ("region_id", "investment_wan") `,
  `CREATE INDEX "idx_milestone_project_stage_date" ON "milestone" ("project_id", "stage", "reached_on") `,
];

const SQLITE_DOWN = [`DROP INDEX "idx_milestone_project_stage_date"`, `DROP INDEX "idx_project_region_investment"`];
