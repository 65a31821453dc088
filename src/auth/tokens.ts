import { createHash, randomBytes } from "node:crypto";

import type { DataSource, EntityManager } from "typeorm";

import { AppError, BadUserInputError, ErrorCode, shortenQuote } from "../common/errors";
import type { SqlClient } from "../db/sql-counter";
import type { RegionLevel } from "../region/region-level";

/** Who is writing: the token a request presented, the office holding it and the region whose subtree it may write to. */
export interface Viewer {
  tokenId: number;
  office: string;
  regionId: number;
  regionCode: string;
  regionName: string;
  level: RegionLevel;
}

/** A token as `createToken` returns it: the only time `token` is ever seen. */
export interface CreatedToken {
  id: number;
  token: string;
  office: string;
  regionCode: string;
  regionName: string;
}

/** A token as `listTokens` shows it: never the token nor its hash. */
export interface TokenSummary {
  id: number;
  office: string;
  regionCode: string;
  regionName: string;
  /** ISO 8601 UTC. */
  createdAt: string;
  /** ISO 8601 UTC, or null while the token is good. */
  revokedAt: string | null;
}

/** Readable prefix of every token, so a leaked one is recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = "mpg_";
/** Random bytes per token: 256 bits, far above the 128 that make guessing hopeless. */
const SECRET_BYTES = 32;
/** The exact shape of a token: the prefix and 32 bytes in unpadded base64url (43 characters). */
const TOKEN_SHAPE = /^mpg_[A-Za-z0-9_-]{43}$/;
/** Longest Authorization header looked at; a real one is 54 characters. Longer ones are refused before hashing. */
export const MAX_AUTHORIZATION_LENGTH = 512;
/** Longest office name, in characters (the column is varchar(200)). */
const NAME_MAX = 200;
/** Control, format (bidi overrides, zero-width) and line/paragraph separator characters: none belongs in an office name shown in a table. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

const MALFORMED = 'the Authorization header must be "Bearer <token>"';
const TOO_LONG = `the Authorization header is longer than ${MAX_AUTHORIZATION_LENGTH} characters`;
const REJECTED = "the token is unknown or has been revoked";

/** The one SQL statement of `authenticate`: the token's row by its unique hash, with its region. */
const LOOKUP_SQL =
  "SELECT t.id AS token_id, t.name AS office, r.id AS region_id, r.code AS region_code, r.name AS region_name, r.level AS region_level " +
  "FROM api_token t JOIN region r ON r.id = t.region_id WHERE t.secret_hash = ? AND t.revoked_at IS NULL";

/**
 * Makes a token for the office `name`, good for the region `regionCode` and
 * everything below it. The token is returned here and nowhere else: only its
 * SHA-256 is stored. Throws BadUserInputError (field `name` or `regionCode`)
 * for an empty, too long or unprintable name, or an unknown region code.
 */
export async function createToken(db: DataSource | EntityManager, input: { regionCode: string; name: string }): Promise<CreatedToken> {
  const office = checkOfficeName(input.name);
  const regionCode = String(input.regionCode ?? "").trim();
  if (regionCode === "") throw new BadUserInputError("regionCode", "must not be empty");
  const regions: Array<{ id: number; code: string; name: string }> = await db.query("SELECT id, code, name FROM region WHERE code = ?", [regionCode]);
  if (regions.length === 0) throw new BadUserInputError("regionCode", `no region has the code ${JSON.stringify(shortenQuote(regionCode))}`);
  const [region] = regions;

  const token = TOKEN_PREFIX + randomBytes(SECRET_BYTES).toString("base64url");
  const secretHash = hashToken(token);
  await db.query("INSERT INTO api_token (name, region_id, secret_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, NULL)", [
    office,
    region.id,
    secretHash,
    new Date().toISOString(),
  ]);
  // The same statement on both databases, rather than each driver's own way of returning the new id.
  const [row]: Array<{ id: number }> = await db.query("SELECT id FROM api_token WHERE secret_hash = ?", [secretHash]);
  return { id: Number(row.id), token, office, regionCode: region.code, regionName: region.name };
}

