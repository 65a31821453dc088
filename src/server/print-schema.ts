import "reflect-metadata";

import fs from "node:fs";
import path from "node:path";

import { printSchema } from "graphql";

import { subgraphSdl } from "../federation/subgraph";
import { buildAppSchema } from "./schema";

/** Where the checked-in SDL lives. */
export const SCHEMA_FILE = path.join(__dirname, "../../schema/schema.graphql");

/** Where the checked-in subgraph SDL (FEDERATION=true, what `_service { sdl }` answers) lives. */
export const SUBGRAPH_FILE = path.join(__dirname, "../../schema/subgraph.graphql");

const HEADER = "# Generated from the code by `npm run schema:print`; do not edit. A test fails when it drifts.\n\n";

/** What the subgraph file holds before the SDL itself. */
export const SUBGRAPH_HEADER =
  "# Generated from the code by `npm run schema:print`; do not edit. A test fails when it drifts.\n" +
  "# The schema as an Apollo Federation 2 subgraph (FEDERATION=true): after this header, exactly what `_service { sdl }` answers.\n\n";

/** The SDL of the schema, as checked in. */
export async function renderSchema(): Promise<string> {
  return `${HEADER}${printSchema(await buildAppSchema())}\n`;
}

/** The subgraph SDL, as checked in: the header, then `_service { sdl }` verbatim. */
export async function renderSubgraphSchema(): Promise<string> {
  return `${SUBGRAPH_HEADER}${await subgraphSdl(await buildAppSchema({ federation: true }))}\n`;
}

if (require.main === module) {
  (async () => {
    for (const [file, render] of [
      [SCHEMA_FILE, renderSchema],
      [SUBGRAPH_FILE, renderSubgraphSchema],
    ] as const) {
      fs.writeFileSync(file, await render());
      process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
    }
  })();
}
