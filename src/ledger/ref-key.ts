import { createHash } from "node:crypto";

/**
 * When two ledger references (台账编号) are the same reference: letter case,
 * width (ＡＢ and AB), compatibility forms and accents (café and cafe) aside,
 * as MariaDB's utf8mb4_unicode_ci would compare them, and the same on every
 * database because the database compares only the key this makes (see
 * `refKeyColumn`). Invisible characters (zero-width, bidi controls) never get
 * this far: the field rules refuse them.
 */
export function refKey(ref: string): string {
  // NFKD splits accents and compatibility forms off; dropping the marks and recomposing leaves the base letters; upper
  // then lower case folds what lower case alone does not (ß and SS, final and medial sigma).
  return ref.normalize("NFKD").replace(/\p{M}/gu, "").normalize("NFKC").toUpperCase().toLowerCase();
}

/**
 * The value of `project.ref_key`, whose unique index is the one rule for
 * "the same reference" on SQLite and MariaDB alike: the SHA-256 of `refKey`
 * in lower-case hex. Hex digits compare the same under any collation (a
 * case-insensitive one included), so MariaDB's utf8mb4_unicode_ci cannot
 * merge keys the rule tells apart, and SQLite's binary comparison cannot
 * split keys the rule merges.
 */
export function refKeyColumn(ref: string): string {
  return createHash("sha256").update(refKey(ref)).digest("hex");
}
