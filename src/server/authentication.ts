import type { RequestHandler, Response } from "express";
import type { DataSource } from "typeorm";

import { authenticate, type Viewer } from "../auth/tokens";
import { AppError, ErrorCode } from "../common/errors";
import { countingClient } from "../db/sql-counter";
import { requestOf, sendJsonError } from "./observability";

/** The request's caller, as `authentication` found it (null: anonymous). */
export function viewerOf(res: Response): Viewer | null {
  return (res.locals.viewer as Viewer | undefined) ?? null;
}

/**
 * Reads `Authorization: Bearer <token>` once per request (one indexed
 * statement, none without the header): an unknown, revoked or malformed token
 * is 401 UNAUTHENTICATED before anything runs, even for a read, so that a
 * client never mistakes a broken token for anonymous access. With
 * READ_REQUIRES_TOKEN, a request without a token is 401 too.
 */
export function authentication(db: DataSource, readRequiresToken: boolean): RequestHandler {
  return (req, res, next) => {
    const header = req.headers.authorization;
    if (!header) {
      if (readRequiresToken && req.method !== "OPTIONS") {
        return sendJsonError(res, 401, "this server needs a token for every request (READ_REQUIRES_TOKEN): send Authorization: Bearer <token>", { code: ErrorCode.UNAUTHENTICATED });
      }
      res.locals.viewer = null;
      return next();
    }
    authenticate(countingClient(db, { statements: 0 }), header).then(
      (viewer) => {
        res.locals.viewer = viewer;
        const info = requestOf(res);
        if (info && viewer) info.office = viewer.office;
        next();
      },
      (error: unknown) => {
        if (error instanceof AppError && error.extensions.code === ErrorCode.UNAUTHENTICATED) {
          res.setHeader("www-authenticate", 'Bearer realm="major-projects"');
          return sendJsonError(res, 401, error.message, { code: ErrorCode.UNAUTHENTICATED });
        }
        next(error);
      },
    );
  };
}
