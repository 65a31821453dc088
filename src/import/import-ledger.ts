/**
 * The import of a region's ledger file, shared by `npm run import` and
 * `POST /import/projects.csv`: every row checked by the mutations' rules,
 * then all rows written in one transaction through the ledger, or none.
 */
import { isoDay } from "../common/date.scalar";
import { AppError, ErrorCode } from "../common/errors";
import { loadTrees } from "../common/trees";
import { placeholders } from "../db/sql";
import type { SqlClient } from "../db/sql-counter";
import type { RegionTree } from "../region/region.type";
import { ProjectStage, stageFromNumber, stageToNumber } from "../common/stage";
import type { Actor } from "../ledger/actor";
import { ForbiddenError, type Ledger, type LedgerTx } from "../ledger/ledger";
import { refKeyColumn } from "../ledger/ref-key";
import { reportOutput } from "../ledger/operations/output-reports";
import { AdvanceStageInput, UpdateProjectInput } from "../ledger/ledger.inputs";
import { LedgerInputError, Problems } from "../ledger/problems";
import { type CheckedRow, checkRows, columnName, draftOf, exceedsRows, type ImportProblem, type LedgerEncoding, type LedgerFile, type LedgerSource, openLedgerCsv, pathOf, problemOf, sortProblems, TooManyRows, UnreadableFile } from "./ledger-csv";

/** Rows read, checked and written per step: the file is never held whole, and other requests run between steps (on SQLite a step runs without a break: 1,000 rows held a cheap query ~115 ms at p50 in bench/import-memory.ts). */
const CHUNK = 250;
/** References per `IN (...)` read of the stored projects. */
const READ_CHUNK = 500;
/** Problems listed in a report; more are counted (`problemsNotListed`), so that a report's size is bounded whatever the file. */
export const MAX_LISTED_PROBLEMS = 1000;

export interface ImportOptions {
  /** Check everything, the ledger's rules and scope included, then roll back: the report says what the import would do. */
  dryRun?: boolean;
  /** Called after each step: data rows handled so far, and the share of the file read (0 to 1; 1 once every row is in, before the commit). */
  onProgress?: (rows: number, fractionRead: number) => void;
  /** Aborted (the HTTP client went away, the answer timed out): the transaction is rolled back instead of committed. */
  signal?: AbortSignal;
  /** Most data rows a file may have (IMPORT_MAX_ROWS); a file with more is refused (PAYLOAD_TOO_LARGE) and nothing is written. */
  maxRows?: number;
}

/** What an import did, or (dry run) would do. Rows = created + advanced + updated + unchanged when the file went in. */
export interface ImportReport {
  /** Data rows of the file (blank lines not counted); when a malformed line stopped the reading, the rows read before it. */
  rows: number;
  /** How the file's bytes were read: UTF-8 (with or without a BOM), or GB18030 (what Excel on Chinese Windows saves as "CSV (逗号分隔)"). */
  encoding: LedgerEncoding;
  /** New references: projects added with their milestone. */
  created: number;
  /** Known references at a later stage: the project moved on (its own fields updated too where they differ). */
  advanced: number;
  /** Known references at the same stage whose name, region, sector, investment or investor differ: updated. */
  updated: number;
  /** Known references the file describes as they are stored. */
  unchanged: number;
  /** Every problem of every bad row, in file order, up to MAX_LISTED_PROBLEMS; when there is any, nothing was written and the counts are 0. */
  problems: ImportProblem[];
  /** Problems found beyond those listed (0 unless the file has more than MAX_LISTED_PROBLEMS). */
  problemsNotListed: number;
  dryRun: boolean;
  /** The provinces whose data versions moved (for the caller's caches); empty when nothing was written. */
  provinces: number[];
}

/** A stored project a row of the file names by its reference. */
interface StoredProject {
  id: number;
  ref: string;
  stage: number;
  reachedOn: string;
  name: string;
  regionCode: string;
  sectorCode: string;
  investmentWan: number;
  investor: string | null;
  version: number;
  meetingId: number | null;
  venueRegionCode: string | null;
  /** 达效: the designed annual output (万元, null when not recorded) and the reports by year (万元 and date). */
  designedWan: number | null;
  reports: Map<number, { outputWan: number; reportedOn: string }>;
}

const IN_PRODUCTION = stageToNumber(ProjectStage.IN_PRODUCTION);
const EFFECTIVE = stageToNumber(ProjectStage.EFFECTIVE);

