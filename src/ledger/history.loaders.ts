import DataLoader from "dataloader";

import type { Context } from "../common/context";
import { MAX_UNION_TERMS } from "../db/sql";
import { checkPageSize, decodeCursor, encodeCursor } from "../common/pagination";
import { type ChangeRow, ProjectChange, ProjectChangeConnection } from "./history.type";

/** The column a list of changes is keyed by: a project, or a region's subtree at its level. */
export type ChangeOwner = "project_id" | "province_id" | "city_id" | "region_id";

/** One page of changes a resolver asks for. */
export interface ChangesRequest {
  owner: ChangeOwner;
  id: number;
  first?: number | null;
  after?: string | null;
  since?: string | null;
}

const ORDER = "change";

/**
 * Pages of changes, newest first. All pages asked for in one tick (the
 * history of every project of a list) are read in one statement: a UNION ALL
 * of one indexed range per page, each `(owner, id)` walked backwards.
 */
export function createChangesLoader(ctx: Context): DataLoader<ChangesRequest, ProjectChangeConnection, string> {
  return new DataLoader(
    async (requests) => {
      const pages = requests.map((r) => ({ size: checkPageSize(r.first), before: r.after ? decodeCursor(r.after, ORDER).id : null }));
      const parts: string[] = [];
      const params: unknown[] = [];
      requests.forEach((r, i) => {
        // A region's changes include those that moved a project out of it: a second indexed range, merged below.
        const owners = r.owner === "project_id" ? [r.owner] : [r.owner, `from_${r.owner}`];
        for (const owner of owners) {
          const clauses = [`${owner} = ?`];
          params.push(r.id);
          if (pages[i].before !== null) {
            clauses.push("id < ?");
            params.push(pages[i].before);
          }
          if (r.since) {
            clauses.push("changed_at >= ?");
            params.push(r.since);
          }
          params.push(pages[i].size + 1);
          parts.push(
            `SELECT * FROM (SELECT ${i} AS request_index, id, changed_at, office, operation, project_id, meeting_id, project_version, region_id, fields, reason FROM ledger_change WHERE ${clauses.join(" AND ")} ORDER BY id DESC LIMIT ?) t${parts.length}`,
          );
        }
      });
      const rows: Array<ChangeRow & { request_index: number }> = await ctx.db.query(parts.join(" UNION ALL "), params);
      const lists: ChangeRow[][] = requests.map(() => []);
      const seen = requests.map(() => new Set<number>());
      for (const row of rows) {
        const k = Number(row.request_index);
        if (seen[k].has(Number(row.id))) continue; // a move inside the region is in both ranges
        seen[k].add(Number(row.id));
        lists[k].push(row);
      }
      return lists.map((list, i) => {
        list.sort((a, b) => Number(b.id) - Number(a.id));
        const page = list.slice(0, pages[i].size).map(ProjectChange.fromRow);
        const connection = new ProjectChangeConnection();
        connection.nodes = page;
        connection.edges = page.map((node) => ({ node, cursor: encodeCursor({ order: ORDER, value: Number(node.id), id: Number(node.id) }) }));
        connection.pageInfo = {
          hasNextPage: list.length > pages[i].size,
          hasPreviousPage: pages[i].before !== null,
          startCursor: connection.edges[0]?.cursor ?? null,
          endCursor: connection.edges[connection.edges.length - 1]?.cursor ?? null,
        };
        return connection;
      });
    },
    // Two terms a page at most, and SQLite joins at most MAX_UNION_TERMS SELECTs in one UNION ALL: more pages in one
    // tick (aliases of `regions { changes }`) are read half as many a statement.
    { cacheKeyFn: (r) => JSON.stringify([r.owner, r.id, r.first ?? null, r.after ?? null, r.since ?? null]), maxBatchSize: MAX_UNION_TERMS / 2 },
  );
}
