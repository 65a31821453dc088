/**
 * The seed's illustrative layer for the assessment (考核), 达效 and 要素保障:
 * made up, deterministic, and marked `synthetic` in every row it writes. The
 * meeting report publishes no targets, output or factor problems, so without
 * this the shipped database would answer every assessment question with
 * nothing. What it adds changes no published figure of the 2021-07-10 meeting:
 *
 * - Targets (setTarget) for the 18 cities, for 2021 and for its third quarter
 *   (the meeting's), for the signing, starting and production stages: each
 *   city's target is what it reached in that period times a factor of its
 *   own (0.8–1.6), so some cities are ahead and some behind.
 * - Output reports (reportOutput) for 2022 of 12 projects of the meeting's
 *   production batch, each with a designed annual output, all below it (so no
 *   project becomes EFFECTIVE and the current-stage figures stay as published).
 * - 16 factor-support problems (raiseFactorIssue, some resolved) on projects
 *   of the starting batch, raised and answered between February and September
 *   2021, each waiting on the provincial department the report names.
 *
 * Written through the ledger's operations (their rules and history), by the
 * system actor, in the seed's transaction; a second seed writes nothing.
 */
import { addUpReached, type Reached, type ReachedRow, reachedQuery } from "../assessment/assessment.loader";
import { ProjectStage, stageToNumber } from "../common/stage";
import { placeholders } from "../db/sql";
import { SYSTEM_ACTOR } from "../ledger/actor";
import type { LedgerTx } from "../ledger/ledger";
import { raiseFactorIssue, resolveFactorIssue } from "../ledger/operations/factor-issues";
import { reportOutput } from "../ledger/operations/output-reports";
import { setTarget } from "../ledger/operations/targets";
import { Problems } from "../ledger/problems";
import { refKeyColumn } from "../ledger/ref-key";

/** What the layer wrote (zero on a second seed). */
export interface SyntheticLayerReport {
  targets: number;
  outputReports: number;
  factorIssues: number;
}

/** Each city's factor, in code order: its target is what it reached times this (above 1: behind; below: ahead). */
const CITY_FACTORS = [0.85, 1.05, 1.25, 0.95, 1.4, 0.9, 1.1, 1.6, 1.0, 0.8, 1.2, 1.3, 0.92, 1.15, 1.5, 0.97, 1.08, 1.35];
/** The batches' stages, whose targets the layer sets. */
const TARGET_STAGES = [ProjectStage.SIGNED, ProjectStage.STARTED, ProjectStage.IN_PRODUCTION];
/** The periods: the year 2021 and its third quarter (the meeting's, 2021-07-10). */
const PERIODS: ReadonlyArray<{ year: number; quarter: number | null; from: string; to: string }> = [
  { year: 2021, quarter: null, from: "2021-01-01", to: "2021-12-31" },
  { year: 2021, quarter: 3, from: "2021-07-01", to: "2021-09-30" },
];

/** Output reports: the production batch's project number, its designed output as a multiple of its investment, and the 2022 report as a share of that (all below 1). */
const OUTPUT_REPORTS: ReadonlyArray<[number, number, number]> = [
  [3, 1.2, 0.35],
  [11, 1.5, 0.55],
  [27, 0.8, 0.62],
  [42, 1.1, 0.7],
  [58, 2.0, 0.78],
  [73, 1.3, 0.83],
  [96, 0.9, 0.88],
  [120, 1.6, 0.91],
  [151, 1.2, 0.95],
  [188, 1.0, 0.97],
  [230, 1.4, 0.45],
  [301, 1.1, 0.66],
];

/** Factor problems: the starting batch's project number, kind, department, what is wrong, raised on, resolved on (null: open). */
const FACTOR_ISSUES: ReadonlyArray<[number, string, string, string, string, string | null]> = [
  [4, "LAND", "省自然资源厅", "用地指标未落实，土地征收进度滞后", "2021-03-08", null],
  [15, "LAND", "省自然资源厅", "建设用地报批未完成", "2021-04-19", "2021-07-02"],
  [23, "APPROVAL", "省发展和改革委员会", "项目核准手续未完成", "2021-05-06", null],
  [37, "ENVIRONMENT", "省生态环境厅", "环评批复未取得", "2021-04-02", null],
  [52, "PLANNING", "省自然资源厅", "规划条件调整待批复", "2021-06-15", null],
  [64, "FINANCING", "省地方金融监督管理局", "银行贷款未到位，融资缺口较大", "2021-05-20", null],
  [81, "UTILITIES", "国网河南省电力公司", "电力增容工程未完成", "2021-06-01", "2021-08-20"],
  [99, "STAFFING", "省人力资源和社会保障厅", "技术工人短缺", "2021-07-12", null],
  [112, "APPROVAL", "省住房和城乡建设厅", "施工许可证未办理", "2021-07-20", "2021-08-05"],
  [140, "LAND", "省自然资源厅", "林地占用手续未办结", "2021-08-03", null],
  [163, "UTILITIES", "省水利厅", "取水许可待审批", "2021-03-25", null],
  [187, "ENVIRONMENT", "省生态环境厅", "能评、环评批复未取得", "2021-08-16", null],
  [205, "OTHER", "省交通运输厅", "进场道路未建成", "2021-05-28", "2021-09-10"],
  [249, "FINANCING", "省财政厅", "专项债资金未拨付", "2021-09-01", null],
  [276, "APPROVAL", "省发展和改革委员会", "节能审查意见未出具", "2021-02-22", "2021-06-30"],
  [318, "LAND", "省自然资源厅", "耕地占补平衡指标不足", "2021-09-13", null],
];

