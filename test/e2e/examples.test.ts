/**
 * Every example operation in schema/examples runs against the seeded server
 * and returns data with no errors; each is one named operation opening with a
 * one-line comment of the question it answers, in Chinese and English.
 */
import fs from "node:fs";
import path from "node:path";

import { Kind, parse } from "graphql";

import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";

const DIR = path.join(__dirname, "../../schema/examples");
const EXAMPLES = fs.readdirSync(DIR).filter((f) => f.endsWith(".graphql")).sort();

/** True when the value holds something: a non-empty list or object somewhere other than null. */
function hasData(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (Array.isArray(value)) return value.length > 0 && value.every(hasData);
  if (typeof value === "object") return Object.values(value as object).some(hasData);
  return true;
}

it("there are the seven examples the README promises", () => {
  expect(EXAMPLES.length).toBeGreaterThanOrEqual(7);
});

it.each(EXAMPLES)("%s is one named operation with a bilingual question on its first line", (file) => {
  const text = fs.readFileSync(path.join(DIR, file), "utf8");
  const [first] = text.split("\n");
  expect(first).toMatch(/^# .*[\u4e00-\u9fff].* ?\/ [A-Z][^\u4e00-\u9fff]+$/);
  const operations = parse(text).definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  expect(operations).toHaveLength(1);
  expect(operations[0].kind === Kind.OPERATION_DEFINITION && operations[0].name?.value).toBeTruthy();
});

describe.each(DB_KINDS)("examples on %s", (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(async () => server?.close());

  it.each(EXAMPLES)("%s returns data and no errors", async (file) => {
    const res = await server.gql(fs.readFileSync(path.join(DIR, file), "utf8"));
    expect(res.errors).toBeUndefined();
    for (const [field, value] of Object.entries(res.data)) expect([field, hasData(value)]).toEqual([field, true]);
  });
});
