/**
 * A region's ledger (台账) as a CSV file: the columns, reading the file, the
 * checks of each row by the mutations' own field rules, the projects the rows
 * describe, and the problems of the import as line, column and reason.
 */
import { CsvError, parse } from "csv-parse/sync";

import { ProjectStage } from "../common/stage";
import type { ProjectDraft } from "../ledger/ledger";
import { checkFields, CreateProjectInput } from "../ledger/ledger.inputs";
import { Problems } from "../ledger/problems";
import { refKey } from "../ledger/ledger";

/** What an import found wrong: the file's line (1 is the header), the column as the header names it (null: the whole line or file), and why. */
export interface ImportProblem {
  line: number;
  column: string | null;
  reason: string;
}

/** The columns of a ledger file, in the order a new file should have them. */
export const LEDGER_COLUMNS = [
  { key: "ref", headers: ["ref", "台账编号"], required: true },
  { key: "name", headers: ["name", "项目名称"], required: true },
  { key: "regionCode", headers: ["regionCode", "区划代码"], required: true },
  { key: "sectorCode", headers: ["sectorCode", "行业代码"], required: true },
  { key: "investment", headers: ["investment", "总投资（亿元）", "总投资(亿元)"], required: true },
  { key: "investor", headers: ["investor", "投资方"], required: false },
  { key: "stage", headers: ["stage", "阶段"], required: true },
  { key: "date", headers: ["date", "日期"], required: true },
  { key: "meetingId", headers: ["meetingId", "会议编号"], required: false },
  { key: "venueRegionCode", headers: ["venueRegionCode", "会场区划代码"], required: false },
] as const;

export type ColumnKey = (typeof LEDGER_COLUMNS)[number]["key"];

/** The stage names a file may use: the API's and the ledger's own Chinese ones. */
const STAGE_NAMES: ReadonlyMap<string, ProjectStage> = new Map([
  ["SIGNED", ProjectStage.SIGNED],
  ["STARTED", ProjectStage.STARTED],
  ["IN_PRODUCTION", ProjectStage.IN_PRODUCTION],
  ["签约", ProjectStage.SIGNED],
  ["开工", ProjectStage.STARTED],
  ["投产", ProjectStage.IN_PRODUCTION],
]);

/** The column of each field path the ledger and the field rules report (the last segment of `line 7.milestones[0].reachedOn`). */
const FIELD_COLUMNS: Readonly<Record<string, ColumnKey>> = {
  ref: "ref",
  name: "name",
  regionCode: "regionCode",
  sectorCode: "sectorCode",
  investment: "investment",
  investor: "investor",
  stage: "stage",
  reachedOn: "date",
  meetingId: "meetingId",
  venueRegionCode: "venueRegionCode",
  projectId: "ref",
  id: "ref",
};

/** One data line of the file: its line number and its values by column, trimmed ("" when empty or the column is absent). */
export interface LedgerRow {
  line: number;
  values: Record<ColumnKey, string>;
  /** Values in cells the header names no column for (1-based positions): a row out of line with its header. */
  strays: Array<{ position: number; value: string }>;
}

/** A file as read: which columns it has (and how its header names them), its rows, and what was wrong with its shape. */
export interface LedgerFile {
  /** Each column present, with its header as written in the file. */
  columns: ReadonlyMap<ColumnKey, string>;
  rows: LedgerRow[];
  /** Problems of the file as a whole (not CSV, no header, unknown or missing columns): none of its rows can be trusted. */
  problems: ImportProblem[];
}

/** A row that passed the field rules: what it says about its project. */
export interface CheckedRow {
  line: number;
  ref: string;
  name: string;
  regionCode: string;
  sectorCode: string;
  /** 万元, exact. */
  investmentWan: number;
  /** Null when the cell is empty; undefined when the file has no investor column (the stored investor is kept). */
  investor: string | null | undefined;
  stage: ProjectStage;
  /** YYYY-MM-DD. */
  reachedOn: string;
  /** Null when the cell is empty; undefined when the file has no such column (a stored project's meeting is then not compared). */
  meetingId: number | null | undefined;
  /** Null when the cell is empty; undefined when the file has no such column. */
  venueRegionCode: string | null | undefined;
}

/**
 * Reads a ledger file: UTF-8 with or without a BOM, comma-separated, quoted as
 * Excel and RFC 4180 quote, CRLF or LF. The first non-empty line is the
 * header; blank lines and lines of empty cells are skipped. A file that is not
 * well-formed CSV is refused at its first malformed line (what follows it
 * cannot be read reliably).
 */
