import { createHash } from "node:crypto";

import type { ApolloServerPlugin } from "@apollo/server";
import type { RequestHandler } from "express";
import type { DataSource } from "typeorm";

import type { Context } from "../common/context";
import { readDataVersions } from "../db/data-version";
import { countingClient } from "../db/sql-counter";
import type { SharedCache } from "./shared-cache";

/**
 * HTTP caching of reads, decided once per operation (not by a wrapper around
 * every field, which Apollo's cache-control plugin is and which costs about a
 * third of the throughput on the big query):
 * - a query answered without errors: `Cache-Control: public, max-age=N`
 *   (`private` when the request carries a token), `Vary: Authorization`, and
 *   for GET an ETag made of the data version and the request, so that every
 *   write (which bumps the version) changes it;
 * - a mutation or an answer with errors: `no-store`.
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
          headers.set("vary", "Authorization");
          if (request.http?.method === "GET") headers.set("etag", readEtag(await contextValue.dataVersion(), request.http.search));
        },
      };
    },
  };
}

/** The part of a URL after "?", which with the data version makes a read's ETag. */
export function searchOf(url: string): string {
  const at = url.indexOf("?");
  return at < 0 ? "" : url.slice(at + 1);
}

/** The ETag of a GET read: the data version and a digest of the query string (query, variables, operation, persisted-query hash). */
export function readEtag(version: number, search: string): string {
  const query = search.startsWith("?") ? search.slice(1) : search;
  return `W/"v${version}-${createHash("sha256").update(query).digest("base64url").slice(0, 22)}"`;
}

/**
 * A conditional GET whose ETag still holds (no write since) is answered 304
 * before anything is parsed or executed: the data version is the only read,
 * and none within the shared cache's version TTL.
 */
export function conditionalGet(db: DataSource, shared: SharedCache | null, maxAgeSeconds: number): RequestHandler {
  return (req, res, next) => {
    const ifNoneMatch = req.headers["if-none-match"];
    if (req.method !== "GET" || !ifNoneMatch) return next();
    const search = searchOf(req.originalUrl);
    const client = countingClient(db, { statements: 0 });
    (shared ? shared.currentVersions(client) : readDataVersions(client)).then((versions) => {
      const etag = readEtag(versions.total, search);
      if (!ifNoneMatch.split(",").some((tag) => tag.trim() === etag)) return next();
      res.setHeader("etag", etag);
      res.setHeader("cache-control", `${req.headers.authorization ? "private" : "public"}, max-age=${maxAgeSeconds}`);
      res.setHeader("vary", "Authorization");
      res.status(304).end();
    }, next);
  };
}
