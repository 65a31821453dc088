/**
 * Targets and assessment (目标亮相、考核亮牌, issue 19) over HTTP on both
 * databases: who may set whose target (only an office strictly above the
 * region), every input rule, the history of a target set and replaced, what
 * the subtrees reached in a year and in quarters (a milestone on 03-31 is
 * Q1's, one on 04-01 Q2's), the completion rates, ranks and cards of
 * `rankings` and `Region.assessment` against an oracle written here from the
 * projects this test created through the API, the SQL statements of the
 * province-to-county assessment tree and of rankings (the same for a small
 * tree as for the whole province), and the CSV export in the API's order.
 * The cards are dated ASSESSMENT_TODAY, pinned here.
 */
import { parse } from "csv-parse/sync";

import { createToken } from "../../src/auth/tokens";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";
import { ADVANCE, type Reply, writes } from "../support/writes";

const TODAY = "2024-05-15";
const YEAR = 2024;

const ROW = "region { code } stage year quarter targetCount wan: targetInvestment(unit: WAN_YUAN) reachedCount reachedWan: reachedInvestment(unit: WAN_YUAN) completionRate rank card";
const SET = `mutation Set($input: SetTargetInput!) { setTarget(input: $input) { ${ROW} yi: targetInvestment } }`;
const RANKINGS = `query R($p: ID!, $s: ProjectStage!, $y: Int!, $q: Int) { rankings(parentCode: $p, stage: $s, year: $y, quarter: $q) { ${ROW} } }`;
const ASSESS = `query A($c: ID!, $y: Int!, $q: Int) { region(code: $c) { assessment(year: $y, quarter: $q) { ${ROW} } } }`;
const TREE = (code: string, year: number) =>
  `{ region(code: "${code}") { code assessment(year: ${year}) { ${ROW} } children { code assessment(year: ${year}) { ${ROW} } children { code assessment(year: ${year}) { ${ROW} } } } } }`;
const CHANGES = `query C($c: ID!) { region(code: $c) { changes(first: 10) { nodes { operation office project { id } region { code } fields { field from to } } } } }`;

// ---- the oracle: written from the projects and targets this test made, not from the product's code ----

interface Made {
  region: string;
  wan: number;
  /** Stage name → date reached. */
  milestones: Record<string, string>;
}
interface TargetSet {
  count: number | null;
  wan: number;
}
interface Expected {
  region: { code: string };
  stage: string;
  year: number;
  quarter: number | null;
  targetCount: number | null;
  wan: number | null;
  reachedCount: number;
  reachedWan: number;
  completionRate: number | null;
  rank: number | null;
  card: string | null;
}

/** Every day from `from` to `to`, both included, by stepping the calendar one day at a time. */
function days(from: string, to: string): number {
  let n = 0;
  for (let d = new Date(`${from}T00:00:00Z`); d.toISOString().slice(0, 10) <= to; d.setUTCDate(d.getUTCDate() + 1)) n++;
  return n;
}

function bounds(year: number, quarter: number | null): [string, string] {
  if (quarter === null) return [`${year}-01-01`, `${year}-12-31`];
  const ends = ["03-31", "06-30", "09-30", "12-31"];
  const starts = ["01-01", "04-01", "07-01", "10-01"];
  return [`${year}-${starts[quarter - 1]}`, `${year}-${ends[quarter - 1]}`];
}

class Oracle {
  readonly made: Made[] = [];
  readonly targets = new Map<string, TargetSet>();
  constructor(
    private readonly parents: Map<string, string | null>,
    private readonly today: string,
  ) {}

  private key(code: string, stage: string, year: number, quarter: number | null): string {
    return `${code}|${stage}|${year}|${quarter ?? 0}`;
  }

  setTarget(code: string, stage: string, year: number, quarter: number | null, count: number | null, yi: number): void {
    this.targets.set(this.key(code, stage, year, quarter), { count, wan: Math.round(yi * 10_000) });
  }

  private inside(project: string, region: string): boolean {
    for (let at: string | null | undefined = project; at; at = this.parents.get(at)) if (at === region) return true;
    return false;
  }

  childrenOf(code: string | null): string[] {
    return [...this.parents].filter(([, parent]) => parent === code).map(([c]) => c).sort();
  }

