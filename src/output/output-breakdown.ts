/**
 * 达效 as flat rows for BI tools: a year's reporting projects, their designed and reported output and the reached
 * rate, grouped by any of region (at a level), top-level sector, current stage and reached-rate band, as
 * `Query.breakdown` groups projects. One grouped statement per request (output_report ⋈ project, grouped by the
 * columns the dimensions need, the band computed in SQL by `reachedBandSql`), then grouped in memory along the
 * region and sector trees. The rows add up to `Region.outputStats` of the province for the same year and filter.
 * The CSV of the same rows: output-breakdown.routes.ts.
 */
import { Arg, Ctx, Field, Float, Int, ObjectType, Query, registerEnumType, Resolver } from "type-graphql";

import type { Context } from "../common/context";
import { BadUserInputError } from "../common/errors";
import { getOrCreate } from "../common/maps";
import { fromWan, MoneyUnit, UNIT_ARG } from "../common/money";
import { ProjectStage, stageFromNumber, stageToNumber } from "../common/stage";
import { projectConditions, whereSql } from "../filter/project-conditions";
import { ProjectFilter } from "../filter/project-filter.input";
import { resolveFilter } from "../filter/resolved-filter";
import { RegionLevel } from "../region/region-level";
import { Region } from "../region/region.type";
import { Sector } from "../sector/sector.type";
import { regionAtLevel } from "../stats/breakdown";
import { reachedBandSql } from "./output.loaders";
import { checkOutputYear } from "./output.resolver";
import { BANDS, ReachedBand } from "./output.type";

/** Dimensions an output breakdown can group by. */
export enum OutputDimension {
  REGION = "REGION",
  SECTOR = "SECTOR",
  STAGE = "STAGE",
  BAND = "BAND",
}

registerEnumType(OutputDimension, {
  name: "OutputDimension",
  description: "Dimensions an output breakdown (达效) can group by.",
  valuesConfig: {
    REGION: {
      description:
        "The region at `regionLevel` each reporting project lies in: its ancestor at that level, or the project's own region when it lies above the level (济源, a city with no counties, at COUNTY), as `breakdown` groups REGION.",
    },
    SECTOR: { description: "The top-level sector of the project's sector (a top-level sector's row includes its sub-sectors), as `breakdown` groups SECTOR." },
    STAGE: { description: "The project's current stage (IN_PRODUCTION or EFFECTIVE for a project that reported output)." },
    BAND: { description: "The reached-rate band of the project's output for the year against its designed annual output (as `outputStats.byBand`)." },
  },
});

/** One flat row of an output breakdown. */
@ObjectType({ description: "One flat row of a year's 达效 for BI tools: the reporting projects of one group; only the grouped dimensions are set." })
export class OutputBreakdownRow {
  designedWan = 0;
  outputWan = 0;

  @Field(() => Region, { nullable: true, description: "The region at `regionLevel`, when grouped by REGION." })
  region: Region | null = null;

  @Field(() => Sector, { nullable: true, description: "The top-level sector, when grouped by SECTOR." })
  sector: Sector | null = null;

  @Field(() => ProjectStage, { nullable: true, description: "The projects' current stage, when grouped by STAGE." })
  stage: ProjectStage | null = null;

  @Field(() => ReachedBand, { nullable: true, description: "The reached-rate band of the year's output, when grouped by BAND." })
  band: ReachedBand | null = null;

  @Field(() => Int, { description: "Projects of the group with an output report for the year and a designed annual output." })
  reportingProjects = 0;

  @Field(() => Float, { description: "Their designed annual output, summed, exact." })
  designedAnnualOutput(@Arg("unit", () => MoneyUnit, UNIT_ARG) unit: MoneyUnit | null): number {
    return fromWan(this.designedWan, unit ?? undefined);
  }

  @Field(() => Float, { description: "Their output for the year, summed, exact." })
  output(@Arg("unit", () => MoneyUnit, UNIT_ARG) unit: MoneyUnit | null): number {
    return fromWan(this.outputWan, unit ?? undefined);
  }

  @Field(() => Float, { nullable: true, description: "output / designedAnnualOutput over the group (1 = 100 %)." })
  get reachedRate(): number | null {
    return this.designedWan > 0 ? this.outputWan / this.designedWan : null;
  }
}

/** What an output breakdown asks for. */
export interface OutputBreakdownRequest {
  year: number;
  groupBy: readonly OutputDimension[];
  filter?: ProjectFilter | null;
  regionLevel: RegionLevel;
}

/**
 * Checks an output breakdown's arguments: the year as outputStats checks it, groupBy without repeats; BAD_USER_INPUT
 * naming the argument (`year`, `groupBy[i]` for the first repeat).
 */
export function checkOutputBreakdown(request: Pick<OutputBreakdownRequest, "year" | "groupBy">): void {
  checkOutputYear(request.year);
  request.groupBy.forEach((dimension, i) => {
    if (request.groupBy.indexOf(dimension) !== i) throw new BadUserInputError(`groupBy[${i}]`, `${dimension} is given twice; name each dimension once`);
  });
}

/** The column each dimension needs from the grouped statement. */
const GROUP_COLUMNS: Record<OutputDimension, { select: (band: string) => string; alias: string }> = {
  [OutputDimension.REGION]: { select: () => "p.region_id", alias: "region_id" },
  [OutputDimension.SECTOR]: { select: () => "p.sector_id", alias: "sector_id" },
  [OutputDimension.STAGE]: { select: () => "p.stage", alias: "stage" },
  [OutputDimension.BAND]: { select: (band) => band, alias: "band" },
};

