/**
 * The reads of 达效, batched per request: the designed output and output
 * reports of every project a request shows in one statement, and the output
 * stats of every region a request asks for (a whole province-to-county tree)
 * in one grouped statement per year and filter, rolled up the region tree in
 * memory.
 */
import DataLoader from "dataloader";

import type { Context } from "../common/context";
import { isoDay } from "../common/date.scalar";
import { loadByGroup } from "../common/batches";
import { getOrCreate } from "../common/maps";
import { ProjectStage, stageToNumber } from "../common/stage";
import { placeholders } from "../db/sql";
import { projectConditions, whereSql } from "../filter/project-conditions";
import type { ProjectFilter } from "../filter/project-filter.input";
import { resolveFilter } from "../filter/resolved-filter";
import { BANDS, OutputBandStats, OutputReport, OutputStats } from "./output.type";

/** A project's 达效 facts: its designed annual output (万元, null when not recorded) and its reports, oldest year first. */
export interface ProjectOutput {
  designedWan: number | null;
  reports: OutputReport[];
}

/** The designed output and reports of each project asked for in one tick: one statement. */
export function createProjectOutputLoader(ctx: Context): DataLoader<number, ProjectOutput> {
  return new DataLoader(async (ids) => {
    const rows: Array<{ id: number; design: number | string | null; year: number | null; output_wan: number | string | null; reported_on: unknown; synthetic: number | boolean | null }> = await ctx.db.query(
      "SELECT p.id, p.designed_annual_output_wan AS design, r.year, r.output_wan, r.reported_on, r.synthetic FROM project p LEFT JOIN output_report r ON r.project_id = p.id " +
        `WHERE p.id IN (${placeholders(ids.length)}) ORDER BY p.id, r.year`,
      [...ids],
    );
    const byId = new Map<number, ProjectOutput>();
    for (const row of rows) {
      const designedWan = row.design == null ? null : Number(row.design);
      const facts = getOrCreate(byId, Number(row.id), () => ({ designedWan, reports: [] as OutputReport[] }));
      if (row.year !== null && row.output_wan !== null) facts.reports.push(OutputReport.of(Number(row.year), Number(row.output_wan), isoDay(row.reported_on), designedWan, Boolean(Number(row.synthetic ?? 0))));
    }
    return ids.map((id) => byId.get(id) ?? { designedWan: null, reports: [] });
  });
}

/**
 * The reached-rate band in SQL, as its index in BANDS (0 = BELOW_50), of an output against a design (both 万元
 * columns, design > 0): compared exactly on integers, output × 100 against design × the band's lower bound in %,
 * as `bandOf` does. The output stats and the output breakdown (output-breakdown.ts) both group by it.
 */
export function reachedBandSql(output: string, design: string): string {
  return `CASE ${BANDS.slice(1)
    .map((b, i) => ({ b, i: i + 1 }))
    .reverse()
    .map(({ b, i }) => `WHEN ${output} * 100 >= ${design} * ${b.from} THEN ${i}`)
    .join(" ")} ELSE 0 END`;
}

/** One region's output stats for a year under a filter. */
export interface OutputStatsRequest {
  regionId: number;
  year: number;
  filter: ProjectFilter | null;
}

/** Sums of one region (or a subtree): per band (index in BANDS) count and 万元, the designs, and projects at EFFECTIVE. */
interface Sums {
  count: number[];
  outputWan: number[];
  designedWan: number;
  effective: number;
}

const EFFECTIVE = stageToNumber(ProjectStage.EFFECTIVE);

/**
 * Output stats of every region asked for in one tick: one grouped statement per distinct year and filter
 * (region × band over output_report ⋈ project, with the EFFECTIVE projects per region in the same statement),
 * added up along the region tree in memory.
 */
export function createOutputStatsLoader(ctx: Context): DataLoader<OutputStatsRequest, OutputStats, string> {
  return new DataLoader((requests) => loadOutputStats(ctx, requests), { cacheKeyFn: (r) => `${r.regionId}|${r.year}|${JSON.stringify(r.filter ?? null)}` });
}

async function loadOutputStats(ctx: Context, requests: readonly OutputStatsRequest[]): Promise<Array<OutputStats | Error>> {
  const tree = await ctx.regionTree();
  return loadByGroup(
    requests,
    (request) => `${request.year}|${JSON.stringify(request.filter ?? null)}`,
    async (group) => {
      const { year, filter: raw } = group[0];
      const filter = await resolveFilter(raw, ctx);
      // The regions asked for, as the union of their subtrees: one statement reads them all.
      const roots = tree.rootsOf(group.map((r) => r.regionId));
      const union = roots.flatMap((id) => tree.subtreeIds(id));
      const where = projectConditions(filter, "p");
      const inUnion = `p.region_id IN (${placeholders(union.length)})`;
      const design = "p.designed_annual_output_wan";
      const band = reachedBandSql("r.output_wan", design);
      const rows: Array<{ region_id: number; band: number | string; n: number | string; output_wan: number | string | null; designed_wan: number | string | null }> = await ctx.db.query(
        `SELECT p.region_id, ${band} AS band, COUNT(*) AS n, SUM(r.output_wan) AS output_wan, SUM(${design}) AS designed_wan ` +
          `FROM output_report r JOIN project p ON p.id = r.project_id${whereSql([...where.clauses, "r.year = ?", `${design} IS NOT NULL`, inUnion])} GROUP BY p.region_id, ${band} ` +
          `UNION ALL SELECT p.region_id, -1 AS band, COUNT(*) AS n, 0 AS output_wan, 0 AS designed_wan FROM project p${whereSql([...where.clauses, "p.stage = ?", inUnion])} GROUP BY p.region_id`,
        [...where.params, year, ...union, ...where.params, EFFECTIVE, ...union],
      );
      const asked = new Set(group.map((r) => r.regionId));
      const totals = new Map<number, Sums>();
      for (const row of rows) {
        const b = Number(row.band);
        for (const node of tree.lineageOf(Number(row.region_id))) {
          if (!asked.has(node.id)) continue;
          const sums = getOrCreate(totals, node.id, () => ({ count: BANDS.map(() => 0), outputWan: BANDS.map(() => 0), designedWan: 0, effective: 0 }));
          if (b < 0) sums.effective += Number(row.n);
          else {
            sums.count[b] += Number(row.n);
            sums.outputWan[b] += Number(row.output_wan ?? 0);
            sums.designedWan += Number(row.designed_wan ?? 0);
          }
        }
      }
      return group.map((r) => statsOf(year, totals.get(r.regionId)));
    },
  );
}

function statsOf(year: number, sums: Sums | undefined): OutputStats {
  const stats = new OutputStats();
  stats.year = year;
  stats.reportingProjects = sums ? sums.count.reduce((a, b) => a + b, 0) : 0;
  stats.designedWan = sums?.designedWan ?? 0;
  stats.outputWan = sums ? sums.outputWan.reduce((a, b) => a + b, 0) : 0;
  stats.reachedRate = stats.designedWan > 0 ? stats.outputWan / stats.designedWan : null;
  stats.effectiveProjects = sums?.effective ?? 0;
  stats.byBand = BANDS.map(({ band }, i) => {
    const row = new OutputBandStats();
    row.band = band;
    row.projectCount = sums?.count[i] ?? 0;
    row.wan = sums?.outputWan[i] ?? 0;
    return row;
  });
  return stats;
}