  reached(code: string, stage: string, year: number, quarter: number | null): { count: number; wan: number } {
    const [from, to] = bounds(year, quarter);
    const hits = this.made.filter((p) => this.inside(p.region, code) && p.milestones[stage] !== undefined && p.milestones[stage] >= from && p.milestones[stage] <= to);
    return { count: hits.length, wan: hits.reduce((s, p) => s + p.wan, 0) };
  }

  rate(code: string, stage: string, year: number, quarter: number | null): number | null {
    const target = this.targets.get(this.key(code, stage, year, quarter));
    if (!target) return null;
    return target.wan === 0 ? 1 : this.reached(code, stage, year, quarter).wan / target.wan;
  }

  elapsed(year: number, quarter: number | null): number {
    const [from, to] = bounds(year, quarter);
    if (this.today < from) return 0;
    if (this.today > to) return 1;
    return days(from, this.today) / days(from, to);
  }

  row(code: string, stage: string, year: number, quarter: number | null): Expected {
    const target = this.targets.get(this.key(code, stage, year, quarter)) ?? null;
    const got = this.reached(code, stage, year, quarter);
    const rate = this.rate(code, stage, year, quarter);
    const siblings = this.childrenOf(this.parents.get(code) ?? null);
    // Competition ranking: one more than the siblings with a strictly higher rate.
    const rank = rate === null ? null : 1 + siblings.filter((s) => (this.rate(s, stage, year, quarter) ?? -Infinity) > rate).length;
    const e = this.elapsed(year, quarter);
    const card = rate === null ? null : rate >= e * 1.0 ? "GREEN" : rate >= e * 0.8 ? "YELLOW" : "RED";
    return { region: { code }, stage, year, quarter, targetCount: target?.count ?? null, wan: target?.wan ?? null, reachedCount: got.count, reachedWan: got.wan, completionRate: rate, rank, card };
  }

  rankings(parent: string, stage: string, year: number, quarter: number | null): Expected[] {
    const rows = this.childrenOf(parent).map((c) => this.row(c, stage, year, quarter));
    const ranked = rows.filter((r) => r.rank !== null).sort((a, b) => a.rank! - b.rank! || (a.region.code < b.region.code ? -1 : 1));
    return [...ranked, ...rows.filter((r) => r.rank === null)];
  }
}

function codeOf(reply: Reply): string | undefined {
  return reply.errors?.[0]?.extensions?.code;
}

function parseCsv(text: string): string[][] {
  return parse(text.replace(/^\uFEFF/, ""), { record_delimiter: "\r\n" });
}

