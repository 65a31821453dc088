import { registerEnumType } from "type-graphql";

/** Unit of money on output; amounts are stored exactly as integer 万元. */
export enum MoneyUnit {
  YUAN = "YUAN",
  WAN_YUAN = "WAN_YUAN",
  YI_YUAN = "YI_YUAN",
}

registerEnumType(MoneyUnit, {
  name: "MoneyUnit",
  description: "Unit of money on output. Amounts are stored exactly in 万元.",
  valuesConfig: {
    YUAN: { description: "元." },
    WAN_YUAN: { description: "万元 (10,000 元), the stored unit." },
    YI_YUAN: { description: "亿元 (100,000,000 元 = 10,000 万元), the unit of the meeting reports." },
  },
});

/** Options of the `unit` argument of every amount: nullable with a default, as the contract has it; null means the default. */
export const UNIT_ARG = { nullable: true, defaultValue: MoneyUnit.YI_YUAN, description: "Unit of the amount; 亿元 unless asked." } as const;


/**
 * Converts an exact amount in 万元 to `unit`. Division by a power of ten of an
 * integer gives the closest double to the decimal figure (313.5, not 313.49999).
 */
export function fromWan(wan: number, unit: MoneyUnit = MoneyUnit.YI_YUAN): number {
  switch (unit) {
    case MoneyUnit.YUAN:
      return wan * 10_000;
    case MoneyUnit.WAN_YUAN:
      return wan;
    case MoneyUnit.YI_YUAN:
      return wan / 10_000;
  }
}

/**
 * What is wrong with an amount written in 亿元 (null: nothing): a finite number, positive (or, without `positive`,
 * 0 or more), at most `maxYi`, exact to 0.0001 亿元 (1 万元), and a positive one not so small that it is 0 万元.
 * Investments, designed and reported output, and target investments are all checked by it.
 */
export function amountProblem(value: unknown, rule: { positive: boolean; maxYi: number }): string | null {
  if (typeof value !== "number" || !Number.isFinite(value)) return "must be a finite amount in 亿元";
  if (rule.positive ? value <= 0 : value < 0) return rule.positive ? `must be positive (got ${value})` : `must be 0 or more (got ${value})`;
  if (value > rule.maxYi) return `must be at most ${rule.maxYi} 亿元 (got ${value})`;
  if (Math.abs(value * 10_000 - Math.round(value * 10_000)) > 1e-6) return `must be exact to 0.0001 亿元 (1 万元) (got ${value})`;
  // A positive amount that rounds to 0 万元 (1e-300) is no amount: a design of 0 would make any output reach it.
  if (rule.positive && Math.round(value * 10_000) < 1) return `must be at least 0.0001 亿元 (1 万元) (got ${value})`;
  return null;
}
