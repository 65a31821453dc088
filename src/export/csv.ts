/** Byte order mark: Excel reads a CSV as UTF-8 (and shows Chinese names) only when the file starts with it. */
export const UTF8_BOM = "\uFEFF";

/** One RFC 4180 record: fields quoted when they hold a comma, a quote or a line break (quotes doubled), CRLF at the end. */
export function csvRecord(fields: ReadonlyArray<string | number | boolean | null | undefined>): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}

function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