export function readLedgerCsv(input: string | Buffer): LedgerFile {
  const empty: LedgerFile = { columns: new Map(), rows: [], problems: [] };
  let records: string[][];
  // The line each record ends on, as csv-parse counts it (from `on_record`: its `info` option copies the whole context per record, 0.7 s more per 100,000 rows).
  // csv-parse counts each CR and each LF inside a quoted cell as a line: the start line below takes the characters of the record's own
  // cells off its end line, and the second count of every CRLF in earlier records' cells.
  const ends: number[] = [];
  try {
    records = parse(input, {
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      on_record: (record, context) => {
        ends.push(context.lines);
        return record;
      },
    });
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const line = typeof error.lines === "number" ? error.lines : 1;
    return { ...empty, problems: [{ line, column: null, reason: `not well-formed CSV: ${error.message}` }] };
  }
  let extra = 0;
  const lines = records
    .map((record, i) => {
      const line = ends[i] - extra - record.reduce((n, cell) => n + (cell.match(/[\r\n]/g)?.length ?? 0), 0);
      extra += record.reduce((n, cell) => n + (cell.match(/\r\n/g)?.length ?? 0), 0);
      return { cells: record.map((cell) => cell.trim()), line };
    }).filter((r) => r.cells.some((cell) => cell !== ""));
  if (lines.length === 0) return { ...empty, problems: [{ line: 1, column: null, reason: "the file is empty: it needs a header row and then one row per project" }] };

  const [header, ...data] = lines;
  const problems: ImportProblem[] = [];
  const columns = new Map<ColumnKey, string>();
  const keys: Array<ColumnKey | null> = header.cells.map((name) => {
    if (name === "") return null;
    const key = columnKey(name);
    if (!key) problems.push({ line: header.line, column: name, reason: `not a column of a ledger file; the columns are ${LEDGER_COLUMNS.map((c) => c.headers.join(" or ")).join(", ")}` });
    else if (columns.has(key)) problems.push({ line: header.line, column: name, reason: `the same column as ${columns.get(key)}: each column once` });
    else {
      columns.set(key, name);
      return key;
    }
    return null;
  });
  for (const column of LEDGER_COLUMNS) {
    if (column.required && !columns.has(column.key)) problems.push({ line: header.line, column: column.headers[0], reason: `the header has no ${column.headers.join(" or ")} column, which every ledger file needs` });
  }
  if (problems.length) return { columns, rows: [], problems };

  const rows = data.map(({ cells, line }): LedgerRow => {
    const values = Object.fromEntries(LEDGER_COLUMNS.map((c) => [c.key, ""])) as Record<ColumnKey, string>;
    const strays: LedgerRow["strays"] = [];
    cells.forEach((cell, i) => {
      const key = keys[i];
      if (key) values[key] = cell;
      else if (cell !== "") strays.push({ position: i + 1, value: cell });
    });
    return { line, values, strays };
  });
  return { columns, rows, problems };
}

/**
 * Checks every row by the rules of the createProject mutation's fields (the
 * ledger checks the rest: regions, sectors, dates, meetings, scope), and that
 * no reference appears twice. Returns the rows that passed; each problem of the
 * others goes to `problems`.
 */
export function checkRows(file: LedgerFile, problems: ImportProblem[]): CheckedRow[] {
  const firstLineOf = new Map<string, { line: number; ref: string }>();
  const checked: CheckedRow[] = [];
  for (const row of file.rows) {
    const before = problems.length;
    const v = row.values;
    const at = (key: ColumnKey, reason: string) => problems.push({ line: row.line, column: columnName(file, key), reason });
    const reported = new Set<ColumnKey>();
    for (const stray of row.strays) {
      problems.push({ line: row.line, column: null, reason: `a value (${JSON.stringify(stray.value.slice(0, 64))}) in cell ${stray.position}, under no column of the header` });
    }
    for (const column of LEDGER_COLUMNS) {
      if (column.required && v[column.key] === "") {
        at(column.key, column.key === "ref" ? "must not be empty: the ledger reference (台账编号) is what a later import finds the project by" : "must not be empty");
        reported.add(column.key);
      }
    }
    if (v.ref !== "") {
      const first = firstLineOf.get(refKey(v.ref));
      if (first !== undefined) {
        const differs = first.ref === v.ref ? "" : ` ("${first.ref}": references are compared without regard to letter case or width)`;
        at("ref", `the same reference as line ${first.line}${differs}: one row per project`);
        reported.add("ref");
      } else firstLineOf.set(refKey(v.ref), { line: row.line, ref: v.ref });
    }
    const investment = v.investment === "" ? undefined : parseAmount(v.investment);
    if (investment === null) {
      at("investment", `must be an amount in 亿元 such as 12.5 (got ${JSON.stringify(v.investment.slice(0, 64))})`);
      reported.add("investment");
    }
    const stage = v.stage === "" ? undefined : (STAGE_NAMES.get(v.stage.toUpperCase()) ?? null);
    if (stage === null) {
      at("stage", `must be one of SIGNED, STARTED, IN_PRODUCTION or 签约, 开工, 投产 (got ${JSON.stringify(v.stage.slice(0, 64))})`);
      reported.add("stage");
    }
    const reachedOn = v.date === "" ? undefined : parseDay(v.date);
    if (reachedOn === null) {
      at("date", `must be a date written YYYY-MM-DD (also accepted: YYYY/M/D, YYYY年M月D日; got ${JSON.stringify(v.date.slice(0, 64))})`);
      reported.add("date");
    }
    const hasInvestor = file.columns.has("investor");
    const fields = new Problems();
    checkFields(
      CreateProjectInput,
      {
        ref: v.ref || null,
        name: v.name,
        regionCode: v.regionCode,
        sectorCode: v.sectorCode,
        investment: investment ?? undefined,
        investor: v.investor || null,
        stage: stage ?? ProjectStage.SIGNED,
        reachedOn: reachedOn ?? undefined,
        meetingId: v.meetingId || null,
        venueRegionCode: v.venueRegionCode || null,
      },
      `line ${row.line}`,
      fields,
    );
    for (const problem of fields.list) {
      const key = columnOfField(problem.field);
      if (key === null || !reported.has(key)) problems.push({ line: row.line, column: key === null ? null : columnName(file, key), reason: problem.reason });
    }
    if (problems.length > before) continue;
    checked.push({
      line: row.line,
      ref: v.ref,
      name: v.name,
      regionCode: v.regionCode,
      sectorCode: v.sectorCode,
      investmentWan: Math.round(investment! * 10_000),
      investor: hasInvestor ? v.investor || null : undefined,
      stage: stage!,
      reachedOn: reachedOn!,
      meetingId: !file.columns.has("meetingId") ? undefined : v.meetingId === "" ? null : Number(v.meetingId),
      venueRegionCode: !file.columns.has("venueRegionCode") ? undefined : v.venueRegionCode || null,
    });
  }
  return checked;
}


