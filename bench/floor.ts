/**
 * The floor of the benchmark: a plain `http` server that answers every POST
 * with the province-to-county answer (scenario 1 of bench/run.ts), built by
 * hand-written SQL through mysql2 and JSON.stringify, no GraphQL.
 *
 * The region and sector trees are read once at start. Each request runs one
 * `SELECT … FROM rollup_region WHERE region_id IN (<subtree ids>)`, sums the
 * subtrees in JS and serialises the result: the least work any server could do
 * to give the same bytes from the same database.
 *
 * Environment: DATABASE_URL (mysql://…/db, required), PORT (0 = any free port),
 * HOST (default 127.0.0.1), FLOOR_REGION (default 410000). Prints
 * "Floor ready at http://host:port/" on stdout once it listens.
 * Run alone: DATABASE_URL=mysql://root@127.0.0.1:3306/mp_bench_10000 npx ts-node --transpile-only bench/floor.ts
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

import { createPool, type RowDataPacket } from "mysql2/promise";

const STAGE_NAMES = ["SIGNED", "STARTED", "IN_PRODUCTION"] as const;

interface RegionRow {
  id: number;
  code: string;
  name: string;
  parentId: number | null;
}

interface SectorRow {
  id: number;
  code: string;
  name: string;
  parentId: number | null;
}

/** What one request needs, computed once at start from the two trees. */
interface Plan {
  sql: string;
  /** The subtree's regions in pre-order (root first), children in code order. */
  nodes: RegionRow[];
  /** Position in `nodes` of each region id of the subtree. */
  index: Map<number, number>;
  /** For each node: its own index and those of its ancestors up to the root of the subtree. */
  lineage: Int32Array[];
  /** For each node: the indexes of its children, in code order. */
  children: number[][];
  /** Top-level sectors in code order. */
  tops: Array<{ code: string; name: string }>;
  /** Sector id → index in `tops` of its top-level ancestor (or itself). */
  topOf: Map<number, number>;
}

const byCode = <T extends { code: string }>(a: T, b: T): number => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);

function plan(regions: RegionRow[], sectors: SectorRow[], rootCode: string): Plan {
  const root = regions.find((r) => r.code === rootCode);
  if (!root) throw new Error(`region ${rootCode} is not in the database`);
  const ids = new Set(regions.map((r) => r.id));
  const kids = new Map<number, RegionRow[]>();
  for (const region of [...regions].sort(byCode)) {
    if (region.parentId === null || !ids.has(region.parentId)) continue;
    const list = kids.get(region.parentId);
    if (list) list.push(region);
    else kids.set(region.parentId, [region]);
  }
  const nodes: RegionRow[] = [];
  const index = new Map<number, number>();
  const lineage: Int32Array[] = [];
  const children: number[][] = [];
  const visit = (region: RegionRow, ancestors: number[]): number => {
    const i = nodes.length;
    nodes.push(region);
    index.set(region.id, i);
    const chain = [i, ...ancestors];
    lineage.push(Int32Array.from(chain));
    children.push([]);
    for (const child of kids.get(region.id) ?? []) children[i].push(visit(child, chain));
    return i;
  };
  visit(root, []);

  const sectorById = new Map(sectors.map((s) => [s.id, s]));
  const tops = sectors.filter((s) => s.parentId === null || !sectorById.has(s.parentId)).sort(byCode);
  const topIndex = new Map(tops.map((s, i) => [s.id, i]));
  const topOf = new Map<number, number>();
  for (const sector of sectors) {
    let top = sector;
    while (top.parentId !== null && sectorById.has(top.parentId)) top = sectorById.get(top.parentId)!;
    topOf.set(sector.id, topIndex.get(top.id)!);
  }
  const sql = `SELECT region_id, sector_id, stage, project_count, investment_wan FROM rollup_region WHERE region_id IN (${nodes.map((n) => n.id).join(", ")})`;
  return { sql, nodes, index, lineage, children, tops: tops.map((s) => ({ code: s.code, name: s.name })), topOf };
}

