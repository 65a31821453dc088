/**
 * How the subgraph finds an entity another subgraph refers to (`_entities`):
 * the keys of each entity type, and their `__resolveReference`. Every lookup
 * goes through what the plain API's own lookups use in the same request, so
 * any number of representations of one type costs what one does:
 * - Region and Sector: the request's region and sector trees (one statement
 *   for both, or none while the trees are cached across requests);
 * - Project and Meeting: the per-request DataLoaders of `project(id)` and
 *   `meeting(id)`, which read every id asked for in one tick with one
 *   `IN (…)` statement.
 * A key that names nothing (or is not a key at all) gives null for that
 * representation only; the others are still answered.
 */
import type { Context } from "../common/context";
import { parseId } from "../common/ids";
import { createMeetingLoader } from "../meeting/meeting.loaders";
import type { Meeting } from "../meeting/meeting.type";
import { createProjectLoader } from "../project/project.loaders";
import type { Project } from "../project/project.type";
import type { Region } from "../region/region.type";
import type { Sector } from "../sector/sector.type";

/** A representation as the router sends it: the type name and the key fields. */
export type Representation = { __typename: string } & Record<string, unknown>;

/** The key (`@key(fields: …)`) of each entity type of the subgraph. */
export const ENTITY_KEYS = {
  Region: "code",
  Sector: "code",
  Project: "id",
  Meeting: "id",
} as const;

export type EntityTypeName = keyof typeof ENTITY_KEYS;

/** A key value as sent: an ID arrives as a string (a router may also pass a number through). */
function keyOf(reference: Representation, field: string): string | null {
  const value = reference[field];
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isInteger(value)) return String(value);
  return null;
}

/** `__resolveReference` of each entity type, for `buildSubgraphSchema`'s resolver map. */
export const REFERENCE_RESOLVERS: Record<EntityTypeName, { __resolveReference(reference: Representation, ctx: Context): Promise<unknown> }> = {
  Region: {
    async __resolveReference(reference, ctx): Promise<Region | null> {
      const code = keyOf(reference, ENTITY_KEYS.Region);
      return code === null ? null : ((await ctx.regionTree()).byCode(code) ?? null);
    },
  },
  Sector: {
    async __resolveReference(reference, ctx): Promise<Sector | null> {
      const code = keyOf(reference, ENTITY_KEYS.Sector);
      return code === null ? null : ((await ctx.sectorTree()).byCode(code) ?? null);
    },
  },
  Project: {
    async __resolveReference(reference, ctx): Promise<Project | null> {
      const id = parseId(keyOf(reference, ENTITY_KEYS.Project));
      return id === null ? null : ctx.loader(createProjectLoader).load(id);
    },
  },
  Meeting: {
    async __resolveReference(reference, ctx): Promise<Meeting | null> {
      const id = parseId(keyOf(reference, ENTITY_KEYS.Meeting));
      return id === null ? null : ctx.loader(createMeetingLoader).load(id);
    },
  },
};
