/**
 * CSV exports for spreadsheets and BI tools: the breakdown and the project
 * list from a URL, UTF-8 with a BOM, RFC 4180 quoting, stable columns, exact
 * totals, and a 400 naming a bad parameter.
 */
import { parse } from "csv-parse/sync";

import { SYSTEM_ACTOR } from "../../src/ledger/actor";
import { systemLedger } from "../../src/ledger/system-ledger";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";

/** Reads CSV as RFC 4180 says with csv-parse (quoted fields may hold commas, doubled quotes and line breaks), insisting that every record ends in CRLF. */
function parseCsv(text: string): string[][] {
  if (text !== "" && !text.endsWith("\r\n")) throw new Error("CSV does not end with CRLF");
  return parse(text, { record_delimiter: "\r\n", relax_column_count: false });
}

async function getCsv(server: TestServer, path: string): Promise<{ status: number; type: string | null; disposition: string | null; raw: string; rows: string[][] }> {
  const res = await fetch(server.url.replace(/\/graphql$/, path));
  const raw = Buffer.from(await res.arrayBuffer()).toString("utf8"); // keeps a BOM, which res.text() would drop
  return { status: res.status, type: res.headers.get("content-type"), disposition: res.headers.get("content-disposition"), raw, rows: res.status === 200 ? parseCsv(raw.replace(/^\uFEFF/, "")) : [] };
}

describe.each(DB_KINDS)("CSV export on %s", (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind, { DATA_VERSION_TTL_MS: "0" });
  });
  afterAll(async () => server?.close());

  it("the province's city × sector table, with Chinese names and exact totals", async () => {
    const csv = await getCsv(server, "/export/breakdown.csv?groupBy=REGION,SECTOR&regionLevel=CITY&unit=YI_YUAN");
    expect(csv.status).toBe(200);
    expect(csv.type).toBe("text/csv; charset=utf-8");
    // An attachment with a file name, so a browser downloads it; the name says the grouping, the region by its level.
    expect(csv.disposition).toBe('attachment; filename="breakdown-city-sector.csv"');
    expect(Buffer.from(csv.raw, "utf8").subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const [header, ...rows] = csv.rows;
    expect(header).toEqual(["region_code", "region_name", "sector_code", "sector_name", "project_count", "total_investment"]);
    const { data } = await server.gql(`{ breakdown(groupBy: [REGION, SECTOR]) { region { code name } sector { code name } projectCount totalInvestment } stats { projectCount totalInvestment(unit: WAN_YUAN) } }`);
    expect(rows).toEqual(data.breakdown.map((r: any) => [r.region.code, r.region.name, r.sector.code, r.sector.name, String(r.projectCount), String(r.totalInvestment)]));
    expect(rows.find((r) => r[0] === "410100")?.[1]).toBe("郑州市");
    expect(rows.reduce((n, r) => n + Number(r[4]), 0)).toBe(data.stats.projectCount);
    expect(Math.round(rows.reduce((n, r) => n + Number(r[5]) * 10_000, 0))).toBe(data.stats.totalInvestment);
  });

  it("takes the filter and unit as parameters: signed projects by county in 万元", async () => {
    const csv = await getCsv(server, "/export/breakdown.csv?groupBy=REGION,SECTOR&regionLevel=COUNTY&stages=SIGNED&unit=WAN_YUAN");
    expect(csv.disposition).toBe('attachment; filename="breakdown-county-sector.csv"');
    const [header, ...rows] = csv.rows;
    expect(header.slice(-2)).toEqual(["project_count", "total_investment"]);
    expect(rows.reduce((n, r) => n + Number(r[4]), 0)).toBe(258);
    expect(rows.reduce((n, r) => n + Number(r[5]), 0)).toBe(28_605_000);
  });

  it("a meeting's batches and a quarterly series have stable columns", async () => {
    const batches = await getCsv(server, "/export/breakdown.csv?groupBy=MEETING,STAGE");
    expect(batches.disposition).toBe('attachment; filename="breakdown-meeting-stage.csv"');
    expect(batches.rows[0]).toEqual(["meeting_id", "meeting_title", "meeting_held_on", "stage", "stage_name", "project_count", "total_investment"]);
    expect(batches.rows.slice(1).map((r) => [r[3], r[4], r[5], r[6]])).toEqual([
      ["SIGNED", "签约", "258", "2860.5"],
      ["STARTED", "开工", "555", "7345"],
      ["IN_PRODUCTION", "投产", "524", "3621"],
    ]);
    const quarters = await getCsv(server, "/export/breakdown.csv?groupBy=QUARTER&milestone.stage=SIGNED");
    expect(quarters.disposition).toBe('attachment; filename="breakdown-quarter.csv"');
    expect(quarters.rows[0]).toEqual(["year", "quarter", "project_count", "total_investment"]);
    const total = await getCsv(server, "/export/breakdown.csv");
    expect(total.disposition).toBe('attachment; filename="breakdown.csv"');
    expect(total.rows[0]).toEqual(["project_count", "total_investment"]);
    expect(quarters.rows.slice(1).reduce((n, r) => n + Number(r[2]), 0)).toBe(1337);
  });

  it.each([
    ["an unknown dimension", "/export/breakdown.csv?groupBy=REGION,CITY", /groupBy/],
    ["an unknown parameter", "/export/breakdown.csv?stage=SIGNED", /stage: unknown parameter/],
    ["a bad level", "/export/breakdown.csv?regionLevel=TOWN", /regionLevel/],
    ["a bad amount", "/export/projects.csv?minInvestment=lots", /minInvestment/],
    ["a bad date", "/export/projects.csv?milestone.stage=SIGNED&milestone.from=2021-02-30", /milestone\.from/],
    ["a date without its stage", "/export/projects.csv?milestone.from=2021-01-01", /milestone\.from: needs milestone\.stage/],
    ["an unknown region", "/export/breakdown.csv?regionCodes=410100,999999", /regionCodes\[1\]: no region "999999"/],
    ["bounds the wrong way round", "/export/projects.csv?minInvestment=9&maxInvestment=1", /maxInvestment/],
  ])("%s is a 400 that says which parameter and why", async (_label, path, reason) => {
    const csv = await getCsv(server, path);
    expect(csv.status).toBe(400);
    expect(csv.type).toMatch(/^text\/plain/);
    expect(csv.disposition).toBeNull(); // an error is read in place, not downloaded
    expect(csv.raw).toMatch(reason);
  });

  it("streams every project, across pages, in the order asked, quoting what needs quoting", async () => {
    // A name with a comma and quotes must survive the round trip (the ledger refuses line breaks in names).
    const awkward = '测试,"引号" 项目';
    await systemLedger(server.db).createProject(SYSTEM_ACTOR, {
      name: awkward,
      regionCode: "410102",
      sectorCode: "RND",
      investment: 1.2345,
      investor: 'A, B & "C"',
      reachedOn: "2021-08-01",
    });
    const csv = await getCsv(server, "/export/projects.csv?orderBy=INVESTMENT&direction=DESC&unit=WAN_YUAN");
    expect(csv.status).toBe(200);
    expect(csv.disposition).toBe('attachment; filename="projects.csv"');
    const [header, ...rows] = csv.rows;
    expect(header).toEqual(["id", "name", "region_code", "region_name", "city_code", "city_name", "sector_code", "sector_name", "top_sector_code", "stage", "investment", "investor", "synthetic", "version", "designed_annual_output", "output_year", "output", "reached_rate", "stage_name"]);
    const { data } = await server.gql(`{ projects { totalCount } }`);
    expect(rows).toHaveLength(data.projects.totalCount);
    expect(rows.length).toBeGreaterThan(1000); // more than one page of the export
    expect(new Set(rows.map((r) => r[0])).size).toBe(rows.length);
    const investments = rows.map((r) => Number(r[10]));
    expect(investments).toEqual([...investments].sort((a, b) => b - a));
    const row = rows.find((r) => r[1] === awkward)!;
    expect(row.slice(2, 6)).toEqual(["410102", "中原区", "410100", "郑州市"]);
    expect(row[10]).toBe("12345");
    expect(row[11]).toBe('A, B & "C"');
    const filtered = await getCsv(server, "/export/projects.csv?regionCodes=419001&stages=STARTED");
    const expected = await server.gql(`{ projects(filter: { regionCodes: ["419001"], stages: [STARTED] }) { totalCount } }`);
    expect(filtered.rows.length - 1).toBe(expected.data.projects.totalCount);
    expect(filtered.rows.slice(1).every((r) => r[2] === "419001" && r[9] === "STARTED")).toBe(true);
  });
});