describe.each(DB_KINDS)("targets and assessment on %s", (kind) => {
  let server: TestServer;
  const tokens: Record<string, string> = {};
  let oracle: Oracle;

  beforeAll(async () => {
    server = await startTestServer(kind, { DATA_VERSION_TTL_MS: "0", ASSESSMENT_TODAY: TODAY });
    for (const [code, name] of [
      ["410000", "河南省发展和改革委员会"],
      ["410100", "郑州市发展和改革委员会"],
      ["410200", "开封市发展和改革委员会"],
      ["410102", "中原区发展和改革委员会"],
    ]) {
      tokens[code] = (await createToken(server.db, { regionCode: code, name })).token;
    }
    const regions = await send("{ regions { code parent { code } } }");
    oracle = new Oracle(new Map(regions.data.regions.map((r: any) => [r.code, r.parent?.code ?? null])), TODAY);
    // The shipped data has no milestone in the test's years: what is reached is only what this test makes.
    const seeded = await server.db.query("SELECT COUNT(*) AS n FROM milestone WHERE reached_on >= ? AND reached_on <= ?", ["2023-01-01", "2031-12-31"]);
    expect(Number(seeded[0].n)).toBe(0);
  }, 120_000);
  afterAll(async () => server?.close());

  const { as, newProject } = writes(() => server, kind, () => tokens["410000"]);
  const send = (query: string, variables?: Record<string, unknown>) => as(null, query, variables);

  /** Creates a project through the API (signed on `signed`, started on `started` if given) and tells the oracle. */
  async function make(region: string, yi: number, signed: string, started?: string): Promise<void> {
    const project = await newProject({ regionCode: region, investment: yi, reachedOn: signed });
    const milestones: Record<string, string> = { SIGNED: signed };
    if (started) {
      const reply = await as(tokens["410000"], ADVANCE, { input: { projectId: project.id, stage: "STARTED", reachedOn: started, expectedVersion: project.version } });
      expect(reply.errors).toBeUndefined();
      milestones.STARTED = started;
    }
    oracle.made.push({ region, wan: Math.round(yi * 10_000), milestones });
  }

  async function target(token: string | null, input: { regionCode: string; stage?: string; year?: number; quarter?: number | null; count?: number | null; investment: number }): Promise<Reply> {
    const full = { stage: "SIGNED", year: YEAR, ...input };
    const reply = await as(token, SET, { input: full });
    if (!reply.errors) oracle.setTarget(full.regionCode, full.stage, full.year, full.quarter ?? null, full.count ?? null, full.investment);
    return reply;
  }

  describe("who may set whose target", () => {
    it("the province sets a city's and a county's; a city its county's", async () => {
      for (const [token, region] of [
        ["410000", "410100"],
        ["410000", "410202"],
        ["410100", "410105"],
      ]) {
        const reply = await target(tokens[token], { regionCode: region, year: 2031, count: 3, investment: 12.5 });
        expect(reply.errors).toBeUndefined();
        expect(reply.data.setTarget).toMatchObject({ region: { code: region }, stage: "SIGNED", year: 2031, quarter: null, targetCount: 3, wan: 125_000, yi: 12.5, reachedCount: 0 });
      }
    });

    it.each([
      ["a city on its own city", "410100", "410100", /own region 郑州市 \(410100\).*河南省 \(410000\)/],
      ["the province on itself", "410000", "410000", /own region 河南省/],
      ["a county on itself", "410102", "410102", /own region 中原区/],
      ["a county on its neighbour", "410102", "410103", /below 中原区 \(410102\) only/],
      ["a city on another city's county", "410100", "410202", /below 郑州市 \(410100\) only, not of 龙亭区 \(410202\)/],
      ["a city on another city", "410200", "410100", /below 开封市 \(410200\) only/],
    ])("%s is FORBIDDEN, with what is allowed in the message, and nothing is written", async (_, token, region, message) => {
      const reply = await target(tokens[token], { regionCode: region, year: 2032, investment: 1 });
      expect(codeOf(reply)).toBe("FORBIDDEN");
      expect(reply.errors![0].message).toMatch(message);
      expect(reply.errors![0].extensions?.field).toBe("input.regionCode");
      const read = await send(ASSESS, { c: region, y: 2032 });
      expect(read.data.region.assessment).toEqual([]);
    });

    it("an anonymous request is UNAUTHENTICATED", async () => {
      const reply = await target(null, { regionCode: "410100", year: 2032, investment: 1 });
      expect(codeOf(reply)).toBe("UNAUTHENTICATED");
    });

    it.each([
      [{ year: 1999 }, "input.year"],
      [{ year: 2101 }, "input.year"],
      [{ quarter: 0 }, "input.quarter"],
      [{ quarter: 5 }, "input.quarter"],
      [{ count: -1 }, "input.count"],
      [{ investment: -0.5 }, "input.investment"],
      [{ investment: 1.00001 }, "input.investment"],
      [{ regionCode: "999999" }, "input.regionCode"],
      [{ regionCode: "41" }, "input.regionCode"],
    ])("%j is BAD_USER_INPUT at its field", async (bad, field) => {
      const reply = await target(tokens["410000"], { regionCode: "410100", year: 2032, investment: 1, ...bad });
      expect(codeOf(reply)).toBe("BAD_USER_INPUT");
      expect(reply.errors![0].extensions?.problems.map((p: any) => p.field)).toEqual([field]);
    });

    it("bad year and quarter of a read are BAD_USER_INPUT, and so is an unknown parentCode", async () => {
      expect(codeOf(await send(ASSESS, { c: "410100", y: 1999 }))).toBe("BAD_USER_INPUT");
      expect(codeOf(await send(ASSESS, { c: "410100", y: 2024, q: 5 }))).toBe("BAD_USER_INPUT");
      const unknown = await send(RANKINGS, { p: "999999", s: "SIGNED", y: 2024 });
      expect(codeOf(unknown)).toBe("BAD_USER_INPUT");
      expect(unknown.errors![0].extensions?.field).toBe("parentCode");
    });
  });

  describe("history", () => {
    it("setting a target again replaces it, and the region's history records both, from → to", async () => {
      const first = await target(tokens["410100"], { regionCode: "410104", year: 2033, quarter: 2, count: 4, investment: 8 });
      expect(first.errors).toBeUndefined();
      const again = await target(tokens["410000"], { regionCode: "410104", year: 2033, quarter: 2, count: null, investment: 9.25 });
      expect(again.errors).toBeUndefined();
      expect(again.data.setTarget).toMatchObject({ quarter: 2, targetCount: null, wan: 92_500 });
      const read = await send(ASSESS, { c: "410104", y: 2033, q: 2 });
      expect(read.data.region.assessment).toEqual([expect.objectContaining({ stage: "SIGNED", quarter: 2, targetCount: null, wan: 92_500 })]);
      const changes = (await send(CHANGES, { c: "410104" })).data.region.changes.nodes.filter((n: any) => n.operation === "SET_TARGET");
      expect(changes.slice(0, 2)).toEqual([
        {
          operation: "SET_TARGET",
          office: "河南省发展和改革委员会",
          project: null,
          region: { code: "410104" },
          fields: [
            { field: "targets.SIGNED.2033-Q2.count", from: "4", to: null },
            { field: "targets.SIGNED.2033-Q2.investment", from: "8", to: "9.25" },
          ],
        },
        {
          operation: "SET_TARGET",
          office: "郑州市发展和改革委员会",
          project: null,
          region: { code: "410104" },
          fields: [
            { field: "targets.SIGNED.2033-Q2.count", from: null, to: "4" },
            { field: "targets.SIGNED.2033-Q2.investment", from: null, to: "8" },
          ],
        },
      ]);
      // The city's history lists its county's targets too.
      const city = (await send(CHANGES, { c: "410100" })).data.region.changes.nodes;
      expect(city.some((n: any) => n.operation === "SET_TARGET" && n.region.code === "410104")).toBe(true);
    });
  });

  describe(`assessment of ${YEAR}, dated ${TODAY}`, () => {
    beforeAll(async () => {
      // Zhengzhou's counties, and two of Kaifeng's. 2023's and 2025's milestones fall outside the year.
      await make("410102", 3, "2024-03-31", "2024-04-01"); // Q1's signing, Q2's start
      await make("410102", 5, "2024-04-01"); // Q2's signing
      await make("410102", 1.5, "2023-12-31", "2024-01-01"); // signed the year before
      await make("410103", 2, "2024-02-10");
      await make("410104", 2, "2024-02-10");
      await make("410105", 3, "2024-05-01");
      await make("410122", 4, "2024-06-30", "2024-07-01"); // no target: unranked, after the ranked
      await make("410181", 6.1234, "2025-01-01"); // next year
      await make("410202", 1, "2024-09-30");
      await make("410212", 7, "2024-12-31");
      // Targets: the province for the cities and a county of each, the city for its other counties.
      for (const [token, region, count, yi] of [
        ["410000", "410100", 10, 40],
        ["410000", "410200", 5, 6],
        ["410000", "410102", 2, 9.5],
        ["410100", "410103", 1, 4],
        ["410100", "410104", null, 4], // the same rate as 410103: they share a place
        ["410100", "410105", 2, 9], // behind, within the margin
        ["410100", "410181", 1, 0], // a zero target is met from the start
        ["410000", "410202", 1, 10], // far behind
      ] as Array<[string, string, number | null, number]>) {
        const reply = await target(tokens[token], { regionCode: region, count, investment: yi });
        expect(reply.errors).toBeUndefined();
      }
      for (const [quarter, yi] of [
        [1, 2],
        [2, 10],
        [3, 1],
      ]) {
        expect((await target(tokens["410100"], { regionCode: "410102", quarter, investment: yi })).errors).toBeUndefined();
      }
      expect((await target(tokens["410100"], { regionCode: "410103", quarter: 1, investment: 4 })).errors).toBeUndefined();
    }, 120_000);

    it("ranks Zhengzhou's counties as the oracle does, ties sharing a place, those without a target after", async () => {
      const reply = await send(RANKINGS, { p: "410100", s: "SIGNED", y: YEAR });
      expect(reply.errors).toBeUndefined();
      const expected = oracle.rankings("410100", "SIGNED", YEAR, null);
      expect(reply.data.rankings).toEqual(expected);
      // What the oracle says is worth checking: a tie, every colour, a zero target, an unranked county with a result.
      const ranks = expected.filter((r) => r.rank !== null).map((r) => r.rank);
      expect(new Set(ranks).size).toBeLessThan(ranks.length);
      expect(expected.find((r) => r.region.code === "410181")).toMatchObject({ completionRate: 1, card: "GREEN", reachedCount: 0 });
      expect(expected.find((r) => r.region.code === "410122")).toMatchObject({ rank: null, card: null, reachedCount: 1 });
      expect(expected.map((r) => r.card)).toEqual(expect.arrayContaining(["GREEN", "YELLOW"]));
    });

    it("ranks the province's cities and Kaifeng's counties as the oracle does", async () => {
      for (const parent of ["410000", "410200"]) {
        const reply = await send(RANKINGS, { p: parent, s: "SIGNED", y: YEAR });
        expect(reply.errors).toBeUndefined();
        expect(reply.data.rankings).toEqual(oracle.rankings(parent, "SIGNED", YEAR, null));
      }
      expect(oracle.row("410202", "SIGNED", YEAR, null).card).toBe("RED");
    });

    it("quarters: a milestone on 03-31 counts in Q1, one on 04-01 in Q2; a quarter not begun is GREEN", async () => {
      for (const quarter of [1, 2, 3, 4]) {
        const reply = await send(RANKINGS, { p: "410100", s: "SIGNED", y: YEAR, q: quarter });
        expect(reply.errors).toBeUndefined();
        expect(reply.data.rankings).toEqual(oracle.rankings("410100", "SIGNED", YEAR, quarter));
      }
      const q1 = (await send(ASSESS, { c: "410102", y: YEAR, q: 1 })).data.region.assessment;
      const q2 = (await send(ASSESS, { c: "410102", y: YEAR, q: 2 })).data.region.assessment;
      expect(q1.find((r: any) => r.stage === "SIGNED")).toMatchObject({ reachedCount: 1, reachedWan: 30_000 });
      expect(q1.find((r: any) => r.stage === "STARTED")).toMatchObject({ reachedCount: 1, reachedWan: 15_000, rank: null, card: null });
      expect(q2.find((r: any) => r.stage === "SIGNED")).toMatchObject({ reachedCount: 1, reachedWan: 50_000 });
      expect(q2.find((r: any) => r.stage === "STARTED")).toMatchObject({ reachedCount: 1, reachedWan: 30_000 });
      const q3 = (await send(ASSESS, { c: "410102", y: YEAR, q: 3 })).data.region.assessment;
      expect(q3).toEqual([oracle.row("410102", "SIGNED", YEAR, 3)]);
      expect(q3[0]).toMatchObject({ reachedCount: 0, completionRate: 0, card: "GREEN" });
    });

    it("Region.assessment lists the stages with a target or a result, in lifecycle order, as the oracle has them", async () => {
      for (const code of ["410000", "410100", "410102", "410122", "410200", "410300"]) {
        for (const quarter of [null, 1, 2]) {
          const reply = await send(ASSESS, { c: code, y: YEAR, q: quarter });
          expect(reply.errors).toBeUndefined();
          const expected = ["SIGNED", "STARTED"].map((stage) => oracle.row(code, stage, YEAR, quarter)).filter((r) => r.wan !== null || r.reachedCount > 0);
          expect(reply.data.region.assessment).toEqual(expected);
        }
      }
    });

    it("the province-to-county tree answers every region as the oracle does", async () => {
      const reply = await send(TREE("410000", YEAR));
      expect(reply.errors).toBeUndefined();
      const check = (node: any) => {
        const expected = ["SIGNED", "STARTED"].map((stage) => oracle.row(node.code, stage, YEAR, null)).filter((r) => r.wan !== null || r.reachedCount > 0);
        expect(node.assessment).toEqual(expected);
        for (const child of node.children ?? []) check(child);
      };
      check(reply.data.region);
      expect(reply.data.region.children).toHaveLength(18);
      expect(reply.data.region.children.reduce((n: number, c: any) => n + c.children.length, 0)).toBe(156);
    });

    it("costs the same number of SQL statements for a small tree as for the province's 175 regions, and for rankings", async () => {
      let bump = 0;
      // A write first each time, so that nothing cached answers: every statement is counted.
      const measure = async (query: string, variables?: Record<string, unknown>) => {
        expect((await target(tokens["410000"], { regionCode: "410300", year: 2040, investment: ++bump })).errors).toBeUndefined();
        const reply = await server.gql(query, variables);
        expect(reply.errors).toBeUndefined();
        return reply.sqlStatements;
      };
      const small = await measure(`{ region(code: "410102") { assessment(year: ${YEAR}) { rank card } } }`);
      const city = await measure(`{ region(code: "410100") { assessment(year: ${YEAR}) { rank card } children { assessment(year: ${YEAR}) { rank card } } } }`);
      const province = await measure(TREE("410000", YEAR));
      expect(small).toBeGreaterThan(0);
      expect(small).toBeLessThanOrEqual(4);
      expect(city).toBe(small);
      expect(province).toBe(small);
      const rankCity = await measure(RANKINGS, { p: "410100", s: "SIGNED", y: YEAR });
      const rankProvince = await measure(RANKINGS, { p: "410000", s: "SIGNED", y: YEAR });
      expect(rankProvince).toBe(rankCity);
      expect(rankCity).toBeLessThanOrEqual(small);
    });

    it("exports the ranking as CSV in the API's order, with the same figures", async () => {
      for (const [query, unit] of [
        [{ p: "410100", s: "SIGNED", y: YEAR }, "WAN_YUAN"],
        [{ p: "410100", s: "SIGNED", y: YEAR, q: 2 }, "WAN_YUAN"],
        [{ p: "410000", s: "SIGNED", y: YEAR }, "WAN_YUAN"],
      ] as Array<[{ p: string; s: string; y: number; q?: number }, string]>) {
        const api = (await send(RANKINGS, query)).data.rankings;
        const url = `/export/assessment.csv?parentCode=${query.p}&stage=${query.s}&year=${query.y}${query.q ? `&quarter=${query.q}` : ""}&unit=${unit}`;
        const res = await fetch(server.url.replace(/\/graphql$/, url));
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
        const [header, ...rows] = parseCsv(await res.text());
        expect(header).toEqual(["rank", "region_code", "region_name", "stage", "year", "quarter", "target_count", "target_investment", "reached_count", "reached_investment", "completion_rate", "card", "target_synthetic"]);
        const cell = (v: unknown) => (v === null || v === undefined ? "" : String(v));
        expect(rows).toEqual(
          api.map((r: any) => [cell(r.rank), r.region.code, expect.any(String), r.stage, cell(r.year), cell(r.quarter), cell(r.targetCount), cell(r.wan), cell(r.reachedCount), cell(r.reachedWan), cell(r.completionRate), cell(r.card), r.wan === null ? "" : "false"]),
        );
      }
      const gb = await fetch(server.url.replace(/\/graphql$/, "/export/assessment.csv?parentCode=410100&stage=SIGNED&year=2024&encoding=gb18030"));
      expect(gb.status).toBe(200);
      expect(gb.headers.get("content-type")).toBe("text/csv; charset=gb18030");
      for (const [bad, param] of [
        ["parentCode=999999&stage=SIGNED&year=2024", "parentCode"],
        ["parentCode=410100&stage=NOPE&year=2024", "stage"],
        ["parentCode=410100&stage=SIGNED", "year"],
        ["parentCode=410100&stage=SIGNED&year=2024&quarter=7", "quarter"],
        ["parentCode=410100&stage=SIGNED&year=2024&colour=red", "colour"],
      ]) {
        const res = await fetch(server.url.replace(/\/graphql$/, `/export/assessment.csv?${bad}`));
        expect(res.status).toBe(400);
        expect(await res.text()).toMatch(new RegExp(`^Bad request: ${param}`));
      }
    });
  });
});
