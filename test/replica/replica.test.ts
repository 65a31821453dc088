/**
 * Read replicas (DATABASE_REPLICA_URLS) on a real MariaDB primary and replica
 * of the test's own (their own ports and data directories, GTID replication):
 * reads reach the replica, by the replica's own statement counters; a write
 * is seen in the next read of the instance that made it; with the replica's
 * SQL thread stopped, no instance serves the totals the replica still has;
 * tokens are looked up on the primary; a replica that goes away costs no
 * errors. Runs in `npm test` when MYSQL_URL is set (MariaDB is the database
 * of that run), on a machine with mariadbd and mariadb-install-db.
 */
import type { DataSource } from "typeorm";

import { createToken } from "../../src/auth/tokens";
import { type Config, loadConfig } from "../../src/config";
import { openDatabase } from "../../src/db/open-database";
import { versionsOf } from "../../src/db/data-version";
import { covers } from "../../src/db/replicas";
import { seedDatabase } from "../../src/seed/seed";
import { createObservability } from "../../src/server/observability";
import { type RunningServer, SQL_STATEMENTS_HEADER, startServer } from "../../src/server/server";
import { canStartMariadb, type PrivateMariadb, replicate, startPrivateMariadb, waitForReplica } from "../reliability/support/mariadb";

const DATABASE = "mp_replica";
/** The data version is trusted this long (ms) by each instance. */
const TTL_MS = 200;

const wanted = Boolean(process.env.MYSQL_URL);
if (wanted && !canStartMariadb() && process.env.CI) {
  throw new Error("CI is set with MYSQL_URL, but mariadbd or mariadb-install-db is missing: the replica test cannot run");
}
const suite = wanted && canStartMariadb() ? describe : describe.skip;

interface Answer {
  status: number;
  data: any;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
  statements: number;
}

async function gql(server: RunningServer, query: string, variables?: Record<string, unknown>, token?: string): Promise<Answer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(server.url, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data: any; errors?: Answer["errors"] };
  return { status: response.status, data: body.data, errors: body.errors, statements: Number(response.headers.get(SQL_STATEMENTS_HEADER)) };
}

const CREATE = `mutation Create($input: CreateProjectInput!) { createProject(input: $input) { id name } }`;
/** 中原区's totals and the projects of one name: what a write below changes. */
const TOTALS = `query Totals($name: String!) {
  region(code: "410102") { stats { projectCount wan: totalInvestment(unit: WAN_YUAN) } }
  named: projects(filter: { nameContains: $name }) { totalCount }
}`;

interface Totals {
  count: number;
  wan: number;
  named: number;
}

