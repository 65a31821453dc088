/**
 * One write's transaction, as `Ledger.write` hands it to the work: the
 * statements it sends (round-trips.ts), the rules it checks (rules.ts), and
 * what it adds as it goes to the rollups (rollup-delta.ts), the history
 * (history.ts) and the versions of the regions it touched, all applied at its
 * end (`finish`), after which it reads back the projects its answer shows.
 * The operations live in operations/, each method here hands them the write.
 */
import type { EntityManager } from "typeorm";

import { loadTrees, type Trees } from "../common/trees";
import { isMysql } from "../db/data-source";
import { bumpVersions, type TouchedRegion } from "../db/data-version";
import { placeholders } from "../db/sql";
import type { SqlClient } from "../db/sql-counter";
import { PROJECT_COLUMNS, type ProjectRow } from "../project/project.type";
import type { ChangeEvent } from "../live/change-event";
import type { Actor } from "./actor";
import { appendChanges, ChangeLog, placeOf, type RecordedChange } from "./history";
import type { AdvanceStageInput, CorrectMilestoneDateInput, RecordAtMeetingInput, UpdateProjectInput } from "./ledger.inputs";
import { addMeeting, type MeetingDraft } from "./operations/meetings";
import { advanceStage, correctMilestoneDate, recordAtMeeting } from "./operations/milestones";
import { addProjects, type ProjectDraft, updateProject } from "./operations/projects";
import type { WriteTx } from "./operations/write-tx";
import type { Problems } from "./problems";
import { RollupDelta } from "./rollup-delta";
import { type Statement, Statements, type StatementSettings } from "./round-trips";
import { Rules, type RuleSettings } from "./rules";

/** One write's transaction: the checks, the statements, and what it must add to the rollups, history and versions at the end. */
export class LedgerTx implements WriteTx {
  /** What the write changes in the rollups, applied at the end (add each project's shape before, sign -1, and after, sign 1). */
  readonly delta = new RollupDelta();
  readonly rules: Rules;
  readonly mysql: boolean;
  private readonly statements: Statements;
  private readonly changes: ChangeLog;
  /** Regions whose versions move at the end, each once (an import touches the same few regions thousands of times). */
  private readonly touched = new Map<number, TouchedRegion>();
  /** Projects whose rows the write reads back at its end. */
  private readonly written = new Set<number>();
  /** True when the write rebuilt the rollups from the base tables (a first bulk load) instead of summing `delta`. */
  rebuiltRollups = false;
  /** The `data_version` counters the write moved, as [region id, province, value after], read by `readBack` under their row locks. */
  versionsAfter: Array<[number, number, number]> = [];

  constructor(
    em: EntityManager,
    actor: Actor,
    private current: Trees,
    settings: RuleSettings & StatementSettings,
    /** Whether statements are batched into round trips (MySQL, on a connection of its own) or run one by one in an open transaction. */
    batched: boolean,
  ) {
    this.mysql = isMysql(em);
    this.statements = new Statements(em, settings, batched);
    this.rules = new Rules(actor, settings, () => this.current);
    this.changes = new ChangeLog(actor, () => this.current.regions);
  }

  get trees(): Trees {
    return this.current;
  }

  /** True once START TRANSACTION has been sent (batched writes). */
  get began(): boolean {
    return this.statements.began;
  }

  /** Reads the trees again inside the transaction, after the seed changed them. */
  async refreshTrees(): Promise<void> {
    this.current = await loadTrees({ query: (sql: string, params?: unknown[]) => this.query(sql, params ?? []) } as SqlClient);
  }

  /** The transaction's manager, for the seed's writes of the trees and the bulk load's rebuild: what is batched is sent first. */
  direct(): Promise<EntityManager> {
    return this.statements.direct();
  }

  /** Changes recorded and not yet appended. */
  get changeCount(): number {
    return this.changes.count;
  }

  // ---- statements (round-trips.ts) ----

  query<T = unknown>(sql: string, params: unknown[] = []): Promise<T> {
    return this.statements.query<T>(sql, params);
  }

  queries(statements: readonly Statement[]): Promise<unknown[]> {
    return this.statements.queries(statements);
  }

  queue(sql: string, params: unknown[] = []): Promise<void> {
    return this.statements.queue(sql, params);
  }

