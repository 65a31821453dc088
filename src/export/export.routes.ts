import { once } from "node:events";

import { type Response, Router } from "express";
import type { Logger } from "pino";
import type { DataSource } from "typeorm";

import { AppError, ErrorCode, shortenQuotes } from "../common/errors";
import { STAGE_NAMES_ZH } from "../common/stage";
import { fromWan, type MoneyUnit } from "../common/money";
import { createProjectOutputLoader, type ProjectOutput } from "../output/output.loaders";
import { createProjectPageLoader } from "../project/project.loaders";
import { RegionLevel } from "../region/region-level";
import { viewerOf } from "../server/authentication";
import { type ContextSetup, createContext } from "../server/context";
import { breakdownRows, type CostModel } from "../server/cost";
import { conditionalGet, readEtag, searchOf } from "../server/http-caching";
import { requestOf } from "../server/observability";
import { computeBreakdown } from "../stats/breakdown";
import { BreakdownDimension, type BreakdownRow } from "../stats/breakdown.type";

import { booleanColumn, type CsvColumn, csvEncoder, CsvEncoding, csvHeader, csvRecord, type CsvValue, numberColumn, textColumn, UTF8_BOM } from "./csv";
import {
  encodingParam,
  ExportParamError,
  FILTER_PARAMS,
  filterParams,
  groupByParam,
  orderParam,
  readQuery,
  regionLevelParam,
  unitParam,
} from "./export-params";

/** Rows per page when streaming projects: big enough to be quick, small enough that memory does not grow with the export. */
const EXPORT_PAGE = 1000;

/** What the export routes need besides the database. */
export interface ExportOptions {
  /** max-age of their Cache-Control. */
  maxAgeSeconds: number;
  logger: Logger;
  /** List sizes, to bound a breakdown's rows before it is computed (its rows are held in memory). */
  /** The cost model in use (read again after writes): it bounds a breakdown export's rows. */
  costs: { readonly current: CostModel };
  /** MAX_EXPORT_ROWS. */
  maxBreakdownRows: number;
}

/**
 * CSV for spreadsheets and BI tools that read a URL: the breakdown and the
 * project list, taking the GraphQL arguments as query parameters. UTF-8 with a
 * BOM (Excel shows the Chinese names), or GB18030 when `encoding=gb18030` asks
 * (for spreadsheets that ignore the BOM), RFC 4180 quoting, text cells that
 * start like a formula behind a `'` (csv.ts), stable column names, and a 400
 * naming the parameter when one is wrong.
 */
