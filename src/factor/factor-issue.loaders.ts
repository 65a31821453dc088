/**
 * The reads of 要素保障, batched per request: a page of projects' issues in
 * one statement, every region's listing of a request in one statement, and
 * the stats of every region of a request (a whole province-to-county tree)
 * in one statement.
 */
import DataLoader from "dataloader";

import type { Context } from "../common/context";
import { getOrCreate } from "../common/maps";
import { checkPageSize } from "../common/pagination";
import { MAX_UNION_TERMS } from "../db/sql";
import { isMysqlClient } from "./factor-sql";
import {
  daysOpenOf,
  FACTOR_ISSUE_COLUMNS,
  FACTOR_KINDS,
  FactorDepartmentStats,
  FactorIssue,
  type FactorIssueRow,
  FactorIssueStats,
  FactorKind,
  FactorKindStats,
} from "./factor-issue.type";
import { assessmentToday } from "../assessment/assessment.loader";

/**
 * A request's today, read once: the day the assessment's cards are dated (ASSESSMENT_TODAY when set, else the ledger's
 * pinned today in tests, else the UTC date; see `assessmentToday`), so that one setting dates both. An answer that
 * counts days to today moves with the calendar, not only with writes: it is not kept by the response cache.
 */
export function requestToday(ctx: Context): string {
  return ctx.loader(createTodayHolder).today;
}

function createTodayHolder(ctx: Context): { today: string } {
  ctx.request.responseKey = undefined;
  return { today: assessmentToday(ctx) };
}

/** Which issues: open ones (true), answered ones (false), or all (null). */
export type OpenFilter = boolean | null;

function keepsOpen(open: OpenFilter, issue: FactorIssue): boolean {
  return open === null || issue.open === open;
}

/** Longest open first: most days open, then the earlier raised, then by id. */
export function longestOpenFirst(a: FactorIssue, b: FactorIssue): number {
  return b.daysOpen - a.daysOpen || (a.raisedOn < b.raisedOn ? -1 : a.raisedOn > b.raisedOn ? 1 : 0) || Number(a.id) - Number(b.id);
}

/** A project's issues, oldest first; all the projects asked for in one tick by one statement. */
export function createProjectFactorIssuesLoader(ctx: Context): DataLoader<{ projectId: number; open: OpenFilter }, FactorIssue[], string> {
  return new DataLoader(
    async (keys) => {
      const ids = [...new Set(keys.map((k) => k.projectId))];
      const today = requestToday(ctx);
      const rows: FactorIssueRow[] = await ctx.db.query(`SELECT ${FACTOR_ISSUE_COLUMNS} FROM factor_issue f WHERE f.project_id IN (${ids.map(Number).join(", ")}) ORDER BY f.project_id, f.raised_on, f.id`);
      const byProject = new Map<number, FactorIssue[]>();
      for (const row of rows) getOrCreate(byProject, Number(row.project_id), () => []).push(FactorIssue.fromRow(row, today));
      return keys.map((k) => (byProject.get(k.projectId) ?? []).filter((issue) => keepsOpen(k.open, issue)));
    },
    { cacheKeyFn: (k) => `${k.projectId}:${k.open}` },
  );
}

/** One region's listing as a resolver asks for it. */
export interface RegionIssuesRequest {
  regionId: number;
  open: OpenFilter;
  /** Distinct kinds, in FactorKind order; null: every kind. */
  kinds: FactorKind[] | null;
  first: number;
}

/** The arguments of `Region.factorIssues` checked: `first` 1..100 (default 20), kinds without repeats. */
export function regionIssuesRequest(regionId: number, open: boolean | null | undefined, kinds: readonly FactorKind[] | null | undefined, first: number | null | undefined): RegionIssuesRequest {
  const size = checkPageSize(first);
  const wanted = kinds == null ? null : FACTOR_KINDS.filter((k) => kinds.includes(k));
  return { regionId, open: open ?? null, kinds: wanted, first: size };
}

/**
 * Issues of the projects in a region's whole subtree, longest open first
 * (open ones oldest raised first; answered ones by the days they were open).
 * Every listing asked for in one tick is one statement: a UNION ALL of one
 * bounded subquery (ORDER BY … LIMIT first) per listing.
 */
export function createRegionFactorIssuesLoader(ctx: Context): DataLoader<RegionIssuesRequest, FactorIssue[], string> {
  return new DataLoader(
    async (requests) => {
      const [regions, today] = [await ctx.regionTree(), requestToday(ctx)];
      const mysql = isMysqlClient(ctx);
      const days = mysql ? "DATEDIFF(COALESCE(f.resolved_on, ?), f.raised_on)" : "CAST(julianday(COALESCE(f.resolved_on, ?)) - julianday(f.raised_on) AS INTEGER)";
      const params: unknown[] = [];
      const parts = requests.map((r, i) => {
        const clauses = [`p.region_id IN (${regions.subtreeIds(r.regionId).map(Number).join(", ")})`];
        if (r.open === true) clauses.push("f.resolved_on IS NULL");
        if (r.open === false) clauses.push("f.resolved_on IS NOT NULL");
        if (r.kinds) clauses.push(r.kinds.length ? `f.kind IN (${r.kinds.map((k) => `'${k}'`).join(", ")})` : "1 = 0");
        let order = "f.raised_on ASC, f.id ASC";
        if (r.open !== true) {
          order = `${days} DESC, f.raised_on ASC, f.id ASC`;
          params.push(today);
        }
        const sql = `SELECT ${FACTOR_ISSUE_COLUMNS}, ${i} AS request_index FROM factor_issue f JOIN project p ON p.id = f.project_id WHERE ${clauses.join(" AND ")} ORDER BY ${order} LIMIT ${r.first}`;
        return requests.length === 1 ? sql : `SELECT * FROM (${sql}) t${i}`;
      });
      const rows: Array<FactorIssueRow & { request_index: number | string }> = await ctx.db.query(parts.join(" UNION ALL "), params);
      const lists: FactorIssue[][] = requests.map(() => []);
      for (const row of rows) lists[Number(row.request_index)].push(FactorIssue.fromRow(row, today));
      return lists.map((list) => list.sort(longestOpenFirst));
    },
    // SQLite refuses a compound SELECT of more than 500 terms (SQLITE_MAX_COMPOUND_SELECT): a request asking for more
    // listings (aliases of `regions { factorIssues }`) is read by one statement per 500.
    { cacheKeyFn: (r) => JSON.stringify([r.regionId, r.open, r.kinds, r.first]), maxBatchSize: MAX_UNION_TERMS },
  );
}

