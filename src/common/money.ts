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
