import { registerEnumType } from "type-graphql";
import { invariant } from "./errors";

/** Project lifecycle stage, in lifecycle order (储备 → 签约 → 开工 → 投产 → 达效). */
export enum ProjectStage {
  RESERVE = "RESERVE",
  SIGNED = "SIGNED",
  STARTED = "STARTED",
  IN_PRODUCTION = "IN_PRODUCTION",
  EFFECTIVE = "EFFECTIVE",
}

registerEnumType(ProjectStage, {
  name: "ProjectStage",
  description: "Project lifecycle stage: 储备 → 签约 → 开工 → 投产 → 达效. A stage only moves forward; the three middle ones are the batches of a 三个一批 meeting.",
  valuesConfig: {
    RESERVE: { description: "储备: in the project library (项目库), prepared but not yet signed." },
    SIGNED: { description: "签约: the investment agreement is signed." },
    STARTED: { description: "开工: construction has started." },
    IN_PRODUCTION: { description: "投产: the project is in production (or in service)." },
    EFFECTIVE: { description: "达效: in production and a yearly output report reached its designed annual output (reached by `reportOutput`, not by `advanceStage`)." },
  },
});

/** Stages in lifecycle order. */
export const STAGES: readonly ProjectStage[] = [ProjectStage.RESERVE, ProjectStage.SIGNED, ProjectStage.STARTED, ProjectStage.IN_PRODUCTION, ProjectStage.EFFECTIVE];

/** The stages a 三个一批 meeting presents, each its batch (签约一批, 开工一批, 投产一批), in order. */
export const BATCH_STAGES: readonly ProjectStage[] = [ProjectStage.SIGNED, ProjectStage.STARTED, ProjectStage.IN_PRODUCTION];

/**
 * The number the database stores for each stage, in lifecycle order. The first three stages the ledger had were
 * stored as 1, 2, 3; the two added around them are 0 and 4, so that no stored row changed.
 */
const STAGE_NUMBERS: Readonly<Record<ProjectStage, number>> = {
  [ProjectStage.RESERVE]: 0,
  [ProjectStage.SIGNED]: 1,
  [ProjectStage.STARTED]: 2,
  [ProjectStage.IN_PRODUCTION]: 3,
  [ProjectStage.EFFECTIVE]: 4,
};

/** The stored numbers in lifecycle order (0..4). */
export const STAGE_NUMBER_LIST: readonly number[] = STAGES.map((stage) => STAGE_NUMBERS[stage]);

/** The stages' names in Chinese, as the meeting report writes them (import accepts them; exports can write them). */
export const STAGE_NAMES_ZH: Readonly<Record<ProjectStage, string>> = {
  [ProjectStage.RESERVE]: "储备",
  [ProjectStage.SIGNED]: "签约",
  [ProjectStage.STARTED]: "开工",
  [ProjectStage.IN_PRODUCTION]: "投产",
  [ProjectStage.EFFECTIVE]: "达效",
};

/** The stored number of a stage (RESERVE 0, SIGNED 1, STARTED 2, IN_PRODUCTION 3, EFFECTIVE 4). */
export function stageToNumber(stage: ProjectStage): number {
  const value = STAGE_NUMBERS[stage];
  invariant(value !== undefined, () => `no stage ${JSON.stringify(stage)}`);
  return value;
}

/** The stage of a stored number. */
export function stageFromNumber(value: number): ProjectStage {
  const stage = STAGES[Number(value)];
  invariant(stage, () => `no stage numbered ${value}`);
  return stage;
}

/** The stage of a name in English (SIGNED) or Chinese (签约), or of a batch's Chinese name (签约一批); undefined for anything else. */
export function stageOfName(name: string): ProjectStage | undefined {
  const text = name.trim();
  const upper = text.toUpperCase();
  if ((STAGES as readonly string[]).includes(upper)) return upper as ProjectStage;
  const bare = text.replace(/一批$/, "");
  return STAGES.find((stage) => STAGE_NAMES_ZH[stage] === bare);
}
