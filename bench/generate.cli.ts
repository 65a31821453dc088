/**
 * `ts-node --transpile-only bench/generate.cli.ts [--projects N]`: makes sure
 * the database at DATABASE_URL (as the server reads it; unset means the
 * embedded SQLite file) holds the benchmark's national data set of N projects
 * (default 1,000,000), generating it unless it is already there. N may be
 * written 1000000, 1e6, 1m or 10k. Progress on stderr, one summary line on stdout.
 */
import "reflect-metadata";

import { Presets, SingleBar } from "cli-progress";

import { ConfigError, loadConfig, redactUrl } from "../src/config";
import { DatabaseError, openDatabase } from "../src/db/open-database";
import { type BenchPhase, ensureBenchData } from "./generate";

const USAGE = "usage: generate.cli.ts [--projects N]   (N: 1000000, 1e6, 1m, 10k; default 1m)";
const DEFAULT_PROJECTS = 1_000_000;
const MAX_PROJECTS = 100_000_000;

/** A bad command line; the message is one line for the operator. */
class UsageError extends Error {}

/** `--help`: the usage on stdout, exit 0. */
class HelpRequested extends Error {}

/** Parses a project count: plain digits (1000000, 1_000_000, 1,000,000), 1e6, 10k, 1m. */
export function parseCount(raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(?:e(\d{1,2}))?([km])?$/i.exec(raw.trim().replace(/[_,]/g, ""));
  if (!match) throw new UsageError(`--projects must be a number like 1000000, 1e6, 1m or 10k (got "${raw}")`);
  const [, mantissa, exponent, suffix] = match;
  const scale = (exponent ? 10 ** Number(exponent) : 1) * (suffix ? (suffix.toLowerCase() === "k" ? 1_000 : 1_000_000) : 1);
  const value = Number(mantissa) * scale;
  // Round away float noise (1.1e6), then insist on a whole number.
  const rounded = Math.round(value);
  if (Math.abs(value - rounded) > 1e-6 * Math.max(1, value)) throw new UsageError(`--projects must be a whole number (got "${raw}")`);
  if (rounded < 1 || rounded > MAX_PROJECTS) throw new UsageError(`--projects must be from 1 to ${MAX_PROJECTS.toLocaleString("en")} (got "${raw}")`);
  return rounded;
}

function parseArgs(argv: string[]): { projects: number } {
  let projects = DEFAULT_PROJECTS;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") throw new HelpRequested(USAGE);
    if (arg === "--projects" || arg === "-n") {
      if (i + 1 >= argv.length) throw new UsageError(`--projects needs a value; ${USAGE}`);
      projects = parseCount(argv[++i]);
    } else if (arg.startsWith("--projects=")) {
      projects = parseCount(arg.slice("--projects=".length));
    } else {
      throw new UsageError(`unknown argument "${arg}"; ${USAGE}`);
    }
  }
  return { projects };
}

const PHASES: Record<BenchPhase, string> = {
  wipe: "emptying the tables",
  regions: "regions and sectors",
  projects: "meetings, projects and milestones",
  assessment: "targets, output reports and factor issues",
  statistics: "optimizer statistics",
  marker: "done",
};

async function main(argv: string[]): Promise<number> {
  const { projects } = parseArgs(argv);
  const config = loadConfig();
  const where = config.database.type === "mysql" ? redactUrl(config.database.url) : config.database.path;
  const db = await openDatabase(config);
  const tty = Boolean(process.stderr.isTTY);
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: "{phase} [{bar}] {percentage}% | {value}/{total} projects | {duration_formatted}",
      hideCursor: true,
      noTTYOutput: !tty,
      notTTYSchedule: 5000,
      etaBuffer: 20,
    },
    Presets.shades_classic,
  );
  let started = false;
  const phaseTimes: Array<{ phase: BenchPhase; at: number }> = [];
  try {
    const report = await ensureBenchData(db, {
      projects,
      onPhase: (phase) => {
        phaseTimes.push({ phase, at: Date.now() });
        if (!started) {
          bar.start(projects, 0, { phase: PHASES[phase] });
          started = true;
        } else {
          bar.update({ phase: PHASES[phase] });
        }
      },
      onProgress: (done) => bar.update(done),
    });
    if (started) bar.stop();
    if (phaseTimes.length) {
      const end = Date.now();
      const times = phaseTimes.map(({ phase, at }, i) => `${phase} ${(((phaseTimes[i + 1]?.at ?? end) - at) / 1000).toFixed(1)} s`);
      process.stderr.write(`time by step: ${times.join(", ")}\n`);
    }
    const how = report.generated ? "generated" : "reused (already there)";
    process.stdout.write(
      `bench data in ${where}: ${report.projects} projects, ${report.milestones} milestones, ${how} in ${report.seconds.toFixed(1)} s\n`,
    );
    return 0;
  } finally {
    if (started) bar.stop();
    await db.destroy();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof HelpRequested) {
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
      }
      if (error instanceof UsageError) process.stderr.write(`${error.message}\n`);
      else if (error instanceof ConfigError) process.stderr.write(`Configuration error: ${error.message}\n`);
      else if (error instanceof DatabaseError) process.stderr.write(`Database error: ${error.message}\n`);
      else process.stderr.write(`bench data generation failed: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}
