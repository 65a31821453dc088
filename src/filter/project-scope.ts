/**
 * What a set of projects is taken from before the client's filter narrows it:
 * everything, a region's subtree, a sector's subtree, or one batch of a
 * meeting (optionally at one venue). A list of projects and the aggregates over
 * it (its `totalCount`, a region's `stats`) share one scope.
 */
export type ProjectScope =
  | { kind: "all" }
  | { kind: "region"; regionId: number }
  | { kind: "sector"; sectorId: number }
  | { kind: "batch"; meetingId: number; stage: number; venueRegionId: number | null };

/** A stable string for a scope, for cache keys and lookups. */
export function scopeKey(scope: ProjectScope): string {
  switch (scope.kind) {
    case "all":
      return "all";
    case "region":
      return `r${scope.regionId}`;
    case "sector":
      return `s${scope.sectorId}`;
    case "batch":
      return batchKey(scope.meetingId, scope.stage, scope.venueRegionId);
  }
}

/** Key of a meeting batch, all venues (`venueRegionId` null) or one venue. */
export function batchKey(meetingId: number, stage: number, venueRegionId: number | null): string {
  return `b${meetingId}:${stage}:${venueRegionId ?? "*"}`;
}
