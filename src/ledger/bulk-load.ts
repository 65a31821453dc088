/**
 * The ledger's bulk path, for generated data sets with explicit ids (the
 * benchmark's national data set: up to millions of projects). A load does
 * what `LedgerTx.addMeeting` and `LedgerTx.addProjects` do — checks the rows
 * against the rules, inserts them, adds every project to the rollups, appends
 * one history change per meeting and per project, and moves the versions of
 * the regions it touched — but the rows arrive with their ids and are written
 * as multi-row INSERTs of literals, thousands of rows a statement, in the
 * caller's ledger write.
 */
import type { QueryRunner } from "typeorm";

import { isIsoDate } from "../common/date.scalar";
import { ProjectStage, stageFromNumber, stageToNumber } from "../common/stage";
import { isMysql } from "../db/data-source";
import type { Region } from "../region/region.type";
import { loadTrees, type Trees } from "../common/trees";
import { CHANGE_COLUMNS, type ChangeRecord, changeValues, fieldChange, type FieldChange, formatWan } from "./history";
import type { LedgerTx } from "./ledger-tx";
import { EARLIEST_DATE, MAJOR_STARTED_MIN_WAN, type MeetingFacts, readMeetingFacts } from "./rules";
import { Problems } from "./problems";
import { rebuildRollups, ROLLUPS } from "../stats/rollups";
import { invariant } from "../common/errors";
import { getOrCreate } from "../common/maps";

/** A meeting with its id; its venues come as `BulkVenue`s (in the same load or an earlier one). */
export interface BulkMeeting {
  id: number;
  title: string;
  /** YYYY-MM-DD. */
  heldOn: string;
  hostRegionId: number;
  majorProjects: boolean;
}

/** A venue of a meeting: MAIN at the host region, SUB at a region below it. */
export interface BulkVenue {
  id: number;
  meetingId: number;
  regionId: number;
  kind: "MAIN" | "SUB";
}

/** A new project (version 1) with its id; its milestones come as `BulkMilestone`s in the same load. */
export interface BulkProject {
  id: number;
  name: string;
  /** A leaf region: a county, or a city without counties. */
  regionId: number;
  sectorId: number;
  /** 1, 2 or 3: the stage of its last milestone. */
  stage: number;
  /** YYYY-MM-DD: the date of its last milestone. */
  stageReachedOn: string;
  /** 万元, exact. */
  investmentWan: number;
  synthetic: boolean;
}

/** A milestone of a project of the same load; a project's milestones move forward one stage after another. */
export interface BulkMilestone {
  id: number;
  projectId: number;
  stage: number;
  reachedOn: string;
  meetingId: number | null;
  /** A venue of the meeting; null when the meeting is null (or for no venue in particular). */
  venueRegionId: number | null;
}

/** What one call loads; any part may be empty. Meetings and venues are written before the projects. */
export interface BulkBatch {
  meetings?: readonly BulkMeeting[];
  venues?: readonly BulkVenue[];
  projects?: readonly BulkProject[];
  milestones?: readonly BulkMilestone[];
}

/** Rows per INSERT: a few hundred kilobytes of SQL, well under MariaDB's default 16 MB max_allowed_packet. */
const ROWS_PER_STATEMENT = 5_000;
/** History rows per INSERT: about 1.5 MB of SQL. */
const CHANGES_PER_STATEMENT = 2_000;
/** A load stops checking and fails after this many problems (a broken generator would list a million). */
const MAX_PROBLEMS = 20;

const MAIN = "MAIN";

/** What the batches of one load share: the trees as the write sees them, the meetings met so far, the dates and regions already handled. */
interface BulkContext {
  trees: Trees;
  mysql: boolean;
  /** Regions a project may sit in. */
  leaves: Set<number>;
  meetings: Map<number, MeetingFacts>;
  dates: Set<string>;
  /** Regions whose versions the write moves already, with the meeting hosts touched with them. */
  touched: Map<number, Set<number>>;
  /** True: the rollups are rebuilt at the end rather than summed in `tx.delta`. */
  rebuild: boolean;
}

/** How a load reports its progress. */
export interface BulkLoadOptions<T extends BulkBatch> {
  /** Called once a batch's rows and history are written (not yet committed). */
  onLoaded?: (batch: T) => void;
}

