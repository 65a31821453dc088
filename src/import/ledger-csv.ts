/**
 * A region's ledger (台账) as a CSV file: the columns, reading the file, the
 * checks of each row by the mutations' own field rules, the projects the rows
 * describe, and the problems of the import as line, column and reason.
 */
import { isUtf8 } from "node:buffer";
import fs from "node:fs";
import { Readable, pipeline } from "node:stream";
import { StringDecoder } from "node:string_decoder";

import { CsvError, type Options, parse } from "csv-parse";
import iconv from "iconv-lite";

import { ProjectStage, STAGE_NAMES_ZH, STAGES, stageOfName } from "../common/stage";
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
  // 达效: the designed annual output, and one output report per row (the year, its output, when it was reported).
  { key: "designedAnnualOutput", headers: ["designedAnnualOutput", "设计年产值", "设计年产值（亿元）", "设计年产值(亿元)"], required: false },
  { key: "outputYear", headers: ["outputYear", "产值年度"], required: false },
  { key: "output", headers: ["output", "年产值", "年产值（亿元）", "年产值(亿元)"], required: false },
  { key: "reportedOn", headers: ["reportedOn", "填报日期"], required: false },
] as const;

export type ColumnKey = (typeof LEDGER_COLUMNS)[number]["key"];


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
  designedAnnualOutput: "designedAnnualOutput",
  year: "outputYear",
  output: "output",
  reportedOn: "reportedOn",
};

/** One data line of the file: its line number and its values by column, trimmed ("" when empty or the column is absent). */
export interface LedgerRow {
  line: number;
  values: Record<ColumnKey, string>;
  /** Values in cells the header names no column for (1-based positions): a row out of line with its header. */
  strays: Array<{ position: number; value: string }>;
}

/** A file's header as read: which columns it has (and how its header names them), and what was wrong with its shape. */
export interface LedgerFile {
  /** Each column present, with its header as written in the file. */
  columns: ReadonlyMap<ColumnKey, string>;
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
  /** 达效: the row's output report (null when the row has none) and designed annual output (亿元; null when empty). */
  report: RowReport | null;
  designedAnnualOutput: number | null;
}

/** The output report a row carries: the year, its output in 亿元, and when it was reported (null: not said). */
export interface RowReport {
  year: number;
  output: number;
  reportedOn: string | null;
}

/** The encodings a ledger file is read in: UTF-8 (with or without a BOM), or GB18030 as Excel on Chinese Windows saves "CSV (逗号分隔)". */
export type LedgerEncoding = "UTF-8" | "GB18030";

/** A file that cannot be read on from `line` (bytes of no encoding, malformed CSV): its one problem, which refuses it whole. */
export class UnreadableFile extends Error {
  constructor(
    readonly line: number,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(reason, options);
  }

  /** As the report lists it: the line, no column, the reason. */
  get problem(): ImportProblem {
    return { line: this.line, column: null, reason: this.message };
  }
}

/** Characters of one cell at most, as csv-parse's max_record_size counts them. */
const MAX_RECORD_CHARS = 64 * 1024;
/** Cells of one row at most (a ledger file has ten columns; a few empty ones beyond them are Excel's). */
const MAX_CELLS = 256;

/** Bytes decoded per step: the file is never decoded or parsed whole. */
const DECODE_BYTES = 64 * 1024;

/**
 * A ledger file: its text, its bytes in memory, or a file on disk (the HTTP
 * route spools the request body to one, so that the body is never held in
 * memory; the command line reads the file it is given). A file on disk is
 * read a piece at a time, as often as the import needs (the header, the row
 * count, the rows, a retry after a deadlock).
 */
export type LedgerSource = string | Buffer | { path: string };

/** The bytes of a source that has bytes, a piece at a time. */
async function* bytesOf(source: Buffer | { path: string }): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(source)) {
    for (let i = 0; i < source.length; i += DECODE_BYTES) yield source.subarray(i, i + DECODE_BYTES);
    return;
  }
  const stream = fs.createReadStream(source.path, { highWaterMark: DECODE_BYTES });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } finally {
    stream.destroy();
  }
}

