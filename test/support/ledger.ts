import type { DataSource } from "typeorm";

import { bumpDataVersion } from "../../src/db/data-version";
import { applyToRollups } from "../../src/stats/rollups";

/**
 * Writes a ledger change the way every write path must: base tables, rollups
 * and data version in one transaction. (Mutations come in a later issue; the
 * tests that need projects to move on use this.)
 */
export async function advanceProjects(
  db: DataSource,
  projectIds: readonly number[],
  step: { stage: number; reachedOn: string; meetingId: number | null; venueRegionId: number | null },
): Promise<void> {
  await db.transaction(async (em) => {
    await applyToRollups(em, projectIds, -1);
    for (const id of projectIds) {
      await em.query("INSERT INTO milestone (project_id, stage, reached_on, meeting_id, venue_region_id) VALUES (?, ?, ?, ?, ?)", [
        id,
        step.stage,
        step.reachedOn,
        step.meetingId,
        step.venueRegionId,
      ]);
      await em.query("UPDATE project SET stage = ?, stage_reached_on = ?, version = version + 1 WHERE id = ?", [step.stage, step.reachedOn, id]);
    }
    await applyToRollups(em, projectIds, 1);
    await bumpDataVersion(em);
  });
}

/** A meeting hosted by a region (by code), with its main venue; returns its id. */
export async function createMeeting(db: DataSource, title: string, heldOn: string, hostCode: string): Promise<number> {
  return db.transaction(async (em) => {
    const [{ id: hostId }] = await em.query("SELECT id FROM region WHERE code = ?", [hostCode]);
    await em.query("INSERT INTO meeting (title, held_on, host_region_id) VALUES (?, ?, ?)", [title, heldOn, hostId]);
    const [{ id }] = await em.query("SELECT id FROM meeting WHERE title = ? AND held_on = ?", [title, heldOn]);
    await em.query("INSERT INTO venue (meeting_id, region_id, kind) VALUES (?, ?, 'MAIN')", [id, hostId]);
    await bumpDataVersion(em);
    return Number(id);
  });
}
