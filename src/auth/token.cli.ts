import "reflect-metadata";

import { parseArgs } from "node:util";

import { BadUserInputError } from "../common/errors";
import { formatTable, runCommand, UsageError } from "../common/cli";
import { loadConfig } from "../config";
import { openDatabase } from "../db/open-database";
import { type TokenSummary, createToken, listTokens, revokeToken } from "./tokens";

const USAGE = [
  "usage: npm run token -- create --region <region code> --name <office>",
  "       npm run token -- list",
  "       npm run token -- revoke <id>",
].join("\n");

/** What the command line asks for. */
type Command = { kind: "create"; regionCode: string; name: string } | { kind: "list" } | { kind: "revoke"; id: number };

/**
 * `npm run token -- create --region 410100 --name 郑州市发改委`: makes a write
 * token for the office and the region's subtree, and prints it once, alone on
 * the last line (so `| tail -n 1` captures it). `list`: every token, without
 * secrets. `revoke <id>`: the token stops working at once (idempotent).
 * The database is chosen as for the server: DATABASE_URL, else SQLITE_PATH.
 */
async function main(argv: string[]): Promise<number> {
  const command = parseCommand(argv);
  const config = loadConfig();
  const db = await openDatabase(config);
  try {
    if (command.kind === "create") {
      const created = await createToken(db, command);
      process.stdout.write(
        [
          `office: ${created.office}`,
          `region: ${created.regionCode} ${created.regionName}`,
          `id:     ${created.id}`,
          "The token is shown this once and cannot be shown again (only its hash is stored). Keep it secret; it follows on the next line:",
          created.token,
          "",
        ].join("\n"),
      );
    } else if (command.kind === "list") {
      process.stdout.write(tokenTable(await listTokens(db)));
    } else {
      const token = await revokeToken(db, command.id);
      process.stdout.write(`token ${token.id} (${token.office}, ${token.regionCode} ${token.regionName}) is revoked since ${token.revokedAt}\n`);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof BadUserInputError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  } finally {
    await db.destroy();
  }
}

/** The command of `argv` (after the script name); UsageError when it is not one. */
function parseCommand(argv: string[]): Command {
  const [verb, ...rest] = argv;
  if (verb === "create") {
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: { region: { type: "string" }, name: { type: "string" } }, strict: true, allowPositionals: true });
    } catch (error) {
      throw new UsageError((error as Error).message); // an unknown option, or one without its value
    }
    const { values, positionals } = parsed;
    if (positionals.length) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    if (values.region === undefined || values.name === undefined) throw new UsageError("create needs --region and --name");
    return { kind: "create", regionCode: values.region, name: values.name };
  }
  if (verb === "list") {
    if (rest.length) throw new UsageError(`unexpected argument: ${rest[0]}`);
    return { kind: "list" };
  }
  if (verb === "revoke") {
    if (rest.length !== 1 || !/^[1-9][0-9]{0,14}$/.test(rest[0])) throw new UsageError("revoke needs one token id (a positive whole number)");
    return { kind: "revoke", id: Number(rest[0]) };
  }
  throw new UsageError(verb === undefined ? "no command given" : `unknown command: ${verb}`);
}

/** The tokens as an aligned table; "no tokens" when there are none. */
function tokenTable(tokens: TokenSummary[]): string {
  if (tokens.length === 0) return "no tokens\n";
  return formatTable(["ID", "REGION", "OFFICE", "CREATED", "REVOKED"], tokens.map((t) => [String(t.id), `${t.regionCode} ${t.regionName}`, t.office, t.createdAt, t.revokedAt ?? "-"]));
}

runCommand("token", () => main(process.argv.slice(2)), USAGE);
