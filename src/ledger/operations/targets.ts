/**
 * Setting a region's target (目标亮相): for one stage and one period (a year,
 * or one quarter of it), a number of projects (optional) and an investment.
 * Only an office above the region sets it: the token's region must be a
 * strict ancestor of the target's (the province sets its cities' and
 * counties', a city its counties'; no office sets its own). Setting it again
 * replaces it; the history records each change from → to, with no project.
 */
import { amountProblem } from "../../common/money";
import { ProjectStage, STAGES, stageToNumber } from "../../common/stage";
import { checkPeriod, periodLabel, storedQuarter } from "../../assessment/period";
import type { Actor } from "../actor";
import { fieldChange, formatWan, type FieldChange } from "../history";
import type { Problems } from "../problems";
import { ForbiddenError } from "../rules";
import type { WriteTx } from "./write-tx";

/** Largest target investment, in 亿元 (100 万亿元: more than any province's yearly investment). */
export const MAX_TARGET_INVESTMENT_YI = 1_000_000;
/** Largest target count of projects. */
export const MAX_TARGET_COUNT = 1_000_000;

/** A target as setTarget's input gives it. */
export interface TargetInput {
  regionCode: string;
  stage: ProjectStage;
  year: number;
  quarter?: number | null;
  count?: number | null;
  /** 亿元. */
  investment: number;
  /** The seed's illustrative layer only (src/seed/synthetic-layer.ts): marks the target as made up. */
  synthetic?: boolean;
}

/** The target set: which region, stage and period. */
export interface TargetKey {
  regionId: number;
  stage: ProjectStage;
  year: number;
  quarter: number | null;
}

/** Checks and writes a target (insert, or replace the one of the same region, stage and period); returns what it set. */
export async function setTarget(tx: WriteTx, actor: Actor, input: TargetInput, problems: Problems, path = "input"): Promise<TargetKey> {
  const { regions } = tx.trees;
  const code = input.regionCode;
  const region = typeof code === "string" && /^\d{6}$/.test(code) ? regions.byCode(code) : undefined;
  if (typeof code !== "string" || !/^\d{6}$/.test(code)) problems.add(`${path}.regionCode`, `must be a six-digit region code (got ${JSON.stringify(code)?.slice(0, 80)})`);
  else if (!region) problems.add(`${path}.regionCode`, `no region "${code}"`);
  if (!STAGES.includes(input.stage)) problems.add(`${path}.stage`, `must be one of ${STAGES.join(", ")}`);
  checkPeriod(problems, path, input.year, input.quarter);
  const count = input.count ?? null;
  if (count !== null && (typeof count !== "number" || !Number.isInteger(count) || count < 0 || count > MAX_TARGET_COUNT)) {
    problems.add(`${path}.count`, `must be a whole number from 0 to ${MAX_TARGET_COUNT}, or null (got ${JSON.stringify(count)})`);
  }
  const investment = input.investment;
  const investmentReason = amountProblem(investment, { positive: false, maxYi: MAX_TARGET_INVESTMENT_YI });
  if (investmentReason) problems.add(`${path}.investment`, investmentReason);
  problems.throwIfAny();
  if (!region) throw new Error("region checked");

  // Only an office strictly above the region: the system (no scope) anywhere, a token in its subtree but not on itself.
  const scope = actor.scopeRegionId;
  const lineage = regions.lineageOf(region.id);
  const scopeRegion = scope === null ? undefined : regions.byId(scope);
  const scopeName = scopeRegion ? `${scopeRegion.name} (${scopeRegion.code})` : "its region";
  if (scope === region.id) {
    const above = lineage.length > 1 ? lineage[lineage.length - 2] : undefined;
    throw new ForbiddenError(
      `${actor.office} may not set the targets of its own region ${region.name} (${region.code}): they are set by an office above it${above ? `, ${above.name} (${above.code})` : ""}`,
      `${path}.regionCode`,
    );
  }
  if (scope !== null && !lineage.some((node) => node.id === scope)) {
    throw new ForbiddenError(
      `${actor.office} sets targets of the regions below ${scopeName} only, not of ${region.name} (${region.code})`,
      `${path}.regionCode`,
    );
  }

  const stage = stageToNumber(input.stage);
  const quarter = storedQuarter(input.quarter);
  const wan = Math.round(investment * 10_000);
  const lock = tx.mysql ? " FOR UPDATE" : "";
  const existing: Array<{ id: number; target_count: number | null; target_investment_wan: number | string }> = await tx.query(
    `SELECT id, target_count, target_investment_wan FROM assessment_target WHERE region_id = ? AND stage = ? AND year = ? AND quarter = ?${lock}`,
    [region.id, stage, input.year, quarter],
  );
  const before = existing[0];
  const beforeCount = before ? (before.target_count === null ? null : Number(before.target_count)) : null;
  const beforeWan = before ? Number(before.target_investment_wan) : null;
  const name = `targets.${input.stage}.${periodLabel({ year: input.year, quarter: input.quarter ?? null })}`;
  const fields: FieldChange[] = [];
  // A new target without a count records no `count: null → null`: only what changed.
  if (before ? beforeCount !== count : count !== null) fields.push(fieldChange(`${name}.count`, beforeCount === null ? null : String(beforeCount), count === null ? null : String(count)));
  if (!before || beforeWan !== wan) fields.push(fieldChange(`${name}.investment`, beforeWan === null ? null : formatWan(beforeWan), formatWan(wan)));
  const key = { regionId: region.id, stage: input.stage, year: input.year, quarter: input.quarter ?? null };
  // The same target again changes nothing: no row, no history, no version.
  if (fields.length === 0) return key;

  const setAt = new Date().toISOString();
  if (before) {
    await tx.queue("UPDATE assessment_target SET target_count = ?, target_investment_wan = ?, set_at = ?, set_by = ?, synthetic = ? WHERE id = ?", [count, wan, setAt, actor.office, input.synthetic ? 1 : 0, before.id]);
  } else {
    await tx.queue(
      "INSERT INTO assessment_target (region_id, stage, year, quarter, target_count, target_investment_wan, set_at, set_by, synthetic) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      [region.id, stage, input.year, quarter, count, wan, setAt, actor.office, input.synthetic ? 1 : 0],
    );
  }
  tx.touch(region.id);
  tx.record({ operation: "SET_TARGET", projectId: null, meetingId: null, projectVersion: null, regionId: region.id, fields, reason: null });
  return key;
}
