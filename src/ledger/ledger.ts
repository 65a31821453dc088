/**
 * The ledger: the one write path. Every change to projects, milestones and
 * meetings — the mutations, the CSV import, the seed, the benchmark generator,
 * the tests' helpers — goes through `Ledger`, which in one transaction checks
 * the change against the domain rules, applies it, updates the rollup groups
 * it touches (and only those), appends the history and moves the versions of
 * the regions it touched. Nothing else writes these tables.
 */
import type { DataSource, EntityManager } from "typeorm";

import { AppError, ErrorCode, invariant } from "../common/errors";
import { isIsoDate } from "../common/date.scalar";
import { parseId } from "../common/ids";
import { ProjectStage, stageFromNumber, stageToNumber } from "../common/stage";
import { isMysql } from "../db/data-source";
import { bumpVersions, type TouchedRegion } from "../db/data-version";
import { exclusiveAccess } from "../db/sqlite-lock";
import { insertRows, placeholders } from "../db/sql";
import type { Region, RegionTree } from "../region/region.type";
import { PROJECT_COLUMNS, type ProjectRow } from "../project/project.type";
import type { SqlClient } from "../db/sql-counter";
import { loadTrees, type Trees } from "../common/trees";
import type { Actor } from "./actor";
import { type ChangeRecord, type FieldChange, appendChanges, fieldChange, formatWan } from "./history";
import {
  AdvanceStageInput,
  checkFields,
  CorrectMilestoneDateInput,
  characterProblem,
  MAX_TEXT,
  textLength,
  CreateMeetingInput,
  CreateProjectInput,
  RecordAtMeetingInput,
  UpdateProjectInput,
} from "./ledger.inputs";
import { Problems } from "./problems";
import { RollupDelta, type RollupShape } from "./rollup-delta";
import { getOrCreate } from "../common/maps";
import { refKeyColumn } from "./ref-key";

/** Investment a major-project meeting's STARTED batch requires, in 万元 (5 亿元). */
export const MAJOR_STARTED_MIN_WAN = 50_000;
/** Earliest date the ledger accepts. */
export const EARLIEST_DATE = "1949-01-01";
/** Attempts of a transaction the database chose as a deadlock victim or timed out on a lock. */
const ATTEMPTS = 4;

/** How the ledger behaves. */
export interface LedgerSettings {
  /** How far ahead of today a date may lie, in days (LEDGER_FUTURE_DAYS). */
  futureDays: number;
  /** Today, for the date rule (tests pin it). */
  today?: () => string;
  /**
   * Called before each statement of a write with its position; a test breaks
   * a write half-way by throwing from it, or by returning other SQL to send
   * in its place (which the database refuses, after it ran those before it).
   */
  onStatement?: (sql: string, index: number) => string | void;
  /** Largest SQL text one round trip of a MySQL write carries, in bytes (default MAX_ROUND_TRIP_BYTES; tests make it small). */
  maxRoundTripBytes?: number;
}

/**
 * Largest SQL text (with its values) one round trip of a MySQL write carries:
 * a large write (a 100,000-row ledger file is ~40 MB of SQL) goes in as many
 * round trips as it needs, each well under the server's max_allowed_packet
 * (16 MiB by default on MariaDB, 4 MiB on MySQL 5.7, 64 MiB on 8.0), which
 * would otherwise refuse the packet and drop the connection.
 */
export const MAX_ROUND_TRIP_BYTES = 1024 * 1024;

/** What a write did, for the caller's caches: the provinces whose versions moved. */
export interface Written<T> {
  value: T;
  provinces: number[];
  /** The projects the write changed as they were at its end (`LedgerTx.readBack`), for the answer: none for bulk writes. */
  projects?: ProjectRow[];
}

/** A project to add with all its milestones (the seed, the import, the benchmark generator). */
export interface ProjectDraft {
  ref?: string | null;
  name: string;
  regionCode: string;
  sectorCode: string;
  /** 万元, exact. */
  investmentWan: number;
  investor?: string | null;
  synthetic?: boolean;
  /** In stage order; the last is the current stage. */
  milestones: ReadonlyArray<{ stage: ProjectStage; reachedOn: string; meetingId?: number | null; venueRegionCode?: string | null }>;
}

/** A meeting to add (the seed). */
export interface MeetingDraft {
  title: string;
  heldOn: string;
  hostRegionCode: string;
  subVenueRegionCodes: readonly string[];
  majorProjects: boolean;
}

/** A refusal for lack of scope: the actor's token does not cover what the write touches. */
export class ForbiddenError extends AppError {
  constructor(message: string, field: string) {
    super(ErrorCode.FORBIDDEN, message, { field });
  }
}

/** A write naming an older version than the stored one. */
export class ConflictError extends AppError {
  constructor(projectId: number, currentVersion: number, expectedVersion: number) {
    super(ErrorCode.CONFLICT, `project ${projectId} is at version ${currentVersion}, not ${expectedVersion}: read it again and retry`, {
      projectId: String(projectId),
      currentVersion,
      expectedVersion,
    });
  }
}

interface StoredProject {
  id: number;
  regionId: number;
  sectorId: number;
  stage: number;
  stageReachedOn: string;
  investmentWan: number;
  name: string;
  investor: string | null;
  version: number;
  milestones: Array<{ id: number; stage: number; reachedOn: string; meetingId: number | null; venueRegionId: number | null }>;
}

/** What the rules need of a meeting: its host, whether it is a major-project meeting, and the regions of its venues. */
export interface MeetingFacts {
  id: number;
  hostRegionId: number;
  majorProjects: boolean;
  venues: Set<number>;
}

/** The facts of the meetings `ids` (those that exist), 500 a statement. */
export async function readMeetingFacts(db: { query<T>(sql: string, params?: unknown[]): Promise<T> }, ids: Iterable<number>): Promise<Map<number, MeetingFacts>> {
  const list = [...new Set(ids)];
  const facts = new Map<number, MeetingFacts>();
  for (let i = 0; i < list.length; i += 500) {
    const chunk = list.slice(i, i + 500);
    const rows: Array<{ id: number; host_region_id: number; major_projects: number | boolean; region_id: number | null }> = await db.query(
      `SELECT m.id, m.host_region_id, m.major_projects, v.region_id FROM meeting m LEFT JOIN venue v ON v.meeting_id = m.id WHERE m.id IN (${placeholders(chunk.length)})`,
      chunk,
    );
    for (const row of rows) {
      const id = Number(row.id);
      const meeting = getOrCreate(facts, id, () => ({ id, hostRegionId: Number(row.host_region_id), majorProjects: Boolean(Number(row.major_projects)), venues: new Set<number>() }));
      if (row.region_id !== null) meeting.venues.add(Number(row.region_id));
    }
  }
  return facts;
}

export class Ledger {
  constructor(
    readonly db: DataSource,
    readonly settings: LedgerSettings,
    private readonly trees: () => Promise<Trees>,
  ) {}