  /** A read inside the write's transaction (e.g. which ledger references exist already). */
  read<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.query<T[]>(sql, params);
  }

  // ---- what the write adds as it goes ----

  /** The rules' checks of a project's place and date, for an input whose other fields are wrong (see `Rules.checkPlace`). */
  checkPlace(problems: Problems, path: string, fields: { regionCode: string | null; sectorCode: string | null; reachedOn: string | null }): void {
    this.rules.checkPlace(problems, path, fields);
  }

  /** Marks a region (and a meeting host in another province) as changed by this write: their versions move at the end. */
  touch(regionId: number, meetingHostIds: Iterable<number> = []): void {
    const { provinceId } = placeOf(this.current.regions, regionId);
    this.touched.set(regionId, { regionId, provinceId });
    for (const host of meetingHostIds) {
      const hostProvince = placeOf(this.current.regions, host).provinceId;
      if (hostProvince !== provinceId) this.touched.set(host, { regionId: host, provinceId: hostProvince });
    }
  }

  /** Adds a change to the history this write appends at the end. */
  record(change: RecordedChange): void {
    this.changes.record(change);
  }

  /** Appends the changes recorded so far now rather than at the end, with `append` (the bulk path's, as it goes). */
  async appendRecorded(append: typeof appendChanges = appendChanges): Promise<void> {
    await this.changes.append((sql, params) => this.query(sql, params), append);
  }

  /** Marks a project whose row the write's answer will show (single-project writes). */
  answerWith(projectId: number): void {
    this.written.add(projectId);
  }

  // ---- the end ----

  /** Applies what the write adds to the rollups, the history and the versions; returns the provinces it moved. */
  async finish(): Promise<number[]> {
    const queue = (sql: string, params?: unknown[]) => this.queue(sql, params ?? []);
    await this.delta.apply(queue, this.mysql);
    await this.changes.append(queue);
    await bumpVersions({ query: queue }, [...this.touched.values()], this.mysql);
    return [...new Set([...this.touched.values()].map((t) => t.provinceId))];
  }

  /**
   * Sends what is still batched, reading back the rows of the projects the
   * write changed (as the project loader reads them) and then `last` (the
   * COMMIT) in the same round trip.
   */
  async readBack(last?: string): Promise<ProjectRow[]> {
    const ids = [...this.written];
    const touched = [...this.touched.keys()];
    // The counters this write moved, under the row locks its upsert took: exactly the values it committed.
    const versions = touched.length ? [{ sql: `SELECT id, province_id, version FROM data_version WHERE id IN (${placeholders(touched.length)})`, params: touched as unknown[] }] : [];
    const read = ids.length ? [{ sql: `SELECT ${PROJECT_COLUMNS} FROM project p WHERE p.id IN (${placeholders(ids.length)})`, params: ids as unknown[] }] : [];
    // Batched (MySQL): one round trip ending with `last`; otherwise one statement after another in the open transaction.
    const answers = last ? await this.statements.send([...versions, ...read, { sql: last, params: [] }]) : await this.statements.queries([...versions, ...read]);
    const first = answers.length - read.length - versions.length - (last ? 1 : 0);
    if (versions.length) {
      const rows = answers[first] as Array<{ id: number | string; province_id: number | string; version: number | string }>;
      this.versionsAfter = rows.map((r) => [Number(r.id), Number(r.province_id), Number(r.version)]);
    }
    return read.length ? (answers[first + versions.length] as ProjectRow[]) : [];
  }

  /** What the write changed, for the change bus (src/live/change-event.ts); call after `readBack`. */
  published(provinces: number[]): Omit<ChangeEvent, "origin" | "seq" | "committedAt"> {
    const { deltas, regions, meetings } = this.delta.published();
    return { provinces, regions, meetings, versions: this.versionsAfter, deltas: this.rebuiltRollups ? null : deltas };
  }

  // ---- operations (operations/) ----

  /** Checks and inserts projects with their milestones; `paths` names each draft for its problems (a string: one draft). */
  addProjects(drafts: readonly ProjectDraft[], paths: readonly string[] | string, problems: Problems, options: { single: boolean }): Promise<number[]> {
    return addProjects(this, drafts, paths, problems, options);
  }

  updateProject(id: string, expectedVersion: number, input: UpdateProjectInput, problems: Problems): Promise<number> {
    return updateProject(this, id, expectedVersion, input, problems);
  }

  advanceStage(input: AdvanceStageInput, problems: Problems): Promise<number> {
    return advanceStage(this, input, problems);
  }

  recordAtMeeting(input: RecordAtMeetingInput, problems: Problems): Promise<number> {
    return recordAtMeeting(this, input, problems);
  }

  correctMilestoneDate(input: CorrectMilestoneDateInput, problems: Problems): Promise<number> {
    return correctMilestoneDate(this, input, problems);
  }

  /** Checks and inserts a meeting and its venues; a duplicate (title, date, host) is CONFLICT or, for the seed, returned. */
  addMeeting(draft: MeetingDraft, path: string, problems: Problems, options: { duplicate: "conflict" | "return" }): Promise<number> {
    return addMeeting(this, draft, path, problems, options);
  }
}