/** The size of a source: characters of a text, else bytes. */
function sizeOf(source: LedgerSource): number {
  if (typeof source === "string" || Buffer.isBuffer(source)) return source.length;
  return fs.statSync(source.path).size;
}

function refuseUtf16(first: Buffer): void {
  if ((first[0] === 0xff && first[1] === 0xfe) || (first[0] === 0xfe && first[1] === 0xff)) {
    throw new UnreadableFile(1, `the file is UTF-16 (Excel's "Unicode text"): save it as "CSV UTF-8 (逗号分隔)" or "CSV (逗号分隔)" instead`);
  }
}

/**
 * The encoding of a file's bytes: UTF-8 when they are valid UTF-8, else
 * GB18030 (GBK is a subset). UTF-16 (Excel's "Unicode text") is refused with
 * how to save the file instead.
 */
export async function encodingOf(source: LedgerSource): Promise<LedgerEncoding> {
  if (typeof source === "string") return "UTF-8";
  if (Buffer.isBuffer(source)) {
    refuseUtf16(source);
    return isUtf8(source) ? "UTF-8" : "GB18030";
  }
  // On disk: checked a piece at a time by a decoder that throws on the first byte that is not UTF-8.
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let first = true;
  for await (const bytes of bytesOf(source)) {
    if (first) refuseUtf16(bytes);
    first = false;
    try {
      decoder.decode(bytes, { stream: true });
    } catch {
      return "GB18030";
    }
  }
  try {
    decoder.decode();
  } catch {
    return "GB18030";
  }
  return "UTF-8";
}

