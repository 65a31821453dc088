/**
 * The product in a federated graph, locally: the product as a subgraph
 * (FEDERATION=true), the illustrative economy subgraph (./economy-subgraph.ts),
 * composed with @apollo/composition and served by @apollo/gateway.
 *
 *   npm run supergraph
 *
 * starts the product subgraph on the embedded SQLite default (seeded with the
 * shipped data on its first start; the usual settings apply, e.g.
 * SQLITE_PATH), the economy subgraph, and the gateway on GATEWAY_PORT
 * (default 4000), and prints the gateway's URL; Ctrl-C stops all three.
 * The tests (test/e2e/gateway.test.ts) use the same functions.
 */
import "reflect-metadata";

import { composeServices, type CompositionSuccess } from "@apollo/composition";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { parse } from "graphql";

import { loadConfig } from "../../../src/config";
import { openDatabase } from "../../../src/db/open-database";
import { createObservability } from "../../../src/server/observability";
import { SQL_STATEMENTS_HEADER, startServer } from "../../../src/server/server";
import { FIGURES_NOTE, type RunningSubgraph, startEconomySubgraph } from "./economy-subgraph";

/** A hint of a successful composition (@apollo/composition does not export the class by name). */
export type CompositionHint = CompositionSuccess["hints"][number];

/** A subgraph to compose: its name, where it answers, and its SDL (what `_service { sdl }` says). */
export interface SubgraphSource {
  name: string;
  url: string;
  sdl: string;
}

/** Reads a running subgraph's SDL the way a router does: `_service { sdl }`. */
export async function fetchSubgraphSdl(url: string): Promise<string> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ _service { sdl } }" }) });
  const body = (await response.json()) as { data?: { _service?: { sdl?: string } }; errors?: Array<{ message: string }> };
  const sdl = body.data?._service?.sdl;
  if (!response.ok || typeof sdl !== "string") throw new Error(`${url} answered no subgraph SDL: ${body.errors?.map((e) => e.message).join("; ") ?? response.status}`);
  return sdl;
}

/** The supergraph of `subgraphs` and the composition's hints; throws with every error when it does not compose. */
export function composeSupergraph(subgraphs: SubgraphSource[]): { supergraphSdl: string; hints: CompositionHint[] } {
  const result = composeServices(subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) })));
  if (result.errors) throw new Error(`the subgraphs do not compose:\n${result.errors.map((e) => `- ${e.message}`).join("\n")}`);
  return { supergraphSdl: result.supergraphSdl, hints: result.hints };
}

/** One answer a subgraph gave the gateway: which subgraph, the operation it was sent, and its `x-sql-statements` header (null when absent). */
export interface SubgraphFetch {
  subgraph: string;
  query: string;
  variables: Record<string, unknown> | undefined;
  sqlStatements: number | null;
}

/** A running gateway. */
export interface RunningGateway {
  url: string;
  stop(): Promise<void>;
}

/**
 * Serves `supergraphSdl` with @apollo/gateway on `host`:`port`; every answer a
 * subgraph gives is reported to `onFetch` (with the product's statement
 * count, when the product sends it).
 */
export async function startGateway(supergraphSdl: string, options: { host?: string; port?: number; onFetch?: (fetch: SubgraphFetch) => void } = {}): Promise<RunningGateway> {
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) =>
      new RemoteGraphQLDataSource({
        url,
        didReceiveResponse({ response, request }) {
          const header = response.http?.headers.get(SQL_STATEMENTS_HEADER);
          options.onFetch?.({ subgraph: name, query: request.query ?? "", variables: request.variables, sqlStatements: header == null ? null : Number(header) });
          return response;
        },
      }),
  });
  // @apollo/gateway 2.x implements version 1 of the gateway interface; Apollo Server 5 runs it (the types differ in name only).
  const server = new ApolloServer({ gateway: gateway as any });
  const { url } = await startStandaloneServer(server, { listen: { host: options.host ?? "127.0.0.1", port: options.port ?? 0 } });
  return { url, stop: () => server.stop() };
}

/** `npm run supergraph`: the product subgraph (embedded SQLite), the economy subgraph and the gateway. */
async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, FEDERATION: "true", PORT: process.env.PRODUCT_PORT ?? "4001", HOST: "127.0.0.1" });
  if (config.database.type !== "sqlite") process.stderr.write("note: DATABASE_URL is set, so the product subgraph uses that MySQL database\n");
  const obs = createObservability(config.logLevel);
  const db = await openDatabase(config);
  const product = await startServer(config, db, obs);
  const stops: Array<() => Promise<void>> = [async () => { await product.close(); await db.destroy(); }];
  let economy: RunningSubgraph | undefined;
  let gateway: RunningGateway | undefined;
  const stopAll = async () => {
    await gateway?.stop();
    await economy?.stop();
    for (const stop of stops) await stop();
  };
  try {
    economy = await startEconomySubgraph({ port: Number(process.env.ECONOMY_PORT ?? 4002) });
    const { supergraphSdl, hints } = composeSupergraph([
      { name: "projects", url: product.url, sdl: await fetchSubgraphSdl(product.url) },
      { name: "economy", url: economy.url, sdl: await fetchSubgraphSdl(economy.url) },
    ]);
    for (const hint of hints) process.stderr.write(`composition hint: ${hint.definition.code}: ${hint.message}\n`);
    gateway = await startGateway(supergraphSdl, { host: process.env.GATEWAY_HOST ?? "127.0.0.1", port: Number(process.env.GATEWAY_PORT ?? 4000) });
  } catch (error) {
    await stopAll();
    throw error;
  }
  process.stdout.write(
    [
      `product subgraph (FEDERATION=true): ${product.url}`,
      `economy subgraph: ${economy.url}`,
      `  ${FIGURES_NOTE}`,
      `gateway (the composed graph): ${gateway.url}`,
      "",
    ].join("\n"),
  );
  const shutdown = () => {
    stopAll().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