describe("a breakdown export whose rows the server would have to hold beyond MAX_EXPORT_ROWS", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("sqlite", { MAX_EXPORT_ROWS: "100" });
  });
  afterAll(async () => server?.close());

  it("is refused with a 400 naming the limit before anything is computed, while a narrower one is answered", async () => {
    // County x sector x stage: up to min(156 x 20 x 3, 1,337 projects) rows, over 100.
    const wide = await getCsv(server, "/export/breakdown.csv?groupBy=REGION,SECTOR,STAGE&regionLevel=COUNTY");
    expect(wide.status).toBe(400);
    expect(wide.raw).toMatch(/groupBy: .*up to 1337 rows, more than the limit of 100 \(MAX_EXPORT_ROWS\)/);
    // The same narrowed to one city's 12 counties and one stage: 12 x 20 x 1 = 240 rows at most, still over.
    expect((await getCsv(server, "/export/breakdown.csv?groupBy=REGION,SECTOR,STAGE&regionLevel=COUNTY&regionCodes=410100&stages=STARTED")).status).toBe(400);
    // One city's counties by stage: 12 x 3 = 36 rows at most.
    const narrow = await getCsv(server, "/export/breakdown.csv?groupBy=REGION,STAGE&regionLevel=COUNTY&regionCodes=410100");
    expect(narrow.status).toBe(200);
    expect(narrow.rows.length - 1).toBeGreaterThan(0);
    expect(narrow.rows.length - 1).toBeLessThanOrEqual(36);
  });
});