/** Every token, oldest first, with its office, region and dates; never the token or its hash. */
export async function listTokens(db: DataSource | EntityManager): Promise<TokenSummary[]> {
  const rows: Array<{ id: number; office: string; region_code: string; region_name: string; created_at: string; revoked_at: string | null }> = await db.query(
    "SELECT t.id, t.name AS office, r.code AS region_code, r.name AS region_name, t.created_at, t.revoked_at FROM api_token t JOIN region r ON r.id = t.region_id ORDER BY t.id",
  );
  return rows.map(toSummary);
}

/**
 * Revokes token `id`: from now on `authenticate` refuses it. Idempotent:
 * revoking a revoked token changes nothing and keeps the first revocation
 * time. An id no token has is a BadUserInputError (field `id`).
 */
export async function revokeToken(db: DataSource | EntityManager, id: number): Promise<TokenSummary> {
  if (!Number.isSafeInteger(id) || id < 1) throw new BadUserInputError("id", `must be a positive whole number (got ${shortenQuote(String(id))})`);
  await db.query("UPDATE api_token SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [new Date().toISOString(), id]);
  const rows = await db.query(
    "SELECT t.id, t.name AS office, r.code AS region_code, r.name AS region_name, t.created_at, t.revoked_at FROM api_token t JOIN region r ON r.id = t.region_id WHERE t.id = ?",
    [id],
  );
  if (rows.length === 0) throw new BadUserInputError("id", `no token has the id ${id}`);
  return toSummary(rows[0]);
}

/**
 * The viewer an Authorization header stands for. No header (or an empty one)
 * is an anonymous reader: null. Anything else must be `Bearer <token>` (the
 * scheme in any case) with a token this server issued and has not revoked, or
 * it is an UNAUTHENTICATED AppError whose message never quotes the header.
 * One SQL statement at most, found through the unique index on the hash;
 * headers too long or not shaped like a token are refused without one.
 * Looking up a hash rather than comparing secrets leaks nothing through
 * timing: what an attacker could learn is about SHA-256 outputs of guesses.
 */
export async function authenticate(db: SqlClient, authorization: string | undefined): Promise<Viewer | null> {
  if (authorization === undefined || authorization === "") return null;
  if (authorization.length > MAX_AUTHORIZATION_LENGTH) throw unauthenticated(TOO_LONG);
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  if (!match) throw unauthenticated(MALFORMED);
  const token = match[1];
  if (!TOKEN_SHAPE.test(token)) throw unauthenticated(REJECTED);
  const rows: Array<{ token_id: number; office: string; region_id: number; region_code: string; region_name: string; region_level: RegionLevel }> =
    await db.query(LOOKUP_SQL, [hashToken(token)]);
  if (rows.length === 0) throw unauthenticated(REJECTED);
  const [row] = rows;
  return {
    tokenId: Number(row.token_id),
    office: row.office,
    regionId: Number(row.region_id),
    regionCode: row.region_code,
    regionName: row.region_name,
    level: row.region_level,
  };
}

/** Lower-case hex SHA-256 of the whole token string, as `api_token.secret_hash` holds it. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** The office name as stored: trimmed, 1 to NAME_MAX characters, nothing unprintable. */
function checkOfficeName(raw: string): string {
  const name = String(raw ?? "").trim();
  if (name === "") throw new BadUserInputError("name", "must not be empty");
  const length = [...name].length;
  if (length > NAME_MAX) throw new BadUserInputError("name", `must be at most ${NAME_MAX} characters (got ${length})`);
  if (UNPRINTABLE.test(name)) throw new BadUserInputError("name", "must not contain control or invisible formatting characters");
  return name;
}

function toSummary(row: { id: number; office: string; region_code: string; region_name: string; created_at: string; revoked_at: string | null }): TokenSummary {
  return {
    id: Number(row.id),
    office: row.office,
    regionCode: row.region_code,
    regionName: row.region_name,
    createdAt: row.created_at,
    revokedAt: row.revoked_at ?? null,
  };
}

/** HTTP 401 when thrown while building a request's context, rather than Apollo's default 500. */
function unauthenticated(message: string): AppError {
  return new AppError(ErrorCode.UNAUTHENTICATED, message, { http: { status: 401 } });
}
