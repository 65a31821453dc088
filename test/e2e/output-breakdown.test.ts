/**
 * 达效 as flat rows (Query.outputBreakdown and /export/output-breakdown.csv) on each database: rows against an oracle
 * computed here from the output reports this file writes through reportOutput (regions at CITY and COUNTY from the
 * region table, 济源 (a city without counties) counting as its own region at COUNTY, top-level sectors from the
 * sector table, current stages, bands by plain arithmetic), the rows adding up to the province's outputStats (the
 * seed's 2022 reports too), the same number of SQL statements at COUNTY as at CITY, bad arguments naming the field,
 * the CSV equal to the API's rows, its bad parameters a 400 naming them, and GB18030.
 */
import iconv from "iconv-lite";
import { parse } from "csv-parse/sync";

import { createToken } from "../../src/auth/tokens";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";
import { writes } from "../support/writes";

const REPORT = `mutation Report($input: ReportOutputInput!) { reportOutput(input: $input) { id version stage } }`;
const ROWS = `query Rows($year: Int!, $groupBy: [OutputDimension!]!, $regionLevel: RegionLevel, $filter: ProjectFilter, $unit: MoneyUnit) {
  outputBreakdown(year: $year, groupBy: $groupBy, regionLevel: $regionLevel, filter: $filter) {
    region { code name } sector { code name } stage band reportingProjects
    designedAnnualOutput(unit: $unit) output(unit: $unit) reachedRate
  }
}`;
const STATS = `query Stats($year: Int!, $filter: ProjectFilter) { region(code: "410000") { outputStats(year: $year, filter: $filter) {
  reportingProjects designedWan: designedAnnualOutput(unit: WAN_YUAN) outputWan: output(unit: WAN_YUAN) reachedRate byBand { band projectCount wan: output(unit: WAN_YUAN) } } } }`;

const BAND_NAMES = ["BELOW_50", "FROM_50_TO_80", "FROM_80_TO_100", "AT_LEAST_100"];
const STAGE_ORDER = ["RESERVE", "SIGNED", "STARTED", "IN_PRODUCTION", "EFFECTIVE"];
const YEAR = 2024;

/** A report this file wrote, as the test knows it. */
interface Written {
  region: string;
  sector: string;
  stage: string;
  designWan: number;
  outputWan: number;
}

/** The region and sector tables, to walk up from a code (the oracle's own view of the trees). */
interface Trees {
  region: Map<string, { code: string; name: string; level: string; parent: string | null }>;
  sector: Map<string, { code: string; name: string; parent: string | null }>;
}

const LEVEL_RANK: Record<string, number> = { PROVINCE: 0, CITY: 1, COUNTY: 2 };

/** The region a project of `code` counts toward at `level`: its ancestor at the level, or itself when it lies above it. */
function regionAt(trees: Trees, code: string, level: string): string {
  let node = trees.region.get(code)!;
  while (LEVEL_RANK[node.level] > LEVEL_RANK[level]) node = trees.region.get(node.parent!)!;
  return node.code;
}

function topSector(trees: Trees, code: string): string {
  let node = trees.sector.get(code)!;
  while (node.parent !== null) node = trees.sector.get(node.parent)!;
  return node.code;
}

function bandOf(outputWan: number, designWan: number): string {
  const rate = outputWan / designWan;
  return BAND_NAMES[rate >= 1 ? 3 : rate >= 0.8 ? 2 : rate >= 0.5 ? 1 : 0];
}

/** The oracle: the written reports grouped by `groupBy`, ordered as the contract says, amounts in 万元. */
function oracle(trees: Trees, written: readonly Written[], groupBy: readonly string[], level: string, keep: (w: Written) => boolean = () => true) {
  const groups = new Map<string, { region: string | null; sector: string | null; stage: string | null; band: string | null; n: number; designWan: number; outputWan: number }>();
  for (const w of written.filter(keep)) {
    const keys = {
      region: groupBy.includes("REGION") ? regionAt(trees, w.region, level) : null,
      sector: groupBy.includes("SECTOR") ? topSector(trees, w.sector) : null,
      stage: groupBy.includes("STAGE") ? w.stage : null,
      band: groupBy.includes("BAND") ? bandOf(w.outputWan, w.designWan) : null,
    };
    const key = JSON.stringify(keys);
    const group = groups.get(key) ?? { ...keys, n: 0, designWan: 0, outputWan: 0 };
    group.n += 1;
    group.designWan += w.designWan;
    group.outputWan += w.outputWan;
    groups.set(key, group);
  }
  const order: Record<string, (g: any) => number | string> = {
    REGION: (g) => g.region,
    SECTOR: (g) => g.sector,
    STAGE: (g) => STAGE_ORDER.indexOf(g.stage),
    BAND: (g) => BAND_NAMES.indexOf(g.band),
  };
  return [...groups.values()]
    .sort((a, b) => {
      for (const d of groupBy) {
        const [x, y] = [order[d](a), order[d](b)];
        if (x !== y) return x < y ? -1 : 1;
      }
      return 0;
    })
    .map((g) => ({
      region: g.region === null ? null : { code: g.region, name: trees.region.get(g.region)!.name },
      sector: g.sector === null ? null : { code: g.sector, name: trees.sector.get(g.sector)!.name },
      stage: g.stage,
      band: g.band,
      reportingProjects: g.n,
      designedAnnualOutput: g.designWan,
      output: g.outputWan,
      reachedRate: Number((g.outputWan / g.designWan).toFixed(12)),
    }));
}

