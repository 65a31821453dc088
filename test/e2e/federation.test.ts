/**
 * The server as an Apollo Federation 2 subgraph (FEDERATION=true), over HTTP
 * on each database:
 * - `_service { sdl }` is the checked-in schema/subgraph.graphql;
 * - `_entities` answers Region, Sector, Project and Meeting representations
 *   with what the plain lookups answer, any number of one type in one SQL
 *   statement (1, a city's counties, all 175 Henan regions and the 3,224 of
 *   the national benchmark tree), and null for an unknown key alone;
 * - the province-to-county query costs the same statements with FEDERATION
 *   on and off, and answers the same.
 * The data version is read on every request (DATA_VERSION_TTL_MS=0), so the
 * counts do not depend on timing: that read is the one statement a request
 * for regions or sectors costs while the trees are cached.
 */
import fs from "node:fs";
import path from "node:path";

import { ensureBenchData } from "../../bench/generate";
import { loadConfig } from "../../src/config";
import { openDatabase } from "../../src/db/open-database";
import { SUBGRAPH_FILE, SUBGRAPH_HEADER } from "../../src/server/print-schema";
import { SQL_STATEMENTS_HEADER, startServer } from "../../src/server/server";
import { createScratchDatabase, DB_KINDS } from "../support/databases";
import { startTestServer, type GqlResult, type TestServer } from "../support/test-server";

const PROVINCE_TO_COUNTY = fs.readFileSync(path.join(__dirname, "../../schema/examples/province-to-county.graphql"), "utf8");

const ENTITIES = `query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Region { code name level stats { projectCount totalInvestment } }
    ... on Sector { code name }
    ... on Project { id name stage investment }
    ... on Meeting { id title heldOn }
  }
}`;

const REGION_NAMES = `query RegionEntities($representations: [_Any!]!) { _entities(representations: $representations) { ... on Region { code name level } } }`;

type Rep = { __typename: string } & Record<string, unknown>;

function expectNoErrors(result: GqlResult): void {
  expect(result.errors).toBeUndefined();
  expect(result.status).toBe(200);
}