  /** Adds one project with its first milestone; returns its id. */
  async createProject(actor: Actor, raw: Partial<CreateProjectInput>): Promise<Written<number>> {
    const problems = new Problems();
    const input = checkFields(CreateProjectInput, raw, "input", problems);
    const draft: ProjectDraft = {
      ref: input.ref ?? null,
      name: typeof input.name === "string" ? input.name.trim() : input.name,
      regionCode: input.regionCode,
      sectorCode: input.sectorCode,
      investmentWan: Math.round(Number(input.investment) * 10_000),
      investor: input.investor?.trim() ?? null,
      milestones: [{ stage: input.stage ?? ProjectStage.SIGNED, reachedOn: input.reachedOn, meetingId: parseId(input.meetingId), venueRegionCode: input.venueRegionCode ?? null }],
    };
    const written = await this.write(actor, (tx) => tx.addProjects([draft], "input", problems, { single: true }));
    return { value: written.value[0], provinces: written.provinces };
  }

  /**
   * Adds many projects with all their milestones in one transaction, every
   * one checked by the same rules; all go in or none. Each draft's problems
   * are reported under `paths[i]` (default "projects[i]").
   */
  async addProjects(actor: Actor, drafts: readonly ProjectDraft[], paths?: readonly string[]): Promise<Written<number[]>> {
    return this.write(actor, (tx) => tx.addProjects(drafts, paths ?? drafts.map((_, i) => `projects[${i}]`), new Problems(), { single: false }));
  }

  /** Changes a project's own fields (name, sector, investment, investor, region) at `expectedVersion`. */
  async updateProject(actor: Actor, id: string, expectedVersion: number, raw: Partial<UpdateProjectInput>): Promise<Written<number>> {
    const problems = new Problems();
    const input = checkFields(UpdateProjectInput, raw, "input", problems);
    return this.write(actor, (tx) => tx.updateProject(id, expectedVersion, input, problems));
  }

  /** Moves a project to a later stage at `expectedVersion`. */
  async advanceStage(actor: Actor, raw: Partial<AdvanceStageInput>): Promise<Written<number>> {
    const problems = new Problems();
    const input = checkFields(AdvanceStageInput, raw, "input", problems);
    return this.write(actor, (tx) => tx.advanceStage(input, problems));
  }

  /** Presents a milestone already reached at a meeting venue. */
  async recordAtMeeting(actor: Actor, raw: Partial<RecordAtMeetingInput>): Promise<Written<number>> {
    const problems = new Problems();
    const input = checkFields(RecordAtMeetingInput, raw, "input", problems);
    return this.write(actor, (tx) => tx.recordAtMeeting(input, problems));
  }

  /** Corrects a milestone's date, with the reason in the history. */
  async correctMilestoneDate(actor: Actor, raw: Partial<CorrectMilestoneDateInput>): Promise<Written<number>> {
    const problems = new Problems();
    const input = checkFields(CorrectMilestoneDateInput, raw, "input", problems);
    return this.write(actor, (tx) => tx.correctMilestoneDate(input, problems));
  }

  /** Adds a meeting with its main venue and sub-venues; returns its id. */
  async createMeeting(actor: Actor, raw: Partial<CreateMeetingInput>): Promise<Written<number>> {
    const problems = new Problems();
    const input = checkFields(CreateMeetingInput, raw, "input", problems);
    const draft: MeetingDraft = {
      title: typeof input.title === "string" ? input.title.trim() : input.title,
      heldOn: input.heldOn,
      hostRegionCode: input.hostRegionCode,
      subVenueRegionCodes: input.subVenueRegionCodes ?? [],
      majorProjects: input.majorProjects ?? false,
    };
    return this.write(actor, (tx) => tx.addMeeting(draft, "input", problems, { duplicate: "conflict" }));
  }

  /** Adds a meeting unless one of that title, date and host exists (the seed); returns its id either way. */
  async ensureMeeting(actor: Actor, draft: MeetingDraft): Promise<Written<{ id: number; created: boolean }>> {
    return this.write(actor, async (tx) => {
      const before = tx.changeCount;
      const id = await tx.addMeeting(draft, "meeting", new Problems(), { duplicate: "return" });
      return { id, created: tx.changeCount > before };
    });
  }

  /** Runs `work` on a fresh transaction, retrying a deadlock or lock timeout; commits with the rollups, history and versions. */
  async write<T>(actor: Actor, work: (tx: LedgerTx) => Promise<T>): Promise<Written<T>> {
    const trees = await this.trees();
    for (let attempt = 1; ; attempt++) {
      try {
        return isMysql(this.db) ? await this.writeBatched(actor, trees, work) : await this.writeInOrder(actor, trees, work);
      } catch (error) {
        if (!isLockContention(error) && !isDuplicateRef(error)) throw error;
        if (attempt >= ATTEMPTS) {
          if (isDuplicateRef(error)) throw new AppError(ErrorCode.CONFLICT, `another write was adding the same ledger reference at the same time (${attempt} attempts): read the project again`, { retryable: true });
          throw new AppError(ErrorCode.CONFLICT, `the ledger was busy with other writes to the same projects (${attempt} attempts): retry`, { retryable: true });
        }
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * attempt));
      }
    }
  }

  /** SQLite: one statement after another in TypeORM's transaction, under the read-write lock. */
  private writeInOrder<T>(actor: Actor, trees: Trees, work: (tx: LedgerTx) => Promise<T>): Promise<Written<T>> {
    return exclusiveAccess(this.db, () =>
      this.db.transaction(async (em) => {
        const tx = new LedgerTx(em, actor, trees, this.settings, false);
        const value = await work(tx);
        const provinces = await tx.finish();
        return { value, provinces, projects: await tx.readBack() };
      }),
    );
  }

  /**
   * MySQL: the transaction on its own connection, its statements batched (see
   * `LedgerTx.queue`): START TRANSACTION goes with the first statement whose
   * answer the write needs, and the statements whose answers it does not need
   * go with the next one that does, or with the COMMIT. An ordinary write is
   * two round trips to the database instead of a dozen, which matters when
   * the server is busy with reads (each round trip waits its turn on the
   * event loop).
   */
  private async writeBatched<T>(actor: Actor, trees: Trees, work: (tx: LedgerTx) => Promise<T>): Promise<Written<T>> {
    const runner = this.db.createQueryRunner("master");
    let tx: LedgerTx | undefined;
    try {
      tx = new LedgerTx(runner.manager, actor, trees, this.settings, true);
      const value = await work(tx);
      const provinces = await tx.finish();
      const projects = await tx.readBack("COMMIT");
      return { value, provinces, projects };
    } catch (error) {
      // A failed statement ends its batch; the transaction, if it began, is still open until this.
      if (tx?.began) await runner.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }
}

