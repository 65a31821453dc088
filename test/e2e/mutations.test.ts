/**
 * The ledger's mutations over HTTP: every input rule, with all of one
 * input's problems reported together; the major-project meeting's 5 亿元
 * floor; optimistic versions; read-your-writes with the data version trusted
 * for a minute; and the history (Project.history, Region.changes) each write
 * appends. Writes carry a bearer token made with createToken; who may write
 * where is auth.test.ts.
 */
import { createToken } from "../../src/auth/tokens";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";
import { ADVANCE, CORRECT, CREATE, CREATE_MEETING, problemsOf, RECORD, send, UPDATE, writes } from "../support/writes";

const HISTORY = `query History($id: ID!) {
  project(id: $id) { history { nodes { id office operation projectVersion reason fields { field from to } project { id } meeting { id } region { code } } } }
}`;
const CHANGES = `query Changes($code: ID!, $first: Int, $after: String, $since: Date) {
  region(code: $code) {
    changes(first: $first, after: $after, since: $since) {
      edges { cursor node { id office operation project { id } meeting { id } region { code } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}`;
const TOTALS = `query Totals($code: ID!) { region(code: $code) { stats { projectCount wan: totalInvestment(unit: WAN_YUAN) byStage { stage projectCount } } } }`;

/** A UTC day `offset` days from today, as the ledger's date rule counts them. */
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);


