import iconv from "iconv-lite";

/** Byte order mark: Excel reads a CSV as UTF-8 (and shows Chinese names) only when the file starts with it. */
export const UTF8_BOM = "\uFEFF";

/**
 * What a column holds. TEXT cells (names, investors, titles, codes, stages,
 * dates) are written so that no spreadsheet runs them as a formula; NUMBER
 * cells (ids, counts, amounts, years, quarters, versions) and BOOLEAN cells are
 * written as they are, so that a spreadsheet still reads them as values.
 */
export enum CsvKind {
  TEXT = "TEXT",
  NUMBER = "NUMBER",
  BOOLEAN = "BOOLEAN",
}

/** A column of an export: its name in the header row and what its cells hold. */
export interface CsvColumn {
  name: string;
  kind: CsvKind;
}

/** A text column (quoted against formulas). */
export const textColumn = (name: string): CsvColumn => ({ name, kind: CsvKind.TEXT });
/** A number column (written as a plain number). */
export const numberColumn = (name: string): CsvColumn => ({ name, kind: CsvKind.NUMBER });
/** A true/false column. */
export const booleanColumn = (name: string): CsvColumn => ({ name, kind: CsvKind.BOOLEAN });

export type CsvValue = string | number | boolean | null | undefined;

/**
 * The first characters that make Excel, LibreOffice, WPS or Google Sheets read
 * a cell as a formula (`=HYPERLINK(…)`, `+cmd|…`, `-2+3`, `@SUM(…)`) or let one
 * through after them (tab, carriage return), as OWASP's "CSV Injection" lists
 * them.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A number as a NUMBER column may hold it: a JS number, or the digits of an id (the API's ids are strings). */
const NUMERIC_TEXT = /^-?\d+(\.\d+)?$/;

/** The header row: the columns' names. */
export function csvHeader(columns: readonly CsvColumn[]): string {
  return `${columns.map((c) => textField(c.name)).join(",")}\r\n`;
}

/**
 * One RFC 4180 record of `values`, one per column: a TEXT cell that starts like
 * a formula gets a single quote in front (OWASP's advice: the spreadsheet shows
 * it as text), then fields are quoted when they hold a comma, a quote or a line
 * break (quotes doubled), with CRLF at the end.
 */
export function csvRecord(columns: readonly CsvColumn[], values: readonly CsvValue[]): string {
  if (values.length !== columns.length) throw new Error(`CSV record of ${values.length} values for ${columns.length} columns`);
  return `${values.map((value, i) => csvField(columns[i], value)).join(",")}\r\n`;
}

function csvField(column: CsvColumn, value: CsvValue): string {
  if (value === null || value === undefined) return "";
  switch (column.kind) {
    case CsvKind.NUMBER:
      if (typeof value === "number" ? !Number.isFinite(value) : typeof value !== "string" || !NUMERIC_TEXT.test(value)) {
        throw new Error(`CSV column ${column.name} holds numbers, not ${JSON.stringify(value)}`);
      }
      return String(value);
    case CsvKind.BOOLEAN:
      if (typeof value !== "boolean") throw new Error(`CSV column ${column.name} holds true or false, not ${JSON.stringify(value)}`);
      return String(value);
    case CsvKind.TEXT:
      return textField(String(value));
  }
}

function textField(text: string): string {
  const safe = FORMULA_START.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The character sets an export can be had in: UTF-8 (with a BOM) unless `encoding=gb18030` asks otherwise. */
export enum CsvEncoding {
  UTF8 = "utf-8",
  GB18030 = "gb18030",
}

/**
 * Turns the CSV text, written in pieces, into what to send for `encoding`:
 * UTF-8 text as it is (the response encodes it; the caller writes the BOM
 * first), GB18030 bytes from iconv-lite's encoder. GB18030 encodes a character
 * at a time, so each piece can be encoded as it comes; the encoder keeps a high
 * surrogate left at the end of one piece for the next, so a character outside
 * the BMP (𠮷) is never split even if a piece ends inside its surrogate pair.
 * `end()` is what remains (nothing, unless the text ended in half a pair).
 */
export function csvEncoder(encoding: CsvEncoding): { write(text: string): string | Buffer; end(): string | Buffer } {
  if (encoding === CsvEncoding.UTF8) return { write: (text) => text, end: () => "" };
  const encoder = iconv.getEncoder("gb18030");
  return { write: (text) => encoder.write(text), end: () => encoder.end() ?? "" };
}