/** The text of a file, a piece at a time, decoded as `encoding`; GB18030 bytes that decode to no character refuse the file. */
async function* textOf(input: LedgerSource, encoding: LedgerEncoding, progress: { bytes: number }): AsyncGenerator<string> {
  if (typeof input === "string") {
    for (let i = 0; i < input.length; ) {
      let end = Math.min(input.length, i + DECODE_BYTES);
      if (end < input.length && /[\uD800-\uDBFF]/.test(input[end - 1])) end -= 1; // never split a surrogate pair
      progress.bytes = end;
      yield input.slice(i, end);
      i = end;
    }
    return;
  }
  const decoder = encoding === "UTF-8" ? new StringDecoder("utf8") : iconv.getDecoder("gb18030");
  let read = 0;
  for await (const bytes of bytesOf(input)) {
    const text = decoder.write(bytes);
    if (encoding === "GB18030" && text.includes("\uFFFD")) {
      throw new UnreadableFile(
        1,
        "the file is neither UTF-8 nor GB18030 text (some of its bytes are no character in either): in Excel, save it with 文件 → 另存为 → " +
          '"CSV UTF-8 (逗号分隔)"; in WPS or LibreOffice, choose the character set UTF-8 when saving',
      );
    }
    read += bytes.length;
    progress.bytes = read;
    yield text;
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

/** One record of the file: its cells (trimmed) and the line it starts on, as a spreadsheet numbers lines (1 is the first). */
interface LineOfCells {
  cells: string[];
  line: number;
}

/**
 * The non-empty records of a file, as they are parsed (csv-parse's streaming
 * API: the file is never parsed whole). UTF-8 with or without a BOM, or
 * GB18030; comma-separated, quoted as Excel and RFC 4180 quote, CRLF or LF.
 * Blank lines and lines of empty cells are skipped. A file that is not
 * well-formed CSV ends at its first malformed line with an UnreadableFile
 * naming it (what follows it cannot be read reliably).
 */
async function* linesOf(input: LedgerSource, encoding: LedgerEncoding, progress: { bytes: number }): AsyncGenerator<LineOfCells> {
  // csv-parse counts each CR and each LF inside a quoted cell as a line: the start line below takes the characters of the record's own
  // cells off the line it ends on (`context.lines`), and the second count of every CRLF in earlier records' cells.
  /** The line the parser's last record ended on (it parses ahead of what has been read here). */
  let lastEnd = 0;
  const options: Options = {
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    // A ledger cell is at most a few hundred characters: one longer than this is not one (a quote never closed, a
    // file with no line ends) and is refused before it is held whole.
    max_record_size: MAX_RECORD_CHARS,
    // The record goes on with the line it ends on (csv-parse's `info` option would copy the whole context per record).
    on_record: (record: string[], context) => {
      lastEnd = context.lines;
      return { cells: record, end: context.lines } as unknown as string[];
    },
  };
  const parser = parse(options);
  pipeline(Readable.from(textOf(input, encoding, progress)), parser, () => undefined);
  let extra = 0;
  try {
    for await (const { cells, end } of parser as AsyncIterable<{ cells: string[]; end: number }>) {
      let breaks = 0;
      let crlfs = 0;
      for (const cell of cells) {
        if (cell.length < 2) continue;
        breaks += cell.match(/[\r\n]/g)?.length ?? 0;
        crlfs += cell.match(/\r\n/g)?.length ?? 0;
      }
      const line = end - extra - breaks;
      extra += crlfs;
      if (cells.length > MAX_CELLS) throw new UnreadableFile(line, `not well-formed CSV: a row of ${cells.length} cells, where a ledger file has ${LEDGER_COLUMNS.length} columns`);
      const trimmed = cells.map((cell) => cell.trim());
      if (trimmed.some((cell) => cell !== "")) yield { cells: trimmed, line };
    }
  } catch (error) {
    if (error instanceof CsvError && error.code === "CSV_QUOTE_NOT_CLOSED") {
      // csv-parse finds an unclosed quote only at the end of the file: the record it opened starts after the last one read.
      throw new UnreadableFile(lastEnd + 1, `not well-formed CSV: a cell on this line opens a quote (") that is never closed, so the rest of the file would be one cell`, { cause: error });
    }
    if (error instanceof CsvError && error.code === "CSV_MAX_RECORD_SIZE") {
      throw new UnreadableFile(
        lastEnd + 1,
        `not well-formed CSV: a cell of the row starting here runs past ${MAX_RECORD_CHARS} characters (a quote (") opened and never closed, or a file without line ends)`,
        { cause: error },
      );
    }
    if (error instanceof CsvError) throw new UnreadableFile(typeof error.lines === "number" ? error.lines : 1, `not well-formed CSV: ${error.message}`, { cause: error });
    throw error;
  } finally {
    parser.destroy();
  }
}

/** A ledger file being read: its header (columns and their problems), then its rows a chunk at a time. */
export interface LedgerReader extends LedgerFile {
  encoding: LedgerEncoding;
  /** The rows after the header, `size` at a time, as they are parsed; a row over `maxRows` throws TooManyRows. */
  chunks(size: number): AsyncGenerator<LedgerRow[]>;
  /** Data rows read so far. */
  readonly rowsRead: number;
  /** Share of the file read so far, 0 to 1. */
  readonly fractionRead: number;
  /** Stops reading (the parser and its source are let go). */
  close(): Promise<void>;
}

/** A file with more rows than the import accepts (IMPORT_MAX_ROWS). */
export class TooManyRows extends Error {
  constructor(readonly maxRows: number) {
    super(`the file has more than ${maxRows} rows`);
  }
}

/**
 * Opens a ledger file for reading: reads its header (the first non-empty
 * line) and checks its columns. The rows are read by `chunks`; when the
 * header has problems (or the file is empty or unreadable) they are in
 * `problems` and there are no rows. `maxRows` bounds the data rows.
 */
export async function openLedgerCsv(input: LedgerSource, options: { maxRows?: number; encoding?: LedgerEncoding } = {}): Promise<LedgerReader> {
  const maxRows = options.maxRows ?? Number.POSITIVE_INFINITY;
  const progress = { bytes: 0 };
  const total = sizeOf(input);
  let rowsRead = 0;
  const columns = new Map<ColumnKey, string>();
  const problems: ImportProblem[] = [];
  let encoding: LedgerEncoding = "UTF-8";
  let lines: AsyncGenerator<LineOfCells> | undefined;
  let header: LineOfCells | undefined;
  try {
    encoding = options.encoding ?? (await encodingOf(input));
    lines = linesOf(input, encoding, progress);
    const first = await lines.next();
    header = first.done ? undefined : first.value;
    if (!header) problems.push({ line: 1, column: null, reason: "the file is empty: it needs a header row and then one row per project" });
  } catch (error) {
    if (!(error instanceof UnreadableFile)) throw error;
    problems.push(error.problem);
  }
  const keys: Array<ColumnKey | null> = (header?.cells ?? []).map((name) => {
    if (name === "") return null;
    const key = columnKey(name);
    if (!key) problems.push({ line: header!.line, column: name, reason: `not a column of a ledger file; the columns are ${LEDGER_COLUMNS.map((c) => c.headers.join(" or ")).join(", ")}` });
    else if (columns.has(key)) problems.push({ line: header!.line, column: name, reason: `the same column as ${columns.get(key)}: each column once` });
    else {
      columns.set(key, name);
      return key;
    }
    return null;
  });
  if (header) {
    for (const column of LEDGER_COLUMNS) {
      if (column.required && !columns.has(column.key)) problems.push({ line: header.line, column: column.headers[0], reason: `the header has no ${column.headers.join(" or ")} column, which every ledger file needs` });
    }
  }
  const rowOf = ({ cells, line }: LineOfCells): LedgerRow => {
    const values = Object.fromEntries(LEDGER_COLUMNS.map((c) => [c.key, ""])) as Record<ColumnKey, string>;
    const strays: LedgerRow["strays"] = [];
    cells.forEach((cell, i) => {
      const key = keys[i];
      if (key) values[key] = cell;
      else if (cell !== "") strays.push({ position: i + 1, value: cell });
    });
    return { line, values, strays };
  };
  return {
    columns,
    problems,
    encoding,
    get rowsRead() {
      return rowsRead;
    },
    get fractionRead() {
      return total === 0 ? 1 : progress.bytes / total;
    },
    async close() {
      await lines?.return(undefined);
    },
    async *chunks(size: number): AsyncGenerator<LedgerRow[]> {
      if (problems.length || !lines) return;
      let chunk: LedgerRow[] = [];
      try {
        for await (const cells of lines) {
          rowsRead += 1;
          if (rowsRead > maxRows) throw new TooManyRows(maxRows);
          chunk.push(rowOf(cells));
          if (chunk.length >= size) {
            yield chunk;
            chunk = [];
          }
        }
      } catch (error) {
        // A malformed line after good ones: the rows before it are checked, and the file is refused at that line.
        if (error instanceof UnreadableFile && chunk.length) yield chunk;
        throw error;
      }
      if (chunk.length) yield chunk;
    },
  };
}

/**
 * Whether a file has more than `maxRows` data rows, found before anything is
 * written: a file with no more line ends than that cannot (a row is at least
 * one line), so most files are cleared by counting line ends; only a file
 * with more is parsed through, without checks, until its row `maxRows + 1`.
 * A file that cannot be read is left to the import to report.
 */
export async function exceedsRows(input: LedgerSource, maxRows: number, encoding: LedgerEncoding): Promise<boolean> {
  if (!Number.isFinite(maxRows)) return false;
  let lineEnds = 0;
  if (typeof input === "string") {
    for (let i = input.indexOf("\n"); i !== -1 && lineEnds <= maxRows + 1; i = input.indexOf("\n", i + 1)) lineEnds += 1;
  } else {
    for await (const bytes of bytesOf(input)) {
      for (let i = bytes.indexOf(0x0a); i !== -1 && lineEnds <= maxRows + 1; i = bytes.indexOf(0x0a, i + 1)) lineEnds += 1;
      if (lineEnds > maxRows + 1) break;
    }
  }
  // The header's line end, and the last row's which a file may lack.
  if (lineEnds <= maxRows) return false;
  const reader = await openLedgerCsv(input, { maxRows, encoding });
  try {
    for await (const _chunk of reader.chunks(1000)) {
      // Counting only: the rows are let go as they come. The parser's stream hands on records without a turn of the
      // event loop: give other requests theirs between chunks (without this a count of 200,000 rows held them ~2 s).
      await new Promise((resolve) => setImmediate(resolve));
    }
    return false;
  } catch (error) {
    if (error instanceof TooManyRows) return true;
    if (error instanceof UnreadableFile) return false;
    throw error;
  } finally {
    await reader.close();
  }
}

/** A row that failed the field rules: the fields that passed, for the ledger's own checks (regions, sectors, dates), and the columns already reported. */
export interface BadRow {
  line: number;
  regionCode: string | null;
  sectorCode: string | null;
  reachedOn: string | null;
  reported: ReadonlySet<ColumnKey>;
}

/**
 * Checks rows by the rules of the createProject mutation's fields, worded as
 * the mutation words them (the ledger checks the rest: regions, sectors,
 * dates, meetings, scope), and that no reference appears twice in the file:
 * `seen` holds the references of the file's earlier rows (by `refKey`) with
 * their lines. Every problem of every row goes to `problems`; returns the
 * rows that passed, and what the ledger should still check of the others.
 */
export function checkRows(file: LedgerFile, rows: readonly LedgerRow[], seen: Map<string, number>, problems: ImportProblem[]): { checked: CheckedRow[]; bad: BadRow[] } {
  const checked: CheckedRow[] = [];
  const bad: BadRow[] = [];
  for (const row of rows) {
    const before = problems.length;
    const v = row.values;
    const reported = new Set<ColumnKey>();
    const at = (key: ColumnKey, reason: string) => {
      problems.push({ line: row.line, column: columnName(file, key), reason });
      reported.add(key);
    };
    for (const stray of row.strays) {
      problems.push({ line: row.line, column: null, reason: `a value (${JSON.stringify(stray.value.slice(0, 64))}) in cell ${stray.position}, under no column of the header` });
    }
    for (const column of LEDGER_COLUMNS) {
      if (column.required && v[column.key] === "") {
        at(column.key, column.key === "ref" ? "must not be empty: the ledger reference (台账编号) is what a later import finds the project by" : "must not be empty");
      }
    }
    if (v.ref !== "") {
      const key = refKey(v.ref);
      const first = seen.get(key);
      if (first !== undefined) at("ref", `the same reference as line ${first}: one row per project (references are compared as the ledger compares them: letter case, width and accents aside)`);
      else seen.set(key, row.line);
    }
    const investment = v.investment === "" ? undefined : parseAmount(v.investment);
    if (investment === null) at("investment", `must be an amount in 亿元 such as 12.5 (got ${JSON.stringify(v.investment.slice(0, 64))})`);
    // The API's names and the ledger's own Chinese ones (签约, or 签约一批 as the meeting report writes a batch).
    const stage = v.stage === "" ? undefined : (stageOfName(v.stage) ?? null);
    if (stage === null) at("stage", `must be one of ${STAGES.join(", ")} or ${STAGES.map((s) => STAGE_NAMES_ZH[s]).join(", ")} (got ${JSON.stringify(v.stage.slice(0, 64))})`);
    const reachedOn = v.date === "" ? undefined : parseDay(v.date);
    if (reachedOn === null) at("date", `must be a date written YYYY-MM-DD (also accepted: YYYY/M/D, YYYY年M月D日; got ${JSON.stringify(v.date.slice(0, 64))})`);
    const hasInvestor = file.columns.has("investor");
    // 达效: one output report per row, for a project IN_PRODUCTION or EFFECTIVE (the ledger checks the amounts, years and dates).
    const output = v.output === "" ? undefined : parseAmount(v.output);
    if (output === null) at("output", `must be an amount in 亿元 such as 12.5 (got ${JSON.stringify(v.output.slice(0, 64))})`);
    const designed = v.designedAnnualOutput === "" ? undefined : parseAmount(v.designedAnnualOutput);
    if (designed === null) at("designedAnnualOutput", `must be an amount in 亿元 such as 12.5 (got ${JSON.stringify(v.designedAnnualOutput.slice(0, 64))})`);
    const outputYear = v.outputYear === "" ? undefined : /^\d{4}$/.test(v.outputYear) ? Number(v.outputYear) : null;
    if (outputYear === null) at("outputYear", `must be a year such as 2024 (got ${JSON.stringify(v.outputYear.slice(0, 64))})`);
    const reportedOn = v.reportedOn === "" ? undefined : parseDay(v.reportedOn);
    if (reportedOn === null) at("reportedOn", `must be a date written YYYY-MM-DD (also accepted: YYYY/M/D, YYYY年M月D日; got ${JSON.stringify(v.reportedOn.slice(0, 64))})`);
    const hasReport = v.output !== "" || v.outputYear !== "";
    if (v.output !== "" && v.outputYear === "") at("outputYear", "must not be empty when the row gives an output: the year the output is for");
    if (v.outputYear !== "" && v.output === "") at("output", "must not be empty when the row gives an output year");
    if (!hasReport && v.reportedOn !== "") at("reportedOn", "is the date of an output report: give outputYear and output too");
    if (!hasReport && v.designedAnnualOutput !== "") at("designedAnnualOutput", "is recorded with an output report: give outputYear and output too");
    if (hasReport && stage && stage !== ProjectStage.IN_PRODUCTION && stage !== ProjectStage.EFFECTIVE && !reported.has("output")) {
      at("output", `output is reported for a project IN_PRODUCTION or EFFECTIVE, not ${stage}`);
    }
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
        // EFFECTIVE is the import's to check (a report must give it); the input's own rule refuses it.
        stage: stage === ProjectStage.EFFECTIVE ? ProjectStage.IN_PRODUCTION : (stage ?? ProjectStage.SIGNED),
        reachedOn: reachedOn ?? undefined,
        meetingId: v.meetingId || null,
        venueRegionCode: v.venueRegionCode || null,
      },
      `line ${row.line}`,
      fields,
    );
    for (const problem of fields.list) {
      const key = columnOfField(problem.field);
      if (key === null) problems.push({ line: row.line, column: null, reason: problem.reason });
      else if (!reported.has(key)) at(key, problem.reason);
    }
    if (problems.length > before) {
      const ok = (key: ColumnKey, value: string | null | undefined) => (reported.has(key) || !value ? null : value);
      bad.push({ line: row.line, regionCode: ok("regionCode", v.regionCode), sectorCode: ok("sectorCode", v.sectorCode), reachedOn: ok("date", reachedOn), reported });
      continue;
    }
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
      report: hasReport ? { year: outputYear!, output: output!, reportedOn: reportedOn ?? null } : null,
      designedAnnualOutput: designed ?? null,
    });
  }
  return { checked, bad };
}

