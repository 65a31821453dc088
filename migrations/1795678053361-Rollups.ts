import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Rollups (region × sector × stage; meeting × region × sector × stage;
 * meeting × batch stage × venue × region × sector × stage) and the data
 * version every write bumps. Filled from the base tables here, so a database
 * that already holds projects is consistent from this migration on.
 */
export class Rollups1795678053361 implements MigrationInterface {
  name = "Rollups1795678053361";

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of isMysql(queryRunner) ? MYSQL_UP : SQLITE_UP) await queryRunner.query(sql);
    for (const sql of FILL) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of isMysql(queryRunner) ? MYSQL_DOWN : SQLITE_DOWN) await queryRunner.query(sql);
  }
}

function isMysql(queryRunner: QueryRunner): boolean {
  return queryRunner.connection.options.type === "mysql" || queryRunner.connection.options.type === "mariadb";
}

/** The same statements as `rebuildRollups` (src/stats/rollups.ts) at the time of writing, plus the version row. */
const FILL = [
  "INSERT INTO rollup_region (region_id, sector_id, stage, project_count, investment_wan) SELECT region_id, sector_id, stage, COUNT(*), SUM(investment_wan) FROM project GROUP BY region_id, sector_id, stage",
  "INSERT INTO rollup_meeting (meeting_id, region_id, sector_id, stage, project_count, investment_wan) SELECT m.meeting_id, p.region_id, p.sector_id, p.stage, COUNT(*), SUM(p.investment_wan) FROM (SELECT DISTINCT meeting_id, project_id FROM milestone WHERE meeting_id IS NOT NULL) m JOIN project p ON p.id = m.project_id GROUP BY m.meeting_id, p.region_id, p.sector_id, p.stage",
  "INSERT INTO rollup_batch (meeting_id, batch_stage, venue_region_id, region_id, sector_id, stage, project_count, investment_wan) SELECT m.meeting_id, m.stage, COALESCE(m.venue_region_id, 0), p.region_id, p.sector_id, p.stage, COUNT(*), SUM(p.investment_wan) FROM milestone m JOIN project p ON p.id = m.project_id WHERE m.meeting_id IS NOT NULL GROUP BY m.meeting_id, m.stage, COALESCE(m.venue_region_id, 0), p.region_id, p.sector_id, p.stage",
  "INSERT INTO data_version (id, version) VALUES (1, 1)",
];

const MYSQL_UP = [
  `CREATE TABLE \`rollup_region\` (\`region_id\` int NOT NULL, \`sector_id\` int NOT NULL, \`stage\` smallint NOT NULL, \`project_count\` int NOT NULL, \`investment_wan\` bigint NOT NULL, INDEX \`idx_rollup_region_sector\` (\`sector_id\`, \`stage\`), PRIMARY KEY (\`region_id\`, \`sector_id\`, \`stage\`)) ENGINE=InnoDB`,
  `CREATE TABLE \`rollup_meeting\` (\`meeting_id\` int NOT NULL, \`region_id\` int NOT NULL, \`sector_id\` int NOT NULL, \`stage\` smallint NOT NULL, \`project_count\` int NOT NULL, \`investment_wan\` bigint NOT NULL, PRIMARY KEY (\`meeting_id\`, \`region_id\`, \`sector_id\`, \`stage\`)) ENGINE=InnoDB`,
  `CREATE TABLE \`rollup_batch\` (\`meeting_id\` int NOT NULL, \`batch_stage\` smallint NOT NULL, \`venue_region_id\` int NOT NULL, \`region_id\` int NOT NULL, \`sector_id\` int NOT NULL, \`stage\` smallint NOT NULL, \`project_count\` int NOT NULL, \`investment_wan\` bigint NOT NULL, PRIMARY KEY (\`meeting_id\`, \`batch_stage\`, \`venue_region_id\`, \`region_id\`, \`sector_id\`, \`stage\`)) ENGINE=InnoDB`,
  `CREATE TABLE \`data_version\` (\`id\` int NOT NULL, \`version\` bigint NOT NULL, PRIMARY KEY (\`id\`)) ENGINE=InnoDB`,
];

const MYSQL_DOWN = [
  `DROP TABLE \`data_version\``,
  `DROP TABLE \`rollup_batch\``,
  `DROP TABLE \`rollup_meeting\``,
  `DROP INDEX \`idx_rollup_region_sector\` ON \`rollup_region\``,
  `DROP TABLE \`rollup_region\``,
];

const SQLITE_UP = [
  `CREATE TABLE "rollup_region" ("region_id" integer NOT NULL, "sector_id" integer NOT NULL, "stage" smallint NOT NULL, "project_count" integer NOT NULL, "investment_wan" bigint NOT NULL, PRIMARY KEY ("region_id", "sector_id", "stage"))`,
  `CREATE INDEX "idx_rollup_region_sector" ON "rollup_region" ("sector_id", "stage")`,
  `CREATE TABLE "rollup_meeting" ("meeting_id" integer NOT NULL, "region_id" integer NOT NULL, "sector_id" integer NOT NULL, "stage" smallint NOT NULL, "project_count" integer NOT NULL, "investment_wan" bigint NOT NULL, PRIMARY KEY ("meeting_id", "region_id", "sector_id", "stage"))`,
  `CREATE TABLE "rollup_batch" ("meeting_id" integer NOT NULL, "batch_stage" smallint NOT NULL, "venue_region_id" integer NOT NULL, "region_id" integer NOT NULL, "sector_id" integer NOT NULL, "stage" smallint NOT NULL, "project_count" integer NOT NULL, "investment_wan" bigint NOT NULL, PRIMARY KEY ("meeting_id", "batch_stage", "venue_region_id", "region_id", "sector_id", "stage"))`,
  `CREATE TABLE "data_version" ("id" integer PRIMARY KEY NOT NULL, "version" bigint NOT NULL)`,
];

const SQLITE_DOWN = [
  `DROP TABLE "data_version"`,
  `DROP TABLE "rollup_batch"`,
  `DROP TABLE "rollup_meeting"`,
  `DROP INDEX "idx_rollup_region_sector"`,
  `DROP TABLE "rollup_region"`,
];
