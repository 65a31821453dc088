/**
 * The GraphQL over HTTP specification's conformance audit (graphql-http's
 * `serverAudits`, one test per audit) against the real server. A MUST that
 * fails (status 'error') fails its test; a SHOULD that fails (status 'warn')
 * fails unless it is one of the known warnings below, each with the reason it
 * remains; notices pass. The audit sends only `{ __typename }`-style
 * operations, which never reach the database, so it runs on the embedded
 * SQLite default alone: the HTTP layer is the same on MySQL.
 */
import { type AuditResult, serverAudits } from "graphql-http";

import { startTestServer, type TestServer } from "../support/test-server";

/**
 * The SHOULDs the server does not meet, by audit id, and why.
 *
 * All three are the same choice: Apollo Server answers a request error (the
 * document does not parse, does not validate, or its variables do not coerce)
 * with 400 whatever the client accepts. The specification asks for 400 when the
 * client accepts `application/graphql-response+json` (those audits pass) and
 * for 200 when it accepts only the legacy `application/json`, for old clients
 * that treat any non-200 as a transport failure. A 400 is kept because it is
 * what a bad request is to proxies, access logs and monitoring, and what every
 * client of this API gets today. To meet them, a plugin in src/server/server.ts
 * would set `response.http.status = 200` in `willSendResponse` when the
 * request's Accept header does not include `application/graphql-response+json`,
 * the status is 400 and the body has `errors` but no `data`.
 */
const KNOWN_WARNINGS: Record<string, string> = {
  "572B": "document parsing failure with Accept: application/json is a 400 (Apollo Server), the spec would like 200",
  FDE2: "document validation failure with Accept: application/json is a 400 (Apollo Server), the spec would like 200",
  "7B9B": "variable coercion failure with Accept: application/json is a 400 (Apollo Server), the spec would like 200",
};

describe("GraphQL over HTTP audit (graphql-http) on the real server", () => {
  let server: TestServer;
  const results: AuditResult[] = [];

  beforeAll(async () => {
    server = await startTestServer("sqlite");
  });
  afterAll(async () => {
    await server?.close();
    const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
    for (const result of results) counts[result.status] += 1;
    const unmet = results.filter((result) => result.status !== "ok").map((result) => `  ${result.status} ${result.id} ${result.name}${"reason" in result ? `: ${result.reason}` : ""}`);
    console.info([`graphql-http audit: ${results.length} audits, ${JSON.stringify(counts)}`, ...unmet].join("\n"));
  });

  for (const audit of serverAudits({ url: () => server.url })) {
    it(`${audit.id} ${audit.name}`, async () => {
      const result = await audit.fn();
      results.push(result);
      if (result.status === "ok" || result.status === "notice") return;
      if (result.status === "warn" && audit.id in KNOWN_WARNINGS) return;
      const body = await result.response.text().catch(() => "");
      throw new Error(`${result.status}: ${result.reason} (HTTP ${result.response.status}: ${body.slice(0, 500)})`);
    });
  }
});
