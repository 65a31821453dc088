/**
 * The weekly 对账 sheet of 要素保障: the open factor issues of a region's
 * subtree as CSV, grouped by the department that must answer them (in
 * pinyin order), longest open first within each department.
 *
 *   GET /export/factor-issues.csv?region=410000[&kinds=LAND,APPROVAL][&encoding=gb18030]
 *
 * The same conventions as the other exports (src/export/): UTF-8 with a BOM
 * or GB18030, RFC 4180 quoting, a text cell that starts like a formula behind
 * a `'`, a 400 naming the parameter when one is wrong. `days_open` counts to
 * today, so the ETag carries the day besides the data version (readEtag).
 */
import { Router } from "express";
import type { Logger } from "pino";
import type { DataSource } from "typeorm";

import { booleanColumn, type CsvColumn, csvEncoder, csvHeader, csvRecord, numberColumn, textColumn } from "../export/csv";
import { encodingParam, enumList, ExportParamError, readQuery } from "../export/export-params";
import { sendError, startCsv } from "../export/export.routes";
import { RegionLevel } from "../region/region-level";
import { viewerOf } from "../server/authentication";
import { type ContextSetup, createContext } from "../server/context";
import { readEtag, searchOf } from "../server/http-caching";
import { requestOf } from "../server/observability";
import { requestToday } from "./factor-issue.loaders";
import { daysOpenOf, FACTOR_ISSUE_COLUMNS, FACTOR_KIND_NAMES, FACTOR_KINDS, type FactorIssueRow, FactorKind } from "./factor-issue.type";

/** What the route needs besides the database. */
export interface FactorExportOptions {
  /** max-age of its Cache-Control (HTTP_CACHE_MAX_AGE). */
  maxAgeSeconds: number;
  logger: Logger;
  /** Most rows one sheet may hold (MAX_EXPORT_ROWS): a larger one is a 400 asking for a narrower region or fewer kinds. */
  maxRows: number;
}


/** The sheet's columns, in order. */
export const FACTOR_EXPORT_COLUMNS: CsvColumn[] = [
  textColumn("department"),
  textColumn("kind"),
  textColumn("kind_name"),
  numberColumn("issue_id"),
  numberColumn("project_id"),
  textColumn("project_name"),
  textColumn("region_code"),
  textColumn("region_name"),
  textColumn("city_code"),
  textColumn("city_name"),
  textColumn("raised_on"),
  numberColumn("days_open"),
  textColumn("description"),
  // Whether the problem is the seed's illustrative one (README, Assessment).
  booleanColumn("synthetic"),
];

/** Departments in the order a Chinese reader looks them up (pinyin), the exact text breaking ties. */
const DEPARTMENT_ORDER = new Intl.Collator("zh-Hans-CN");

export function compareDepartments(a: string, b: string): number {
  return DEPARTMENT_ORDER.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

export function factorExportRoutes(db: DataSource, options: ContextSetup, { maxAgeSeconds, logger, maxRows }: FactorExportOptions): Router {
  const router = Router();
  router.get("/export/factor-issues.csv", async (req, res) => {
    try {
      const get = readQuery(req.originalUrl, ["region", "kinds", "encoding"]);
      const encoding = encodingParam(get);
      const kinds = kindsParam(get);
      const code = get("region");
      if (code === undefined) throw new ExportParamError("region", "is required: the code of the region whose subtree's open issues to list, e.g. region=410000");
      const ctx = createContext(db, options, requestOf(res));
      const regions = await ctx.regionTree();
      const region = regions.byCode(code);
      if (!region) throw new ExportParamError("region", `no region "${code}"`);
      const today = requestToday(ctx);
      const clauses = [`f.resolved_on IS NULL`, `p.region_id IN (${regions.subtreeIds(region.id).map(Number).join(", ")})`];
      if (kinds) clauses.push(`f.kind IN (${kinds.map((k) => `'${k}'`).join(", ")})`);
      const version = await ctx.dataVersion();
      const rows: Array<FactorIssueRow & { project_name: string; region_id: number | string }> = await ctx.db.query(
        `SELECT ${FACTOR_ISSUE_COLUMNS}, p.name AS project_name, p.region_id FROM factor_issue f JOIN project p ON p.id = f.project_id WHERE ${clauses.join(" AND ")} ORDER BY f.raised_on, f.id LIMIT ${maxRows + 1}`,
      );
      if (rows.length > maxRows) {
        throw new ExportParamError("region", `${region.name} (${region.code}) has more than ${maxRows} open issues (MAX_EXPORT_ROWS): ask for a region below it, or for fewer kinds`);
      }
      // Grouped by department; within one, longest open first (raised earliest), then by id: the ORDER BY's order, kept by a stable sort.
      rows.sort((a, b) => compareDepartments(a.department, b.department));
      // days_open counts to today: the ETag carries the day (readEtag), so a new day is a new sheet even without a write,
      // and a conditional GET of this day's sheet is answered 304 by conditionalGet before this route runs.
      startCsv(res, `factor-issues-${region.code}.csv`, readEtag(version, searchOf(req.originalUrl), viewerOf(res)), maxAgeSeconds, encoding);
      const out = csvEncoder(encoding);
      res.write(out.write(csvHeader(FACTOR_EXPORT_COLUMNS)));
      const body = rows
        .map((row) => {
          const place = regions.byId(Number(row.region_id));
          const city = regions.lineageOf(Number(row.region_id)).find((r) => r.level === RegionLevel.CITY);
          const raisedOn = String(row.raised_on).slice(0, 10);
          return csvRecord(FACTOR_EXPORT_COLUMNS, [
            row.department,
            row.kind,
            FACTOR_KIND_NAMES[row.kind as FactorKind] ?? row.kind,
            Number(row.id),
            Number(row.project_id),
            row.project_name,
            place?.code,
            place?.name,
            city?.code,
            city?.name,
            raisedOn,
            daysOpenOf(raisedOn, today),
            row.description,
            Boolean(Number(row.synthetic ?? 0)),
          ]);
        })
        .join("");
      res.write(out.write(body));
      res.end(out.end());
    } catch (error) {
      sendError(res, error, logger);
    }
  });
  return router;
}

/** kinds: a comma-separated list of FactorKind names (either case); absent: every kind. */
function kindsParam(get: (name: string) => string | undefined): FactorKind[] | undefined {
  const wanted = enumList(get, "kinds", FactorKind);
  return wanted && FACTOR_KINDS.filter((k) => wanted.includes(k));
}