/**
 * Loads batches of new meetings, venues, projects and milestones in the
 * caller's ledger write: `ledger.write(SYSTEM_ACTOR, (tx) => bulkLoad(tx, batches()))`
 * (the batches made inside the callback, so that a retried write starts over).
 * Ids are the caller's and must be free. The checks are those that keep the
 * rollups, the history and the readers right (existing regions and sectors,
 * projects at leaf regions, milestones moving forward in time and stage and
 * ending at the project's stage, venues of their meeting, the major-project
 * meeting's threshold); a failed check throws a BAD_USER_INPUT and the write
 * rolls back.
 *
 * The rollups: into a ledger without projects, they are rebuilt from the
 * tables once at the end of the load (at 100,000 projects on MariaDB: 0.9 s,
 * where summing every project's shape in `tx.delta` cost 1.3 s of CPU here
 * and its upserts 1.0 s more in the database); into one with projects, the
 * projects' shapes go to `tx.delta` as every other write's do, so that the
 * cost stays that of the load, not of the tables. Batches are pipelined: the
 * next one is taken from `batches` (generated, for the benchmark), checked and
 * turned into SQL while the database runs the previous one's statements.
 */
export async function bulkLoad<T extends BulkBatch>(tx: LedgerTx, batches: Iterable<T>, options: BulkLoadOptions<T> = {}): Promise<void> {
  const context = await contextOf(tx);
  let pending: Promise<void> | null = null;
  await withoutRedundantChecks(tx, context.mysql, async () => {
    try {
      for (const batch of batches) {
        const statements = await prepare(tx, context, batch);
        if (pending) await pending;
        pending = run(tx, statements).then(() => options.onLoaded?.(batch));
        // Keep an unhandled rejection from surfacing before it is awaited.
        pending.catch(() => undefined);
        // Let the statements go out before the next batch is made (synchronously, on this thread).
        await yieldToIo();
      }
    } catch (error) {
      // No statement of this write left running when the error ends it.
      await pending?.catch(() => undefined);
      throw error;
    }
    await pending;
  });
  if (context.rebuild) {
    await rebuildRollups(await tx.direct());
    tx.rebuiltRollups = true;
  }
}

/** One INSERT, made when it is about to be sent (the SQL of the next is made while the database runs the one before). */
type Statement = () => string;

/** A batch checked, recorded (rollups, history, versions) and turned into its INSERTs, rows first and history last. */
async function prepare(tx: LedgerTx, context: BulkContext, batch: BulkBatch): Promise<Statement[]> {
  const meetings = batch.meetings ?? [];
  const venues = batch.venues ?? [];
  const projects = batch.projects ?? [];
  const milestones = batch.milestones ?? [];
  // Between the steps, the previous batch's next statement goes out (its answer waits for this thread).
  await yieldToIo();
  await learnMeetings(tx, context, [...venues.map((v) => v.meetingId), ...milestones.map((m) => m.meetingId)], meetings);

  const problems = new BulkProblems();
  checkMeetings(context, meetings, venues, problems);
  const byProject = checkProjects(context, projects, milestones, problems);
  problems.throwIfAny();
  await yieldToIo();

  const mysql = context.mysql;
  const statements = [
    ...inserts("meeting", "id, title, held_on, host_region_id, major_projects", meetings, (m) => `(${m.id},${text(m.title, mysql)},'${m.heldOn}',${m.hostRegionId},${m.majorProjects ? 1 : 0})`),
    ...inserts("venue", "id, meeting_id, region_id, kind", venues, (v) => `(${v.id},${v.meetingId},${v.regionId},'${v.kind}')`),
    ...inserts(
      "project",
      "id, name, region_id, sector_id, stage, stage_reached_on, investment_wan, synthetic, version",
      projects,
      (p) => `(${p.id},${text(p.name, mysql)},${p.regionId},${p.sectorId},${p.stage},'${p.stageReachedOn}',${p.investmentWan},${p.synthetic ? 1 : 0},1)`,
    ),
    ...inserts(
      "milestone",
      "id, project_id, stage, reached_on, meeting_id, venue_region_id",
      milestones,
      (m) => `(${m.id},${m.projectId},${m.stage},'${m.reachedOn}',${m.meetingId ?? "NULL"},${m.venueRegionId ?? "NULL"})`,
    ),
  ];
  recordMeetings(tx, context, meetings, venues);
  recordProjects(tx, context, projects, byProject);
  await yieldToIo();
  // The changes just recorded, handed over as this batch's last statements (run by `run`, in the same write).
  await tx.appendRecorded(async (_query, changes, changedAt) => {
    statements.push(...changeInserts(changes, changedAt, mysql));
  });
  return statements;
}

function yieldToIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Sends the statements one after another, making each one's SQL while the database runs the one before. */
async function run(tx: LedgerTx, statements: readonly Statement[]): Promise<void> {
  let sql = statements[0]?.();
  for (let i = 0; sql !== undefined; i++) {
    const done = tx.query(sql);
    done.catch(() => undefined);
    sql = statements[i + 1]?.();
    await done;
  }
}

/**
 * Empties the ledger's tables — projects, milestones, meetings, venues, output reports, factor issues, targets, their
 * rollups and their history — before a bulk load replaces a whole data set
 * (the benchmark generator's "another size"). The versions are kept: they only
 * grow, and the load moves them again. Not a ledger write: on MySQL it runs
 * outside any transaction (TRUNCATE commits, and does not fire the history's
 * triggers that refuse a DELETE); on SQLite, in the runner's transaction, the
 * history table is dropped and made again from its own stored definition
 * (table, indexes and triggers), since a DELETE there would fire the triggers.
 */
export async function emptyLedgerTables(qr: QueryRunner): Promise<void> {
  // Children before their parents (SQLite checks each row): a project's output reports and factor issues, then the
  // project; the targets hold regions (the trees are emptied after).
  const tables = ["output_report", "factor_issue", "assessment_target", "milestone", "project", "venue", "meeting", ...ROLLUPS.map((r) => r.table)];
  if (isMysql(qr.manager)) {
    const [before] = await qr.query("SELECT @@SESSION.foreign_key_checks AS fk");
    await qr.query("SET FOREIGN_KEY_CHECKS = 0");
    try {
      for (const table of [...tables, "ledger_change"]) await qr.query(`TRUNCATE TABLE ${table}`);
    } finally {
      await qr.query(`SET FOREIGN_KEY_CHECKS = ${Number(before.fk) ? 1 : 0}`);
    }
    return;
  }
  for (const table of tables) await qr.query(`DELETE FROM ${table}`);
  const definitions: Array<{ type: string; sql: string | null }> = await qr.query(
    "SELECT type, sql FROM sqlite_master WHERE tbl_name = 'ledger_change' ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END",
  );
  invariant(definitions.some((d) => d.type === "table"), "no ledger_change table (migrations not run?)");
  await qr.query("DROP TABLE ledger_change");
  // Automatic indexes (of PRIMARY KEY or UNIQUE) have no SQL: the table's own statement makes them.
  for (const { sql } of definitions) if (sql) await qr.query(sql);
}

// ---------------------------------------------------------------- checks

/** Problems named by the row they are about; at most MAX_PROBLEMS, then the load fails. */
class BulkProblems extends Problems {
  add(field: string, reason: string): void {
    super.add(field, reason);
    if (this.list.length >= MAX_PROBLEMS) this.throwIfAny();
  }
}

async function contextOf(tx: LedgerTx): Promise<BulkContext> {
  const trees = await loadTrees({ query: (sql: string, params?: unknown[]) => tx.query(sql, params ?? []) });
  const anyProject = await tx.read("SELECT id FROM project LIMIT 1");
  return {
    trees,
    mysql: tx.mysql,
    leaves: new Set(trees.regions.all().filter((r) => trees.regions.children(r.id).length === 0).map((r) => r.id)),
    meetings: new Map(),
    dates: new Set(),
    touched: new Map(),
    rebuild: anyProject.length === 0,
  };
}

/** Reads the meetings (and venues) the batch refers to that this write has not met yet, after noting the batch's own. */
async function learnMeetings(tx: LedgerTx, context: BulkContext, ids: Array<number | null>, own: readonly BulkMeeting[]): Promise<void> {
  for (const m of own) if (isId(m.id) && !context.meetings.has(m.id)) context.meetings.set(m.id, { id: m.id, hostRegionId: m.hostRegionId, majorProjects: m.majorProjects === true, venues: new Set() });
  const missing = [...new Set(ids)].filter((id): id is number => id !== null && isId(id) && !context.meetings.has(id));
  for (const [id, facts] of await readMeetingFacts(tx, missing)) context.meetings.set(id, facts);
}