/** A deadlock, a lock wait timeout (MySQL) or a busy database (SQLite, another process writing): worth another attempt. */
function isLockContention(error: unknown): boolean {
  const driver = (error as { driverError?: { errno?: number; code?: string } })?.driverError;
  return driver?.errno === 1213 || driver?.errno === 1205 || driver?.code === "SQLITE_BUSY";
}

export { refKey } from "./ref-key";

/**
 * A reference inserted twice at once: the unique index of `project.ref_key`
 * refused the second (the first writer's check ran before the second
 * committed). The write is run again, and its own check then says which
 * project holds the reference.
 */
function isDuplicateRef(error: unknown): boolean {
  const driver = (error as { driverError?: { errno?: number; code?: string; message?: string } })?.driverError;
  const message = String(driver?.message ?? (error as Error)?.message ?? "");
  return (driver?.errno === 1062 || driver?.code === "SQLITE_CONSTRAINT_UNIQUE") && /ref_key/.test(message);
}

/**
 * Statements in order, cut into round trips of at most `maxBytes` of SQL text
 * and values (estimated from above: a string value at most doubles when
 * escaped); a statement larger than that alone goes alone.
 */
export function roundTrips<S extends { sql: string; params: readonly unknown[] }>(statements: readonly S[], maxBytes: number): S[][] {
  const trips: S[][] = [];
  let trip: S[] = [];
  let bytes = 0;
  for (const statement of statements) {
    const size = estimatedBytes(statement);
    if (trip.length > 0 && bytes + size > maxBytes) {
      trips.push(trip);
      trip = [];
      bytes = 0;
    }
    trip.push(statement);
    bytes += size;
  }
  if (trip.length > 0) trips.push(trip);
  return trips;
}

function estimatedBytes(statement: { sql: string; params: readonly unknown[] }): number {
  let bytes = Buffer.byteLength(statement.sql) + 2;
  for (const value of statement.params) bytes += typeof value === "string" ? 2 * Buffer.byteLength(value) + 2 : 32;
  return bytes;
}

function insertedId(result: unknown): number {
  if (result && typeof result === "object" && "insertId" in result) return Number((result as { insertId: number }).insertId);
  return Number(result);
}

/** One write's transaction: the checks, the statements, and what it must add to the rollups, history and versions at the end. */
export class LedgerTx {
  /** What the write changes in the rollups, applied at the end (add each project's shape before, sign -1, and after, sign 1). */
  readonly delta = new RollupDelta();
  private readonly changes: ChangeRecord[] = [];
  /** Regions whose versions move at the end, each once (an import touches the same few regions thousands of times). */
  private readonly touched = new Map<number, TouchedRegion>();
  private statements = 0;
  readonly mysql: boolean;
  private readonly now = new Date().toISOString();
  /** Statements waiting to go with the next round trip (batched writes only); START TRANSACTION first. */
  private readonly pending: Array<{ sql: string; params: unknown[] }>;
  /** Projects whose rows the write reads back at its end. */
  private readonly written = new Set<number>();
  /** True once START TRANSACTION has been sent (batched writes). */
  began = false;

  constructor(
    private readonly em: EntityManager,
    private readonly actor: Actor,
    private trees: Trees,
    private readonly settings: LedgerSettings,
    /** Whether statements are batched into round trips (MySQL, on a connection of its own) or run one by one in an open transaction. */
    private readonly batched: boolean,
  ) {
    this.mysql = isMysql(em);
    this.pending = batched ? [{ sql: "START TRANSACTION", params: [] }] : [];
  }

  /** Reads the trees again inside the transaction, after the seed changed them. */
  async refreshTrees(): Promise<void> {
    this.trees = await loadTrees({ query: (sql: string, params?: unknown[]) => this.query(sql, params ?? []) } as SqlClient);
  }

  /** The transaction's manager, for the seed's writes of the trees and the bulk load's rebuild: what is batched is sent first. */
  async direct(): Promise<EntityManager> {
    await this.send([]);
    return this.em;
  }

  get changeCount(): number {
    return this.changes.length;
  }

  private get regions(): RegionTree {
    return this.trees.regions;
  }

  /** A statement whose answer the write needs: sent now, with whatever is batched before it. (The test hook `onStatement` sees every statement.) */
  async query<T = unknown>(sql: string, params: unknown[] = []): Promise<T> {
    const [answer] = await this.queries([{ sql, params }]);
    return answer as T;
  }

  /** Several statements whose answers the write needs, sent together (with whatever is batched before them); their answers in order. */
  async queries(statements: ReadonlyArray<{ sql: string; params: unknown[] }>): Promise<unknown[]> {
    const hooked = statements.map(({ sql, params }) => ({ sql: this.settings.onStatement?.(sql, this.statements++) ?? sql, params }));
    if (!this.batched) {
      const answers: unknown[] = [];
      for (const { sql, params } of hooked) answers.push(await this.em.query(sql, params));
      return answers;
    }
    const answers = await this.send(hooked);
    return answers.slice(answers.length - hooked.length);
  }

  /**
   * A statement whose answer the write does not need (an INSERT, UPDATE or
   * DELETE by key): batched, it goes with the next `query` or the COMMIT, in
   * order; otherwise it runs now. Either way a failure fails the write.
   */
  async queue(statement: string, params: unknown[] = []): Promise<void> {
    const sql = this.settings.onStatement?.(statement, this.statements++) ?? statement;
    if (this.batched) this.pending.push({ sql, params });
    else await this.em.query(sql, params);
  }

  /** Sends what is batched followed by `more`, in order, as few multi-statement round trips as the size bound allows; returns the answer of each. */
  private async send(more: Array<{ sql: string; params: unknown[] }>): Promise<unknown[]> {
    const all = [...this.pending.splice(0), ...more];
    if (all.length === 0) return [];
    if (all[0].sql === "START TRANSACTION") this.began = true;
    const answers: unknown[] = [];
    for (const trip of roundTrips(all, this.settings.maxRoundTripBytes ?? MAX_ROUND_TRIP_BYTES)) {
      const raw = await this.em.query(trip.map((s) => s.sql).join(";\n"), trip.flatMap((s) => s.params));
      if (trip.length === 1) answers.push(raw);
      else answers.push(...(raw as unknown[]));
    }
    return answers;
  }

