import { createHash } from "node:crypto";

import type { ApolloServerPlugin } from "@apollo/server";
import type { RequestHandler } from "express";
import type { DataSource } from "typeorm";

import type { Viewer } from "../auth/tokens";
import type { Context } from "../common/context";
import { readDataVersions } from "../db/data-version";
import { countingClient } from "../db/sql-counter";
import type { SharedCache } from "./shared-cache";

/**
 * HTTP caching of reads, decided once per operation (not by a wrapper around
 * every field, which Apollo's cache-control plugin is and which costs about a
 * third of the throughput on the big query):
 * - a query answered without errors: `Cache-Control: public, max-age=N`
 *   (`private` when the request carries a token), and for GET an ETag made of
 *   the data version, the request and who asks (`readEtag`), so that every
 *   write (which bumps the version) changes it and no viewer's ETag is another's;
 * - a mutation or an answer with errors: `no-store`.
 * `Vary: Authorization` is on every answer that passed `conditionalGet`, added
 * there to what CORS put in `Vary` (`Origin`): setting it here would replace it.
 */
export function httpCachingPlugin(maxAgeSeconds: number): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ request, response, contextValue, operation }) {
          const headers = response.http.headers;
          const failed = response.body.kind === "single" && Boolean(response.body.singleResult.errors?.length);
          if (operation?.operation !== "query" || failed) {
            headers.set("cache-control", "no-store");
            return;
          }
          const token = Boolean(request.http?.headers.get("authorization"));
          headers.set("cache-control", `${token ? "private" : "public"}, max-age=${maxAgeSeconds}`);
          if (request.http?.method === "GET") headers.set("etag", readEtag(await contextValue.dataVersion(), request.http.search, contextValue.viewer));
        },
      };
    },
  };
}

/** The part of a URL after "?", which with the data version and the viewer makes a read's ETag. */
export function searchOf(url: string): string {
  const at = url.indexOf("?");
  return at < 0 ? "" : url.slice(at + 1);
}

/**
 * Who asks, as a read's ETag takes it in: "anonymous", or the token's id with
 * everything `viewer` can answer (office, region), never the token itself.
 */
function askerOf(viewer: Viewer | null): string {
  if (!viewer) return "anonymous";
  return JSON.stringify(["token", viewer.tokenId, viewer.office, viewer.regionId, viewer.regionCode, viewer.regionName, viewer.level]);
}

/**
 * The ETag of a GET read: the data version and a digest of who asks
 * (`askerOf`) with the query string (query, variables, operation,
 * persisted-query hash). An answer can depend on the token (`viewer`), so an
 * anonymous ETag never matches a token holder's request, nor one token's
 * another token's. The UTC day goes in too: an assessment's cards and a
 * factor issue's days open move with the calendar, not only with writes, so
 * no ETag outlives the day it was made.
 */
export function readEtag(version: number, search: string, viewer: Viewer | null): string {
  const query = search.startsWith("?") ? search.slice(1) : search;
  const day = new Date().toISOString().slice(0, 10);
  const digest = createHash("sha256").update(askerOf(viewer)).update("\n").update(query).update("\n").update(day).digest("base64url");
  return `W/"v${version}-${digest.slice(0, 22)}"`;
}

/**
 * A conditional GET whose ETag still holds (no write since, same query, same
 * viewer) is answered 304 before anything is parsed or executed: the data
 * version is the only read, and none within the shared cache's version TTL.
 * It runs after `authentication` (./authentication.ts), whose viewer it takes:
 * a bad or revoked token has had its 401 before this; a request with an
 * Authorization header that was not authenticated is never answered 304.
 * Every answer passing through here varies with Authorization.
 */
export function conditionalGet(db: DataSource, shared: SharedCache | null, maxAgeSeconds: number): RequestHandler {
  return (req, res, next) => {
    res.vary("Authorization");
    const ifNoneMatch = req.headers["if-none-match"];
    if (req.method !== "GET" || !ifNoneMatch) return next();
    const viewer = res.locals.viewer as Viewer | null | undefined;
    if (viewer === undefined && req.headers.authorization) return next(); // not authenticated here: no 304
    const search = searchOf(req.originalUrl);
    const client = countingClient(db, { statements: 0 });
    (shared ? shared.currentVersions(client) : readDataVersions(client)).then((versions) => {
      const etag = readEtag(versions.total, search, viewer ?? null);
      if (!ifNoneMatch.split(",").some((tag) => tag.trim() === etag)) return next();
      res.setHeader("etag", etag);
      res.setHeader("cache-control", `${req.headers.authorization ? "private" : "public"}, max-age=${maxAgeSeconds}`);
      res.status(304).end();
    }, next);
  };
}
