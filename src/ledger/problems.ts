import { AppError, ErrorCode, shortenQuotes } from "../common/errors";

/** One thing wrong with a write's input: the field path (e.g. "input.subVenueRegionCodes[1]") and why. */
export interface Problem {
  field: string;
  reason: string;
}

/**
 * Every problem of one input, together: one BAD_USER_INPUT whose
 * `extensions.problems` lists each field and reason (the first also as
 * `field` and `reason`, like every other BAD_USER_INPUT of the API).
 */
export class LedgerInputError extends AppError {
  constructor(readonly problems: readonly Problem[]) {
    const head = problems.length === 1 ? "" : `${problems.length} problems: `;
    super(ErrorCode.BAD_USER_INPUT, shortenQuotes(head + problems.map((p) => `${p.field}: ${p.reason}`).join("; ")), {
      field: problems[0].field,
      reason: problems[0].reason,
      problems: problems.map((p) => ({ field: p.field, reason: shortenQuotes(p.reason) })),
    });
  }
}

/** Collects problems as the checks go; `throwIfAny` ends the checks of one input. */
export class Problems {
  readonly list: Problem[] = [];

  add(field: string, reason: string): void {
    this.list.push({ field, reason });
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  throwIfAny(): void {
    if (this.list.length) throw new LedgerInputError(this.list);
  }
}
