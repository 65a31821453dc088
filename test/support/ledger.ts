import type { DataSource } from "typeorm";

import { ProjectStage, stageFromNumber } from "../../src/common/stage";
import { SYSTEM_ACTOR } from "../../src/ledger/actor";
import { AdvanceStageInput } from "../../src/ledger/ledger.inputs";
import { Problems } from "../../src/ledger/problems";
import { systemLedger } from "../../src/ledger/system-ledger";

/**
 * Moves projects on through the ledger, as the operator would: one
 * transaction, every rule checked, rollups, history and versions kept.
 */
export async function advanceProjects(
  db: DataSource,
  projectIds: readonly number[],
  step: { stage: number; reachedOn: string; meetingId: number | null; venueRegionId: number | null },
): Promise<void> {
  const venue: Array<{ code: string }> = step.venueRegionId === null ? [] : await db.query("SELECT code FROM region WHERE id = ?", [step.venueRegionId]);
  await systemLedger(db).write(SYSTEM_ACTOR, async (tx) => {
    for (const id of projectIds) {
      const [{ version }] = await tx.read<{ version: number }>("SELECT version FROM project WHERE id = ?", [id]);
      const input = Object.assign(new AdvanceStageInput(), {
        projectId: String(id),
        stage: stageFromNumber(step.stage) as ProjectStage,
        reachedOn: step.reachedOn,
        meetingId: step.meetingId === null ? null : String(step.meetingId),
        venueRegionCode: venue[0]?.code ?? null,
        expectedVersion: Number(version),
      });
      await tx.advanceStage(input, new Problems());
    }
  });
}

/** A meeting hosted by a region (by code), with its main venue and any sub-venues; returns its id. */
export async function createMeeting(db: DataSource, title: string, heldOn: string, hostCode: string, subVenueRegionCodes: string[] = []): Promise<number> {
  const written = await systemLedger(db).createMeeting(SYSTEM_ACTOR, { title, heldOn, hostRegionCode: hostCode, subVenueRegionCodes });
  return written.value;
}