  /** A read inside the write's transaction (e.g. which ledger references exist already). */
  read<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.query<T[]>(sql, params);
  }

  /** Applies what the write adds to the rollups, the history and the versions; returns the provinces it moved. */
  async finish(): Promise<number[]> {
    const queue = (sql: string, params?: unknown[]) => this.queue(sql, params ?? []);
    await this.delta.apply(queue, this.mysql);
    await appendChanges(queue, this.changes, this.now);
    await bumpVersions({ query: queue }, [...this.touched.values()], this.mysql);
    return [...new Set([...this.touched.values()].map((t) => t.provinceId))];
  }

  /** Marks a project whose row the write's answer will show (single-project writes). */
  private answerWith(projectId: number): void {
    this.written.add(projectId);
  }

  /**
   * Sends what is still batched, reading back the rows of the projects the
   * write changed (as the project loader reads them) and then `last` (the
   * COMMIT) in the same round trip.
   */
  async readBack(last?: string): Promise<ProjectRow[]> {
    const ids = [...this.written];
    const read = ids.length ? [{ sql: `SELECT ${PROJECT_COLUMNS} FROM project p WHERE p.id IN (${placeholders(ids.length)})`, params: ids as unknown[] }] : [];
    const answers = await this.send([...read, ...(last ? [{ sql: last, params: [] }] : [])]);
    return read.length ? (answers[answers.length - read.length - (last ? 1 : 0)] as ProjectRow[]) : [];
  }

  // ---- checks shared by every operation ----

  private inScope(regionId: number): boolean {
    const scope = this.actor.scopeRegionId;
    return scope === null || this.regions.lineageOf(regionId).some((node) => node.id === scope);
  }

  private scopeName(): string {
    const scope = this.actor.scopeRegionId === null ? undefined : this.regions.byId(this.actor.scopeRegionId);
    return scope ? `${scope.name} (${scope.code})` : "everywhere";
  }

  private checkDate(problems: Problems, field: string, value: string): void {
    if (typeof value !== "string" || !isIsoDate(value)) return problems.add(field, `must be a calendar date written YYYY-MM-DD (got ${JSON.stringify(value)})`);
    if (value < EARLIEST_DATE) return problems.add(field, `must not be before ${EARLIEST_DATE} (got ${value})`);
    const today = this.settings.today?.() ?? new Date().toISOString().slice(0, 10);
    const latest = new Date(Date.parse(`${today}T00:00:00Z`) + this.settings.futureDays * 86_400_000).toISOString().slice(0, 10);
    if (value > latest) problems.add(field, `must not be after ${latest} (${this.settings.futureDays} days from today, LEDGER_FUTURE_DAYS; got ${value})`);
  }

  /**
   * The ledger's own checks of a project's place and date (the region exists
   * and may hold projects, the sector exists, the date is in range), for an
   * input whose other fields are wrong, so that all its problems are told at
   * once: problems only, nothing written. A null field is not checked.
   */
  checkPlace(problems: Problems, path: string, fields: { regionCode: string | null; sectorCode: string | null; reachedOn: string | null }): void {
    if (fields.regionCode !== null) this.projectRegion(problems, `${path}.regionCode`, fields.regionCode);
    if (fields.sectorCode !== null) this.sectorId(problems, `${path}.sectorCode`, fields.sectorCode);
    if (fields.reachedOn !== null) this.checkDate(problems, `${path}.reachedOn`, fields.reachedOn);
  }

  /** A region a project may sit in: a county, or a city without counties. */
  private projectRegion(problems: Problems, field: string, code: string | null | undefined): Region | undefined {
    if (typeof code !== "string" || !/^\d{6}$/.test(code)) return undefined; // the field rules said why
    const region = this.regions.byCode(code);
    if (!region) {
      problems.add(field, `no region "${code}"`);
      return undefined;
    }
    if (this.regions.children(region.id).length > 0) {
      problems.add(field, `${region.name} (${code}) has regions below it: a project sits in a county, or in a city that has no counties`);
      return undefined;
    }
    return region;
  }

  private sectorId(problems: Problems, field: string, code: string | null | undefined): number | undefined {
    if (typeof code !== "string") return void problems.add(field, "must be a sector code");
    const sector = this.trees.sectors.byCode(code);
    if (!sector) problems.add(field, `no sector "${code.slice(0, 64)}"`);
    return sector?.id;
  }

  private forbidRegion(region: Region, field: string, what: string): void {
    if (!this.inScope(region.id)) throw new ForbiddenError(`${this.actor.office} may write in ${this.scopeName()} only, not ${what} ${region.name} (${region.code})`, field);
  }

  private meetings(ids: Iterable<number>): Promise<Map<number, MeetingFacts>> {
    return readMeetingFacts(this, ids);
  }


  /**
   * Where a milestone is presented: the meeting and venue (checked to exist,
   * to be the host or a sub-venue, within the actor's scope), and the
   * major-meeting rule for its STARTED batch (a problem of `majorField`, the
   * input field the client would change). Problems go to `problems`; scope
   * is FORBIDDEN.
   */
  private placement(
    problems: Problems,
    path: string,
    at: { meetingId: number | null; venueRegionCode: string | null; stage: number; investmentWan: number },
    meetings: Map<number, MeetingFacts>,
    majorField: string,
  ): { meetingId: number | null; venueRegionId: number | null; check: () => void } {
    const none = { meetingId: null, venueRegionId: null, check: () => undefined };
    if (at.meetingId === null) {
      if (at.venueRegionCode) problems.add(`${path}.venueRegionCode`, "a venue needs a meeting: give meetingId too");
      return none;
    }
    const meeting = meetings.get(at.meetingId);
    if (!meeting) {
      problems.add(`${path}.meetingId`, `no meeting "${at.meetingId}"`);
      return none;
    }
    let venue: Region | undefined;
    if (at.venueRegionCode) {
      venue = this.regions.byCode(at.venueRegionCode);
      if (!venue) problems.add(`${path}.venueRegionCode`, `no region "${at.venueRegionCode}"`);
      else if (!meeting.venues.has(venue.id)) problems.add(`${path}.venueRegionCode`, `${venue.name} (${venue.code}) holds no venue of meeting ${meeting.id}`);
    }
    if (meeting.majorProjects && at.stage === stageToNumber(ProjectStage.STARTED) && at.investmentWan < MAJOR_STARTED_MIN_WAN) {
      problems.add(
        `${path}.${majorField}`,
        `meeting ${meeting.id} is a major-project meeting: its STARTED batch takes only projects of at least 5 亿元 (this one: ${formatWan(at.investmentWan)} 亿元)`,
      );
    }
    const host = this.regions.byId(meeting.hostRegionId)!;
    const check = () => {
      // A venue outside the token's scope is open only to the host's own office (whose scope then holds every venue).
      const where = venue ?? host;
      if (!this.inScope(where.id) && !this.inScope(host.id)) {
        throw new ForbiddenError(`${this.actor.office} may write in ${this.scopeName()} only, not at the venue in ${where.name} (${where.code}) of meeting ${meeting.id}`, `${path}.venueRegionCode`);
      }
    };
    return { meetingId: meeting.id, venueRegionId: venue?.id ?? null, check };
  }

  /** The province and city of a region, for the history and the versions. */
  private placeOf(regionId: number): { provinceId: number; cityId: number | null } {
    const lineage = this.regions.lineageOf(regionId);
    return { provinceId: lineage[0]?.id ?? regionId, cityId: lineage[1]?.id ?? null };
  }

  /** Marks a region (and a meeting host in another province) as changed by this write: their versions move at the end. */
  touch(regionId: number, meetingHostIds: Iterable<number> = []): void {
    const { provinceId } = this.placeOf(regionId);
    this.touched.set(regionId, { regionId, provinceId });
    for (const host of meetingHostIds) {
      const hostProvince = this.placeOf(host).provinceId;
      if (hostProvince !== provinceId) this.touched.set(host, { regionId: host, provinceId: hostProvince });
    }
  }

  /** Adds a change to the history this write appends at the end. */
  record(change: Omit<ChangeRecord, "tokenId" | "office" | "provinceId" | "cityId" | "from"> & { fromRegionId?: number }): void {
    const { fromRegionId, ...rest } = change;
    const from = fromRegionId === undefined || fromRegionId === change.regionId ? null : { ...this.placeOf(fromRegionId), regionId: fromRegionId };
    this.changes.push({ ...rest, from, tokenId: this.actor.tokenId, office: this.actor.office, ...this.placeOf(change.regionId) });
  }

  /** Appends the changes recorded so far now rather than at the end, with `append` (the bulk path's, as it goes). */
  async appendRecorded(append: typeof appendChanges = appendChanges): Promise<void> {
    await append((sql, params) => this.query(sql, params), this.changes.splice(0), this.now);
  }

  private async load(problems: Problems, field: string, id: string): Promise<StoredProject> {
    const numeric = parseId(id);
    if (numeric === null) {
      problems.throwIfAny(); // the field rules said why
      throw new AppError(ErrorCode.NOT_FOUND, `${field}: no project "${String(id).slice(0, 64)}"`, { field });
    }
    const lock = this.mysql ? " FOR UPDATE" : "";
    // One round trip: the project row, locked first (a plain read after it sees what the writer before committed), and its milestones.
    const [rows, milestones] = (await this.queries([
      { sql: `SELECT id, region_id, sector_id, stage, stage_reached_on, investment_wan, name, investor, version FROM project WHERE id = ?${lock}`, params: [numeric] },
      { sql: "SELECT id, stage, reached_on, meeting_id, venue_region_id FROM milestone WHERE project_id = ? ORDER BY stage", params: [numeric] },
    ])) as [Array<Record<string, unknown>>, Array<Record<string, unknown>>];
    if (rows.length === 0) {
      problems.throwIfAny();
      throw new AppError(ErrorCode.NOT_FOUND, `${field}: no project "${numeric}"`, { field });
    }
    const row = rows[0];
    return {
      id: numeric,
      regionId: Number(row.region_id),
      sectorId: Number(row.sector_id),
      stage: Number(row.stage),
      stageReachedOn: isoDay(row.stage_reached_on),
      investmentWan: Number(row.investment_wan),
      name: String(row.name),
      investor: row.investor === null ? null : String(row.investor),
      version: Number(row.version),
      milestones: milestones.map((m) => ({
        id: Number(m.id),
        stage: Number(m.stage),
        reachedOn: isoDay(m.reached_on),
        meetingId: m.meeting_id === null ? null : Number(m.meeting_id),
        venueRegionId: m.venue_region_id === null ? null : Number(m.venue_region_id),
      })),
    };
  }

  private checkVersion(project: StoredProject, expected: number): void {
    if (Number.isInteger(expected) && project.version !== expected) throw new ConflictError(project.id, project.version, expected);
  }

  private async meetingHosts(project: StoredProject, meetings: Map<number, MeetingFacts>): Promise<number[]> {
    const missing = project.milestones.map((m) => m.meetingId).filter((id): id is number => id !== null && !meetings.has(id));
    if (missing.length) for (const [id, facts] of await this.meetings(missing)) meetings.set(id, facts);
    return project.milestones.flatMap((m) => (m.meetingId === null ? [] : [meetings.get(m.meetingId)!.hostRegionId]));
  }

  private bumpProject(project: StoredProject): Promise<void> {
    return this.queue("UPDATE project SET version = version + 1 WHERE id = ? AND version = ?", [project.id, project.version]);
  }

  // ---- operations ----

  /** Checks and inserts projects with their milestones; `paths` names each draft for its problems (a string: one draft). */
  async addProjects(drafts: readonly ProjectDraft[], paths: readonly string[] | string, problems: Problems, options: { single: boolean }): Promise<number[]> {
    const pathOf = (i: number) => (typeof paths === "string" ? paths : paths[i]);
    const fieldOf = (i: number, name: string, milestone?: number) =>
      options.single ? `${pathOf(i)}.${name}` : milestone === undefined ? `${pathOf(i)}.${name}` : `${pathOf(i)}.milestones[${milestone}].${name}`;
    const meetings = await this.meetings(drafts.flatMap((d) => d.milestones.map((m) => m.meetingId ?? null).filter((id): id is number => id !== null)));
    const keys = drafts.map((d) => d.ref).filter((ref): ref is string => typeof ref === "string").map(refKeyColumn);
    const taken = new Set<string>();
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const rows: Array<{ ref_key: string }> = await this.query(`SELECT ref_key FROM project WHERE ref_key IN (${placeholders(chunk.length)})`, chunk);
      for (const row of rows) taken.add(row.ref_key);
    }
    const seen = new Set<string>();
    const rows: unknown[][] = [];
    const placed: Array<{ regionId: number; shape: RollupShape; milestones: Array<[number, string, number | null, number | null]>; checks: Array<() => void>; hosts: number[] }> = [];
    drafts.forEach((draft, i) => {
      if (!options.single) {
        const length = typeof draft.name === "string" ? textLength(draft.name) : 0;
        const characters = typeof draft.name === "string" ? characterProblem(draft.name) : null;
        if (characters) problems.add(fieldOf(i, "name"), characters);
        else if (length < 1 || length > MAX_TEXT) problems.add(fieldOf(i, "name"), `must be 1 to ${MAX_TEXT} characters after trimming (got ${length})`);
        if (!Number.isSafeInteger(draft.investmentWan) || draft.investmentWan <= 0 || draft.investmentWan > 100_000_000) {
          problems.add(fieldOf(i, "investment"), "must be positive, exact to 1 万元 and at most 10,000 亿元");
        }
      }
      if (draft.ref) {
        const key = refKeyColumn(draft.ref);
        if (taken.has(key)) problems.add(fieldOf(i, "ref"), `ledger reference "${draft.ref}" is taken by another project`);
        else if (seen.has(key)) problems.add(fieldOf(i, "ref"), `ledger reference "${draft.ref}" appears twice`);
        seen.add(key);
      }
      const region = this.projectRegion(problems, fieldOf(i, "regionCode"), draft.regionCode);
      const sectorId = this.sectorId(problems, fieldOf(i, "sectorCode"), draft.sectorCode);
      if (draft.milestones.length === 0) problems.add(fieldOf(i, "stage"), "a project needs its first milestone");
      let previous: { stage: number; reachedOn: string } | undefined;
      const milestones: Array<[number, string, number | null, number | null]> = [];
      const checks: Array<() => void> = [];
      const hosts: number[] = [];
      draft.milestones.forEach((m, j) => {
        const stage = stageToNumber(m.stage);
        if (stage < 1) problems.add(fieldOf(i, "stage", j), `must be one of SIGNED, STARTED, IN_PRODUCTION (got ${JSON.stringify(m.stage)})`);
        this.checkDate(problems, fieldOf(i, "reachedOn", j), m.reachedOn);
        if (previous && stage <= previous.stage) problems.add(fieldOf(i, "stage", j), "milestones must move forward, one per stage");
        if (previous && m.reachedOn < previous.reachedOn) problems.add(fieldOf(i, "reachedOn", j), `must not be before the previous milestone's date ${previous.reachedOn}`);
        const at = this.placement(
          problems,
          options.single ? pathOf(i) : `${pathOf(i)}.milestones[${j}]`,
          { meetingId: m.meetingId ?? null, venueRegionCode: m.venueRegionCode ?? null, stage, investmentWan: draft.investmentWan },
          meetings,
          "investment",
        );
        checks.push(at.check);
        if (at.meetingId !== null) hosts.push(meetings.get(at.meetingId)!.hostRegionId);
        milestones.push([stage, m.reachedOn, at.meetingId, at.venueRegionId]);
        previous = { stage, reachedOn: m.reachedOn };
      });
      if (!region || sectorId === undefined || !previous) return;
      const last = milestones[milestones.length - 1];
      const shape: RollupShape = {
        regionId: region.id,
        sectorId,
        stage: last[0],
        investmentWan: draft.investmentWan,
        milestones: milestones.map(([stage, , meetingId, venueRegionId]) => ({ stage, meetingId, venueRegionId })),
      };
      placed.push({ regionId: region.id, shape, milestones, checks: [() => this.forbidRegion(region, fieldOf(i, "regionCode"), "a project in"), ...checks], hosts });
      rows.push([draft.ref ?? null, draft.ref ? refKeyColumn(draft.ref) : null, draft.name.trim(), region.id, sectorId, last[0], last[1], draft.investmentWan, draft.investor?.trim() || null, draft.synthetic ? 1 : 0, 1]);
    });
    problems.throwIfAny();
    for (const p of placed) for (const check of p.checks) check();

    const ids: number[] = [];
    const columns = ["ref", "ref_key", "name", "region_id", "sector_id", "stage", "stage_reached_on", "investment_wan", "investor", "synthetic", "version"];
    if (rows.length > 1 && rows.every((row) => row[0] !== null)) {
      // With references (the import, the seed): 500 rows per statement, ids read back by reference, whatever the auto-increment lock mode.
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        await insertRows(this, "project", columns, chunk, { chunk: 500 });
        const found: Array<{ id: number; ref_key: string }> = await this.query(`SELECT id, ref_key FROM project WHERE ref_key IN (${placeholders(chunk.length)})`, chunk.map((row) => row[1]));
        const idOf = new Map(found.map((row) => [row.ref_key, Number(row.id)]));
        for (const row of chunk) ids.push(idOf.get(row[1] as string)!);
      }
    } else {
      // One row per statement: the only way to learn each id on both databases without a reference.
      for (const row of rows) ids.push(insertedId(await this.query(`INSERT INTO project (${columns.join(", ")}) VALUES (${placeholders(columns.length)})`, row)));
    }
    const milestoneRows = placed.flatMap((p, i) => p.milestones.map(([stage, reachedOn, meetingId, venueRegionId]) => [ids[i], stage, reachedOn, meetingId, venueRegionId]));
    await insertRows({ query: (sql, params) => this.queue(sql, params ?? []) }, "milestone", ["project_id", "stage", "reached_on", "meeting_id", "venue_region_id"], milestoneRows, { chunk: 500 });
    placed.forEach((p, i) => {
      this.delta.add(p.shape, 1);
      this.touch(p.regionId, p.hosts);
      const row = rows[i];
      const fields: FieldChange[] = [
        fieldChange("name", null, String(row[2])),
        fieldChange("region", null, this.regions.byId(p.regionId)!.code),
        fieldChange("sector", null, this.trees.sectors.byId(p.shape.sectorId)!.code),
        fieldChange("investment", null, formatWan(p.shape.investmentWan)),
        ...(row[8] ? [fieldChange("investor", null, String(row[8]))] : []),
        ...(row[0] ? [fieldChange("ref", null, String(row[0]))] : []),
        ...p.milestones.flatMap(([stage, reachedOn, meetingId, venueRegionId]) => milestoneFields(stage, null, { reachedOn, meetingId, venueRegionId }, this.regions)),
      ];
      this.record({ operation: "CREATE_PROJECT", projectId: ids[i], meetingId: null, projectVersion: 1, regionId: p.regionId, fields, reason: null });
    });
    if (options.single) this.answerWith(ids[0]);
    return ids;
  }

  async updateProject(id: string, expectedVersion: number, input: UpdateProjectInput, problems: Problems): Promise<number> {
    const project = await this.load(problems, "id", id);
    // A stale version is CONFLICT before anything else: the input may have been right at the version the client read.
    this.checkVersion(project, expectedVersion);
    const sectorId = input.sectorCode != null ? this.sectorId(problems, "input.sectorCode", input.sectorCode) : project.sectorId;
    const region = input.regionCode != null ? this.projectRegion(problems, "input.regionCode", input.regionCode) : this.regions.byId(project.regionId);
    for (const key of ["name", "sectorCode", "investment", "regionCode"] as const) {
      if (key in input && input[key] === null) problems.add(`input.${key}`, "cannot be cleared (omit it to keep the current value)");
    }
    const wan = typeof input.investment === "number" ? Math.round(input.investment * 10_000) : project.investmentWan;
    const meetings = new Map<number, MeetingFacts>();
    const hosts = await this.meetingHosts(project, meetings);
    if (wan < MAJOR_STARTED_MIN_WAN) {
      const started = project.milestones.find((m) => m.stage === stageToNumber(ProjectStage.STARTED) && m.meetingId !== null && meetings.get(m.meetingId)!.majorProjects);
      if (started) problems.add("input.investment", `the project started at major-project meeting ${started.meetingId}, whose STARTED batch takes only projects of at least 5 亿元`);
    }
    problems.throwIfAny();
    this.forbidRegion(this.regions.byId(project.regionId)!, "id", "a project in");
    if (region && region.id !== project.regionId) this.forbidRegion(region, "input.regionCode", "moving a project to");

    const next = {
      name: typeof input.name === "string" ? input.name.trim() : project.name,
      sectorId: sectorId ?? project.sectorId,
      regionId: region?.id ?? project.regionId,
      investmentWan: wan,
      investor: input.investor === undefined ? project.investor : input.investor === null ? null : input.investor.trim(),
    };
    const fields: FieldChange[] = [];
    if (next.name !== project.name) fields.push(fieldChange("name", project.name, next.name));
    if (next.regionId !== project.regionId) fields.push(fieldChange("region", this.regions.byId(project.regionId)!.code, this.regions.byId(next.regionId)!.code));
    if (next.sectorId !== project.sectorId) fields.push(fieldChange("sector", this.trees.sectors.byId(project.sectorId)!.code, this.trees.sectors.byId(next.sectorId)!.code));
    if (next.investmentWan !== project.investmentWan) fields.push(fieldChange("investment", formatWan(project.investmentWan), formatWan(next.investmentWan)));
    if (next.investor !== project.investor) fields.push(fieldChange("investor", project.investor, next.investor));
    this.answerWith(project.id);
    if (fields.length === 0) return project.id; // nothing changes: no new version, no history

    this.delta.add(shapeOf(project), -1);
    await this.queue("UPDATE project SET name = ?, sector_id = ?, region_id = ?, investment_wan = ?, investor = ?, version = version + 1 WHERE id = ? AND version = ?", [
      next.name,
      next.sectorId,
      next.regionId,
      next.investmentWan,
      next.investor,
      project.id,
      project.version,
    ]);
    this.delta.add({ ...shapeOf(project), regionId: next.regionId, sectorId: next.sectorId, investmentWan: next.investmentWan }, 1);
    this.touch(project.regionId, hosts);
    if (next.regionId !== project.regionId) this.touch(next.regionId, hosts);
    this.record({
      operation: "UPDATE_PROJECT",
      projectId: project.id,
      meetingId: null,
      projectVersion: project.version + 1,
      regionId: next.regionId,
      fromRegionId: project.regionId,
      fields,
      reason: null,
    });
    this.answerWith(project.id);
    return project.id;
  }

  async advanceStage(input: AdvanceStageInput, problems: Problems): Promise<number> {
    const project = await this.load(problems, "input.projectId", input.projectId);
    this.checkVersion(project, input.expectedVersion);
    const stage = stageToNumber(input.stage);
    if (stage >= 1 && stage <= project.stage) {
      problems.add("input.stage", `must be later than the current stage ${stageFromNumber(project.stage)} (a stage only moves forward)`);
    }
    this.checkDate(problems, "input.reachedOn", input.reachedOn);
    if (typeof input.reachedOn === "string" && input.reachedOn < project.stageReachedOn) {
      problems.add("input.reachedOn", `must not be before ${project.stageReachedOn}, when the project reached ${stageFromNumber(project.stage)}`);
    }
    const meetingId = parseId(input.meetingId);
    const meetings = await this.meetings(meetingId === null ? [] : [meetingId]);
    const at = this.placement(problems, "input", { meetingId, venueRegionCode: input.venueRegionCode ?? null, stage, investmentWan: project.investmentWan }, meetings, "stage");
    const hosts = await this.meetingHosts(project, meetings);
    problems.throwIfAny();
    this.forbidRegion(this.regions.byId(project.regionId)!, "input.projectId", "a project in");
    at.check();

    this.delta.add(shapeOf(project), -1);
    await this.queue("INSERT INTO milestone (project_id, stage, reached_on, meeting_id, venue_region_id) VALUES (?, ?, ?, ?, ?)", [
      project.id,
      stage,
      input.reachedOn,
      at.meetingId,
      at.venueRegionId,
    ]);
    await this.queue("UPDATE project SET stage = ?, stage_reached_on = ?, version = version + 1 WHERE id = ? AND version = ?", [stage, input.reachedOn, project.id, project.version]);
    const milestones = [...project.milestones, { id: 0, stage, reachedOn: input.reachedOn, meetingId: at.meetingId, venueRegionId: at.venueRegionId }];
    this.delta.add({ ...shapeOf(project), stage, milestones }, 1);
    this.touch(project.regionId, at.meetingId === null ? hosts : [...hosts, meetings.get(at.meetingId)!.hostRegionId]);
    this.record({
      operation: "ADVANCE_STAGE",
      projectId: project.id,
      meetingId: at.meetingId,
      projectVersion: project.version + 1,
      regionId: project.regionId,
      fields: [fieldChange("stage", stageFromNumber(project.stage), stageFromNumber(stage)), ...milestoneFields(stage, null, { reachedOn: input.reachedOn, meetingId: at.meetingId, venueRegionId: at.venueRegionId }, this.regions)],
      reason: null,
    });
    this.answerWith(project.id);
    return project.id;
  }

  async recordAtMeeting(input: RecordAtMeetingInput, problems: Problems): Promise<number> {
    const project = await this.load(problems, "input.projectId", input.projectId);
    this.checkVersion(project, input.expectedVersion);
    const stage = stageToNumber(input.stage);
    const milestone = project.milestones.find((m) => m.stage === stage);
    if (!milestone) problems.add("input.stage", `the project has not reached ${input.stage}`);
    else if (milestone.meetingId !== null) problems.add("input.stage", `its ${input.stage} milestone is already recorded at meeting ${milestone.meetingId}`);
    const meetingId = parseId(input.meetingId);
    const meetings = await this.meetings(meetingId === null ? [] : [meetingId]);
    const at = this.placement(problems, "input", { meetingId, venueRegionCode: input.venueRegionCode ?? null, stage, investmentWan: project.investmentWan }, meetings, "meetingId");
    const hosts = await this.meetingHosts(project, meetings);
    problems.throwIfAny();
    this.forbidRegion(this.regions.byId(project.regionId)!, "input.projectId", "a project in");
    at.check();

    this.delta.add(shapeOf(project), -1);
    await this.queue("UPDATE milestone SET meeting_id = ?, venue_region_id = ? WHERE id = ?", [at.meetingId, at.venueRegionId, milestone!.id]);
    await this.bumpProject(project);
    const milestones = project.milestones.map((m) => (m.id === milestone!.id ? { ...m, meetingId: at.meetingId, venueRegionId: at.venueRegionId } : m));
    this.delta.add({ ...shapeOf(project), milestones }, 1);
    this.touch(project.regionId, [...hosts, meetings.get(at.meetingId!)!.hostRegionId]);
    this.record({
      operation: "RECORD_AT_MEETING",
      projectId: project.id,
      meetingId: at.meetingId,
      projectVersion: project.version + 1,
      regionId: project.regionId,
      fields: milestoneFields(stage, { reachedOn: milestone!.reachedOn, meetingId: null, venueRegionId: null }, { reachedOn: milestone!.reachedOn, meetingId: at.meetingId, venueRegionId: at.venueRegionId }, this.regions),
      reason: null,
    });
    this.answerWith(project.id);
    return project.id;
  }

  async correctMilestoneDate(input: CorrectMilestoneDateInput, problems: Problems): Promise<number> {
    const project = await this.load(problems, "input.projectId", input.projectId);
    this.checkVersion(project, input.expectedVersion);
    const stage = stageToNumber(input.stage);
    const index = project.milestones.findIndex((m) => m.stage === stage);
    this.checkDate(problems, "input.reachedOn", input.reachedOn);
    if (index < 0) problems.add("input.stage", `the project has not reached ${input.stage}`);
    else {
      const before = project.milestones[index - 1];
      const after = project.milestones[index + 1];
      if (before && input.reachedOn < before.reachedOn) problems.add("input.reachedOn", `must not be before ${before.reachedOn}, the date of ${stageFromNumber(before.stage)}`);
      if (after && input.reachedOn > after.reachedOn) problems.add("input.reachedOn", `must not be after ${after.reachedOn}, the date of ${stageFromNumber(after.stage)}`);
      if (project.milestones[index].reachedOn === input.reachedOn) problems.add("input.reachedOn", `is already ${input.reachedOn}: nothing to correct`);
    }
    const meetings = new Map<number, MeetingFacts>();
    const hosts = await this.meetingHosts(project, meetings);
    problems.throwIfAny();
    this.forbidRegion(this.regions.byId(project.regionId)!, "input.projectId", "a project in");

    const milestone = project.milestones[index];
    await this.queue("UPDATE milestone SET reached_on = ? WHERE id = ?", [input.reachedOn, milestone.id]);
    if (stage === project.stage) await this.queue("UPDATE project SET stage_reached_on = ?, version = version + 1 WHERE id = ? AND version = ?", [input.reachedOn, project.id, project.version]);
    else await this.bumpProject(project);
    this.touch(project.regionId, hosts);
    this.record({
      operation: "CORRECT_MILESTONE_DATE",
      projectId: project.id,
      meetingId: milestone.meetingId,
      projectVersion: project.version + 1,
      regionId: project.regionId,
      fields: [fieldChange(`milestones.${stageFromNumber(stage)}.reachedOn`, milestone.reachedOn, input.reachedOn)],
      reason: input.reason.trim(),
    });
    this.answerWith(project.id);
    return project.id;
  }

  /** Checks and inserts a meeting and its venues; a duplicate (title, date, host) is CONFLICT or, for the seed, returned. */
  async addMeeting(draft: MeetingDraft, path: string, problems: Problems, options: { duplicate: "conflict" | "return" }): Promise<number> {
    this.checkDate(problems, `${path}.heldOn`, draft.heldOn);
    const host = typeof draft.hostRegionCode === "string" && /^\d{6}$/.test(draft.hostRegionCode) ? this.regions.byCode(draft.hostRegionCode) : undefined;
    if (!host && /^\d{6}$/.test(String(draft.hostRegionCode))) problems.add(`${path}.hostRegionCode`, `no region "${draft.hostRegionCode}"`);
    const subs: Region[] = [];
    const seen = new Set<string>();
    draft.subVenueRegionCodes.forEach((code, i) => {
      const field = `${path}.subVenueRegionCodes[${i}]`;
      if (typeof code !== "string" || !/^\d{6}$/.test(code)) return;
      if (seen.has(code)) return problems.add(field, `${code} is listed twice`);
      seen.add(code);
      const region = this.regions.byCode(code);
      if (!region) return problems.add(field, `no region "${code}"`);
      if (host && !this.regions.ancestorsOf(region.id).some((node) => node.id === host.id)) {
        return problems.add(field, `${region.name} (${code}) is not below the host ${host.name} (${host.code}): sub-venues are regions below the host`);
      }
      subs.push(region);
    });
    problems.throwIfAny();
    invariant(host, "host checked");
    if (!this.inScope(host.id)) throw new ForbiddenError(`${this.actor.office} may write in ${this.scopeName()} only, not a meeting hosted by ${host.name} (${host.code})`, `${path}.hostRegionCode`);

    const existing: Array<{ id: number }> = await this.query("SELECT id FROM meeting WHERE title = ? AND held_on = ? AND host_region_id = ?", [draft.title, draft.heldOn, host.id]);
    if (existing.length) {
      if (options.duplicate === "return") return Number(existing[0].id);
      throw new AppError(ErrorCode.CONFLICT, `meeting ${existing[0].id} already has this title, date and host`, { meetingId: String(existing[0].id) });
    }
    const id = insertedId(await this.query("INSERT INTO meeting (title, held_on, host_region_id, major_projects) VALUES (?, ?, ?, ?)", [draft.title, draft.heldOn, host.id, draft.majorProjects ? 1 : 0]));
    await insertRows({ query: (sql, params) => this.queue(sql, params ?? []) }, "venue", ["meeting_id", "region_id", "kind"], [[id, host.id, "MAIN"], ...subs.map((region) => [id, region.id, "SUB"])], { chunk: 500 });
    this.touch(host.id);
    this.record({
      operation: "CREATE_MEETING",
      projectId: null,
      meetingId: id,
      projectVersion: null,
      regionId: host.id,
      fields: [
        fieldChange("title", null, draft.title),
        fieldChange("heldOn", null, draft.heldOn),
        fieldChange("host", null, host.code),
        ...(subs.length ? [fieldChange("subVenues", null, subs.map((r) => r.code).join(","))] : []),
        ...(draft.majorProjects ? [fieldChange("majorProjects", null, "true")] : []),
      ],
      reason: null,
    });
    return id;
  }
}

