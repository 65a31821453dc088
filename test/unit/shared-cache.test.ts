/**
 * The cross-request cache's bound (AGGREGATE_CACHE_MAX_ROWS): grouped rows and finished values count their size, the
 * least recently used go first, and a write drops only what depends on the provinces it moved. Pure bookkeeping:
 * the versions are given, nothing is read from a database.
 */
import { type DataVersions, versionsOf } from "../../src/db/data-version";
import { SharedCache } from "../../src/server/shared-cache";

/** Versions with one counter per province (its region id the province's). */
const at = (total: number, byProvince: Record<number, number>): DataVersions => versionsOf(Object.entries(byProvince).map(([p, v]) => ({ region: Number(p), province: Number(p), version: v })));
const rows = (n: number) => async () => ({ rows: Array.from({ length: n }, (_, i) => i) });

describe("SharedCache", () => {
  it("keeps at most maxRows grouped rows, dropping the least recently used first", async () => {
    const cache = new SharedCache({ versionTtlMs: 60_000, maxRows: 100 });
    const access = cache.accessAt(at(1, { 0: 1 }));
    let loads = 0;
    const load = (n: number) => () => {
      loads++;
      return rows(n)();
    };
    await access.rowsFor("a", [1], load(40));
    await access.rowsFor("b", [1], load(40));
    await access.rowsFor("a", [1], load(40)); // a is now the most recently used
    expect(loads).toBe(2);
    await access.rowsFor("c", [1], load(40)); // 120 rows: b, the least recently used, goes
    expect(loads).toBe(3);
    await access.rowsFor("a", [1], load(40));
    await access.rowsFor("c", [1], load(40));
    expect(loads).toBe(3);
    await access.rowsFor("b", [1], load(40));
    expect(loads).toBe(4);
  });

  it("uses but does not keep rows larger than the whole bound", async () => {
    const cache = new SharedCache({ versionTtlMs: 60_000, maxRows: 10 });
    const access = cache.accessAt(at(1, { 0: 1 }));
    let loads = 0;
    const load = () => {
      loads++;
      return rows(11)();
    };
    expect(await access.rowsFor("big", null, load)).toHaveLength(11);
    expect(await access.rowsFor("big", null, load)).toHaveLength(11);
    expect(loads).toBe(2);
  });

  it("a write in one province drops what depends on it, and keeps the rest", async () => {
    const cache = new SharedCache({ versionTtlMs: 60_000, maxRows: 1_000 });
    const before = cache.accessAt(at(2, { 0: 1, 41: 1 }));
    await before.rowsFor("henan", [41], rows(5));
    await before.rowsFor("guangdong", [44], rows(5));
    before.kept.keep("any", "value", 1, null);
    const after = cache.accessAt(at(3, { 0: 1, 41: 2 }));
    let loads = 0;
    const load = () => {
      loads++;
      return rows(5)();
    };
    await after.rowsFor("guangdong", [44], load);
    expect(loads).toBe(0);
    await after.rowsFor("henan", [41], load);
    expect(loads).toBe(1);
    expect(after.kept.get("any")).toBeUndefined();
  });

  it("a change event reaches the values of the provinces it touched and the national ones, by the index, and no other", async () => {
    const cache = new SharedCache({ versionTtlMs: 60_000, maxRows: 1_000 });
    const versions = at(2, { 0: 1, 41: 1 });
    const access = cache.accessAt(versions);
    await access.rowsFor("guangdong", [44], rows(5));
    access.kept.keep("henan", "value", 1, [41]);
    access.kept.keep("national", "value", 1, null);
    const event = { origin: "other", seq: 1, committedAt: Date.now(), provinces: [41], regions: [41], meetings: [], versions: [[41, 41, 2]] as Array<[number, number, number]>, deltas: {} };
    cache.applyChange(event);
    expect(cache.counts.dropped).toBe(2);
    const after = cache.accessAt(versions);
    expect(after.kept.get("henan")).toBeUndefined();
    expect(after.kept.get("national")).toBeUndefined();
    let loads = 0;
    await after.rowsFor("guangdong", [44], async () => (loads++, { rows: [] }));
    expect(loads).toBe(0);
    // Evicted values leave the index: a second event finds nothing more to drop.
    cache.applyChange({ ...event, seq: 2, versions: [[41, 41, 3]] });
    expect(cache.counts.dropped).toBe(2);
  });
});
