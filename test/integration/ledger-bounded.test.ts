/**
 * The rollup upkeep of one write touches only the rows of the groups that
 * write changes: no statement of an ordinary write scans a whole table, and a
 * write reads as many rows on a database with 20,000 more projects as on a
 * small one. SQLite is asked for each statement's plan (EXPLAIN QUERY PLAN);
 * MariaDB for its own row counters (the session's Handler_read_*), on a
 * connection pool of one so that the write and the counters share a session.
 */
import type { DataSource } from "typeorm";

import { DEFAULT_LEDGER_FUTURE_DAYS } from "../../src/config";
import { ProjectStage } from "../../src/common/stage";
import { createDataSource } from "../../src/db/data-source";
import { SYSTEM_ACTOR } from "../../src/ledger/actor";
import { Ledger, type LedgerSettings, type ProjectDraft } from "../../src/ledger/ledger";
import { seedDatabase } from "../../src/seed/seed";
import { loadTrees, type Trees } from "../../src/common/trees";
import { mulberry32 } from "../../bench/generate";
import { DB_KINDS, type DbKind, type ScratchDatabase, createScratchDatabase } from "../support/databases";

/** Projects the big database has on top of the seed's 1,337. */
const EXTRA_PROJECTS = 20_000;
/** Rows a write may read more on the big database than on the small one (an index descent, a duplicate key). */
const SLACK = 8;
/** The city whose counties the measured writes use; the extra projects go everywhere else. */
const WRITE_CITY = "410100";
const SECTOR = "SEI_BIO";

/** A database under measurement: its ledger (trees read once, so that reading them is not part of a write) and the statements of its last write. */
interface Probe {
  kind: DbKind;
  scratch: ScratchDatabase;
  db: DataSource;
  trees: Trees;
  ledger: Ledger;
  statements: string[];
  meetingId: number;
}

async function openProbe(kind: DbKind, extraProjects: number): Promise<Probe> {
  const scratch = await createScratchDatabase(kind);
  // One connection: every statement of a write, and the counters read around it, in one MariaDB session.
  const db = await createDataSource(scratch.config.type === "mysql" ? { ...scratch.config, poolSize: 1 } : scratch.config);
  await db.initialize();
  await db.runMigrations();
  await seedDatabase(db);
  const trees = await loadTrees(db);
  const statements: string[] = [];
  const settings: LedgerSettings = { futureDays: DEFAULT_LEDGER_FUTURE_DAYS, onStatement: (sql) => void statements.push(sql) };
  const ledger = new Ledger(db, settings, async () => trees);
  const cities = trees.regions.children(trees.regions.byCode("410000")!.id);
  const meeting = await ledger.createMeeting(SYSTEM_ACTOR, {
    title: "测试推进会",
    heldOn: "2022-05-01",
    hostRegionCode: "410000",
    subVenueRegionCodes: cities.map((c) => c.code),
  });
  const probe: Probe = { kind, scratch, db, trees, ledger, statements, meetingId: meeting.value };
  if (extraProjects > 0) await addExtraProjects(probe, extraProjects);
  return probe;
}

/** Projects in every region outside WRITE_CITY, a fifth of them signed at the meeting, in batches of 2,000. */
async function addExtraProjects(probe: Probe, count: number): Promise<void> {
  const { regions, sectors } = probe.trees;
  const writeCity = regions.byCode(WRITE_CITY)!.id;
  const places = regions.all().filter((r) => regions.children(r.id).length === 0 && r.parentId !== writeCity && r.code !== WRITE_CITY && r.parentId !== null);
  const sectorCodes = sectors.all().map((s) => s.code);
  const rnd = mulberry32(20_000);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)];
  for (let done = 0; done < count; done += 2_000) {
    const drafts: ProjectDraft[] = [];
    for (let i = done; i < Math.min(count, done + 2_000); i++) {
      const place = pick(places);
      const city = regions.lineageOf(place.id)[1] ?? place;
      const atMeeting = rnd() < 0.2;
      const stages = rnd() < 0.6 ? 1 : rnd() < 0.75 ? 2 : 3;
      drafts.push({
        name: `规模项目${i}`,
        regionCode: place.code,
        sectorCode: pick(sectorCodes),
        investmentWan: 1 + Math.floor(rnd() * 200_000),
        synthetic: true,
        milestones: [
          { stage: ProjectStage.SIGNED, reachedOn: "2022-01-10", meetingId: atMeeting ? probe.meetingId : null, venueRegionCode: atMeeting ? city.code : null },
          ...(stages >= 2 ? [{ stage: ProjectStage.STARTED, reachedOn: "2022-02-10" }] : []),
          ...(stages >= 3 ? [{ stage: ProjectStage.IN_PRODUCTION, reachedOn: "2022-03-10" }] : []),
        ],
      });
    }
    await probe.ledger.addProjects(SYSTEM_ACTOR, drafts);
  }
}

async function closeProbe(probe: Probe | undefined): Promise<void> {
  await probe?.db.destroy();
  await probe?.scratch.drop();
}