suite("read replicas on MariaDB (a primary and a replica of the test's own)", () => {
  let primary: PrivateMariadb | undefined;
  let replica: PrivateMariadb | undefined;
  let config: Config;
  /** Two instances of the server, each with its own DataSource (primary + replica) and its own caches. */
  let dbA: DataSource | undefined;
  let dbB: DataSource | undefined;
  let a: RunningServer | undefined;
  let b: RunningServer | undefined;
  let province: string;
  let serial = 0;

  beforeAll(async () => {
    const started = await Promise.allSettled([
      startPrivateMariadb({ label: "primary", serverId: 1, logBin: true }),
      startPrivateMariadb({ label: "replica", serverId: 2, args: ["--read-only"] }),
    ]);
    if (started[0].status === "fulfilled") primary = started[0].value;
    if (started[1].status === "fulfilled") replica = started[1].value;
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
    await replicate(primary!, replica!);
    await primary!.query(`CREATE DATABASE ${DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    config = loadConfig({
      DATABASE_URL: primary!.urlOf(DATABASE),
      DATABASE_REPLICA_URLS: replica!.urlOf(DATABASE),
      DB_POOL_SIZE: "4",
      PORT: "0",
      HOST: "127.0.0.1",
      NODE_ENV: "test",
      SQL_STATEMENTS_HEADER: "true",
      LOG_LEVEL: "silent",
      DATA_VERSION_TTL_MS: String(TTL_MS),
    });
    dbA = await openDatabase(config);
    await seedDatabase(dbA);
    province = (await createToken(dbA, { regionCode: "410000", name: "河南省发展和改革委员会" })).token;
    await waitForReplica(primary!, replica!);
    a = await startServer(config, dbA, createObservability("silent"));
    dbB = await openDatabase(config);
    b = await startServer(config, dbB, createObservability("silent"));
  }, 180_000);

  afterAll(async () => {
    // Each step on its own: the servers are stopped and their directories deleted whatever failed before.
    const steps = [() => a?.close(), () => b?.close(), () => dbA?.destroy(), () => dbB?.destroy(), () => replica?.stop(), () => primary?.stop()];
    const errors: unknown[] = [];
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length) throw errors[0];
  }, 60_000);

  async function totals(server: RunningServer, name: string): Promise<Totals> {
    const reply = await gql(server, TOTALS, { name });
    expect(reply.errors).toBeUndefined();
    return { count: reply.data.region.stats.projectCount, wan: reply.data.region.stats.wan, named: reply.data.named.totalCount };
  }

  /** Creates a project in 中原区 through `server`'s API; returns its name. */
  async function write(server: RunningServer, investment: number, token = province): Promise<string> {
    const name = `副本测试项目 #${++serial} ${Date.now()}`;
    const reply = await gql(server, CREATE, { input: { name, regionCode: "410102", sectorCode: "MFG", investment, reachedOn: "2024-03-01" } }, token);
    expect(reply.errors).toBeUndefined();
    expect(reply.data.createProject.name).toBe(name);
    return name;
  }

  /** The SELECTs each server counted while `work` ran. */
  async function selectsDuring<T>(work: () => Promise<T>): Promise<{ result: T; onPrimary: number; onReplica: number }> {
    const before = await Promise.all([primary!.status("Com_select"), replica!.status("Com_select")]);
    const result = await work();
    const after = await Promise.all([primary!.status("Com_select"), replica!.status("Com_select")]);
    return { result, onPrimary: after[0] - before[0], onReplica: after[1] - before[1] };
  }

  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it("replicates: the replica holds the seeded data and applies new writes", async () => {
    const [[p], [r]] = await Promise.all([
      primary!.query<Array<{ n: number }>>(`SELECT COUNT(*) AS n FROM ${DATABASE}.project`),
      replica!.query<Array<{ n: number }>>(`SELECT COUNT(*) AS n FROM ${DATABASE}.project`),
    ]);
    expect(Number(p.n)).toBe(1337);
    expect(Number(r.n)).toBe(1337);
    const [status] = await replica!.query<Array<Record<string, string>>>("SHOW SLAVE STATUS");
    expect(status.Slave_IO_Running).toBe("Yes");
    expect(status.Slave_SQL_Running).toBe("Yes");
  });

  /**
   * Sends `query` (with a name no request has asked for, so nothing of it is cached) through `server` until the
   * replica answers it, at most 3 times, a TTL apart: a replica whose own versions took longer than CHECK_WAIT_MS
   * to read (a busy machine) rightly leaves that request to the primary. Every attempt's statements were SELECTs,
   * each counted by the server that ran it.
   */
  async function untilOnReplica(server: RunningServer, query: string) {
    let seen: Awaited<ReturnType<typeof selectsDuring<Answer>>> | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      await pause(TTL_MS + 50);
      seen = await selectsDuring(() => gql(server, query, { name: `安图 ${Date.now()} ${attempt}` }));
      expect(seen.result.errors).toBeUndefined();
      expect(seen.onPrimary + seen.onReplica).toBe(seen.result.statements);
      if (seen.onReplica > 0) break;
    }
    return seen!;
  }

  it("sends the reads of a request to the replica; only the data version is read from the primary", async () => {
    const query = `query($name: String!) { region(code: "410000") { stats { projectCount } children { code stats { projectCount } } } projects(filter: { nameContains: $name }) { totalCount } }`;
    const { result, onPrimary, onReplica } = await untilOnReplica(a!, query);
    expect(result.data.region.stats.projectCount).toBe(1337);
    expect(result.statements).toBeGreaterThanOrEqual(2);
    // The versions (read at most once per DATA_VERSION_TTL_MS) on the primary; the rest, the replica's check included, on the replica.
    expect(onPrimary).toBeLessThanOrEqual(1);
    expect(onReplica).toBeGreaterThanOrEqual(result.statements - 1);
    expect(onReplica).toBeGreaterThanOrEqual(1);
  });

  it("serves a write in the very next read of the instance that made it", async () => {
    await waitForReplica(primary!, replica!);
    const before = await totals(a!, "no such project");
    const name = await write(a!, 7);
    const after = await totals(a!, name);
    expect(after).toEqual({ count: before.count + 1, wan: before.wan + 70_000, named: 1 });
  });

  it("serves no stale totals while the replica's SQL thread is stopped, on either instance; reads return to the replica once it catches up", async () => {
    await waitForReplica(primary!, replica!);
    await pause(TTL_MS + 50);
    const before = await totals(b!, "no such project");
    expect(await totals(a!, "no such project")).toEqual(before);
    await replica!.query("STOP SLAVE SQL_THREAD");
    try {
      // A token made after the replica stopped exists only on the primary: it works, so tokens are looked up there.
      const fresh = (await createToken(dbA!, { regionCode: "410000", name: "河南省发展和改革委员会" })).token;
      const name = await write(a!, 3, fresh);
      // The replica really is behind: it has neither the project nor the token.
      const [[onReplica]] = await Promise.all([replica!.query<Array<{ n: number }>>(`SELECT COUNT(*) AS n FROM ${DATABASE}.project WHERE name = ?`, [name])]);
      expect(Number(onReplica.n)).toBe(0);
      const expected = { count: before.count + 1, wan: before.wan + 30_000, named: 1 };

      // The instance that wrote: at once, and again (its versions now cached) on the same instance.
      expect(await totals(a!, name)).toEqual(expected);
      expect(await totals(a!, name)).toEqual(expected);
      // The other instance, once its data version is older than the TTL: fresh, and not from the replica (which it
      // asks only for its own data_version, at most once).
      await pause(TTL_MS + 50);
      const seen = await selectsDuring(() => totals(b!, name));
      expect(seen.result).toEqual(expected);
      expect(seen.onReplica).toBeLessThanOrEqual(1);
      // Still behind a moment later: still from the primary.
      await pause(TTL_MS + 50);
      const again = await selectsDuring(() => gql(b!, TOTALS, { name: `${name} ` }));
      expect(again.result.data.region.stats).toEqual({ projectCount: expected.count, wan: expected.wan });
      expect(again.onReplica).toBeLessThanOrEqual(1);
      expect(again.onPrimary).toBeGreaterThanOrEqual(again.result.statements - 1);
    } finally {
      await replica!.query("START SLAVE SQL_THREAD");
    }
    await waitForReplica(primary!, replica!);
    const back = await untilOnReplica(b!, TOTALS);
    expect(back.result.data.region.stats.projectCount).toBe(before.count + 1);
    expect(back.onReplica).toBeGreaterThanOrEqual(back.result.statements - 1);
    expect(back.onReplica).toBeGreaterThanOrEqual(1);
  });

  it("answers from the primary, without errors, when the replica is gone", async () => {
    const before = await totals(a!, "no such project");
    await replica!.stop();
    for (let i = 0; i < 3; i++) {
      await pause(TTL_MS + 50);
      const reply = await gql(a!, TOTALS, { name: `gone ${i} ${Date.now()}` });
      expect(reply.errors).toBeUndefined();
      expect(reply.data.region.stats.projectCount).toBe(before.count);
    }
    const name = await write(b!, 2);
    await pause(TTL_MS + 50);
    expect(await totals(a!, name)).toEqual({ count: before.count + 1, wan: before.wan + 20_000, named: 1 });
  });
});

describe("covers: a replica's versions hold the primary's", () => {
  const v = (entries: Array<[number, number]>) => versionsOf(entries.map(([province, version]) => ({ region: province, province, version })));

  it("holds when every province is at least as far, ahead or level", () => {
    expect(covers(v([[0, 1], [1, 5]]), v([[0, 1], [1, 5]]))).toBe(true);
    expect(covers(v([[0, 1], [1, 6], [2, 1]]), v([[0, 1], [1, 5]]))).toBe(true);
  });

  it("does not hold when one province is behind, even with a larger total", () => {
    expect(covers(v([[0, 1], [1, 4], [2, 9]]), v([[0, 1], [1, 5], [2, 1]]))).toBe(false);
    expect(covers(v([[0, 1]]), v([[0, 1], [1, 1]]))).toBe(false);
  });
});
