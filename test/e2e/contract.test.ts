/**
 * The read contract over HTTP, on the embedded default and (with MYSQL_URL) on
 * MySQL: the meeting's published figures, rollups up the region tree, every
 * filter against an oracle computed from the project list itself, pagination,
 * unknown codes, errors, and the number of SQL statements per request.
 */
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";

const WAN = "WAN_YUAN";

/** Everything the oracle needs to know about a project. */
interface OracleProject {
  id: string;
  name: string;
  stage: string;
  wan: number;
  regionLineage: string[];
  sectorLineage: string[];
  milestones: Array<{ stage: string; reachedOn: string; meetingId: string | null; venue: string | null }>;
}

interface Filter {
  stages?: string[];
  sectorCodes?: string[];
  regionCodes?: string[];
  meetingId?: string;
  milestone?: { stage: string; meetingId?: string; from?: string; to?: string };
  minInvestment?: number;
  maxInvestment?: number;
  nameContains?: string;
}

const PROJECT_FIELDS = `id name stage investment(unit: ${WAN})
  region { code ancestors { code } }
  sector { code parent { code } }
  milestones { stage reachedOn meeting { id } venue { code } }`;

/** Walks a whole project list page by page; returns the nodes in order. */
async function walk(server: TestServer, args: string, first: number): Promise<{ nodes: any[]; totalCount: number; pages: number }> {
  const nodes: any[] = [];
  let after: string | null = null;
  let totalCount = -1;
  let pages = 0;
  for (;;) {
    const res: any = await server.gql(
      `query Walk($after: String) { projects(first: ${first}, after: $after${args}) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor startCursor } edges { cursor } nodes { ${PROJECT_FIELDS} } } }`,
      { after },
    );
    expect(res.errors).toBeUndefined();
    const page = res.data.projects;
    pages += 1;
    totalCount = page.totalCount;
    expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
    expect(page.nodes.length).toBeLessThanOrEqual(first);
    if (page.nodes.length) expect(page.pageInfo.endCursor).toBe(page.edges[page.edges.length - 1].cursor);
    nodes.push(...page.nodes);
    if (!page.pageInfo.hasNextPage) break;
    expect(page.nodes.length).toBe(first);
    after = page.pageInfo.endCursor;
    if (pages > 200) throw new Error("pagination does not end");
  }
  return { nodes, totalCount, pages };
}

function toOracle(node: any): OracleProject {
  return {
    id: node.id,
    name: node.name,
    stage: node.stage,
    wan: node.investment,
    regionLineage: [...node.region.ancestors.map((a: any) => a.code), node.region.code],
    sectorLineage: node.sector.parent ? [node.sector.parent.code, node.sector.code] : [node.sector.code],
    milestones: node.milestones.map((m: any) => ({ stage: m.stage, reachedOn: m.reachedOn, meetingId: m.meeting?.id ?? null, venue: m.venue?.code ?? null })),
  };
}

/** The contract's meaning of a ProjectFilter, computed independently of the server. */
function matches(p: OracleProject, f: Filter): boolean {
  if (f.stages && !f.stages.includes(p.stage)) return false;
  if (f.sectorCodes && !f.sectorCodes.some((c) => p.sectorLineage.includes(c))) return false;
  if (f.regionCodes && !f.regionCodes.some((c) => p.regionLineage.includes(c))) return false;
  if (f.meetingId && !p.milestones.some((m) => m.meetingId === f.meetingId)) return false;
  const ms = f.milestone;
  if (
    ms &&
    !p.milestones.some(
      (m) => m.stage === ms.stage && (!ms.meetingId || m.meetingId === ms.meetingId) && (!ms.from || m.reachedOn >= ms.from) && (!ms.to || m.reachedOn <= ms.to),
    )
  ) return false;
  if (f.minInvestment !== undefined && p.wan < Math.round(f.minInvestment * 10_000)) return false;
  if (f.maxInvestment !== undefined && p.wan > Math.round(f.maxInvestment * 10_000)) return false;
  if (f.nameContains && !p.name.toLowerCase().includes(f.nameContains.toLowerCase())) return false;
  return true;
}

