import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The first schema: regions, sectors, meetings, venues, projects, milestones,
 * with the indexes the read API needs. One statement list per database kind
 * (the MySQL one as `typeorm migration:generate` wrote it); both produce the
 * schema the entities describe, which `test/integration/schema.test.ts` checks.
 */
export class Initial1795677011420 implements MigrationInterface {
  name = "Initial1795677011420";

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
  `CREATE TABLE \`region\` (\`id\` int NOT NULL AUTO_INCREMENT, \`code\` varchar(12) NOT NULL, \`name\` varchar(64) NOT NULL, \`level\` varchar(16) NOT NULL, \`parent_id\` int NULL, INDEX \`idx_region_parent\` (\`parent_id\`), UNIQUE INDEX \`uq_region_code\` (\`code\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`,
  `CREATE TABLE \`meeting\` (\`id\` int NOT NULL AUTO_INCREMENT, \`title\` varchar(200) NOT NULL, \`held_on\` date NOT NULL, \`host_region_id\` int NOT NULL, INDEX \`idx_meeting_host\` (\`host_region_id\`, \`held_on\`), INDEX \`idx_meeting_held_on\` (\`held_on\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`,
  `CREATE TABLE \`venue\` (\`id\` int NOT NULL AUTO_INCREMENT, \`meeting_id\` int NOT NULL, \`region_id\` int NOT NULL, \`kind\` varchar(8) NOT NULL, INDEX \`idx_venue_region\` (\`region_id\`), UNIQUE INDEX \`uq_venue_meeting_region\` (\`meeting_id\`, \`region_id\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`,
  `CREATE TABLE \`sector\` (\`id\` int NOT NULL AUTO_INCREMENT, \`code\` varchar(32) NOT NULL, \`name\` varchar(64) NOT NULL, \`parent_id\` int NULL, INDEX \`idx_sector_parent\` (\`parent_id\`), UNIQUE INDEX \`uq_sector_code\` (\`code\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`,
  `CREATE TABLE \`project\` (\`id\` int NOT NULL AUTO_INCREMENT, \`ref\` varchar(64) NULL, \`name\` varchar(200) NOT NULL, \`region_id\` int NOT NULL, \`sector_id\` int NOT NULL, \`stage\` smallint NOT NULL, \`stage_reached_on\` date NOT NULL, \`investment_wan\` bigint NOT NULL, \`investor\` varchar(200) NULL, \`synthetic\` tinyint NOT NULL DEFAULT 0, \`version\` int NOT NULL DEFAULT '1', INDEX \`idx_project_name\` (\`name\`), INDEX \`idx_project_investment\` (\`investment_wan\`), INDEX \`idx_project_stage\` (\`stage\`, \`stage_reached_on\`), INDEX \`idx_project_sector\` (\`sector_id\`), INDEX \`idx_project_region_sector_stage\` (\`region_id\`, \`sector_id\`, \`stage\`), UNIQUE INDEX \`uq_project_ref\` (\`ref\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`,
  `CREATE TABLE \`milestone\` (\`id\` int NOT NULL AUTO_INCREMENT, \`project_id\` int NOT NULL, \`stage\` smallint NOT NULL, \`reached_on\` date NOT NULL, \`meeting_id\` int NULL, \`venue_region_id\` int NULL, INDEX \`idx_milestone_stage_date\` (\`stage\`, \`reached_on\`), INDEX \`idx_milestone_meeting\` (\`meeting_id\`, \`stage\`, \`venue_region_id\`), UNIQUE INDEX \`uq_milestone_project_stage\` (\`project_id\`, \`stage\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`,
  `ALTER TABLE \`region\` ADD CONSTRAINT \`fk_region_parent\` FOREIGN KEY (\`parent_id\`) REFERENCES \`region\`(\`id\`) ON DELETE RESTRICT ON UPDATE NO ACTION`,
  `ALTER TABLE \`meeting\` ADD CONSTRAINT \`fk_meeting_host_region\` FOREIGN KEY (\`host_region_id\`) REFERENCES \`region\`(\`id\`) ON DELETE RESTRICT ON UPDATE NO ACTION`,
  `ALTER TABLE \`venue\` ADD CONSTRAINT \`fk_venue_meeting\` FOREIGN KEY (\`meeting_id\`) REFERENCES \`meeting\`(\`id\`) ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE \`venue\` ADD CONSTRAINT \`fk_venue_region\` FOREIGN KEY (\`region_id\`) REFERENCES \`region\`(\`id\`) ON DELETE RESTRICT ON UPDATE NO ACTION`,
  `ALTER TABLE \`sector\` ADD CONSTRAINT \`fk_sector_parent\` FOREIGN KEY (\`parent_id\`) REFERENCES \`sector\`(\`id\`) ON DELETE RESTRICT ON UPDATE NO ACTION`,
  `ALTER TABLE \`project\` ADD CONSTRAINT \`fk_project_region\` FOREIGN KEY (\`region_id\`) REFERENCES \`region\`(\`id\`) ON DELETE RESTRICT ON UPDATE NO ACTION`,
  `ALTER TABLE \`project\` ADD CONSTRAINT \`fk_project_sector\` FOREIGN KEY (\`sector_id\`) REFERENCES \`sector\`(\`id\`) ON DELETE RESTRICT ON UPDATE NO ACTION`,
  `ALTER TABLE \`milestone\` ADD CONSTRAINT \`fk_milestone_project\` FOREIGN KEY (\`project_id\`) REFERENCES \`project\`(\`id\`) ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE \`milestone\` ADD CONSTRAINT \`fk_milestone_meeting\` FOREIGN KEY (\`meeting_id\`) REFERENCES \`meeting\`(\`id\`) ON DELETE RESTRICT ON UPDATE NO ACTION`,
  `ALTER TABLE \`milestone\` ADD CONSTRAINT \`fk_milestone_venue_region\` FOREIGN KEY (\`venue_region_id\`) REFERENCES \`region\`(\`id\`) ON DELETE RESTRICT ON UPDATE NO ACTION`,
];