function checkMeetings(context: BulkContext, meetings: readonly BulkMeeting[], venues: readonly BulkVenue[], problems: Problems): void {
  const regions = context.trees.regions;
  const mains = new Map<number, number>();
  for (const m of meetings) {
    const at = `meetings[id=${m.id}]`;
    if (!isId(m.id)) problems.add(`${at}.id`, "must be a whole number from 1");
    if (!isText(m.title)) problems.add(`${at}.title`, "must be 1 to 200 characters, trimmed, without control characters");
    checkDate(context, problems, `${at}.heldOn`, m.heldOn);
    if (!regions.byId(m.hostRegionId)) problems.add(`${at}.hostRegionId`, `no region ${m.hostRegionId}`);
    mains.set(m.id, 0);
  }
  for (const v of venues) {
    const at = `venues[id=${v.id}]`;
    if (!isId(v.id)) problems.add(`${at}.id`, "must be a whole number from 1");
    const meeting = context.meetings.get(v.meetingId);
    const region = regions.byId(v.regionId);
    if (!meeting) problems.add(`${at}.meetingId`, `no meeting ${v.meetingId}`);
    if (!region) problems.add(`${at}.regionId`, `no region ${v.regionId}`);
    if (!meeting || !region) continue;
    if (meeting.venues.has(region.id)) problems.add(`${at}.regionId`, `meeting ${v.meetingId} has a venue in ${region.name} (${region.code}) already`);
    if (v.kind === MAIN) {
      if (region.id !== meeting.hostRegionId) problems.add(`${at}.regionId`, `the MAIN venue of meeting ${v.meetingId} is at its host region ${meeting.hostRegionId}`);
      mains.set(v.meetingId, (mains.get(v.meetingId) ?? 0) + 1);
    } else if (v.kind !== "SUB") {
      problems.add(`${at}.kind`, `must be MAIN or SUB (got ${JSON.stringify(v.kind)})`);
    } else if (!regions.ancestorsOf(region.id).some((node) => node.id === meeting.hostRegionId)) {
      problems.add(`${at}.regionId`, `${region.name} (${region.code}) is not below the host of meeting ${v.meetingId}: sub-venues are regions below the host`);
    }
    meeting.venues.add(region.id);
  }
  for (const [id, count] of mains) if (count !== 1) problems.add(`meetings[id=${id}]`, `needs exactly one MAIN venue in the same load (got ${count})`);
}

/** Checks the projects and their milestones; returns each project's milestones in stage order. */
function checkProjects(context: BulkContext, projects: readonly BulkProject[], milestones: readonly BulkMilestone[], problems: Problems): Map<number, BulkMilestone[]> {
  const byProject = new Map<number, BulkMilestone[]>();
  for (const p of projects) {
    if (!isId(p.id)) problems.add(`projects[id=${p.id}].id`, "must be a whole number from 1");
    else if (byProject.has(p.id)) problems.add(`projects[id=${p.id}].id`, "appears twice");
    else byProject.set(p.id, []);
  }
  for (const m of milestones) {
    const list = byProject.get(m.projectId);
    if (!isId(m.id)) problems.add(`milestones[id=${m.id}].id`, "must be a whole number from 1");
    if (!list) problems.add(`milestones[id=${m.id}].projectId`, `no project ${m.projectId} in this load`);
    else list.push(m);
  }
  const { regions, sectors } = context.trees;
  for (const p of projects) {
    const at = `projects[id=${p.id}]`;
    const list = byProject.get(p.id);
    if (!list) continue;
    if (!isText(p.name)) problems.add(`${at}.name`, "must be 1 to 200 characters, trimmed, without control characters");
    if (!context.leaves.has(p.regionId)) {
      const region = regions.byId(p.regionId);
      problems.add(`${at}.regionId`, region ? `${region.name} (${region.code}) has regions below it: a project sits in a county, or in a city that has no counties` : `no region ${p.regionId}`);
    }
    if (!sectors.byId(p.sectorId)) problems.add(`${at}.sectorId`, `no sector ${p.sectorId}`);
    if (!Number.isSafeInteger(p.investmentWan) || p.investmentWan <= 0 || p.investmentWan > 100_000_000) problems.add(`${at}.investmentWan`, "must be positive, exact to 1 万元 and at most 10,000 亿元");
    if (list.length === 0) {
      problems.add(at, "a project needs its first milestone");
      continue;
    }
    let previous: BulkMilestone | undefined;
    for (const m of list) {
      const mat = `milestones[id=${m.id}]`;
      if (m.stage !== 1 && m.stage !== 2 && m.stage !== 3) problems.add(`${mat}.stage`, `must be 1, 2 or 3 (got ${m.stage})`);
      checkDate(context, problems, `${mat}.reachedOn`, m.reachedOn);
      if (previous && !(m.stage > previous.stage)) problems.add(`${mat}.stage`, "milestones must move forward, one per stage, in stage order");
      if (previous && m.reachedOn < previous.reachedOn) problems.add(`${mat}.reachedOn`, `must not be before the previous milestone's date ${previous.reachedOn}`);
      checkPlacement(context, problems, mat, m, p.investmentWan);
      previous = m;
    }
    if (p.stage !== previous!.stage || p.stageReachedOn !== previous!.reachedOn) {
      problems.add(`${at}.stage`, `must be the stage and date of its last milestone (${previous!.stage}, ${previous!.reachedOn}; got ${p.stage}, ${p.stageReachedOn})`);
    }
  }
  return byProject;
}

