import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { type Request, type RequestHandler, type Response, Router } from "express";
import type { DataSource } from "typeorm";

import { AppError, ErrorCode } from "../common/errors";
import { DatabaseUnavailableError, isConnectivityError } from "../db/availability";
import { actorOf } from "../ledger/actor";
import type { Ledger } from "../ledger/ledger";
import { authentication, viewerOf } from "../server/authentication";
import { requestOf, sendJsonError } from "../server/observability";
import { type ImportReport, importLedger } from "./import-ledger";

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
  /** Where request bodies are spooled while they are imported (default: the system's temporary directory). */
  spoolDir?: string;
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
 * or `maxRows` (counted before any transaction). The body is spooled to a file of its own in
 * `spoolDir` (removed when the answer is sent) and read, checked and written
 * from there a step at a time (see importLedger): neither the body nor the
 * file is ever held in memory.
 */
export function importRoutes({ db, ledgerFor, maxBytes, maxRows, onWrite, spoolDir = os.tmpdir() }: ImportRoutesOptions): Router {
  const router = Router();
  void sweepSpools(spoolDir);
  router.post(
    "/import/projects.csv",
    authentication(db, false),
    requireViewer,
    async (req, res, next) => {
      res.setHeader("cache-control", "no-store");
      const dryRun = dryRunParam(req.query.dryRun);
      if (dryRun === null) return sendJsonError(res, 400, 'Bad request: dryRun must be "true" or "false"', { code: ErrorCode.BAD_REQUEST, field: "dryRun" });
      // Whoever answers first (this route, or the server's request timeout) or a client gone away ends the import's chance to commit.
      const abandoned = new AbortController();
      res.once("finish", () => abandoned.abort());
      res.once("close", () => abandoned.abort());
      let spooled: Spooled | undefined;
      let outcome: { report: ImportReport } | { error: unknown };
      try {
        spooled = await spool(req, maxBytes, spoolDir);
        if ("tooLarge" in spooled) return sendTooLarge(res, spooled.tooLarge, maxBytes);
        outcome = { report: await importLedger(ledgerFor(), actorOf(viewerOf(res)!), { path: spooled.path }, { dryRun, signal: abandoned.signal, maxRows }) };
      } catch (error) {
        outcome = { error };
      } finally {
        // Deleted before the answer goes out: a client that has its answer finds no trace of the file.
        if (spooled && "dir" in spooled) await fs.promises.rm(spooled.dir, { recursive: true, force: true });
      }
      if ("error" in outcome) {
        // A client that went away while sending its file is not an error of the server's; there is no one to answer.
        if (!res.headersSent && !(outcome.error instanceof BodyAborted)) sendAppError(res, outcome.error, next);
        return;
      }
      const { provinces, ...report } = outcome.report;
      if (provinces.length) onWrite(provinces);
      if (res.headersSent) return;
      if (report.problems.length) requestOf(res)?.errorCodes.push(ErrorCode.BAD_USER_INPUT);
      res.status(report.problems.length ? 400 : 200).json(report);
    },
  );
  return router;
}

/** A spooled body older than this was left by a process that died mid-import (a kill, a power cut): it is deleted at start. */
const STALE_SPOOL_MS = 60 * 60 * 1000;

/** Deletes the spool directories a process killed mid-import left behind (another instance's, still in use, are younger). */
export async function sweepSpools(spoolDir: string, now = Date.now()): Promise<void> {
  try {
    for (const name of await fs.promises.readdir(spoolDir)) {
      if (!name.startsWith("mp-import-")) continue;
      const dir = path.join(spoolDir, name);
      const stat = await fs.promises.stat(dir).catch(() => null);
      if (stat?.isDirectory() && now - stat.mtimeMs > STALE_SPOOL_MS) await fs.promises.rm(dir, { recursive: true, force: true });
    }
  } catch {
    // An unreadable temporary directory costs only the sweep; the import reports its own errors.
  }
}

/** The client went away before its whole body came. */
class BodyAborted extends Error {
  constructor() {
    super("the request was aborted while its body was read");
  }
}

/** A request body on disk (its file, in a directory of its own), or how many bytes had come when it passed the limit. */
type Spooled = { dir: string; path: string } | { tooLarge: number };

/**
 * Writes the request body to a new file, reading no more than `maxBytes`: a
 * declared Content-Length over it is refused before anything is read, a
 * chunked body as soon as it passes it (what came is deleted; the rest is
 * not read, and the connection closes after the 413). A body that breaks off
 * (the client went away) rejects, its file deleted.
 */
async function spool(req: Request, maxBytes: number, spoolDir: string): Promise<Spooled> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) return { tooLarge: declared };
  const dir = await fs.promises.mkdtemp(path.join(spoolDir, "mp-import-"));
  const file = path.join(dir, "ledger.csv");
  try {
    const bytes = await new Promise<number>((resolve, reject) => {
      const out = fs.createWriteStream(file);
      let received = 0;
      const stop = (error: Error | null, result?: number) => {
        req.off("data", onData);
        req.off("end", onEnd);
        req.off("error", onError);
        req.off("aborted", onAborted);
        if (error) {
          out.destroy();
          reject(error);
        } else out.end(() => resolve(result!));
      };
      const onData = (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBytes) {
          req.unpipe();
          req.pause();
          return stop(null, received);
        }
        if (!out.write(chunk)) {
          req.pause();
          out.once("drain", () => req.resume());
        }
      };
      const onEnd = () => stop(null, received);
      const onError = (error: Error) => stop(error);
      const onAborted = () => stop(new BodyAborted());
      out.once("error", onError);
      req.on("data", onData);
      req.once("end", onEnd);
      req.once("error", onError);
      req.once("aborted", onAborted);
    });
    if (bytes > maxBytes) {
      await fs.promises.rm(dir, { recursive: true, force: true });
      return { tooLarge: bytes };
    }
    return { dir, path: file };
  } catch (error) {
    await fs.promises.rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** An import needs a write token: the request's viewer (a bad token was refused by `authentication` with its 401). */
const requireViewer: RequestHandler = (_req, res, next) => {
  if (!viewerOf(res)) return sendJsonError(res, 401, 'an import needs a write token: send "Authorization: Bearer <token>"', { code: ErrorCode.UNAUTHENTICATED });
  next();
};

/** A body over the limit as the API's 413 naming the setting; the connection closes after it (the rest of the body is not read). */
function sendTooLarge(res: Response, measured: number, maxBytes: number): void {
  res.setHeader("connection", "close");
  sendJsonError(res, 413, `the file of ${measured} bytes exceeds the limit of ${maxBytes} bytes (IMPORT_MAX_BYTES); split it, or ask the operator to raise the limit`, {
    code: ErrorCode.PAYLOAD_TOO_LARGE,
    limit: maxBytes,
    setting: "IMPORT_MAX_BYTES",
    measured,
  });
}

function sendAppError(res: Response, error: unknown, next: (error: unknown) => void): void {
  // The database went away during the import (the transaction is gone with it: nothing was written): 503, as for a query.
  if (!(error instanceof AppError) && isConnectivityError(error)) error = new DatabaseUnavailableError(error);
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
