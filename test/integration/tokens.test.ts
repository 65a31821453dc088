/**
 * Write tokens on a real database of each kind: a token is shown once and
 * stored only as its hash, authenticates as its office and region in one
 * indexed statement, and is refused once revoked, unknown or badly presented,
 * without ever being quoted back. The CLI is run once as an operator would.
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import path from "node:path";

import type { DataSource } from "typeorm";

import { authenticate, createToken, listTokens, revokeToken } from "../../src/auth/tokens";
import { AppError, BadUserInputError, ErrorCode } from "../../src/common/errors";
import { createDataSource } from "../../src/db/data-source";
import { countingClient } from "../../src/db/sql-counter";
import { DB_KINDS, type ScratchDatabase, createScratchDatabase, openScratchDataSource } from "../support/databases";

const ROOT = path.join(__dirname, "../..");

/** A province, a city under it and a county under that: all a token needs (the shipped seed is not needed here). */
const REGIONS = [
  { code: "410000", name: "河南省", level: "PROVINCE", parentCode: null },
  { code: "410100", name: "郑州市", level: "CITY", parentCode: "410000" },
  { code: "410102", name: "中原区", level: "COUNTY", parentCode: "410100" },
] as const;

/** Inserts REGIONS and returns their ids by code. */
async function addRegions(db: DataSource): Promise<Record<string, number>> {
  const ids: Record<string, number> = {};
  for (const region of REGIONS) {
    await db.query("INSERT INTO region (code, name, level, parent_id) VALUES (?, ?, ?, ?)", [
      region.code,
      region.name,
      region.level,
      region.parentCode === null ? null : ids[region.parentCode],
    ]);
    ids[region.code] = Number((await db.query("SELECT id FROM region WHERE code = ?", [region.code]))[0].id);
  }
  return ids;
}

