/**
 * A resolved filter as SQL conditions on `project` rows (and on the rollup
 * tables, which share its stage, sector and region columns). The same SQL runs
 * on MySQL and SQLite.
 */
import { placeholders } from "../db/sql";

import type { MilestoneCondition, ResolvedFilter } from "./resolved-filter";

/** SQL conditions (to be joined with AND) and their parameters, in order. */
export interface SqlConditions {
  clauses: string[];
  params: unknown[];
}

/** `col IN (?, ?, …)` for a non-empty list; an empty list matches nothing. */
export function inList(column: string, values: readonly unknown[], out: SqlConditions): void {
  if (values.length === 0) {
    out.clauses.push("1 = 0");
    return;
  }
  out.clauses.push(`${column} IN (${placeholders(values.length)})`);
  out.params.push(...values);
}

/** Conditions on `project` rows aliased `p` for a resolved filter; the same SQL runs on MySQL and SQLite. */
export function projectConditions(filter: ResolvedFilter, p = "p"): SqlConditions {
  const out: SqlConditions = { clauses: [], params: [] };
  if (filter.stages) inList(`${p}.stage`, filter.stages, out);
  if (filter.sectorIds) inList(`${p}.sector_id`, filter.sectorIds, out);
  if (filter.regionIds) inList(`${p}.region_id`, filter.regionIds, out);
  if (filter.meetingId !== undefined) {
    out.clauses.push(`EXISTS (SELECT 1 FROM milestone fm WHERE fm.project_id = ${p}.id AND fm.meeting_id = ?)`);
    out.params.push(filter.meetingId);
  }
  filter.milestones.forEach((condition, i) => milestoneExists(condition, `fm${i}`, p, out));
  if (filter.minWan !== undefined) {
    out.clauses.push(`${p}.investment_wan >= ?`);
    out.params.push(filter.minWan);
  }
  if (filter.maxWan !== undefined) {
    out.clauses.push(`${p}.investment_wan <= ?`);
    out.params.push(filter.maxWan);
  }
  if (filter.nameContains !== undefined) {
    out.clauses.push(`${p}.name LIKE ? ESCAPE '!'`);
    out.params.push(`%${filter.nameContains.replace(/[!%_]/g, (c) => `!${c}`)}%`);
  }
  return out;
}

/** Stage, sector and region conditions only (the columns every rollup table shares with `project`). */
export function dimensionConditions(filter: ResolvedFilter, alias: string): SqlConditions {
  return projectConditions({ stages: filter.stages, sectorIds: filter.sectorIds, regionIds: filter.regionIds, milestones: [] }, alias);
}

function milestoneExists(c: MilestoneCondition, m: string, p: string, out: SqlConditions): void {
  const parts = [`${m}.project_id = ${p}.id`, `${m}.stage = ?`];
  out.params.push(c.stage);
  if (c.meetingId !== undefined) {
    parts.push(`${m}.meeting_id = ?`);
    out.params.push(c.meetingId);
  }
  if (c.venueRegionId !== undefined) {
    parts.push(`${m}.venue_region_id = ?`);
    out.params.push(c.venueRegionId);
  }
  if (c.from !== undefined) {
    parts.push(`${m}.reached_on >= ?`);
    out.params.push(c.from);
  }
  if (c.to !== undefined) {
    parts.push(`${m}.reached_on <= ?`);
    out.params.push(c.to);
  }
  out.clauses.push(`EXISTS (SELECT 1 FROM milestone ${m} WHERE ${parts.join(" AND ")})`);
}

/** `WHERE …` for a list of clauses, or nothing. */
export function whereSql(clauses: readonly string[]): string {
  return clauses.length ? ` WHERE ${clauses.join(" AND ")}` : "";
}
