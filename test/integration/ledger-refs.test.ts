/**
 * One rule for "the same ledger reference" (台账编号), enforced by the database
 * on SQLite and MariaDB alike (issue 17, defects 3 and 4): `project.ref_key`
 * and its unique index. The same cases run on both databases: references
 * differing in letter case, width, accents or case folding are one reference
 * (the second is BAD_USER_INPUT naming the field), invisible characters and
 * half surrogate pairs are refused, 30 concurrent creates of one reference
 * give one project and otherwise BAD_USER_INPUT or CONFLICT (never a driver
 * error), and the migration keys existing references, stopping on two that
 * the rule makes one.
 */
import type { DataSource } from "typeorm";

import { AppError, ErrorCode } from "../../src/common/errors";
import type { Actor } from "../../src/ledger/actor";
import type { Ledger } from "../../src/ledger/ledger";
import { refKeyColumn } from "../../src/ledger/ref-key";
import { seedDatabase } from "../../src/seed/seed";
import { verifyRollups } from "../../src/stats/rollups";
import { DB_KINDS, type ScratchDatabase, openScratchDataSource } from "../support/databases";
import { rejection, seededLedger } from "../support/ledger";

/** Groups of references the rule makes one: the first is created, every other is then refused as taken. */
const SAME = [
  ["seq-abc-1", "SEQ-ABC-1", "ｓｅｑ－ａｂｃ－１", "Seq-Abc-1"],
  ["cafe-1", "café-1", "CAFÉ-1", "cafe\u0301-1"],
  ["strasse-7", "STRAßE-7", "Straße-7"],
  ["郑州-2024-001", "郑州－２０２４－００１"],
];
/** References that differ: each is a project of its own. */
const DIFFERENT = ["ab-1", "ab-2", "ab1", "a-b-1", "郑州-1", "鄭州-1"];
/** References refused by the field rules, with a word of the reason. */
const REFUSED: Array<[string, RegExp]> = [
  ["x\u200b1", /invisible formatting/],
  ["x\u202e1", /invisible formatting/],
  ["\u2066x1", /invisible formatting/],
  ["x\ud8001", /surrogate/],
  ["x\u00001", /control characters/],
  ["x\ufffd1", /U\+FFFD/],
];

function input(ref: string, name = `中牟县编号测试项目${ref.length}`) {
  return { ref, name, regionCode: "410122", sectorCode: "LOG", investment: 1, reachedOn: "2024-01-01" };
}


describe.each(DB_KINDS)("ledger references on %s", (kind) => {
  let scratch: ScratchDatabase;
  let db: DataSource;
  let ledger: Ledger;
  let county: Actor;

  beforeAll(async () => {
    ({ scratch, db, ledger, actor: county } = await seededLedger(kind, "410122", "中牟县发改委"));
  });

  afterAll(async () => {
    await db?.destroy();
    await scratch?.drop();
  });

  it.each(SAME.map((group) => [group[0], group]))("%s: every other writing of it is the same reference, refused as taken", async (_first, group) => {
    await ledger.createProject(county, input(group[0]));
    for (const other of group.slice(1)) {
      const error = await rejection(ledger.createProject(county, input(other)));
      expect(error.extensions).toMatchObject({ code: ErrorCode.BAD_USER_INPUT, field: "input.ref", reason: `ledger reference "${other}" is taken by another project` });
    }
    const rows = await db.query("SELECT COUNT(*) AS n FROM project WHERE ref_key = ?", [refKeyColumn(group[0])]);
    expect(Number(rows[0].n)).toBe(1);
  });

  it("references that differ are projects of their own", async () => {
    for (const ref of DIFFERENT) await ledger.createProject(county, input(ref));
    const rows = await db.query(`SELECT COUNT(DISTINCT ref_key) AS n FROM project WHERE ref IN (${DIFFERENT.map(() => "?").join(",")})`, DIFFERENT);
    expect(Number(rows[0].n)).toBe(DIFFERENT.length);
  });

  it.each(REFUSED.map(([ref, reason]) => [JSON.stringify(ref), ref, reason] as const))("a reference %s is BAD_USER_INPUT, and so is a name holding the same character", async (_shown, ref, reason) => {
    const error = await rejection(ledger.createProject(county, input(ref)));
    expect(error.extensions).toMatchObject({ code: ErrorCode.BAD_USER_INPUT, field: "input.ref", reason: expect.stringMatching(reason) });
    const named = await rejection(ledger.createProject(county, input(`ok-${ref.length}-${Math.random().toString(36).slice(2, 8)}`, `中牟县${ref}项目`)));
    expect(named.extensions).toMatchObject({ code: ErrorCode.BAD_USER_INPUT, field: "input.name", reason: expect.stringMatching(reason) });
  });

  it("30 concurrent creates of one reference: one project, every other BAD_USER_INPUT or CONFLICT", async () => {
    const ref = `race-${kind}-1`;
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => ledger.createProject(county, input(i % 2 ? ref.toUpperCase() : ref))));
    const created = results.filter((r) => r.status === "fulfilled");
    const codes = results.flatMap((r) => (r.status === "rejected" ? [r.reason instanceof AppError ? String(r.reason.extensions.code) : `not an AppError: ${String(r.reason)}`] : []));
    expect(created).toHaveLength(1);
    expect(codes.filter((code) => code !== ErrorCode.BAD_USER_INPUT && code !== ErrorCode.CONFLICT)).toEqual([]);
    const rows = await db.query("SELECT COUNT(*) AS n FROM project WHERE ref_key = ?", [refKeyColumn(ref)]);
    expect(Number(rows[0].n)).toBe(1);
    expect(await verifyRollups(db)).toEqual([]);
  }, 60_000);
});