/** A signed project of 2.5 亿元 in SECTOR, made through the ledger. */
async function createIn(probe: Probe, regionCode: string, name: string): Promise<number> {
  const written = await probe.ledger.createProject(SYSTEM_ACTOR, { name, regionCode, sectorCode: SECTOR, investment: 2.5, stage: ProjectStage.SIGNED, reachedOn: "2022-03-01" });
  return written.value;
}

/** The project a measured write changes, at the version it was left at. */
interface Target {
  id: number;
  version: number;
}

/**
 * One kind of ordinary write: `prepare` (not measured) puts a county's groups
 * in the same state on any database; `write` is the write measured.
 */
interface Operation {
  name: string;
  prepare(probe: Probe, county: string): Promise<Target>;
  write(probe: Probe, county: string, target: Target): Promise<unknown>;
}

/** A county holding one project of the group already, and the project to change next to it. */
async function pair(probe: Probe, county: string, name: string): Promise<Target> {
  await createIn(probe, county, "先到项目");
  return { id: await createIn(probe, county, name), version: 1 };
}

const OPERATIONS: Operation[] = [
  {
    name: "createProject",
    prepare: async (probe, county) => ({ id: await createIn(probe, county, "先到项目"), version: 1 }),
    write: (probe, county) => createIn(probe, county, "新签项目"),
  },
  {
    name: "updateProject (investment)",
    prepare: (probe, county) => pair(probe, county, "追加投资项目"),
    write: (probe, _county, { id, version }) => probe.ledger.updateProject(SYSTEM_ACTOR, String(id), version, { investment: 3.75 }),
  },
  {
    name: "advanceStage at a meeting venue",
    prepare: (probe, county) => pair(probe, county, "开工项目"),
    write: (probe, _county, { id, version }) =>
      probe.ledger.advanceStage(SYSTEM_ACTOR, {
        projectId: String(id),
        stage: ProjectStage.STARTED,
        reachedOn: "2022-05-01",
        meetingId: String(probe.meetingId),
        venueRegionCode: WRITE_CITY,
        expectedVersion: version,
      }),
  },
  {
    name: "recordAtMeeting",
    prepare: (probe, county) => pair(probe, county, "补记项目"),
    write: (probe, _county, { id, version }) =>
      probe.ledger.recordAtMeeting(SYSTEM_ACTOR, {
        projectId: String(id),
        stage: ProjectStage.SIGNED,
        meetingId: String(probe.meetingId),
        venueRegionCode: WRITE_CITY,
        expectedVersion: version,
      }),
  },
  {
    name: "correctMilestoneDate",
    prepare: async (probe, county) => {
      const id = await createIn(probe, county, "更正日期项目");
      await probe.ledger.advanceStage(SYSTEM_ACTOR, { projectId: String(id), stage: ProjectStage.STARTED, reachedOn: "2022-04-01", expectedVersion: 1 });
      return { id, version: 2 };
    },
    write: (probe, _county, { id, version }) =>
      probe.ledger.correctMilestoneDate(SYSTEM_ACTOR, {
        projectId: String(id),
        stage: ProjectStage.SIGNED,
        reachedOn: "2022-02-15",
        reason: "录入错误",
        expectedVersion: version,
      }),
  },
  {
    name: "createMeeting",
    prepare: async () => ({ id: 0, version: 0 }),
    write: (probe, county) => probe.ledger.createMeeting(SYSTEM_ACTOR, { title: "县级推进会", heldOn: "2022-06-01", hostRegionCode: county }),
  },
  {
    name: "addProjects (5 projects)",
    prepare: async (probe, county) => ({ id: await createIn(probe, county, "先到项目"), version: 1 }),
    write: (probe, county) =>
      probe.ledger.addProjects(
        SYSTEM_ACTOR,
        [1, 2, 3, 4, 5].map((n) => ({
          name: `导入项目${n}`,
          regionCode: county,
          sectorCode: SECTOR,
          investmentWan: 10_000 * n,
          milestones: [{ stage: ProjectStage.SIGNED, reachedOn: "2022-03-01", meetingId: probe.meetingId, venueRegionCode: WRITE_CITY }],
        })),
      ),
  },
];

/** The county an operation writes in (its own, so that operations do not share groups). */
function countyFor(probe: Probe, index: number): string {
  return probe.trees.regions.children(probe.trees.regions.byCode(WRITE_CITY)!.id)[index].code;
}

/** Runs `operation` in its county; returns the statements the measured write issued. */
async function runCaptured(probe: Probe, operation: Operation, index: number): Promise<string[]> {
  const county = countyFor(probe, index);
  const target = await operation.prepare(probe, county);
  probe.statements.length = 0;
  await operation.write(probe, county, target);
  return [...probe.statements];
}

/** SQLite's plan lines of a statement that read a table or index from end to end (the rows of a VALUES clause are no table). */
async function scans(db: DataSource, sql: string): Promise<string[]> {
  const params = Array.from(sql.matchAll(/\?/g), () => null);
  const plan: Array<{ detail: string }> = await db.query(`EXPLAIN QUERY PLAN ${sql}`, params);
  return plan.map((row) => row.detail).filter((detail) => /^SCAN (?!CONSTANT ROW|\d+-ROW VALUES CLAUSE)/.test(detail));
}