export function exportRoutes(db: DataSource, options: ContextSetup, { maxAgeSeconds, logger, costs, maxBreakdownRows }: ExportOptions): Router {
  const router = Router();
  router.use("/export", conditionalGet(db, options.shared, maxAgeSeconds));

  router.get("/export/breakdown.csv", async (req, res) => {
    try {
      const get = readQuery(req.originalUrl, ["groupBy", "regionLevel", "encoding", ...FILTER_PARAMS]);
      const groupBy = [...new Set(groupByParam(get))];
      const request = { groupBy, filter: filterParams(get), regionLevel: regionLevelParam(get) };
      const unit = unitParam(get);
      const encoding = encodingParam(get);
      const rows = breakdownRows(costs.current, groupBy, request.regionLevel, request.filter);
      if (rows > maxBreakdownRows) {
        throw new ExportParamError("groupBy", `these dimensions can have up to ${rows} rows, more than the limit of ${maxBreakdownRows} (MAX_EXPORT_ROWS); group by fewer dimensions or narrow the filter (regionCodes, stages, meetingId)`);
      }
      const ctx = createContext(db, options, requestOf(res));
      const computed = await computeBreakdown(ctx, request);
      const columns = breakdownColumns(groupBy);
      // The ETag is made of the whole query string, so each encoding (and unit, and filter) has its own.
      startCsv(res, breakdownFilename(groupBy, request.regionLevel), readEtag(await ctx.dataVersion(), searchOf(req.originalUrl), viewerOf(res)), maxAgeSeconds, encoding);
      const out = csvEncoder(encoding);
      res.write(out.write(csvHeader(columns)));
      res.write(out.write(computed.map((row) => csvRecord(columns, breakdownRecord(groupBy, row, unit))).join("")));
      res.end(out.end());
    } catch (error) {
      sendError(res, error, logger);
    }
  });

  router.get("/export/projects.csv", async (req, res) => {
    let started = false;
    try {
      const get = readQuery(req.originalUrl, ["orderBy", "direction", "encoding", ...FILTER_PARAMS]);
      const filter = filterParams(get);
      const orderBy = orderParam(get);
      const unit = unitParam(get);
      const encoding = encodingParam(get);
      const out = csvEncoder(encoding);
      const ctx = createContext(db, options, requestOf(res));
      const [regions, sectors] = await Promise.all([ctx.regionTree(), ctx.sectorTree()]);
      let after: string | null = null;
      for (;;) {
        const page = await ctx.loader(createProjectPageLoader).load({ scope: { kind: "all" }, filter, first: EXPORT_PAGE, maxPageSize: EXPORT_PAGE, after, orderBy });
        ctx.loader(createProjectPageLoader).clearAll(); // pages are not kept: memory stays flat however long the export
        // 达效: the page's designed outputs and reports, one statement a page.
        const outputs = ctx.loader(createProjectOutputLoader);
        const facts = await outputs.loadMany(page.nodes.map((p) => Number(p.id)));
        outputs.clearAll();
        const failed = facts.find((f) => f instanceof Error);
        if (failed) throw failed;
        if (!started) {
          startCsv(res, "projects.csv", readEtag(await ctx.dataVersion(), searchOf(req.originalUrl), viewerOf(res)), maxAgeSeconds, encoding);
          res.write(out.write(csvHeader(PROJECT_COLUMNS)));
          started = true;
        }
        const chunk = page.nodes
          .map((p, i) => {
            const output = facts[i] as ProjectOutput;
            const latest = output.reports[output.reports.length - 1];
            const lineage = regions.lineageOf(p.regionId);
            const city = lineage.find((r) => r.level === RegionLevel.CITY);
            const sector = sectors.byId(p.sectorId)!;
            const top = sectors.lineageOf(p.sectorId)[0];
            const region = regions.byId(p.regionId)!;
            return csvRecord(PROJECT_COLUMNS, [p.id, p.name, region.code, region.name, city?.code, city?.name, sector.code, sector.name, top.code, p.stage, fromWan(p.investmentWan, unit), p.investor, p.synthetic, p.version,
              output.designedWan === null ? null : fromWan(output.designedWan, unit),
              latest?.year,
              latest ? fromWan(latest.outputWan, unit) : null,
              latest?.reachedRate,
              STAGE_NAMES_ZH[p.stage],
            ]);
          })
          .join("");
        // Whole records, encoded page by page (GB18030 is a character at a time; the encoder keeps a split surrogate pair whole).
        if (!res.write(out.write(chunk))) await Promise.race([once(res, "drain"), once(res, "close")]);
        if (res.destroyed || !page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      res.end(out.end());
    } catch (error) {
      if (started) res.destroy(error as Error);
      else sendError(res, error, logger);
    }
  });

  return router;
}


const PROJECT_COLUMNS: CsvColumn[] = [
  numberColumn("id"),
  textColumn("name"),
  textColumn("region_code"),
  textColumn("region_name"),
  textColumn("city_code"),
  textColumn("city_name"),
  textColumn("sector_code"),
  textColumn("sector_name"),
  textColumn("top_sector_code"),
  textColumn("stage"),
  numberColumn("investment"),
  textColumn("investor"),
  booleanColumn("synthetic"),
  numberColumn("version"),
  // 达效: the designed annual output, and the latest year's report (its year, output and output / design).
  numberColumn("designed_annual_output"),
  numberColumn("output_year"),
  numberColumn("output"),
  numberColumn("reached_rate"),
  // The stage as the meeting report writes it (储备, 签约, 开工, 投产, 达效), for a Chinese sheet; last, so that the columns before keep their places.
  textColumn("stage_name"),
];

/** Column names of a breakdown: each grouped dimension's, in groupBy order, then the measures. */
function breakdownColumns(groupBy: readonly BreakdownDimension[]): CsvColumn[] {
  return [...groupBy.flatMap((d) => dimensionColumns(d, groupBy)), numberColumn("project_count"), numberColumn("total_investment")];
}

function dimensionColumns(dimension: BreakdownDimension, groupBy: readonly BreakdownDimension[]): CsvColumn[] {
  switch (dimension) {
    case BreakdownDimension.REGION:
      return [textColumn("region_code"), textColumn("region_name")];
    case BreakdownDimension.SECTOR:
      return [textColumn("sector_code"), textColumn("sector_name")];
    case BreakdownDimension.STAGE:
      return [textColumn("stage"), textColumn("stage_name")];
    case BreakdownDimension.MEETING:
      return [numberColumn("meeting_id"), textColumn("meeting_title"), textColumn("meeting_held_on")];
    case BreakdownDimension.YEAR:
      return [numberColumn("year")];
    case BreakdownDimension.QUARTER:
      return groupBy.includes(BreakdownDimension.YEAR) ? [numberColumn("quarter")] : [numberColumn("year"), numberColumn("quarter")];
  }
}

/** A breakdown row's values, in breakdownColumns' order. */
function breakdownRecord(groupBy: readonly BreakdownDimension[], row: BreakdownRow, unit: MoneyUnit): CsvValue[] {
  const values = groupBy.flatMap((d): CsvValue[] => {
    switch (d) {
      case BreakdownDimension.REGION:
        return [row.region?.code, row.region?.name];
      case BreakdownDimension.SECTOR:
        return [row.sector?.code, row.sector?.name];
      case BreakdownDimension.STAGE:
        return [row.stage, row.stage ? STAGE_NAMES_ZH[row.stage] : null];
      case BreakdownDimension.MEETING:
        return [row.meeting?.id, row.meeting?.title, row.meeting?.heldOn];
      case BreakdownDimension.YEAR:
        return [row.year];
      case BreakdownDimension.QUARTER:
        return groupBy.includes(BreakdownDimension.YEAR) ? [row.quarter] : [row.year, row.quarter];
    }
  });
  return [...values, row.projectCount, row.totalInvestment(unit)];
}

/**
 * The breakdown's file name says what it is grouped by, in groupBy order, the
 * region dimension by its level: `breakdown-city-sector.csv`,
 * `breakdown-county-stage.csv`, `breakdown.csv` for the total alone.
 */
function breakdownFilename(groupBy: readonly BreakdownDimension[], regionLevel: RegionLevel): string {
  const parts = groupBy.map((d) => (d === BreakdownDimension.REGION ? regionLevel : d).toLowerCase());
  return `${["breakdown", ...parts].join("-")}.csv`;
}

/**
 * Status and headers of a CSV answer, then the BOM when it is UTF-8 (GB18030
 * has none). It is an attachment with a file name, so a browser downloads it
 * rather than showing it; names are plain ASCII (dimension names and fixed
 * words), so `filename` needs no `filename*`.
 */
export function startCsv(res: Response, filename: string, etag: string, maxAgeSeconds: number, encoding: CsvEncoding): void {
  res.status(200);
  res.setHeader("Content-Type", `text/csv; charset=${encoding}`);
  res.setHeader("Content-Disposition", `attachment; filename="${filename}"`);
  // Cacheable briefly, by shared caches only when no token asked (as the GraphQL reads and the 304s of conditionalGet);
  // the ETag changes with every write (it carries the data version) and every day.
  res.setHeader("Cache-Control", `${res.req.headers.authorization ? "private" : "public"}, max-age=${maxAgeSeconds}`);
  res.setHeader("ETag", etag);
  if (encoding === CsvEncoding.UTF8) res.write(UTF8_BOM);
}

/**
 * A bad parameter (or unknown code) is a 400 with the reason; the database
 * being unavailable a 503; anything else a 500 that says nothing of the
 * internals but the request id, with the real cause in the log.
 */
export function sendError(res: Response, error: unknown, logger: Logger): void {
  const requestId = requestOf(res)?.id;
  const code = error instanceof AppError ? error.extensions.code : undefined;
  res.type("text/plain; charset=utf-8");
  if (code === ErrorCode.SERVICE_UNAVAILABLE) {
    logger.error({ reqId: requestId, err: (error as AppError).cause }, "export: database unavailable");
    res.status(503).setHeader("retry-after", "1");
    res.send(`${(error as AppError).message}\n`);
    return;
  }
  // The API's errors name the argument path (filter.regionCodes[0]); here the parameter is regionCodes.
  const reason =
    error instanceof ExportParamError ? error.message : error instanceof AppError && code !== ErrorCode.INTERNAL_SERVER_ERROR ? error.message.replace(/^filter\./, "") : null;
  if (reason) {
    res.status(400).send(`Bad request: ${shortenQuotes(reason)}\n`);
    return;
  }
  logger.error({ reqId: requestId, err: error }, "export failed");
  res.status(500).send(`Internal server error (request id ${requestId})\n`);
}

