import type { Context } from "../common/context";
import { isMysql } from "../db/data-source";

/** True when the request's database is MySQL or MariaDB (the reads that need a dialect: date arithmetic, exact text grouping). */
export function isMysqlClient(ctx: Context): boolean {
  return isMysql(ctx.ledger().db);
}
