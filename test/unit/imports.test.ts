/**
 * The import graph of src/ has no cycle: the request context is a low module
 * (src/common/context.ts) that features import and the server builds, so no
 * feature imports the server back; and a filter goes one way to its SQL
 * (project lists and the stats engine call filter/, never the other way).
 * And the ledger's write path stays in small files, one a concern.
 *
 * Nor has bench/'s: bench/run.ts drives the scenarios of bench/writes.ts and
 * bench/instances.ts, and what the three share (the result types, the load
 * helpers, the server processes) lives below them, so nothing imports run.ts.
 */
import fs from "node:fs";
import path from "node:path";

const SRC = path.resolve(__dirname, "../../src");
const BENCH = path.resolve(__dirname, "../../bench");

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

/**
 * The relative modules a file's text names: `import … from` and `export … from` (type-only ones too, which a
 * cycle of files counts as much as any), `import "./x"`, `import("./x")` and `require("./x")`.
 */
function relativeImports(text: string): string[] {
  const patterns = [/(?:import|export)[^;]*?from\s+["'](\.[^"']+)["']/gs, /^\s*import\s+["'](\.[^"']+)["']/gm, /\b(?:import|require)\s*\(\s*["'](\.[^"']+)["']\s*\)/g];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1]));
}

/** Every relative import of each file of `root`, resolved to a file of `root` (imports that leave it are left out). */
function importGraph(root = SRC): Map<string, string[]> {
  const files = new Set(sourceFiles(root));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    const deps: string[] = [];
    for (const specifier of relativeImports(text)) {
      const target = path.resolve(path.dirname(file), specifier);
      const resolved = [`${target}.ts`, path.join(target, "index.ts")].find((candidate) => files.has(candidate));
      if (resolved) deps.push(resolved);
    }
    graph.set(file, deps);
  }
  return graph;
}

/** The strongly connected components of more than one file (Tarjan), their files named from `root`. */
function cycles(graph: Map<string, string[]>, root = SRC): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(path.relative(root, w));
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe("the import graph of src/", () => {
  it("has no cycle", () => {
    expect(cycles(importGraph())).toEqual([]);
  });

  it("goes one way from filter to SQL: filter/ imports neither project/ nor stats/, and stats/ does not import project/", () => {
    const folderOf = (file: string) => path.relative(SRC, file).split(path.sep)[0];
    const upward = new Set(["filter>project", "filter>stats", "stats>project"]);
    const found: string[] = [];
    for (const [file, deps] of importGraph()) {
      for (const dep of deps) if (upward.has(`${folderOf(file)}>${folderOf(dep)}`)) found.push(`${path.relative(SRC, file)} -> ${path.relative(SRC, dep)}`);
    }
    expect(found).toEqual([]);
    // The folders exist, so the check above is not vacuous.
    expect(["filter", "stats", "project"].every((dir) => fs.existsSync(path.join(SRC, dir)))).toBe(true);
  });

  it("keeps the ledger's files small: none of src/ledger/ is over 400 lines but the bulk path (bulk-load.ts)", () => {
    const ledger = path.join(SRC, "ledger");
    const large = sourceFiles(ledger)
      .filter((file) => path.relative(ledger, file) !== "bulk-load.ts")
      .map((file) => ({ file: path.relative(SRC, file), lines: fs.readFileSync(file, "utf8").split("\n").length }))
      .filter(({ lines }) => lines > 400);
    expect(large).toEqual([]);
    // The write path's files are there, so the check above is not vacuous.
    expect(["ledger.ts", "ledger-tx.ts", "rules.ts", "round-trips.ts", "operations/projects.ts"].every((file) => fs.existsSync(path.join(ledger, file)))).toBe(true);
  });

  it("the checker finds a cycle when there is one", () => {
    const graph = new Map([
      ["/a.ts", ["/b.ts"]],
      ["/b.ts", ["/c.ts"]],
      ["/c.ts", ["/a.ts"]],
      ["/d.ts", ["/a.ts"]],
    ]);
    expect(cycles(graph).map((c) => c.length)).toEqual([3]);
  });
});

describe("the import graph of bench/", () => {
  const graph = importGraph(BENCH);
  const file = (name: string) => path.join(BENCH, name);

  it("has no cycle", () => {
    expect(cycles(graph, BENCH)).toEqual([]);
  });

  it("has bench/run.ts on top: it imports the write and the two-instance scenarios, and no file of bench/ imports it", () => {
    expect(graph.get(file("run.ts"))).toEqual(expect.arrayContaining([file("writes.ts"), file("instances.ts")]));
    const importers = [...graph].filter(([, deps]) => deps.includes(file("run.ts"))).map(([from]) => path.relative(BENCH, from));
    expect(importers).toEqual([]);
  });
});

describe("reading the imports", () => {
  it("sees type-only, multi-line, side-effect and dynamic imports and re-exports, and no package", () => {
    const text = [
      'import type { Measurement, Sample } from "./run";',
      "import {\n  type Check,\n  round,\n} from './measurement';",
      'import "./setup";',
      'export { post } from "./load";',
      'const later = await import("./writes");',
      'const old = require("./instances");',
      'import autocannon from "autocannon";',
      'import { loadConfig } from "../src/config";',
    ].join("\n");
    expect(relativeImports(text).sort()).toEqual(["../src/config", "./instances", "./load", "./measurement", "./run", "./setup", "./writes"]);
  });
});
