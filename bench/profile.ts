/**
 * Where a server's CPU time went, from a V8 .cpuprofile (`npm run bench -- --profile` writes one per size
 * under bench/results/profiles/): self time by package or source file, and the top functions.
 *
 *   npx ts-node --transpile-only bench/profile.ts bench/results/profiles/server-10000-….cpuprofile [top]
 */
import fs from "node:fs";
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const ROOT = path.resolve(__dirname, "..");

/** node_modules/<package> (scoped too), a file of the project, node:internal, or the VM's own entries. */
function where(url: string, name: string): string {
  if (!url) return `(${name || "anonymous"})`;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith("node:")) return "node internals";
  return path.relative(ROOT, url.replace(/^file:\/\//, ""));
}

function main(): void {
  const file = process.argv[2];
  const top = Number(process.argv[3] ?? 25);
  if (!file) throw new Error("usage: bench/profile.ts <file.cpuprofile> [top]");
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => byId.get(id)?.callFrame.functionName === "(idle)").reduce((a, [, t]) => a + t, 0);
  const busy = total - idle;

  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, t] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === "(idle)") continue;
    const group = where(url, functionName);
    groups.set(group, (groups.get(group) ?? 0) + t);
    const fn = `${functionName || "(anonymous)"} ${url ? `${where(url, functionName)}:${lineNumber + 1}` : ""}`.trim();
    functions.set(fn, (functions.get(fn) ?? 0) + t);
  }
  const pct = (t: number) => `${((100 * t) / busy).toFixed(1).padStart(5)} %`;
  const ms = (t: number) => `${(t / 1000).toFixed(0).padStart(7)} ms`;
  process.stdout.write(`${file}\nwall ${ms(total)}, busy ${ms(busy)} (idle ${ms(idle)}); shares below are of busy time\n\nself time by package / file:\n`);
  for (const [g, t] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${pct(t)} ${ms(t)}  ${g}\n`);
  process.stdout.write(`\ntop functions (self time):\n`);
  for (const [f, t] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${pct(t)} ${ms(t)}  ${f}\n`);
}

main();
