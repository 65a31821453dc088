/**
 * Concurrent writers over HTTP, as users would be: on MariaDB 50 clients
 * advancing and editing the same 20 projects through updateProject and
 * advanceStage, each write naming the version its client just read. Every
 * answer is data or a CONFLICT error (never another code, never HTTP 5xx); no
 * update is lost; afterwards the rollups verify clean and each project's
 * history holds one change per version. The function-level version of this is
 * test/integration/ledger-concurrency.test.ts. On SQLite, whose writes
 * serialize, a smaller run shows the same.
 *
 * Bounded: a fixed number of operations per client, a deadline after which no
 * client starts another, and only 127.0.0.1.
 */
import { createToken } from "../../src/auth/tokens";
import { verifyRollups } from "../../src/stats/rollups";
import { mulberry32 } from "../../bench/generate";
import type { DbKind } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";
import { ADVANCE, CREATE, CREATE_MEETING, type Reply, send, UPDATE } from "../support/writes";

const PROJECTS = 20;
const OPERATIONS_PER_CLIENT = 10;
const POOL = 20;
/** No client starts an operation after this long. */
const DEADLINE_MS = 30_000;
const STAGES = ["SIGNED", "STARTED", "IN_PRODUCTION"];

const READ = `query Read($id: ID!) { project(id: $id) { version stage wan: investment(unit: WAN_YUAN) } }`;
const FINAL = `query Final($id: ID!) {
  project(id: $id) { version stage wan: investment(unit: WAN_YUAN) history(first: 100) { nodes { projectVersion operation } } }
}`;


interface Applied {
  projectId: string;
  kind: "update" | "advance";
}

interface Outcome {
  applied: Applied[];
  conflicts: number;
  /** Anything but data or CONFLICT (another code, HTTP 5xx, a failed read): each one fails the test. */
  unexpected: Array<{ step: string; status: number; codes: unknown[]; text: string }>;
  attempted: number;
}

const mysqlUrl = process.env.MYSQL_URL;
const RUNS: Array<{ kind: DbKind; clients: number; title: string; run: boolean }> = [
  { kind: "sqlite", clients: 10, title: "10 concurrent HTTP writers on SQLite", run: true },
  {
    kind: "mysql",
    clients: 50,
    title: mysqlUrl ? "50 concurrent HTTP writers on MariaDB" : "50 concurrent HTTP writers on MariaDB (skipped: MYSQL_URL is unset)",
    run: Boolean(mysqlUrl),
  },
];

