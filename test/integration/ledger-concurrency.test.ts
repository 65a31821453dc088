/**
 * Concurrent writers on MariaDB: 50 clients advancing and editing the same 20
 * projects, each write naming the version its client read. Every write applies
 * exactly once or is CONFLICT; none is lost; a deadlock or lock wait inside the
 * database is retried by the write path or surfaces as CONFLICT (retryable),
 * never as another error; afterwards the rollups verify clean and each
 * project's history holds every applied change, one per version.
 */
import type { DataSource } from "typeorm";

import { AppError } from "../../src/common/errors";
import { ProjectStage, stageFromNumber } from "../../src/common/stage";
import { DEFAULT_LEDGER_FUTURE_DAYS } from "../../src/config";
import { createDataSource } from "../../src/db/data-source";
import { type Actor, SYSTEM_ACTOR } from "../../src/ledger/actor";
import { Ledger, type LedgerTx, type Written } from "../../src/ledger/ledger";
import { seedDatabase } from "../../src/seed/seed";
import { loadTrees } from "../../src/common/trees";
import { verifyRollups } from "../../src/stats/rollups";
import { mulberry32 } from "../../bench/generate";
import { type ScratchDatabase, createScratchDatabase } from "../support/databases";

const CLIENTS = 50;
const OPERATIONS_PER_CLIENT = 10;
const PROJECTS = 20;
const POOL = 20;
/** No client starts an operation after this long. */
const DEADLINE_MS = 30_000;

/** The ledger, counting each run of a write's work: a run more than the writes asked for is a retry after a deadlock or lock wait. */
class CountingLedger extends Ledger {
  runs = 0;

  override write<T>(actor: Actor, work: (tx: LedgerTx) => Promise<T>): Promise<Written<T>> {
    return super.write(actor, (tx) => {
      this.runs += 1;
      return work(tx);
    });
  }
}

interface ProjectState {
  version: number;
  stage: number;
  wan: number;
  changes: number;
}

interface Outcome {
  applied: Array<{ projectId: number; kind: "update" | "advance" }>;
  conflicts: number;
  retryableConflicts: number;
  /** Anything but success or CONFLICT: each one fails the test. */
  unexpected: Array<{ kind: string; code: unknown; message: string }>;
  attempted: number;
}

const mysqlUrl = process.env.MYSQL_URL;
const describeOnMariaDb = mysqlUrl ? describe : describe.skip;