/** Thrown inside the transaction to roll it back (bad rows, a dry run, an aborted request); never leaves this module. */
class Rollback extends Error {}

/** The problems of an import: the first MAX_LISTED_PROBLEMS in file order, and how many more. */
class ProblemList {
  readonly listed: ImportProblem[] = [];
  notListed = 0;

  /** Adds one step's problems (in file order: steps come in file order). */
  add(problems: readonly ImportProblem[]): void {
    const room = Math.max(0, MAX_LISTED_PROBLEMS - this.listed.length);
    this.listed.push(...problems.slice(0, room));
    this.notListed += Math.max(0, problems.length - room);
  }

  get empty(): boolean {
    return this.listed.length === 0;
  }
}

/** What the import did inside its transaction. */
interface Outcome {
  counts: Counts;
  problems: ProblemList;
  rows: number;
}

/**
 * Imports a ledger file as `actor`, in bounded memory: the file is read,
 * checked and written a step of CHUNK rows at a time inside one transaction,
 * and committed only when every row is good. Bad rows are not thrown but
 * reported (every problem of every row, with line, column and reason) and
 * nothing is written. Throws AppError FORBIDDEN (with `line` and `column`)
 * when a row lies outside the actor's region, CONFLICT when another write
 * changed one of the file's projects meanwhile, PAYLOAD_TOO_LARGE above
 * `maxRows`, and BAD_REQUEST when `signal` was aborted; nothing is written
 * then either.
 */
export async function importLedger(ledger: Ledger, actor: Actor, csv: LedgerSource, options: ImportOptions = {}): Promise<ImportReport> {
  const dryRun = options.dryRun ?? false;
  // The header first, before any transaction: a file whose shape is wrong is refused without touching the database.
  const head = await openLedgerCsv(csv);
  await head.close();
  // Over IMPORT_MAX_ROWS is refused up front, before a transaction is opened, not when its row 200,001 is reached.
  if (!head.problems.length && options.maxRows !== undefined && (await exceedsRows(csv, options.maxRows, head.encoding))) throw tooManyRows(options.maxRows);
  const report = (outcome: Outcome | undefined, written: Counts | null, provinces: number[]): ImportReport => {
    const problems = outcome?.problems ?? Object.assign(new ProblemList(), { listed: head.problems });
    const counts = written ?? { created: 0, advanced: 0, updated: 0, unchanged: 0 };
    return { rows: outcome?.rows ?? 0, encoding: head.encoding, ...counts, problems: problems.listed, problemsNotListed: problems.notListed, dryRun, provinces };
  };
  if (head.problems.length) return report(undefined, null, []);

  let outcome: Outcome | undefined;
  try {
    const written = await ledger.write(actor, async (tx) => {
      // Reset on every attempt: the ledger runs this again after a deadlock.
      outcome = await importRows(tx, actor, csv, head.encoding, options);
      if (options.signal?.aborted) throw new Rollback("aborted");
      if (!outcome.problems.empty || dryRun) throw new Rollback("not to be committed");
      return outcome.counts;
    });
    return report(outcome, written.value, written.provinces);
  } catch (error) {
    if (error instanceof TooManyRows) throw tooManyRows(error.maxRows);
    if (!(error instanceof Rollback)) throw error;
    if (options.signal?.aborted) throw new AppError(ErrorCode.BAD_REQUEST, "the import was abandoned before it was committed (the request went away or timed out): nothing was written");
    return report(outcome, outcome!.problems.empty ? outcome!.counts : null, []);
  }
}

/** The import's 413: the file has more rows than IMPORT_MAX_ROWS. */
function tooManyRows(maxRows: number): AppError {
  return new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `the file has more than ${maxRows} rows (IMPORT_MAX_ROWS): split it into files of at most ${maxRows} rows; nothing was imported`, {
    limit: maxRows,
    setting: "IMPORT_MAX_ROWS",
  });
}

interface Counts {
  created: number;
  advanced: number;
  updated: number;
  unchanged: number;
}

/**
 * Reads the file a step at a time and applies each step's good rows in the
 * write's transaction, collecting every problem. After each step the
 * history recorded so far is written out and other requests get their turn,
 * so that what the import holds in memory does not grow with the file (but
 * for one number per reference, to find a reference given twice).
 */