/** The project a new row adds: itself and its one milestone. */
export function draftOf(row: CheckedRow): ProjectDraft {
  return {
    ref: row.ref,
    name: row.name,
    regionCode: row.regionCode,
    sectorCode: row.sectorCode,
    investmentWan: row.investmentWan,
    investor: row.investor ?? null,
    milestones: [{ stage: row.stage, reachedOn: row.reachedOn, meetingId: row.meetingId ?? null, venueRegionCode: row.venueRegionCode ?? null }],
  };
}

/** The ledger's path of a row, under which its problems come back (`line 7.regionCode`). */
export function pathOf(row: { line: number }): string {
  return `line ${row.line}`;
}

/**
 * A problem the ledger reported for a row, as line and column: `field` is its
 * path (`line 7.milestones[0].reachedOn`, or `input.stage` for a row given as
 * the input of one operation, which is then on line `line`).
 */
export function problemOf(file: LedgerFile, field: string, reason: string, line?: number): ImportProblem {
  const own = /^line (\d+)\./.exec(field);
  const key = columnOfField(field);
  return { line: own ? Number(own[1]) : (line ?? 1), column: key === null ? null : columnName(file, key), reason };
}

/** The header of a column as the file writes it (its English name when the file has no such column). */
export function columnName(file: LedgerFile, key: ColumnKey): string {
  return file.columns.get(key) ?? key;
}

/** Problems in file order: by line, then by column as the file has them. */
export function sortProblems(file: LedgerFile, problems: ImportProblem[]): ImportProblem[] {
  const order = new Map([...file.columns.values()].map((name, i) => [name, i]));
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.line - b.p.line || (order.get(a.p.column ?? "") ?? -1) - (order.get(b.p.column ?? "") ?? -1) || a.i - b.i)
    .map(({ p }) => p);
}

function columnOfField(field: string): ColumnKey | null {
  const last = field.slice(field.lastIndexOf(".") + 1);
  return FIELD_COLUMNS[last] ?? null;
}

/** The column a header names: English names in any case, Chinese ones with either kind of parentheses, spaces ignored. */
function columnKey(header: string): ColumnKey | undefined {
  const normal = normalHeader(header);
  return LEDGER_COLUMNS.find((c) => c.headers.some((h) => normalHeader(h) === normal))?.key;
}

function normalHeader(header: string): string {
  return header.replace(/\s+/g, "").replace(/（/g, "(").replace(/）/g, ")").toLowerCase();
}

/** An amount in 亿元 as a spreadsheet writes it ("12.5", "1,234.5"); null when it is not one. */
function parseAmount(text: string): number | null {
  const plain = /^\d{1,3}(,\d{3})+(\.\d+)?$/.test(text) ? text.replace(/,/g, "") : text;
  return /^\+?(\d+(\.\d*)?|\.\d+)$/.test(plain) ? Number(plain) : null;
}

/** A day as YYYY-MM-DD from the ways a spreadsheet writes it; whether it is a real date the ledger checks. */
function parseDay(text: string): string | null {
  const m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(text) ?? /^(\d{4})年(\d{1,2})月(\d{1,2})日$/.exec(text);
  return m ? `${m[1]}-${m[2].padStart(2, "0")}-${m[3].padStart(2, "0")}` : null;
}