describeOnMariaDb(mysqlUrl ? "concurrent writers on MariaDB" : "concurrent writers on MariaDB (skipped: MYSQL_URL is unset)", () => {
  let scratch: ScratchDatabase;
  let db: DataSource;
  let ledger: CountingLedger;
  let projectIds: number[] = [];
  let meetingId: string;
  const initial = new Map<number, ProjectState>();
  let outcome: Outcome;
  let elapsedMs = 0;

  async function states(): Promise<Map<number, ProjectState>> {
    const marks = projectIds.map(() => "?").join(", ");
    const rows: Array<Record<string, unknown>> = await db.query(
      `SELECT p.id, p.version, p.stage, p.investment_wan, (SELECT COUNT(*) FROM ledger_change c WHERE c.project_id = p.id) AS changes FROM project p WHERE p.id IN (${marks})`,
      projectIds,
    );
    return new Map(rows.map((r) => [Number(r.id), { version: Number(r.version), stage: Number(r.stage), wan: Number(r.investment_wan), changes: Number(r.changes) }]));
  }

  /** One client: reads a project, then edits or advances it at the version read. */
  async function client(index: number, started: number, out: Outcome): Promise<void> {
    const rnd = mulberry32(1_000 + index);
    for (let op = 0; op < OPERATIONS_PER_CLIENT && Date.now() - started < DEADLINE_MS; op++) {
      const projectId = projectIds[Math.floor(rnd() * projectIds.length)];
      const [row]: Array<Record<string, unknown>> = await db.query("SELECT version, stage, investment_wan FROM project WHERE id = ?", [projectId]);
      const version = Number(row.version);
      const stage = Number(row.stage);
      const advance = stage < 3 && rnd() < 0.3;
      out.attempted += 1;
      try {
        if (advance) {
          const atMeeting = rnd() < 0.5;
          await ledger.advanceStage(SYSTEM_ACTOR, {
            projectId: String(projectId),
            stage: stageFromNumber(stage + 1) as ProjectStage,
            reachedOn: stage === 1 ? "2022-06-01" : "2022-09-01",
            meetingId: atMeeting ? meetingId : null,
            venueRegionCode: atMeeting ? "410100" : null,
            expectedVersion: version,
          });
        } else {
          await ledger.updateProject(SYSTEM_ACTOR, String(projectId), version, { investment: (Number(row.investment_wan) + 1) / 10_000 });
        }
        out.applied.push({ projectId, kind: advance ? "advance" : "update" });
      } catch (error) {
        const code = error instanceof AppError ? error.extensions.code : undefined;
        if (code === "CONFLICT") {
          out.conflicts += 1;
          if (error instanceof AppError && error.extensions.retryable === true) out.retryableConflicts += 1;
        } else {
          out.unexpected.push({ kind: advance ? "advance" : "update", code: code ?? (error as Error).constructor.name, message: (error as Error).message });
        }
      }
    }
  }

  beforeAll(async () => {
    scratch = await createScratchDatabase("mysql");
    if (scratch.config.type !== "mysql") throw new Error("invariant: a MariaDB scratch database");
    db = await createDataSource({ ...scratch.config, poolSize: POOL });
    await db.initialize();
    await db.runMigrations();
    await seedDatabase(db);
    const trees = await loadTrees(db);
    ledger = new CountingLedger(db, { futureDays: DEFAULT_LEDGER_FUTURE_DAYS }, async () => trees);
    meetingId = String((await ledger.createMeeting(SYSTEM_ACTOR, { title: "并发测试推进会", heldOn: "2022-06-01", hostRegionCode: "410000", subVenueRegionCodes: ["410100"] })).value);
    // Four counties of one city and two sectors: the 20 projects share rollup groups and version rows, as a busy city's do.
    const counties = ["410102", "410103", "410104", "410105"];
    const created = await ledger.addProjects(
      SYSTEM_ACTOR,
      Array.from({ length: PROJECTS }, (_, i) => ({
        name: `并发项目${i}`,
        regionCode: counties[i % counties.length],
        sectorCode: i % 2 ? "SEI_BIO" : "MFG_AUTO",
        investmentWan: 20_000 + i,
        milestones: [{ stage: ProjectStage.SIGNED, reachedOn: "2022-03-01", meetingId: i % 3 === 0 ? Number(meetingId) : null, venueRegionCode: i % 3 === 0 ? "410100" : null }],
      })),
    );
    projectIds = created.value;
    for (const [id, state] of await states()) initial.set(id, state);

    outcome = { applied: [], conflicts: 0, retryableConflicts: 0, unexpected: [], attempted: 0 };
    const runsBefore = ledger.runs;
    const started = Date.now();
    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i, started, outcome)));
    elapsedMs = Date.now() - started;
    const retries = ledger.runs - runsBefore - outcome.attempted;
    console.log(
      `ledger concurrency on MariaDB: ${CLIENTS} clients, ${outcome.attempted} writes in ${(elapsedMs / 1000).toFixed(2)} s = ${((outcome.attempted * 1000) / elapsedMs).toFixed(0)} writes/s ` +
        `(${outcome.applied.length} applied = ${((outcome.applied.length * 1000) / elapsedMs).toFixed(0)}/s, ${outcome.conflicts} CONFLICT of which ${outcome.retryableConflicts} after lock retries, ` +
        `${retries} runs retried after a deadlock or lock wait, ${outcome.unexpected.length} other errors), pool ${POOL}`,
    );
  }, 120_000);

  afterAll(async () => {
    await db?.destroy();
    await scratch?.drop();
  });

  it("every write applied or was CONFLICT: no other error", () => {
    expect(outcome.unexpected).toEqual([]);
    expect(outcome.applied.length + outcome.conflicts).toBe(outcome.attempted);
  });

  it("the clients made every write they were to make within the deadline, and some of each kind applied", () => {
    expect(outcome.attempted).toBe(CLIENTS * OPERATIONS_PER_CLIENT);
    expect(outcome.applied.some((a) => a.kind === "update")).toBe(true);
    expect(outcome.applied.some((a) => a.kind === "advance")).toBe(true);
  });

  it("each project's version moved once per applied write to it", async () => {
    const after = await states();
    const moved = projectIds.map((id) => [id, after.get(id)!.version - initial.get(id)!.version]);
    const applied = projectIds.map((id) => [id, outcome.applied.filter((a) => a.projectId === id).length]);
    expect(moved).toEqual(applied);
  });

  it("no update is lost: each investment grew by 1 万元 per applied edit, and each stage by one per applied advance", async () => {
    const after = await states();
    const grown = projectIds.map((id) => [id, after.get(id)!.wan - initial.get(id)!.wan, after.get(id)!.stage - initial.get(id)!.stage]);
    const applied = projectIds.map((id) => [
      id,
      outcome.applied.filter((a) => a.projectId === id && a.kind === "update").length,
      outcome.applied.filter((a) => a.projectId === id && a.kind === "advance").length,
    ]);
    expect(grown).toEqual(applied);
  });

  it("the rollups equal a recomputation from the base tables", async () => {
    expect(await verifyRollups(db)).toEqual([]);
  });

  it("each project's history holds one change per applied write, at versions in sequence", async () => {
    const after = await states();
    for (const id of projectIds) {
      const rows: Array<{ v: number }> = await db.query("SELECT project_version AS v FROM ledger_change WHERE project_id = ? ORDER BY project_version", [id]);
      const versions = rows.map((r) => Number(r.v));
      expect({ id, versions }).toEqual({ id, versions: Array.from({ length: after.get(id)!.version }, (_, i) => i + 1) });
      expect(after.get(id)!.changes - initial.get(id)!.changes).toBe(outcome.applied.filter((a) => a.projectId === id).length);
    }
  });
});