function sum(projects: OracleProject[]): { count: number; wan: number } {
  return { count: projects.length, wan: projects.reduce((s, p) => s + p.wan, 0) };
}

function groupRows(projects: OracleProject[], keyOf: (p: OracleProject) => string): Array<[string, { count: number; wan: number }]> {
  const groups = new Map<string, OracleProject[]>();
  for (const p of projects) groups.set(keyOf(p), [...(groups.get(keyOf(p)) ?? []), p]);
  return [...groups].map(([k, list]) => [k, sum(list)] as [string, { count: number; wan: number }]);
}

const STAGE_ORDER = ["SIGNED", "STARTED", "IN_PRODUCTION"];

describe.each(DB_KINDS)("read contract on %s", (kind) => {
  let server: TestServer;
  let all: OracleProject[];
  let meetingId: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    const walked = await walk(server, "", 100);
    all = walked.nodes.map(toOracle);
    const res = await server.gql(`{ meetings { id heldOn } }`);
    meetingId = res.data.meetings.find((m: any) => m.heldOn === "2021-07-10").id;
  });

  afterAll(async () => {
    await server?.close();
  });

  describe("the 2021-07-10 meeting's published figures", () => {
    const BATCHES = `query Batches($id: ID!) {
      meeting(id: $id) {
        title heldOn hostRegion { code }
        batches { stage stats { projectCount totalInvestment bySector { sector { code } projectCount totalInvestment } } }
        venues { kind region { code level } batches { stage stats { projectCount totalInvestment bySector { sector { code } } } } }
      }
    }`;

    it("has the three batches with the reported counts and totals (亿元)", async () => {
      const { data, errors } = await server.gql(BATCHES, { id: meetingId });
      expect(errors).toBeUndefined();
      expect(data.meeting.title).toBe("全省重大项目建设暨“三个一批”推进会");
      expect(data.meeting.hostRegion.code).toBe("410000");
      const byStage = Object.fromEntries(data.meeting.batches.map((b: any) => [b.stage, b.stats]));
      expect(data.meeting.batches.map((b: any) => b.stage)).toEqual(STAGE_ORDER);
      expect([byStage.SIGNED.projectCount, byStage.SIGNED.totalInvestment]).toEqual([258, 2860.5]);
      expect([byStage.STARTED.projectCount, byStage.STARTED.totalInvestment]).toEqual([555, 7345]);
      expect([byStage.IN_PRODUCTION.projectCount, byStage.IN_PRODUCTION.totalInvestment]).toEqual([524, 3621]);
    });

    it("signed 74 先进制造业 projects (770 亿元) and 89 战略性新兴产业 projects (1133.5 亿元)", async () => {
      const { data } = await server.gql(BATCHES, { id: meetingId });
      const signed = data.meeting.batches.find((b: any) => b.stage === "SIGNED").stats;
      const row = (code: string) => signed.bySector.find((r: any) => r.sector.code === code);
      expect([row("MFG").projectCount, row("MFG").totalInvestment]).toEqual([74, 770]);
      expect([row("SEI").projectCount, row("SEI").totalInvestment]).toEqual([89, 1133.5]);
    });

    it("signed 16 projects (313.5 亿元) at the main venue, in 先进制造, 科技研发, 总部经济 and 物流", async () => {
      const { data } = await server.gql(BATCHES, { id: meetingId });
      const main = data.meeting.venues.filter((v: any) => v.kind === "MAIN");
      expect(main).toHaveLength(1);
      expect(main[0].region.code).toBe("410000");
      const signed = main[0].batches.find((b: any) => b.stage === "SIGNED").stats;
      expect([signed.projectCount, signed.totalInvestment]).toEqual([16, 313.5]);
      expect(signed.bySector.map((r: any) => r.sector.code).sort()).toEqual(["HQ", "LOG", "MFG", "RND"]);
    });

    it("has a sub-venue in every city and in 济源, and the venues add up to the province-wide batches", async () => {
      const { data } = await server.gql(BATCHES, { id: meetingId });
      const subs = data.meeting.venues.filter((v: any) => v.kind === "SUB");
      const cities = (await server.gql(`{ regions(level: CITY) { code } }`)).data.regions.map((r: any) => r.code);
      expect(subs.map((v: any) => v.region.code).sort()).toEqual([...cities].sort());
      expect(cities).toContain("419001");
      for (const stage of STAGE_ORDER) {
        const whole = data.meeting.batches.find((b: any) => b.stage === stage).stats;
        const parts = data.meeting.venues.map((v: any) => v.batches.find((b: any) => b.stage === stage).stats);
        expect(parts.reduce((s: number, p: any) => s + p.projectCount, 0)).toBe(whole.projectCount);
        expect(Math.round(parts.reduce((s: number, p: any) => s + p.totalInvestment * 10_000, 0))).toBe(Math.round(whole.totalInvestment * 10_000));
      }
    });

    it("started only projects of at least 5 亿元", async () => {
      const { data } = await server.gql(
        `query($id: ID!) { meeting(id: $id) { batches { stage small: projects(filter: { maxInvestment: 4.9999 }) { totalCount } big: stats(filter: { minInvestment: 5 }) { projectCount } } } }`,
        { id: meetingId },
      );
      const started = data.meeting.batches.find((b: any) => b.stage === "STARTED");
      expect(started.small.totalCount).toBe(0);
      expect(started.big.projectCount).toBe(555);
    });

    it("shows the same figures as current stages in the province-to-county query, in every unit", async () => {
      const { data, errors } = await server.gql(`{ region(code: "410000") { stats {
        byStage { stage projectCount yi: totalInvestment wan: totalInvestment(unit: WAN_YUAN) yuan: totalInvestment(unit: YUAN) } } } }`);
      expect(errors).toBeUndefined();
      const rows = data.region.stats.byStage;
      expect(rows.map((r: any) => [r.stage, r.projectCount, r.yi])).toEqual([
        ["SIGNED", 258, 2860.5],
        ["STARTED", 555, 7345],
        ["IN_PRODUCTION", 524, 3621],
      ]);
      expect(rows[0].wan).toBe(28_605_000);
      expect(rows[0].yuan).toBe(286_050_000_000);
    });

    it("has the two projects the report names as real rows", async () => {
      const { data } = await server.gql(`{
        autobio: projects(filter: { nameContains: "安图生物德迈药业产业园" }) { nodes { synthetic stage region { code } milestones { stage meeting { id } venue { code } } } }
        huarui: projects(filter: { nameContains: "华锐光电" }) { nodes { synthetic stage } }
        synthetic: stats(filter: {}) { projectCount } }`);
      expect(data.autobio.nodes).toHaveLength(1);
      expect(data.autobio.nodes[0]).toMatchObject({ synthetic: false, stage: "STARTED" });
      const started = data.autobio.nodes[0].milestones.find((m: any) => m.stage === "STARTED");
      expect(started.meeting.id).toBe(meetingId);
      expect(data.huarui.nodes).toEqual([{ synthetic: false, stage: "IN_PRODUCTION" }]);
      expect(all.length).toBe(data.synthetic.projectCount);
    });
  });

  describe("totals roll up the region tree", () => {
    let province: any;

    beforeAll(async () => {
      const res = await server.gql(`{ region(code: "410000") {
        code stats { projectCount totalInvestment(unit: WAN_YUAN) bySector { sector { code } projectCount totalInvestment(unit: WAN_YUAN) } byStage { stage projectCount totalInvestment(unit: WAN_YUAN) } }
        children { code stats { projectCount totalInvestment(unit: WAN_YUAN) bySector { sector { code } projectCount totalInvestment(unit: WAN_YUAN) } byStage { stage projectCount totalInvestment(unit: WAN_YUAN) } }
          children { code stats { projectCount totalInvestment(unit: WAN_YUAN) bySector { sector { code } projectCount totalInvestment(unit: WAN_YUAN) } byStage { stage projectCount totalInvestment(unit: WAN_YUAN) } } } } } }`);
      expect(res.errors).toBeUndefined();
      province = res.data.region;
    });

    /** Sums children's stats into the parent's shape. */
    function summed(children: any[]) {
      const rows = (key: "bySector" | "byStage", id: (r: any) => string) => {
        const acc = new Map<string, { projectCount: number; totalInvestment: number }>();
        for (const c of children) for (const r of c.stats[key]) {
          const a = acc.get(id(r)) ?? { projectCount: 0, totalInvestment: 0 };
          acc.set(id(r), { projectCount: a.projectCount + r.projectCount, totalInvestment: a.totalInvestment + r.totalInvestment });
        }
        return [...acc].sort(([a], [b]) => (a < b ? -1 : 1));
      };
      return {
        projectCount: children.reduce((s, c) => s + c.stats.projectCount, 0),
        totalInvestment: children.reduce((s, c) => s + c.stats.totalInvestment, 0),
        bySector: rows("bySector", (r) => r.sector.code),
        byStage: rows("byStage", (r) => r.stage),
      };
    }

    function own(node: any) {
      const keyed = (rows: any[], id: (r: any) => string) =>
        rows.map((r) => [id(r), { projectCount: r.projectCount, totalInvestment: r.totalInvestment }]).sort(([a]: any, [b]: any) => (a < b ? -1 : 1));
      return {
        projectCount: node.stats.projectCount,
        totalInvestment: node.stats.totalInvestment,
        bySector: keyed(node.stats.bySector, (r) => r.sector.code),
        byStage: keyed(node.stats.byStage, (r) => r.stage),
      };
    }

    it("the province equals the sum of its 18 cities, in counts, money and every sector and stage row", () => {
      expect(province.children).toHaveLength(18);
      expect(own(province)).toEqual(summed(province.children));
      expect(province.stats.projectCount).toBe(all.length);
    });

    it("each city equals the sum of its counties", () => {
      const withCounties = province.children.filter((c: any) => c.children.length > 0);
      expect(withCounties).toHaveLength(17);
      for (const city of withCounties) expect({ code: city.code, ...own(city) }).toEqual({ code: city.code, ...summed(city.children) });
    });

    it("济源 has no counties and its own projects", () => {
      const jiyuan = province.children.find((c: any) => c.code === "419001");
      expect(jiyuan.children).toEqual([]);
      expect(jiyuan.stats.projectCount).toBeGreaterThan(0);
      expect(jiyuan.stats.projectCount).toBe(all.filter((p) => p.regionLineage.includes("419001")).length);
    });

    it("bySector rows add up to the total and a sector's row includes its sub-sectors", async () => {
      const rows = province.stats.bySector;
      expect(rows.reduce((s: number, r: any) => s + r.projectCount, 0)).toBe(province.stats.projectCount);
      expect(rows.map((r: any) => r.sector.code)).toEqual([...rows.map((r: any) => r.sector.code)].sort());
      const mfg = rows.find((r: any) => r.sector.code === "MFG");
      expect(mfg.projectCount).toBe(all.filter((p) => p.sectorLineage[0] === "MFG").length);
      const { data } = await server.gql(`{ region(code: "410000") { stats { bySector(parentCode: "MFG") { sector { code parent { code } } projectCount } } } }`);
      const children = data.region.stats.bySector;
      expect(children.reduce((s: number, r: any) => s + r.projectCount, 0)).toBe(mfg.projectCount);
      expect(children.length).toBeGreaterThan(1);
    });
  });

  describe("filters mean the same on lists and stats", () => {
    const cases: Array<[string, Filter | ((meetingId: string) => Filter)]> = [
      ["current stage", { stages: ["STARTED"] }],
      ["several stages", { stages: ["SIGNED", "IN_PRODUCTION"] }],
      ["a sector subtree", { sectorCodes: ["MFG"] }],
      ["a sub-sector", { sectorCodes: ["SEI_BIO"] }],
      ["several sectors", { sectorCodes: ["SEI_ICT", "RND", "HQ"] }],
      ["a city's subtree", { regionCodes: ["410100"] }],
      ["a county and 济源", { regionCodes: ["410102", "419001"] }],
      ["a meeting", (id) => ({ meetingId: id })],
      ["signed at a meeting", (id) => ({ milestone: { stage: "SIGNED", meetingId: id } })],
      ["started in 2020", { milestone: { stage: "STARTED", from: "2020-01-01", to: "2020-12-31" } }],
      ["signed before 2019", { milestone: { stage: "SIGNED", to: "2018-12-31" } }],
      ["in production since the meeting day", { milestone: { stage: "IN_PRODUCTION", from: "2021-07-10" } }],
      ["investment bounds", { minInvestment: 10, maxInvestment: 20.5 }],
      ["a lower bound", { minInvestment: 30 }],
      ["a name", { nameContains: "产业园" }],
      ["everything at once", { stages: ["STARTED", "IN_PRODUCTION"], sectorCodes: ["SEI", "MFG"], regionCodes: ["410300", "410100"], minInvestment: 8 }],
    ];

    it.each(cases)("%s", async (_label, make) => {
      const filter = typeof make === "function" ? make(meetingId) : make;
      const expected = all.filter((p) => matches(p, filter));
      expect(expected.length).toBeGreaterThan(0);
      const { data, errors } = await server.gql(
        `query F($f: ProjectFilter) {
          stats(filter: $f) { projectCount totalInvestment(unit: WAN_YUAN) byStage { stage projectCount totalInvestment(unit: WAN_YUAN) } bySector { sector { code } projectCount } }
          projects(filter: $f, first: 100) { totalCount nodes { id } }
          zhengzhou: region(code: "410100") { stats(filter: $f) { projectCount totalInvestment(unit: WAN_YUAN) } projects(filter: $f) { totalCount } }
          mfg: sector(code: "MFG") { stats(filter: $f) { projectCount } projects(filter: $f) { totalCount } }
        }`,
        { f: filter },
      );
      expect(errors).toBeUndefined();
      const total = sum(expected);
      expect([data.stats.projectCount, data.stats.totalInvestment]).toEqual([total.count, total.wan]);
      expect(data.projects.totalCount).toBe(total.count);
      const ids = new Set(expected.map((p) => p.id));
      for (const node of data.projects.nodes) expect(ids.has(node.id)).toBe(true);
      expect(data.projects.nodes).toHaveLength(Math.min(100, total.count));
      const byStage = groupRows(expected, (p) => p.stage).sort(([a], [b]) => STAGE_ORDER.indexOf(a) - STAGE_ORDER.indexOf(b));
      expect(data.stats.byStage.map((r: any) => [r.stage, { count: r.projectCount, wan: r.totalInvestment }])).toEqual(byStage);
      const bySector = groupRows(expected, (p) => p.sectorLineage[0]).sort(([a], [b]) => (a < b ? -1 : 1));
      expect(data.stats.bySector.map((r: any) => [r.sector.code, r.projectCount])).toEqual(bySector.map(([k, v]) => [k, v.count]));
      const zz = sum(expected.filter((p) => p.regionLineage.includes("410100")));
      expect([data.zhengzhou.stats.projectCount, data.zhengzhou.stats.totalInvestment, data.zhengzhou.projects.totalCount]).toEqual([zz.count, zz.wan, zz.count]);
      const mfg = expected.filter((p) => p.sectorLineage.includes("MFG")).length;
      expect([data.mfg.stats.projectCount, data.mfg.projects.totalCount]).toEqual([mfg, mfg]);
    });

    it("a meeting batch's stats and list take the filter too", async () => {
      const filter = { regionCodes: ["410300"], minInvestment: 3 };
      const { data } = await server.gql(
        `query($id: ID!, $f: ProjectFilter) { meeting(id: $id) { batches { stage stats(filter: $f) { projectCount } projects(filter: $f) { totalCount } } } }`,
        { id: meetingId, f: filter },
      );
      for (const batch of data.meeting.batches) {
        const expected = all.filter((p) => matches(p, { ...filter, milestone: { stage: batch.stage, meetingId } })).length;
        expect([batch.stats.projectCount, batch.projects.totalCount]).toEqual([expected, expected]);
      }
    });
  });

  describe("pagination", () => {
    it("walks every project once, with no duplicate and no gap, in pages of 100", async () => {
      expect(all.length).toBeGreaterThanOrEqual(1000);
      const ids = all.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      const { data } = await server.gql(`{ projects { totalCount } stats { projectCount } }`);
      expect(data.projects.totalCount).toBe(all.length);
      expect(data.stats.projectCount).toBe(all.length);
    });

    it.each([
      ["NAME", "ASC"],
      ["INVESTMENT", "DESC"],
      ["STAGE", "ASC"],
      ["STAGE", "DESC"],
    ])("ordered by %s %s: the same set, in order, ties stable", async (field, direction) => {
      const { nodes, totalCount } = await walk(server, `, orderBy: { field: ${field}, direction: ${direction} }`, 97);
      expect(totalCount).toBe(all.length);
      const ids = nodes.map((n) => n.id);
      expect(new Set(ids).size).toBe(all.length);
      expect(new Set(ids)).toEqual(new Set(all.map((p) => p.id)));
      const sign = direction === "ASC" ? 1 : -1;
      const key = (n: any) => (field === "INVESTMENT" ? n.investment : field === "STAGE" ? STAGE_ORDER.indexOf(n.stage) : null);
      for (let i = 1; i < nodes.length; i++) {
        if (field === "NAME") continue; // collation is the database's; the walk's completeness is what matters
        const a = key(nodes[i - 1]);
        const b = key(nodes[i]);
        expect(sign * ((b as number) - (a as number))).toBeGreaterThanOrEqual(0);
        if (a === b) expect(sign * (Number(nodes[i].id) - Number(nodes[i - 1].id))).toBeGreaterThan(0);
      }
    });

    it("a region's list pages within its subtree", async () => {
      const query = `query($after: String) { region(code: "410300") { projects(first: 25, after: $after, orderBy: { field: INVESTMENT }) { totalCount pageInfo { hasNextPage endCursor } nodes { id region { code ancestors { code } } } } } }`;
      const seen: string[] = [];
      let after: string | null = null;
      let total = 0;
      for (let guard = 0; guard < 100; guard++) {
        const res: any = await server.gql(query, { after });
        const page = res.data.region.projects;
        total = page.totalCount;
        for (const n of page.nodes) {
          expect([n.region.code, ...n.region.ancestors.map((a: any) => a.code)]).toContain("410300");
          seen.push(n.id);
        }
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.length).toBe(total);
      expect(total).toBe(all.filter((p) => p.regionLineage.includes("410300")).length);
    });

    it.each([0, 101, -1])("first: %i is a BAD_USER_INPUT naming the argument", async (first) => {
      const res = await server.gql(`query($n: Int) { projects(first: $n) { totalCount } }`, { n: first });
      expect(res.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
      expect(res.errors?.[0].message).toMatch(/first/);
    });

    it("a cursor that is not ours, or from another ordering, is a BAD_USER_INPUT", async () => {
      const bad = await server.gql(`{ projects(after: "not-a-cursor") { totalCount } }`);
      expect(bad.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
      const page = await server.gql(`{ projects(first: 1, orderBy: { field: NAME }) { pageInfo { endCursor } } }`);
      const cursor = page.data.projects.pageInfo.endCursor;
      const other = await server.gql(`query($c: String) { projects(after: $c, orderBy: { field: INVESTMENT }) { totalCount } }`, { c: cursor });
      expect(other.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
      expect(other.errors?.[0].message).toMatch(/after/);
    });
  });

  describe("lookups and unknown codes", () => {
    it("returns null for unknown region, sector, project and meeting", async () => {
      const { data, errors } = await server.gql(`{ region(code: "999999") { code } sector(code: "NOPE") { code } project(id: "99999999") { id } bad: project(id: "x") { id } meeting(id: "424242") { id } }`);
      expect(errors).toBeUndefined();
      expect(data).toEqual({ region: null, sector: null, project: null, bad: null, meeting: null });
    });

    it.each([
      ["regions(parentCode)", `{ regions(parentCode: "999999") { code } }`, "parentCode"],
      ["filter.regionCodes", `{ stats(filter: { regionCodes: ["410100", "999999"] }) { projectCount } }`, "filter.regionCodes[1]"],
      ["filter.sectorCodes", `{ projects(filter: { sectorCodes: ["NOPE"] }) { totalCount } }`, "filter.sectorCodes[0]"],
      ["filter.meetingId", `{ stats(filter: { meetingId: "424242" }) { projectCount } }`, "filter.meetingId"],
      ["filter.milestone.meetingId", `{ stats(filter: { milestone: { stage: SIGNED, meetingId: "nope" } }) { projectCount } }`, "filter.milestone.meetingId"],
      ["meetings(hostRegionCode)", `{ meetings(hostRegionCode: "999999") { id } }`, "hostRegionCode"],
      ["bySector(parentCode)", `{ stats { bySector(parentCode: "NOPE") { projectCount } } }`, "bySector.parentCode"],
    ])("an unknown code in %s is NOT_FOUND naming where", async (_label, query, field) => {
      const res = await server.gql(query);
      expect(res.errors?.[0].extensions?.code).toBe("NOT_FOUND");
      expect(res.errors?.[0].extensions?.field).toBe(field);
    });

    it.each([
      ["bounds the wrong way round", `{ stats(filter: { minInvestment: 10, maxInvestment: 5 }) { projectCount } }`],
      ["dates the wrong way round", `{ stats(filter: { milestone: { stage: SIGNED, from: "2021-02-01", to: "2021-01-01" } }) { projectCount } }`],
      ["a negative amount", `{ stats(filter: { minInvestment: -1 }) { projectCount } }`],
      ["an over-long name", `{ projects(filter: { nameContains: "${"长".repeat(101)}" }) { totalCount } }`],
      ["too many stages in a region's stats", `{ region(code: "410000") { stats(filter: { stages: [SIGNED, SIGNED, STARTED, IN_PRODUCTION] }) { projectCount } } }`],
    ])("%s is a BAD_USER_INPUT", async (_label, query) => {
      const res = await server.gql(query);
      expect(res.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    });

    it("a non-null variable with a default may be left out; a missing one without default is a BAD_USER_INPUT", async () => {
      const withDefault = await server.gql(`query Q($code: ID! = "410100") { region(code: $code) { name } }`);
      expect(withDefault.errors).toBeUndefined();
      expect(withDefault.data.region.name).toBe("郑州市");
      const missing = await server.gql(`query Q($code: ID!) { region(code: $code) { name } }`);
      expect(missing.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
      expect(missing.errors?.[0].message).toMatch(/\$code/);
    });

    it("an impossible date is refused", async () => {
      const res = await server.gql(`query($d: Date) { meetings(from: $d) { id } }`, { d: "2021-02-30" });
      expect(res.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    });

    it("navigates the tree: parent, children, ancestors", async () => {
      const { data } = await server.gql(`{ region(code: "410102") { name level parent { code } ancestors { code level } children { code } } jiyuan: region(code: "419001") { level parent { code } children { code } } province: region(code: "410000") { parent { code } ancestors { code } } }`);
      expect(data.region).toEqual({ name: "中原区", level: "COUNTY", parent: { code: "410100" }, ancestors: [{ code: "410000", level: "PROVINCE" }, { code: "410100", level: "CITY" }], children: [] });
      expect(data.jiyuan).toEqual({ level: "CITY", parent: { code: "410000" }, children: [] });
      expect(data.province).toEqual({ parent: null, ancestors: [] });
    });

    it("lists regions by level and parent, and sectors as a tree", async () => {
      const { data } = await server.gql(`{ all: regions { code } counties: regions(level: COUNTY) { code } zz: regions(parentCode: "410100") { code level } sectors { code parent { code } children { code } } }`);
      expect(data.all).toHaveLength(175);
      expect(data.counties).toHaveLength(156);
      expect(data.zz.length).toBe(12);
      expect(data.zz.every((r: any) => r.level === "COUNTY")).toBe(true);
      const mfg = data.sectors.find((s: any) => s.code === "MFG");
      expect(mfg.parent).toBeNull();
      expect(mfg.children.length).toBeGreaterThan(0);
      for (const child of mfg.children) expect(data.sectors.find((s: any) => s.code === child.code).parent.code).toBe("MFG");
    });

    it("lists meetings newest first, by host and date range", async () => {
      const { data } = await server.gql(`{ host: meetings(hostRegionCode: "410000") { id } city: meetings(hostRegionCode: "410100") { id } later: meetings(from: "2021-07-11") { id } window: meetings(from: "2021-07-10", to: "2021-07-10") { id heldOn } }`);
      expect(data.host.map((m: any) => m.id)).toContain(meetingId);
      expect(data.city).toEqual([]);
      expect(data.later).toEqual([]);
      expect(data.window).toEqual([{ id: meetingId, heldOn: "2021-07-10" }]);
    });

    it("a project shows its ledger history in stage order", async () => {
      const p = all.find((x) => x.stage === "IN_PRODUCTION")!;
      expect(p.milestones.map((m) => m.stage)).toEqual(STAGE_ORDER);
      const dates = p.milestones.map((m) => m.reachedOn);
      expect([...dates].sort()).toEqual(dates);
      const { data } = await server.gql(`query($id: ID!) { project(id: $id) { id stage synthetic version investment(unit: WAN_YUAN) } }`, { id: p.id });
      expect(data.project).toEqual({ id: p.id, stage: "IN_PRODUCTION", synthetic: true, version: 1, investment: p.wan });
    });
  });

  describe("SQL statements per request (no cross-request cache)", () => {
    let uncached: TestServer;
    beforeAll(async () => {
      uncached = await startTestServer(kind, { AGGREGATE_CACHE: "false", DATA_VERSION_TTL_MS: "0" });
      // The trees are kept even without the aggregate cache: read them once, so each query below costs its own statements only.
      await uncached.gql(`{ regions(level: PROVINCE) { code } }`);
    });
    afterAll(async () => {
      await uncached?.close();
    });

    const shape = `code name
      stats { projectCount totalInvestment bySector { sector { code name } projectCount totalInvestment } byStage { stage projectCount totalInvestment } }
      children { code name
        stats { projectCount totalInvestment bySector { sector { code } projectCount totalInvestment } }
        children { code name stats { projectCount totalInvestment bySector { sector { code } totalInvestment } } } }`;

    it("the province-to-county query costs the same whether 1, 18 or 175 regions are in the answer", async () => {
      const one = await uncached.gql(`{ region(code: "410102") { ${shape} } }`);
      const cities = await uncached.gql(`{ regions(level: CITY) { code name stats { projectCount totalInvestment bySector { sector { code name } projectCount totalInvestment } byStage { stage projectCount totalInvestment } } } }`);
      const province = await uncached.gql(`{ region(code: "410000") { ${shape} } }`);
      for (const res of [one, cities, province]) expect(res.errors).toBeUndefined();
      const count = (node: any): number => 1 + (node.children ?? []).reduce((s: number, c: any) => s + count(c), 0);
      expect(count(one.data.region)).toBe(1);
      expect(cities.data.regions).toHaveLength(18);
      expect(count(province.data.region)).toBe(175);
      expect(province.sqlStatements).toBeGreaterThan(0);
      expect(province.sqlStatements).toBeLessThanOrEqual(3);
      expect([one.sqlStatements, cities.sqlStatements]).toEqual([province.sqlStatements, province.sqlStatements]);
    });

    it("project lists under every region cost no more than under one", async () => {
      const perRegion = `projects(first: 3, orderBy: { field: INVESTMENT, direction: DESC }) { totalCount nodes { name region { code } sector { code } milestones { stage meeting { title } venue { code } } } }`;
      const one = await uncached.gql(`{ region(code: "410100") { ${perRegion} } }`);
      const many = await uncached.gql(`{ regions { code ${perRegion} } }`);
      expect(many.errors).toBeUndefined();
      expect(many.data.regions).toHaveLength(175);
      expect(many.sqlStatements).toBe(one.sqlStatements);
    });
  });

  it("serves Apollo Sandbox at /graphql to a browser", async () => {
    const res = await fetch(server.url, { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/sandbox/i);
  });

  it("answers a body that is not JSON with a 400, not a stack trace", async () => {
    const res = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json" }, body: "{ not json" });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toMatch(/at .*\.js:\d+/);
  });
});
