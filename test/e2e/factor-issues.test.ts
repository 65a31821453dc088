/**
 * 要素保障 over HTTP on each database: raising and resolving factor issues
 * through the ledger (history kept, the project's version moved by one, the
 * region's data version moved), every rule of the two mutations (dates,
 * text, unknown ids, scope, anonymous, an issue answered twice, two answers
 * at once), Project.factorIssues, Region.factorIssues's order and filters and
 * Region.factorStats against an oracle computed here from the issues the test
 * wrote, a constant number of SQL statements for a whole province-to-county
 * request, and the weekly CSV sheet (rows, order, formula injection, GB18030).
 */
import iconv from "iconv-lite";

import { createToken } from "../../src/auth/tokens";
import { createFactorStatsLoader, createRegionFactorIssuesLoader, regionIssuesRequest } from "../../src/factor/factor-issue.loaders";
import { SYSTEM_ACTOR } from "../../src/ledger/actor";
import { raiseFactorIssue } from "../../src/ledger/operations/factor-issues";
import { Problems } from "../../src/ledger/problems";
import { createContext } from "../../src/server/context";
import { readCostModel } from "../../src/server/cost";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";
import { problemsOf, type Reply, writes } from "../support/writes";

const RAISE = `mutation Raise($input: RaiseFactorIssueInput!) {
  raiseFactorIssue(input: $input) { id kind department description raisedOn resolvedOn resolution open daysOpen project { id version } }
}`;
const RESOLVE = `mutation Resolve($id: ID!, $on: Date!, $note: String) {
  resolveFactorIssue(id: $id, resolvedOn: $on, note: $note) { id kind raisedOn resolvedOn resolution open daysOpen project { id } }
}`;
const HISTORY = `query History($id: ID!) {
  project(id: $id) { version factorIssues { id resolvedOn } open: factorIssues(open: true) { id } answered: factorIssues(open: false) { id }
    history(first: 10) { nodes { operation office projectVersion fields { field from to } } } }
}`;
const LISTING = `query Listing($code: ID!, $open: Boolean, $kinds: [FactorKind!], $first: Int) {
  region(code: $code) { factorIssues(open: $open, kinds: $kinds, first: $first) { id kind raisedOn resolvedOn daysOpen project { id } } }
}`;
const STATS = `query Stats($code: ID!) {
  region(code: $code) { factorStats { blockedProjects openIssues longestOpenDays
    byKind { kind openIssues blockedProjects longestOpenDays } byDepartment { department openIssues blockedProjects longestOpenDays } } }
}`;

/** Today (UTC), as the server counts daysOpen when it is not pinned. */
const utcToday = () => new Date().toISOString().slice(0, 10);
/** Days open from `from` to `to`, as the contract counts them: 0 for an issue raised on a later day. */
const daysOpen = (from: string, to: string) => Math.max(0, Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000));
/** A UTC day `offset` days from today. */
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

/** The single error code of a refused operation. */
function codeOf(reply: Reply): string | undefined {
  expect(reply.errors).toHaveLength(1);
  return reply.errors![0].extensions?.code;
}


/** What the test knows of every issue it wrote (the scratch database has no others). */
interface Known {
  id: string;
  projectId: string;
  regionCode: string;
  kind: string;
  department: string;
  raisedOn: string;
  resolvedOn: string | null;
}

/** Whether a project in `projectRegion` lies in the subtree of `code` (GB/T 2260: province xx0000, city xxxx00). */
function inSubtree(code: string, projectRegion: string): boolean {
  if (code.endsWith("0000")) return projectRegion.slice(0, 2) === code.slice(0, 2);
  if (code.endsWith("00")) return projectRegion.slice(0, 4) === code.slice(0, 4);
  return projectRegion === code;
}

