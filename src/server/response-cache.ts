import { createHash } from "node:crypto";

import type { ApolloServerPlugin } from "@apollo/server";
import type { NextFunction, RequestHandler, Response } from "express";
import { LRUCache } from "lru-cache";
import type { DataSource } from "typeorm";

import type { Context } from "../common/context";
import type { DataVersions } from "../db/data-version";
import { countingClient } from "../db/sql-counter";
import { readEtag, searchOf } from "./http-caching";
import { requestOf } from "./observability";
import type { SharedCache } from "./shared-cache";

/** A finished answer and what it depends on. */
interface Entry {
  /** The answer as sent, UTF-8. */
  body: Buffer;
  operationName: string | null;
  /** Provinces whose writes can change it; null: any write. */
  provinces: readonly number[] | null;
  /** The versions it was computed at. */
  versions: DataVersions;
}

/** Settings of the finished-response cache. */
export interface ResponseCacheOptions {
  /** Bound on the bytes of answers kept (RESPONSE_CACHE_MAX_BYTES). */
  maxBytes: number;
  /** max-age of the Cache-Control sent with a kept answer (HTTP_CACHE_MAX_AGE), as for any read. */
  maxAgeSeconds: number;
  /** Send x-sql-statements (SQL_STATEMENTS_HEADER). */
  sqlStatementsHeader: boolean;
}

/** Header carrying the number of SQL statements of a GraphQL answer. */
const SQL_STATEMENTS_HEADER = "x-sql-statements";
/** Header saying whether an anonymous query's answer came from this cache: hit, shared (waited for an identical request's) or miss. */
export const RESPONSE_CACHE_HEADER = "x-response-cache";

/**
 * Dashboards repeat the same request between writes. An anonymous query that
 * was answered without errors is kept as the finished JSON text, keyed by its
 * document, operation name, variables and persisted-query hash, with the
 * versions of the provinces its answer depends on (those of the cached
 * aggregates it used; any write when it read anything else). A repeat is sent
 * from here before anything is parsed or executed, as long as none of those
 * versions moved: a write in 广东 leaves a Henan dashboard's answer alone,
 * a write in Henan drops it, and a write on this instance is seen at once.
 */
export class ResponseCache {
  private readonly entries: LRUCache<string, Entry>;
  /**
   * Keys whose answer a request is computing now, settled when its response
   * ends. After a write drops a dashboard's answer, its ten open connections
   * ask again at once: one computes, the others wait for its answer instead
   * of computing the same one ten times over.
   */
  private readonly computing = new Map<string, Promise<void>>();

  constructor(
    private readonly db: DataSource,
    private readonly shared: SharedCache,
    readonly options: ResponseCacheOptions,
  ) {
    this.entries = new LRUCache<string, Entry>({ maxSize: Math.max(1, options.maxBytes), sizeCalculation: (entry) => entry.body.length + 200 });
  }

  /** Answers a request from a kept answer that still holds, before Apollo; records the key for `plugin` otherwise. */
  middleware(): RequestHandler {
    return (req, res, next) => {
      const info = requestOf(res);
      // Only anonymous requests are kept and served: an answer can depend on the token (`viewer { office }`), so a
      // request carrying one is always computed for it, and never kept (the plugin checks the viewer again).
      const key = info && !req.headers.authorization ? keyOf(req.method, req.method === "GET" ? req.query : req.body) : null;
      if (!key || !info) return next();
      info.responseKey = key;
      // Without a kept answer that holds: wait (once) for an identical request already computing it, then look
      // again; else compute it, as the one that identical requests arriving meanwhile wait for. A request whose
      // response is already over (its client went away while it waited or read the versions, or the request timeout
      // answered it) neither waits nor computes: it could never be answered, and as the one others wait for it would
      // never settle, its `finish` or `close` being past.
      const miss = (mayWait: boolean): void => {
        if (isOver(res)) return;
        const computing = this.computing.get(key);
        if (computing && mayWait) return void computing.then(() => answer(false));
        this.compute(key, res, next);
      };
      const answer = (mayWait: boolean): void => {
        if (isOver(res)) return;
        const entry = this.entries.get(key);
        if (!entry) return miss(mayWait);
        const tally = { statements: 0 };
        this.shared.currentVersions(countingClient(this.db, tally)).then((current) => {
          if (!holds(entry, current)) {
            if (this.entries.get(key) === entry) this.entries.delete(key);
            return miss(mayWait);
          }
          info.operationName = entry.operationName;
          info.operationType = "query";
          info.sql = tally;
          res.setHeader("content-type", "application/json; charset=utf-8");
          res.setHeader("cache-control", `public, max-age=${this.options.maxAgeSeconds}`);
          res.vary("Authorization"); // added to CORS's Origin, not in its place
          // hit: kept from an earlier request; shared: the answer of an identical request this one waited for.
          res.setHeader(RESPONSE_CACHE_HEADER, mayWait ? "hit" : "shared");
          if (req.method === "GET") res.setHeader("etag", readEtag(current.total, searchOf(req.originalUrl), null)); // anonymous, as every kept answer
          if (this.options.sqlStatementsHeader) res.setHeader(SQL_STATEMENTS_HEADER, String(tally.statements));
          res.setHeader("content-length", String(entry.body.length));
          res.status(200).end(entry.body);
        }, () => next()) // versions unreadable (the database is away): Apollo answers, with its 503
          .catch((error: unknown) => (res.headersSent ? undefined : next(error)));
      };
      answer(true);
    };
  }

