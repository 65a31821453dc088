/**
 * Who may write where, over HTTP: a bearer token for every write (401
 * without one, with an unknown one, with a revoked one), a token's region
 * bounding every mutation (FORBIDDEN outside it, nothing changed), `viewer`,
 * and reads that are public unless READ_REQUIRES_TOKEN. Tokens are made with
 * createToken; the command line that makes them is tested elsewhere.
 */
import { createToken, revokeToken } from "../../src/auth/tokens";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";
import { ADVANCE, CORRECT, CREATE, CREATE_MEETING, RECORD, type Reply, send, UPDATE, writes } from "../support/writes";

const VIEWER = `{ viewer { tokenId office region { code name level } } }`;

/** The error code of a refused operation, after checking it wrote nothing into the answer's data. */
function refusal(reply: Reply): string | undefined {
  expect(Object.values(reply.data ?? {}).filter((value) => value !== null)).toEqual([]);
  return reply.errors?.[0]?.extensions?.code;
}

describe.each(DB_KINDS)("tokens and scopes on %s", (kind) => {
  let server: TestServer;
  /** 河南省: everything. */
  let province: string;
  /** 郑州市: its counties. */
  let city: string;
  /** 中原区 (410102), a county of 郑州. */
  let county: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    province = (await createToken(server.db, { regionCode: "410000", name: "河南省发展和改革委员会" })).token;
    city = (await createToken(server.db, { regionCode: "410100", name: "郑州市发展和改革委员会" })).token;
    county = (await createToken(server.db, { regionCode: "410102", name: "中原区发展和改革委员会" })).token;
  });
  afterAll(async () => server?.close());

  const { as, uniqueName, projectInput, newProject, newMeeting, readProject, countNamed } = writes(() => server, kind, () => province, { investment: 6 });



  describe("authentication", () => {
    it("refuses a write without a token: HTTP 401, UNAUTHENTICATED, nothing written", async () => {
      const input = projectInput();
      const reply = await as(null, CREATE, { input });
      expect(reply.status).toBe(401);
      expect(refusal(reply)).toBe("UNAUTHENTICATED");
      expect(await countNamed(input.name)).toBe(0);
    });

    it("refuses a write with a token this server never issued: HTTP 401, nothing written", async () => {
      const input = projectInput();
      const reply = await as(`mpg_${"A".repeat(43)}`, CREATE, { input });
      expect(reply.status).toBe(401);
      expect(refusal(reply)).toBe("UNAUTHENTICATED");
      expect(await countNamed(input.name)).toBe(0);
    });

    it("refuses a write with a revoked token: HTTP 401, nothing written", async () => {
      const made = await createToken(server.db, { regionCode: "410102", name: "中原区发展和改革委员会（旧）" });
      expect((await as(made.token, CREATE, { input: projectInput() })).errors).toBeUndefined(); // good before
      await revokeToken(server.db, made.id);
      const input = projectInput();
      const reply = await as(made.token, CREATE, { input });
      expect(reply.status).toBe(401);
      expect(refusal(reply)).toBe("UNAUTHENTICATED");
      expect(await countNamed(input.name)).toBe(0);
    });

    it("refuses an Authorization header that is not a bearer token: HTTP 401", async () => {
      const response = await fetch(server.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Basic ${Buffer.from("user:pass").toString("base64")}` },
        body: JSON.stringify({ query: VIEWER }),
      });
      expect(response.status).toBe(401);
      expect(((await response.json()) as any).errors[0].extensions.code).toBe("UNAUTHENTICATED");
    });
  });

  describe("a county's token outside its county", () => {
    it("is FORBIDDEN to create a project in the neighbour county, and nothing is written", async () => {
      const input = projectInput({ regionCode: "410103" });
      const reply = await as(county, CREATE, { input });
      expect(refusal(reply)).toBe("FORBIDDEN");
      expect(await countNamed(input.name)).toBe(0);
    });

    it("is FORBIDDEN to update the neighbour county's project, and nothing changes", async () => {
      const project = await newProject({ regionCode: "410103" });
      const before = await readProject(project.id);
      const reply = await as(county, UPDATE, { id: project.id, v: 1, input: { name: uniqueName("改名"), investment: 9 } });
      expect(refusal(reply)).toBe("FORBIDDEN");
      expect(await readProject(project.id)).toEqual(before);
    });

    it("is FORBIDDEN to advance the neighbour county's project, and nothing changes", async () => {
      const project = await newProject({ regionCode: "410103" });
      const before = await readProject(project.id);
      const reply = await as(county, ADVANCE, { input: { projectId: project.id, stage: "STARTED", reachedOn: "2024-05-01", expectedVersion: 1 } });
      expect(refusal(reply)).toBe("FORBIDDEN");
      expect(await readProject(project.id)).toEqual(before);
    });

    it("is FORBIDDEN to record the neighbour county's project at its own county's meeting, and nothing changes", async () => {
      const meeting = await newMeeting("410102");
      const project = await newProject({ regionCode: "410103" });
      const before = await readProject(project.id);
      const reply = await as(county, RECORD, { input: { projectId: project.id, stage: "SIGNED", meetingId: meeting, venueRegionCode: "410102", expectedVersion: 1 } });
      expect(refusal(reply)).toBe("FORBIDDEN");
      expect(await readProject(project.id)).toEqual(before);
    });

    it("is FORBIDDEN to correct a date of the neighbour county's project, and nothing changes", async () => {
      const project = await newProject({ regionCode: "410103" });
      const before = await readProject(project.id);
      const reply = await as(county, CORRECT, { input: { projectId: project.id, stage: "SIGNED", reachedOn: "2024-03-02", reason: "日期有误", expectedVersion: 1 } });
      expect(refusal(reply)).toBe("FORBIDDEN");
      expect(await readProject(project.id)).toEqual(before);
    });

    it("is FORBIDDEN to move its own project into the neighbour county, and nothing changes", async () => {
      const project = await newProject({ regionCode: "410102" }, county);
      const before = await readProject(project.id);
      const reply = await as(county, UPDATE, { id: project.id, v: 1, input: { regionCode: "410103" } });
      expect(refusal(reply)).toBe("FORBIDDEN");
      expect(await readProject(project.id)).toEqual(before);
    });

    it("is FORBIDDEN to record its own project at a venue outside its county of a meeting it does not host", async () => {
      const meeting = await newMeeting("410100", ["410102", "410103"]);
      const project = await newProject({ regionCode: "410102" }, county);
      const before = await readProject(project.id);
      const reply = await as(county, RECORD, { input: { projectId: project.id, stage: "SIGNED", meetingId: meeting, venueRegionCode: "410103", expectedVersion: 1 } });
      expect(refusal(reply)).toBe("FORBIDDEN");
      expect(await readProject(project.id)).toEqual(before);
    });

    it("is FORBIDDEN to advance its own project at a venue outside its county of a meeting it does not host", async () => {
      const meeting = await newMeeting("410100", ["410102", "410103"]);
      const project = await newProject({ regionCode: "410102" }, county);
      const before = await readProject(project.id);
      const reply = await as(county, ADVANCE, {
        input: { projectId: project.id, stage: "STARTED", reachedOn: "2024-06-30", meetingId: meeting, venueRegionCode: "410103", expectedVersion: 1 },
      });
      expect(refusal(reply)).toBe("FORBIDDEN");
      expect(await readProject(project.id)).toEqual(before);
    });

    it("is FORBIDDEN to create its project presented at a venue outside its county of a meeting it does not host", async () => {
      const meeting = await newMeeting("410100", ["410102", "410103"]);
      const input = projectInput({ regionCode: "410102", meetingId: meeting, venueRegionCode: "410103" });
      const reply = await as(county, CREATE, { input });
      expect(refusal(reply)).toBe("FORBIDDEN");
      expect(await countNamed(input.name)).toBe(0);
    });

    it.each([
      ["the neighbour county", "410103"],
      ["its own city, above it", "410100"],
    ])("is FORBIDDEN to create a meeting hosted by %s", async (_label, hostRegionCode) => {
      const title = uniqueName("越权推进会");
      const reply = await as(county, CREATE_MEETING, { input: { title, heldOn: "2024-06-30", hostRegionCode } });
      expect(refusal(reply)).toBe("FORBIDDEN");
      const meetings = (await as(null, `query($h: ID) { meetings(hostRegionCode: $h) { title } }`, { h: hostRegionCode })).data.meetings;
      expect(meetings.map((m: any) => m.title)).not.toContain(title);
    });
  });

  describe("writes inside a token's region", () => {
    it("lets a county present its project at its own sub-venue of its city's meeting", async () => {
      const meeting = await newMeeting("410100", ["410102", "410103"]);
      const project = await newProject({ regionCode: "410102" }, county);
      const reply = await as(county, RECORD, { input: { projectId: project.id, stage: "SIGNED", meetingId: meeting, venueRegionCode: "410102", expectedVersion: 1 } });
      expect(reply.errors).toBeUndefined();
      expect(reply.data.recordAtMeeting.milestones[0]).toMatchObject({ meeting: { id: meeting }, venue: { code: "410102" } });
    });

    it("lets a county host a meeting of its own", async () => {
      const reply = await as(county, CREATE_MEETING, { input: { title: uniqueName("中原区推进会"), heldOn: "2024-06-30", hostRegionCode: "410102" } });
      expect(reply.data.createMeeting.hostRegion).toEqual({ code: "410102" });
    });

    it("lets a city's token create and update a project in one of its counties", async () => {
      const project = await newProject({ regionCode: "410103" }, city);
      const reply = await as(city, UPDATE, { id: project.id, v: 1, input: { investment: 7, regionCode: "410105" } });
      expect(reply.errors).toBeUndefined();
      expect(reply.data.updateProject).toMatchObject({ version: 2, investment: 7, region: { code: "410105" } });
    });

    it("keeps a city's token out of another city (FORBIDDEN)", async () => {
      const input = projectInput({ regionCode: "410302" });
      const reply = await as(city, CREATE, { input });
      expect(refusal(reply)).toBe("FORBIDDEN");
      expect(await countNamed(input.name)).toBe(0);
    });

    it("lets the province's token write anywhere in the province", async () => {
      const inLuoyang = await newProject({ regionCode: "410302" });
      const inJiyuan = await newProject({ regionCode: "419001" });
      const moved = await as(province, UPDATE, { id: inLuoyang.id, v: 1, input: { regionCode: "410102" } });
      const meeting = await as(province, CREATE_MEETING, { input: { title: uniqueName("洛阳推进会"), heldOn: "2024-06-30", hostRegionCode: "410300", subVenueRegionCodes: ["410302"] } });
      expect([inLuoyang.region.code, inJiyuan.region.code, moved.data.updateProject.region.code, meeting.data.createMeeting.hostRegion.code]).toEqual([
        "410302",
        "419001",
        "410102",
        "410300",
      ]);
    });
  });

  describe("viewer and reads", () => {
    it("tells a token's office and region in `viewer`, never the token", async () => {
      const made = await createToken(server.db, { regionCode: "410102", name: "中原区发展和改革委员会" });
      const reply = await as(made.token, VIEWER);
      expect(reply.data.viewer).toEqual({ tokenId: String(made.id), office: "中原区发展和改革委员会", region: { code: "410102", name: "中原区", level: "COUNTY" } });
    });

    it("answers `viewer` null without a token", async () => {
      const reply = await as(null, VIEWER);
      expect(reply.status).toBe(200);
      expect(reply.data).toEqual({ viewer: null });
    });

    it("answers reads without a token by default", async () => {
      const reply = await as(null, `{ region(code: "410102") { name stats { projectCount } } }`);
      expect(reply.status).toBe(200);
      expect(reply.errors).toBeUndefined();
      expect(reply.data.region.name).toBe("中原区");
    });
  });
});

describe.each(DB_KINDS)("READ_REQUIRES_TOKEN=true on %s", (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind, { READ_REQUIRES_TOKEN: "true" });
  });
  afterAll(async () => server?.close());

  const READ = `{ region(code: "410000") { name } }`;

  it("refuses a read without a token: HTTP 401, UNAUTHENTICATED", async () => {
    const reply = await send(server, null, READ);
    expect(reply.status).toBe(401);
    expect(reply.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(reply.data ?? null).toBeNull();
  });

  it("refuses a read by GET without a token: HTTP 401", async () => {
    const response = await fetch(`${server.url}?${new URLSearchParams({ query: READ })}`, { headers: { accept: "application/json" } });
    expect(response.status).toBe(401);
  });

  it("answers a read with a token", async () => {
    const { token } = await createToken(server.db, { regionCode: "410300", name: "洛阳市发展和改革委员会" });
    const reply = await send(server, token, READ);
    expect(reply.status).toBe(200);
    expect(reply.data).toEqual({ region: { name: "河南省" } });
  });
});