/**
 * The rows of an output breakdown: one grouped statement (the projects matching the filter with a report for the
 * year and a designed output, grouped by region, sector, stage and band as asked), then grouped in memory (regions
 * to their ancestor at the level, sectors to their top-level sector), ordered by the dimensions in groupBy order,
 * empty groups left out.
 */
export async function computeOutputBreakdown(ctx: Context, request: OutputBreakdownRequest): Promise<OutputBreakdownRow[]> {
  checkOutputBreakdown(request);
  const dims = request.groupBy;
  const has = (d: OutputDimension) => dims.includes(d);
  const filter = await resolveFilter(request.filter, ctx);
  const where = projectConditions(filter, "p");
  const design = "p.designed_annual_output_wan";
  const band = reachedBandSql("r.output_wan", design);
  const grouped = Object.values(OutputDimension).filter(has).map((d) => GROUP_COLUMNS[d]);
  const select = grouped.map((c) => `${c.select(band)} AS ${c.alias}, `).join("");
  const groupBy = grouped.length ? ` GROUP BY ${grouped.map((c) => c.select(band)).join(", ")}` : "";
  const [rows, regions, sectors] = await Promise.all([
    ctx.db.query(
      `SELECT ${select}COUNT(*) AS n, SUM(r.output_wan) AS output_wan, SUM(${design}) AS designed_wan ` +
        `FROM output_report r JOIN project p ON p.id = r.project_id${whereSql([...where.clauses, "r.year = ?", `${design} IS NOT NULL`])}${groupBy}`,
      [...where.params, request.year],
    ) as Promise<Array<{ region_id?: number; sector_id?: number; stage?: number | string; band?: number | string; n: number | string; output_wan: number | string | null; designed_wan: number | string | null }>>,
    ctx.regionTree(),
    ctx.sectorTree(),
  ]);

  const groups = new Map<string, OutputBreakdownRow>();
  for (const row of rows) {
    const count = Number(row.n);
    if (!count) continue;
    const region = has(OutputDimension.REGION) ? regionAtLevel(regions, Number(row.region_id), request.regionLevel) : null;
    const sector = has(OutputDimension.SECTOR) ? sectors.lineageOf(Number(row.sector_id))[0] : null;
    const stage = has(OutputDimension.STAGE) ? stageFromNumber(Number(row.stage)) : null;
    const bandOfRow = has(OutputDimension.BAND) ? BANDS[Number(row.band)].band : null;
    const out = getOrCreate(groups, [region?.id, sector?.id, stage, bandOfRow].join("|"), () => {
      const created = new OutputBreakdownRow();
      created.region = region;
      created.sector = sector;
      created.stage = stage;
      created.band = bandOfRow;
      return created;
    });
    out.reportingProjects += count;
    out.outputWan += Number(row.output_wan ?? 0);
    out.designedWan += Number(row.designed_wan ?? 0);
  }
  return [...groups.values()].sort((a, b) => {
    for (const d of dims) {
      const order = compareBy(d, a, b);
      if (order !== 0) return order;
    }
    return 0;
  });
}

const BAND_ORDER = new Map(BANDS.map(({ band }, i) => [band, i]));

function compareBy(dimension: OutputDimension, a: OutputBreakdownRow, b: OutputBreakdownRow): number {
  const text = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  switch (dimension) {
    case OutputDimension.REGION:
      return text(a.region?.code ?? "", b.region?.code ?? "");
    case OutputDimension.SECTOR:
      return text(a.sector?.code ?? "", b.sector?.code ?? "");
    case OutputDimension.STAGE:
      return (a.stage ? stageToNumber(a.stage) : 0) - (b.stage ? stageToNumber(b.stage) : 0);
    case OutputDimension.BAND:
      return (a.band ? BAND_ORDER.get(a.band)! : 0) - (b.band ? BAND_ORDER.get(b.band)! : 0);
  }
}

@Resolver(() => OutputBreakdownRow)
export class OutputBreakdownResolver {
  @Query(() => [OutputBreakdownRow], {
    description:
      "达效 as flat rows for BI tools: for one year, the projects (matching the filter) with an output report for the year and a designed annual output, grouped by the given dimensions: their count, designed and reported output summed, and the reached rate. REGION groups at regionLevel as `breakdown` does (each project counts toward its ancestor at that level, a project lying above the level toward its own region); SECTOR by top-level sector; STAGE by current stage; BAND by the reached-rate band of the year's output (as `outputStats.byBand`). Rows are ordered by the dimensions in the order given (region code, sector code, stage in lifecycle order, band from lowest), omit empty groups, and add up to the province's `outputStats` for the same year and filter. One grouped SQL statement whatever the level.",
  })
  outputBreakdown(
    @Arg("year", () => Int, { description: "The calendar year of the output reports." }) year: number,
    @Arg("groupBy", () => [OutputDimension], { description: "The dimensions to group by, each at most once, in the order rows are sorted; none gives one total row." }) groupBy: OutputDimension[],
    @Arg("regionLevel", () => RegionLevel, { nullable: true, defaultValue: RegionLevel.CITY, description: "The level REGION groups at; CITY unless given." }) regionLevel: RegionLevel | null,
    @Arg("filter", () => ProjectFilter, { nullable: true, description: "Only projects matching all these conditions." }) filter: ProjectFilter | null,
    @Ctx() ctx: Context,
  ): Promise<OutputBreakdownRow[]> {
    return computeOutputBreakdown(ctx, { year, groupBy, filter, regionLevel: regionLevel ?? RegionLevel.CITY });
  }
}
