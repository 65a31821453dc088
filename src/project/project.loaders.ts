import DataLoader from "dataloader";

import { stageToNumber } from "../common/stage";
import { checkPageSize, decodeCursor, encodeCursor, type CursorPosition } from "../common/pagination";
import type { Context } from "../common/context";
import { MAX_UNION_TERMS, placeholders } from "../db/sql";
import type { ProjectScope } from "../filter/project-scope";
import { scopedFilter } from "../filter/resolved-filter";
import { projectConditions, whereSql } from "../filter/project-conditions";
import type { ProjectFilter } from "../filter/project-filter.input";
import { Milestone, type MilestoneRow } from "./milestone.type";
import { ProjectConnection } from "./project-connection.type";
import { OrderDirection, type ProjectOrder, ProjectOrderField } from "./project-order.input";
import { Project, PROJECT_COLUMNS, type ProjectRow } from "./project.type";

/** One page of a project list a resolver asks for. */
export interface PageRequest {
  scope: ProjectScope;
  filter?: ProjectFilter | null;
  first?: number | null;
  after?: string | null;
  orderBy?: ProjectOrder | null;
  /** Largest page allowed: the API's 100 unless internal code (the CSV export) reads in bigger pages. */
  maxPageSize?: number;
}

/** Projects by id, one `IN (…)` query per tick. */
export function createProjectLoader(ctx: Context): DataLoader<number, Project | null> {
  return new DataLoader(async (ids) => {
    const rows: ProjectRow[] = await ctx.db.query(`SELECT ${PROJECT_COLUMNS} FROM project p WHERE p.id IN (${placeholders(ids.length)})`, [...ids]);
    const byId = new Map(rows.map((row) => [Number(row.id), Project.fromRow(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/** Milestones of projects, in stage order, one query per tick. */
export function createMilestonesLoader(ctx: Context): DataLoader<number, Milestone[]> {
  return new DataLoader(async (projectIds) => {
    const rows: MilestoneRow[] = await ctx.db.query(
      `SELECT project_id, stage, reached_on, meeting_id, venue_region_id FROM milestone WHERE project_id IN (${placeholders(projectIds.length)}) ORDER BY project_id, stage`,
      [...projectIds],
    );
    const byProject = new Map<number, Milestone[]>(projectIds.map((id) => [id, []]));
    for (const row of rows) byProject.get(Number(row.project_id))?.push(Milestone.fromRow(row));
    return projectIds.map((id) => byProject.get(id) ?? []);
  });
}

/**
 * Pages of project lists. Every page asked for in one tick (a list under each
 * of 175 regions, say) is read by one statement: a UNION ALL of one keyset
 * subquery per page (ORDER BY … LIMIT on the index), each page's at most 101
 * rows numbered by ROW_NUMBER afterwards so that its order survives the union.
 */
export function createProjectPageLoader(ctx: Context): DataLoader<PageRequest, ProjectConnection, string> {
  return new DataLoader((requests) => loadPages(ctx, requests), {
    cacheKeyFn: (r) => JSON.stringify([r.scope, r.filter ?? null, r.first ?? null, r.after ?? null, r.orderBy ?? null, r.maxPageSize ?? null]),
    // SQLite joins at most MAX_UNION_TERMS SELECTs in one UNION ALL: more pages in one tick (aliases of
    // `regions { projects }`) are read that many a statement.
    maxBatchSize: MAX_UNION_TERMS,
  });
}

interface PlannedPage {
  index: number;
  size: number;
  order: Ordering;
  after?: CursorPosition;
  sql: string;
  params: unknown[];
}

async function loadPages(ctx: Context, requests: readonly PageRequest[]): Promise<Array<ProjectConnection | Error>> {
  const results: Array<ProjectConnection | Error> = new Array(requests.length);
  const planned: PlannedPage[] = [];
  await Promise.all(
    requests.map(async (request, index) => {
      try {
        planned.push(await planPage(ctx, request, index));
      } catch (error) {
        results[index] = error as Error;
      }
    }),
  );
  if (planned.length === 0) return results;
  planned.sort((a, b) => a.index - b.index);
  // One page: its rows come in order. Several: number each page's rows after its LIMIT, in the database's own order.
  const sql =
    planned.length === 1
      ? planned[0].sql
      : planned.map((page, i) => `SELECT t${i}.*, ROW_NUMBER() OVER (ORDER BY ${page.order.orderBy(`t${i}`)}) AS row_in_page FROM (${page.sql}) t${i}`).join(" UNION ALL ");
  const rows: Array<ProjectRow & { request_index: number; row_in_page?: number }> = await ctx.db.query(
    sql,
    planned.flatMap((page) => page.params),
  );
  const byPage = new Map<number, Array<ProjectRow & { row_in_page?: number }>>(planned.map((page) => [page.index, []]));
  for (const row of rows) byPage.get(Number(row.request_index))?.push(row);
  for (const page of planned) {
    const pageRows = planned.length === 1 ? byPage.get(page.index)! : byPage.get(page.index)!.sort((a, b) => Number(a.row_in_page) - Number(b.row_in_page));
    results[page.index] = toConnection(requests[page.index], page, pageRows.map(Project.fromRow));
  }
  return results;
}

async function planPage(ctx: Context, request: PageRequest, index: number): Promise<PlannedPage> {
  const size = checkPageSize(request.first, request.maxPageSize);
  const order = orderingOf(request.orderBy);
  const after = request.after ? decodeCursor(request.after, order.tag) : undefined;
  const filter = await scopedFilter(ctx, request.scope, request.filter);
  const where = projectConditions(filter);
  if (after) {
    if (order.column) {
      const cmp = order.desc ? "<" : ">";
      where.clauses.push(`(p.${order.column} ${cmp} ? OR (p.${order.column} = ? AND p.id ${cmp} ?))`);
      where.params.push(after.value, after.value, after.id);
    } else {
      where.clauses.push("p.id > ?");
      where.params.push(after.id);
    }
  }
  const sql = `SELECT ${PROJECT_COLUMNS}, ${index} AS request_index FROM project p${whereSql(where.clauses)} ORDER BY ${order.orderBy("p")} LIMIT ${size + 1}`;
  return { index, size, order, after, sql, params: where.params };
}

interface Ordering {
  tag: string;
  /** The sort column of `project` (unqualified), or null for id order. */
  column: string | null;
  desc: boolean;
  /** The ORDER BY list over a table alias, ending with the id tiebreak. */
  orderBy(alias: string): string;
  valueOf(project: Project): string | number;
}

const ORDER_COLUMNS: Record<ProjectOrderField, { column: string; valueOf(project: Project): string | number }> = {
  [ProjectOrderField.NAME]: { column: "name", valueOf: (p) => p.name },
  [ProjectOrderField.INVESTMENT]: { column: "investment_wan", valueOf: (p) => p.investmentWan },
  [ProjectOrderField.STAGE]: { column: "stage", valueOf: (p) => stageToNumber(p.stage) },
};

function orderingOf(orderBy?: ProjectOrder | null): Ordering {
  if (!orderBy) return { tag: "ID:ASC", column: null, desc: false, orderBy: (t) => `${t}.id ASC`, valueOf: (p) => Number(p.id) };
  const dir = orderBy.direction === OrderDirection.DESC ? "DESC" : "ASC";
  const { column, valueOf } = ORDER_COLUMNS[orderBy.field];
  return { tag: `${orderBy.field}:${dir}`, column, desc: dir === "DESC", orderBy: (t) => `${t}.${column} ${dir}, ${t}.id ${dir}`, valueOf };
}

function toConnection(request: PageRequest, page: PlannedPage, projects: Project[]): ProjectConnection {
  const items = projects.slice(0, page.size);
  const edges = items.map((node) => ({
    node,
    cursor: encodeCursor({ order: page.order.tag, value: page.order.valueOf(node), id: Number(node.id) }),
  }));
  const connection = new ProjectConnection();
  connection.edges = edges;
  connection.nodes = items;
  connection.pageInfo = {
    hasNextPage: projects.length > page.size,
    hasPreviousPage: page.after !== undefined,
    startCursor: edges[0]?.cursor ?? null,
    endCursor: edges[edges.length - 1]?.cursor ?? null,
  };
  connection.totalOf = { scope: request.scope, filter: request.filter };
  return connection;
}