function checkPlacement(context: BulkContext, problems: Problems, at: string, m: BulkMilestone, investmentWan: number): void {
  if (m.meetingId === null) {
    if (m.venueRegionId !== null) problems.add(`${at}.venueRegionId`, "a venue needs a meeting");
    return;
  }
  const meeting = context.meetings.get(m.meetingId);
  if (!meeting) return problems.add(`${at}.meetingId`, `no meeting ${m.meetingId}`);
  if (m.venueRegionId !== null && !meeting.venues.has(m.venueRegionId)) problems.add(`${at}.venueRegionId`, `region ${m.venueRegionId} holds no venue of meeting ${m.meetingId}`);
  if (meeting.majorProjects && m.stage === stageToNumber(ProjectStage.STARTED) && investmentWan < MAJOR_STARTED_MIN_WAN) {
    problems.add(`${at}.meetingId`, `meeting ${m.meetingId} is a major-project meeting: its STARTED batch takes only projects of at least 5 亿元`);
  }
}

/** A calendar date no earlier than EARLIEST_DATE; each distinct date is checked once (a load repeats a few thousand). */
function checkDate(context: BulkContext, problems: Problems, field: string, value: string): void {
  if (context.dates.has(value)) return;
  if (typeof value !== "string" || !isIsoDate(value)) return problems.add(field, `must be a calendar date written YYYY-MM-DD (got ${JSON.stringify(value)})`);
  if (value < EARLIEST_DATE) return problems.add(field, `must not be before ${EARLIEST_DATE} (got ${value})`);
  context.dates.add(value);
}