interface StatsRow {
  dim: number | string;
  region_id: number | string;
  kind: string | null;
  department: string | null;
  issues: number | string;
  projects: number | string;
  earliest: string;
}

/**
 * The stats of open issues in regions' subtrees. One statement for every
 * region asked for in one tick: open issues grouped by the project's own
 * region (a county, or a city without counties) and kind, department, or
 * nothing; each region then sums its subtree's groups. Blocked projects add
 * up across regions because a project sits in one region only.
 * Departments are grouped by their exact text on both databases (MariaDB's
 * case- and accent-blind collation would merge what SQLite keeps apart).
 */
export function createFactorStatsLoader(ctx: Context): DataLoader<number, FactorIssueStats> {
  return new DataLoader(async (regionIds) => {
    const [regions, today] = [await ctx.regionTree(), requestToday(ctx)];
    const wanted = new Set<number>();
    for (const id of regionIds) for (const sub of regions.subtreeIds(id)) wanted.add(sub);
    const department = isMysqlClient(ctx) ? "f.department COLLATE utf8mb4_bin" : "f.department";
    const from = `FROM factor_issue f JOIN project p ON p.id = f.project_id WHERE f.resolved_on IS NULL AND p.region_id IN (${[...wanted].join(", ")})`;
    const measures = "COUNT(*) AS issues, COUNT(DISTINCT f.project_id) AS projects, MIN(f.raised_on) AS earliest";
    const sql = [
      `SELECT 1 AS dim, p.region_id AS region_id, f.kind AS kind, NULL AS department, ${measures} ${from} GROUP BY p.region_id, f.kind`,
      `SELECT 2 AS dim, p.region_id AS region_id, NULL AS kind, ${department} AS department, ${measures} ${from} GROUP BY p.region_id, ${department}`,
      `SELECT 3 AS dim, p.region_id AS region_id, NULL AS kind, NULL AS department, ${measures} ${from} GROUP BY p.region_id`,
    ].join(" UNION ALL ");
    // The groups do not depend on the day (the earliest date raised, not days open): they are kept by the aggregate
    // cache until a write in their provinces, and only the days are counted again, to today.
    const rows = await ctx.groupedRows<StatsRow>(`factorStats|${sql}`, regions.rootsOf(wanted), async (db) => ({ rows: await db.query(sql) }));
    const byRegion = new Map<number, StatsRow[]>();
    for (const row of rows) getOrCreate(byRegion, Number(row.region_id), () => []).push(row);
    return regionIds.map((id) => statsOf(regions.subtreeIds(id).flatMap((sub) => byRegion.get(sub) ?? []), today));
  });
}

interface Sum {
  issues: number;
  projects: number;
  earliest: string | null;
}

function add(sum: Sum, row: StatsRow): void {
  sum.issues += Number(row.issues);
  sum.projects += Number(row.projects);
  const earliest = String(row.earliest).slice(0, 10);
  if (sum.earliest === null || earliest < sum.earliest) sum.earliest = earliest;
}

const empty = (): Sum => ({ issues: 0, projects: 0, earliest: null });

function statsOf(rows: readonly StatsRow[], today: string): FactorIssueStats {
  const total = empty();
  const kinds = new Map<string, Sum>();
  const departments = new Map<string, Sum>();
  for (const row of rows) {
    const dim = Number(row.dim);
    if (dim === 1) add(getOrCreate(kinds, String(row.kind), empty), row);
    else if (dim === 2) add(getOrCreate(departments, String(row.department), empty), row);
    else add(total, row);
  }
  const stats = new FactorIssueStats();
  stats.blockedProjects = total.projects;
  stats.openIssues = total.issues;
  stats.longestOpenDays = total.earliest === null ? null : daysOpenOf(total.earliest, today);
  stats.byKind = FACTOR_KINDS.filter((k) => kinds.has(k)).map((kind) => {
    const sum = kinds.get(kind)!;
    return Object.assign(new FactorKindStats(), { kind, openIssues: sum.issues, blockedProjects: sum.projects, longestOpenDays: daysOpenOf(sum.earliest!, today) });
  });
  stats.byDepartment = [...departments]
    .map(([department, sum]) => Object.assign(new FactorDepartmentStats(), { department, openIssues: sum.issues, blockedProjects: sum.projects, longestOpenDays: daysOpenOf(sum.earliest!, today) }))
    .sort((a, b) => b.openIssues - a.openIssues || b.longestOpenDays - a.longestOpenDays || compareText(a.department, b.department));
  return stats;
}

/** Text in code-point order (the same on every database and machine). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
