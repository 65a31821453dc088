import { registerEnumType } from "type-graphql";
import { invariant } from "./errors";

/** Project lifecycle stage; the numbers are what the database stores, in lifecycle order. */
export enum ProjectStage {
  SIGNED = "SIGNED",
  STARTED = "STARTED",
  IN_PRODUCTION = "IN_PRODUCTION",
}

registerEnumType(ProjectStage, {
  name: "ProjectStage",
  description: "Project lifecycle stage: 签约 → 开工 → 投产.",
  valuesConfig: {
    SIGNED: { description: "签约: the investment agreement is signed." },
    STARTED: { description: "开工: construction has started." },
    IN_PRODUCTION: { description: "投产: the project is in production (or in service)." },
  },
});

/** Stages in lifecycle order. */
export const STAGES: readonly ProjectStage[] = [ProjectStage.SIGNED, ProjectStage.STARTED, ProjectStage.IN_PRODUCTION];

/** The stored number of a stage (1, 2, 3). */
export function stageToNumber(stage: ProjectStage): number {
  return STAGES.indexOf(stage) + 1;
}

/** The stage of a stored number. */
export function stageFromNumber(value: number): ProjectStage {
  const stage = STAGES[Number(value) - 1];
  invariant(stage, () => `no stage numbered ${value}`);
  return stage;
}
