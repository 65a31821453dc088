/**
 * The finished-response cache: a repeated anonymous query is answered from
 * the kept JSON text without executing, until a write that can change it —
 * a write on this instance at once, a write in another province never.
 */
import { createToken } from "../../src/auth/tokens";
import { RegionLevel } from "../../src/region/region-level";
import { SYSTEM_ACTOR } from "../../src/ledger/actor";
import { systemLedger } from "../../src/ledger/system-ledger";
import { seedDatabase } from "../../src/seed/seed";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";

const HENAN = `{ region(code: "410000") { stats { projectCount totalInvestment } children { code stats { projectCount } } } }`;
const PROJECT = `{ project(id: "1") { name version } }`;

describe.each(DB_KINDS)("response cache on %s", (kind) => {
  let server: TestServer;

  beforeAll(async () => {
    // Versions are trusted for a minute: only this instance's own writes (and the cache's own bookkeeping) move them.
    server = await startTestServer(kind, { DATA_VERSION_TTL_MS: "60000" });
    // A second province, so that writes outside Henan can be made.
    await seedDatabase(server.db, {
      regions: [
        { code: "440000", name: "广东省", level: RegionLevel.PROVINCE, parentCode: null },
        { code: "440100", name: "广州市", level: RegionLevel.CITY, parentCode: "440000" },
        { code: "440103", name: "荔湾区", level: RegionLevel.COUNTY, parentCode: "440100" },
      ],
      sectors: [],
      meetings: [],
    });
  });
  afterAll(async () => server?.close());

  async function post(query: string, token?: string) {
    const response = await fetch(`${server.url}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query }),
    });
    return { text: await response.text(), statements: Number(response.headers.get("x-sql-statements")), status: response.status, cache: response.headers.get("x-response-cache") };
  }

  it("answers a repeat without executing: a query that reads a project costs no statement the second time", async () => {
    const first = await post(PROJECT);
    const second = await post(PROJECT);
    expect(first.statements).toBeGreaterThan(0);
    expect(second.statements).toBe(0);
    expect([first.cache, second.cache]).toEqual(["miss", "hit"]);
    expect(second.text).toBe(first.text);
  });

  it("never serves a request that carries a token from the cache", async () => {
    const { token } = await createToken(server.db, { regionCode: "410000", name: "河南省发展和改革委员会" });
    await post(PROJECT, token);
    const again = await post(PROJECT, token);
    expect(again.statements).toBeGreaterThan(0);
  });

  it("a mutation on this instance is seen by the next identical query at once", async () => {
    const { token } = await createToken(server.db, { regionCode: "410102", name: "中原区发展和改革委员会" });
    const before = JSON.parse((await post(HENAN)).text).data.region.stats.projectCount;
    await post(HENAN);
    const created = await post(`mutation { createProject(input: { name: "缓存测试项目", regionCode: "410102", sectorCode: "RND", investment: 1, reachedOn: "2021-08-01" }) { id } }`, token);
    expect(created.status).toBe(200);
    const after = JSON.parse((await post(HENAN)).text).data.region.stats.projectCount;
    expect(after).toBe(before + 1);
  });

  it("a write in another province leaves Henan's aggregates kept, and drops answers that read projects", async () => {
    const { token } = await createToken(server.db, { regionCode: "440000", name: "广东省发展和改革委员会" });
    const henan = await post(HENAN);
    const project = await post(PROJECT);
    expect((await post(HENAN)).statements).toBe(0);
    const created = await post(`mutation { createProject(input: { name: "广州测试项目", regionCode: "440103", sectorCode: "RND", investment: 2, reachedOn: "2021-08-01" }) { id } }`, token);
    expect(JSON.parse(created.text).errors).toBeUndefined();
    const henanAgain = await post(HENAN);
    expect(henanAgain.text).toBe(henan.text);
    // Reading the versions again after the write is the only statement.
    expect(henanAgain.statements).toBeLessThanOrEqual(1);
    const projectAgain = await post(PROJECT);
    expect(projectAgain.text).toBe(project.text);
    expect(projectAgain.statements).toBeGreaterThan(0);
  });

  it("identical requests arriving while one computes the answer wait for it: after a write, ten at once execute it once", async () => {
    const { token } = await createToken(server.db, { regionCode: "410103", name: "二七区发展和改革委员会" });
    // Ten connections open (fetch keeps them), so that the ten requests below arrive together.
    await Promise.all(Array.from({ length: 10 }, () => post(HENAN)));
    const created = await post(`mutation { createProject(input: { name: "并发缓存测试项目", regionCode: "410103", sectorCode: "RND", investment: 1, reachedOn: "2021-08-01" }) { id } }`, token);
    expect(JSON.parse(created.text).errors).toBeUndefined();
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(HENAN)));
    const texts = new Set(answers.map((a) => a.text));
    expect(texts.size).toBe(1);
    expect(JSON.parse([...texts][0]).data.region.stats.projectCount).toBeGreaterThan(0);
    // One computed it; the others were sent its text (those that arrived while it ran waited for it: shared).
    expect(answers.filter((a) => a.cache === "miss")).toHaveLength(1);
    // On MySQL the first one's statements leave the event loop free, so the others arrive while it runs. SQLite's
    // statements are synchronous: the first has finished before the next request is even read, and they are hits.
    if (kind === "mysql") expect(answers.filter((a) => a.cache === "shared").length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.cache === "shared").every((a) => a.statements === 0)).toBe(true);
  });

  it("a write by another instance (straight through the ledger) is seen once the versions are read again", async () => {
    const quick = await startTestServer(kind, { DATA_VERSION_TTL_MS: "0" });
    try {
      const first = JSON.parse((await fetch(quick.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: HENAN }) }).then((r) => r.text()))).data;
      await systemLedger(quick.db).createProject(SYSTEM_ACTOR, { name: "另一实例的项目", regionCode: "410102", sectorCode: "RND", investment: 3, reachedOn: "2021-08-01" });
      const second = JSON.parse((await fetch(quick.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: HENAN }) }).then((r) => r.text()))).data;
      expect(second.region.stats.projectCount).toBe(first.region.stats.projectCount + 1);
    } finally {
      await quick.close();
    }
  });
});