describe.each(DB_KINDS)("the ref_key migration on %s", (kind) => {
  let scratch: ScratchDatabase;
  let db: DataSource;

  beforeAll(async () => {
    ({ scratch, db } = await openScratchDataSource(kind));
    await db.runMigrations({ transaction: "each" });
    await seedDatabase(db);
  });

  afterAll(async () => {
    await db?.destroy();
    await scratch?.drop();
  });

  it("keys every stored reference, and stops on two the rule makes one, naming both", async () => {
    // Back to before the ref_key migration: it and every later one undone, the last first.
    const stamp = (m: { name?: string; constructor: { name: string } }) => Number(/(\d{13})$/.exec(m.name ?? m.constructor.name)?.[1]);
    const later = db.migrations.filter((m) => stamp(m) >= 1795700000300).length;
    expect(later).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < later; i++) await db.undoLastMigration({ transaction: "each" });
    expect(await db.query(kind === "mysql" ? "SHOW COLUMNS FROM project LIKE 'ref_key'" : "SELECT name FROM pragma_table_info('project') WHERE name = 'ref_key'")).toEqual([]);
    const [{ id }] = await db.query("SELECT MIN(id) AS id FROM project");
    const [{ region_id, sector_id }] = await db.query("SELECT region_id, sector_id FROM project WHERE id = ?", [id]);
    const insert = (ref: string) =>
      db.query("INSERT INTO project (ref, name, region_id, sector_id, stage, stage_reached_on, investment_wan, investor, synthetic, version) VALUES (?, ?, ?, ?, 1, '2024-01-01', 10000, NULL, 0, 1)", [
        ref,
        `迁移测试${ref}`,
        region_id,
        sector_id,
      ]);
    await insert("mig-cafe-1");
    await insert("mig-cafe-2");
    // Before the migration SQLite's unique index on ref told these apart (and MariaDB's collation took them as one); renaming one stands in for the
    // accents MariaDB would have refused.
    await db.query("UPDATE project SET ref = ? WHERE ref = ?", [kind === "sqlite" ? "MIG-CAFÉ-1" : "mig-cafe-1-x", "mig-cafe-2"]);
    if (kind === "sqlite") {
      await expect(db.runMigrations({ transaction: "each" })).rejects.toThrow(/"mig-cafe-1" \(project \d+\) and "MIG-CAFÉ-1" \(project \d+\)/);
      await db.query("UPDATE project SET ref = ? WHERE ref = ?", ["mig-cafe-1-x", "MIG-CAFÉ-1"]);
    }
    await db.runMigrations({ transaction: "each" });
    const rows: Array<{ ref: string; ref_key: string | null }> = await db.query("SELECT ref, ref_key FROM project WHERE ref IS NOT NULL");
    expect(rows.filter((row) => row.ref_key !== refKeyColumn(row.ref))).toEqual([]);
    expect(rows.length).toBeGreaterThan(1000);
  });
});