async function importRows(tx: LedgerTx, actor: Actor, csv: LedgerSource, encoding: LedgerEncoding, options: ImportOptions): Promise<Outcome> {
  // The encoding found when the header was read: a file on disk is not read through again to find it.
  const reader = await openLedgerCsv(csv, { maxRows: options.maxRows, encoding });
  const counts: Counts = { created: 0, advanced: 0, updated: 0, unchanged: 0 };
  const listed = new ProblemList();
  const seen = new Map<string, number>();
  const scope: ScopeCheck = { forbidden: undefined, regions: undefined };
  try {
    for await (const chunk of reader.chunks(CHUNK)) {
      const problems: ImportProblem[] = [];
      const { checked, bad } = checkRows(reader, chunk, seen, problems);
      for (const row of bad) {
        const found = new Problems();
        tx.checkPlace(found, pathOf(row), row);
        for (const p of found.list) {
          const problem = problemOf(reader, p.field, p.reason, row.line);
          if (!(problem.column !== null && [...row.reported].some((key) => columnName(reader, key) === problem.column))) problems.push(problem);
        }
      }
      await applyRows(tx, actor, reader, checked, problems, counts, scope, options);
      listed.add(sortProblems(reader, problems));
      // The history of this step goes out now, not at the commit: memory stays bounded whatever the file's size.
      await tx.appendRecorded();
      if (options.signal?.aborted) throw new Rollback("aborted");
      options.onProgress?.(reader.rowsRead, reader.fractionRead);
      await new Promise((resolve) => setImmediate(resolve));
    }
  } catch (error) {
    if (!(error instanceof UnreadableFile)) throw error;
    listed.add([error.problem]);
  } finally {
    await reader.close();
  }
  options.onProgress?.(reader.rowsRead, 1);
  if (scope.forbidden && listed.empty) throw scope.forbidden;
  return { counts, problems: listed, rows: reader.rowsRead };
}

/** The first row found outside the actor's region (thrown as FORBIDDEN only when no row is bad), and the region tree it was checked with. */
interface ScopeCheck {
  forbidden: AppError | undefined;
  regions: RegionTree | undefined;
}

/**
 * Applies one step's checked rows in the write's transaction: known
 * references first, one operation each, then the new ones in one call. A row
 * the ledger refuses is recorded and the rest go on, so that one answer lists
 * every bad row; a row outside the actor's region is kept aside in `scope`.
 */
async function applyRows(
  tx: LedgerTx,
  actor: Actor,
  file: LedgerFile,
  rows: readonly CheckedRow[],
  problems: ImportProblem[],
  counts: Counts,
  scope: ScopeCheck,
  options: ImportOptions,
): Promise<void> {
  const stored = await readStored(tx, rows.map((r) => r.ref));
  const known = rows.filter((r) => stored.has(refKeyColumn(r.ref)));
  const fresh = rows.filter((r) => !stored.has(refKeyColumn(r.ref)));
  /** Runs one ledger call for `line` (undefined: the paths name their lines), recording what it refuses; true when it went through. */
  const attempt = async (line: number | undefined, work: () => Promise<unknown>): Promise<boolean> => {
    try {
      await work();
      return true;
    } catch (error) {
      if (error instanceof LedgerInputError) {
        for (const p of error.problems) problems.push(problemOf(file, p.field, p.reason, line));
        return false;
      }
      if (error instanceof ForbiddenError) {
        scope.forbidden ??= forbiddenAt(file, error, line);
        return false;
      }
      throw error;
    }
  };

  for (const row of known) {
    const project = stored.get(refKeyColumn(row.ref))!;
    const kind = await applyKnown(tx, file, row, project, problems, attempt);
    if (kind) counts[kind] += 1;
    if (kind === "unchanged" && actor.scopeRegionId !== null && !scope.forbidden) {
      // The ledger checks scope on a write; a row that writes nothing is checked here, so that a file holds only rows the token may write.
      scope.regions ??= (await loadTrees({ query: (sql: string, params?: unknown[]) => tx.read(sql, params ?? []) } as SqlClient)).regions;
      scope.forbidden = outsideScope(file, actor, scope.regions, row, project.regionCode);
    }
    if (options.signal?.aborted) throw new Rollback("aborted");
  }
  if (!fresh.length) return;
  // A new row at EFFECTIVE needs an output report that gives it (checked before anything of the row is written).
  const entering = fresh.filter((row) => {
    if (row.stage !== ProjectStage.EFFECTIVE || row.report) return true;
    problems.push({
      line: row.line,
      column: columnName(file, "stage"),
      reason: `a new project enters at EFFECTIVE (达效) only with an output report reaching its designed output: give outputYear, output and designedAnnualOutput, or enter it at IN_PRODUCTION`,
    });
    return false;
  });
  let ids: number[] = [];
  if (!(await attempt(undefined, async () => (ids = await tx.addProjects(entering.map(draftOf), entering.map(pathOf), new Problems(), { single: false }))))) return;
  counts.created += entering.length;
  for (const [i, row] of entering.entries()) {
    // Added IN_PRODUCTION (a row at EFFECTIVE too: its report gives EFFECTIVE), at version 1.
    if (row.report) await applyReport(tx, file, row, ids[i], 1, IN_PRODUCTION, problems, attempt, true);
  }
}