for (const { kind, clients, title, run } of RUNS) {
  (run ? describe : describe.skip)(title, () => {
    let server: TestServer;
    let province: string;
    let meetingId: string;
    const projectIds: string[] = [];
    const initialWan = new Map<string, number>();
    const outcome: Outcome = { applied: [], conflicts: 0, unexpected: [], attempted: 0 };
    const finals = new Map<string, { version: number; stage: string; wan: number; history: Array<{ projectVersion: number; operation: string }> }>();

    /** Classifies an answer: true for data, false for CONFLICT, else records it as unexpected (and returns false). */
    function classify(step: string, reply: Reply, out: Outcome): boolean {
      const codes = (reply.errors ?? []).map((e) => e.extensions?.code);
      if (reply.status < 500 && codes.length === 0 && reply.data) return true;
      if (reply.status < 500 && codes.length > 0 && codes.every((c) => c === "CONFLICT")) {
        out.conflicts += 1;
        return false;
      }
      out.unexpected.push({ step, status: reply.status, codes, text: reply.text.slice(0, 500) });
      return false;
    }

    /** One client: reads a project, then edits (+1 万元) or advances it at the version read. */
    async function client(index: number, started: number, out: Outcome): Promise<void> {
      const rnd = mulberry32(2_000 + index);
      for (let op = 0; op < OPERATIONS_PER_CLIENT && Date.now() - started < DEADLINE_MS; op++) {
        const projectId = projectIds[Math.floor(rnd() * projectIds.length)];
        const read = await send(server, province, READ, { id: projectId });
        if (read.status >= 400 || read.errors || !read.data?.project) {
          out.unexpected.push({ step: "read", status: read.status, codes: (read.errors ?? []).map((e) => e.extensions?.code), text: read.text.slice(0, 500) });
          continue;
        }
        const { version, stage, wan } = read.data.project as { version: number; stage: string; wan: number };
        const stageNumber = STAGES.indexOf(stage) + 1;
        const advance = stageNumber < 3 && rnd() < 0.3;
        out.attempted += 1;
        let reply: Reply;
        if (advance) {
          const atMeeting = rnd() < 0.5;
          reply = await send(server, province, ADVANCE, {
            input: {
              projectId,
              stage: STAGES[stageNumber],
              reachedOn: stageNumber === 1 ? "2022-06-01" : "2022-09-01",
              meetingId: atMeeting ? meetingId : null,
              venueRegionCode: atMeeting ? "410100" : null,
              expectedVersion: version,
            },
          });
        } else {
          reply = await send(server, province, UPDATE, { id: projectId, v: version, input: { investment: (wan + 1) / 10_000 } });
        }
        if (classify(advance ? "advance" : "update", reply, out)) out.applied.push({ projectId, kind: advance ? "advance" : "update" });
      }
    }

    beforeAll(async () => {
      server = await startTestServer(kind, { DB_POOL_SIZE: String(POOL) });
      province = (await createToken(server.db, { regionCode: "410000", name: "河南省发展和改革委员会（并发测试）" })).token;

      const meeting = await send(server, province, CREATE_MEETING, {
        input: { title: `并发测试推进会 ${kind}`, heldOn: "2022-06-01", hostRegionCode: "410000", subVenueRegionCodes: ["410100"], majorProjects: false },
      });
      expect(meeting.errors).toBeUndefined();
      meetingId = meeting.data.createMeeting.id;

      // Four counties of one city and two sectors: the 20 projects share rollup groups, as a busy city's do.
      const counties = ["410102", "410103", "410104", "410105"];
      for (let i = 0; i < PROJECTS; i++) {
        const reply = await send(server, province, CREATE, {
          input: {
            name: `并发项目 ${kind} #${i}`,
            regionCode: counties[i % counties.length],
            sectorCode: i % 2 ? "SEI_BIO" : "MFG_AUTO",
            investment: (20_000 + i) / 10_000,
            reachedOn: "2022-03-01",
            meetingId: i % 3 === 0 ? meetingId : null,
            venueRegionCode: i % 3 === 0 ? "410100" : null,
          },
        });
        expect(reply.errors).toBeUndefined();
        expect(reply.data.createProject).toMatchObject({ version: 1, wan: 20_000 + i });
        projectIds.push(reply.data.createProject.id);
        initialWan.set(reply.data.createProject.id, 20_000 + i);
      }

      const started = Date.now();
      await Promise.all(Array.from({ length: clients }, (_, i) => client(i, started, outcome)));
      const elapsedMs = Date.now() - started;
      console.log(
        `concurrent HTTP writes on ${kind}: ${clients} clients, ${outcome.attempted} writes in ${(elapsedMs / 1000).toFixed(2)} s = ` +
          `${((outcome.attempted * 1000) / elapsedMs).toFixed(0)} writes/s attempted, ${outcome.applied.length} applied = ` +
          `${((outcome.applied.length * 1000) / elapsedMs).toFixed(0)}/s, ${outcome.conflicts} CONFLICT, ${outcome.unexpected.length} other errors` +
          (kind === "mysql" ? `, pool ${POOL}` : ""),
      );

      for (const id of projectIds) {
        const reply = await send(server, province, FINAL, { id });
        expect(reply.errors).toBeUndefined();
        const p = reply.data.project;
        finals.set(id, { version: p.version, stage: p.stage, wan: p.wan, history: p.history.nodes });
      }
    }, 120_000);

    afterAll(async () => server?.close());

    it("every answer was data or CONFLICT: no other code, no HTTP 5xx", () => {
      expect(outcome.unexpected).toEqual([]);
      expect(outcome.applied.length + outcome.conflicts).toBe(outcome.attempted);
    });

    it("the clients made every write they were to make within the deadline, and some of each kind applied", () => {
      expect(outcome.attempted).toBe(clients * OPERATIONS_PER_CLIENT);
      expect(outcome.applied.some((a) => a.kind === "update")).toBe(true);
      expect(outcome.applied.some((a) => a.kind === "advance")).toBe(true);
    });

    it("each project's version − 1 is the number of writes applied to it", () => {
      const moved = projectIds.map((id) => [id, finals.get(id)!.version - 1]);
      const applied = projectIds.map((id) => [id, outcome.applied.filter((a) => a.projectId === id).length]);
      expect(moved).toEqual(applied);
    });

    it("no update is lost: each investment grew by 1 万元 per applied edit, and each stage by one per applied advance", () => {
      const grown = projectIds.map((id) => [id, finals.get(id)!.wan - initialWan.get(id)!, STAGES.indexOf(finals.get(id)!.stage)]);
      const applied = projectIds.map((id) => [
        id,
        outcome.applied.filter((a) => a.projectId === id && a.kind === "update").length,
        outcome.applied.filter((a) => a.projectId === id && a.kind === "advance").length,
      ]);
      expect(grown).toEqual(applied);
    });

    it("the rollups equal a recomputation from the base tables", async () => {
      expect(await verifyRollups(server.db)).toEqual([]);
    });

    it("each project's history has exactly one change per version, 1..version", () => {
      for (const id of projectIds) {
        const { version, history } = finals.get(id)!;
        const versions = history.map((h) => h.projectVersion).sort((a, b) => a - b);
        expect({ id, versions }).toEqual({ id, versions: Array.from({ length: version }, (_, i) => i + 1) });
        expect({ id, edits: history.filter((h) => h.operation === "UPDATE_PROJECT").length }).toEqual({
          id,
          edits: outcome.applied.filter((a) => a.projectId === id && a.kind === "update").length,
        });
      }
    });
  });
}
