import type { DataSource } from "typeorm";

import { DEFAULT_EFFECTIVE_THRESHOLD, DEFAULT_LEDGER_FUTURE_DAYS } from "../config";
import { loadTrees } from "../common/trees";
import { Ledger } from "./ledger";

/** A ledger for the operator's tools (seed, benchmark generator, command line): reads the trees afresh for each write. */
export function systemLedger(db: DataSource, futureDays = DEFAULT_LEDGER_FUTURE_DAYS, effectiveThreshold = DEFAULT_EFFECTIVE_THRESHOLD): Ledger {
  return new Ledger(db, { futureDays, effectiveThreshold }, () => loadTrees(db));
}
