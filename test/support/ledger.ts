import type { DataSource } from "typeorm";

import { authenticate, createToken } from "../../src/auth/tokens";
import { AppError } from "../../src/common/errors";
import { ProjectStage, stageFromNumber } from "../../src/common/stage";
import { type Actor, actorOf, SYSTEM_ACTOR } from "../../src/ledger/actor";
import type { Ledger } from "../../src/ledger/ledger";
import { AdvanceStageInput } from "../../src/ledger/ledger.inputs";
import { Problems } from "../../src/ledger/problems";
import { systemLedger } from "../../src/ledger/system-ledger";
import { seedDatabase } from "../../src/seed/seed";
import { type DbKind, openScratchDataSource, type ScratchDatabase } from "./databases";

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

/** The error `promise` rejects with, as an AppError (fails the test if it resolves, or rejects with anything else). */
export async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

/** A migrated and seeded scratch database of `kind`, its system ledger, and a write token of one region as an Actor. */
export async function seededLedger(kind: DbKind, regionCode: string, office: string): Promise<{ scratch: ScratchDatabase; db: DataSource; ledger: Ledger; actor: Actor; token: string }> {
  const { scratch, db } = await openScratchDataSource(kind);
  await db.runMigrations({ transaction: "each" });
  await seedDatabase(db);
  const { token } = await createToken(db, { regionCode, name: office });
  const actor = actorOf((await authenticate(db, `Bearer ${token}`))!);
  return { scratch, db, ledger: systemLedger(db), actor, token };
}
