/**
 * 达效 over HTTP on each database: reportOutput's rules (stage, scope,
 * anonymous, stale version, missing design, years and dates, amounts), a
 * second report for a year replacing the first with the history keeping the
 * old value, a report reaching the designed output making the project
 * EFFECTIVE (milestone dated reportedOn, history, rollups: byStage and the
 * breakdown), forward only, EFFECTIVE_THRESHOLD=0.8, Region.outputStats
 * against an oracle computed here from the reports the test wrote, and a
 * constant number of SQL statements for a whole province-to-county request.
 */
import { createToken } from "../../src/auth/tokens";
import { verifyRollups } from "../../src/stats/rollups";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";
import { type Reply, writes } from "../support/writes";

const REPORT = `mutation Report($input: ReportOutputInput!) {
  reportOutput(input: $input) { id version stage designedAnnualOutput designedWan: designedAnnualOutput(unit: WAN_YUAN)
    outputReports { year output reachedRate reportedOn wan: output(unit: WAN_YUAN) }
    milestones { stage reachedOn meeting { id } } }
}`;
const HISTORY = `query History($id: ID!) { project(id: $id) { version stage history(first: 20) { nodes { operation projectVersion fields { field from to } } } } }`;
const STATS_FIELDS = `year reportingProjects designedAnnualOutput output reachedRate effectiveProjects outputWan: output(unit: WAN_YUAN) designedWan: designedAnnualOutput(unit: WAN_YUAN)
  byBand { band projectCount output wan: output(unit: WAN_YUAN) }`;

function codeOf(reply: Reply): string | undefined {
  expect(reply.errors).toHaveLength(1);
  return reply.errors![0].extensions?.code;
}

