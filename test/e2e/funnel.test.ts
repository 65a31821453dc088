/**
 * The signing funnel (签约项目开工率, 开工项目投产率): of the projects signed at
 * a meeting, how many have since started or gone into production, as projects
 * move on over two later meetings.
 */
import { DB_KINDS } from "../support/databases";
import { advanceProjects, createMeeting } from "../support/ledger";
import { startTestServer, type TestServer } from "../support/test-server";

const FUNNEL = `query($signedAt: ID!, $startedAt: ID!) {
  signed: stats(filter: { milestone: { stage: SIGNED, meetingId: $signedAt } }) { projectCount byStage { stage projectCount } }
  started: stats(filter: { milestone: { stage: STARTED, meetingId: $startedAt } }) { projectCount byStage { stage projectCount } }
  entries: breakdown(groupBy: [MEETING, STAGE]) { meeting { id } stage projectCount }
}`;

const asMap = (rows: Array<{ stage: string; projectCount: number }>) => Object.fromEntries(rows.map((r) => [r.stage, r.projectCount]));

describe.each(DB_KINDS)("signing funnel on %s", (kind) => {
  // A fresh server on freshly seeded data for each test: the second test moves projects on, and the first must see
  // them as seeded whichever runs first (or alone).
  let server: TestServer;
  let first: number;

  beforeEach(async () => {
    server = await startTestServer(kind, { DATA_VERSION_TTL_MS: "0" });
    first = Number((await server.db.query("SELECT id FROM meeting"))[0].id);
  });
  afterEach(async () => server?.close());

  it("right after the first meeting every signed project is still only signed", async () => {
    const { data } = await server.gql(FUNNEL, { signedAt: String(first), startedAt: String(first) });
    expect(data.signed.projectCount).toBe(258);
    expect(asMap(data.signed.byStage)).toEqual({ SIGNED: 258 });
  });

  it("40 of them start at a second meeting and 10 of those go into production at a third", async () => {
    const second = await createMeeting(server.db, "第二期推进会", "2021-10-20", "410000");
    const third = await createMeeting(server.db, "第三期推进会", "2022-01-15", "410000");
    const signed: number[] = (await server.db.query("SELECT project_id FROM milestone WHERE meeting_id = ? AND stage = 1 ORDER BY project_id", [first])).map(
      (r: { project_id: number }) => Number(r.project_id),
    );
    const [province] = await server.db.query("SELECT id FROM region WHERE code = '410000'");
    await advanceProjects(server.db, signed.slice(0, 40), { stage: 2, reachedOn: "2021-10-20", meetingId: second, venueRegionId: Number(province.id) });
    await advanceProjects(server.db, signed.slice(0, 10), { stage: 3, reachedOn: "2022-01-15", meetingId: third, venueRegionId: Number(province.id) });

    const { data, errors } = await server.gql(FUNNEL, { signedAt: String(first), startedAt: String(second) });
    expect(errors).toBeUndefined();
    // 签约项目开工率: 30 + 10 of 258 signed have started; 开工项目投产率: 10 of the 40 started at the second meeting.
    expect(data.signed.projectCount).toBe(258);
    expect(asMap(data.signed.byStage)).toEqual({ SIGNED: 218, STARTED: 30, IN_PRODUCTION: 10 });
    expect(data.started.projectCount).toBe(40);
    expect(asMap(data.started.byStage)).toEqual({ STARTED: 30, IN_PRODUCTION: 10 });
    const entries = Object.fromEntries(data.entries.map((r: any) => [`${r.meeting.id}:${r.stage}`, r.projectCount]));
    expect(entries).toEqual({
      [`${first}:SIGNED`]: 258,
      [`${first}:STARTED`]: 555,
      [`${first}:IN_PRODUCTION`]: 524,
      [`${second}:STARTED`]: 40,
      [`${third}:IN_PRODUCTION`]: 10,
    });
    // The first meeting's figures as published do not move: its batches are the entries presented there.
    const batches = await server.gql(`query($m: ID!) { meeting(id: $m) { batches { stage stats { projectCount } } } }`, { m: String(first) });
    expect(batches.data.meeting.batches.map((b: any) => b.stats.projectCount)).toEqual([258, 555, 524]);
  });
});
