/**
 * The cross-request cache: a repeated query costs no SQL while the data
 * version stands, and a write anywhere (here: by "another instance", straight
 * in the database) is seen once the version is read again.
 */
import { ProjectStage } from "../../src/common/stage";
import { SYSTEM_ACTOR } from "../../src/ledger/actor";
import { AdvanceStageInput, UpdateProjectInput } from "../../src/ledger/ledger.inputs";
import { Problems } from "../../src/ledger/problems";
import { systemLedger } from "../../src/ledger/system-ledger";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";

const QUERY = `{ region(code: "410000") { stats { projectCount totalInvestment(unit: WAN_YUAN) byStage { stage projectCount } }
  children { code stats { projectCount bySector { sector { code } projectCount } } children { code stats { projectCount } } } } }`;

describe.each(DB_KINDS)("aggregate cache on %s", (kind) => {
  describe("with the version trusted for an hour", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(kind, { DATA_VERSION_TTL_MS: "3600000" });
    });
    afterAll(async () => server?.close());

    it("answers a repeated province-to-county query with no SQL at all", async () => {
      const first = await server.gql(QUERY);
      const second = await server.gql(QUERY);
      expect(first.errors).toBeUndefined();
      expect(first.sqlStatements).toBeGreaterThan(0);
      expect(first.sqlStatements).toBeLessThanOrEqual(3);
      expect(second.sqlStatements).toBe(0);
      expect(second.data).toEqual(first.data);
    });
  });

  describe("with the version read on every request", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(kind, { DATA_VERSION_TTL_MS: "0" });
    });
    afterAll(async () => server?.close());

    it("costs one statement (the version) while nothing changes, and sees another instance's write at once", async () => {
      const before = await server.gql(QUERY);
      const repeat = await server.gql(QUERY);
      expect(repeat.sqlStatements).toBe(1);
      expect(repeat.data).toEqual(before.data);

      // Another instance's write: a project moves on, rollups follow, the version is bumped, all in one transaction.
      const [{ id }] = await server.db.query("SELECT p.id FROM project p JOIN region r ON r.id = p.region_id WHERE p.stage = 1 AND r.code LIKE '4101%' ORDER BY p.id LIMIT 1");
      await systemLedger(server.db).write(SYSTEM_ACTOR, async (tx) => {
        const [project] = await tx.read<{ version: number; investment_wan: number; stage_reached_on: string }>("SELECT version, investment_wan, stage_reached_on FROM project WHERE id = ?", [id]);
        const version = Number(project.version);
        await tx.updateProject(String(id), version, Object.assign(new UpdateProjectInput(), { investment: (Number(project.investment_wan) + 5) / 10_000 }), new Problems());
        await tx.advanceStage(Object.assign(new AdvanceStageInput(), { projectId: String(id), stage: ProjectStage.STARTED, reachedOn: "2021-12-01", expectedVersion: version + 1 }), new Problems());
      });

      const after = await server.gql(QUERY);
      expect(after.sqlStatements).toBeGreaterThan(1);
      const stages = (d: any) => Object.fromEntries(d.region.stats.byStage.map((r: any) => [r.stage, r.projectCount]));
      expect(stages(after.data).SIGNED).toBe(stages(before.data).SIGNED - 1);
      expect(stages(after.data).STARTED).toBe(stages(before.data).STARTED + 1);
      expect(after.data.region.stats.totalInvestment).toBe(before.data.region.stats.totalInvestment + 5);
    });
  });
});
