/**
 * The finished-response cache never leaves an anonymous query without an
 * answer: identical requests that wait for the one computing it are answered
 * (or compute it themselves) however the others end — aborted while they
 * waited, aborted while computing, answered by a write's invalidation — and a
 * later identical request is answered at once, with the token answer.
 *
 * bench/live.ts once saw the province-to-county query stop answering for good
 * (bench/README.md, "A hang"): a request aborted while it waited woke up after
 * its connection had closed, found no answer that held (a write had moved the
 * versions), and registered itself as the computation the others wait for, on
 * a response that had already emitted its `close`. Nothing ever settled it, so
 * every identical anonymous request from then on waited for it until its own
 * 503 REQUEST_TIMEOUT.
 */
import { createToken } from "../../src/auth/tokens";
import { provinceToCounty } from "../../bench/scenarios";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";

/** The bench's query; each test adds its own comment, so that each has its own key in the cache. */
const QUERY = provinceToCounty();
/** How long a later identical request may take before the test calls it a hang (the server's timeout is far above). */
const PROMPT_MS = 5000;

describe.each(DB_KINDS)("response cache under aborted identical requests on %s", (kind) => {
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    // The bench's settings: versions trusted for a second, the request timeout far above the bound below.
    server = await startTestServer(kind, { REQUEST_TIMEOUT_MS: "30000" });
    ({ token } = await createToken(server.db, { regionCode: "410102", name: "中原区发展和改革委员会" }));
  });
  afterAll(async () => server?.close());

  function post(query: string, signal: AbortSignal, bearer?: string) {
    return fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify({ query }),
      signal,
    });
  }

  let written = 0;
  async function write(): Promise<void> {
    written += 1;
    const mutation = `mutation { createProject(input: { name: "中断测试项目 ${written}", regionCode: "410102", sectorCode: "RND", investment: ${written}, reachedOn: "2021-08-01" }) { id } }`;
    const response = await post(mutation, AbortSignal.timeout(PROMPT_MS), token);
    expect(JSON.parse(await response.text()).errors).toBeUndefined();
  }

  /** Ten identical anonymous requests at once, each aborted after its own delay (a few left to finish), a write among them or not. */
  async function abortedRound(query: string, round: number, withWrite: boolean): Promise<void> {
    const writing = withWrite ? new Promise((resolve) => setTimeout(resolve, round % 7)).then(write) : Promise.resolve();
    await Promise.all([
      writing,
      ...Array.from({ length: 10 }, async (_, i) => {
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), (round * 3 + i * 7) % 23); // 0..22 ms
        try {
          await (await post(query, controller.signal)).text();
        } catch {
          // aborted, as autocannon's requests in flight at a round's end
        } finally {
          clearTimeout(timer);
        }
      }),
    ]);
  }

  /** The query with a token (never from the response cache), then three times anonymously: each within the bound, all equal. */
  async function expectAnswered(query: string): Promise<void> {
    const withToken = await post(query, AbortSignal.timeout(PROMPT_MS), token);
    const expected = JSON.parse(await withToken.text());
    expect(expected.errors).toBeUndefined();
    const answers = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const response = await post(query, AbortSignal.timeout(PROMPT_MS));
        return { status: response.status, body: JSON.parse(await response.text()) };
      }),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual(expected);
    }
  }

  it("answers every later identical anonymous request after rounds of aborted ones with a write among them", async () => {
    const query = `${QUERY} # writes during the rounds`;
    await expectAnswered(query);
    for (let round = 0; round < 25; round += 1) {
      await abortedRound(query, round, true);
      await expectAnswered(query);
    }
  });

  it("answers them after aborted rounds with a write before each and none during it", async () => {
    const query = `${QUERY} # a write before each round`;
    for (let round = 0; round < 12; round += 1) {
      await write();
      await abortedRound(query, round, false);
      await expectAnswered(query);
    }
  });

  it("requests aborted while they waited for one aborted while computing leave nothing for later ones to wait for", async () => {
    const query = `${QUERY} # aborted while computing`;
    await write(); // the versions are read again by the next request
    // On MySQL the versions' table is held, so that A stays computing (its first statement waits) while B is sent,
    // waits for A, and both are aborted. SQLite's statements are synchronous: there A has answered before B is even
    // read, and nothing waits, so this passes there either way.
    const runner = kind === "mysql" ? server.db.createQueryRunner() : null;
    await runner?.query("LOCK TABLES data_version WRITE");
    try {
      const sent = [new AbortController(), new AbortController()].map((controller) => ({
        controller,
        answer: post(query, controller.signal).then((r) => r.text()).catch(() => "aborted"),
      }));
      const [a, b] = sent;
      await sleep(300); // A computes (held), B waits for it
      b.controller.abort(); // B first: it wakes when A's connection closes, after its own did
      await sleep(200);
      a.controller.abort();
      await sleep(200);
      await Promise.all(sent.map((s) => s.answer));
    } finally {
      await runner?.query("UNLOCK TABLES");
      await runner?.release();
    }
    await sleep(200); // A's computation, let go, ends (its answer may be kept)
    await write(); // and no longer holds
    await expectAnswered(query);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