/**
 * Applies a row's output report to project `id` at `version` (see reportOutput): the row's stage must be what the
 * project ends at (`expected`: IN_PRODUCTION, or EFFECTIVE, which the report must give). `fresh`: the project was
 * added by this row (its IN_PRODUCTION milestone carries the row's date; the year is then not held to it). A row at
 * EFFECTIVE dates the EFFECTIVE milestone by its date, which is the report's date.
 */
async function applyReport(
  tx: LedgerTx,
  file: LedgerFile,
  row: CheckedRow,
  id: number,
  version: number,
  storedStage: number,
  problems: ImportProblem[],
  attempt: (line: number, work: () => Promise<unknown>) => Promise<boolean>,
  fresh = false,
): Promise<boolean> {
  const report = row.report!;
  const at = (column: Parameters<typeof columnName>[1], reason: string) => problems.push({ line: row.line, column: columnName(file, column), reason });
  const becoming = row.stage === ProjectStage.EFFECTIVE && storedStage !== EFFECTIVE;
  if (becoming && report.reportedOn !== null && report.reportedOn !== row.reachedOn) {
    at("reportedOn", `the row's stage EFFECTIVE is reached by this report, on the row's date ${row.reachedOn}: the report's date must be the same (got ${report.reportedOn})`);
    return false;
  }
  let effective = false;
  const input = {
    projectId: String(id),
    year: report.year,
    output: report.output,
    designedAnnualOutput: row.designedAnnualOutput,
    reportedOn: report.reportedOn ?? (becoming ? row.reachedOn : null),
    expectedVersion: version,
  };
  const ok = await attempt(row.line, async () => (effective = (await reportOutput(tx, input, new Problems(), pathOf(row), { sinceAnyYear: fresh && becoming })).effective));
  if (!ok) return false;
  if (becoming && !effective) {
    at("output", `reaches ${formatRate(report.output, row.designedAnnualOutput)} of the designed output, below EFFECTIVE_THRESHOLD: the project stays IN_PRODUCTION, so the row's stage EFFECTIVE is wrong`);
    return false;
  }
  if (!becoming && effective) {
    at("stage", `the row's report reaches the designed output (EFFECTIVE_THRESHOLD): the project becomes EFFECTIVE on ${input.reportedOn ?? "the day of the import"}; write EFFECTIVE (达效) as its stage, with that date`);
    return false;
  }
  return true;
}

/** A rate as a percentage for a problem's reason ("85 %"), or "less than needed" when the design is not in the row. */
function formatRate(output: number, design: number | null): string {
  return design ? `${Math.round((output / design) * 10_000) / 100} %` : "less than EFFECTIVE_THRESHOLD";
}

/**
 * One row naming a stored project: a later stage advances it, the same stage
 * updates its own fields where they differ (or leaves it unchanged), an
 * earlier stage is a problem, and so is another date or meeting for the
 * current stage (a date is corrected with correctMilestoneDate, which takes a
 * reason; a meeting is added with recordAtMeeting).
 */