function isId(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

function isText(value: unknown): value is string {
  return typeof value === "string" && value.length >= 1 && value.length <= 200 && value.trim() === value && !/\p{Cc}/u.test(value);
}

// ---------------------------------------------------------------- statements

/** Multi-row INSERTs of literal rows, ROWS_PER_STATEMENT a statement. */
function inserts<T>(table: string, columns: string, rows: readonly T[], literal: (row: T) => string): Statement[] {
  return chunks(rows, ROWS_PER_STATEMENT).map((chunk) => () => `INSERT INTO ${table} (${columns}) VALUES ${chunk.map(literal).join(",")}`);
}

function chunks<T>(rows: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** A string literal: quotes doubled, and on MySQL (whose default sql_mode reads backslash escapes) backslashes too; a NUL is refused. */
function text(value: string, mysql: boolean): string {
  if (!QUOTED.test(value)) return `'${value}'`;
  invariant(!value.includes("\0"), "a NUL character in a bulk-loaded text");
  return `'${(mysql ? value.replace(/\\/g, "\\\\") : value).replace(/'/g, "''")}'`;
}

/** What a literal must escape (or refuse: SQLite reads a statement up to a NUL). */
const QUOTED = /['\\\0]/;

// ---------------------------------------------------------------- rollups, history, versions

function recordMeetings(tx: LedgerTx, context: BulkContext, meetings: readonly BulkMeeting[], venues: readonly BulkVenue[]): void {
  const regions = context.trees.regions;
  const subs = new Map<number, string[]>();
  for (const v of venues) if (v.kind !== MAIN) subs.set(v.meetingId, [...(subs.get(v.meetingId) ?? []), regions.byId(v.regionId)!.code]);
  for (const m of meetings) {
    const sub = subs.get(m.id) ?? [];
    touch(tx, context, m.hostRegionId, null);
    tx.record({
      operation: "CREATE_MEETING",
      projectId: null,
      meetingId: m.id,
      projectVersion: null,
      regionId: m.hostRegionId,
      fields: [
        fieldChange("title", null, m.title),
        fieldChange("heldOn", null, m.heldOn),
        fieldChange("host", null, regions.byId(m.hostRegionId)!.code),
        ...(sub.length ? [fieldChange("subVenues", null, sub.join(","))] : []),
        ...(m.majorProjects ? [fieldChange("majorProjects", null, "true")] : []),
      ],
      reason: null,
    });
  }
}

/** Each project's shape into the rollup delta, one CREATE_PROJECT change each (as `addProjects` records it), and each region touched once. */
function recordProjects(tx: LedgerTx, context: BulkContext, projects: readonly BulkProject[], byProject: Map<number, BulkMilestone[]>): void {
  const { regions, sectors } = context.trees;
  const code = (region: Region | undefined) => region!.code;
  for (const p of projects) {
    const milestones = byProject.get(p.id)!;
    if (!context.rebuild) tx.delta.add({ regionId: p.regionId, sectorId: p.sectorId, stage: p.stage, investmentWan: p.investmentWan, milestones }, 1);
    touch(tx, context, p.regionId, null);
    const fields: FieldChange[] = [
      fieldChange("name", null, p.name),
      fieldChange("region", null, code(regions.byId(p.regionId))),
      fieldChange("sector", null, sectors.byId(p.sectorId)!.code),
      fieldChange("investment", null, formatWan(p.investmentWan)),
    ];
    for (const m of milestones) {
      const name = `milestones.${stageFromNumber(m.stage)}`;
      fields.push(fieldChange(`${name}.reachedOn`, null, m.reachedOn));
      if (m.meetingId !== null) {
        touch(tx, context, p.regionId, context.meetings.get(m.meetingId)!.hostRegionId);
        fields.push(fieldChange(`${name}.meeting`, null, String(m.meetingId)));
      }
      if (m.venueRegionId !== null) fields.push(fieldChange(`${name}.venue`, null, code(regions.byId(m.venueRegionId))));
    }
    tx.record({ operation: "CREATE_PROJECT", projectId: p.id, meetingId: null, projectVersion: 1, regionId: p.regionId, fields, reason: null });
  }
}

/** `tx.touch` once per region, and once per meeting host with it, for the whole write (touch itself keeps every call). */
function touch(tx: LedgerTx, context: BulkContext, regionId: number, hostRegionId: number | null): void {
  const hosts = getOrCreate(context.touched, regionId, () => {
    tx.touch(regionId);
    return new Set<number>();
  });
  if (hostRegionId !== null && !hosts.has(hostRegionId)) {
    hosts.add(hostRegionId);
    tx.touch(regionId, [hostRegionId]);
  }
}

/**
 * MySQL's foreign-key and secondary-unique checks off for the load's INSERTs
 * (the session's own settings back afterwards, whatever happens): the checks
 * above already established what they would (regions, sectors, meetings and
 * venues exist; milestones belong to the load's new projects, one per stage;
 * a venue once per meeting and region), so their index lookups are saved
 * (at 100,000 projects the project and milestone INSERTs took 2.7 s instead of 3.5 s).
 */
async function withoutRedundantChecks(tx: LedgerTx, mysql: boolean, run: () => Promise<void>): Promise<void> {
  if (!mysql) return run();
  await tx.query("SET @bulk_fk = @@SESSION.foreign_key_checks, @bulk_uq = @@SESSION.unique_checks, SESSION foreign_key_checks = 0, SESSION unique_checks = 0");
  try {
    await run();
  } finally {
    await tx.query("SET SESSION foreign_key_checks = @bulk_fk, SESSION unique_checks = @bulk_uq");
  }
}

/**
 * The history rows as `appendChanges` writes them, but as literals, 2,000 a
 * statement: at 100,000 projects, its 200-row statements of twelve parameters
 * each took twice as long, most of it formatting the parameters.
 */
function changeInserts(changes: readonly ChangeRecord[], changedAt: string, mysql: boolean): Statement[] {
  const literal = (value: string | number | null) => (value === null ? "NULL" : typeof value === "number" ? String(value) : text(value, mysql));
  return chunks(changes, CHANGES_PER_STATEMENT).map(
    (chunk) => () => `INSERT INTO ledger_change (${CHANGE_COLUMNS.join(", ")}) VALUES ${chunk.map((c) => `(${changeValues(c, changedAt).map(literal).join(",")})`).join(",")}`,
  );
}
