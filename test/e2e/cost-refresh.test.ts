/**
 * The cost model follows the data: writes that grow a list the model sizes
 * (here, meetings written by "another instance", straight through the ledger
 * on the same database) raise the cost of queries over it once the server has
 * read the new versions and, a moment later, the model again, so MAX_COST
 * keeps meaning what it says as the ledger grows.
 */
import { SYSTEM_ACTOR } from "../../src/ledger/actor";
import { systemLedger } from "../../src/ledger/system-ledger";
import { COST_MODEL_REFRESH_DELAY_MS } from "../../src/server/cost";
import { shippedSeedData } from "../../src/seed/seed";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";

/**
 * Costs 2 + meetings + sectors (one field per list item); reading the sector tree reads the data versions. Each
 * request names its operation differently: a repeat of one text would be answered from the finished-response cache,
 * which runs (and costs) nothing.
 */
let asked = 0;
const query = () => `query Meetings${++asked} { meetings { id } sectors { code } }`;
const ADDED = 3;
const SHIPPED = shippedSeedData();
/** What QUERY costs on the shipped data, and after ADDED more meetings. */
const BEFORE = 2 + SHIPPED.meetings.length + SHIPPED.sectors.length;
const AFTER = BEFORE + ADDED;

describe.each(DB_KINDS)("the cost model after writes on %s", (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    // A limit between the two costs; versions read on every request.
    server = await startTestServer(kind, { MAX_COST: String(AFTER - 1), DATA_VERSION_TTL_MS: "0" });
  }, 60_000);
  afterAll(async () => server?.close());

  it(`a query over meetings costs ${ADDED} more, and is refused over MAX_COST, once ${ADDED} meetings are added by another writer`, async () => {
    const first = await server.gql(query());
    expect(first.errors).toBeUndefined();
    expect(first.data.meetings).toHaveLength(SHIPPED.meetings.length);

    const ledger = systemLedger(server.db);
    for (let i = 1; i <= ADDED; i++) await ledger.createMeeting(SYSTEM_ACTOR, { title: `成本模型推进会 ${i}`, heldOn: `2024-06-0${i}`, hostRegionCode: "410000" });

    // The next request reads the new versions; the model is read again COST_MODEL_REFRESH_DELAY_MS later.
    const deadline = Date.now() + COST_MODEL_REFRESH_DELAY_MS + 10_000;
    let reply = await server.gql(query());
    while (!reply.errors && Date.now() < deadline) {
      // Until then the old model serves: the query still runs, and already sees the new meetings.
      expect(reply.data.meetings).toHaveLength(SHIPPED.meetings.length + ADDED);
      await new Promise((resolve) => setTimeout(resolve, 100));
      reply = await server.gql(query());
    }
    expect(reply.errors?.[0]?.extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", measured: AFTER, limit: AFTER - 1 });
  }, 30_000);
});