describe.each(DB_KINDS)("federation subgraph on %s", (kind) => {
  let subgraph: TestServer;
  let plain: TestServer;
  /** Every Henan region of the plain API with its parent and stats, in code order. */
  let regions: Array<{ code: string; name: string; level: string; parent: { code: string } | null; stats: { projectCount: number; totalInvestment: number } }>;

  /** The province-to-county query as the first request of each server (nothing cached yet). */
  let cold: { federated: GqlResult; alone: GqlResult };

  beforeAll(async () => {
    [subgraph, plain] = await Promise.all([
      startTestServer(kind, { FEDERATION: "true", DATA_VERSION_TTL_MS: "0" }),
      startTestServer(kind, { FEDERATION: "false", DATA_VERSION_TTL_MS: "0" }),
    ]);
    cold = { federated: await subgraph.gql(PROVINCE_TO_COUNTY), alone: await plain.gql(PROVINCE_TO_COUNTY) };
    const answer = await plain.gql(`{ regions { code name level parent { code } stats { projectCount totalInvestment } } }`);
    expectNoErrors(answer);
    regions = answer.data.regions;
  });

  afterAll(async () => {
    await Promise.all([subgraph?.close(), plain?.close()]);
  });

  test("_service { sdl } is the checked-in schema/subgraph.graphql", async () => {
    const result = await subgraph.gql(`{ _service { sdl } }`);
    expectNoErrors(result);
    const checkedIn = fs.readFileSync(SUBGRAPH_FILE, "utf8");
    expect(`${SUBGRAPH_HEADER}${result.data._service.sdl}\n`).toBe(checkedIn);
  });

  test("a plain server has no federation fields (FEDERATION=false)", async () => {
    const result = await plain.gql(`{ _service { sdl } }`);
    expect(result.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  test("Region entities: 1, a city's counties and all of Henan each cost one statement, and answer what the plain API does", async () => {
    // The shipped data: 175 regions, 郑州市 with its 12 counties.
    expect(regions).toHaveLength(175);
    const zhengzhouCounties = regions.filter((r) => r.parent?.code === "410100");
    expect(zhengzhouCounties.length).toBeGreaterThan(1);
    // Read the trees once: from here on they are cached, as in a running server.
    expectNoErrors(await subgraph.gql(`{ region(code: "410000") { code } }`));
    const counts: number[] = [];
    for (const set of [[regions[1]], zhengzhouCounties, regions]) {
      const representations: Rep[] = set.map((r) => ({ __typename: "Region", code: r.code }));
      const result = await subgraph.gql(REGION_NAMES, { representations });
      expectNoErrors(result);
      expect(result.data._entities).toEqual(set.map(({ code, name, level }) => ({ code, name, level })));
      counts.push(result.sqlStatements);
    }
    expect(counts).toEqual([1, 1, 1]);
  });

  test("Region entities with stats: the figures of the plain API, in a constant number of statements", async () => {
    expectNoErrors(await subgraph.gql(`{ region(code: "410000") { code } }`));
    const counts: number[] = [];
    for (const set of [regions.slice(0, 1), regions.filter((r) => r.parent?.code === "410300"), regions]) {
      const result = await subgraph.gql(ENTITIES, { representations: set.map((r) => ({ __typename: "Region", code: r.code })) });
      expectNoErrors(result);
      expect(result.data._entities).toEqual(set.map(({ code, name, level, stats }) => ({ __typename: "Region", code, name, level, stats })));
      counts.push(result.sqlStatements);
    }
    // Each request reads the data version; the aggregates come from the cache or from one grouped statement.
    expect(Math.max(...counts)).toBeLessThanOrEqual(2);
    expect(counts[2]).toBeLessThanOrEqual(counts[1]);
  });

  test("an unknown key gives null for that entity alone", async () => {
    const representations: Rep[] = [
      { __typename: "Region", code: "410100" },
      { __typename: "Region", code: "999999" },
      { __typename: "Region", code: 410200 },
      { __typename: "Region" },
      { __typename: "Sector", code: "NO_SUCH_SECTOR" },
      { __typename: "Project", id: "999999999" },
      { __typename: "Project", id: "not-an-id" },
      { __typename: "Meeting", id: "999999999" },
      { __typename: "Region", code: "410300" },
    ];
    const result = await subgraph.gql(REGION_NAMES, { representations });
    expectNoErrors(result);
    const byCode = (code: string) => {
      const r = regions.find((x) => x.code === code)!;
      return { code: r.code, name: r.name, level: r.level };
    };
    // A number where an ID is expected is read as the ID it spells (routers send key fields as JSON).
    expect(result.data._entities).toEqual([byCode("410100"), null, byCode("410200"), null, null, null, null, null, byCode("410300")]);
  });

  test("an _entities fetch is costed per representation: over MAX_COST it is refused before anything runs", async () => {
    const wide = `query W($r: [_Any!]!) { _entities(representations: $r) { ... on Region { code stats { bySector { sector { code name } projectCount totalInvestment } } } } }`;
    const few = await subgraph.gql(wide, { r: regions.slice(0, 10).map((r) => ({ __typename: "Region", code: r.code })) });
    expectNoErrors(few);
    // 2,000 representations (the 175 regions over and over) of a selection that costs ~60 each: over the default 100,000.
    const many = Array.from({ length: 2000 }, (_, i) => ({ __typename: "Region", code: regions[i % regions.length].code }));
    const refused = await subgraph.gql(wide, { r: many });
    expect(refused.status).toBe(400);
    expect(refused.errors?.[0]?.extensions?.code).toBe("QUERY_TOO_COMPLEX");
    expect(refused.errors?.[0]?.extensions?.measured).toBeGreaterThan(100_000);
    expect(refused.sqlStatements).toBe(0);
  });

  test("Sector entities: all of them in one statement, as the plain API has them", async () => {
    const plainSectors = (await plain.gql(`{ sectors { code name } }`)).data.sectors as Array<{ code: string; name: string }>;
    expect(plainSectors.length).toBeGreaterThan(1);
    const result = await subgraph.gql(ENTITIES, { representations: plainSectors.map((s) => ({ __typename: "Sector", code: s.code })) });
    expectNoErrors(result);
    expect(result.data._entities).toEqual(plainSectors.map((s) => ({ __typename: "Sector", ...s })));
    expect(result.sqlStatements).toBe(1);
  });

  test("Project entities: 1 or 100 in one statement each, as project(id) answers them", async () => {
    const page = await plain.gql(`{ projects(first: 100, orderBy: { field: INVESTMENT, direction: DESC }) { edges { node { id name stage investment } } } }`);
    expectNoErrors(page);
    const projects = page.data.projects.edges.map((e: { node: unknown }) => e.node) as Array<{ id: string }>;
    expect(projects).toHaveLength(100);
    const counts: number[] = [];
    for (const set of [projects.slice(0, 1), projects]) {
      const result = await subgraph.gql(ENTITIES, { representations: set.map((p) => ({ __typename: "Project", id: p.id })) });
      expectNoErrors(result);
      expect(result.data._entities).toEqual(set.map((p) => ({ __typename: "Project", ...p })));
      counts.push(result.sqlStatements);
    }
    expect(counts).toEqual([1, 1]);
  });

  test("Meeting entities, and a mix of every type in one request", async () => {
    const listed = await plain.gql(`{ meetings { id title heldOn } }`);
    expectNoErrors(listed);
    const [meeting] = listed.data.meetings;
    expect(meeting).toBeDefined();
    const project = (await plain.gql(`{ projects(first: 1) { edges { node { id name stage investment } } } }`)).data.projects.edges[0].node;
    const sector = (await plain.gql(`{ sectors { code name } }`)).data.sectors[0];
    const henan = regions[0];
    const result = await subgraph.gql(ENTITIES, {
      representations: [
        { __typename: "Meeting", id: meeting.id },
        { __typename: "Project", id: project.id },
        { __typename: "Meeting", id: "424242" },
        { __typename: "Sector", code: sector.code },
        { __typename: "Region", code: henan.code },
      ],
    });
    expectNoErrors(result);
    expect(result.data._entities).toEqual([
      { __typename: "Meeting", ...meeting },
      { __typename: "Project", ...project },
      null,
      { __typename: "Sector", ...sector },
      { __typename: "Region", code: henan.code, name: henan.name, level: henan.level, stats: henan.stats },
    ]);
  });

  test("the province-to-county query costs the same statements with FEDERATION on and off, and answers the same", async () => {
    // As each server's first request (versions, trees and aggregates all read), then again (from the aggregate cache).
    const warm = { federated: await subgraph.gql(PROVINCE_TO_COUNTY), alone: await plain.gql(PROVINCE_TO_COUNTY) };
    for (const { federated, alone } of [cold, warm]) {
      expectNoErrors(federated);
      expectNoErrors(alone);
      expect(federated.headers.get(SQL_STATEMENTS_HEADER)).not.toBeNull();
      expect(federated.headers.get(SQL_STATEMENTS_HEADER)).toBe(alone.headers.get(SQL_STATEMENTS_HEADER));
      expect(federated.data).toEqual(alone.data);
      expect(federated.data.region.children).toHaveLength(18);
    }
    // The README's 3 statements at most; the cache serves the subgraph as it serves the plain server.
    expect(cold.federated.sqlStatements).toBeLessThanOrEqual(3);
    expect(warm.federated.sqlStatements).toBeLessThan(cold.federated.sqlStatements);
  });
});

describe.each(DB_KINDS)("federation subgraph on %s, the national benchmark tree", (kind) => {
  test("3,224 Region representations cost one statement, as one does", async () => {
    const scratch = await createScratchDatabase(kind);
    const config = {
      ...loadConfig({ PORT: "0", HOST: "127.0.0.1", NODE_ENV: "test", FEDERATION: "true", DATA_VERSION_TTL_MS: "0", SQL_STATEMENTS_HEADER: "true", LOG_LEVEL: "silent" }),
      database: scratch.config,
    };
    const db = await openDatabase(config);
    const report = await ensureBenchData(db, { projects: 10 });
    expect(report.projects).toBe(10);
    const server = await startServer(config, db);
    const post = async (query: string, variables?: Record<string, unknown>) => {
      const response = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables }) });
      const body = (await response.json()) as { data: any; errors?: unknown[] };
      expect(body.errors).toBeUndefined();
      return { data: body.data, statements: Number(response.headers.get(SQL_STATEMENTS_HEADER)) };
    };
    try {
      const all = (await post(`{ regions { code name } }`)).data.regions as Array<{ code: string; name: string }>;
      expect(all).toHaveLength(3224);
      const counts: number[] = [];
      for (const set of [all.slice(0, 1), all]) {
        const result = await post(`query R($r: [_Any!]!) { _entities(representations: $r) { ... on Region { code name } } }`, {
          r: set.map((r) => ({ __typename: "Region", code: r.code })),
        });
        expect(result.data._entities).toEqual(set);
        counts.push(result.statements);
      }
      expect(counts).toEqual([1, 1]);
    } finally {
      await server.close();
      await db.destroy();
      await scratch.drop();
    }
  });
});
