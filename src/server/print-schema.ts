import "reflect-metadata";

import fs from "node:fs";
import path from "node:path";

import { printSchema } from "graphql";

import { buildAppSchema } from "./schema";

/** Where the checked-in SDL lives. */
export const SCHEMA_FILE = path.join(__dirname, "../../schema/schema.graphql");

const HEADER = "# Generated from the code by `npm run schema:print`; do not edit. A test fails when it drifts.\n\n";

/** The SDL of the schema, as checked in. */
export async function renderSchema(): Promise<string> {
  return `${HEADER}${printSchema(await buildAppSchema())}\n`;
}

if (require.main === module) {
  renderSchema().then((sdl) => {
    fs.writeFileSync(SCHEMA_FILE, sdl);
    process.stdout.write(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)}\n`);
  });
}