  /**
   * Lets the request compute its answer, marked as the one that identical
   * requests arriving meanwhile wait for, until its response ends: `finish`
   * once sent, `close` when its connection goes first. Only a response not
   * over yet is marked, so one of the two is still to come: a waiter never
   * waits longer than the request it waits for lives.
   */
  private compute(key: string, res: Response, next: NextFunction): void {
    if (isOver(res)) return;
    res.setHeader(RESPONSE_CACHE_HEADER, "miss");
    if (!this.computing.has(key)) {
      let settle!: () => void;
      const done = new Promise<void>((resolve) => (settle = resolve));
      this.computing.set(key, done);
      const finish = () => {
        if (this.computing.get(key) === done) this.computing.delete(key);
        settle();
      };
      res.once("finish", finish);
      res.once("close", finish);
    }
    next();
  }

  /** Keeps the JSON text of every anonymous query answered without errors, with what it depends on. */
  plugin(): ApolloServerPlugin<Context> {
    const entries = this.entries;
    return {
      async requestDidStart() {
        return {
          async willSendResponse({ response, contextValue, operation, operationName }) {
            const key = contextValue.request.responseKey;
            if (!key || contextValue.viewer || operation?.operation !== "query" || response.body.kind !== "single") return;
            if (response.body.singleResult.errors?.length || (response.http.status ?? 200) !== 200) return;
            const versions = await contextValue.dataVersions();
            const entry: Entry = { body: Buffer.alloc(0), operationName: operationName ?? null, provinces: contextValue.dependencies(), versions };
            // The text Apollo sends is kept as sent: serialised once, by Apollo, not again here.
            contextValue.request.keepResponse = (body: string) => {
              entry.body = Buffer.from(body, "utf8");
              entries.set(key, entry);
            };
          },
        };
      },
    };
  }

  /** Wraps `res.send` so that the text of an answer the plugin chose to keep is kept. */
  capture(): RequestHandler {
    return (_req, res, next) => {
      const info = requestOf(res);
      if (info?.responseKey) {
        const send = res.send.bind(res);
        res.send = (body?: unknown) => {
          if (typeof body === "string" && info.keepResponse && res.statusCode === 200) info.keepResponse(body);
          return send(body);
        };
      }
      next();
    };
  }
}

/**
 * Whether a response is over: ended (the request timeout's 503, say) or
 * destroyed (its connection closed). Its `finish` and `close` are then past or
 * never come (Node emits neither for a response ended after its connection
 * closed), and nothing sent to it reaches anyone.
 */
function isOver(res: Response): boolean {
  return res.writableEnded || res.destroyed;
}

/** Whether a kept answer still holds at the current versions: the trees and each province it depends on are where they were. */
function holds(entry: Entry, current: DataVersions): boolean {
  if (entry.provinces === null) return entry.versions.total === current.total;
  if (entry.versions.byProvince.get(0) !== current.byProvince.get(0)) return false;
  return entry.provinces.every((p) => entry.versions.byProvince.get(p) === current.byProvince.get(p));
}

/**
 * The key of a well-formed GraphQL request (GET parameters as sent, or a POST
 * body); null for anything else (other methods, batches, malformed fields,
 * variables too deep to serialise), which Apollo then answers as it would.
 */
function keyOf(method: string, params: unknown): string | null {
  if ((method !== "GET" && method !== "POST") || !params || typeof params !== "object" || Array.isArray(params)) return null;
  const { query, operationName, variables, extensions } = params as Record<string, unknown>;
  if (query !== undefined && typeof query !== "string") return null;
  if (operationName !== undefined && operationName !== null && typeof operationName !== "string") return null;
  let text: string;
  if (method === "GET") {
    // As sent: a malformed `variables` or `extensions` never had an answer kept, so it reaches Apollo and its 400.
    if ((variables !== undefined && typeof variables !== "string") || (extensions !== undefined && typeof extensions !== "string")) return null;
    text = JSON.stringify(["GET", query ?? null, operationName ?? null, variables ?? null, extensions ?? null]);
  } else {
    const isObject = (value: unknown) => value !== null && typeof value === "object" && !Array.isArray(value);
    if (variables !== undefined && variables !== null && !isObject(variables)) return null;
    if (extensions !== undefined && !isObject(extensions)) return null;
    try {
      text = JSON.stringify(["POST", query ?? null, operationName ?? null, variables ?? null, extensions ?? null]);
    } catch {
      return null; // nested too deep to serialise: never kept
    }
  }
  return createHash("sha256").update(text).digest("base64url");
}
