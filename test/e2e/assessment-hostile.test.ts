/**
 * Issue 19's surface attacked as an outsider would, on each database: malformed and extreme inputs to setTarget,
 * reportOutput, raiseFactorIssue and resolveFactorIssue (huge, negative and tiny numbers, impossible years and
 * quarters, 100 KB text, control characters, lone surrogates, bidi marks, unknown enums, ids that are no ids or of
 * another kind) and to the new read fields (first out of range, 10,000 kinds, nested lists); writes outside the
 * token's region, by a revoked token and anonymously; ten writers at once on one project, one target and one issue;
 * the two CSV routes with bad parameters; and queries that multiply the new fields with aliases. Every refusal is a
 * clean BAD_USER_INPUT / FORBIDDEN / UNAUTHENTICATED / CONFLICT / limit code (never INTERNAL_SERVER_ERROR), and a
 * refused write leaves every table it could touch as it was (counted before and after).
 */
import { parse } from "graphql";

import { createToken, revokeToken } from "../../src/auth/tokens";
import { loadConfig } from "../../src/config";
import { buildAppSchema } from "../../src/server/schema";
import { GROUPED_QUERY_COST } from "../../src/server/cost";
import { checkCost } from "../../src/server/limits";
import { ProjectStage, stageToNumber } from "../../src/common/stage";
import { MODEL } from "../support/cost-model";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";
import { type Reply, send } from "../support/writes";

const SET_TARGET = `mutation T($i: SetTargetInput!) { setTarget(input: $i) { stage year quarter targetCount targetInvestment(unit: WAN_YUAN) } }`;
const REPORT = `mutation R($i: ReportOutputInput!) { reportOutput(input: $i) { id version stage designedAnnualOutput(unit: WAN_YUAN) outputReports { year output(unit: WAN_YUAN) } } }`;
const RAISE = `mutation F($i: RaiseFactorIssueInput!) { raiseFactorIssue(input: $i) { id department description } }`;
const RESOLVE = `mutation S($id: ID!, $on: Date!, $note: String) { resolveFactorIssue(id: $id, resolvedOn: $on, note: $note) { id resolvedOn } }`;

/** The tables a write of issue 19 may touch, counted. */
const TABLES = ["ledger_change", "assessment_target", "output_report", "factor_issue", "milestone", "project"] as const;

const IN_PRODUCTION = stageToNumber(ProjectStage.IN_PRODUCTION);

/** The error codes of a reply (none: []). */
const codes = (reply: Reply) => (reply.errors ?? []).map((e) => e.extensions?.code);