function shapeOf(project: StoredProject): RollupShape {
  return { regionId: project.regionId, sectorId: project.sectorId, stage: project.stage, investmentWan: project.investmentWan, milestones: project.milestones };
}

/** The history fields of one milestone: its date and where it was presented. */
function milestoneFields(
  stage: number,
  before: { reachedOn: string; meetingId: number | null; venueRegionId: number | null } | null,
  after: { reachedOn: string; meetingId: number | null; venueRegionId: number | null },
  regions: RegionTree,
): FieldChange[] {
  const name = `milestones.${stageFromNumber(stage)}`;
  const venue = (id: number | null) => (id === null ? null : regions.byId(id)?.code ?? String(id));
  const fields: FieldChange[] = [];
  if (before?.reachedOn !== after.reachedOn) fields.push(fieldChange(`${name}.reachedOn`, before?.reachedOn ?? null, after.reachedOn));
  if ((before?.meetingId ?? null) !== after.meetingId) fields.push(fieldChange(`${name}.meeting`, before?.meetingId == null ? null : String(before.meetingId), after.meetingId === null ? null : String(after.meetingId)));
  if ((before?.venueRegionId ?? null) !== after.venueRegionId) fields.push(fieldChange(`${name}.venue`, venue(before?.venueRegionId ?? null), venue(after.venueRegionId)));
  return fields;
}

/** A DATE column as YYYY-MM-DD (mysql2 may hand back a Date or a string). */
function isoDay(value: unknown): string {
  return value instanceof Date ? value.toISOString().slice(0, 10) : String(value).slice(0, 10);
}
