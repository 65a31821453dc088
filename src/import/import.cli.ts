import "reflect-metadata";

import fs from "node:fs";
import { parseArgs } from "node:util";

import { SingleBar } from "cli-progress";

import { authenticate } from "../auth/tokens";
import { AppError, ErrorCode } from "../common/errors";
import { formatTable, runCommand, UsageError } from "../common/cli";
import { loadConfig } from "../config";
import { openDatabase } from "../db/open-database";
import { actorOf } from "../ledger/actor";
import { systemLedger } from "../ledger/system-ledger";
import { type ImportReport, importLedger } from "./import-ledger";
import type { ImportProblem } from "./ledger-csv";

const USAGE = "usage: npm run import -- <ledger.csv> --token <token> [--dry-run]";
/** File size from which the progress bar is shown (on a terminal only; about 2,000 rows): smaller files are done before it would be read. */
const PROGRESS_FROM_BYTES = 128 * 1024;

/**
 * `npm run import -- ledger.csv --token mpg_… [--dry-run]`: imports a region's
 * ledger file as the office holding the token, exactly as
 * `POST /import/projects.csv` does. Prints what it did, or a table of every
 * bad row (line, column, reason) and writes nothing. Exit 0 when the file
 * went in (or would, with --dry-run); 1 when it was refused (bad rows,
 * FORBIDDEN, CONFLICT) or failed; 2 for a wrong command line, an unreadable
 * file or a token that is not good. The database is the server's:
 * DATABASE_URL, else SQLITE_PATH.
 */
async function main(argv: string[]): Promise<number> {
  const command = parseCommand(argv);
  const csv = readableFile(command.file);
  const config = loadConfig();
  const db = await openDatabase(config);
  try {
    let viewer;
    try {
      viewer = await authenticate(db, `Bearer ${command.token}`);
    } catch (error) {
      if (!(error instanceof AppError && error.extensions.code === ErrorCode.UNAUTHENTICATED)) throw error;
      process.stderr.write(`UNAUTHENTICATED: ${error.message} (make one with npm run token -- create)\n`);
      return 2;
    }
    const ledger = systemLedger(db, config.ledgerFutureDays, config.effectiveThreshold);
    const bar = process.stderr.isTTY && csv.bytes >= PROGRESS_FROM_BYTES ? new SingleBar({ format: "importing [{bar}] {percentage}% of the file | {rows} rows | {eta_formatted} left", stream: process.stderr, hideCursor: true }) : null;
    let barShown = false;
    let barDone = false;
    let report: ImportReport;
    try {
      report = await importLedger(ledger, actorOf(viewer!), csv, {
        dryRun: command.dryRun,
        maxRows: config.limits.importRows,
        onProgress: (rows, fractionRead) => {
          if (!bar || barDone) return;
          if (!barShown) bar.start(1000, 0, { rows: 0 });
          barShown = true;
          bar.update(Math.round(fractionRead * 1000), { rows });
          if (fractionRead === 1) {
            barDone = true;
            bar.stop();
            process.stderr.write(command.dryRun ? "checked; rolling back (dry run)…\n" : "checked; writing the rollups and history, committing…\n");
          }
        },
      });
    } catch (error) {
      if (barShown) bar!.stop();
      const code = error instanceof AppError ? error.extensions.code : undefined;
      if (code !== ErrorCode.FORBIDDEN && code !== ErrorCode.CONFLICT && code !== ErrorCode.PAYLOAD_TOO_LARGE) throw error;
      process.stderr.write(`${code}: ${(error as AppError).message}\n`);
      return 1;
    }
    process.stdout.write(summary(command.file, report));
    return report.problems.length ? 1 : 0;
  } finally {
    await db.destroy();
  }
}

function parseCommand(argv: string[]): { file: string; token: string; dryRun: boolean } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { token: { type: "string" }, "dry-run": { type: "boolean" } }, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `one file at a time (got ${positionals.length})` : "no file given");
  if (!values.token) throw new UsageError("--token is required: the write token of the office whose ledger this is");
  return { file: positionals[0], token: values.token, dryRun: values["dry-run"] ?? false };
}

/** The file to import, once it is known to be readable; the import reads it a piece at a time, never whole. */
function readableFile(file: string): { path: string; bytes: number } {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw Object.assign(new Error("not a file"), { code: "EISDIR" });
    return { path: file, bytes: stat.size };
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** What the import did in one line, or the table of its problems and the line saying nothing was written. */
function summary(file: string, report: ImportReport): string {
  if (report.problems.length) {
    const rows = new Set(report.problems.map((p) => p.line)).size;
    const more = report.problemsNotListed ? ` (and ${report.problemsNotListed} more not listed)` : "";
    return `${table(report.problems)}${file}: ${report.problems.length} problem${plural(report.problems.length)} in ${rows} line${plural(rows)} of ${report.rows} row${plural(report.rows)}${more}: nothing was imported\n`;
  }
  const counts = `${report.created} created, ${report.advanced} advanced, ${report.updated} updated, ${report.unchanged} unchanged`;
  const rows = `${report.rows} row${plural(report.rows)}`;
  if (report.dryRun) return `${file}: ${rows} would go in (${counts}); dry run: nothing was written\n`;
  if (report.unchanged === report.rows) return `${file}: ${rows}, all unchanged: the ledger already holds this file, nothing was written\n`;
  return `${file}: ${rows} imported: ${counts}\n`;
}

/** Problems as an aligned table. */
function table(problems: readonly ImportProblem[]): string {
  return formatTable(["LINE", "COLUMN", "REASON"], problems.map((p) => [String(p.line), p.column ?? "-", p.reason]));
}

function plural(n: number): string {
  return n === 1 ? "" : "s";
}

runCommand("import", () => main(process.argv.slice(2)), USAGE);