describe.each(DB_KINDS)("issue 19 under attack on %s", (kind) => {
  let server: TestServer;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTestServer(kind, { DATA_VERSION_TTL_MS: "60000" });
    for (const [code, office] of [
      ["410000", "河南省发展和改革委员会"],
      ["410100", "郑州市发展和改革委员会"],
      ["410102", "中原区发展和改革委员会"],
      ["410105", "金水区发展和改革委员会"],
    ]) {
      tokens[code] = (await createToken(server.db, { regionCode: code, name: office })).token;
    }
    const revoked = await createToken(server.db, { regionCode: "410000", name: "已撤销的令牌" });
    await revokeToken(server.db, revoked.id);
    tokens.revoked = revoked.token;
  });
  afterAll(async () => server?.close());

  const as = (token: string | null, query: string, variables?: Record<string, unknown>) => send(server, token, query, variables);

  /** Rows of each table, and the sum of the projects' versions (a write that bumps a version without a row shows). */
  async function snapshot(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const table of TABLES) out[table] = Number((await server.db.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
    out.versions = Number((await server.db.query("SELECT COALESCE(SUM(version), 0) AS n FROM project"))[0].n);
    out.targets = Number((await server.db.query("SELECT COALESCE(SUM(target_investment_wan), 0) + COALESCE(SUM(target_count), 0) AS n FROM assessment_target"))[0].n);
    out.resolved = Number((await server.db.query("SELECT COUNT(*) AS n FROM factor_issue WHERE resolved_on IS NOT NULL"))[0].n);
    return out;
  }

  /** Runs `write` and expects it refused with `code` (naming `field` when given) and nothing written. */
  async function refusedUnchanged(write: () => Promise<Reply>, code: string, field?: string | RegExp): Promise<Reply> {
    const before = await snapshot();
    const reply = await write();
    expect(reply.text).not.toMatch(/INTERNAL_SERVER_ERROR/);
    expect(reply.status).toBeLessThan(500);
    expect(codes(reply)).toEqual([code]);
    if (field !== undefined) {
      const error = reply.errors![0];
      // A resolver's problem names the field in extensions.field; a variable refused while coerced names it in the message.
      const named = error.extensions?.field ?? error.message;
      if (typeof field === "string") expect(named).toContain(field);
      else expect(named).toMatch(field);
    }
    expect(await snapshot()).toEqual(before);
    return reply;
  }

  /** A project of `code` at `stage` (read from the database), with its version. */
  async function projectAt(code: string, stage: number, skip = 0): Promise<{ id: string; version: number }> {
    const rows = await server.db.query(
      "SELECT p.id, p.version FROM project p JOIN region r ON r.id = p.region_id WHERE r.code = ? AND p.stage = ? AND p.designed_annual_output_wan IS NULL ORDER BY p.id",
      [code, stage],
    );
    expect(rows.length).toBeGreaterThan(skip);
    return { id: String(rows[skip].id), version: Number(rows[skip].version) };
  }

  describe("malformed and extreme input: BAD_USER_INPUT naming the field, nothing written", () => {
    const target = (patch: Record<string, unknown>) => ({ regionCode: "410102", stage: "SIGNED", year: 2031, investment: 1, ...patch });

    it.each([
      ["investment 1e308", { investment: 1e308 }, "input.investment"],
      ["investment -1", { investment: -1 }, "input.investment"],
      ["investment 0.00001 亿元 (below 1 万元)", { investment: 0.00001 }, "input.investment"],
      ["investment as a string", { investment: "1" }, /investment/],
      ["year 0", { year: 0 }, "input.year"],
      ["year 99999", { year: 99999 }, "input.year"],
      ["year 2^31 (no Int)", { year: 2 ** 31 }, /year/],
      ["quarter 0", { quarter: 0 }, "input.quarter"],
      ["quarter 5", { quarter: 5 }, "input.quarter"],
      ["quarter -1", { quarter: -1 }, "input.quarter"],
      ["quarter 1.5", { quarter: 1.5 }, /quarter/],
      ["count -1", { count: -1 }, "input.count"],
      ["count 2^31-1", { count: 2 ** 31 - 1 }, "input.count"],
      ["an unknown stage", { stage: "FINISHED" }, /stage/],
      ["a lowercase stage", { stage: "signed" }, /stage/],
      ["a region code of letters", { regionCode: "abcdef" }, "input.regionCode"],
      ["an unknown region", { regionCode: "999999" }, "input.regionCode"],
      ["a 100 KB region code", { regionCode: "4".repeat(100_000) }, "input.regionCode"],
      ["a project id as region code", { regionCode: "1" }, "input.regionCode"],
    ])("setTarget: %s", async (_name, patch, field) => {
      await refusedUnchanged(() => as(tokens["410000"], SET_TARGET, { i: target(patch) }), "BAD_USER_INPUT", field);
    });

    it("setTarget: -0 is 0, and setting 0 again afterwards changes nothing", async () => {
      const first = await as(tokens["410000"], SET_TARGET, { i: target({ investment: -0, year: 2032 }) });
      expect(first.errors).toBeUndefined();
      expect(Object.is(first.data.setTarget.targetInvestment, -0)).toBe(false);
      const [row] = await server.db.query("SELECT target_investment_wan AS wan FROM assessment_target WHERE year = 2032");
      expect(Number(row.wan)).toBe(0);
      const before = await snapshot();
      expect((await as(tokens["410000"], SET_TARGET, { i: target({ investment: 0, year: 2032 }) })).errors).toBeUndefined();
      expect(await snapshot()).toEqual(before);
    });

    it("setTarget: a new target without a count records only its investment (no count: null → null)", async () => {
      expect((await as(tokens["410000"], SET_TARGET, { i: target({ year: 2033, investment: 2.5 }) })).errors).toBeUndefined();
      const [change] = await server.db.query("SELECT fields FROM ledger_change WHERE operation = 'SET_TARGET' ORDER BY id DESC LIMIT 1");
      const fields = typeof change.fields === "string" ? JSON.parse(change.fields) : change.fields;
      expect(fields).toEqual([{ field: "targets.SIGNED.2033.investment", from: null, to: expect.any(String) }]);
      for (const f of fields) expect(f.from !== null || f.to !== null).toBe(true);
    });

    it.each([
      ["output 1e308", { output: 1e308 }, "input.output"],
      ["output -1", { output: -1 }, "input.output"],
      ["output 0.00001 亿元", { output: 0.00001 }, "input.output"],
      ["designedAnnualOutput -0", { designedAnnualOutput: -0 }, "input.designedAnnualOutput"],
      ["designedAnnualOutput 1e-300 (rounds to 0 万元)", { designedAnnualOutput: 1e-300 }, "input.designedAnnualOutput"],
      ["designedAnnualOutput 1e-11 (rounds to 0 万元)", { designedAnnualOutput: 1e-11 }, "input.designedAnnualOutput"],
      ["designedAnnualOutput 1e308", { designedAnnualOutput: 1e308 }, "input.designedAnnualOutput"],
      ["year 0", { year: 0 }, "input.year"],
      ["year 99999", { year: 99999 }, "input.year"],
      ["year before production", { year: 2001 }, "input.year"],
      ["reportedOn 0000-01-01", { reportedOn: "0000-01-01" }, "input.reportedOn"],
      ["reportedOn 2022-02-30", { reportedOn: "2022-02-30" }, /reportedOn/],
      ["reportedOn far ahead", { reportedOn: "9999-12-31" }, "input.reportedOn"],
      ["projectId not a number", { projectId: "abc" }, "input.projectId"],
      ["projectId negative", { projectId: "-1" }, "input.projectId"],
      ["projectId of ten digits", { projectId: "9999999999" }, "input.projectId"],
      ["projectId 100 KB", { projectId: "7".repeat(100_000) }, "input.projectId"],
      ["expectedVersion 1.5", { expectedVersion: 1.5 }, /expectedVersion/],
      ["output NaN-like text", { output: "NaN" }, /output/],
    ])("reportOutput: %s", async (_name, patch, field) => {
      const project = await projectAt("410102", IN_PRODUCTION);
      const input = { projectId: project.id, year: 2022, output: 1, designedAnnualOutput: 10, reportedOn: "2022-12-01", expectedVersion: project.version, ...patch };
      await refusedUnchanged(() => as(tokens["410000"], REPORT, { i: input }), "BAD_USER_INPUT", field);
    });

    it("reportOutput: a project that is not IN_PRODUCTION, or a meeting's id as the project, is refused", async () => {
      const signed = await projectAt("410102", stageToNumber(ProjectStage.SIGNED));
      await refusedUnchanged(
        () => as(tokens["410000"], REPORT, { i: { projectId: signed.id, year: 2022, output: 1, designedAnnualOutput: 1, reportedOn: "2022-12-01", expectedVersion: signed.version } }),
        "BAD_USER_INPUT",
        "input.projectId",
      );
      const [{ id: meetingId }] = await server.db.query("SELECT MAX(id) AS id FROM meeting");
      const [{ id: maxProject }] = await server.db.query("SELECT MAX(id) AS id FROM project");
      const notAProject = String(Number(maxProject) + Number(meetingId) + 1000);
      await refusedUnchanged(() => as(tokens["410000"], REPORT, { i: { projectId: notAProject, year: 2022, output: 1, designedAnnualOutput: 1, expectedVersion: 1 } }), "NOT_FOUND", "input.projectId");
    });

    const issue = (patch: Record<string, unknown>) => ({ projectId: "1", kind: "LAND", department: "省自然资源厅", description: "用地指标未落实", raisedOn: "2024-05-06", ...patch });
    it.each([
      ["a 100 KB department", { department: "部".repeat(100_000) }, "input.department"],
      ["a 100 KB description", { description: "x".repeat(100_000) }, "input.description"],
      ["a NUL in the department", { department: "省\u0000厅" }, "input.department"],
      ["a bell in the description", { description: "a\u0007b" }, "input.description"],
      ["a line break in the department", { department: "省\n厅" }, "input.department"],
      ["a lone high surrogate", { department: "省\ud800厅" }, "input.department"],
      ["a lone low surrogate", { description: "\udfff" }, "input.description"],
      ["a right-to-left override", { department: "\u202e厅源资然自省" }, "input.department"],
      ["a right-to-left mark only", { department: "\u200f" }, "input.department"],
      ["zero-width spaces only", { description: "\u200b\u200b" }, "input.description"],
      ["blank text", { department: "\u3000 " }, "input.department"],
      ["an unknown kind", { kind: "WATER" }, /kind/],
      ["a project id of letters", { projectId: "abc" }, "input.projectId"],
      ["a project id of ten digits", { projectId: "9999999999" }, "input.projectId"],
      ["an unknown project", { projectId: "999999999" }, "input.projectId"],
      ["year 0", { raisedOn: "0000-01-01" }, /raisedOn/],
      ["year 99999", { raisedOn: "99999-01-01" }, /raisedOn/],
      ["a date far ahead", { raisedOn: "2999-01-01" }, "input.raisedOn"],
    ])("raiseFactorIssue: %s", async (_name, patch, field) => {
      await refusedUnchanged(() => as(tokens["410000"], RAISE, { i: issue(patch) }), "BAD_USER_INPUT", field);
    });

    it("resolveFactorIssue: ids that are no issue ids, impossible dates, a 100 KB note, a note with control characters", async () => {
      const raised = await as(tokens["410000"], RAISE, { i: issue({}) });
      expect(raised.errors).toBeUndefined();
      const id = raised.data.raiseFactorIssue.id;
      const [{ id: maxIssue }] = await server.db.query("SELECT MAX(id) AS id FROM factor_issue");
      for (const [args, field] of [
        [{ id: "abc", on: "2024-06-01" }, "id"],
        [{ id: "-1", on: "2024-06-01" }, "id"],
        [{ id: "1".repeat(100_000), on: "2024-06-01" }, "id"],
        [{ id: String(Number(maxIssue) + 1000), on: "2024-06-01" }, "id"],
        [{ id, on: "2024-05-05" }, "resolvedOn"],
        [{ id, on: "2999-01-01" }, "resolvedOn"],
        [{ id, on: "2024-06-01", note: "n".repeat(100_000) }, "note"],
        [{ id, on: "2024-06-01", note: "a\u0000b" }, "note"],
        [{ id, on: "2024-06-01", note: "\u202e" }, "note"],
      ] as const) {
        await refusedUnchanged(() => as(tokens["410000"], RESOLVE, args), "BAD_USER_INPUT", field);
      }
      await refusedUnchanged(() => as(tokens["410000"], RESOLVE, { id, on: "2024-13-01" }), "BAD_USER_INPUT", /resolvedOn|Date/);
    });
  });

  describe("the new read fields with bad arguments: BAD_USER_INPUT, never a 500", () => {
    it.each([
      ["factorIssues first: 0", `{ region(code: "410000") { factorIssues(first: 0) { id } } }`, "first"],
      ["factorIssues first: 1e9", `{ region(code: "410000") { factorIssues(first: 1000000000) { id } } }`, "first"],
      ["factorIssues first: -1", `{ region(code: "410000") { factorIssues(first: -1) { id } } }`, "first"],
      ["assessment year 0", `{ region(code: "410000") { assessment(year: 0) { stage } } }`, "year"],
      ["assessment year 99999", `{ region(code: "410000") { assessment(year: 99999) { stage } } }`, "year"],
      ["assessment quarter 5", `{ region(code: "410000") { assessment(year: 2021, quarter: 5) { stage } } }`, "quarter"],
      ["assessment quarter 0", `{ region(code: "410000") { assessment(year: 2021, quarter: 0) { stage } } }`, "quarter"],
      ["assessment quarter -1", `{ region(code: "410000") { assessment(year: 2021, quarter: -1) { stage } } }`, "quarter"],
      ["rankings of an unknown parent", `{ rankings(parentCode: "999999", stage: SIGNED, year: 2021) { rank } }`, "parentCode"],
      ["rankings of a 100 KB parent", `{ rankings(parentCode: "${"4".repeat(60_000)}", stage: SIGNED, year: 2021) { rank } }`, "parentCode"],
      ["rankings quarter 7", `{ rankings(parentCode: "410000", stage: SIGNED, year: 2021, quarter: 7) { rank } }`, "quarter"],
      ["outputStats year 0", `{ region(code: "410000") { outputStats(year: 0) { reportingProjects } } }`, "year"],
      ["outputStats year 99999", `{ region(code: "410000") { outputStats(year: 99999) { reportingProjects } } }`, "year"],
      ["outputStats with a negative bound", `{ region(code: "410000") { outputStats(year: 2022, filter: { minInvestment: -1 }) { reportingProjects } } }`, "minInvestment"],
      ["funnel with milestone dates reversed", `{ region(code: "410000") { funnel(filter: { milestone: { stage: EFFECTIVE, from: "2030-01-01", to: "2000-01-01" } }) { rate } } }`, "milestone"],
    ])("%s", async (_name, query, field) => {
      const reply = await as(null, query);
      expect(reply.status).toBeLessThan(500);
      expect(codes(reply)).toEqual(["BAD_USER_INPUT"]);
      expect(reply.errors![0].extensions?.field ?? reply.errors![0].message).toContain(field);
    });

    it("unknown enums and lists nested where a list is expected are refused while coerced (400)", async () => {
      for (const [query, variables] of [
        [`query Q($k: [FactorKind!]) { region(code: "410000") { factorIssues(kinds: $k) { id } } }`, { k: ["LAND", "WATER"] }],
        [`query Q($k: [FactorKind!]) { region(code: "410000") { factorIssues(kinds: $k) { id } } }`, { k: [[["LAND"]]] }],
        [`query Q($s: ProjectStage!) { rankings(parentCode: "410000", stage: $s, year: 2021) { rank } }`, { s: "DONE" }],
        [`query Q($f: ProjectFilter) { region(code: "410000") { funnel(filter: $f) { rate } } }`, { f: { milestone: { stage: "SIGNED", milestone: { stage: "SIGNED" } } } }],
        [`query Q($f: ProjectFilter) { region(code: "410000") { outputStats(year: 2022, filter: $f) { reportingProjects } } }`, { f: { stages: Array.from({ length: 10_000 }, () => "NOPE") } }],
      ] as const) {
        const reply = await as(null, query, variables as Record<string, unknown>);
        expect([reply.status, codes(reply)]).toEqual([400, ["BAD_USER_INPUT"]]);
      }
    });

    it("a kinds list of 10,000 entries is read as the kinds it names", async () => {
      const query = `query Q($k: [FactorKind!]) { region(code: "410000") { factorIssues(kinds: $k, first: 100) { id kind } } }`;
      const many = await as(null, query, { k: Array.from({ length: 10_000 }, (_, i) => (i % 2 ? "LAND" : "APPROVAL")) });
      const two = await as(null, query, { k: ["APPROVAL", "LAND"] });
      expect(many.errors).toBeUndefined();
      expect(many.data).toEqual(two.data);
    });
  });

  describe("outside the token's region, revoked, anonymous: refused, nothing written", () => {
    it("a county's token reporting output, raising and resolving issues for another county's project", async () => {
      const jinshui = await projectAt("410105", IN_PRODUCTION);
      await refusedUnchanged(
        () => as(tokens["410102"], REPORT, { i: { projectId: jinshui.id, year: 2022, output: 1, designedAnnualOutput: 1, reportedOn: "2022-12-01", expectedVersion: jinshui.version } }),
        "FORBIDDEN",
        "input.projectId",
      );
      await refusedUnchanged(() => as(tokens["410102"], RAISE, { i: { projectId: jinshui.id, kind: "LAND", department: "厅", description: "d", raisedOn: "2024-05-06" } }), "FORBIDDEN", "input.projectId");
      const raised = await as(tokens["410105"], RAISE, { i: { projectId: jinshui.id, kind: "LAND", department: "厅", description: "d", raisedOn: "2024-05-06" } });
      expect(raised.errors).toBeUndefined();
      await refusedUnchanged(() => as(tokens["410102"], RESOLVE, { id: raised.data.raiseFactorIssue.id, on: "2024-06-01" }), "FORBIDDEN", "id");
    });

    it("setTarget of the token's own region, of a sibling, of the region above: FORBIDDEN", async () => {
      const input = (regionCode: string) => ({ i: { regionCode, stage: "STARTED", year: 2034, investment: 3 } });
      await refusedUnchanged(() => as(tokens["410100"], SET_TARGET, input("410100")), "FORBIDDEN", "input.regionCode");
      await refusedUnchanged(() => as(tokens["410102"], SET_TARGET, input("410102")), "FORBIDDEN", "input.regionCode");
      await refusedUnchanged(() => as(tokens["410102"], SET_TARGET, input("410105")), "FORBIDDEN", "input.regionCode");
      await refusedUnchanged(() => as(tokens["410102"], SET_TARGET, input("410100")), "FORBIDDEN", "input.regionCode");
      await refusedUnchanged(() => as(tokens["410000"], SET_TARGET, input("410000")), "FORBIDDEN", "input.regionCode");
      // The city may set its county's.
      expect((await as(tokens["410100"], SET_TARGET, input("410102"))).errors).toBeUndefined();
    });

    it("a revoked token, a made-up token and no token: UNAUTHENTICATED for each mutation", async () => {
      const project = await projectAt("410102", IN_PRODUCTION);
      const writes: Array<[string, Record<string, unknown>]> = [
        [SET_TARGET, { i: { regionCode: "410102", stage: "SIGNED", year: 2035, investment: 1 } }],
        [REPORT, { i: { projectId: project.id, year: 2022, output: 1, designedAnnualOutput: 1, reportedOn: "2022-12-01", expectedVersion: project.version } }],
        [RAISE, { i: { projectId: project.id, kind: "LAND", department: "厅", description: "d", raisedOn: "2024-05-06" } }],
        [RESOLVE, { id: "1", on: "2024-06-01" }],
      ];
      for (const token of [tokens.revoked, "mpg_not-a-token", null]) {
        for (const [query, variables] of writes) await refusedUnchanged(() => as(token, query, variables), "UNAUTHENTICATED");
      }
    });
  });

  describe("ten writers at once", () => {
    it("reportOutput ×10 on one project at one expectedVersion: one wins, nine CONFLICT, one report and one history row", async () => {
      const project = await projectAt("410102", IN_PRODUCTION, 1);
      const before = await snapshot();
      const replies = await Promise.all(
        Array.from({ length: 10 }, (_, k) =>
          as(tokens["410000"], REPORT, { i: { projectId: project.id, year: 2022, output: k + 1, designedAnnualOutput: 100, reportedOn: "2022-12-01", expectedVersion: project.version } }),
        ),
      );
      for (const reply of replies) expect(reply.text).not.toMatch(/INTERNAL_SERVER_ERROR/);
      const won = replies.filter((r) => !r.errors);
      expect(won).toHaveLength(1);
      expect(replies.filter((r) => codes(r)[0] === "CONFLICT")).toHaveLength(9);
      const reports = await server.db.query("SELECT output_wan FROM output_report WHERE project_id = ?", [project.id]);
      expect(reports.map((r: any) => Number(r.output_wan))).toEqual([won[0].data.reportOutput.outputReports[0].output]);
      const history = await server.db.query("SELECT COUNT(*) AS n FROM ledger_change WHERE project_id = ? AND operation = 'REPORT_OUTPUT'", [project.id]);
      expect(Number(history[0].n)).toBe(1);
      const after = await snapshot();
      expect([after.output_report - before.output_report, after.ledger_change - before.ledger_change, after.versions - before.versions]).toEqual([1, 1, 1]);
    });

    it("setTarget ×10 on one key: the final row is one of them, and the history chains every change from → to", async () => {
      const values = Array.from({ length: 10 }, (_, k) => ({ investment: k + 1, count: k }));
      const replies = await Promise.all(values.map((v) => as(tokens["410000"], SET_TARGET, { i: { regionCode: "410105", stage: "STARTED", year: 2040, quarter: 2, ...v } })));
      for (const reply of replies) expect(reply.text).not.toMatch(/INTERNAL_SERVER_ERROR/);
      expect(replies.filter((r) => r.errors).map(codes)).toEqual([]);
      const rows = await server.db.query("SELECT target_count, target_investment_wan FROM assessment_target t JOIN region r ON r.id = t.region_id WHERE r.code = '410105' AND t.year = 2040 AND t.quarter = 2");
      expect(rows).toHaveLength(1);
      const final = { count: Number(rows[0].target_count), wan: Number(rows[0].target_investment_wan) };
      expect(values.map((v) => ({ count: v.count, wan: v.investment * 10_000 }))).toContainEqual(final);
      const history = await server.db.query("SELECT fields FROM ledger_change WHERE operation = 'SET_TARGET' AND fields LIKE ? ORDER BY id", ["%targets.STARTED.2040-Q2.%"]);
      const changes = history.map((h: any) => (typeof h.fields === "string" ? JSON.parse(h.fields) : h.fields));
      // Every value differs from every other: each write was a change, and is recorded once.
      expect(changes).toHaveLength(10);
      let investment: string | null = null;
      for (const fields of changes) {
        const inv = fields.find((f: any) => f.field.endsWith(".investment"));
        expect(inv.from).toBe(investment);
        investment = inv.to;
      }
      // The history writes 亿元.
      expect(Math.round(Number(investment) * 10_000)).toBe(final.wan);
    });

    it("resolveFactorIssue ×10 on one issue: one answer, nine CONFLICT naming the day it was answered", async () => {
      const project = await projectAt("410105", IN_PRODUCTION);
      const raised = await as(tokens["410105"], RAISE, { i: { projectId: project.id, kind: "FINANCING", department: "省财政厅", description: "贷款未落实", raisedOn: "2024-01-02" } });
      expect(raised.errors).toBeUndefined();
      const id = raised.data.raiseFactorIssue.id;
      const replies = await Promise.all(Array.from({ length: 10 }, (_, k) => as(tokens["410000"], RESOLVE, { id, on: `2024-02-${10 + k}`, note: `第${k}次答复` })));
      for (const reply of replies) expect(reply.text).not.toMatch(/INTERNAL_SERVER_ERROR/);
      const won = replies.filter((r) => !r.errors);
      expect(won).toHaveLength(1);
      const conflicts = replies.filter((r) => codes(r)[0] === "CONFLICT");
      expect(conflicts).toHaveLength(9);
      for (const c of conflicts) expect(c.errors![0].extensions?.resolvedOn).toBe(won[0].data.resolveFactorIssue.resolvedOn);
      const [row] = await server.db.query("SELECT resolved_on FROM factor_issue WHERE id = ?", [id]);
      expect(String(row.resolved_on).slice(0, 10)).toBe(won[0].data.resolveFactorIssue.resolvedOn);
      const history = await server.db.query("SELECT COUNT(*) AS n FROM ledger_change WHERE operation = 'RESOLVE_FACTOR_ISSUE' AND fields LIKE ?", [`%factorIssues.${id}.resolvedOn%`]);
      expect(Number(history[0].n)).toBe(1);
    });
  });

  describe("the CSV routes with bad parameters: 400 naming the parameter", () => {
    const get = async (path: string) => {
      const response = await fetch(server.url.replace(/\/graphql$/, path));
      return { status: response.status, text: await response.text() };
    };
    const A = "/export/assessment.csv?parentCode=410000&stage=SIGNED&year=2021";

    it.each([
      [`${A}&bogus=1`, "bogus"],
      [`${A}&quarter=7`, "quarter"],
      [`${A}&quarter=0`, "quarter"],
      [`${A}&quarter=-1`, "quarter"],
      [`${A}&encoding=latin1`, "encoding"],
      [`${A}&unit=BTC`, "unit"],
      [`${A}&stage=STARTED`, "stage"],
      ["/export/assessment.csv?parentCode=999999&stage=SIGNED&year=2021", "parentCode"],
      ["/export/assessment.csv?parentCode=410000&stage=constructor&year=2021", "stage"],
      ["/export/assessment.csv?parentCode=410000&stage=__proto__&year=2021", "stage"],
      ["/export/assessment.csv?parentCode=410000&stage=SIGNED&year=0", "year"],
      ["/export/assessment.csv?parentCode=410000&stage=SIGNED&year=99999", "year"],
      ["/export/assessment.csv?parentCode=410000&stage=SIGNED&year=1e3", "year"],
      ["/export/assessment.csv?parentCode=410000&stage=SIGNED", "year"],
      [`/export/assessment.csv?parentCode=${"4".repeat(5000)}&stage=SIGNED&year=2021`, "parentCode"],
      ["/export/assessment.csv?parentCode=%E0%A4%A&stage=SIGNED&year=2021", "parentCode"],
      ["/export/factor-issues.csv?region=999999", "region"],
      ["/export/factor-issues.csv?region=410000&stage=EFFECTIVE", "stage"],
      ["/export/factor-issues.csv?region=410000&encoding=latin1", "encoding"],
      ["/export/factor-issues.csv?region=410000&kinds=LAND,WATER", "kinds"],
      ["/export/factor-issues.csv?region=410000&kinds=,,,", "kinds"],
      ["/export/factor-issues.csv?region=410000&region=410100", "region"],
      ["/export/factor-issues.csv", "region"],
      [`/export/factor-issues.csv?region=${"4".repeat(5000)}`, "region"],
    ])("GET %s", async (path, param) => {
      const reply = await get(path);
      expect(reply.status).toBe(400);
      expect(reply.text).toContain(`${param}:`);
    });

    it("the new stages and a county are answered, not refused: RESERVE and EFFECTIVE sheets, a county's empty ranking (it has no children)", async () => {
      for (const stage of ["RESERVE", "EFFECTIVE"]) {
        const reply = await get(`/export/assessment.csv?parentCode=410000&stage=${stage}&year=2021`);
        expect(reply.status).toBe(200);
        expect(reply.text.split("\r\n").filter(Boolean).length).toBe(19); // header and the 18 cities
      }
      const county = await get("/export/assessment.csv?parentCode=410102&stage=SIGNED&year=2021");
      expect(county.status).toBe(200);
      expect(county.text.split("\r\n").filter(Boolean)).toHaveLength(1);
      const repeated = await get(`/export/factor-issues.csv?region=410000&kinds=${Array.from({ length: 2000 }, () => "LAND").join(",")}`);
      const once = await get("/export/factor-issues.csv?region=410000&kinds=LAND");
      expect(repeated.status).toBe(200);
      expect(repeated.text).toBe(once.text);
    });
  });

  describe("cost and aliases", () => {
    it("50 aliases of rankings, or of region { children { children { assessment } } }, are refused by the limits, not run", async () => {
      const rankings = Array.from({ length: 50 }, (_, i) => `a${i}: rankings(parentCode: "410000", stage: SIGNED, year: ${2000 + i}) { rank }`).join(" ");
      const tree = Array.from({ length: 50 }, (_, i) => `a${i}: children { children { assessment(year: ${2000 + (i % 100)}) { rank } } }`).join(" ");
      for (const query of [`{ ${rankings} }`, `{ region(code: "410000") { ${tree} } }`]) {
        const reply = await as(null, query);
        expect(reply.status).toBe(400);
        expect(codes(reply).every((c) => ["QUERY_TOO_MANY_ALIASES", "QUERY_TOO_MANY_ROOT_FIELDS", "QUERY_TOO_COMPLEX"].includes(c))).toBe(true);
        expect(reply.data ?? null).toBeNull();
      }
      // Within the alias limit, 30 periods of a whole tree's assessment are refused by the cost.
      const thirty = Array.from({ length: 30 }, (_, i) => `a${i}: children { children { assessment(year: ${2001 + i}, quarter: ${(i % 4) + 1}) { rank stage reachedInvestment } } }`).join(" ");
      const reply = await as(null, `{ region(code: "410000") { ${thirty} } }`);
      expect([reply.status, codes(reply)]).toEqual([400, ["QUERY_TOO_COMPLEX"]]);
    });

    it("a whole province-to-county assessment, funnel, output and factor request is accepted", async () => {
      const fields = `assessment(year: 2021, quarter: 3) { stage targetCount targetInvestment reachedCount reachedInvestment completionRate rank card }
        funnel { from to reached advanced rate } outputStats(year: 2022) { reportingProjects reachedRate byBand { band projectCount } }
        factorStats { openIssues blockedProjects byKind { kind openIssues } } factorIssues(first: 5) { id daysOpen }`;
      const reply = await as(null, `{ region(code: "410000") { ${fields} children { ${fields} children { ${fields} } } } rankings(parentCode: "410000", stage: SIGNED, year: 2021) { region { code } rank card } }`);
      expect(reply.errors).toBeUndefined();
      expect(reply.data.region.children.length).toBeGreaterThan(10);
    });

    it("aliases that multiply a region listing past 500 subqueries are answered (SQLite joins at most 500 SELECTs in one UNION ALL)", async () => {
      const regions = Number((await server.db.query("SELECT COUNT(*) AS n FROM region"))[0].n);
      const aliases = Math.ceil(501 / regions) + 1;
      for (const [field, unaliased] of [
        ["factorIssues(first: %d) { id }", "factorIssues(first: 1) { id }"],
        ["changes(first: %d) { nodes { id } }", "changes(first: 1) { nodes { id } }"],
        ["projects(first: %d) { nodes { id } }", "projects(first: 1) { nodes { id } }"],
      ]) {
        const query = `{ ${Array.from({ length: aliases }, (_, i) => `a${i}: regions { code ${field.replace("%d", String(i + 1))} }`).join(" ")} }`;
        const reply = await as(null, query);
        expect(reply.text).not.toMatch(/INTERNAL_SERVER_ERROR/);
        expect(reply.errors).toBeUndefined();
        expect(reply.data.a0).toHaveLength(regions);
        // The first alias agrees with the same field asked alone.
        const alone = await as(null, `{ regions { code ${unaliased} } }`);
        expect(reply.data.a0).toEqual(alone.data.regions);
      }
    });

    it("funnel and outputStats cost as grouped queries: each distinct filter or year adds GROUPED_QUERY_COST once", async () => {
      const schema = await buildAppSchema();
      const { limits } = loadConfig({ MAX_COST: "1000000000" });
      const cost = (query: string) => checkCost(schema, MODEL, limits, parse(query), undefined, {});
      const one = cost(`{ region(code: "410000") { funnel { rate } } }`);
      const repeated = cost(`{ region(code: "410000") { funnel { rate } a: funnel { rate } } }`);
      const two = cost(`{ region(code: "410000") { funnel { rate } a: funnel(filter: { minInvestment: 1 }) { rate } } }`);
      expect(two - repeated).toBe(GROUPED_QUERY_COST);
      expect(one).toBeGreaterThanOrEqual(GROUPED_QUERY_COST);
      const years = cost(`{ region(code: "410000") { a: outputStats(year: 2022) { reportingProjects } b: outputStats(year: 2023) { reportingProjects } } }`);
      const sameYear = cost(`{ region(code: "410000") { a: outputStats(year: 2022) { reportingProjects } b: outputStats(year: 2022) { reportingProjects } } }`);
      expect(years - sameYear).toBe(GROUPED_QUERY_COST);
    });
  });
});