describe.each(DB_KINDS)("ledger mutations on %s", (kind) => {
  let server: TestServer;
  /** The province's token: may write anywhere in 河南. */
  let province: string;

  beforeAll(async () => {
    // The data version trusted for a minute: a write must still show in the next read of this instance.
    server = await startTestServer(kind, { DATA_VERSION_TTL_MS: "60000" });
    province = (await createToken(server.db, { regionCode: "410000", name: "河南省发展和改革委员会" })).token;
  });
  afterAll(async () => server?.close());

  const { as, uniqueName, projectInput, newProject, newMeeting, readProject, countNamed } = writes(() => server, kind, () => province);



  /** The shipped 2021-07-10 meeting (a major-project meeting hosted by the province). */
  async function shippedMeetingId(): Promise<string> {
    const reply = await as(null, `{ meetings(from: "2021-07-10", to: "2021-07-10") { id hostRegion { code } } }`);
    expect(reply.data.meetings).toEqual([{ id: expect.any(String), hostRegion: { code: "410000" } }]);
    return reply.data.meetings[0].id;
  }

  describe("input checks", () => {
    it("reports every problem of one input together, each with its field path and reason, and writes nothing", async () => {
      const name = uniqueName("坏输入");
      const reply = await as(province, CREATE, {
        input: { name: `${name}\u0007`, regionCode: "410100", sectorCode: "NO_SUCH", investment: 0.00001, reachedOn: "1948-12-31" },
      });
      const problems = problemsOf(reply);
      expect(problems).toEqual(
        expect.arrayContaining([
          { field: "input.name", reason: expect.stringMatching(/control characters/) },
          { field: "input.regionCode", reason: expect.stringMatching(/410100.*regions below it/) },
          { field: "input.sectorCode", reason: expect.stringMatching(/no sector "NO_SUCH"/) },
          { field: "input.investment", reason: expect.stringMatching(/exact to 0\.0001/) },
          { field: "input.reachedOn", reason: expect.stringMatching(/1949-01-01/) },
        ]),
      );
      expect(problems).toHaveLength(5);
      expect(reply.errors![0].extensions).toMatchObject({ field: "input.name", reason: expect.any(String) });
      expect(await countNamed(name)).toBe(0);
    });

    it("spells every problem of the input out in the error message as well", async () => {
      const reply = await as(province, CREATE, { input: projectInput({ regionCode: "419999", sectorCode: "NO_SUCH", reachedOn: "1900-01-01" }) });
      const problems = problemsOf(reply);
      expect(problems).toHaveLength(3);
      for (const { field, reason } of problems) expect(reply.errors![0].message).toContain(`${field}: ${reason}`);
    });

    it("reports a date that is no calendar day as BAD_USER_INPUT naming input.reachedOn", async () => {
      const reply = await as(province, CREATE, { input: projectInput({ reachedOn: "2023-02-29" }) });
      expect(reply.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
      expect(reply.errors![0].message).toMatch(/input\.reachedOn.*calendar date/);
    });

    it("reports a date that is no calendar day together with the input's other problems", async () => {
      const reply = await as(province, CREATE, { input: projectInput({ name: "  ", reachedOn: "2023-02-29" }) });
      expect(problemsOf(reply).map((p) => p.field).sort()).toEqual(["input.name", "input.reachedOn"]);
    });

    it("stores a name trimmed, and accepts 200 characters once trimmed", async () => {
      const name = `${"重".repeat(190)}${String(Date.now()).slice(-10)}`;
      const project = await newProject({ name: `  ${name}\u3000 ` });
      expect(project.name).toBe(name);
      expect(name).toHaveLength(200);
    });

    it("refuses a name of 201 characters", async () => {
      const reply = await as(province, CREATE, { input: projectInput({ name: "名".repeat(201) }) });
      expect(problemsOf(reply)).toEqual([{ field: "input.name", reason: expect.stringMatching(/1 to 200 characters.*201/) }]);
    });

    it("counts a name's characters, not its UTF-16 code units: 200 × 𠮷 is 200 characters", async () => {
      const name = `${"𠮷".repeat(195)}${String(Date.now()).slice(-5)}`;
      const reply = await as(province, CREATE, { input: projectInput({ name }) });
      expect(reply.errors).toBeUndefined();
      expect(reply.data.createProject.name).toBe(name);
    });

    it("refuses a name that is blank after trimming", async () => {
      const reply = await as(province, CREATE, { input: projectInput({ name: " \u3000 " }) });
      expect(problemsOf(reply)).toEqual([{ field: "input.name", reason: expect.stringMatching(/1 to 200 characters.*got 0/) }]);
    });

    it.each([
      ["a line break", "甲项目\n乙"],
      ["a tab", "甲项目\t乙"],
      ["a NUL", "甲项目\u0000乙"],
    ])("refuses a name with a control character (%s)", async (_label, name) => {
      const reply = await as(province, CREATE, { input: projectInput({ name }) });
      expect(problemsOf(reply)).toEqual([{ field: "input.name", reason: expect.stringMatching(/control characters/) }]);
    });

    it("refuses control characters in a new name given to updateProject", async () => {
      const project = await newProject();
      const reply = await as(province, UPDATE, { id: project.id, v: 1, input: { name: "改名\r\n" } });
      expect(problemsOf(reply)).toEqual([{ field: "input.name", reason: expect.stringMatching(/control characters/) }]);
      expect((await readProject(project.id)).name).toBe(project.name);
    });

    it.each([
      ["an unknown code", "419999", /no region "419999"/],
      ["a city that has counties (郑州市)", "410100", /郑州市 \(410100\) has regions below it/],
      ["the province", "410000", /has regions below it/],
      ["something not a region code", "4101", /six-digit region code/],
    ])("refuses as a project's region %s", async (_label, regionCode, reason) => {
      const reply = await as(province, CREATE, { input: projectInput({ regionCode }) });
      expect(problemsOf(reply)).toEqual([{ field: "input.regionCode", reason: expect.stringMatching(reason) }]);
    });

    it("places a project in a city that has no counties (济源 419001)", async () => {
      const project = await newProject({ regionCode: "419001" });
      expect(project.region).toEqual({ code: "419001" });
    });

    it("refuses moving a project to a city that has counties", async () => {
      const project = await newProject();
      const reply = await as(province, UPDATE, { id: project.id, v: 1, input: { regionCode: "410300" } });
      expect(problemsOf(reply)).toEqual([{ field: "input.regionCode", reason: expect.stringMatching(/410300.*regions below it/) }]);
      expect((await readProject(project.id)).region).toEqual({ code: "410102" });
    });

    it("refuses an unknown sector code", async () => {
      const reply = await as(province, CREATE, { input: projectInput({ sectorCode: "MFGX" }) });
      expect(problemsOf(reply)).toEqual([{ field: "input.sectorCode", reason: 'no sector "MFGX"' }]);
    });

    it("takes an explicit null stage as the default, SIGNED (the contract's `stage: ProjectStage = SIGNED`)", async () => {
      const project = await newProject({ stage: null });
      expect(project.stage).toBe("SIGNED");
    });

    it("accepts a sub-sector code", async () => {
      const project = await newProject({ sectorCode: "SEI_BIO" });
      expect(project.sector).toEqual({ code: "SEI_BIO" });
    });

    it.each([
      [0, /positive/],
      [-3, /positive/],
      [0.00001, /exact to 0\.0001/],
      [1.23456, /exact to 0\.0001/],
      [10_000.0001, /at most 10000/],
      [1e308, /at most 10000/],
    ])("refuses an investment of %p 亿元", async (investment, reason) => {
      const reply = await as(province, CREATE, { input: projectInput({ investment }) });
      expect(problemsOf(reply)).toEqual([{ field: "input.investment", reason: expect.stringMatching(reason) }]);
    });

    it.each([
      [0.0001, 1],
      [1.2345, 12_345],
      [10_000, 100_000_000],
    ])("stores an investment of %p 亿元 exactly (%p 万元)", async (investment, wan) => {
      const project = await newProject({ investment });
      expect([project.investment, project.wan]).toEqual([investment, wan]);
    });

    it("refuses a new investment of 0 in updateProject", async () => {
      const project = await newProject();
      const reply = await as(province, UPDATE, { id: project.id, v: 1, input: { investment: 0 } });
      expect(problemsOf(reply)).toEqual([{ field: "input.investment", reason: expect.stringMatching(/positive/) }]);
    });

    it("refuses a date before 1949-01-01 and accepts 1949-01-01", async () => {
      const refused = await as(province, CREATE, { input: projectInput({ reachedOn: "1948-12-31" }) });
      expect(problemsOf(refused)).toEqual([{ field: "input.reachedOn", reason: expect.stringMatching(/not be before 1949-01-01/) }]);
      const accepted = await newProject({ reachedOn: "1949-01-01" });
      expect(accepted.milestones).toEqual([{ stage: "SIGNED", reachedOn: "1949-01-01", meeting: null, venue: null }]);
    });

    it("accepts a date 31 days ahead (LEDGER_FUTURE_DAYS' default)", async () => {
      const project = await newProject({ reachedOn: day(31) });
      expect(project.milestones[0].reachedOn).toBe(day(31));
    });

    it("refuses a date 32 days ahead (LEDGER_FUTURE_DAYS' default)", async () => {
      const reply = await as(province, CREATE, { input: projectInput({ reachedOn: day(32) }) });
      expect(problemsOf(reply)).toEqual([{ field: "input.reachedOn", reason: expect.stringMatching(/31 days from today/) }]);
    });

    it("refuses a meeting held more than 31 days ahead", async () => {
      const reply = await as(province, CREATE_MEETING, { input: { title: uniqueName("会"), heldOn: day(32), hostRegionCode: "410000" } });
      expect(problemsOf(reply)).toEqual([{ field: "input.heldOn", reason: expect.stringMatching(/31 days from today/) }]);
    });

    it("refuses a blank meeting title and a meeting before 1949 together", async () => {
      const reply = await as(province, CREATE_MEETING, { input: { title: "   ", heldOn: "1948-10-01", hostRegionCode: "410000" } });
      expect(problemsOf(reply).map((p) => p.field).sort()).toEqual(["input.heldOn", "input.title"]);
    });
  });

  describe("stages", () => {
    it("moves a project forward stage by stage, keeping every milestone", async () => {
      const project = await newProject({ reachedOn: "2024-01-10" });
      const started = await as(province, ADVANCE, { input: { projectId: project.id, stage: "STARTED", reachedOn: "2024-02-10", expectedVersion: 1 } });
      const done = await as(province, ADVANCE, { input: { projectId: project.id, stage: "IN_PRODUCTION", reachedOn: "2024-03-10", expectedVersion: 2 } });
      expect(started.errors).toBeUndefined();
      expect(done.data.advanceStage).toMatchObject({ stage: "IN_PRODUCTION", version: 3 });
      expect(done.data.advanceStage.milestones.map((m: any) => [m.stage, m.reachedOn])).toEqual([
        ["SIGNED", "2024-01-10"],
        ["STARTED", "2024-02-10"],
        ["IN_PRODUCTION", "2024-03-10"],
      ]);
    });

    it("refuses advancing a project to the stage it is at", async () => {
      const project = await newProject({ stage: "STARTED" });
      const reply = await as(province, ADVANCE, { input: { projectId: project.id, stage: "STARTED", reachedOn: "2024-05-01", expectedVersion: 1 } });
      expect(problemsOf(reply)).toEqual([{ field: "input.stage", reason: expect.stringMatching(/later than the current stage STARTED/) }]);
    });

    it("refuses moving a project back to an earlier stage", async () => {
      const project = await newProject({ stage: "IN_PRODUCTION" });
      const reply = await as(province, ADVANCE, { input: { projectId: project.id, stage: "STARTED", reachedOn: "2024-05-01", expectedVersion: 1 } });
      expect(problemsOf(reply)).toEqual([{ field: "input.stage", reason: expect.stringMatching(/only moves forward/) }]);
      expect((await readProject(project.id)).stage).toBe("IN_PRODUCTION");
    });

    it("refuses a next stage dated before the current stage's date", async () => {
      const project = await newProject({ reachedOn: "2024-03-10" });
      const reply = await as(province, ADVANCE, { input: { projectId: project.id, stage: "STARTED", reachedOn: "2024-03-09", expectedVersion: 1 } });
      expect(problemsOf(reply)).toEqual([{ field: "input.reachedOn", reason: expect.stringMatching(/not be before 2024-03-10/) }]);
    });

    it("accepts a next stage on the same day as the current one", async () => {
      const project = await newProject({ reachedOn: "2024-03-10" });
      const reply = await as(province, ADVANCE, { input: { projectId: project.id, stage: "STARTED", reachedOn: "2024-03-10", expectedVersion: 1 } });
      expect(reply.data.advanceStage.stage).toBe("STARTED");
    });

    it("refuses correcting a milestone to a date before the previous milestone's", async () => {
      const project = await newProject({ reachedOn: "2024-03-10" });
      await as(province, ADVANCE, { input: { projectId: project.id, stage: "STARTED", reachedOn: "2024-04-10", expectedVersion: 1 } });
      const reply = await as(province, CORRECT, { input: { projectId: project.id, stage: "STARTED", reachedOn: "2024-03-09", reason: "录入错误", expectedVersion: 2 } });
      expect(problemsOf(reply)).toEqual([{ field: "input.reachedOn", reason: expect.stringMatching(/not be before 2024-03-10/) }]);
      expect((await readProject(project.id)).milestones[1].reachedOn).toBe("2024-04-10");
    });

    it("refuses correcting a milestone to a date after the next milestone's", async () => {
      const project = await newProject({ reachedOn: "2024-03-10" });
      await as(province, ADVANCE, { input: { projectId: project.id, stage: "STARTED", reachedOn: "2024-04-10", expectedVersion: 1 } });
      const reply = await as(province, CORRECT, { input: { projectId: project.id, stage: "SIGNED", reachedOn: "2024-04-11", reason: "录入错误", expectedVersion: 2 } });
      expect(problemsOf(reply)).toEqual([{ field: "input.reachedOn", reason: expect.stringMatching(/not be after 2024-04-10/) }]);
    });
  });

  describe("venues", () => {
    it("presents a milestone at the meeting's host region (the main venue)", async () => {
      const meeting = await newMeeting("410100", ["410102"]);
      const project = await newProject({ meetingId: meeting, venueRegionCode: "410100" });
      expect(project.milestones[0]).toMatchObject({ meeting: { id: meeting }, venue: { code: "410100" } });
    });

    it("presents a milestone at one of the meeting's sub-venues", async () => {
      const meeting = await newMeeting("410100", ["410102"]);
      const project = await newProject({ meetingId: meeting, venueRegionCode: "410102" });
      expect(project.milestones[0]).toMatchObject({ meeting: { id: meeting }, venue: { code: "410102" } });
    });

    it("refuses a venue in a region that holds no venue of the meeting", async () => {
      const meeting = await newMeeting("410100", ["410102"]);
      const reply = await as(province, CREATE, { input: projectInput({ meetingId: meeting, venueRegionCode: "410103" }) });
      expect(problemsOf(reply)).toEqual([{ field: "input.venueRegionCode", reason: expect.stringMatching(/410103.*holds no venue of meeting/) }]);
    });

    it("refuses a venue without a meeting", async () => {
      const reply = await as(province, CREATE, { input: projectInput({ venueRegionCode: "410100" }) });
      expect(problemsOf(reply)).toEqual([{ field: "input.venueRegionCode", reason: expect.stringMatching(/needs a meeting/) }]);
    });

    it("refuses a meeting that does not exist", async () => {
      const reply = await as(province, CREATE, { input: projectInput({ meetingId: "999999", venueRegionCode: "410100" }) });
      expect(problemsOf(reply)).toEqual([{ field: "input.meetingId", reason: 'no meeting "999999"' }]);
    });

    it("refuses advancing a stage at a region that holds no venue of the meeting", async () => {
      const meeting = await newMeeting("410100", ["410102"]);
      const project = await newProject();
      const reply = await as(province, ADVANCE, {
        input: { projectId: project.id, stage: "STARTED", reachedOn: "2024-06-30", meetingId: meeting, venueRegionCode: "410300", expectedVersion: 1 },
      });
      expect(problemsOf(reply)).toEqual([{ field: "input.venueRegionCode", reason: expect.stringMatching(/holds no venue/) }]);
      expect((await readProject(project.id)).stage).toBe("SIGNED");
    });

    it("refuses recording a milestone at a region that holds no venue of the meeting", async () => {
      const meeting = await newMeeting("410100", ["410102"]);
      const project = await newProject();
      const reply = await as(province, RECORD, { input: { projectId: project.id, stage: "SIGNED", meetingId: meeting, venueRegionCode: "410105", expectedVersion: 1 } });
      expect(problemsOf(reply)).toEqual([{ field: "input.venueRegionCode", reason: expect.stringMatching(/holds no venue/) }]);
      expect((await readProject(project.id)).milestones[0].meeting).toBeNull();
    });

    it("records a milestone already reached at a meeting's venue", async () => {
      const meeting = await newMeeting("410100", ["410102"]);
      const project = await newProject({ reachedOn: "2024-03-01" });
      const reply = await as(province, RECORD, { input: { projectId: project.id, stage: "SIGNED", meetingId: meeting, venueRegionCode: "410102", expectedVersion: 1 } });
      expect(reply.data.recordAtMeeting).toMatchObject({ version: 2, milestones: [{ stage: "SIGNED", reachedOn: "2024-03-01", meeting: { id: meeting }, venue: { code: "410102" } }] });
    });

    it("creates a meeting with its host as the main venue and sub-venues anywhere below it", async () => {
      const reply = await as(province, CREATE_MEETING, { input: { title: uniqueName("推进会"), heldOn: "2024-07-01", hostRegionCode: "410000", subVenueRegionCodes: ["410302", "410100"] } });
      expect(reply.data.createMeeting.venues).toEqual([
        { kind: "MAIN", region: { code: "410000" } },
        { kind: "SUB", region: { code: "410100" } },
        { kind: "SUB", region: { code: "410302" } },
      ]);
    });

    it("refuses a sub-venue that is not below the host", async () => {
      const reply = await as(province, CREATE_MEETING, { input: { title: uniqueName("会"), heldOn: "2024-07-01", hostRegionCode: "410100", subVenueRegionCodes: ["410102", "410302"] } });
      expect(problemsOf(reply)).toEqual([{ field: "input.subVenueRegionCodes[1]", reason: expect.stringMatching(/410302.*not below the host/) }]);
    });

    it("refuses the host as its own sub-venue", async () => {
      const reply = await as(province, CREATE_MEETING, { input: { title: uniqueName("会"), heldOn: "2024-07-01", hostRegionCode: "410100", subVenueRegionCodes: ["410100"] } });
      expect(problemsOf(reply)).toEqual([{ field: "input.subVenueRegionCodes[0]", reason: expect.stringMatching(/not below the host/) }]);
    });

    it("refuses a sub-venue listed twice", async () => {
      const reply = await as(province, CREATE_MEETING, { input: { title: uniqueName("会"), heldOn: "2024-07-01", hostRegionCode: "410100", subVenueRegionCodes: ["410102", "410102"] } });
      expect(problemsOf(reply)).toEqual([{ field: "input.subVenueRegionCodes[1]", reason: expect.stringMatching(/twice/) }]);
    });
  });

  describe("a major-project meeting's STARTED batch", () => {
    it("refuses a project of 4.9999 亿元 at the shipped 2021-07-10 meeting", async () => {
      const meeting = await shippedMeetingId();
      const name = uniqueName("小项目");
      const reply = await as(province, CREATE, { input: projectInput({ name, investment: 4.9999, stage: "STARTED", reachedOn: "2021-07-10", meetingId: meeting, venueRegionCode: "410100" }) });
      expect(problemsOf(reply)).toEqual([{ field: "input.investment", reason: expect.stringMatching(/at least 5 亿元.*4\.9999/) }]);
      expect(await countNamed(name)).toBe(0);
    });

    it("accepts a project of exactly 5 亿元 at the shipped 2021-07-10 meeting", async () => {
      const meeting = await shippedMeetingId();
      const project = await newProject({ investment: 5, stage: "STARTED", reachedOn: "2021-07-10", meetingId: meeting, venueRegionCode: "410100" });
      expect(project.milestones).toEqual([{ stage: "STARTED", reachedOn: "2021-07-10", meeting: { id: meeting }, venue: { code: "410100" } }]);
    });

    it("takes smaller projects in the same meeting's SIGNED batch", async () => {
      const meeting = await shippedMeetingId();
      const project = await newProject({ investment: 1, reachedOn: "2021-07-10", meetingId: meeting, venueRegionCode: "410100" });
      expect(project.milestones[0].meeting).toEqual({ id: meeting });
    });

    it("refuses advancing a project of 4.9999 亿元 to STARTED at the meeting", async () => {
      const meeting = await shippedMeetingId();
      const project = await newProject({ investment: 4.9999, reachedOn: "2021-03-01" });
      const reply = await as(province, ADVANCE, {
        input: { projectId: project.id, stage: "STARTED", reachedOn: "2021-07-10", meetingId: meeting, venueRegionCode: "410100", expectedVersion: 1 },
      });
      expect(problemsOf(reply)).toEqual([{ field: expect.stringMatching(/^input\./), reason: expect.stringMatching(/at least 5 亿元/) }]);
      expect((await readProject(project.id)).stage).toBe("SIGNED");
    });

    it("refuses recording the STARTED milestone of a project of 4.9999 亿元 at the meeting", async () => {
      const meeting = await shippedMeetingId();
      const project = await newProject({ investment: 4.9999, stage: "STARTED", reachedOn: "2021-07-01" });
      const reply = await as(province, RECORD, { input: { projectId: project.id, stage: "STARTED", meetingId: meeting, venueRegionCode: "410100", expectedVersion: 1 } });
      expect(problemsOf(reply)).toEqual([{ field: expect.stringMatching(/^input\./), reason: expect.stringMatching(/at least 5 亿元/) }]);
      expect((await readProject(project.id)).milestones[0].meeting).toBeNull();
    });

    it("refuses lowering below 5 亿元 the investment of a project started at the meeting", async () => {
      const meeting = await shippedMeetingId();
      const project = await newProject({ investment: 5, stage: "STARTED", reachedOn: "2021-07-10", meetingId: meeting, venueRegionCode: "410100" });
      const reply = await as(province, UPDATE, { id: project.id, v: 1, input: { investment: 4.9999 } });
      expect(problemsOf(reply)).toEqual([{ field: "input.investment", reason: expect.stringMatching(/at least 5 亿元/) }]);
      expect((await readProject(project.id)).investment).toBe(5);
    });

    it("applies to a meeting created with majorProjects: true", async () => {
      const meeting = await newMeeting("410100", [], true);
      const reply = await as(province, CREATE, { input: projectInput({ investment: 4.9999, stage: "STARTED", meetingId: meeting, venueRegionCode: "410100" }) });
      expect(problemsOf(reply)).toEqual([{ field: "input.investment", reason: expect.stringMatching(/at least 5 亿元/) }]);
    });

    it("does not apply to a meeting that is not a major-project meeting", async () => {
      const meeting = await newMeeting("410100");
      const project = await newProject({ investment: 1, stage: "STARTED", meetingId: meeting, venueRegionCode: "410100" });
      expect(project.milestones[0].meeting).toEqual({ id: meeting });
    });
  });

  describe("versions", () => {
    it("accepts a write at the current version and moves the version by one", async () => {
      const project = await newProject();
      const reply = await as(province, UPDATE, { id: project.id, v: 1, input: { name: uniqueName("新名") } });
      expect(reply.data.updateProject.version).toBe(2);
    });

    const stale: Array<[string, string, (id: string, meeting: string) => Record<string, unknown>]> = [
      ["updateProject", UPDATE, (id) => ({ id, v: 1, input: { investment: 9 } })],
      ["advanceStage", ADVANCE, (id) => ({ input: { projectId: id, stage: "STARTED", reachedOn: "2024-05-01", expectedVersion: 1 } })],
      ["recordAtMeeting", RECORD, (id, meeting) => ({ input: { projectId: id, stage: "SIGNED", meetingId: meeting, venueRegionCode: "410100", expectedVersion: 1 } })],
      ["correctMilestoneDate", CORRECT, (id) => ({ input: { projectId: id, stage: "SIGNED", reachedOn: "2024-03-02", reason: "日期有误", expectedVersion: 1 } })],
    ];
    it.each(stale)("refuses %s at a stale expectedVersion with CONFLICT and currentVersion, changing nothing", async (_name, mutation, variables) => {
      const meeting = await newMeeting("410100", ["410105"]);
      const project = await newProject({ regionCode: "410105" });
      await as(province, UPDATE, { id: project.id, v: 1, input: { investor: "另一投资方" } });
      const before = await readProject(project.id);
      expect(before.version).toBe(2);

      const reply = await as(province, mutation, variables(project.id, meeting));
      expect(reply.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", currentVersion: 2, expectedVersion: 1 });
      expect(await readProject(project.id)).toEqual(before);
    });
  });

  describe("read-your-writes with the data version trusted for a minute", () => {
    const totals = async (code: string) => (await as(null, TOTALS, { code })).data.region.stats;

    it("answers createProject with totals that already count the project", async () => {
      const before = await totals("410185");
      const reply = await as(province, `mutation($input: CreateProjectInput!) { createProject(input: $input) { region { stats { projectCount wan: totalInvestment(unit: WAN_YUAN) } } } }`, {
        input: projectInput({ regionCode: "410185", investment: 1.2345 }),
      });
      expect(reply.data.createProject.region.stats).toEqual({ projectCount: before.projectCount + 1, wan: before.wan + 12_345 });
    });

    it("counts a new project in the very next read of the region's and the city's totals", async () => {
      const [county, city] = [await totals("410184"), await totals("410100")];
      await newProject({ regionCode: "410184", investment: 2.5 });
      expect(await totals("410184")).toMatchObject({ projectCount: county.projectCount + 1, wan: county.wan + 25_000 });
      expect(await totals("410100")).toMatchObject({ projectCount: city.projectCount + 1, wan: city.wan + 25_000 });
    });

    it("moves a project's totals from one county to another in the very next read", async () => {
      const project = await newProject({ regionCode: "410182", investment: 3 });
      const [from, to] = [await totals("410182"), await totals("410183")];
      await as(province, UPDATE, { id: project.id, v: 1, input: { regionCode: "410183" } });
      expect(await totals("410182")).toMatchObject({ projectCount: from.projectCount - 1, wan: from.wan - 30_000 });
      expect(await totals("410183")).toMatchObject({ projectCount: to.projectCount + 1, wan: to.wan + 30_000 });
    });

    it("moves an advanced project from one stage row to the next in the very next read", async () => {
      const project = await newProject({ regionCode: "410181" });
      const count = (stats: any, stage: string) => stats.byStage.find((row: any) => row.stage === stage)?.projectCount ?? 0;
      const before = await totals("410181");
      await as(province, ADVANCE, { input: { projectId: project.id, stage: "STARTED", reachedOn: "2024-05-01", expectedVersion: 1 } });
      const after = await totals("410181");
      expect([count(after, "SIGNED"), count(after, "STARTED")]).toEqual([count(before, "SIGNED") - 1, count(before, "STARTED") + 1]);
    });
  });

  describe("history", () => {
    it("lists a project's changes newest first, naming the office and each field from → to", async () => {
      const county = (await createToken(server.db, { regionCode: "411002", name: "魏都区发展和改革委员会" })).token;
      const city = (await createToken(server.db, { regionCode: "411000", name: "许昌市发展和改革委员会" })).token;
      const name = uniqueName("许昌项目");
      const project = await newProject({ name, regionCode: "411002", investment: 2, reachedOn: "2024-03-01" }, county);
      await as(city, UPDATE, { id: project.id, v: 1, input: { name: `${name} 二期`, investment: 2.5 } });
      await as(county, ADVANCE, { input: { projectId: project.id, stage: "STARTED", reachedOn: "2024-05-01", expectedVersion: 2 } });

      const history = (await as(null, HISTORY, { id: project.id })).data.project.history.nodes;
      expect(history.map((c: any) => [c.operation, c.office, c.projectVersion])).toEqual([
        ["ADVANCE_STAGE", "魏都区发展和改革委员会", 3],
        ["UPDATE_PROJECT", "许昌市发展和改革委员会", 2],
        ["CREATE_PROJECT", "魏都区发展和改革委员会", 1],
      ]);
      expect(history[0].fields).toEqual([
        { field: "stage", from: "SIGNED", to: "STARTED" },
        { field: "milestones.STARTED.reachedOn", from: null, to: "2024-05-01" },
      ]);
      expect(history[1].fields).toEqual([
        { field: "name", from: name, to: `${name} 二期` },
        { field: "investment", from: "2", to: "2.5" },
      ]);
      expect(history[2].fields).toEqual(
        expect.arrayContaining([
          { field: "name", from: null, to: name },
          { field: "region", from: null, to: "411002" },
          { field: "investment", from: null, to: "2" },
          { field: "milestones.SIGNED.reachedOn", from: null, to: "2024-03-01" },
        ]),
      );
      expect(Number(history[0].id)).toBeGreaterThan(Number(history[1].id));
    });

    it("records a date correction as a change with its reason, keeping the old date in the history", async () => {
      const project = await newProject({ reachedOn: "2024-03-01" });
      const reply = await as(province, CORRECT, { input: { projectId: project.id, stage: "SIGNED", reachedOn: "2024-03-05", reason: "  签约日期录入错误  ", expectedVersion: 1 } });
      expect(reply.data.correctMilestoneDate).toMatchObject({ version: 2, milestones: [{ stage: "SIGNED", reachedOn: "2024-03-05" }] });

      const history = (await as(null, HISTORY, { id: project.id })).data.project.history.nodes;
      expect(history.map((c: any) => c.operation)).toEqual(["CORRECT_MILESTONE_DATE", "CREATE_PROJECT"]);
      expect(history[0]).toMatchObject({ reason: "签约日期录入错误", fields: [{ field: "milestones.SIGNED.reachedOn", from: "2024-03-01", to: "2024-03-05" }] });
      expect(history[1].fields).toContainEqual({ field: "milestones.SIGNED.reachedOn", from: null, to: "2024-03-01" });
    });

    it("refuses a correction without a reason", async () => {
      const project = await newProject({ reachedOn: "2024-03-01" });
      const reply = await as(province, CORRECT, { input: { projectId: project.id, stage: "SIGNED", reachedOn: "2024-03-05", reason: "  ", expectedVersion: 1 } });
      expect(problemsOf(reply)).toEqual([{ field: "input.reason", reason: expect.any(String) }]);
    });

    it("shows a city the changes of its counties, newest first", async () => {
      const project = await newProject({ regionCode: "411003" });
      await as(province, UPDATE, { id: project.id, v: 1, input: { investment: 7 } });
      await as(province, ADVANCE, { input: { projectId: project.id, stage: "STARTED", reachedOn: "2024-05-01", expectedVersion: 2 } });

      const edges = (await as(null, CHANGES, { code: "411000", first: 3 })).data.region.changes.edges;
      expect(edges.map((e: any) => [e.node.operation, e.node.project?.id, e.node.region.code])).toEqual([
        ["ADVANCE_STAGE", project.id, "411003"],
        ["UPDATE_PROJECT", project.id, "411003"],
        ["CREATE_PROJECT", project.id, "411003"],
      ]);
      expect(edges[0].node.office).toBe("河南省发展和改革委员会");
    });

    it("keeps a county's changes out of a neighbour city's list", async () => {
      const project = await newProject({ regionCode: "411024" });
      const changes = (await as(null, CHANGES, { code: "411100", first: 100 })).data.region.changes.edges;
      expect(changes.length).toBeGreaterThan(0); // 漯河's own (seeded) changes
      expect(changes.filter((e: any) => e.node.project?.id === project.id)).toEqual([]);
      expect(changes.filter((e: any) => !e.node.region.code.startsWith("4111"))).toEqual([]);
    });

    it("pages a region's changes with cursors: two pages of two are the first four", async () => {
      const project = await newProject({ regionCode: "411025" });
      for (const [v, investment] of [[1, 2], [2, 3], [3, 4]]) await as(province, UPDATE, { id: project.id, v, input: { investment } });

      const four = (await as(null, CHANGES, { code: "411000", first: 4 })).data.region.changes;
      const first = (await as(null, CHANGES, { code: "411000", first: 2 })).data.region.changes;
      const second = (await as(null, CHANGES, { code: "411000", first: 2, after: first.pageInfo.endCursor })).data.region.changes;
      const ids = (page: any) => page.edges.map((e: any) => e.node.id);
      expect([...ids(first), ...ids(second)]).toEqual(ids(four));
      expect(four.edges.map((e: any) => e.node.project?.id)).toEqual([project.id, project.id, project.id, project.id]);
      expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
      expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true, startCursor: second.edges[0].cursor });
    });

    it("lists only changes on or after `since`", async () => {
      const project = await newProject({ regionCode: "411081" });
      const today = (await as(null, CHANGES, { code: "411081", first: 1, since: day(0) })).data.region.changes.edges;
      const tomorrow = (await as(null, CHANGES, { code: "411081", first: 1, since: day(1) })).data.region.changes.edges;
      expect(today.map((e: any) => e.node.project?.id)).toEqual([project.id]);
      expect(tomorrow).toEqual([]);
    });

    it("lists a meeting's creation among its host's changes", async () => {
      const meeting = await newMeeting("411082");
      const edges = (await as(null, CHANGES, { code: "411000", first: 1 })).data.region.changes.edges;
      expect(edges.map((e: any) => [e.node.operation, e.node.meeting?.id, e.node.project, e.node.region.code])).toEqual([["CREATE_MEETING", meeting, null, "411082"]]);
    });

    it("never shows the token in the history or in error messages", async () => {
      const { token } = await createToken(server.db, { regionCode: "410300", name: "洛阳市发展和改革委员会" });
      const secret = token.slice(4); // without the mpg_ prefix
      const project = await newProject({ regionCode: "410302" }, token);
      const replies = [
        await as(token, UPDATE, { id: project.id, v: 1, input: { investor: "洛阳某公司" } }), // fine
        await as(token, UPDATE, { id: project.id, v: 1, input: { investor: "过期版本" } }), // CONFLICT
        await as(token, UPDATE, { id: project.id, v: 2, input: { name: "" } }), // BAD_USER_INPUT
        await as(token, CREATE, { input: projectInput({ regionCode: "410102" }) }), // FORBIDDEN
        await as(token, `{ viewer { tokenId office region { code } } }`),
        await as(token, HISTORY, { id: project.id }),
        await as(null, CHANGES, { code: "410300", first: 20 }),
      ];
      expect(replies.map((r) => r.errors?.[0]?.extensions?.code ?? "ok")).toEqual(["ok", "CONFLICT", "BAD_USER_INPUT", "FORBIDDEN", "ok", "ok", "ok"]);
      expect(replies[5].data.project.history.nodes.map((c: any) => c.office)).toEqual(["洛阳市发展和改革委员会", "洛阳市发展和改革委员会"]);
      for (const reply of replies) expect(reply.text).not.toContain(secret);
    });
  });
});

describe.each(DB_KINDS)("LEDGER_FUTURE_DAYS on %s", (kind) => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer(kind, { LEDGER_FUTURE_DAYS: "3" });
    token = (await createToken(server.db, { regionCode: "410000", name: "河南省发展和改革委员会" })).token;
  });
  afterAll(async () => server?.close());

  const create = (reachedOn: string) =>
    send(server, token, CREATE, { input: { name: `未来项目 ${reachedOn}`, regionCode: "419001", sectorCode: "MFG", investment: 1, reachedOn } });

  it("accepts a date as far ahead as the setting allows", async () => {
    const reply = await create(day(3));
    expect(reply.data.createProject.milestones[0].reachedOn).toBe(day(3));
  });

  it("refuses a date one day further", async () => {
    const reply = await create(day(4));
    expect(problemsOf(reply)).toEqual([{ field: "input.reachedOn", reason: expect.stringMatching(/3 days from today/) }]);
  });
});