async function applyKnown(
  tx: LedgerTx,
  file: LedgerFile,
  row: CheckedRow,
  project: StoredProject,
  problems: ImportProblem[],
  attempt: (line: number, work: () => Promise<unknown>) => Promise<boolean>,
): Promise<keyof Counts | null> {
  const at = (column: Parameters<typeof columnName>[1], reason: string) => problems.push({ line: row.line, column: columnName(file, column), reason });
  const stage = stageToNumber(row.stage);
  const storedStage = stageFromNumber(project.stage);
  if (project.ref !== row.ref) {
    at("ref", `the database holds this reference as "${project.ref}" (project ${project.id}), letter case, width and accents aside: write it as stored`);
    return null;
  }
  if (stage < project.stage) {
    at("stage", `project ${project.id} (${row.ref}) is already at ${storedStage} since ${project.reachedOn}: a stage only moves forward, not back to ${row.stage}`);
    return null;
  }
  // EFFECTIVE (达效) is reached only by an output report of a project IN_PRODUCTION.
  if (stage === EFFECTIVE && project.stage < EFFECTIVE) {
    if (project.stage < IN_PRODUCTION) {
      at("stage", `project ${project.id} (${row.ref}) is at ${storedStage}: it reaches EFFECTIVE by an output report once IN_PRODUCTION; import it at IN_PRODUCTION first`);
      return null;
    }
    if (!row.report) {
      at("stage", `project ${project.id} (${row.ref}) is IN_PRODUCTION: EFFECTIVE is reached by an output report reaching its designed output; give outputYear and output (and designedAnnualOutput when none is recorded)`);
      return null;
    }
  }
  if (stage === project.stage) {
    const before = problems.length;
    if (row.reachedOn !== project.reachedOn) {
      at("date", `project ${project.id} (${row.ref}) reached ${storedStage} on ${project.reachedOn}, not ${row.reachedOn}; a wrong date is corrected with the correctMilestoneDate mutation, which records the reason`);
    }
    if (row.meetingId !== undefined && row.meetingId !== project.meetingId) {
      const was = project.meetingId === null ? "at no meeting" : `at meeting ${project.meetingId}`;
      at("meetingId", `project ${project.id} (${row.ref}) reached ${storedStage} ${was}, not ${row.meetingId === null ? "at none" : `at meeting ${row.meetingId}`}; a meeting is added with the recordAtMeeting mutation`);
    } else if (row.venueRegionCode !== undefined && row.venueRegionCode !== project.venueRegionCode) {
      at("venueRegionCode", `project ${project.id} (${row.ref}) was presented at ${project.venueRegionCode ?? "the meeting as a whole"}, not ${row.venueRegionCode ?? "the meeting as a whole"}`);
    }
    if (problems.length > before) return null;
  }
  const changes = ownFieldChanges(row, project);
  let version = project.version;
  if (changes) {
    const ok = await attempt(row.line, () => tx.updateProject(String(project.id), version, Object.assign(new UpdateProjectInput(), changes), new Problems()));
    if (!ok) return null;
    version += 1;
  }
  const newReport = row.report !== null && reportDiffers(row, project);
  if (stage === project.stage) {
    if (newReport) return (await applyReport(tx, file, row, project.id, version, project.stage, problems, attempt)) ? "updated" : null;
    return changes ? "updated" : "unchanged";
  }
  if (stage === EFFECTIVE) return (await applyReport(tx, file, row, project.id, version, project.stage, problems, attempt)) ? "advanced" : null;
  const input = Object.assign(new AdvanceStageInput(), {
    projectId: String(project.id),
    stage: row.stage,
    reachedOn: row.reachedOn,
    meetingId: row.meetingId == null ? null : String(row.meetingId),
    venueRegionCode: row.venueRegionCode ?? null,
    expectedVersion: version,
  });
  if (!(await attempt(row.line, () => tx.advanceStage(input, new Problems())))) return null;
  if (newReport && !(await applyReport(tx, file, row, project.id, version + 1, stage, problems, attempt))) return null;
  return "advanced";
}

/** Whether a row's report (and designed output) differs from what the ledger holds for that year; a report date left empty is not compared. */
function reportDiffers(row: CheckedRow, project: StoredProject): boolean {
  const report = row.report!;
  const stored = project.reports.get(report.year);
  const wan = (yi: number) => Math.round(yi * 10_000);
  if (!stored || stored.outputWan !== wan(report.output)) return true;
  if (report.reportedOn !== null && report.reportedOn !== stored.reportedOn) return true;
  return row.designedAnnualOutput !== null && wan(row.designedAnnualOutput) !== project.designedWan;
}

/** The project's own fields the row changes, as an UpdateProjectInput's fields; null when none. */
function ownFieldChanges(row: CheckedRow, project: StoredProject): Partial<UpdateProjectInput> | null {
  const changes: Partial<UpdateProjectInput> = {};
  if (row.name !== project.name) changes.name = row.name;
  if (row.regionCode !== project.regionCode) changes.regionCode = row.regionCode;
  if (row.sectorCode !== project.sectorCode) changes.sectorCode = row.sectorCode;
  if (row.investmentWan !== project.investmentWan) changes.investment = row.investmentWan / 10_000;
  if (row.investor !== undefined && row.investor !== project.investor) changes.investor = row.investor;
  return Object.keys(changes).length ? changes : null;
}

