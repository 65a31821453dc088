import express, { type ErrorRequestHandler, type RequestHandler, type Response, Router } from "express";
import type { DataSource } from "typeorm";

import { AppError, ErrorCode } from "../common/errors";
import { actorOf } from "../ledger/actor";
import type { Ledger } from "../ledger/ledger";
import { authentication, viewerOf } from "../server/authentication";
import { requestOf, sendJsonError } from "../server/observability";
import { importLedger } from "./import-ledger";

/** What the import route needs. */
export interface ImportRoutesOptions {
  /** Where tokens are looked up. */
  db: DataSource;
  /** The ledger the import writes through (the server's, with its settings). */
  ledgerFor: () => Ledger;
  /** Largest file accepted, in bytes (IMPORT_MAX_BYTES); a larger one is a 413 before it is read. */
  maxBytes: number;
  /** Most data rows a file may have (IMPORT_MAX_ROWS); more is a 413 naming both bounds, nothing written. */
  maxRows: number;
  /** Called after an import that wrote, with the provinces whose versions moved (the server then reads its versions again). */
  onWrite: (provinces: number[]) => void;
}

/** HTTP status of each error an import may end with; any other goes to the server's error handler (a masked 500). */
const STATUS: Partial<Record<string, number>> = {
  [ErrorCode.BAD_REQUEST]: 400,
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.CONFLICT]: 409,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCode.SERVICE_UNAVAILABLE]: 503,
};

/**
 * `POST /import/projects.csv`: the body is a ledger file (UTF-8 CSV, as Excel
 * writes it), the Authorization header a write token; `?dryRun=true` checks
 * everything and writes nothing. Answers the import's report as JSON: 200
 * when the file went in (or would, on a dry run), 400 with every bad row
 * (nothing written); errors as the API's other JSON errors: 401 without a
 * good token (checked before the body is read), 403 for a row outside the
 * token's region (nothing written), 409 when another write changed one of the
 * file's projects meanwhile, 413 above `maxBytes` (before the file is read)
 * or `maxRows` (as soon as the row after the last one allowed is read; the
 * transaction is rolled back). The file is read, checked and written a step
 * at a time (see importLedger), so memory does not grow with it.
 */
export function importRoutes({ db, ledgerFor, maxBytes, maxRows, onWrite }: ImportRoutesOptions): Router {
  const router = Router();
  router.post(
    "/import/projects.csv",
    authentication(db, false),
    requireViewer,
    express.raw({ type: () => true, limit: maxBytes }),
    async (req, res, next) => {
      res.setHeader("cache-control", "no-store");
      const dryRun = dryRunParam(req.query.dryRun);
      if (dryRun === null) return sendJsonError(res, 400, 'Bad request: dryRun must be "true" or "false"', { code: ErrorCode.BAD_REQUEST, field: "dryRun" });
      // Whoever answers first (this route, or the server's request timeout) or a client gone away ends the import's chance to commit.
      const abandoned = new AbortController();
      res.once("finish", () => abandoned.abort());
      res.once("close", () => abandoned.abort());
      try {
        const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const { provinces, ...report } = await importLedger(ledgerFor(), actorOf(viewerOf(res)!), body, { dryRun, signal: abandoned.signal, maxRows });
        if (provinces.length) onWrite(provinces);
        if (res.headersSent) return;
        if (report.problems.length) requestOf(res)?.errorCodes.push(ErrorCode.BAD_USER_INPUT);
        res.status(report.problems.length ? 400 : 200).json(report);
      } catch (error) {
        if (res.headersSent) return;
        sendAppError(res, error, next);
      }
    },
  );
  router.use("/import", tooLarge(maxBytes));
  return router;
}

/** An import needs a write token: the request's viewer (a bad token was refused by `authentication` with its 401). */
const requireViewer: RequestHandler = (_req, res, next) => {
  if (!viewerOf(res)) return sendJsonError(res, 401, 'an import needs a write token: send "Authorization: Bearer <token>"', { code: ErrorCode.UNAUTHENTICATED });
  next();
};

/** A body over the limit as the API's 413 naming the setting; other body errors go on to the server's handler. */
function tooLarge(maxBytes: number): ErrorRequestHandler {
  return (error, _req, res, next) => {
    if (error?.type !== "entity.too.large") return next(error);
    sendJsonError(res, 413, `the file of ${error.length} bytes exceeds the limit of ${maxBytes} bytes (IMPORT_MAX_BYTES); split it, or ask the operator to raise the limit`, {
      code: ErrorCode.PAYLOAD_TOO_LARGE,
      limit: maxBytes,
      setting: "IMPORT_MAX_BYTES",
      measured: error.length,
    });
  };
}

function sendAppError(res: Response, error: unknown, next: (error: unknown) => void): void {
  const code = error instanceof AppError ? String(error.extensions.code) : undefined;
  const status = code === undefined ? undefined : STATUS[code];
  if (status === undefined) return next(error);
  const { http: _http, ...extensions } = (error as AppError).extensions as Record<string, unknown>;
  if (status === 503) res.setHeader("retry-after", "1");
  sendJsonError(res, status, (error as AppError).message, { ...extensions, code: code! });
}

/** `?dryRun=`: absent or false is a real import; true a dry run; anything else null. */
function dryRunParam(value: unknown): boolean | null {
  if (value === undefined || value === "false") return false;
  if (value === "true") return true;
  return null;
}