/** The meeting whose batches the layer's projects come from. */
const HELD_ON = "2021-07-10";
const ref = (letter: "K" | "P", n: number) => `${HELD_ON}/${letter}/${String(n).padStart(3, "0")}`;

/** Writes the layer unless it is there already (any synthetic target): in the seed's transaction. */
export async function seedSyntheticLayer(tx: LedgerTx): Promise<SyntheticLayerReport> {
  const report: SyntheticLayerReport = { targets: 0, outputReports: 0, factorIssues: 0 };
  const present: Array<{ n: number | string }> = await tx.read("SELECT COUNT(*) AS n FROM assessment_target WHERE synthetic = 1");
  if (Number(present[0].n) > 0) return report;
  const problems = new Problems();
  const projects = await projectsByRef(tx, [...OUTPUT_REPORTS.map(([n]) => ref("P", n)), ...FACTOR_ISSUES.map(([n]) => ref("K", n))]);
  // Without the meeting's projects (another data set) there is nothing to illustrate.
  if (projects.size === 0) return report;

  const regions = tx.trees.regions;
  const cities = regions.children(regions.byCode("410000")!.id);
  for (const period of PERIODS) {
    // What each city reached in the period, as the assessment counts it.
    const query = reachedQuery(period);
    const reached = new Map<number, Map<number, Reached>>();
    addUpReached(await tx.read<ReachedRow>(query.sql, query.params), regions, new Set(cities.map((c) => c.id)), reached);
    for (const [i, city] of cities.entries()) {
      const factor = CITY_FACTORS[i % CITY_FACTORS.length] * (period.quarter === null ? 1 : 0.95);
      for (const stage of TARGET_STAGES) {
        const got = reached.get(city.id)?.get(stageToNumber(stage)) ?? { count: 0, wan: 0 };
        // 0.5 亿元 steps; at least 1 亿元 and one project, so that every city has a target to meet.
        const investment = Math.max(1, Math.round((got.wan / 10_000) * factor * 2) / 2);
        const count = Math.max(1, Math.round(got.count * factor));
        await setTarget(tx, SYSTEM_ACTOR, { regionCode: city.code, stage, year: period.year, quarter: period.quarter, count, investment, synthetic: true }, problems, `targets[${city.code}]`);
        report.targets += 1;
      }
    }
  }

  for (const [n, designedPerInvestment, share] of OUTPUT_REPORTS) {
    const project = projects.get(ref("P", n));
    if (!project) continue;
    const designed = Math.round((project.wan / 10_000) * designedPerInvestment * 10) / 10;
    const output = Math.round(designed * share * 100) / 100;
    await reportOutput(tx, { projectId: String(project.id), year: 2022, output, designedAnnualOutput: designed, reportedOn: "2023-01-20", expectedVersion: project.version, synthetic: true }, problems, `outputReports[${n}]`);
    project.version += 1;
    report.outputReports += 1;
  }

  for (const [n, kind, department, description, raisedOn, resolvedOn] of FACTOR_ISSUES) {
    const project = projects.get(ref("K", n));
    if (!project) continue;
    const issue = await raiseFactorIssue(tx, { projectId: String(project.id), kind, department, description, raisedOn, synthetic: true }, problems);
    if (resolvedOn) await resolveFactorIssue(tx, { id: String(issue.id), resolvedOn, note: "已协调解决" }, problems);
    report.factorIssues += 1;
  }
  problems.throwIfAny();
  return report;
}

/** The projects of these references: id, version and investment (万元). */
async function projectsByRef(tx: LedgerTx, refs: string[]): Promise<Map<string, { id: number; version: number; wan: number }>> {
  const keys = refs.map(refKeyColumn);
  const rows: Array<{ id: number; ref: string; version: number; investment_wan: number | string }> = await tx.read(
    `SELECT id, ref, version, investment_wan FROM project WHERE ref_key IN (${placeholders(keys.length)})`,
    keys,
  );
  return new Map(rows.map((row) => [row.ref, { id: Number(row.id), version: Number(row.version), wan: Number(row.investment_wan) }]));
}
