/**
 * The whole project cycle (储备 → 签约 → 开工 → 投产 → 达效): a project may
 * enter the ledger at RESERVE and moves forward only, across five stages; the
 * two new stages are never presented at a meeting and EFFECTIVE is never
 * written directly; stats, filters, breakdowns, history, the CSV import and
 * export carry RESERVE; and the funnel's steps are counted against an oracle
 * made from the milestones this test wrote.
 */
import { createToken } from "../../src/auth/tokens";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";
import { ADVANCE, CREATE, problemsOf, writes } from "../support/writes";

const STAGES = ["RESERVE", "SIGNED", "STARTED", "IN_PRODUCTION", "EFFECTIVE"];

const FUNNEL = `query($code: ID!, $filter: ProjectFilter) { region(code: $code) { funnel(filter: $filter) { from to reached advanced rate } } }`;


describe.each(DB_KINDS)("the project cycle on %s", (kind) => {
  let server: TestServer;
  let province: string;

  beforeAll(async () => {
    server = await startTestServer(kind, { DATA_VERSION_TTL_MS: "60000" });
    province = (await createToken(server.db, { regionCode: "410000", name: "河南省发展和改革委员会" })).token;
  });
  afterAll(async () => server?.close());

  const { as, uniqueName, newProject, newMeeting, readProject } = writes(() => server, kind, () => province);
  const advance = (project: { id: string; version: number }, stage: string, reachedOn: string, extra: Record<string, unknown> = {}) =>
    as(province, ADVANCE, { input: { projectId: project.id, expectedVersion: project.version, stage, reachedOn, ...extra } });

  it("a project enters at RESERVE and moves forward through SIGNED, STARTED and IN_PRODUCTION, each a milestone in the history", async () => {
    let project = await newProject({ stage: "RESERVE", reachedOn: "2024-01-05", regionCode: "410122" });
    expect(project.stage).toBe("RESERVE");
    expect(project.milestones).toEqual([{ stage: "RESERVE", reachedOn: "2024-01-05", meeting: null, venue: null }]);
    for (const [stage, date] of [["SIGNED", "2024-02-01"], ["STARTED", "2024-03-01"], ["IN_PRODUCTION", "2024-09-01"]]) {
      const reply = await advance(project, stage, date);
      expect(reply.errors).toBeUndefined();
      project = reply.data.advanceStage;
      expect(project.stage).toBe(stage);
    }
    expect(project.milestones.map((m: { stage: string }) => m.stage)).toEqual(["RESERVE", "SIGNED", "STARTED", "IN_PRODUCTION"]);
    const history = await as(null, `query($id: ID!) { project(id: $id) { history { nodes { operation fields { field from to } } } } }`, { id: project.id });
    const stages = history.data.project.history.nodes.flatMap((n: { fields: Array<{ field: string; from: string | null; to: string | null }> }) => n.fields.filter((f) => f.field === "stage"));
    expect(stages).toEqual([
      { field: "stage", from: "STARTED", to: "IN_PRODUCTION" },
      { field: "stage", from: "SIGNED", to: "STARTED" },
      { field: "stage", from: "RESERVE", to: "SIGNED" },
    ]);
  });

  it("refuses to move back, to stay, to go to RESERVE, or to write EFFECTIVE directly, and writes nothing", async () => {
    const project = await newProject({ stage: "STARTED", reachedOn: "2024-03-01" });
    for (const stage of ["RESERVE", "SIGNED", "STARTED"]) {
      const problems = problemsOf(await advance(project, stage, "2024-04-01"));
      expect(problems.map((p) => p.field)).toContain("input.stage");
    }
    const effective = problemsOf(await advance(project, "EFFECTIVE", "2024-04-01"));
    expect(effective).toEqual([expect.objectContaining({ field: "input.stage", reason: expect.stringMatching(/reportOutput/) })]);
    const created = await as(province, CREATE, { input: { name: uniqueName("达效"), regionCode: "410102", sectorCode: "MFG", investment: 1, reachedOn: "2024-03-01", stage: "EFFECTIVE" } });
    expect(problemsOf(created)).toEqual([expect.objectContaining({ field: "input.stage", reason: expect.stringMatching(/reportOutput/) })]);
    expect((await readProject(project.id)).version).toBe(project.version);
  });

  it("never presents RESERVE at a meeting: creating or advancing there is refused", async () => {
    const meeting = await newMeeting("410100");
    const create = await as(province, CREATE, {
      input: { name: uniqueName("储备"), regionCode: "410102", sectorCode: "MFG", investment: 1, reachedOn: "2024-06-30", stage: "RESERVE", meetingId: meeting, venueRegionCode: "410100" },
    });
    expect(problemsOf(create)).toEqual([expect.objectContaining({ field: "input.meetingId", reason: expect.stringMatching(/RESERVE is not presented at a meeting/) })]);
    // Signing at the meeting is still a batch: a reserve project is signed there.
    const reserve = await newProject({ stage: "RESERVE", reachedOn: "2024-05-01" });
    const signed = await advance(reserve, "SIGNED", "2024-06-30", { meetingId: meeting, venueRegionCode: "410100" });
    expect(signed.errors).toBeUndefined();
    expect(signed.data.advanceStage.milestones.map((m: { stage: string; meeting: { id: string } | null }) => [m.stage, m.meeting?.id ?? null])).toEqual([
      ["RESERVE", null],
      ["SIGNED", meeting],
    ]);
  });

  it("counts RESERVE in stats, filters, breakdowns and the project CSV export, in lifecycle order", async () => {
    const code = "410183"; // 新密市: its own projects only
    const before = (await as(null, `query($c: ID!) { region(code: $c) { stats { byStage { stage projectCount } } } }`, { c: code })).data.region.stats.byStage;
    const count = (rows: Array<{ stage: string; projectCount: number }>, stage: string) => rows.find((r) => r.stage === stage)?.projectCount ?? 0;
    await newProject({ stage: "RESERVE", reachedOn: "2024-01-02", regionCode: code });
    await newProject({ stage: "RESERVE", reachedOn: "2024-01-03", regionCode: code });
    const after = await as(
      null,
      `query($c: ID!) {
        region(code: $c) {
          stats { byStage { stage projectCount } }
          reserve: stats(filter: { stages: [RESERVE] }) { projectCount }
          reached: stats(filter: { milestone: { stage: RESERVE, from: "2024-01-01", to: "2024-01-31" } }) { projectCount }
        }
        breakdown(groupBy: [STAGE], filter: { regionCodes: [$c] }) { stage projectCount }
      }`,
      { c: code },
    );
    expect(after.errors).toBeUndefined();
    const byStage = after.data.region.stats.byStage;
    expect(count(byStage, "RESERVE")).toBe(count(before, "RESERVE") + 2);
    expect(byStage.map((r: { stage: string }) => r.stage)).toEqual(STAGES.filter((s) => count(byStage, s) > 0));
    expect(after.data.region.reserve.projectCount).toBe(count(byStage, "RESERVE"));
    expect(after.data.region.reached.projectCount).toBeGreaterThanOrEqual(2);
    expect(after.data.breakdown).toEqual(byStage);
    const csv = await (await fetch(`${server.url.replace(/\/graphql$/, "")}/export/projects.csv?regionCodes=${code}&stages=RESERVE`)).text();
    const lines = csv.trim().split(/\r?\n/).slice(1);
    expect(lines).toHaveLength(count(byStage, "RESERVE"));
    for (const line of lines) expect(line).toContain(",RESERVE,");
  });

  it("imports a RESERVE row written 储备 and advances it with a later row written 签约", async () => {
    const ref = `CYCLE-${kind}-${Date.now()}`;
    const upload = (body: string) =>
      fetch(`${server.url.replace(/\/graphql$/, "")}/import/projects.csv`, { method: "POST", headers: { "content-type": "text/csv", authorization: `Bearer ${province}` }, body });
    const header = "台账编号,项目名称,区划代码,行业代码,总投资（亿元）,投资方,阶段,日期,会议编号,会场区划代码\n";
    const first = await upload(`${header}${ref},储备导入项目,410122,MFG,3.5,,储备,2024-02-01,,\n`);
    expect(await first.json()).toMatchObject({ rows: 1, created: 1 });
    const second = await upload(`${header}${ref},储备导入项目,410122,MFG,3.5,,签约一批,2024-03-01,,\n`);
    expect(await second.json()).toMatchObject({ rows: 1, advanced: 1 });
    const read = await as(null, `query($r: String!) { projects(filter: { nameContains: $r }) { nodes { stage milestones { stage reachedOn } } } }`, { r: "储备导入项目" });
    expect(read.data.projects.nodes).toContainEqual({ stage: "SIGNED", milestones: [{ stage: "RESERVE", reachedOn: "2024-02-01" }, { stage: "SIGNED", reachedOn: "2024-03-01" }] });
    const bad = await upload(`${header}${ref}-2,达效导入项目,410122,MFG,3.5,,达效,2024-03-01,,\n`);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/reportOutput|EFFECTIVE/);
  });

  it("counts each funnel step as an oracle over the milestones written here does", async () => {
    const code = "410184"; // 新郑市
    // A cohort of its own: the filter's name marks it, so the seed and other tests' projects stay out.
    const tag = uniqueName("漏斗");
    const plans: string[][] = [
      ["RESERVE"],
      ["RESERVE", "SIGNED"],
      ["RESERVE", "SIGNED", "STARTED"],
      ["RESERVE", "SIGNED", "STARTED", "IN_PRODUCTION"],
      ["SIGNED", "STARTED"],
      ["SIGNED"],
      ["STARTED", "IN_PRODUCTION"],
      ["RESERVE", "SIGNED"],
    ];
    for (const [i, plan] of plans.entries()) {
      let project = await newProject({ name: `${tag} ${i}`, stage: plan[0], reachedOn: "2024-01-10", regionCode: code });
      for (const [j, stage] of plan.slice(1).entries()) {
        const reply = await advance(project, stage, `2024-0${j + 2}-10`);
        expect(reply.errors).toBeUndefined();
        project = reply.data.advanceStage;
      }
    }
    const steps = (await as(null, FUNNEL, { code: "410000", filter: { nameContains: tag } })).data.region.funnel;
    const oracle = STAGES.slice(0, -1).map((from, i) => {
      const reached = plans.filter((plan) => plan.includes(from));
      const advanced = reached.filter((plan) => STAGES.indexOf(plan[plan.length - 1]) > i);
      return { from, to: STAGES[i + 1], reached: reached.length, advanced: advanced.length, rate: reached.length ? advanced.length / reached.length : null };
    });
    expect(steps).toEqual(oracle);
    // The same cohort seen from its city and from a county outside it.
    expect((await as(null, FUNNEL, { code: "410100", filter: { nameContains: tag } })).data.region.funnel).toEqual(oracle);
    expect((await as(null, FUNNEL, { code: "410102", filter: { nameContains: tag } })).data.region.funnel.map((s: { reached: number }) => s.reached)).toEqual([0, 0, 0, 0]);
  });

  it("answers the funnel of the province, its cities and their counties with one statement", async () => {
    const tree = `{ region(code: "410000") { funnel { reached } children { funnel { reached } children { funnel { reached advanced } } } } }`;
    const small = `{ region(code: "410102") { funnel { reached } } }`;
    const a = await server.gql(tree);
    const b = await server.gql(small);
    expect(a.data.region.children).toHaveLength(18);
    expect(a.sqlStatements).toBe(b.sqlStatements);
    // Each city's SIGNED step adds up to the province's (no project lies in the province itself).
    const signed = (steps: Array<{ reached: number }>) => steps[1].reached;
    const cities = a.data.region.children.reduce((n: number, c: { funnel: Array<{ reached: number }> }) => n + signed(c.funnel), 0);
    expect(cities).toBe(signed(a.data.region.funnel));
  });
});
