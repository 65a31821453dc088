/**
 * Adding a write's rollup deltas to cached grouped rows (src/stats/incremental.ts), against the same rows summed
 * afresh: sums move in place, new groups appear, emptied groups leave (the last row takes their place, and the
 * index follows it), and deltas outside the query's conditions are ignored. Also how an event's counters fit a stamp.
 */
import type { IncrementalSpec } from "../../src/common/incremental-spec";
import { advanceStamp, applyDeltas, fitOf } from "../../src/stats/incremental";

type Row = { region_id: number; sector_id: number; stage: number; project_count: number | string; investment_wan: number | string };

const SPEC: IncrementalSpec = {
  table: "rollup_region",
  where: [{ column: "stage", values: new Set([1, 2]) }],
  groupBy: [
    ["region_id", "region_id"],
    ["sector_id", "sector_id"],
    ["stage", "stage"],
  ],
};

const sorted = (rows: Row[]) => rows.map((r) => [r.region_id, r.sector_id, r.stage, Number(r.project_count), Number(r.investment_wan)]).sort((a, b) => a.join(":").localeCompare(b.join(":")));

describe("applyDeltas", () => {
  it("moves sums in place, adds and removes groups, ignores what the conditions leave out, across several events", () => {
    const rows: Row[] = [
      { region_id: 1, sector_id: 1, stage: 1, project_count: "2", investment_wan: "300" },
      { region_id: 1, sector_id: 2, stage: 1, project_count: 1, investment_wan: 50 },
      { region_id: 2, sector_id: 1, stage: 2, project_count: 4, investment_wan: 900 },
    ];
    const first = rows[0];
    let index = applyDeltas(rows, SPEC, {
      rollup_region: [
        [1, 1, 1, 1, 25], // a project more in an existing group
        [1, 2, 1, -1, -50], // the group empties: the last row takes its place
        [3, 1, 2, 1, 70], // a new group
        [9, 9, 3, 5, 5], // stage 3: outside the query
      ],
    });
    expect(rows[0]).toBe(first);
    expect(sorted(rows)).toEqual(sorted([
      { region_id: 1, sector_id: 1, stage: 1, project_count: 3, investment_wan: 325 },
      { region_id: 2, sector_id: 1, stage: 2, project_count: 4, investment_wan: 900 },
      { region_id: 3, sector_id: 1, stage: 2, project_count: 1, investment_wan: 70 },
    ]));
    // The index followed the moved row: the next event finds every group where it now is.
    index = applyDeltas(rows, SPEC, { rollup_region: [[2, 1, 2, -4, -900], [3, 1, 2, 2, 30], [1, 2, 1, 1, 10]] }, index);
    expect(sorted(rows)).toEqual(sorted([
      { region_id: 1, sector_id: 1, stage: 1, project_count: 3, investment_wan: 325 },
      { region_id: 3, sector_id: 1, stage: 2, project_count: 3, investment_wan: 100 },
      { region_id: 1, sector_id: 2, stage: 1, project_count: 1, investment_wan: 10 },
    ]));
    expect(index.size).toBe(rows.length);
  });
});

describe("fitOf", () => {
  const inScope = (province: number) => province === 41 || province === 0;
  it("says whether a stamp takes an event, holds it already, or missed one before it", () => {
    const stamp = new Map([[4101, 3], [4102, 7]]);
    expect(fitOf(stamp, [[4101, 41, 4], [4102, 41, 8]], inScope)).toBe("apply");
    expect(fitOf(stamp, [[4101, 41, 3]], inScope)).toBe("held");
    expect(fitOf(stamp, [[4101, 41, 5]], inScope)).toBe("gap");
    expect(fitOf(stamp, [[4101, 41, 4], [4102, 41, 7]], inScope)).toBe("gap");
    // A counter never seen (a first write in a county) starts from 0; another province's counters do not count.
    expect(fitOf(stamp, [[4199, 41, 1], [4401, 44, 9]], inScope)).toBe("apply");
    expect(fitOf(stamp, [[4401, 44, 9]], inScope)).toBe("held");
    advanceStamp(stamp, [[4101, 41, 4], [4401, 44, 9]], inScope);
    expect([...stamp]).toEqual([[4101, 4], [4102, 7]]);
  });
});