/**
 * The stored projects of these references, by their keys (`refKeyColumn`:
 * the database may answer "AB-1" for "ab-1"), with the codes and the current
 * milestone's meeting and venue a row is compared with. Every join is a LEFT
 * JOIN so that the read starts from the references: with inner joins and
 * 500 references MariaDB 10.11 chose to start from `sector` and walk each
 * sector's projects (79 ms a chunk at 20,000 projects, 171 ms at 100,000,
 * instead of a few).
 */
async function readStored(tx: LedgerTx, refs: readonly string[]): Promise<Map<string, StoredProject>> {
  const stored = new Map<string, StoredProject>();
  const keys = refs.map(refKeyColumn);
  for (let i = 0; i < keys.length; i += READ_CHUNK) {
    const chunk = keys.slice(i, i + READ_CHUNK);
    const rows = await tx.read<Record<string, unknown>>(
      "SELECT p.id, p.ref, p.ref_key, p.stage, p.stage_reached_on, p.name, p.investment_wan, p.investor, p.version, p.designed_annual_output_wan, r.code AS region_code, s.code AS sector_code, m.meeting_id, v.code AS venue_code " +
        "FROM project p LEFT JOIN region r ON r.id = p.region_id LEFT JOIN sector s ON s.id = p.sector_id " +
        "LEFT JOIN milestone m ON m.project_id = p.id AND m.stage = p.stage LEFT JOIN region v ON v.id = m.venue_region_id " +
        `WHERE p.ref_key IN (${placeholders(chunk.length)})`,
      chunk,
    );
    for (const row of rows) {
      stored.set(String(row.ref_key), {
        id: Number(row.id),
        ref: String(row.ref),
        stage: Number(row.stage),
        reachedOn: isoDay(row.stage_reached_on),
        name: String(row.name),
        regionCode: String(row.region_code),
        sectorCode: String(row.sector_code),
        investmentWan: Number(row.investment_wan),
        investor: row.investor === null ? null : String(row.investor),
        version: Number(row.version),
        meetingId: row.meeting_id === null ? null : Number(row.meeting_id),
        venueRegionCode: row.venue_code === null ? null : String(row.venue_code),
        designedWan: row.designed_annual_output_wan == null ? null : Number(row.designed_annual_output_wan),
        reports: new Map(),
      });
    }
  }
  // 达效: the reports of the stored projects of rows that carry one, 500 projects a statement.
  const withReports = [...stored.values()].filter((p) => p.designedWan !== null);
  for (let i = 0; i < withReports.length; i += READ_CHUNK) {
    const chunk = withReports.slice(i, i + READ_CHUNK);
    const byId = new Map(chunk.map((p) => [p.id, p]));
    const rows = await tx.read<{ project_id: number; year: number; output_wan: number | string; reported_on: unknown }>(
      `SELECT project_id, year, output_wan, reported_on FROM output_report WHERE project_id IN (${placeholders(chunk.length)})`,
      chunk.map((p) => p.id),
    );
    for (const row of rows) byId.get(Number(row.project_id))?.reports.set(Number(row.year), { outputWan: Number(row.output_wan), reportedOn: isoDay(row.reported_on) });
  }
  return stored;
}

/** FORBIDDEN, worded as the ledger words it, when a stored project a row names lies outside the actor's region; undefined when inside. */
function outsideScope(file: LedgerFile, actor: Actor, regions: RegionTree, row: CheckedRow, regionCode: string): AppError | undefined {
  const region = regions.byCode(regionCode);
  if (!region || regions.lineageOf(region.id).some((node) => node.id === actor.scopeRegionId)) return undefined;
  const scope = regions.byId(actor.scopeRegionId!);
  const column = columnName(file, "regionCode");
  const message = `${actor.office} may write in ${scope ? `${scope.name} (${scope.code})` : "its region"} only, not a project in ${region.name} (${region.code})`;
  return new AppError(ErrorCode.FORBIDDEN, `line ${row.line}, ${column}: ${message}; nothing was imported`, { line: row.line, column });
}

/** The ledger's FORBIDDEN with the line and column of the row that caused it. */
function forbiddenAt(file: LedgerFile, error: ForbiddenError, line: number | undefined): AppError {
  const where = problemOf(file, String(error.extensions.field ?? ""), error.message, line);
  const column = where.column ?? columnName(file, "regionCode");
  return new AppError(ErrorCode.FORBIDDEN, `line ${where.line}, ${column}: ${error.message}; nothing was imported`, { line: where.line, column });
}
