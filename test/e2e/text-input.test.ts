/**
 * Text a database would store or compare differently (issue 17, defect 5),
 * over HTTP on each database, with the same answer on both: half a
 * surrogate pair in a JSON string ("\ud800"), a NUL in `nameContains` (SQLite
 * matched every name), bidi overrides and zero-width characters in names and
 * references, and U+FFFD are BAD_USER_INPUT naming the field, and nothing is
 * written; ordinary text still works.
 */
import { createToken } from "../../src/auth/tokens";
import { characterProblem } from "../../src/common/text";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";
import { CREATE, type Reply, send } from "../support/writes";

const COUNT = `query Count($filter: ProjectFilter) { projects(filter: $filter) { totalCount } stats(filter: $filter) { projectCount } }`;

/** Texts refused wherever a person types text, with the reason `characterProblem` gives. */
const REFUSED = ["\ud800", "项目\udc00", "a\u0000b", "中原区\u202e项目", "中原\u200b区项目", "\u2067项目", "项目\ufffd"];

function badInput(reply: Reply): { field: string; reason: string } {
  expect(reply.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
  const extensions = reply.errors![0].extensions!;
  return { field: extensions.field, reason: extensions.reason };
}

describe.each(DB_KINDS)("text input on %s", (kind) => {
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    token = (await createToken(server.db, { regionCode: "410102", name: "中原区发改委" })).token;
  });
  afterAll(async () => server?.close());

  it.each(REFUSED.map((text) => [JSON.stringify(text), text]))("nameContains %s is BAD_USER_INPUT, not a match of every name", async (_shown, text) => {
    const reply = await send(server, null, COUNT, { filter: { nameContains: text } });
    expect(reply.data).toBeNull();
    expect(badInput(reply)).toEqual({ field: "filter.nameContains", reason: characterProblem(text) });
  });

  it("nameContains of ordinary text still finds by name", async () => {
    const reply = await send(server, null, COUNT, { filter: { nameContains: "安图生物" } });
    expect(reply.errors).toBeUndefined();
    expect(reply.data.projects.totalCount).toBeGreaterThan(0);
    expect(reply.data.stats.projectCount).toBe(reply.data.projects.totalCount);
  });

  it.each(REFUSED.map((text) => [JSON.stringify(text), text]))("a project named %s, or with it in its ref or investor, is BAD_USER_INPUT and not written", async (_shown, text) => {
    const input = { name: `中原区文本测试项目${text}`, regionCode: "410102", sectorCode: "MFG", investment: 1, reachedOn: "2024-03-01" };
    const named = await send(server, token, CREATE, { input });
    expect(named.data).toBeNull();
    const problems = named.errors![0].extensions!.problems as Array<{ field: string; reason: string }>;
    expect(problems).toContainEqual({ field: "input.name", reason: characterProblem(input.name) });
    const clean = { ...input, name: "中原区文本测试项目" };
    expect(badInput(await send(server, token, CREATE, { input: { ...clean, ref: `ref-${text}` } }))).toEqual({ field: "input.ref", reason: characterProblem(`ref-${text}`) });
    expect(badInput(await send(server, token, CREATE, { input: { ...clean, investor: `公司${text}` } }))).toEqual({ field: "input.investor", reason: characterProblem(`公司${text}`) });
    const written = await server.db.query("SELECT COUNT(*) AS n FROM project WHERE name LIKE ?", ["中原区文本测试项目%"]);
    expect(Number(written[0].n)).toBe(0);
  });
});