const MYSQL_DOWN = [
  `ALTER TABLE \`milestone\` DROP FOREIGN KEY \`fk_milestone_venue_region\``,
  `ALTER TABLE \`milestone\` DROP FOREIGN KEY \`fk_milestone_meeting\``,
  `ALTER TABLE \`milestone\` DROP FOREIGN KEY \`fk_milestone_project\``,
  `ALTER TABLE \`project\` DROP FOREIGN KEY \`fk_project_sector\``,
  `ALTER TABLE \`project\` DROP FOREIGN KEY \`fk_project_region\``,
  `ALTER TABLE \`sector\` DROP FOREIGN KEY \`fk_sector_parent\``,
  `ALTER TABLE \`venue\` DROP FOREIGN KEY \`fk_venue_region\``,
  `ALTER TABLE \`venue\` DROP FOREIGN KEY \`fk_venue_meeting\``,
  `ALTER TABLE \`meeting\` DROP FOREIGN KEY \`fk_meeting_host_region\``,
  `ALTER TABLE \`region\` DROP FOREIGN KEY \`fk_region_parent\``,
  `DROP INDEX \`uq_milestone_project_stage\` ON \`milestone\``,
  `DROP INDEX \`idx_milestone_meeting\` ON \`milestone\``,
  `DROP INDEX \`idx_milestone_stage_date\` ON \`milestone\``,
  `DROP TABLE \`milestone\``,
  `DROP INDEX \`uq_project_ref\` ON \`project\``,
  `DROP INDEX \`idx_project_region_sector_stage\` ON \`project\``,
  `DROP INDEX \`idx_project_sector\` ON \`project\``,
  `DROP INDEX \`idx_project_stage\` ON \`project\``,
  `DROP INDEX \`idx_project_investment\` ON \`project\``,
  `DROP INDEX \`idx_project_name\` ON \`project\``,
  `DROP TABLE \`project\``,
  `DROP INDEX \`uq_sector_code\` ON \`sector\``,
  `DROP INDEX \`idx_sector_parent\` ON \`sector\``,
  `DROP TABLE \`sector\``,
  `DROP INDEX \`uq_venue_meeting_region\` ON \`venue\``,
  `DROP INDEX \`idx_venue_region\` ON \`venue\``,
  `DROP TABLE \`venue\``,
  `DROP INDEX \`idx_meeting_held_on\` ON \`meeting\``,
  `DROP INDEX \`idx_meeting_host\` ON \`meeting\``,
  `DROP TABLE \`meeting\``,
  `DROP INDEX \`uq_region_code\` ON \`region\``,
  `DROP INDEX \`idx_region_parent\` ON \`region\``,
  `DROP TABLE \`region\``,
];

