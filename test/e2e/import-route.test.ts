/**
 * The ledger import as the server serves it: POST /import/projects.csv with a
 * bearer token, answered with the report; the next query sees the rows.
 */
import fs from "node:fs";
import path from "node:path";

import { createToken } from "../../src/auth/tokens";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";

const SAMPLE = fs.readFileSync(path.resolve(__dirname, "../../schema/examples/ledger-sample.csv"));

describe.each(DB_KINDS)("POST /import/projects.csv on %s", (kind) => {
  let server: TestServer;
  let base: string;

  beforeAll(async () => {
    server = await startTestServer(kind, { DATA_VERSION_TTL_MS: "60000" });
    base = server.url.replace(/\/graphql$/, "");
  });
  afterAll(async () => server?.close());

  const upload = (token: string | null, query = "") =>
    fetch(`${base}/import/projects.csv${query}`, {
      method: "POST",
      headers: { "content-type": "text/csv", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: SAMPLE,
    });

  it("refuses an upload without a token with 401 and writes nothing", async () => {
    const response = await upload(null);
    expect(response.status).toBe(401);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe("UNAUTHENTICATED");
  });

  it("imports the sample with a 郑州市 token, says so on the second upload, and the next query sees it at once", async () => {
    const { token } = await createToken(server.db, { regionCode: "410100", name: "郑州市发展和改革委员会" });
    const before = (await server.gql(`{ region(code: "410100") { stats { projectCount } } }`)).data.region.stats.projectCount;
    const dry = await upload(token, "?dryRun=true");
    expect(dry.status).toBe(200);
    const rows = ((await dry.json()) as any).rows;
    expect(rows).toBeGreaterThan(0);
    expect((await server.gql(`{ region(code: "410100") { stats { projectCount } } }`)).data.region.stats.projectCount).toBe(before);

    const first = await upload(token);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ rows, created: rows, unchanged: 0, dryRun: false });
    expect((await server.gql(`{ region(code: "410100") { stats { projectCount } } }`)).data.region.stats.projectCount).toBe(before + rows);

    const again = await upload(token);
    expect(await again.json()).toMatchObject({ rows, created: 0, advanced: 0, updated: 0, unchanged: rows });
  });

  it("refuses a county token whose file holds other counties' rows: 403, nothing written", async () => {
    const { token } = await createToken(server.db, { regionCode: "410102", name: "中原区发展和改革委员会" });
    const count = async () => Number((await server.db.query("SELECT COUNT(*) AS n FROM ledger_change"))[0].n);
    const before = await count();
    const response = await upload(token);
    expect(response.status).toBe(403);
    expect(await count()).toBe(before);
  });
});