/** The project a new row adds: itself and its one milestone (a row at EFFECTIVE enters IN_PRODUCTION on its date; its report then makes it EFFECTIVE). */
export function draftOf(row: CheckedRow): ProjectDraft {
  return {
    ref: row.ref,
    name: row.name,
    regionCode: row.regionCode,
    sectorCode: row.sectorCode,
    investmentWan: row.investmentWan,
    investor: row.investor ?? null,
    milestones: [{ stage: row.stage === ProjectStage.EFFECTIVE ? ProjectStage.IN_PRODUCTION : row.stage, reachedOn: row.reachedOn, meetingId: row.meetingId ?? null, venueRegionCode: row.venueRegionCode ?? null }],
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

/** An amount in 亿元 as a spreadsheet writes it ("12.5", "1,234.5", "-3"); null when it is not a number. */
function parseAmount(text: string): number | null {
  const plain = /^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(text) ? text.replace(/,/g, "") : text;
  // A sign is read, so that a negative amount gets the mutation's own reason ("must be positive").
  return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(plain) ? Number(plain) : null;
}

/** A day as YYYY-MM-DD from the ways a spreadsheet writes it; whether it is a real date the ledger checks. */
function parseDay(text: string): string | null {
  const m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(text) ?? /^(\d{4})年(\d{1,2})月(\d{1,2})日$/.exec(text);
  return m ? `${m[1]}-${m[2].padStart(2, "0")}-${m[3].padStart(2, "0")}` : null;
}