/** The API's rows with the rate rounded as the oracle's (a division done in another order may differ in the last bit). */
function rounded(rows: any[]) {
  return rows.map((r) => ({ ...r, reachedRate: r.reachedRate === null ? null : Number(r.reachedRate.toFixed(12)) }));
}

function parseCsv(text: string): string[][] {
  if (text !== "" && !text.endsWith("\r\n")) throw new Error("CSV does not end with CRLF");
  return parse(text, { record_delimiter: "\r\n", relax_column_count: false });
}

describe.each(DB_KINDS)("output breakdown (达效 as flat rows) on %s", (kind) => {
  let server: TestServer;
  let province: string;
  let trees: Trees;
  const written: Written[] = [];

  beforeAll(async () => {
    server = await startTestServer(kind, { DATA_VERSION_TTL_MS: "60000", RESPONSE_CACHE_MAX_BYTES: "0" });
    province = (await createToken(server.db, { regionCode: "410000", name: "河南省发展和改革委员会" })).token;
    const regions: Array<{ id: number; code: string; name: string; level: string; parent_id: number | null }> = await server.db.query("SELECT id, code, name, level, parent_id FROM region");
    const sectors: Array<{ id: number; code: string; name: string; parent_id: number | null }> = await server.db.query("SELECT id, code, name, parent_id FROM sector");
    const regionCode = new Map(regions.map((r) => [Number(r.id), r.code]));
    const sectorCode = new Map(sectors.map((s) => [Number(s.id), s.code]));
    trees = {
      region: new Map(regions.map((r) => [r.code, { code: r.code, name: r.name, level: r.level, parent: r.parent_id === null ? null : regionCode.get(Number(r.parent_id))! }])),
      sector: new Map(sectors.map((s) => [s.code, { code: s.code, name: s.name, parent: s.parent_id === null ? null : sectorCode.get(Number(s.parent_id))! }])),
    };
  });
  afterAll(async () => server?.close());

  const { as, newProject } = writes(() => server, kind, () => province);

  it("writes reports through reportOutput in several cities and counties and 济源 (a city without counties), every band", async () => {
    // The scratch database has no reports for YEAR but these (the seed's illustrative layer reports 2022).
    const plan: Array<{ region: string; sector: string; design: number; output: number; other?: number }> = [
      { region: "410102", sector: "MFG", design: 10, output: 4.9999 },
      { region: "410102", sector: "SEI", design: 10, output: 5 },
      { region: "410102", sector: "MFG_AUTO", design: 8, output: 9 },
      { region: "410104", sector: "MFG_AUTO", design: 3.3333, output: 2.6667 },
      { region: "410122", sector: "SEI_ICT", design: 20, output: 19.9999, other: 30 },
      { region: "410204", sector: "SEI_BIO", design: 6, output: 6 },
      { region: "410202", sector: "MFG", design: 7, output: 0 },
      { region: "410203", sector: "SEI_BIO", design: 1.5, output: 1.2 },
      { region: "419001", sector: "MFG", design: 100, output: 130 },
      { region: "419001", sector: "SEI", design: 2, output: 1.1 },
    ];
    for (const item of plan) {
      const p = await newProject({ regionCode: item.region, stage: "IN_PRODUCTION", reachedOn: "2023-02-01", sectorCode: item.sector });
      let version = p.version;
      // A report for another year first (not counted for YEAR), when the plan has one.
      if (item.other !== undefined) {
        const other = await as(province, REPORT, { input: { projectId: p.id, year: YEAR - 1, output: item.other, designedAnnualOutput: item.design, reportedOn: "2024-01-20", expectedVersion: version } });
        expect(other.errors).toBeUndefined();
        version = other.data.reportOutput.version;
      }
      const reply = await as(province, REPORT, { input: { projectId: p.id, year: YEAR, output: item.output, designedAnnualOutput: item.design, reportedOn: "2025-03-01", expectedVersion: version } });
      expect(reply.errors).toBeUndefined();
      written.push({ region: item.region, sector: item.sector, stage: reply.data.reportOutput.stage, designWan: Math.round(item.design * 10_000), outputWan: Math.round(item.output * 10_000) });
    }
    // A project with a report for another year only.
    const q = await newProject({ regionCode: "410102", stage: "IN_PRODUCTION", reachedOn: "2023-02-01" });
    expect((await as(province, REPORT, { input: { projectId: q.id, year: YEAR - 1, output: 1, designedAnnualOutput: 4, reportedOn: "2024-01-10", expectedVersion: q.version } })).errors).toBeUndefined();

    const [{ n }] = await server.db.query("SELECT COUNT(*) AS n FROM output_report WHERE year = ?", [YEAR]);
    expect(Number(n)).toBe(written.length);
    expect(new Set(written.map((w) => w.stage))).toEqual(new Set(["IN_PRODUCTION", "EFFECTIVE"]));
    expect(new Set(written.map((w) => bandOf(w.outputWan, w.designWan)))).toEqual(new Set(BAND_NAMES));
  });

  const cases: Array<[string[], string, unknown, ((w: Written) => boolean) | undefined]> = [
    [[], "CITY", null, undefined],
    [["REGION"], "CITY", null, undefined],
    [["REGION", "BAND"], "CITY", null, undefined],
    [["REGION", "BAND"], "COUNTY", null, undefined],
    [["BAND", "REGION"], "COUNTY", null, undefined],
    [["REGION"], "PROVINCE", null, undefined],
    [["SECTOR", "STAGE", "BAND"], "CITY", null, undefined],
    [["STAGE", "SECTOR"], "CITY", null, undefined],
    [["REGION", "SECTOR", "STAGE", "BAND"], "COUNTY", null, undefined],
    [["REGION", "BAND"], "COUNTY", { sectorCodes: ["MFG"] }, (w) => w.sector.startsWith("MFG")],
    [["SECTOR", "BAND"], "CITY", { stages: ["EFFECTIVE"] }, (w) => w.stage === "EFFECTIVE"],
    [["REGION", "STAGE"], "COUNTY", { regionCodes: ["410100"] }, (w) => w.region.startsWith("4101")],
  ];

  it.each(cases)("groupBy %j at %s, filter %j: the oracle's rows, in order", async (groupBy, regionLevel, filter, keep) => {
    const reply = await server.gql(ROWS, { year: YEAR, groupBy, regionLevel, filter, unit: "WAN_YUAN" });
    expect(reply.errors).toBeUndefined();
    const want = oracle(trees, written, groupBy, regionLevel, keep);
    expect(want.length).toBeGreaterThan(0);
    expect(rounded(reply.data.outputBreakdown)).toEqual(want);
  });

  it("the 亿元 default: the same rows divided by 10,000", async () => {
    const wan = (await server.gql(ROWS, { year: YEAR, groupBy: ["REGION", "BAND"], unit: "WAN_YUAN" })).data.outputBreakdown;
    const yi = (await server.gql(ROWS, { year: YEAR, groupBy: ["REGION", "BAND"] })).data.outputBreakdown;
    expect(yi).toEqual(wan.map((r: any) => ({ ...r, designedAnnualOutput: r.designedAnnualOutput / 10_000, output: r.output / 10_000 })));
  });

  it.each([
    [YEAR, null],
    [2022, null],
    [YEAR, { sectorCodes: ["SEI"] }],
    [2022, { stages: ["IN_PRODUCTION"] }],
  ])("rows add up to the province's outputStats (year %s, filter %j)", async (year, filter) => {
    const stats = (await server.gql(STATS, { year, filter })).data.region.outputStats;
    expect(stats.reportingProjects).toBeGreaterThan(0);
    for (const [groupBy, regionLevel] of [[["REGION", "BAND"], "COUNTY"], [["SECTOR", "STAGE"], "CITY"], [["BAND"], "CITY"], [[], "CITY"]] as Array<[string[], string]>) {
      const reply = await server.gql(ROWS, { year, groupBy, regionLevel, filter, unit: "WAN_YUAN" });
      expect(reply.errors).toBeUndefined();
      const rows = reply.data.outputBreakdown;
      const total = (pick: (r: any) => number) => rows.reduce((n: number, r: any) => n + pick(r), 0);
      expect([total((r) => r.reportingProjects), total((r) => r.designedAnnualOutput), total((r) => r.output)]).toEqual([stats.reportingProjects, stats.designedWan, stats.outputWan]);
      if (groupBy.includes("BAND")) {
        for (const band of stats.byBand) {
          const mine = rows.filter((r: any) => r.band === band.band);
          expect([band.band, mine.reduce((n: number, r: any) => n + r.reportingProjects, 0), mine.reduce((n: number, r: any) => n + r.output, 0)]).toEqual([band.band, band.projectCount, band.wan]);
        }
      }
    }
  });

  it("one grouped statement: as many statements at COUNTY as at CITY and as for the total", async () => {
    const counted = async (groupBy: string[], regionLevel: string) => {
      await server.gql(ROWS, { year: YEAR, groupBy, regionLevel });
      const reply = await server.gql(ROWS, { year: YEAR, groupBy, regionLevel });
      expect(reply.errors).toBeUndefined();
      return reply.sqlStatements;
    };
    const city = await counted(["REGION", "BAND"], "CITY");
    expect(city).toBeGreaterThan(0);
    expect(await counted(["REGION", "BAND"], "COUNTY")).toBe(city);
    expect(await counted(["REGION", "SECTOR", "STAGE", "BAND"], "COUNTY")).toBe(city);
    expect(await counted([], "CITY")).toBe(city);
  });

  it("refuses a bad year and a dimension given twice, naming the argument", async () => {
    const field = async (variables: Record<string, unknown>) => {
      const reply = await server.gql(ROWS, variables);
      expect(reply.errors?.map((e: any) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
      return reply.errors![0].extensions!.field;
    };
    expect(await field({ year: 20240, groupBy: ["REGION"] })).toBe("year");
    expect(await field({ year: 1800, groupBy: [] })).toBe("year");
    expect(await field({ year: YEAR, groupBy: ["REGION", "BAND", "REGION"] })).toBe("groupBy[2]");
  });

  const base = () => server.url.replace(/\/graphql$/, "");
  async function getCsv(path: string) {
    const res = await fetch(`${base()}${path}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    return { status: res.status, type: res.headers.get("content-type"), disposition: res.headers.get("content-disposition"), bytes, text: bytes.toString("utf8") };
  }

  it("the CSV holds the API's rows, with the columns of the grouped dimensions then the measures", async () => {
    for (const [query, groupBy, regionLevel, filter, unit] of [
      ["year=2024&groupBy=REGION,BAND", ["REGION", "BAND"], "CITY", null, "YI_YUAN"],
      ["year=2024&groupBy=BAND,REGION,SECTOR,STAGE&regionLevel=COUNTY&unit=WAN_YUAN", ["BAND", "REGION", "SECTOR", "STAGE"], "COUNTY", null, "WAN_YUAN"],
      ["year=2024&groupBy=REGION&regionLevel=county&stages=EFFECTIVE&sectorCodes=MFG,SEI_BIO", ["REGION"], "COUNTY", { stages: ["EFFECTIVE"], sectorCodes: ["MFG", "SEI_BIO"] }, "YI_YUAN"],
      ["year=2022&groupBy=STAGE,REGION&regionCodes=410000&nameContains=", ["STAGE", "REGION"], "CITY", { regionCodes: ["410000"] }, "YI_YUAN"],
      ["year=2024", [], "CITY", null, "YI_YUAN"],
    ] as Array<[string, string[], string, unknown, string]>) {
      const csv = await getCsv(`/export/output-breakdown.csv?${query}`);
      expect([query, csv.status]).toEqual([query, 200]);
      expect(csv.type).toBe("text/csv; charset=utf-8");
      expect(csv.bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
      const [header, ...records] = parseCsv(csv.text.replace(/^\uFEFF/, ""));
      const dimensionColumns: Record<string, string[]> = { REGION: ["region_code", "region_name"], SECTOR: ["sector_code", "sector_name"], STAGE: ["stage", "stage_name"], BAND: ["band"] };
      expect(header).toEqual([...groupBy.flatMap((d) => dimensionColumns[d]), "reporting_projects", "designed_annual_output", "output", "reached_rate"]);
      const reply = await server.gql(ROWS, { year: Number(query.slice(5, 9)), groupBy, regionLevel, filter, unit });
      expect(reply.errors).toBeUndefined();
      const want = reply.data.outputBreakdown.map((r: any) => [
        ...groupBy.flatMap((d) => (d === "REGION" ? [r.region.code, r.region.name] : d === "SECTOR" ? [r.sector.code, r.sector.name] : d === "STAGE" ? [r.stage, { IN_PRODUCTION: "投产", EFFECTIVE: "达效" }[r.stage as string]] : [r.band])),
        String(r.reportingProjects),
        String(r.designedAnnualOutput),
        String(r.output),
        r.reachedRate === null ? "" : String(r.reachedRate),
      ]);
      expect(want.length).toBeGreaterThan(0);
      expect([query, records]).toEqual([query, want]);
    }
    const named = await getCsv("/export/output-breakdown.csv?year=2024&groupBy=REGION,BAND&regionLevel=COUNTY");
    expect(named.disposition).toBe('attachment; filename="output-breakdown-2024-county-band.csv"');
  });

  it("GB18030 on request: the same text, no BOM", async () => {
    const utf8 = await getCsv("/export/output-breakdown.csv?year=2024&groupBy=REGION,SECTOR&regionLevel=COUNTY");
    const gb = await getCsv("/export/output-breakdown.csv?year=2024&groupBy=REGION,SECTOR&regionLevel=COUNTY&encoding=GB18030");
    expect(gb.status).toBe(200);
    expect(gb.type).toBe("text/csv; charset=gb18030");
    expect(gb.bytes.subarray(0, 3)).not.toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const decoded = iconv.decode(gb.bytes, "gb18030");
    expect(decoded).toBe(utf8.text.replace(/^\uFEFF/, ""));
    expect(decoded).toContain("中原区");
    expect(gb.bytes.equals(Buffer.from(decoded, "utf8"))).toBe(false);
  });

  it.each([
    ["groupBy=REGION", "year"],
    ["year=abc", "year"],
    ["year=20240", "year"],
    ["year=2024&groupBy=REGION,TOWN", "groupBy"],
    ["year=2024&groupBy=BAND,REGION,BAND", "groupBy"],
    ["year=2024&regionLevel=TOWN", "regionLevel"],
    ["year=2024&unit=DOLLAR", "unit"],
    ["year=2024&encoding=latin1", "encoding"],
    ["year=2024&stages=DONE", "stages"],
    ["year=2024&regionCodes=999999", "regionCodes"],
    ["year=2024&minInvestment=-1", "minInvestment"],
    ["year=2024&milestone.from=2024-01-01", "milestone.from"],
    ["year=2024&colour=red", "colour"],
  ])("a bad parameter is a 400 naming it: %s", async (query, param) => {
    const csv = await getCsv(`/export/output-breakdown.csv?${query}`);
    expect(csv.status).toBe(400);
    expect(csv.text).toMatch(new RegExp(`^Bad request: ${param.replace(".", "\\.")}\\b`));
  });
});

describe("output breakdown CSV under MAX_EXPORT_ROWS (sqlite)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("sqlite", { MAX_EXPORT_ROWS: "100" });
  });
  afterAll(async () => server?.close());

  it("refuses, before reading, a grouping that can have more rows than the limit, naming groupBy; a narrower one passes", async () => {
    const get = (query: string) => fetch(server.url.replace(/\/graphql$/, `/export/output-breakdown.csv?${query}`));
    const wide = await get("year=2022&groupBy=REGION,SECTOR,STAGE,BAND&regionLevel=COUNTY");
    expect(wide.status).toBe(400);
    expect(await wide.text()).toMatch(/^Bad request: groupBy: these dimensions can have up to \d+ rows, more than the limit of 100 \(MAX_EXPORT_ROWS\)/);
    const narrow = await get("year=2022&groupBy=BAND");
    expect(narrow.status).toBe(200);
    // The API is not limited by MAX_EXPORT_ROWS (its cost is).
    const api = await server.gql(`{ outputBreakdown(year: 2022, groupBy: [REGION, SECTOR, STAGE, BAND], regionLevel: COUNTY) { reportingProjects } region(code: "410000") { outputStats(year: 2022) { reportingProjects } } }`);
    expect(api.errors).toBeUndefined();
    // The seed's illustrative 2022 reports.
    expect(api.data.region.outputStats.reportingProjects).toBeGreaterThan(0);
    expect(api.data.outputBreakdown.reduce((n: number, r: any) => n + r.reportingProjects, 0)).toBe(api.data.region.outputStats.reportingProjects);
  });
});