const SQLITE_UP = [
  `CREATE TABLE "region" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "code" varchar(12) NOT NULL, "name" varchar(64) NOT NULL, "level" varchar(16) NOT NULL, "parent_id" integer, CONSTRAINT "fk_region_parent" FOREIGN KEY ("parent_id") REFERENCES "region" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
  `CREATE INDEX "idx_region_parent" ON "region" ("parent_id")`,
  `CREATE UNIQUE INDEX "uq_region_code" ON "region" ("code")`,
  `CREATE TABLE "sector" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "code" varchar(32) NOT NULL, "name" varchar(64) NOT NULL, "parent_id" integer, CONSTRAINT "fk_sector_parent" FOREIGN KEY ("parent_id") REFERENCES "sector" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
  `CREATE INDEX "idx_sector_parent" ON "sector" ("parent_id")`,
  `CREATE UNIQUE INDEX "uq_sector_code" ON "sector" ("code")`,
  `CREATE TABLE "meeting" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "title" varchar(200) NOT NULL, "held_on" date NOT NULL, "host_region_id" integer NOT NULL, CONSTRAINT "fk_meeting_host_region" FOREIGN KEY ("host_region_id") REFERENCES "region" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
  `CREATE INDEX "idx_meeting_host" ON "meeting" ("host_region_id", "held_on")`,
  `CREATE INDEX "idx_meeting_held_on" ON "meeting" ("held_on")`,
  `CREATE TABLE "venue" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "meeting_id" integer NOT NULL, "region_id" integer NOT NULL, "kind" varchar(8) NOT NULL, CONSTRAINT "fk_venue_meeting" FOREIGN KEY ("meeting_id") REFERENCES "meeting" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, CONSTRAINT "fk_venue_region" FOREIGN KEY ("region_id") REFERENCES "region" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
  `CREATE INDEX "idx_venue_region" ON "venue" ("region_id")`,
  `CREATE UNIQUE INDEX "uq_venue_meeting_region" ON "venue" ("meeting_id", "region_id")`,
  `CREATE TABLE "project" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "ref" varchar(64), "name" varchar(200) NOT NULL, "region_id" integer NOT NULL, "sector_id" integer NOT NULL, "stage" smallint NOT NULL, "stage_reached_on" date NOT NULL, "investment_wan" bigint NOT NULL, "investor" varchar(200), "synthetic" boolean NOT NULL DEFAULT (0), "version" integer NOT NULL DEFAULT (1), CONSTRAINT "fk_project_region" FOREIGN KEY ("region_id") REFERENCES "region" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION, CONSTRAINT "fk_project_sector" FOREIGN KEY ("sector_id") REFERENCES "sector" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
  `CREATE INDEX "idx_project_name" ON "project" ("name")`,
  `CREATE INDEX "idx_project_investment" ON "project" ("investment_wan")`,
  `CREATE INDEX "idx_project_stage" ON "project" ("stage", "stage_reached_on")`,
  `CREATE INDEX "idx_project_sector" ON "project" ("sector_id")`,
  `CREATE INDEX "idx_project_region_sector_stage" ON "project" ("region_id", "sector_id", "stage")`,
  `CREATE UNIQUE INDEX "uq_project_ref" ON "project" ("ref")`,
  `CREATE TABLE "milestone" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "project_id" integer NOT NULL, "stage" smallint NOT NULL, "reached_on" date NOT NULL, "meeting_id" integer, "venue_region_id" integer, CONSTRAINT "fk_milestone_project" FOREIGN KEY ("project_id") REFERENCES "project" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, CONSTRAINT "fk_milestone_meeting" FOREIGN KEY ("meeting_id") REFERENCES "meeting" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION, CONSTRAINT "fk_milestone_venue_region" FOREIGN KEY ("venue_region_id") REFERENCES "region" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
  `CREATE INDEX "idx_milestone_stage_date" ON "milestone" ("stage", "reached_on")`,
  `CREATE INDEX "idx_milestone_meeting" ON "milestone" ("meeting_id", "stage", "venue_region_id")`,
  `CREATE UNIQUE INDEX "uq_milestone_project_stage" ON "milestone" ("project_id", "stage")`,
];

const SQLITE_DOWN = [
  `DROP TABLE "milestone"`,
  `DROP TABLE "project"`,
  `DROP TABLE "venue"`,
  `DROP TABLE "meeting"`,
  `DROP TABLE "sector"`,
  `DROP TABLE "region"`,
];
