/**
 * The ledger: the one write path. Every change to projects, milestones and
 * meetings — the mutations, the CSV import, the seed, the benchmark generator,
 * the tests' helpers — goes through `Ledger`, which in one transaction checks
 * the change against the domain rules, applies it, updates the rollup groups
 * it touches (and only those), appends the history and moves the versions of
 * the regions it touched. Nothing else writes these tables.
 *
 * This file is the front door: the public writes, and `write`, which runs a
 * write's transaction (`LedgerTx`, ledger-tx.ts) and retries it on contention.
 * The operations are in operations/, the rules they share in rules.ts, the
 * batching of statements in round-trips.ts, the history in history.ts and the
 * rollups in rollup-delta.ts; what other modules use of them is re-exported here.
 */
import type { DataSource } from "typeorm";

import { AppError, ErrorCode } from "../common/errors";
import { parseId } from "../common/ids";
import { ProjectStage } from "../common/stage";
import type { Trees } from "../common/trees";
import { isMysql } from "../db/data-source";
import { exclusiveAccess } from "../db/sqlite-lock";
import type { ProjectRow } from "../project/project.type";
import type { ChangeEvent } from "../live/change-event";
import type { Actor } from "./actor";
import {
  AdvanceStageInput,
  checkFields,
  CorrectMilestoneDateInput,
  CreateMeetingInput,
  CreateProjectInput,
  RecordAtMeetingInput,
  UpdateProjectInput,
} from "./ledger.inputs";
import { LedgerTx } from "./ledger-tx";
import type { MeetingDraft } from "./operations/meetings";
import type { ProjectDraft } from "./operations/projects";
import { Problems } from "./problems";
import type { StatementSettings } from "./round-trips";
import type { RuleSettings } from "./rules";

export { LedgerTx } from "./ledger-tx";
export type { MeetingDraft } from "./operations/meetings";
export type { ProjectDraft } from "./operations/projects";
export { ConflictError } from "./operations/stored-project";
export { refKey } from "./ref-key";
export { MAX_ROUND_TRIP_BYTES, roundTrips } from "./round-trips";
export { EARLIEST_DATE, ForbiddenError, MAJOR_STARTED_MIN_WAN, type MeetingFacts, readMeetingFacts } from "./rules";

/** Attempts of a transaction the database chose as a deadlock victim or timed out on a lock. */
const ATTEMPTS = 4;

/** How the ledger behaves: the date rule (rules.ts) and how a write's statements go (round-trips.ts). */
export interface LedgerSettings extends RuleSettings, StatementSettings {
  /**
   * Told of every write after it committed, with what it changed (the server's change bus, src/live/): called
   * before the write's promise resolves, so the caller's own caches have the change when it answers.
   */
  onCommitted?: (change: Omit<ChangeEvent, "origin" | "seq">) => void;
}

/** What a write did, for the caller's caches: the provinces whose versions moved. */
export interface Written<T> {
  value: T;
  provinces: number[];
  /** The projects the write changed as they were at its end (`LedgerTx.readBack`), for the answer: none for bulk writes. */
  projects?: ProjectRow[];
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
        return { value, provinces, projects: await tx.readBack(), tx };
      }),
    ).then(({ tx, ...written }) => this.committed(tx, written));
  }

  /**
   * MySQL: the transaction on its own connection, its statements batched
   * (see `Statements.queue` in round-trips.ts): START TRANSACTION goes with
   * the first statement whose answer the write needs, and the statements
   * whose answers it does not need go with the next one that does, or with
   * the COMMIT. An ordinary write is
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
      return this.committed(tx, { value, provinces, projects });
    } catch (error) {
      // A failed statement ends its batch; the transaction, if it began, is still open until this.
      if (tx?.began) await runner.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }

  /** Tells `onCommitted` what a committed write changed (nothing, if it changed nothing). */
  private committed<T>(tx: LedgerTx, written: Written<T>): Written<T> {
    if (this.settings.onCommitted && written.provinces.length > 0) {
      try {
        this.settings.onCommitted({ ...tx.published(written.provinces), committedAt: Date.now() });
      } catch {
        // Committed is committed: a listener's failure must not turn the write into an error (caches catch up through
        // the data versions).
      }
    }
    return written;
  }
}

/** A deadlock, a lock wait timeout (MySQL) or a busy database (SQLite, another process writing): worth another attempt. */
function isLockContention(error: unknown): boolean {
  const driver = (error as { driverError?: { errno?: number; code?: string } })?.driverError;
  return driver?.errno === 1213 || driver?.errno === 1205 || driver?.code === "SQLITE_BUSY";
}

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
