/**
 * The arithmetic of the assessment (考核), pure and without I/O: the dates of
 * a period, the share of it elapsed at a day, the completion rate, the card,
 * and the competition ranking among siblings. The loader and the tests both
 * use these; the tests check them against oracles of their own.
 */
import type { Problems } from "../ledger/problems";

/** Years a target or an assessment may name. */
export const MIN_YEAR = 2000;
export const MAX_YEAR = 2100;

/** What the cards need: the thresholds and the day they are dated (src/config.ts `AssessmentConfig`). */
export interface AssessmentSettings {
  /** GREEN when completionRate >= elapsed × greenAt (ASSESSMENT_GREEN_AT, default 1.0). */
  greenAt: number;
  /** YELLOW when completionRate >= elapsed × yellowAt (ASSESSMENT_YELLOW_AT, default 0.8); else RED. */
  yellowAt: number;
  /** Today as YYYY-MM-DD (ASSESSMENT_TODAY pins it); absent, the ledger's today when pinned (`LedgerSettings.today`), else the UTC date now, as the ledger's date rule counts days. */
  today?: () => string;
}

export const DEFAULT_ASSESSMENT_SETTINGS: AssessmentSettings = { greenAt: 1, yellowAt: 0.8 };

/** The settings of a configuration's `assessment` part. */
export function assessmentSettings(config: { greenAt: number; yellowAt: number; today: string | null }): AssessmentSettings {
  const pinned = config.today;
  return { greenAt: config.greenAt, yellowAt: config.yellowAt, ...(pinned ? { today: () => pinned } : {}) };
}

/** The day the cards are dated. */
export function todayOf(settings: AssessmentSettings): string {
  return settings.today?.() ?? new Date().toISOString().slice(0, 10);
}

/** A period of the assessment: a calendar year, or one quarter of it (Q1 = January to March, …). */
export interface Period {
  year: number;
  /** 1..4, or null for the whole year. */
  quarter: number | null;
  /** First and last day, both inside, YYYY-MM-DD. */
  from: string;
  to: string;
}

const DAY_MS = 86_400_000;
const pad = (n: number) => String(n).padStart(2, "0");

/** The period of a year and an optional quarter (checked beforehand with `checkPeriod`). */
export function periodOf(year: number, quarter: number | null | undefined): Period {
  if (quarter == null) return { year, quarter: null, from: `${year}-01-01`, to: `${year}-12-31` };
  const firstMonth = (quarter - 1) * 3 + 1;
  const lastDay = new Date(Date.UTC(year, firstMonth + 2, 0)).getUTCDate();
  return { year, quarter, from: `${year}-${pad(firstMonth)}-01`, to: `${year}-${pad(firstMonth + 2)}-${pad(lastDay)}` };
}

/** The stored quarter: 0 for the whole year. */
export function storedQuarter(quarter: number | null | undefined): number {
  return quarter ?? 0;
}

/** The period as the history and the CSV name it: "2021" or "2021-Q3". */
export function periodLabel(period: Pick<Period, "year" | "quarter">): string {
  return period.quarter === null ? String(period.year) : `${period.year}-Q${period.quarter}`;
}

/** Adds to `problems` what is wrong with a year (MIN_YEAR..MAX_YEAR) and a quarter (1..4 or null), under `path`. */
export function checkPeriod(problems: Problems, path: string, year: unknown, quarter: unknown): void {
  const dot = path ? `${path}.` : "";
  if (typeof year !== "number" || !Number.isInteger(year) || year < MIN_YEAR || year > MAX_YEAR) {
    problems.add(`${dot}year`, `must be a year from ${MIN_YEAR} to ${MAX_YEAR} (got ${JSON.stringify(year)})`);
  }
  if (quarter !== null && quarter !== undefined && (typeof quarter !== "number" || !Number.isInteger(quarter) || quarter < 1 || quarter > 4)) {
    problems.add(`${dot}quarter`, `must be 1, 2, 3 or 4, or null for the whole year (got ${JSON.stringify(quarter)})`);
  }
}

/** Days from `from` to `to`, both counted. */
function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;
}

/**
 * The share of the period elapsed at `today`: the days from its first day to
 * today, today counted, over its days; 0 before it begins, 1 once it is over.
 */
export function elapsedShare(period: Period, today: string): number {
  if (today < period.from) return 0;
  if (today > period.to) return 1;
  return Math.min(1, Math.max(0, daysBetween(period.from, today) / daysBetween(period.from, period.to)));
}

/**
 * reached / target, or null without a target. A target of 0 is met from the
 * start: its rate is 1 (100 %) whatever was reached.
 */
export function completionRate(reachedWan: number, targetWan: number | null): number | null {
  if (targetWan === null) return null;
  if (targetWan === 0) return 1;
  return reachedWan / targetWan;
}

/** 考核亮牌: the colours of the cards. */
export type Card = "GREEN" | "YELLOW" | "RED";

/** The card of a completion rate at `elapsed` of the period; null without a target (a null rate). */
export function cardOf(rate: number | null, elapsed: number, settings: Pick<AssessmentSettings, "greenAt" | "yellowAt">): Card | null {
  if (rate === null) return null;
  if (rate >= elapsed * settings.greenAt) return "GREEN";
  if (rate >= elapsed * settings.yellowAt) return "YELLOW";
  return "RED";
}

/**
 * Competition ranking ("1224") by rate, highest first: equal rates share a
 * place and the next place skips as many. Entries with a null rate (no
 * target) are not ranked.
 */
export function competitionRanks<K>(entries: ReadonlyArray<{ key: K; rate: number | null }>): Map<K, number> {
  const ranked = entries.filter((e): e is { key: K; rate: number } => e.rate !== null).sort((a, b) => b.rate - a.rate);
  const ranks = new Map<K, number>();
  ranked.forEach((entry, i) => {
    ranks.set(entry.key, i > 0 && ranked[i - 1].rate === entry.rate ? ranks.get(ranked[i - 1].key)! : i + 1);
  });
  return ranks;
}
