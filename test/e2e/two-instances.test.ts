/**
 * Many instances on one database: two server processes (the real entry
 * point compiled, dist/src/main.js, each its own process with its own caches) on one
 * database, a write through one read through the other. The data version
 * lives in the database, so an instance sees another's write once the
 * versions it holds are older than DATA_VERSION_TTL_MS; before that it may
 * still answer from its cache, and the test asserts nothing stricter than
 * that. On MySQL (MYSQL_URL) and on the embedded SQLite file, which two
 * processes share (WAL; a writer that finds the file busy retries).
 */
import { createToken } from "../../src/auth/tokens";
import { loadConfig } from "../../src/config";
import { openDatabase } from "../../src/db/open-database";
import { seedDatabase } from "../../src/seed/seed";
import { createScratchDatabase, DB_KINDS, type ScratchDatabase } from "../support/databases";
import { type ServerProcess as Instance, startServerProcess } from "../support/server-process";

/** How long each instance trusts the data version it read (ms). */
const TTL_MS = 200;

async function gql(instance: Instance, query: string, variables?: Record<string, unknown>, token?: string): Promise<{ data: any; errors?: unknown[] }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(instance.url, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  return (await response.json()) as { data: any; errors?: unknown[] };
}

const CREATE = `mutation Create($input: CreateProjectInput!) { createProject(input: $input) { id } }`;
const TOTALS = `{ region(code: "410102") { stats { projectCount wan: totalInvestment(unit: WAN_YUAN) } } }`;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(DB_KINDS)("two server processes on one %s database", (kind) => {
  let scratch: ScratchDatabase | undefined;
  let a: Instance | undefined;
  let b: Instance | undefined;
  let token: string;
  let serial = 0;

  beforeAll(async () => {
    scratch = await createScratchDatabase(kind);
    const config = { ...loadConfig({ LOG_LEVEL: "silent" }), database: scratch.config };
    // Migrated and seeded here (SQLite seeds itself on its first open; MySQL never does), so the two start alike.
    const db = await openDatabase(config);
    try {
      if (kind === "mysql") await seedDatabase(db);
      token = (await createToken(db, { regionCode: "410000", name: "河南省发展和改革委员会" })).token;
    } finally {
      await db.destroy();
    }
    const env: Record<string, string> = scratch.config.type === "mysql" ? { DATABASE_URL: scratch.config.url, DB_POOL_SIZE: "4" } : { SQLITE_PATH: scratch.config.path };
    const settings = { DATA_VERSION_TTL_MS: String(TTL_MS), ...env };
    const started = await Promise.allSettled([startServerProcess("instance A", settings), startServerProcess("instance B", settings)]);
    if (started[0].status === "fulfilled") a = started[0].value;
    if (started[1].status === "fulfilled") b = started[1].value;
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
    expect(a!.pid).not.toBe(b!.pid);
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await scratch?.drop();
  }, 30_000);

  async function totals(instance: Instance): Promise<{ count: number; wan: number }> {
    const reply = await gql(instance, TOTALS);
    expect(reply.errors).toBeUndefined();
    return { count: reply.data.region.stats.projectCount, wan: reply.data.region.stats.wan };
  }

  async function write(instance: Instance, investment: number): Promise<void> {
    const input = { name: `两实例 ${kind} #${++serial}`, regionCode: "410102", sectorCode: "MFG", investment, reachedOn: "2024-03-01" };
    const reply = await gql(instance, CREATE, { input }, token);
    expect(reply.errors).toBeUndefined();
    expect(reply.data.createProject.id).toEqual(expect.any(String));
  }

  it("a write through A is read through B within DATA_VERSION_TTL_MS (and through A at once)", async () => {
    const before = await totals(b!);
    expect(await totals(a!)).toEqual(before);
    await write(a!, 7);
    const after = { count: before.count + 1, wan: before.wan + 70_000 };
    expect(await totals(a!)).toEqual(after);
    // Within the TTL, B may still answer at the versions it holds: the old totals or the new, nothing else.
    expect([before, after]).toContainEqual(await totals(b!));
    // Once the versions B holds are older than the TTL, it reads them again: the write is there.
    await pause(TTL_MS + 100);
    expect(await totals(b!)).toEqual(after);
  });

  it("and the other way round: a write through B is read through A within DATA_VERSION_TTL_MS", async () => {
    await pause(TTL_MS + 100);
    const before = await totals(a!);
    await write(b!, 3);
    const after = { count: before.count + 1, wan: before.wan + 30_000 };
    expect(await totals(b!)).toEqual(after);
    expect([before, after]).toContainEqual(await totals(a!));
    await pause(TTL_MS + 100);
    expect(await totals(a!)).toEqual(after);
  });

  it("writes through both at once all land, and both instances then agree on the totals", async () => {
    await pause(TTL_MS + 100);
    const before = await totals(a!);
    expect(await totals(b!)).toEqual(before);
    await Promise.all([...Array.from({ length: 4 }, () => write(a!, 1)), ...Array.from({ length: 4 }, () => write(b!, 2))]);
    await pause(TTL_MS + 100);
    const after = { count: before.count + 8, wan: before.wan + 4 * 10_000 + 4 * 20_000 };
    expect(await totals(a!)).toEqual(after);
    expect(await totals(b!)).toEqual(after);
  });
});
