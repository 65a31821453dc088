import { insertRows, type StatementRunner } from "../db/sql";
import { ROLLUPS } from "../stats/rollups";

/** A project as the rollups see it: where it is, what it is, its stage and amount, and its milestones at meetings. */
export interface RollupShape {
  regionId: number;
  sectorId: number;
  stage: number;
  investmentWan: number;
  milestones: ReadonlyArray<{ stage: number; meetingId: number | null; venueRegionId: number | null }>;
}

/** The shape of a project that carries more (a stored project: its id, name, version, dates). */
export function shapeOf(project: RollupShape): RollupShape {
  return { regionId: project.regionId, sectorId: project.sectorId, stage: project.stage, investmentWan: project.investmentWan, milestones: project.milestones };
}

interface Delta {
  key: number[];
  count: number;
  wan: number;
}

/** Rows per multi-row statement: well under both databases' placeholder limits. */
const CHUNK = 500;

/**
 * The change one write makes to the rollups, summed per group in memory from
 * the projects' shapes before and after, and written as upserts and deletes
 * by primary key: a write reads and locks only the rows of the groups it
 * changes, whatever the size of the tables.
 */
export class RollupDelta {
  private readonly tables = new Map<string, Map<string, Delta>>(ROLLUPS.map((r) => [r.table, new Map()]));

  /** Adds (sign 1) or removes (sign -1) a project's contribution. */
  add(shape: RollupShape, sign: 1 | -1): void {
    const measures = (table: string, key: number[]) => {
      const groups = this.tables.get(table)!;
      const id = key.join(":");
      const delta = groups.get(id) ?? { key, count: 0, wan: 0 };
      delta.count += sign;
      delta.wan += sign * shape.investmentWan;
      groups.set(id, delta);
    };
    measures("rollup_region", [shape.regionId, shape.sectorId, shape.stage]);
    const meetings = new Set<number>();
    for (const m of shape.milestones) {
      if (m.meetingId === null) continue;
      meetings.add(m.meetingId);
      measures("rollup_batch", [m.meetingId, m.stage, m.venueRegionId ?? 0, shape.regionId, shape.sectorId, shape.stage]);
    }
    for (const meetingId of meetings) measures("rollup_meeting", [meetingId, shape.regionId, shape.sectorId, shape.stage]);
  }

  /**
   * The change as the live side publishes it (src/live/change-event.ts): per rollup table the groups whose sums
   * moved (key columns, then count and 万元), and every project region and meeting whose groups the write passed
   * through, moved or not (a renamed project moves no sum but changes what a board lists).
   */
  published(): { deltas: Record<string, number[][]>; regions: number[]; meetings: number[] } {
    const deltas: Record<string, number[][]> = {};
    const regions = new Set<number>();
    const meetings = new Set<number>();
    for (const rollup of ROLLUPS) {
      const rows: number[][] = [];
      const regionAt = rollup.keys.indexOf("region_id");
      const meetingAt = rollup.keys.indexOf("meeting_id");
      for (const d of this.tables.get(rollup.table)!.values()) {
        regions.add(d.key[regionAt]);
        if (meetingAt >= 0) meetings.add(d.key[meetingAt]);
        if (d.count !== 0 || d.wan !== 0) rows.push([...d.key, d.count, d.wan]);
      }
      deltas[rollup.table] = rows;
    }
    return { deltas, regions: [...regions].sort((a, b) => a - b), meetings: [...meetings].sort((a, b) => a - b) };
  }

  /** Writes the summed change: upserts of every changed group, then deletes of the groups it may have emptied. */
  async apply(query: StatementRunner["query"], mysql: boolean): Promise<void> {
    for (const rollup of ROLLUPS) {
      // Key order is lock order: two writers touching the same groups lock them in the same order.
      const changed = [...this.tables.get(rollup.table)!.values()].filter((d) => d.count !== 0 || d.wan !== 0).sort((a, b) => compareKeys(a.key, b.key));
      const columns = [...rollup.keys, "project_count", "investment_wan"];
      const add = "project_count = project_count + {v}project_count{e}, investment_wan = investment_wan + {v}investment_wan{e}";
      const upsert = mysql
        ? ` ON DUPLICATE KEY UPDATE ${add.replace(/\{v\}/g, "VALUES(").replace(/\{e\}/g, ")")}`
        : ` ON CONFLICT (${rollup.keys.join(", ")}) DO UPDATE SET ${add.replace(/\{v\}/g, "excluded.").replace(/\{e\}/g, "")}`;
      await insertRows({ query }, rollup.table, columns, changed.map((d) => [...d.key, d.count, d.wan]), { chunk: CHUNK, suffix: upsert });
      const shrunk = changed.filter((d) => d.count < 0);
      const match = `(${rollup.keys.map((k) => `${k} = ?`).join(" AND ")})`;
      for (let i = 0; i < shrunk.length; i += CHUNK) {
        const chunk = shrunk.slice(i, i + CHUNK);
        await query(`DELETE FROM ${rollup.table} WHERE project_count = 0 AND (${chunk.map(() => match).join(" OR ")})`, chunk.flatMap((d) => d.key));
      }
    }
  }
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}