/** A small RFC 4180 reader: records of fields. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") record.push(field), (field = "");
    else if (c === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      (record = []), (field = ""), i++;
    } else field += c;
  }
  if (field !== "" || record.length) records.push([...record, field]);
  return records;
}

const KINDS = ["PLANNING", "APPROVAL", "ENVIRONMENT", "LAND", "FINANCING", "STAFFING", "UTILITIES", "OTHER"];
const zh = new Intl.Collator("zh-Hans-CN");

describe.each(DB_KINDS)("factor issues (要素保障) on %s", (kind) => {
  let server: TestServer;
  let province: string;
  let zhengzhou: string;
  let kaifeng: string;
  const known: Known[] = [];

  beforeAll(async () => {
    server = await startTestServer(kind, { DATA_VERSION_TTL_MS: "60000" });
    province = (await createToken(server.db, { regionCode: "410000", name: "河南省发展和改革委员会" })).token;
    zhengzhou = (await createToken(server.db, { regionCode: "410100", name: "郑州市发展和改革委员会" })).token;
    kaifeng = (await createToken(server.db, { regionCode: "410200", name: "开封市发展和改革委员会" })).token;
    // The seed's illustrative problems (src/seed/synthetic-layer.ts) are there from the start: the oracle holds them too.
    const seeded: Array<{ id: number; project_id: number; code: string; kind: string; department: string; raised_on: string; resolved_on: string | null }> = await server.db.query(
      "SELECT f.id, f.project_id, r.code, f.kind, f.department, f.raised_on, f.resolved_on FROM factor_issue f JOIN project p ON p.id = f.project_id JOIN region r ON r.id = p.region_id WHERE f.synthetic = 1",
    );
    const day = (value: unknown) => (value instanceof Date ? value.toISOString() : String(value)).slice(0, 10);
    for (const row of seeded) {
      known.push({ id: String(row.id), projectId: String(row.project_id), regionCode: row.code, kind: row.kind, department: row.department, raisedOn: day(row.raised_on), resolvedOn: row.resolved_on === null ? null : day(row.resolved_on) });
    }
  });
  afterAll(async () => server?.close());

  const { as, newProject } = writes(() => server, kind, () => province);

  /** Raises an issue with `token` and keeps it in `known`. */
  async function raise(project: { id: string; region: { code: string } }, input: { kind: string; department: string; raisedOn: string; description?: string }, token = province): Promise<any> {
    const reply = await as(token, RAISE, { input: { projectId: project.id, description: `${input.kind} 问题`, ...input } });
    expect(reply.errors).toBeUndefined();
    const issue = reply.data.raiseFactorIssue;
    known.push({ id: issue.id, projectId: project.id, regionCode: project.region.code, kind: input.kind, department: input.department.trim(), raisedOn: input.raisedOn, resolvedOn: null });
    return issue;
  }

  async function resolve(id: string, on: string, note?: string, token = province): Promise<any> {
    const reply = await as(token, RESOLVE, { id, on, note });
    expect(reply.errors).toBeUndefined();
    known.find((k) => k.id === id)!.resolvedOn = on;
    return reply.data.resolveFactorIssue;
  }

  /** Runs `read` until today is the same before and after it (a read across midnight UTC is done again); gives today with the answer. */
  async function atToday<T>(read: () => Promise<T>): Promise<{ today: string; value: T }> {
    for (;;) {
      const before = utcToday();
      const value = await read();
      if (utcToday() === before) return { today: before, value };
    }
  }

  async function regionId(code: string): Promise<number> {
    const [row] = await server.db.query("SELECT id FROM region WHERE code = ?", [code]);
    return Number(row.id);
  }

  async function dataVersion(code: string): Promise<number> {
    const rows = await server.db.query("SELECT version FROM data_version WHERE id = ?", [await regionId(code)]);
    return rows.length ? Number(rows[0].version) : 0;
  }

  describe("raising and resolving", () => {
    it("raises an issue through the ledger: trimmed text, history on the project at its next version, the region's data version moved", async () => {
      const project = await newProject({ regionCode: "410102" });
      const versionBefore = await dataVersion("410102");
      const issue = await raise(project, { kind: "LAND", department: "  省自然资源厅\u3000", raisedOn: "2024-05-06", description: "  用地指标未落实 " });
      expect(issue).toEqual({
        id: expect.stringMatching(/^\d+$/),
        kind: "LAND",
        department: "省自然资源厅",
        description: "用地指标未落实",
        raisedOn: "2024-05-06",
        resolvedOn: null,
        resolution: null,
        open: true,
        daysOpen: expect.any(Number),
        project: { id: project.id, version: project.version + 1 },
      });
      expect(await dataVersion("410102")).toBeGreaterThan(versionBefore);

      const read = await as(null, HISTORY, { id: project.id });
      expect(read.errors).toBeUndefined();
      expect(read.data.project.version).toBe(project.version + 1);
      expect(read.data.project.factorIssues).toEqual([{ id: issue.id, resolvedOn: null }]);
      expect(read.data.project.open).toEqual([{ id: issue.id }]);
      expect(read.data.project.answered).toEqual([]);
      expect(read.data.project.history.nodes[0]).toEqual({
        operation: "RAISE_FACTOR_ISSUE",
        office: "河南省发展和改革委员会",
        projectVersion: project.version + 1,
        fields: [
          { field: `factorIssues.${issue.id}.kind`, from: null, to: "LAND" },
          { field: `factorIssues.${issue.id}.department`, from: null, to: "省自然资源厅" },
          { field: `factorIssues.${issue.id}.description`, from: null, to: "用地指标未落实" },
          { field: `factorIssues.${issue.id}.raisedOn`, from: null, to: "2024-05-06" },
        ],
      });
    });

    it("resolves an issue: daysOpen counts to resolvedOn, the note and the history kept; answering it again is CONFLICT", async () => {
      const project = await newProject({ regionCode: "410105" });
      const issue = await raise(project, { kind: "APPROVAL", department: "省发展改革委", raisedOn: "2024-01-10" });
      const { today, value: open } = await atToday(() => as(null, HISTORY, { id: project.id }));
      expect(open.data.project.factorIssues).toEqual([{ id: issue.id, resolvedOn: null }]);
      const listed = await atToday(() => as(null, LISTING, { code: "410105", open: true }));
      expect(listed.value.data.region.factorIssues.find((i: any) => i.id === issue.id).daysOpen).toBe(daysOpen("2024-01-10", listed.today));
      expect(today).toBeTruthy();

      const versionBefore = await dataVersion("410105");
      const resolved = await resolve(issue.id, "2024-03-01", "  已完成核准 ");
      expect(resolved).toEqual({ id: issue.id, kind: "APPROVAL", raisedOn: "2024-01-10", resolvedOn: "2024-03-01", resolution: "已完成核准", open: false, daysOpen: 51, project: { id: project.id } });
      expect(await dataVersion("410105")).toBeGreaterThan(versionBefore);

      const read = await as(null, HISTORY, { id: project.id });
      expect(read.data.project.version).toBe(project.version + 2); // raised, then resolved
      expect(read.data.project.open).toEqual([]);
      expect(read.data.project.answered).toEqual([{ id: issue.id }]);
      expect(read.data.project.history.nodes[0]).toEqual({
        operation: "RESOLVE_FACTOR_ISSUE",
        office: "河南省发展和改革委员会",
        projectVersion: project.version + 2,
        fields: [
          { field: `factorIssues.${issue.id}.resolvedOn`, from: null, to: "2024-03-01" },
          { field: `factorIssues.${issue.id}.resolution`, from: null, to: "已完成核准" },
        ],
      });

      const again = await as(province, RESOLVE, { id: issue.id, on: "2024-04-01" });
      expect(codeOf(again)).toBe("CONFLICT");
      expect(again.errors![0].message).toMatch(/already resolved on 2024-03-01/);
      expect(again.errors![0].extensions).toMatchObject({ issueId: issue.id, resolvedOn: "2024-03-01" });
      const after = await as(null, HISTORY, { id: project.id });
      expect(after.data.project.history.nodes.filter((n: any) => n.operation === "RESOLVE_FACTOR_ISSUE")).toHaveLength(1);
    });

    it("a project edit at the version read before an issue was raised is CONFLICT with the current version; at that version it goes through", async () => {
      const project = await newProject({ regionCode: "410102" });
      await raise(project, { kind: "FINANCING", department: "国家开发银行河南省分行", raisedOn: "2024-02-01" });
      const edit = (v: number) => as(province, `mutation($id: ID!, $v: Int!) { updateProject(id: $id, expectedVersion: $v, input: { investment: 2 }) { version } }`, { id: project.id, v });
      const stale = await edit(project.version);
      expect(codeOf(stale)).toBe("CONFLICT");
      expect(stale.errors![0].extensions).toMatchObject({ currentVersion: project.version + 1 });
      const fresh = await edit(project.version + 1);
      expect(fresh.errors).toBeUndefined();
      expect(fresh.data.updateProject.version).toBe(project.version + 2);
    });

    it("two answers to one issue at once: exactly one wins, the other is CONFLICT", async () => {
      const project = await newProject({ regionCode: "410102" });
      const issue = await raise(project, { kind: "UTILITIES", department: "国网河南省电力公司", raisedOn: "2024-02-02" });
      const replies = await Promise.all([as(province, RESOLVE, { id: issue.id, on: "2024-03-03" }), as(zhengzhou, RESOLVE, { id: issue.id, on: "2024-03-04" })]);
      const won = replies.filter((r) => !r.errors);
      const lost = replies.filter((r) => r.errors);
      expect(won).toHaveLength(1);
      expect(lost.map(codeOf)).toEqual(["CONFLICT"]);
      const on = won[0].data.resolveFactorIssue.resolvedOn;
      known.find((k) => k.id === issue.id)!.resolvedOn = on;
      const read = await as(null, HISTORY, { id: project.id });
      expect(read.data.project.history.nodes.filter((n: any) => n.operation === "RESOLVE_FACTOR_ISSUE")).toHaveLength(1);
      const [row] = await server.db.query("SELECT resolved_on FROM factor_issue WHERE id = ?", [Number(issue.id)]);
      expect(String(row.resolved_on).slice(0, 10)).toBe(on);
    });
  });

  describe("rules", () => {
    let project: any;
    let issue: any;
    beforeAll(async () => {
      project = await newProject({ regionCode: "410102" });
      issue = await raise(project, { kind: "ENVIRONMENT", department: "省生态环境厅", raisedOn: "2024-04-01" }, zhengzhou);
    });

    it("refuses a resolvedOn before raisedOn, naming resolvedOn", async () => {
      expect(problemsOf(await as(province, RESOLVE, { id: issue.id, on: "2024-03-31" }))).toEqual([{ field: "resolvedOn", reason: expect.stringMatching(/not be before 2024-04-01/) }]);
    });

    it("accepts resolvedOn on the day it was raised (0 days open)", async () => {
      const other = await raise(project, { kind: "OTHER", department: "中原区人民政府", raisedOn: "2024-04-02" });
      expect((await resolve(other.id, "2024-04-02")).daysOpen).toBe(0);
    });

    it("reports every problem of a raise together: blank department, overlong or multi-line description, impossible and future dates", async () => {
      const reply = await as(province, RAISE, { input: { projectId: project.id, kind: "LAND", department: " \u3000 ", description: "第一行\n第二行", raisedOn: "2023-02-29" } });
      expect(problemsOf(reply)).toEqual([
        { field: "input.department", reason: expect.stringMatching(/1 to 100 characters.*got 0/) },
        { field: "input.description", reason: expect.stringMatching(/control characters/) },
        { field: "input.raisedOn", reason: expect.stringMatching(/calendar date/) },
      ]);
      const long = await as(province, RAISE, { input: { projectId: project.id, kind: "LAND", department: "部".repeat(101), description: "述".repeat(1001), raisedOn: day(40) } });
      expect(problemsOf(long)).toEqual([
        { field: "input.department", reason: expect.stringMatching(/1 to 100 characters.*101/) },
        { field: "input.description", reason: expect.stringMatching(/1 to 1000 characters.*1001/) },
        { field: "input.raisedOn", reason: expect.stringMatching(/31 days from today/) },
      ]);
      const invisible = await as(province, RAISE, { input: { projectId: project.id, kind: "LAND", department: "省\u200b自然资源厅", description: "x", raisedOn: "1948-12-31" } });
      expect(problemsOf(invisible)).toEqual([
        { field: "input.department", reason: expect.stringMatching(/invisible/) },
        { field: "input.raisedOn", reason: expect.stringMatching(/1949-01-01/) },
      ]);
    });

    it("refuses a kind that is no FactorKind as BAD_USER_INPUT", async () => {
      const reply = await as(province, RAISE, { input: { projectId: project.id, kind: "WEATHER", department: "省气象局", description: "x", raisedOn: "2024-01-01" } });
      expect(codeOf(reply)).toBe("BAD_USER_INPUT");
      expect(reply.errors![0].message).toMatch(/WEATHER/);
    });

    it("refuses unknown projects and issues as BAD_USER_INPUT naming the field", async () => {
      expect(problemsOf(await as(province, RAISE, { input: { projectId: "987654321", kind: "LAND", department: "省自然资源厅", description: "x", raisedOn: "2024-01-01" } }))).toEqual([
        { field: "input.projectId", reason: 'no project "987654321"' },
      ]);
      expect(problemsOf(await as(province, RAISE, { input: { projectId: "abc", kind: "LAND", department: "省自然资源厅", description: "x", raisedOn: "2024-01-01" } }))).toEqual([
        { field: "input.projectId", reason: expect.stringMatching(/must be an id/) },
      ]);
      expect(problemsOf(await as(province, RESOLVE, { id: "987654321", on: "2024-05-01" }))).toEqual([{ field: "id", reason: 'no factor issue "987654321"' }]);
      expect(problemsOf(await as(province, RESOLVE, { id: issue.id, on: "2024-05-01", note: "\u0007" }))).toEqual([{ field: "note", reason: expect.stringMatching(/control characters/) }]);
    });

    it("a token of another region is FORBIDDEN to raise or resolve; anonymous is UNAUTHENTICATED; nothing is written", async () => {
      const count = async () => Number((await server.db.query("SELECT COUNT(*) AS n FROM factor_issue"))[0].n);
      const before = await count();
      const raised = await as(kaifeng, RAISE, { input: { projectId: project.id, kind: "LAND", department: "开封市自然资源局", description: "x", raisedOn: "2024-01-01" } });
      expect(codeOf(raised)).toBe("FORBIDDEN");
      expect(raised.errors![0].message).toMatch(/中原区 \(410102\)/);
      expect(codeOf(await as(kaifeng, RESOLVE, { id: issue.id, on: "2024-05-01" }))).toBe("FORBIDDEN");
      const anonymous = await as(null, RAISE, { input: { projectId: project.id, kind: "LAND", department: "x", description: "x", raisedOn: "2024-01-01" } });
      expect(codeOf(anonymous)).toBe("UNAUTHENTICATED");
      expect(codeOf(await as(null, RESOLVE, { id: issue.id, on: "2024-05-01" }))).toBe("UNAUTHENTICATED");
      expect(await count()).toBe(before);
      const [row] = await server.db.query("SELECT resolved_on FROM factor_issue WHERE id = ?", [Number(issue.id)]);
      expect(row.resolved_on).toBeNull();
    });
  });

  describe("reads against an oracle", () => {
    beforeAll(async () => {
      // A spread of issues over 郑州 (two counties), 开封, 洛阳 and 济源 (a city without counties), some answered.
      const places = ["410102", "410105", "410202", "410203", "410302", "419001"];
      const projects = [];
      for (const code of places) projects.push(await newProject({ regionCode: code }), await newProject({ regionCode: code }));
      const departments = ["省自然资源厅", "省发展改革委", "省生态环境厅", "郑州市自然资源和规划局", "国网河南省电力公司"];
      let n = 0;
      for (const [i, project] of projects.entries()) {
        for (let j = 0; j < 1 + (i % 3); j++) {
          n++;
          const raisedOn = `2024-${String(1 + (n % 9)).padStart(2, "0")}-${String(1 + ((n * 7) % 27)).padStart(2, "0")}`;
          const issue = await raise(project, { kind: KINDS[(n * 3) % KINDS.length], department: departments[(n + i) % departments.length], raisedOn });
          if (n % 4 === 0) await resolve(issue.id, `2024-12-${String(1 + (n % 20)).padStart(2, "0")}`);
        }
      }
      // Two raised the same day, to see the id break the tie.
      const twins = [await raise(projects[0], { kind: "LAND", department: "省自然资源厅", raisedOn: "2023-06-01" }), await raise(projects[3], { kind: "LAND", department: "省自然资源厅", raisedOn: "2023-06-01" })];
      expect(Number(twins[0].id)).toBeLessThan(Number(twins[1].id));
    });

    /** The oracle of Region.factorIssues: this test's own issues, filtered and ordered by the contract's words. */
    function expectedListing(code: string, today: string, open: boolean | null, kinds: string[] | null, first: number): string[] {
      return known
        .filter((k) => inSubtree(code, k.regionCode))
        .filter((k) => open === null || (k.resolvedOn === null) === open)
        .filter((k) => kinds === null || kinds.includes(k.kind))
        .map((k) => ({ ...k, days: daysOpen(k.raisedOn, k.resolvedOn ?? today) }))
        .sort((a, b) => b.days - a.days || a.raisedOn.localeCompare(b.raisedOn) || Number(a.id) - Number(b.id))
        .slice(0, first)
        .map((k) => k.id);
    }

    it.each([
      ["410000", true, null, 100],
      ["410000", null, null, 100],
      ["410000", false, null, 100],
      ["410100", true, null, 5],
      ["410100", null, ["LAND", "APPROVAL"], 100],
      ["410102", true, ["LAND"], 3],
      ["419001", null, null, 20],
      ["410200", true, ["PLANNING", "UTILITIES", "OTHER"], 2],
    ] as Array<[string, boolean | null, string[] | null, number]>)("Region(%s).factorIssues(open: %s, kinds: %j, first: %s) is the oracle's, longest open first", async (code, open, kinds, first) => {
      const { today, value: reply } = await atToday(() => as(null, LISTING, { code, open, kinds, first }));
      expect(reply.errors).toBeUndefined();
      const listed = reply.data.region.factorIssues;
      const expected = expectedListing(code, today, open, kinds, first);
      expect(expected.length).toBeGreaterThan(0);
      expect(listed.map((i: any) => i.id)).toEqual(expected);
      for (const issue of listed) {
        const mine = known.find((k) => k.id === issue.id)!;
        expect(issue).toMatchObject({ kind: mine.kind, raisedOn: mine.raisedOn, resolvedOn: mine.resolvedOn, daysOpen: daysOpen(mine.raisedOn, mine.resolvedOn ?? today), project: { id: mine.projectId } });
      }
    });

    it("Region.factorIssues defaults to 20 and bounds first to 1..100", async () => {
      const { today, value } = await atToday(() => as(null, LISTING, { code: "410000" }));
      expect(value.data.region.factorIssues.map((i: any) => i.id)).toEqual(expectedListing("410000", today, null, null, 20));
      for (const first of [0, 101]) {
        const reply = await as(null, LISTING, { code: "410000", first });
        expect(codeOf(reply)).toBe("BAD_USER_INPUT");
        expect(reply.errors![0].extensions).toMatchObject({ field: "first" });
      }
    });

    it.each(["410000", "410100", "410102", "410200", "410300", "419001", "411000"])("Region(%s).factorStats is the oracle's", async (code) => {
      const { today, value: reply } = await atToday(() => as(null, STATS, { code }));
      expect(reply.errors).toBeUndefined();
      const open = known.filter((k) => k.resolvedOn === null && inSubtree(code, k.regionCode));
      const group = (rows: Known[]) => ({
        openIssues: rows.length,
        blockedProjects: new Set(rows.map((r) => r.projectId)).size,
        longestOpenDays: Math.max(...rows.map((r) => daysOpen(r.raisedOn, today))),
      });
      const byKind = KINDS.filter((k) => open.some((o) => o.kind === k)).map((k) => ({ kind: k, ...group(open.filter((o) => o.kind === k)) }));
      const byDepartment = [...new Set(open.map((o) => o.department))]
        .map((department) => ({ department, ...group(open.filter((o) => o.department === department)) }))
        .sort((a, b) => b.openIssues - a.openIssues || b.longestOpenDays - a.longestOpenDays || (a.department < b.department ? -1 : 1));
      expect(reply.data.region.factorStats).toEqual({
        blockedProjects: new Set(open.map((o) => o.projectId)).size,
        openIssues: open.length,
        longestOpenDays: open.length ? group(open).longestOpenDays : null,
        byKind,
        byDepartment,
      });
    });

    it("a province-to-county request of every region's stats and listing takes as many SQL statements as one county's", async () => {
      const body = `factorStats { blockedProjects byKind { kind openIssues } byDepartment { department openIssues } } factorIssues(open: true, first: 5) { id daysOpen project { id name } }`;
      const tree = `query { region(code: "410000") { ${body} children { ${body} children { ${body} } } } }`;
      const county = `query { region(code: "410102") { ${body} } }`;
      const counts = async (query: string) => {
        await server.gql(query); // warm the trees
        const reply = await server.gql(query);
        expect(reply.errors).toBeUndefined();
        return { reply, statements: reply.sqlStatements };
      };
      const one = await counts(county);
      const all = await counts(tree);
      const regions = [all.reply.data.region, ...all.reply.data.region.children, ...all.reply.data.region.children.flatMap((c: any) => c.children)];
      expect(regions.length).toBeGreaterThan(170);
      expect(all.statements).toBe(one.statements);
      expect(all.statements).toBeLessThanOrEqual(5);
      // And the projects of a page, each with its issues: one statement for the issues whatever the page size.
      const page = (n: number) => `query { projects(first: ${n}, filter: { regionCodes: ["410100"] }, orderBy: { field: NAME, direction: DESC }) { nodes { id factorIssues { id kind } } } }`;
      const small = await counts(page(1));
      const large = await counts(page(100));
      expect(large.statements).toBe(small.statements);
      const withIssues = large.reply.data.projects.nodes.filter((p: any) => p.factorIssues.length > 0);
      for (const p of withIssues) expect(p.factorIssues.map((i: any) => i.id).sort()).toEqual(known.filter((k) => k.projectId === p.id).map((k) => k.id).sort());
    });
  });

  describe("today", () => {
    it("is the ledger's: pinned by its `today` setting, daysOpen, the order and the stats count to that day, and the date rule accepts what that day allows", async () => {
      const pinned = "2031-03-15";
      const ctx = createContext(server.db, { useRollups: true, shared: null, ledger: { futureDays: 31, today: () => pinned } });
      const project = await newProject({ regionCode: "410302" });
      // Raised "in the future" as the calendar sees it, but within 31 days of the pinned day.
      const written = await ctx.ledger().write(SYSTEM_ACTOR, (tx) => raiseFactorIssue(tx, { projectId: project.id, kind: "STAFFING", department: "洛阳市人力资源和社会保障局", description: "技工不足", raisedOn: "2031-04-10" }, new Problems()));
      known.push({ id: String(written.value.id), projectId: project.id, regionCode: "410302", kind: "STAFFING", department: "洛阳市人力资源和社会保障局", raisedOn: "2031-04-10", resolvedOn: null });
      ctx.wrote();
      const province = Number((await server.db.query("SELECT id FROM region WHERE code = '410000'"))[0].id);
      const [all, open] = await Promise.all([
        ctx.loader(createRegionFactorIssuesLoader).load(regionIssuesRequest(province, null, null, 100)),
        ctx.loader(createRegionFactorIssuesLoader).load(regionIssuesRequest(province, true, null, 100)),
      ]);
      const days = (k: Known) => daysOpen(k.raisedOn, k.resolvedOn ?? pinned);
      const order = (a: Known, b: Known) => days(b) - days(a) || a.raisedOn.localeCompare(b.raisedOn) || Number(a.id) - Number(b.id);
      expect(all.map((i) => [i.id, i.daysOpen])).toEqual([...known].sort(order).slice(0, 100).map((k) => [k.id, days(k)]));
      expect(open.map((i) => [i.id, i.daysOpen])).toEqual(known.filter((k) => k.resolvedOn === null).sort(order).slice(0, 100).map((k) => [k.id, days(k)]));
      expect(open[open.length - 1]).toMatchObject({ id: String(written.value.id), daysOpen: 0 });
      const stats = await ctx.loader(createFactorStatsLoader).load(province);
      expect(stats.longestOpenDays).toBe(Math.max(...known.filter((k) => k.resolvedOn === null).map(days)));
      expect(stats.byKind.find((k) => k.kind === "STAFFING")!.openIssues).toBe(known.filter((k) => k.resolvedOn === null && k.kind === "STAFFING").length);
    });

    it("moves daysOpen with the calendar: an anonymous answer holding it is never kept by the response cache, while one without it is", async () => {
      const ask = async (query: string) => (await fetch(server.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) })).headers.get("x-response-cache");
      const withDays = `{ region(code: "410000") { factorStats { longestOpenDays } factorIssues(first: 3) { daysOpen } } }`;
      expect([await ask(withDays), await ask(withDays)]).toEqual(["miss", "miss"]);
      const without = `{ region(code: "410000") { name factorIssuesProbe: stats { projectCount } } }`;
      expect([await ask(without), await ask(without)]).toEqual(["miss", "hit"]);
    });
  });

  it("the cost model counts the departments open problems wait on, told apart by their exact text", async () => {
    const model = await readCostModel(server.db);
    expect(model.departments).toBe(new Set(known.filter((k) => k.resolvedOn === null).map((k) => k.department)).size);
  });

  describe("the weekly CSV sheet", () => {
    let injected: any;
    beforeAll(async () => {
      const project = await newProject({ regionCode: "410203", name: `=HYPERLINK("http://evil.example","项目") ${kind}` });
      injected = await raise(project, { kind: "PLANNING", department: "=开封市规划局", raisedOn: "2022-01-05", description: '=HYPERLINK("http://evil.example","点我"), 含逗号' });
    });

    const csv = async (query: string, headers: Record<string, string> = {}) => {
      const response = await fetch(`${server.url.replace(/\/graphql$/, "")}/export/factor-issues.csv?${query}`, { headers });
      return { response, bytes: Buffer.from(await response.arrayBuffer()) };
    };

    it("lists the open issues of a region's subtree by department (pinyin order), longest open first within each, with formula-like cells neutralised", async () => {
      let today = "";
      let bytes = Buffer.alloc(0);
      let response: Response | undefined;
      for (;;) {
        today = utcToday();
        ({ response, bytes } = await csv("region=410000"));
        if (utcToday() === today) break;
      }
      expect(response!.status).toBe(200);
      expect(response!.headers.get("content-type")).toBe("text/csv; charset=utf-8");
      expect(response!.headers.get("content-disposition")).toBe('attachment; filename="factor-issues-410000.csv"');
      const text = bytes.toString("utf8");
      expect(text.startsWith("\uFEFF")).toBe(true);
      const [header, ...rows] = parseCsv(text.slice(1));
      expect(header).toEqual(["department", "kind", "kind_name", "issue_id", "project_id", "project_name", "region_code", "region_name", "city_code", "city_name", "raised_on", "days_open", "description", "synthetic"]);
      const expected = known
        .filter((k) => k.resolvedOn === null)
        .sort((a, b) => zh.compare(a.department, b.department) || (a.department < b.department ? -1 : a.department > b.department ? 1 : 0) || a.raisedOn.localeCompare(b.raisedOn) || Number(a.id) - Number(b.id));
      expect(rows.map((r) => r[3])).toEqual(expected.map((k) => k.id));
      for (const [i, row] of rows.entries()) {
        const k = expected[i];
        const department = k.department.startsWith("=") ? `'${k.department}` : k.department;
        expect([row[0], row[1], row[4], row[6], row[10], row[11]]).toEqual([department, k.kind, k.projectId, k.regionCode, k.raisedOn, String(daysOpen(k.raisedOn, today))]);
      }
      const row = rows.find((r) => r[3] === injected.id)!;
      expect(row[0]).toBe("'=开封市规划局");
      expect(row[2]).toBe("规划");
      expect(row[5]).toBe(`'=HYPERLINK("http://evil.example","项目") ${kind}`);
      expect(row[12]).toBe(`'=HYPERLINK("http://evil.example","点我"), 含逗号`);
      expect([row[6], row[7], row[8], row[9]]).toEqual(["410203", "顺河回族区", "410200", "开封市"]);
      // The raw text quotes the cell with a comma and keeps the apostrophe inside the quotes.
      expect(text).toContain(`"'=HYPERLINK(""http://evil.example"",""点我""), 含逗号"`);
    });

    it("narrows by kinds and region, and answers the same sheet in GB18030", async () => {
      const utf8 = await csv("region=410200&kinds=planning,LAND");
      const rows = parseCsv(utf8.bytes.toString("utf8").slice(1)).slice(1);
      const expected = known.filter((k) => k.resolvedOn === null && inSubtree("410200", k.regionCode) && ["PLANNING", "LAND"].includes(k.kind));
      expect(rows.map((r) => r[3]).sort()).toEqual(expected.map((k) => k.id).sort());
      expect(rows.length).toBeGreaterThan(0);
      const gb = await csv("region=410200&kinds=planning,LAND&encoding=gb18030");
      expect(gb.response.headers.get("content-type")).toBe("text/csv; charset=gb18030");
      expect(gb.bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
      expect(iconv.decode(gb.bytes, "gb18030")).toBe(utf8.bytes.toString("utf8").slice(1));
      expect(gb.bytes.includes(Buffer.from("开封市", "utf8"))).toBe(false);
      expect(gb.bytes.includes(iconv.encode("开封市", "gb18030"))).toBe(true);
    });

    it("answers 304 to its own ETag, and 400 naming the parameter that is wrong", async () => {
      const first = await csv("region=410100");
      const etag = first.response.headers.get("etag")!;
      expect(etag).toMatch(/^W\/"v\d+-/);
      expect((await csv("region=410100", { "if-none-match": etag })).response.status).toBe(304);
      for (const [query, message] of [
        ["", /region: is required/],
        ["region=999999", /region: no region "999999"/],
        ["region=410000&kinds=WEATHER", /kinds: "WEATHER" is not one of/],
        ["region=410000&encoding=latin1", /encoding: must be one of/],
        ["region=410000&open=false", /open: unknown parameter/],
      ] as Array<[string, RegExp]>) {
        const { response, bytes } = await csv(query);
        expect(response.status).toBe(400);
        expect(bytes.toString("utf8")).toMatch(message);
      }
    });
  });
});
