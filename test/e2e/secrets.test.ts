/**
 * A token's secret never leaves the request that carries it: not in the log
 * (at debug level, through successes, refusals, revocation and an import),
 * not in an answer, not in the history.
 */
import { Writable } from "node:stream";

import pino from "pino";

import { createToken, revokeToken } from "../../src/auth/tokens";
import { createObservability } from "../../src/server/observability";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";

describe.each(DB_KINDS)("token secrets on %s", (kind) => {
  let server: TestServer;
  const log: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        log.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: "debug" }, sink);
    server = await startTestServer(kind, {}, createObservability("debug", logger));
  });
  afterAll(async () => server?.close());

  it("appear in no log line, answer or history row, whatever the request did with them", async () => {
    const county = await createToken(server.db, { regionCode: "410102", name: "中原区发展和改革委员会" });
    const revoked = await createToken(server.db, { regionCode: "410100", name: "郑州市发展和改革委员会" });
    await revokeToken(server.db, revoked.id);
    const base = server.url.replace(/\/graphql$/, "");
    const post = (token: string, query: string) =>
      fetch(server.url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) }).then((r) => r.text());
    const answers = [
      await post(county.token, `mutation { createProject(input: { name: "保密测试", regionCode: "410102", sectorCode: "RND", investment: 1, reachedOn: "2021-08-01" }) { id } }`),
      await post(county.token, `mutation { createProject(input: { name: "越权测试", regionCode: "410103", sectorCode: "RND", investment: 1, reachedOn: "2021-08-01" }) { id } }`),
      await post(county.token, `mutation { createProject(input: { name: "", regionCode: "410102", sectorCode: "RND", investment: -1, reachedOn: "1900-01-01" }) { id } }`),
      await post(revoked.token, `{ viewer { office } }`),
      await post(`${county.token}x`, `{ viewer { office } }`),
      await fetch(`${base}/import/projects.csv`, {
        method: "POST",
        headers: { "content-type": "text/csv", authorization: `Bearer ${county.token}` },
        body: "ref,name,regionCode,sectorCode,investment,stage,date\nS-1,保密导入,410102,RND,2,SIGNED,2021-08-02\n",
      }).then((r) => r.text()),
    ];
    expect(answers[0]).toContain("createProject");
    expect(answers[1]).toContain("FORBIDDEN");
    expect(answers[3]).toContain("UNAUTHENTICATED");
    const history = JSON.stringify(await server.db.query("SELECT * FROM ledger_change"));
    expect(history).toContain("中原区发展和改革委员会");
    // The access log names the office of each request made with a good token: the log is really being read here.
    expect(log.join("")).toContain(`"office":"中原区发展和改革委员会"`);
    for (const secret of [county.token, revoked.token, county.token.slice(4)]) {
      for (const text of [...answers, history, log.join("")]) expect(text).not.toContain(secret);
    }
  });
});
