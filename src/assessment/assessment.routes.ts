import { type Router, Router as makeRouter } from "express";
import type { Logger } from "pino";
import type { DataSource } from "typeorm";

import { fromWan } from "../common/money";
import { ProjectStage } from "../common/stage";
import { booleanColumn, type CsvColumn, csvEncoder, csvHeader, csvRecord, numberColumn, textColumn } from "../export/csv";
import { encodingParam, enumParam, ExportParamError, readQuery, unitParam } from "../export/export-params";
import { sendError, startCsv } from "../export/export.routes";
import { viewerOf } from "../server/authentication";
import { type ContextSetup, createContext } from "../server/context";
import { readEtag, searchOf } from "../server/http-caching";
import { requestOf } from "../server/observability";

import { rankChildren } from "./assessment.resolver";


/** The columns of the assessment export, in order. Amounts in `unit` (亿元 unless asked); the rate as a fraction (1 = 100 %). */
export const ASSESSMENT_COLUMNS: CsvColumn[] = [
  numberColumn("rank"),
  textColumn("region_code"),
  textColumn("region_name"),
  textColumn("stage"),
  numberColumn("year"),
  numberColumn("quarter"),
  numberColumn("target_count"),
  numberColumn("target_investment"),
  numberColumn("reached_count"),
  numberColumn("reached_investment"),
  numberColumn("completion_rate"),
  textColumn("card"),
  // Whether the target is the seed's illustrative one (README, Assessment); empty without a target.
  booleanColumn("target_synthetic"),
];

/** A whole number parameter, required or not. */
function intParam(get: (name: string) => string | undefined, name: string, required: boolean): number | null {
  const raw = get(name);
  if (raw === undefined) {
    if (required) throw new ExportParamError(name, "is required");
    return null;
  }
  if (!/^\d{1,6}$/.test(raw)) throw new ExportParamError(name, `must be a whole number (got "${raw.slice(0, 40)}")`);
  return Number(raw);
}

/**
 * GET /export/assessment.csv?parentCode=410000&stage=SIGNED&year=2021[&quarter=3][&unit=WAN_YUAN][&encoding=gb18030]:
 * the children of `parentCode` ranked for one stage and period exactly as `Query.rankings` ranks them (by rank, equal
 * ranks by code, then those without a target by code), one row each. UTF-8 with a BOM or GB18030, text cells guarded
 * against formulas (src/export/csv.ts), a 400 naming a bad parameter. The ETag carries the day (readEtag): the cards
 * move with the calendar.
 */
export function assessmentRoutes(db: DataSource, options: ContextSetup, { maxAgeSeconds, logger }: { maxAgeSeconds: number; logger: Logger }): Router {
  const router = makeRouter();
  router.get("/export/assessment.csv", async (req, res) => {
    try {
      const get = readQuery(req.originalUrl, ["parentCode", "stage", "year", "quarter", "unit", "encoding"]);
      const parentCode = get("parentCode");
      if (parentCode === undefined) throw new ExportParamError("parentCode", "is required (the region whose children are ranked, e.g. 410000)");
      if (get("stage") === undefined) throw new ExportParamError("stage", `is required: one of ${Object.keys(ProjectStage).join(", ")}`);
      const stage = enumParam(get, "stage", ProjectStage, ProjectStage.SIGNED);
      const year = intParam(get, "year", true)!;
      const quarter = intParam(get, "quarter", false);
      const unit = unitParam(get);
      const encoding = encodingParam(get);
      const ctx = createContext(db, options, requestOf(res));
      const rows = await rankChildren(ctx, parentCode, stage, year, quarter);
      const filename = `assessment-${parentCode}-${stage.toLowerCase()}-${year}${quarter === null ? "" : `-q${quarter}`}.csv`.replace(/[^\w.-]/g, "_");
      startCsv(res, filename, readEtag(await ctx.dataVersion(), searchOf(req.originalUrl), viewerOf(res)), maxAgeSeconds, encoding);
      const out = csvEncoder(encoding);
      res.write(out.write(csvHeader(ASSESSMENT_COLUMNS)));
      const body = rows
        .map((row) => {
          const target = row.targetInvestmentWan;
          return csvRecord(ASSESSMENT_COLUMNS, [
            row.rank,
            row.region.code,
            row.region.name,
            row.stage,
            row.year,
            row.quarter,
            row.targetCount,
            target === null ? null : fromWan(target, unit),
            row.reachedCount,
            fromWan(row.reachedInvestmentWan, unit),
            row.completionRate,
            row.card,
            row.targetSynthetic,
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
