/**
 * The import graph of src/ has no cycle: the request context is a low module
 * (src/common/context.ts) that features import and the server builds, so no
 * feature imports the server back; and a filter goes one way to its SQL
 * (project lists and the stats engine call filter/, never the other way).
 */
import fs from "node:fs";
import path from "node:path";

const SRC = path.resolve(__dirname, "../../src");

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** Every relative import (type-only ones too) of each file, resolved to a file of src/. */
function importGraph(): Map<string, string[]> {
  const files = new Set(sourceFiles(SRC));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    const deps: string[] = [];
    for (const match of text.matchAll(/(?:import|export)[^;]*?from\s+"(\.[^"]+)"/gs)) {
      const target = path.resolve(path.dirname(file), match[1]);
      const resolved = [`${target}.ts`, path.join(target, "index.ts")].find((candidate) => files.has(candidate));
      if (resolved) deps.push(resolved);
    }
    graph.set(file, deps);
  }
  return graph;
}

/** The strongly connected components of more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
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
        component.push(path.relative(SRC, w));
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