/** The error `promise` rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    return error as AppError;
  }
  throw new Error("expected a rejection");
}

describe.each(DB_KINDS)("write tokens on %s", (kind) => {
  let scratch: ScratchDatabase;
  let db: DataSource;
  let regionIds: Record<string, number>;

  beforeAll(async () => {
    ({ scratch, db } = await openScratchDataSource(kind));
    await db.runMigrations({ transaction: "each" });
    regionIds = await addRegions(db);
  });

  afterAll(async () => {
    await db?.destroy();
    await scratch?.drop();
  });

  it("a new token authenticates as its office and region", async () => {
    const created = await createToken(db, { regionCode: "410100", name: "  郑州市发改委 " });
    expect(created).toMatchObject({ office: "郑州市发改委", regionCode: "410100", regionName: "郑州市" });
    expect(await authenticate(db, `Bearer ${created.token}`)).toEqual({
      tokenId: created.id,
      office: "郑州市发改委",
      regionId: regionIds["410100"],
      regionCode: "410100",
      regionName: "郑州市",
      level: "CITY",
    });
  });

  it("the scheme is case-insensitive", async () => {
    const { token } = await createToken(db, { regionCode: "410102", name: "中原区发改委" });
    expect(await authenticate(db, `bearer ${token}`)).toMatchObject({ regionCode: "410102", level: "COUNTY" });
    expect(await authenticate(db, `BEARER ${token}`)).toMatchObject({ regionCode: "410102", level: "COUNTY" });
  });

  it("the stored row holds the SHA-256 of the token and never the token", async () => {
    const { id, token } = await createToken(db, { regionCode: "410000", name: "河南省发改委" });
    const rows: Array<Record<string, unknown>> = await db.query("SELECT * FROM api_token");
    const row = rows.find((r) => Number(r.id) === id)!;
    expect(row.secret_hash).not.toBe(token);
    expect(row.secret_hash).toBe(createHash("sha256").update(token).digest("hex"));
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(JSON.stringify(rows)).not.toContain(token.slice(4));
  });

  it("two tokens differ and each carries at least 128 random bits", async () => {
    const a = await createToken(db, { regionCode: "410100", name: "郑州市发改委" });
    const b = await createToken(db, { regionCode: "410100", name: "郑州市发改委" });
    expect(a.token).not.toBe(b.token);
    expect(a.id).not.toBe(b.id);
    for (const { token } of [a, b]) {
      expect(token).toMatch(/^mpg_[A-Za-z0-9_-]+$/);
      expect(Buffer.from(token.slice("mpg_".length), "base64url").length * 8).toBeGreaterThanOrEqual(128);
    }
  });

  it("a revoked token is refused as UNAUTHENTICATED", async () => {
    const { id, token } = await createToken(db, { regionCode: "410100", name: "郑州市发改委" });
    await revokeToken(db, id);
    const error = await rejection(authenticate(db, `Bearer ${token}`));
    expect(error).toBeInstanceOf(AppError);
    expect(error.extensions.code).toBe(ErrorCode.UNAUTHENTICATED);
    expect(error.message).not.toContain(token);
  });

  it("revoking twice keeps the first revocation", async () => {
    const { id } = await createToken(db, { regionCode: "410100", name: "郑州市发改委" });
    const first = await revokeToken(db, id);
    expect(first.revokedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await revokeToken(db, id)).toEqual(first);
  });

  it("revoking an id no token has is bad input", async () => {
    const error = await rejection(revokeToken(db, 999_999));
    expect(error).toBeInstanceOf(BadUserInputError);
    expect(error.extensions).toMatchObject({ code: ErrorCode.BAD_USER_INPUT, field: "id" });
  });

  it("an unknown token is refused as UNAUTHENTICATED", async () => {
    const unknown = `mpg_${randomBytes(32).toString("base64url")}`;
    const error = await rejection(authenticate(db, `Bearer ${unknown}`));
    expect(error.extensions.code).toBe(ErrorCode.UNAUTHENTICATED);
    expect(error.message).not.toContain(unknown);
  });

  it.each([
    ["another scheme", (token: string) => `Basic ${token}`],
    ["a scheme without a token", () => "Bearer"],
    ["a token without a scheme", (token: string) => token],
    ["a header with two tokens", (token: string) => `Bearer ${token} ${token}`],
    ["a cut token", (token: string) => `Bearer ${token.slice(0, -1)}`],
    ["a 600-character header", (token: string) => `Bearer ${token}${"x".repeat(600 - 7 - token.length)}`],
  ])("%s is refused as UNAUTHENTICATED without quoting the header", async (_what, header) => {
    const { token } = await createToken(db, { regionCode: "410100", name: "郑州市发改委" });
    const error = await rejection(authenticate(db, header(token)));
    expect(error).toBeInstanceOf(AppError);
    expect(error.extensions.code).toBe(ErrorCode.UNAUTHENTICATED);
    expect(error.message).not.toContain(token.slice("mpg_".length, 20));
  });

  it.each([
    ["no header", undefined],
    ["an empty header", ""],
  ])("%s is an anonymous reader", async (_what, header) => {
    expect(await authenticate(db, header)).toBeNull();
  });

  it("authenticate issues exactly one SQL statement, and none for a malformed header", async () => {
    const { token } = await createToken(db, { regionCode: "410100", name: "郑州市发改委" });
    const tally = { statements: 0 };
    const client = countingClient(db, tally);
    await authenticate(client, `Bearer ${token}`);
    expect(tally.statements).toBe(1);
    await rejection(authenticate(client, `Bearer mpg_${randomBytes(32).toString("base64url")}`));
    expect(tally.statements).toBe(2);
    await rejection(authenticate(client, `Basic ${token}`));
    await rejection(authenticate(client, `Bearer ${"x".repeat(600)}`));
    expect(tally.statements).toBe(2);
  });

  it("the lookup goes through the unique index on the hash", async () => {
    const { token } = await createToken(db, { regionCode: "410100", name: "郑州市发改委" });
    const seen: Array<{ sql: string; params?: unknown[] }> = [];
    await authenticate({ query: (sql, params) => (seen.push({ sql, params }), db.query(sql, params)) }, `Bearer ${token}`);
    expect(seen).toHaveLength(1);
    const [{ sql, params }] = seen;
    if (kind === "mysql") {
      const plan: Array<{ table: string; key: string | null }> = await db.query(`EXPLAIN ${sql}`, params);
      expect(plan.find((step) => step.table === "t")?.key).toBe("uq_api_token_hash");
    } else {
      const plan: Array<{ detail: string }> = await db.query(`EXPLAIN QUERY PLAN ${sql}`, params);
      expect(plan.map((step) => step.detail).join("\n")).toMatch(/SEARCH t USING INDEX uq_api_token_hash/);
    }
  });

  it("listTokens shows office, region and dates, never a token or its hash", async () => {
    const { id, token } = await createToken(db, { regionCode: "410102", name: "中原区发改委" });
    const listed = await listTokens(db);
    expect(listed.find((t) => t.id === id)).toEqual({
      id,
      office: "中原区发改委",
      regionCode: "410102",
      regionName: "中原区",
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      revokedAt: null,
    });
    const text = JSON.stringify(listed);
    expect(text).not.toContain(token);
    expect(text).not.toContain(createHash("sha256").update(token).digest("hex"));
  });

  it("a 200-character office name is kept whole", async () => {
    const name = "发".repeat(200);
    const { id } = await createToken(db, { regionCode: "410100", name });
    expect((await listTokens(db)).find((t) => t.id === id)?.office).toBe(name);
  });

  it.each([
    ["an empty name", { regionCode: "410100", name: "   " }, "name"],
    ["a 201-character name", { regionCode: "410100", name: "发".repeat(201) }, "name"],
    ["a name with a control character", { regionCode: "410100", name: "郑州市\n发改委" }, "name"],
    ["a name with a bidi override", { regionCode: "410100", name: "郑州市\u202e发改委" }, "name"],
    ["an unknown region", { regionCode: "999999", name: "郑州市发改委" }, "regionCode"],
    ["an empty region", { regionCode: " ", name: "郑州市发改委" }, "regionCode"],
  ])("createToken refuses %s as bad input", async (_what, input, field) => {
    const before = Number((await db.query("SELECT COUNT(*) AS n FROM api_token"))[0].n);
    const error = await rejection(createToken(db, input));
    expect(error).toBeInstanceOf(BadUserInputError);
    expect(error.extensions).toMatchObject({ code: ErrorCode.BAD_USER_INPUT, field });
    expect(Number((await db.query("SELECT COUNT(*) AS n FROM api_token"))[0].n)).toBe(before);
  });

  it("a region that holds tokens cannot be deleted", async () => {
    await createToken(db, { regionCode: "410102", name: "中原区发改委" });
    await expect(db.query("DELETE FROM region WHERE code = '410102'")).rejects.toThrow();
  });
});

describe("npm run token", () => {
  let scratch: ScratchDatabase;

  beforeAll(async () => {
    scratch = await createScratchDatabase("sqlite");
    const db = await createDataSource(scratch.config);
    await db.initialize();
    await db.runMigrations({ transaction: "each" });
    await addRegions(db); // not empty, so the CLI's openDatabase does not seed the whole province
    await db.destroy();
  });

  afterAll(async () => {
    await scratch?.drop();
  });

  /** The CLI's source run the way test/e2e/startup.test.ts runs the server (`npm run token` compiles the same file first). */
  function token(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    if (scratch.config.type !== "sqlite") throw new Error("invariant: the CLI test uses a SQLite file");
    const result = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "src/auth/token.cli.ts", ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", SQLITE_PATH: scratch.config.path },
      encoding: "utf8",
      timeout: 60_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it("create prints the token alone on the last line, list never shows it, revoke stops it", async () => {
    const created = token("create", "--region", "410100", "--name", "郑州市发改委");
    expect(created.stderr).toBe("");
    expect(created.status).toBe(0);
    const lines = created.stdout.trimEnd().split("\n");
    const secret = lines[lines.length - 1];
    expect(secret).toMatch(/^mpg_[A-Za-z0-9_-]{43}$/);
    const header = lines.slice(0, -1).join("\n");
    expect(header).toMatch(/郑州市发改委/);
    expect(header).toMatch(/410100 郑州市/);
    expect(header).toMatch(/^id: +1$/m);
    expect(header).toMatch(/shown this once/);

    const listed = token("list");
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(/^1 +410100 郑州市 +郑州市发改委 +\d{4}-\d\d-\d\dT[\d:.]+Z +-$/m);
    expect(listed.stdout).not.toContain(secret);
    expect(listed.stdout).not.toContain(secret.slice(4, 20));
    expect(listed.stdout).not.toContain(createHash("sha256").update(secret).digest("hex"));

    const revoked = token("revoke", "1");
    expect(revoked.status).toBe(0);
    expect(revoked.stdout).toMatch(/^token 1 .*revoked/);
    const db = await createDataSource(scratch.config);
    await db.initialize();
    try {
      expect((await rejection(authenticate(db, `Bearer ${secret}`))).extensions.code).toBe(ErrorCode.UNAUTHENTICATED);
    } finally {
      await db.destroy();
    }
  });
});
