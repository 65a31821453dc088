/** What every command-line tool of the product shares: how it ends, and how it prints a table. */
import { ConfigError } from "../config";
import { DatabaseError } from "../db/open-database";

/** A command line that is not one of the command's usage: its message, then the usage, exit 2. */
export class UsageError extends Error {}

/**
 * Runs a command's `main` and exits with its code. A UsageError prints its
 * reason and `usage` (exit 2); a configuration or database error is one line
 * for the operator (exit 1); anything else is printed whole as "<name> failed"
 * (exit 1).
 */
export function runCommand(name: string, main: () => Promise<number | void>, usage = ""): void {
  main().then(
    (code) => process.exit(code ?? 0),
    (error: unknown) => {
      if (error instanceof UsageError) {
        process.stderr.write(`${error.message}\n${usage}\n`);
        process.exit(2);
      }
      if (error instanceof ConfigError) process.stderr.write(`Configuration error: ${error.message}\n`);
      else if (error instanceof DatabaseError) process.stderr.write(`Database error: ${error.message}\n`);
      else process.stderr.write(`${name} failed: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}

/** Rows under a header, aligned in columns (East Asian wide characters counted two columns wide); the last column is not padded. */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => displayWidth(row[i]))));
  const line = (row: readonly string[]) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat(widths[i] - displayWidth(cell)))).join("  ");
  return [header, ...rows].map(line).join("\n") + "\n";
}

/** Terminal columns `text` takes: two for East Asian wide and fullwidth characters, one for the rest. */
function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += WIDE.test(ch) ? 2 : 1;
  return width;
}

const WIDE = /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{20000}-\u{3FFFD}]/u;