/** The response body for one set of rollup rows: `{"data":{"region":…}}` as Apollo Server writes it. */
function answer(p: Plan, rows: RowDataPacket[]): string {
  const T = p.tops.length;
  // Per node: T sector slots, 3 stage slots, 1 total slot; counts and 万元 sums.
  const width = T + 4;
  const counts = new Float64Array(p.nodes.length * width);
  const wans = new Float64Array(p.nodes.length * width);
  for (const row of rows) {
    const node = p.index.get(Number(row.region_id));
    const top = p.topOf.get(Number(row.sector_id));
    if (node === undefined || top === undefined) continue;
    const stage = Number(row.stage);
    const count = Number(row.project_count);
    const wan = Number(row.investment_wan);
    for (const i of p.lineage[node]) {
      const base = i * width;
      counts[base + top] += count;
      wans[base + top] += wan;
      counts[base + T + stage - 1] += count;
      wans[base + T + stage - 1] += wan;
      counts[base + T + 3] += count;
      wans[base + T + 3] += wan;
    }
  }
  const stats = (i: number) => {
    const base = i * width;
    const bySector = [];
    for (let k = 0; k < T; k++) {
      if (counts[base + k] > 0) {
        bySector.push({ sector: p.tops[k], projectCount: counts[base + k], totalInvestment: wans[base + k] / 10_000 });
      }
    }
    const byStage = [];
    for (let s = 0; s < 3; s++) {
      if (counts[base + T + s] > 0) {
        byStage.push({ stage: STAGE_NAMES[s], projectCount: counts[base + T + s], totalInvestment: wans[base + T + s] / 10_000 });
      }
    }
    return { projectCount: counts[base + T + 3], totalInvestment: wans[base + T + 3] / 10_000, bySector, byStage };
  };
  const region = (i: number, depth: number): Record<string, unknown> => {
    const node = p.nodes[i];
    const out: Record<string, unknown> = { code: node.code, name: node.name, stats: stats(i) };
    // The query asks for children at the province and city levels only.
    if (depth < 2) out.children = p.children[i].map((c) => region(c, depth + 1));
    return out;
  };
  return JSON.stringify({ data: { region: region(0, 0) } }) + "\n";
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set");
  const pool = createPool({ uri: url, connectionLimit: 10, supportBigNumbers: true, bigNumberStrings: false, charset: "utf8mb4_unicode_ci" });
  const [regionRows] = await pool.query<RowDataPacket[]>("SELECT id, code, name, parent_id FROM region");
  const [sectorRows] = await pool.query<RowDataPacket[]>("SELECT id, code, name, parent_id FROM sector");
  const toNode = (r: RowDataPacket) => ({ id: Number(r.id), code: String(r.code), name: String(r.name), parentId: r.parent_id === null ? null : Number(r.parent_id) });
  const p = plan(regionRows.map(toNode), sectorRows.map(toNode), process.env.FLOOR_REGION ?? "410000");

  const server = http.createServer((req, res) => {
    if (req.method === "GET" && req.url === "/health") {
      res.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end('{"status":"ok"}');
      return;
    }
    if (req.method !== "POST") {
      res.writeHead(405).end();
      return;
    }
    req.resume(); // the body is not needed: every POST gets the same answer
    req.on("end", () => {
      pool.query<RowDataPacket[]>(p.sql).then(
        ([rows]) => {
          const body = answer(p, rows);
          res.writeHead(200, {
            "content-type": "application/json; charset=utf-8",
            "content-length": Buffer.byteLength(body),
            "x-sql-statements": "1",
          });
          res.end(body);
        },
        (error: unknown) => {
          process.stderr.write(`floor: ${(error as Error).message}\n`);
          res.writeHead(500, { "content-type": "application/json; charset=utf-8" }).end('{"errors":[{"message":"floor query failed"}]}\n');
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", resolve));
  const { address, port } = server.address() as AddressInfo;
  process.stdout.write(`Floor ready at http://${address}:${port}/\n`);
  const stop = () => {
    server.close();
    void pool.end().finally(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`floor: start-up failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
