import fs from "node:fs";
import path from "node:path";

/** Where the measured figures of the last run go (ignored by git; the README quotes them). */
export const RESULTS_FILE = path.resolve(__dirname, "../results/latest.json");

type Json = Record<string, unknown>;

function read(): Json {
  try {
    return JSON.parse(fs.readFileSync(RESULTS_FILE, "utf8")) as Json;
  } catch {
    return {};
  }
}

/** Starts a fresh results file for this run (the global setup calls it). */
export function resetResults(meta: Json): void {
  fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify({ run: meta }, null, 2)}\n`);
}

/** Merges one section's figures into the results file and prints them. */
export function recordResults(section: string, figures: Json): void {
  const all = read();
  const previous = (all[section] as Json | undefined) ?? {};
  all[section] = { ...previous, ...figures, recordedAt: new Date().toISOString() };
  fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(all, null, 2)}\n`);
  process.stdout.write(`\n[reliability] ${section}: ${JSON.stringify(figures, null, 2)}\n`);
}

export function readResults(): Json {
  return read();
}
