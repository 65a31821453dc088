/**
 * 达效 as CSV for BI tools that read a URL: the rows of `Query.outputBreakdown`, its arguments as query parameters.
 *
 *   GET /export/output-breakdown.csv?year=2022&groupBy=REGION,BAND[&regionLevel=COUNTY][&unit=WAN_YUAN][&encoding=gb18030][&stages=…&sectorCodes=…&regionCodes=…]
 *
 * The conventions of the other exports (src/export/): UTF-8 with a BOM or GB18030, RFC 4180 quoting, a text cell
 * that starts like a formula behind a `'`, the filter parameters of /export/breakdown.csv, a 400 naming the
 * parameter when one is wrong, and a bound on the rows (MAX_EXPORT_ROWS) checked before anything is read. Columns:
 * each grouped dimension's (`region_code, region_name`; `sector_code, sector_name`; `stage, stage_name`; `band`) in groupBy
 * order, then `reporting_projects, designed_annual_output, output, reached_rate`.
 */
import { Router } from "express";
import type { Logger } from "pino";
import type { DataSource } from "typeorm";

import type { MoneyUnit } from "../common/money";
import { STAGE_NAMES_ZH } from "../common/stage";
import { type CsvColumn, csvEncoder, csvHeader, csvRecord, type CsvValue, numberColumn, textColumn } from "../export/csv";
import { encodingParam, enumList, ExportParamError, FILTER_PARAMS, filterParams, readQuery, regionLevelParam, unitParam } from "../export/export-params";
import { sendError, startCsv } from "../export/export.routes";
import type { RegionLevel } from "../region/region-level";
import { viewerOf } from "../server/authentication";
import { type ContextSetup, createContext } from "../server/context";
import { type CostModel, outputBreakdownRowBound } from "../server/cost";
import { readEtag, searchOf } from "../server/http-caching";
import { requestOf } from "../server/observability";
import { checkOutputBreakdown, computeOutputBreakdown, OutputDimension, type OutputBreakdownRow } from "./output-breakdown";

/** What the route needs besides the database. */
export interface OutputBreakdownExportOptions {
  /** max-age of its Cache-Control (HTTP_CACHE_MAX_AGE). */
  maxAgeSeconds: number;
  logger: Logger;
  /** The cost model in use: it bounds the rows before they are computed. */
  costs: { readonly current: CostModel };
  /** MAX_EXPORT_ROWS. */
  maxRows: number;
}


const DIMENSION_COLUMNS: Record<OutputDimension, CsvColumn[]> = {
  [OutputDimension.REGION]: [textColumn("region_code"), textColumn("region_name")],
  [OutputDimension.SECTOR]: [textColumn("sector_code"), textColumn("sector_name")],
  // The stage then its name as the meeting report writes it (投产, 达效), as breakdown.csv has them.
  [OutputDimension.STAGE]: [textColumn("stage"), textColumn("stage_name")],
  [OutputDimension.BAND]: [textColumn("band")],
};

const MEASURE_COLUMNS: CsvColumn[] = [numberColumn("reporting_projects"), numberColumn("designed_annual_output"), numberColumn("output"), numberColumn("reached_rate")];

/** The columns: each grouped dimension's, in groupBy order, then the measures. */
export function outputBreakdownColumns(groupBy: readonly OutputDimension[]): CsvColumn[] {
  return [...groupBy.flatMap((d) => DIMENSION_COLUMNS[d]), ...MEASURE_COLUMNS];
}

function record(groupBy: readonly OutputDimension[], row: OutputBreakdownRow, unit: MoneyUnit): CsvValue[] {
  const keys = groupBy.flatMap((d): CsvValue[] => {
    switch (d) {
      case OutputDimension.REGION:
        return [row.region?.code, row.region?.name];
      case OutputDimension.SECTOR:
        return [row.sector?.code, row.sector?.name];
      case OutputDimension.STAGE:
        return [row.stage, row.stage ? STAGE_NAMES_ZH[row.stage] : null];
      case OutputDimension.BAND:
        return [row.band];
    }
  });
  return [...keys, row.reportingProjects, row.designedAnnualOutput(unit), row.output(unit), row.reachedRate];
}

/** year: required, an integer (outputStats' range is checked with the other arguments). */
function yearParam(get: (n: string) => string | undefined): number {
  const raw = get("year");
  if (raw === undefined) throw new ExportParamError("year", "is required: the calendar year of the output reports, e.g. year=2022");
  if (!/^-?\d+$/.test(raw)) throw new ExportParamError("year", `must be a year such as 2024 (got "${raw}")`);
  return Number(raw);
}

/** groupBy: a comma-separated list of OutputDimension values, in the order rows are sorted (none: one total row). */
function groupByParam(get: (n: string) => string | undefined): OutputDimension[] {
  return enumList(get, "groupBy", OutputDimension) ?? [];
}

/** The file name says the year and the grouping, the region by its level: `output-breakdown-2022-city-band.csv`. */
function filename(year: number, groupBy: readonly OutputDimension[], regionLevel: RegionLevel): string {
  return `${["output-breakdown", String(year), ...groupBy.map((d) => (d === OutputDimension.REGION ? regionLevel : d).toLowerCase())].join("-")}.csv`;
}

export function outputBreakdownRoutes(db: DataSource, options: ContextSetup, { maxAgeSeconds, logger, costs, maxRows }: OutputBreakdownExportOptions): Router {
  const router = Router();
  router.get("/export/output-breakdown.csv", async (req, res) => {
    try {
      const get = readQuery(req.originalUrl, ["year", "groupBy", "regionLevel", "encoding", ...FILTER_PARAMS]);
      const year = yearParam(get);
      const groupBy = groupByParam(get);
      const filter = filterParams(get);
      const regionLevel = regionLevelParam(get);
      const unit = unitParam(get);
      const encoding = encodingParam(get);
      // The API's argument checks (year's range, a dimension named twice), their message naming the parameter.
      checkOutputBreakdown({ year, groupBy });
      const bound = outputBreakdownRowBound(costs.current, groupBy, regionLevel, filter);
      if (bound > maxRows) {
        throw new ExportParamError("groupBy", `these dimensions can have up to ${bound} rows, more than the limit of ${maxRows} (MAX_EXPORT_ROWS); group by fewer dimensions or narrow the filter (regionCodes, stages)`);
      }
      const ctx = createContext(db, options, requestOf(res));
      const rows = await computeOutputBreakdown(ctx, { year, groupBy, filter, regionLevel });
      const columns = outputBreakdownColumns(groupBy);
      // The ETag is made of the whole query string, so each year, encoding, unit and filter has its own.
      startCsv(res, filename(year, groupBy, regionLevel), readEtag(await ctx.dataVersion(), searchOf(req.originalUrl), viewerOf(res)), maxAgeSeconds, encoding);
      const out = csvEncoder(encoding);
      res.write(out.write(csvHeader(columns)));
      res.write(out.write(rows.map((row) => csvRecord(columns, record(groupBy, row, unit))).join("")));
      res.end(out.end());
    } catch (error) {
      sendError(res, error, logger);
    }
  });
  return router;
}
