/**
 * A project moved to another region is listed in the changes of both the
 * region it left and the one it entered, once each.
 */
import { createToken } from "../../src/auth/tokens";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";
import { UPDATE, writes } from "../support/writes";

const CHANGES = `query Changes($code: ID!) { region(code: $code) { changes(first: 100) { nodes { id operation project { id } } } } }`;

describe.each(DB_KINDS)("history of a move on %s", (kind) => {
  let server: TestServer;
  let province: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    province = (await createToken(server.db, { regionCode: "410000", name: "河南省发展和改革委员会" })).token;
  });
  afterAll(async () => server?.close());

  const { as, newProject } = writes(() => server, kind, () => province);

  const moves = async (code: string, projectId: string) => {
    const reply = await as(null, CHANGES, { code });
    expect(reply.errors).toBeUndefined();
    return reply.data.region.changes.nodes.filter((n: any) => n.project?.id === projectId).map((n: any) => n.operation);
  };

  it("shows in the city and county it left and in those it entered; a move within a city shows once there", async () => {
    const project = await newProject({ regionCode: "410102" });
    const moved = await as(province, UPDATE, { id: project.id, v: project.version, input: { regionCode: "410103" } });
    expect(moved.errors).toBeUndefined();
    // 中原区 → 二七区, both in 郑州市: the city lists the creation and the move once each.
    expect(await moves("410100", project.id)).toEqual(["UPDATE_PROJECT", "CREATE_PROJECT"]);
    expect(await moves("410102", project.id)).toEqual(["UPDATE_PROJECT", "CREATE_PROJECT"]);
    expect(await moves("410103", project.id)).toEqual(["UPDATE_PROJECT"]);

    const away = await as(province, UPDATE, { id: project.id, v: project.version + 1, input: { regionCode: "410302" } });
    expect(away.errors).toBeUndefined();
    // 二七区 → 洛阳市老城区: 郑州 still sees the project leave, 洛阳 sees it arrive.
    expect(await moves("410100", project.id)).toEqual(["UPDATE_PROJECT", "UPDATE_PROJECT", "CREATE_PROJECT"]);
    expect(await moves("410300", project.id)).toEqual(["UPDATE_PROJECT"]);
    expect(await moves("410000", project.id)).toEqual(["UPDATE_PROJECT", "UPDATE_PROJECT", "CREATE_PROJECT"]);
  });
});
