import { once } from "node:events";

import { type Response, Router } from "express";
import type { Logger } from "pino";
import type { DataSource } from "typeorm";

import { AppError, ErrorCode, shortenQuotes } from "../common/errors";
import { fromWan, type MoneyUnit } from "../common/money";
import { createProjectPageLoader } from "../project/project.loaders";
import { RegionLevel } from "../region/region-level";
import { type ContextSetup, createContext } from "../server/context";
import { breakdownRows, type CostModel } from "../server/cost";
import { conditionalGet, readEtag, searchOf } from "../server/http-caching";
import { requestOf } from "../server/observability";
import { computeBreakdown } from "../stats/breakdown";
import { BreakdownDimension, type BreakdownRow } from "../stats/breakdown.type";

import { csvRecord, UTF8_BOM } from "./csv";
import {
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
 * BOM (Excel shows the Chinese names), RFC 4180 quoting, stable column names,
 * and a 400 naming the parameter when one is wrong.
 */
export function exportRoutes(db: DataSource, options: ContextSetup, { maxAgeSeconds, logger, costs, maxBreakdownRows }: ExportOptions): Router {
  const router = Router();
  router.use("/export", conditionalGet(db, options.shared, maxAgeSeconds));

  router.get("/export/breakdown.csv", async (req, res) => {
    try {
      const get = readQuery(req.originalUrl, ["groupBy", "regionLevel", ...FILTER_PARAMS]);
      const groupBy = [...new Set(groupByParam(get))];
      const request = { groupBy, filter: filterParams(get), regionLevel: regionLevelParam(get) };
      const unit = unitParam(get);
      const rows = breakdownRows(costs.current, groupBy, request.regionLevel, request.filter);
      if (rows > maxBreakdownRows) {
        throw new ExportParamError("groupBy", `these dimensions can have up to ${rows} rows, more than the limit of ${maxBreakdownRows} (MAX_EXPORT_ROWS); group by fewer dimensions or narrow the filter (regionCodes, stages, meetingId)`);
      }
      const ctx = createContext(db, options, requestOf(res));
      const computed = await computeBreakdown(ctx, request);
      startCsv(res, breakdownFilename(groupBy, request.regionLevel), readEtag(await ctx.dataVersion(), searchOf(req.originalUrl)), maxAgeSeconds);
      res.write(csvRecord(breakdownColumns(groupBy)));
      res.end(computed.map((row) => csvRecord(breakdownRecord(groupBy, row, unit))).join(""));
    } catch (error) {
      sendError(res, error, logger);
    }
  });

  router.get("/export/projects.csv", async (req, res) => {
    let started = false;
    try {
      const get = readQuery(req.originalUrl, ["orderBy", "direction", ...FILTER_PARAMS]);
      const filter = filterParams(get);
      const orderBy = orderParam(get);
      const unit = unitParam(get);
      const ctx = createContext(db, options, requestOf(res));
      const [regions, sectors] = await Promise.all([ctx.regionTree(), ctx.sectorTree()]);
      let after: string | null = null;
      for (;;) {
        const page = await ctx.loader(createProjectPageLoader).load({ scope: { kind: "all" }, filter, first: EXPORT_PAGE, maxPageSize: EXPORT_PAGE, after, orderBy });
        ctx.loader(createProjectPageLoader).clearAll(); // pages are not kept: memory stays flat however long the export
        if (!started) {
          startCsv(res, "projects.csv", readEtag(await ctx.dataVersion(), searchOf(req.originalUrl)), maxAgeSeconds);
          res.write(csvRecord(PROJECT_COLUMNS));
          started = true;
        }
        const chunk = page.nodes
          .map((p) => {
            const lineage = regions.lineageOf(p.regionId);
            const city = lineage.find((r) => r.level === RegionLevel.CITY);
            const sector = sectors.byId(p.sectorId)!;
            const top = sectors.lineageOf(p.sectorId)[0];
            const region = regions.byId(p.regionId)!;
            return csvRecord([p.id, p.name, region.code, region.name, city?.code, city?.name, sector.code, sector.name, top.code, p.stage, fromWan(p.investmentWan, unit), p.investor, p.synthetic, p.version]);
          })
          .join("");
        if (!res.write(chunk)) await Promise.race([once(res, "drain"), once(res, "close")]);
        if (res.destroyed || !page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      res.end();
    } catch (error) {
      if (started) res.destroy(error as Error);
      else sendError(res, error, logger);
    }
  });

  return router;
}

const PROJECT_COLUMNS = [
  "id",
  "name",
  "region_code",
  "region_name",
  "city_code",
  "city_name",
  "sector_code",
  "sector_name",
  "top_sector_code",
  "stage",
  "investment",
  "investor",
  "synthetic",
  "version",
];

/** Column names of a breakdown: each grouped dimension's, in groupBy order, then the measures. */
function breakdownColumns(groupBy: readonly BreakdownDimension[]): string[] {
  return [...groupBy.flatMap((d) => dimensionColumns(d, groupBy)), "project_count", "total_investment"];
}

function dimensionColumns(dimension: BreakdownDimension, groupBy: readonly BreakdownDimension[]): string[] {
  switch (dimension) {
    case BreakdownDimension.REGION:
      return ["region_code", "region_name"];
    case BreakdownDimension.SECTOR:
      return ["sector_code", "sector_name"];
    case BreakdownDimension.STAGE:
      return ["stage"];
    case BreakdownDimension.MEETING:
      return ["meeting_id", "meeting_title", "meeting_held_on"];
    case BreakdownDimension.YEAR:
      return ["year"];
    case BreakdownDimension.QUARTER:
      return groupBy.includes(BreakdownDimension.YEAR) ? ["quarter"] : ["year", "quarter"];
  }
}

function breakdownRecord(groupBy: readonly BreakdownDimension[], row: BreakdownRow, unit: MoneyUnit): Array<string | number | null | undefined> {
  const values = groupBy.flatMap((d): Array<string | number | null | undefined> => {
    switch (d) {
      case BreakdownDimension.REGION:
        return [row.region?.code, row.region?.name];
      case BreakdownDimension.SECTOR:
        return [row.sector?.code, row.sector?.name];
      case BreakdownDimension.STAGE:
        return [row.stage];
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
 * Status and headers of a CSV answer, then the BOM. It is an attachment with a
 * file name, so a browser downloads it rather than showing it; names are plain
 * ASCII (dimension names and fixed words), so `filename` needs no `filename*`.
 */
function startCsv(res: Response, filename: string, etag: string, maxAgeSeconds: number): void {
  res.status(200);
  res.setHeader("Content-Type", "text/csv; charset=utf-8");
  res.setHeader("Content-Disposition", `attachment; filename="${filename}"`);
  // Public data, cacheable briefly; the ETag changes with every write (it carries the data version).
  res.setHeader("Cache-Control", `public, max-age=${maxAgeSeconds}`);
  res.setHeader("ETag", etag);
  res.write(UTF8_BOM);
}

/**
 * A bad parameter (or unknown code) is a 400 with the reason; the database
 * being unavailable a 503; anything else a 500 that says nothing of the
 * internals but the request id, with the real cause in the log.
 */
function sendError(res: Response, error: unknown, logger: Logger): void {
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

