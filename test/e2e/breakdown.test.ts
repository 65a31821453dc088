/**
 * Query.breakdown over HTTP on each database: for every combination of up to
 * three dimensions, rows carry only the grouped dimensions, are ordered by
 * them, omit empty groups, and add up to `stats` of the same filter (or, where
 * batch entries are counted, to the meeting batches' figures).
 */
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";

const DIMS = ["REGION", "SECTOR", "STAGE", "MEETING", "YEAR", "QUARTER"] as const;
type Dim = (typeof DIMS)[number];
const FIELD: Record<Dim, string> = { REGION: "region", SECTOR: "sector", STAGE: "stage", MEETING: "meeting", YEAR: "year", QUARTER: "quarter" };
const STAGES = ["SIGNED", "STARTED", "IN_PRODUCTION"];

/** Every combination of up to three dimensions, in every order for pairs (order sorts rows), plus none. */
function combinations(): Dim[][] {
  const out: Dim[][] = [[]];
  for (const a of DIMS) {
    out.push([a]);
    for (const b of DIMS) {
      if (b === a) continue;
      out.push([a, b]);
      for (const c of DIMS) if (c !== a && c !== b && DIMS.indexOf(c) > DIMS.indexOf(b)) out.push([a, b, c]);
    }
  }
  return out;
}

const ROW = `region { code } sector { code } stage meeting { id heldOn } year quarter projectCount totalInvestment(unit: WAN_YUAN)`;

function keyOf(row: any, dim: Dim): string | number {
  switch (dim) {
    case "REGION":
      return row.region.code;
    case "SECTOR":
      return row.sector.code;
    case "STAGE":
      return STAGES.indexOf(row.stage);
    case "MEETING":
      return `${row.meeting.heldOn}|${row.meeting.id.padStart(9, "0")}`;
    case "YEAR":
      return row.year;
    case "QUARTER":
      return row.year * 10 + row.quarter;
  }
}