function fieldsOf(reply: Reply): string[] {
  expect(reply.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
  return (reply.errors?.[0]?.extensions?.problems ?? []).map((p: { field: string }) => p.field);
}

/** Whether a project in `projectRegion` lies in the subtree of `code` (GB/T 2260: province xx0000, city xxxx00). */
function inSubtree(code: string, projectRegion: string): boolean {
  if (code.endsWith("0000")) return projectRegion.slice(0, 2) === code.slice(0, 2);
  if (code.endsWith("00")) return projectRegion.slice(0, 4) === code.slice(0, 4);
  return projectRegion === code;
}

/** What the test knows of a project it reported for (the scratch database has no other reports). */
interface Known {
  id: string;
  region: string;
  sector: string;
  designWan: number;
  stage: string;
  reports: Map<number, number>;
}

const BAND_NAMES = ["BELOW_50", "FROM_50_TO_80", "FROM_80_TO_100", "AT_LEAST_100"];

/** The oracle: a region's stats for a year from the known projects, by plain arithmetic on 万元. */
function oracle(known: Known[], code: string, year: number, keep: (k: Known) => boolean = () => true) {
  const mine = known.filter((k) => inSubtree(code, k.region) && keep(k));
  const reporting = mine.filter((k) => k.reports.has(year));
  const bands = BAND_NAMES.map((band) => ({ band, projectCount: 0, wan: 0 }));
  for (const k of reporting) {
    const rate = k.reports.get(year)! / k.designWan;
    const i = rate >= 1 ? 3 : rate >= 0.8 ? 2 : rate >= 0.5 ? 1 : 0;
    bands[i].projectCount += 1;
    bands[i].wan += k.reports.get(year)!;
  }
  const outputWan = reporting.reduce((s, k) => s + k.reports.get(year)!, 0);
  const designedWan = reporting.reduce((s, k) => s + k.designWan, 0);
  return {
    year,
    reportingProjects: reporting.length,
    outputWan,
    designedWan,
    reachedRate: designedWan ? outputWan / designedWan : null,
    effectiveProjects: mine.filter((k) => k.stage === "EFFECTIVE").length,
    byBand: bands,
  };
}

describe.each(DB_KINDS)("output reports (达效) on %s", (kind) => {
  let server: TestServer;
  let province: string;
  let kaifeng: string;
  const known: Known[] = [];

  beforeAll(async () => {
    server = await startTestServer(kind, { DATA_VERSION_TTL_MS: "60000", RESPONSE_CACHE_MAX_BYTES: "0" });
    province = (await createToken(server.db, { regionCode: "410000", name: "河南省发展和改革委员会" })).token;
    kaifeng = (await createToken(server.db, { regionCode: "410200", name: "开封市发展和改革委员会" })).token;
  });
  afterAll(async () => server?.close());

  const { as, newProject } = writes(() => server, kind, () => province);

  /** A project IN_PRODUCTION since `since`, in `region`. */
  const inProduction = (region = "410102", since = "2023-05-10", sector = "MFG") => newProject({ regionCode: region, stage: "IN_PRODUCTION", reachedOn: since, sectorCode: sector });

  async function report(input: Record<string, unknown>, token: string | null = province): Promise<Reply> {
    return as(token, REPORT, { input });
  }

  it("refuses a project not in production, anonymous writers, other regions, stale versions, a missing design, bad years, dates and amounts", async () => {
    const signed = await newProject();
    expect(fieldsOf(await report({ projectId: signed.id, year: 2024, output: 1, designedAnnualOutput: 2, reportedOn: "2024-12-01", expectedVersion: 1 }))).toEqual(["input.projectId"]);

    const p = await inProduction();
    const good = { projectId: p.id, year: 2023, output: 6, designedAnnualOutput: 10, reportedOn: "2024-01-20", expectedVersion: p.version };
    const anonymous = await report(good, null);
    expect(codeOf(anonymous)).toBe("UNAUTHENTICATED");
    expect(codeOf(await report(good, kaifeng))).toBe("FORBIDDEN");
    const stale = await report({ ...good, expectedVersion: p.version + 1 });
    expect(codeOf(stale)).toBe("CONFLICT");
    expect(stale.errors![0].extensions).toMatchObject({ currentVersion: p.version, expectedVersion: p.version + 1 });
    expect(fieldsOf(await report({ ...good, designedAnnualOutput: null }))).toEqual(["input.designedAnnualOutput"]);
    expect(fieldsOf(await report({ ...good, year: 2022 }))).toEqual(["input.year"]); // before the year of IN_PRODUCTION
    expect(fieldsOf(await report({ ...good, year: 2025 }))).toEqual(["input.year"]); // after the year of reportedOn
    expect(fieldsOf(await report({ ...good, reportedOn: "2023-05-01" }))).toEqual(["input.reportedOn"]); // before IN_PRODUCTION
    expect(fieldsOf(await report({ ...good, year: 2024, reportedOn: "2023-12-31" })).sort()).toEqual(["input.year"]);
    expect(fieldsOf(await report({ ...good, output: -1, designedAnnualOutput: 0 })).sort()).toEqual(["input.designedAnnualOutput", "input.output"]);
    expect(fieldsOf(await report({ ...good, output: 1.00001 }))).toEqual(["input.output"]);
    expect(fieldsOf(await report({ ...good, reportedOn: "2999-01-01" }))).toEqual(["input.reportedOn"]);
    // Nothing was written by any of these.
    const after = (await as(null, HISTORY, { id: p.id })).data.project;
    expect(after.version).toBe(p.version);
    expect(after.history.nodes.map((n: any) => n.operation)).toEqual(["CREATE_PROJECT"]);
  });

  it("records a year's output and design, replaces a year's report with the history keeping the old value", async () => {
    const p = await inProduction();
    const first = await report({ projectId: p.id, year: 2023, output: 6, designedAnnualOutput: 10, reportedOn: "2024-01-20", expectedVersion: p.version });
    expect(first.errors).toBeUndefined();
    expect(first.data.reportOutput).toMatchObject({ version: p.version + 1, stage: "IN_PRODUCTION", designedAnnualOutput: 10, designedWan: 100_000 });
    expect(first.data.reportOutput.outputReports).toEqual([{ year: 2023, output: 6, reachedRate: 0.6, reportedOn: "2024-01-20", wan: 60_000 }]);
    // No design given: the recorded one stays. The same year again: replaced.
    const second = await report({ projectId: p.id, year: 2023, output: 7.5, reportedOn: "2024-02-01", expectedVersion: p.version + 1 });
    expect(second.errors).toBeUndefined();
    expect(second.data.reportOutput.outputReports).toEqual([{ year: 2023, output: 7.5, reachedRate: 0.75, reportedOn: "2024-02-01", wan: 75_000 }]);
    const history = (await as(null, HISTORY, { id: p.id })).data.project.history.nodes;
    expect(history[0]).toEqual({
      operation: "REPORT_OUTPUT",
      projectVersion: p.version + 2,
      fields: [
        { field: "outputReports.2023", from: "6", to: "7.5" },
        { field: "outputReports.2023.reportedOn", from: "2024-01-20", to: "2024-02-01" },
      ],
    });
    expect(history[1].fields).toEqual([
      { field: "designedAnnualOutput", from: null, to: "10" },
      { field: "outputReports.2023", from: null, to: "6" },
      { field: "outputReports.2023.reportedOn", from: null, to: "2024-01-20" },
    ]);
    // reportedOn omitted: the ledger's today (UTC here); this year's report may be made during the year.
    const before = new Date().toISOString().slice(0, 10);
    const today = await report({ projectId: p.id, year: Number(before.slice(0, 4)), output: 0, expectedVersion: p.version + 2 });
    const after = new Date().toISOString().slice(0, 10);
    expect(today.errors).toBeUndefined();
    const latest = today.data.reportOutput.outputReports.at(-1);
    expect([before, after]).toContain(latest.reportedOn);
    expect(latest).toMatchObject({ year: Number(before.slice(0, 4)), output: 0, reachedRate: 0 });
    known.push({ id: p.id, region: "410102", sector: "MFG", designWan: 100_000, stage: "IN_PRODUCTION", reports: new Map([[2023, 75_000], [Number(before.slice(0, 4)), 0]]) });
    // outputStats names a bad year.
    const bad = await as(null, `{ region(code: "410000") { outputStats(year: 20240) { year } } }`);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "year" });
  });

  it("a report reaching the designed output makes the project EFFECTIVE, dated the report, in history, byStage and the breakdown; a lower one later does not move it back", async () => {
    const byStage = async () => {
      const reply = await as(null, `{ region(code: "410100") { stats { byStage { stage projectCount } } } breakdown(groupBy: [STAGE], filter: { regionCodes: ["410100"] }) { stage projectCount } }`);
      expect(reply.errors).toBeUndefined();
      const stats = Object.fromEntries(reply.data.region.stats.byStage.map((s: any) => [s.stage, s.projectCount]));
      const breakdown = Object.fromEntries(reply.data.breakdown.map((s: any) => [s.stage, s.projectCount]));
      return { stats, breakdown };
    };
    const p = await inProduction("410103", "2023-03-01");
    const before = await byStage();
    const reached = await report({ projectId: p.id, year: 2024, output: 12, designedAnnualOutput: 12, reportedOn: "2025-01-15", expectedVersion: p.version });
    expect(reached.errors).toBeUndefined();
    expect(reached.data.reportOutput).toMatchObject({ stage: "EFFECTIVE", version: p.version + 1 });
    expect(reached.data.reportOutput.milestones).toEqual([
      { stage: "IN_PRODUCTION", reachedOn: "2023-03-01", meeting: null },
      { stage: "EFFECTIVE", reachedOn: "2025-01-15", meeting: null },
    ]);
    const history = (await as(null, HISTORY, { id: p.id })).data.project.history.nodes[0];
    expect(history.operation).toBe("REPORT_OUTPUT");
    expect(history.fields).toEqual(
      expect.arrayContaining([
        { field: "stage", from: "IN_PRODUCTION", to: "EFFECTIVE" },
        { field: "outputReports.2024", from: null, to: "12" },
        { field: "designedAnnualOutput", from: null, to: "12" },
      ]),
    );
    const after = await byStage();
    for (const view of ["stats", "breakdown"] as const) {
      expect(after[view].EFFECTIVE ?? 0).toBe((before[view].EFFECTIVE ?? 0) + 1);
      expect(after[view].IN_PRODUCTION ?? 0).toBe((before[view].IN_PRODUCTION ?? 0) - 1);
    }
    // Forward only: a lower report for a later year leaves it EFFECTIVE (and its milestone as it was).
    const lower = await report({ projectId: p.id, year: 2025, output: 3, reportedOn: "2025-11-01", expectedVersion: p.version + 1 });
    expect(lower.errors).toBeUndefined();
    expect(lower.data.reportOutput.stage).toBe("EFFECTIVE");
    expect(lower.data.reportOutput.milestones).toHaveLength(2);
    expect(lower.data.reportOutput.outputReports.map((r: any) => [r.year, r.output, r.reachedRate])).toEqual([
      [2024, 12, 1],
      [2025, 3, 0.25],
    ]);
    known.push({ id: p.id, region: "410103", sector: "MFG", designWan: 120_000, stage: "EFFECTIVE", reports: new Map([[2024, 120_000], [2025, 30_000]]) });
    // 85 % is not enough at the default threshold (100 %).
    const q = await inProduction("410103", "2023-03-01");
    const short = await report({ projectId: q.id, year: 2024, output: 8.5, designedAnnualOutput: 10, reportedOn: "2025-01-15", expectedVersion: q.version });
    expect(short.data.reportOutput.stage).toBe("IN_PRODUCTION");
    known.push({ id: q.id, region: "410103", sector: "MFG", designWan: 100_000, stage: "IN_PRODUCTION", reports: new Map([[2024, 85_000]]) });
    // The rollups the write changed agree with the base tables.
    expect(await verifyRollups(server.db)).toEqual([]);
  });

  it("outputStats matches an oracle for every region of the province, with a filter too, in a constant number of statements", async () => {
    // Reports in three cities and several counties, every band, exact 万元 amounts.
    const plan: Array<{ region: string; sector: string; design: number; output: number }> = [
      { region: "410102", sector: "MFG", design: 10, output: 4.9999 },
      { region: "410102", sector: "SEI", design: 10, output: 5 },
      { region: "410104", sector: "MFG_AUTO", design: 3.3333, output: 2.6667 },
      { region: "410122", sector: "SEI_ICT", design: 20, output: 19.9999 },
      { region: "410202", sector: "MFG", design: 7, output: 0 },
      { region: "410203", sector: "SEI_BIO", design: 1.5, output: 1.2 },
      { region: "419001", sector: "MFG", design: 100, output: 130 },
    ];
    for (const item of plan) {
      const p = await inProduction(item.region, "2024-02-01", item.sector);
      const reply = await report({ projectId: p.id, year: 2024, output: item.output, designedAnnualOutput: item.design, reportedOn: "2025-03-01", expectedVersion: p.version });
      expect(reply.errors).toBeUndefined();
      const designWan = Math.round(item.design * 10_000);
      const outWan = Math.round(item.output * 10_000);
      known.push({ id: p.id, region: item.region, sector: item.sector, designWan, stage: outWan >= designWan ? "EFFECTIVE" : "IN_PRODUCTION", reports: new Map([[2024, outWan]]) });
      expect(reply.data.reportOutput.stage).toBe(outWan >= designWan ? "EFFECTIVE" : "IN_PRODUCTION");
    }
    const tree = `query Tree($year: Int!, $filter: ProjectFilter) { region(code: "410000") { code outputStats(year: $year, filter: $filter) { ${STATS_FIELDS} }
      children { code outputStats(year: $year, filter: $filter) { ${STATS_FIELDS} } children { code outputStats(year: $year, filter: $filter) { ${STATS_FIELDS} } } } } }`;
    // Every project with a design or at EFFECTIVE, as the tables hold them (the seed's illustrative layer has some too); the ones this
    // file wrote must be there as the test knows them.
    const rows: Array<{ id: number; region: string; sector_id: number; stage: number; design: number | string | null; year: number | null; output_wan: number | string | null }> = await server.db.query(
      "SELECT p.id, g.code AS region, p.sector_id, p.stage, p.designed_annual_output_wan AS design, r.year, r.output_wan FROM project p JOIN region g ON g.id = p.region_id " +
        "LEFT JOIN output_report r ON r.project_id = p.id WHERE p.designed_annual_output_wan IS NOT NULL OR p.stage = 4",
    );
    const sectors: Array<{ id: number; parent_id: number | null; code: string }> = await server.db.query("SELECT id, parent_id, code FROM sector");
    const sectorCode = new Map(sectors.map((x) => [Number(x.id), x.code]));
    const parentOf = new Map(sectors.map((x) => [x.code, x.parent_id === null ? null : sectorCode.get(Number(x.parent_id))!]));
    const under = (code: string, top: string): boolean => code === top || (parentOf.get(code) != null && under(parentOf.get(code)!, top));
    const stageNames = ["RESERVE", "SIGNED", "STARTED", "IN_PRODUCTION", "EFFECTIVE"];
    const all = new Map<string, Known>();
    for (const row of rows) {
      const id = String(row.id);
      const k = all.get(id) ?? { id, region: row.region, sector: sectorCode.get(Number(row.sector_id))!, designWan: row.design === null ? 0 : Number(row.design), stage: stageNames[Number(row.stage)], reports: new Map<number, number>() };
      if (row.year !== null) k.reports.set(Number(row.year), Number(row.output_wan));
      all.set(id, k);
    }
    for (const k of known) expect(all.get(k.id)).toEqual(k);
    const everything = [...all.values()];
    const check = (node: any, year: number, keep?: (k: Known) => boolean) => {
      const want = oracle(everything, node.code, year, keep);
      const got = node.outputStats;
      expect({ code: node.code, ...got, reachedRate: got.reachedRate === null ? null : Number(got.reachedRate.toFixed(12)) }).toEqual({
        code: node.code,
        year,
        reportingProjects: want.reportingProjects,
        designedAnnualOutput: want.designedWan / 10_000,
        output: want.outputWan / 10_000,
        reachedRate: want.reachedRate === null ? null : Number(want.reachedRate.toFixed(12)),
        effectiveProjects: want.effectiveProjects,
        outputWan: want.outputWan,
        designedWan: want.designedWan,
        byBand: want.byBand.map((b) => ({ band: b.band, projectCount: b.projectCount, output: b.wan / 10_000, wan: b.wan })),
      });
    };
    for (const [year, filter, keep] of [
      [2024, null, undefined],
      [2023, null, undefined],
      [2022, null, undefined],
      [2024, { sectorCodes: ["MFG"] }, (k: Known) => under(k.sector, "MFG")],
      [2024, { stages: ["EFFECTIVE"] }, (k: Known) => k.stage === "EFFECTIVE"],
    ] as Array<[number, unknown, ((k: Known) => boolean) | undefined]>) {
      const reply = await server.gql(tree, { year, filter });
      expect(reply.errors).toBeUndefined();
      const root = reply.data.region;
      check(root, year, keep);
      for (const city of root.children) {
        check(city, year, keep);
        for (const county of city.children) check(county, year, keep);
      }
    }
    // The oracle is not empty: the province's 2024 has every band.
    expect(oracle(everything, "410000", 2024).byBand.every((b) => b.projectCount > 0)).toBe(true);

    // Statements: the whole tree (175 regions) costs what one county costs, beyond the request's fixed reads.
    const one = `{ region(code: "410102") { code outputStats(year: 2024) { ${STATS_FIELDS} } } }`;
    await server.gql(one);
    await server.gql(tree, { year: 2024 });
    const single = (await server.gql(one)).sqlStatements;
    const whole = (await server.gql(tree, { year: 2024 })).sqlStatements;
    expect(single).toBeGreaterThan(0);
    expect(whole).toBe(single); // the region tree is the request's (cached); the stats of all 175 regions are one grouped statement
  });

  it("imports designed output and reports from a ledger file (新建, 达效 by a report, all or nothing), re-imports unchanged, and exports them", async () => {
    const base = server.url.replace(/\/graphql$/, "");
    const upload = async (body: string) => {
      const reply = await fetch(`${base}/import/projects.csv`, { method: "POST", headers: { "content-type": "text/csv", authorization: `Bearer ${province}` }, body });
      const json = (await reply.json()) as any;
      expect({ status: reply.status, problems: json.problems }).toEqual({ status: json.problems?.length ? 400 : 200, problems: json.problems });
      return json;
    };
    const header = "台账编号,项目名称,区划代码,行业代码,总投资（亿元）,阶段,日期,设计年产值,产值年度,年产值,填报日期\n";
    const tag = `${kind}-${Date.now()}`;
    const [a, b, c] = ["A", "B", "C"].map((x) => `OUT-${tag}-${x}`);
    const first = `${header}${a},产值导入甲 ${tag},410102,MFG,5,投产,2024-03-01,10,2024,6,2025-01-10\n${b},产值导入乙 ${tag},410102,MFG,5,达效,2025-02-01,10,2024,12,\n${c},产值导入丙 ${tag},410102,MFG,5,IN_PRODUCTION,2024-03-01,,,,\n`;
    expect(await upload(first)).toMatchObject({ rows: 3, created: 3, advanced: 0, updated: 0, unchanged: 0, problems: [] });
    expect(await upload(first)).toMatchObject({ rows: 3, created: 0, advanced: 0, updated: 0, unchanged: 3, problems: [] });
    const read = async (ref: string) => {
      const reply = await as(null, `query($n: String!) { projects(filter: { nameContains: $n }) { nodes { id stage designedAnnualOutput outputReports { year output reportedOn } milestones { stage reachedOn } } } }`, { n: ref });
      return reply.data.projects.nodes[0];
    };
    const pa = await read(`产值导入甲 ${tag}`);
    expect(pa).toMatchObject({ stage: "IN_PRODUCTION", designedAnnualOutput: 10, outputReports: [{ year: 2024, output: 6, reportedOn: "2025-01-10" }] });
    const pb = await read(`产值导入乙 ${tag}`);
    expect(pb).toMatchObject({ stage: "EFFECTIVE", designedAnnualOutput: 10, outputReports: [{ year: 2024, output: 12, reportedOn: "2025-02-01" }] });
    expect(pb.milestones).toEqual([
      { stage: "IN_PRODUCTION", reachedOn: "2025-02-01" },
      { stage: "EFFECTIVE", reachedOn: "2025-02-01" },
    ]);

    // A reaches its design in 2025 (达效 on the row's date), C reports for the first time.
    const second = `${header}${a},产值导入甲 ${tag},410102,MFG,5,达效,2025-12-01,,2025,10.5,\n${c},产值导入丙 ${tag},410102,MFG,5,投产,2024-03-01,5,2025,1,2025-06-30\n`;
    expect(await upload(second)).toMatchObject({ rows: 2, created: 0, advanced: 1, updated: 1, unchanged: 0, problems: [] });
    expect(await upload(second)).toMatchObject({ rows: 2, created: 0, advanced: 0, updated: 0, unchanged: 2, problems: [] });
    expect(await read(`产值导入甲 ${tag}`)).toMatchObject({ stage: "EFFECTIVE", outputReports: [{ year: 2024, output: 6 }, { year: 2025, output: 10.5, reportedOn: "2025-12-01" }] });
    expect(await read(`产值导入丙 ${tag}`)).toMatchObject({ stage: "IN_PRODUCTION", designedAnnualOutput: 5, outputReports: [{ year: 2025, output: 1 }] });

    // A file with bad rows writes nothing, and names every problem by line and column.
    const bad = [
      `OUT-${tag}-G,好的行 ${tag},410102,MFG,5,投产,2024-03-01,10,2024,1,2025-01-01`,
      `OUT-${tag}-1,开工带产值 ${tag},410102,MFG,5,开工,2024-03-01,10,2024,1,2025-01-01`,
      `OUT-${tag}-2,达效无产值 ${tag},410102,MFG,5,达效,2024-03-01,,,,`,
      `OUT-${tag}-3,达效不足 ${tag},410102,MFG,5,达效,2025-03-01,10,2024,9,`,
      `OUT-${tag}-4,缺年度 ${tag},410102,MFG,5,投产,2024-03-01,10,,1,`,
      `OUT-${tag}-5,投产已达效 ${tag},410102,MFG,5,投产,2024-03-01,10,2024,10,2025-01-01`,
      `OUT-${tag}-6,缺设计 ${tag},410102,MFG,5,投产,2024-03-01,,2024,1,2025-01-01`,
      `OUT-${tag}-7,年度过早 ${tag},410102,MFG,5,投产,2024-03-01,10,2023,1,2025-01-01`,
    ].join("\n");
    const refused = await upload(`${header}${bad}\n`);
    expect(refused).toMatchObject({ created: 0, advanced: 0, updated: 0, unchanged: 0 });
    expect(refused.problems.map((p: any) => [p.line, p.column])).toEqual([
      [3, "年产值"],
      [4, "阶段"],
      [5, "年产值"],
      [6, "产值年度"],
      [7, "阶段"],
      [8, "设计年产值"],
      [9, "产值年度"],
    ]);
    expect(await read(`好的行 ${tag}`)).toBeUndefined();

    // The export carries the designed output and the latest report.
    const csv = await (await fetch(`${base}/export/projects.csv?regionCodes=410102&stages=EFFECTIVE`)).text();
    const [head, ...lines] = csv.replace(/^\uFEFF/, "").trim().split(/\r?\n/);
    expect(head.split(",").slice(-5)).toEqual(["designed_annual_output", "output_year", "output", "reached_rate", "stage_name"]);
    const line = lines.find((l) => l.startsWith(`${pa.id},`))!;
    expect(line.split(",").slice(-5)).toEqual(["10", "2025", "10.5", "1.05", "达效"]);
  });

  it("Project.outputReports for a page of projects is one statement", async () => {
    // The projects this file wrote (named "项目 <kind> #n"), those with reports among them.
    const page = `{ projects(filter: { nameContains: "项目 ${kind} #" }, first: 100) { nodes { id designedAnnualOutput outputReports { year output reachedRate } } } }`;
    const without = `{ projects(filter: { nameContains: "项目 ${kind} #" }, first: 100) { nodes { id } } }`;
    await server.gql(page);
    await server.gql(without);
    const a = await server.gql(page);
    const b = await server.gql(without);
    expect(a.errors).toBeUndefined();
    expect(a.sqlStatements - b.sqlStatements).toBe(1);
    const byId = new Map(a.data.projects.nodes.map((n: any) => [n.id, n]));
    expect(byId.size).toBeGreaterThan(known.length);
    for (const k of known) {
      const node: any = byId.get(k.id);
      expect(node.designedAnnualOutput).toBe(k.designWan / 10_000);
      expect(node.outputReports.map((r: any) => [r.year, r.output])).toEqual([...k.reports].sort((x, y) => x[0] - y[0]).map(([y, w]) => [y, w / 10_000]));
    }
  });
});

describe.each(DB_KINDS)("EFFECTIVE_THRESHOLD=0.8 on %s", (kind) => {
  let server: TestServer;
  let province: string;
  beforeAll(async () => {
    server = await startTestServer(kind, { EFFECTIVE_THRESHOLD: "0.8" });
    province = (await createToken(server.db, { regionCode: "410000", name: "河南省发展和改革委员会" })).token;
  });
  afterAll(async () => server?.close());
  const { as, newProject } = writes(() => server, kind, () => province);

  it("85 % of the designed output makes a project EFFECTIVE, 79.99 % does not", async () => {
    const stageAfter = async (output: number) => {
      const p = await newProject({ stage: "IN_PRODUCTION", reachedOn: "2024-01-05" });
      const reply = await as(province, REPORT, { input: { projectId: p.id, year: 2024, output, designedAnnualOutput: 10, reportedOn: "2025-01-10", expectedVersion: p.version } });
      expect(reply.errors).toBeUndefined();
      return reply.data.reportOutput.stage;
    };
    expect(await stageAfter(8.5)).toBe("EFFECTIVE");
    expect(await stageAfter(8)).toBe("EFFECTIVE");
    expect(await stageAfter(7.9999)).toBe("IN_PRODUCTION");
  });
});
