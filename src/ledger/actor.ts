import type { Viewer } from "../auth/tokens";

/** Who makes a change, as the ledger checks and records it. */
export interface Actor {
  /** The token; null for the system (seed, benchmark generator, operator's command-line tools). */
  tokenId: number | null;
  /** Named in the history: the office holding the token, or "system". */
  office: string;
  /** The region whose subtree the actor may write; null for everywhere. */
  scopeRegionId: number | null;
}

/** The operator's own tools: may write anywhere, recorded as "system". */
export const SYSTEM_ACTOR: Actor = { tokenId: null, office: "system", scopeRegionId: null };

/** The actor of a request made with a token. */
export function actorOf(viewer: Viewer): Actor {
  return { tokenId: viewer.tokenId, office: viewer.office, scopeRegionId: viewer.regionId };
}