describe.each(DB_KINDS)("breakdown on %s", (kind) => {
  let server: TestServer;
  let meetingId: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    meetingId = (await server.gql(`{ meetings { id } }`)).data.meetings[0].id;
  });
  afterAll(async () => server?.close());

  const filters: Array<[string, (m: string) => Record<string, unknown> | null]> = [
    ["no filter", () => null],
    ["a stage (rollups)", () => ({ stages: ["STARTED", "IN_PRODUCTION"] })],
    ["a city and a lower bound (base tables)", () => ({ regionCodes: ["410300", "410100"], minInvestment: 5 })],
    ["signed at the meeting", (m) => ({ milestone: { stage: "SIGNED", meetingId: m } })],
    ["presented at the meeting, a sector", (m) => ({ meetingId: m, sectorCodes: ["SEI", "MFG"] })],
  ];

  it.each(filters)("%s: every combination of up to three dimensions adds up, sorted, dimensions only", async (_label, make) => {
    const filter = make(meetingId);
    const expected = await server.gql(
      `query($f: ProjectFilter, $m: ID!) { stats(filter: $f) { projectCount totalInvestment(unit: WAN_YUAN) }
         meeting(id: $m) { batches { stage stats(filter: $f) { projectCount totalInvestment(unit: WAN_YUAN) } } } }`,
      { f: filter, m: meetingId },
    );
    const projects = expected.data.stats;
    const f = filter as any;
    // Batch entries the filter keeps: all three batches of the meeting, or the one its milestone names.
    const batches = expected.data.meeting.batches.filter((b: any) => !f?.milestone || b.stage === f.milestone.stage);
    const entries = {
      projectCount: batches.reduce((n: number, b: any) => n + b.stats.projectCount, 0),
      totalInvestment: batches.reduce((n: number, b: any) => n + b.stats.totalInvestment, 0),
    };
    const meetingInFilter = Boolean(f?.meetingId || f?.milestone?.meetingId);
    // Every combination's answer is checked whole, and what is wrong is listed, at most a few per combination: one
    // assertion over all of them (an expect per row made this file the slowest of the suite, and no stronger).
    const answers = await Promise.all(
      combinations().map(async (dims) => ({
        dims,
        res: await server.gql(`query($g: [BreakdownDimension!]!, $f: ProjectFilter) { breakdown(groupBy: $g, filter: $f, regionLevel: COUNTY) { ${ROW} } }`, { g: dims, f: filter }),
      })),
    );
    const wrong: string[] = [];
    for (const { dims, res } of answers) {
      const label = `${dims.join(",") || "(none)"}`;
      if (res.errors) {
        wrong.push(`${label}: errors ${JSON.stringify(res.errors).slice(0, 200)}`);
        continue;
      }
      const rows = res.data.breakdown;
      const countsEntries = dims.includes("MEETING") || (dims.includes("STAGE") && meetingInFilter);
      const total = countsEntries ? entries : projects;
      const count = rows.reduce((n: number, r: any) => n + r.projectCount, 0);
      const wan = rows.reduce((n: number, r: any) => n + r.totalInvestment, 0);
      if (count !== total.projectCount || wan !== total.totalInvestment) wrong.push(`${label}: adds up to ${count} / ${wan}, not ${total.projectCount} / ${total.totalInvestment}`);
      const empty = rows.filter((row: any) => !(row.projectCount > 0)).length;
      if (empty) wrong.push(`${label}: ${empty} rows without projects`);
      for (const dim of DIMS) {
        const set = dims.includes(dim) || (dim === "YEAR" && dims.includes("QUARTER"));
        const off = rows.filter((row: any) => (row[FIELD[dim]] !== null) !== set).length;
        if (off) wrong.push(`${label}: ${off} rows with ${dim} ${set ? "missing" : "present"}`);
      }
      const keys: string[] = rows.map((row: any) => JSON.stringify(dims.map((d) => keyOf(row, d))));
      const sorted = rows
        .map((row: any) => dims.map((d) => keyOf(row, d)))
        .sort((a: Array<string | number>, b: Array<string | number>) => {
          for (let i = 0; i < dims.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
          return 0;
        })
        .map((k: unknown[]) => JSON.stringify(k));
      if (keys.join("\n") !== sorted.join("\n")) wrong.push(`${label}: rows not in dimension order`);
      if (new Set(keys).size !== keys.length) wrong.push(`${label}: ${keys.length - new Set(keys).size} repeated groups`);
    }
    expect({ combinations: answers.length, wrong }).toEqual({ combinations: combinations().length, wrong: [] });
  });

  it("groups the province's counties, with 济源 standing for itself", async () => {
    const { data } = await server.gql(`{ counties: breakdown(groupBy: [REGION], regionLevel: COUNTY) { region { code level } projectCount } cities: breakdown(groupBy: [REGION]) { region { code level } projectCount } }`);
    expect(data.cities.every((r: any) => r.region.level === "CITY")).toBe(true);
    expect(data.cities).toHaveLength(18);
    const jiyuan = data.counties.find((r: any) => r.region.code === "419001");
    expect(jiyuan.region.level).toBe("CITY");
    expect(data.counties.filter((r: any) => r.region.code !== "419001").every((r: any) => r.region.level === "COUNTY")).toBe(true);
    expect(jiyuan.projectCount).toBe(data.cities.find((r: any) => r.region.code === "419001").projectCount);
  });

  it("the meeting's three batches from one flat query: 258 / 2860.5, 555 / 7345, 524 / 3621", async () => {
    const { data } = await server.gql(`query($m: ID) { breakdown(groupBy: [STAGE], filter: { meetingId: $m }) { stage projectCount totalInvestment } }`, { m: meetingId });
    expect(data.breakdown).toEqual([
      { stage: "SIGNED", projectCount: 258, totalInvestment: 2860.5 },
      { stage: "STARTED", projectCount: 555, totalInvestment: 7345 },
      { stage: "IN_PRODUCTION", projectCount: 524, totalInvestment: 3621 },
    ]);
  });

  it("costs the same number of SQL statements whatever the level and dimensions", async () => {
    const uncached = await startTestServer(kind, { AGGREGATE_CACHE: "false", DATA_VERSION_TTL_MS: "0" });
    try {
      // The trees are kept even without the aggregate cache: read them once, so each breakdown below costs its own statements only.
      await uncached.gql(`{ regions(level: PROVINCE) { code } }`);
      const counts: number[] = [];
      for (const [groupBy, level] of [["SECTOR", "CITY"], ["REGION, SECTOR, STAGE", "COUNTY"], ["REGION", "PROVINCE"]]) {
        const res = await uncached.gql(`{ breakdown(groupBy: [${groupBy}], regionLevel: ${level}) { projectCount } }`);
        expect(res.errors).toBeUndefined();
        counts.push(res.sqlStatements);
      }
      expect(counts[0]).toBeLessThanOrEqual(2);
      expect(counts).toEqual([counts[0], counts[0], counts[0]]);
    } finally {
      await uncached.close();
    }
  });

  it("a year series follows the date of the stage the filter names", async () => {
    const { data } = await server.gql(`{ current: breakdown(groupBy: [YEAR]) { year projectCount } signed: breakdown(groupBy: [YEAR], filter: { milestone: { stage: SIGNED } }) { year projectCount } }`);
    expect(data.current).toEqual([{ year: 2021, projectCount: 1337 }]);
    expect(data.signed.length).toBeGreaterThan(2);
    expect(data.signed[data.signed.length - 1].year).toBe(2021);
    expect(data.signed.reduce((n: number, r: any) => n + r.projectCount, 0)).toBe(1337);
  });
});