type Counters = Record<string, number>;

async function handlerReads(db: DataSource): Promise<{ connection: number; counters: Counters }> {
  const [{ id }] = await db.query("SELECT CONNECTION_ID() AS id");
  const rows: Array<{ Variable_name: string; Value: string }> = await db.query("SHOW SESSION STATUS LIKE 'Handler_read%'");
  return { connection: Number(id), counters: Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)])) };
}

function minus(after: Counters, before: Counters, overhead: Counters = {}): Counters {
  return Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k] - (overhead[k] ?? 0)]));
}

/** The session's Handler_read_* counters moved by `run` alone (what reading the counters costs is taken off). */
async function rowsRead(db: DataSource, run: () => Promise<unknown>): Promise<Counters> {
  const a = await handlerReads(db);
  const b = await handlerReads(db);
  const overhead = minus(b.counters, a.counters);
  const before = await handlerReads(db);
  await run();
  const after = await handlerReads(db);
  expect(after.connection).toBe(before.connection); // the write ran in the session the counters describe
  return minus(after.counters, before.counters, overhead);
}

describe.each(DB_KINDS)("bounded writes on %s", (kind) => {
  let small: Probe;
  let big: Probe;

  beforeAll(async () => {
    small = await openProbe(kind, 0);
    big = await openProbe(kind, EXTRA_PROJECTS);
  }, 300_000);

  afterAll(async () => {
    await closeProbe(small);
    await closeProbe(big);
  });

  it(`the big database holds ${EXTRA_PROJECTS} more projects than the small one`, async () => {
    const count = async (probe: Probe) => Number((await probe.db.query("SELECT COUNT(*) AS n FROM project"))[0].n);
    expect((await count(big)) - (await count(small))).toBe(EXTRA_PROJECTS);
  });

  if (kind === "sqlite") {
    it.each(OPERATIONS.map((op, i) => [op.name, op, i] as const))("%s: no statement is a full scan in SQLite's plan", async (_name, operation, index) => {
      const statements = await runCaptured(big, operation, index);
      expect(statements.length).toBeGreaterThan(0);
      const found: Array<{ sql: string; scans: string[] }> = [];
      for (const sql of statements) {
        const lines = await scans(big.db, sql);
        if (lines.length) found.push({ sql, scans: lines });
      }
      expect(found).toEqual([]);
    });

    it("the plan check sees a full scan when there is one", async () => {
      expect(await scans(big.db, "SELECT id FROM project WHERE investor = ?")).toEqual(["SCAN project"]);
    });
  }

  if (kind === "mysql") {
    it.each(OPERATIONS.map((op, i) => [op.name, op, i] as const))(
      `%s reads as many rows with ${EXTRA_PROJECTS} more projects as without (Handler_read_*)`,
      async (_name, operation, index) => {
        const measure = async (probe: Probe) => {
          const county = countyFor(probe, index);
          const target = await operation.prepare(probe, county);
          return rowsRead(probe.db, () => operation.write(probe, county, target));
        };
        const onSmall = await measure(small);
        const onBig = await measure(big);
        const grown = Object.fromEntries(Object.keys(onBig).filter((k) => onBig[k] > onSmall[k] + SLACK).map((k) => [k, { small: onSmall[k], big: onBig[k] }]));
        expect(grown).toEqual({});
        expect(onBig.Handler_read_rnd_next).toBeLessThanOrEqual(onSmall.Handler_read_rnd_next + SLACK);
      },
    );

    it("the counters see a full scan when there is one", async () => {
      const read = await rowsRead(big.db, () => big.db.query("SELECT COUNT(*) FROM project WHERE investor = 'nobody'"));
      expect(read.Handler_read_rnd_next).toBeGreaterThan(EXTRA_PROJECTS);
    });
  }

  it("writes in two counties bump two different data_version rows", async () => {
    const [countyA, countyB] = [countyFor(small, 10), countyFor(small, 11)];
    const a = await createIn(small, countyA, "甲县项目");
    const b = await createIn(small, countyB, "乙县项目");
    const versions = async () => new Map<number, number>((await small.db.query("SELECT id, version FROM data_version")).map((r: { id: number; version: number }) => [Number(r.id), Number(r.version)]));
    const moved = (before: Map<number, number>, after: Map<number, number>) => [...after].filter(([id, v]) => before.get(id) !== v).map(([id]) => id);
    const v0 = await versions();
    await small.ledger.updateProject(SYSTEM_ACTOR, String(a), 1, { investment: 4 });
    const v1 = await versions();
    await small.ledger.updateProject(SYSTEM_ACTOR, String(b), 1, { investment: 4 });
    const v2 = await versions();
    expect(moved(v0, v1)).toEqual([small.trees.regions.byCode(countyA)!.id]);
    expect(moved(v1, v2)).toEqual([small.trees.regions.byCode(countyB)!.id]);
  });
});
