/** Plain rows the seeding code writes; shared by the generators and the loader. */
import type { RegionLevel } from "../region/region-level";

export type StageName = "SIGNED" | "STARTED" | "IN_PRODUCTION";

/** One administrative division, as in `data/henan-divisions.json`. */
export interface RegionSeed {
  code: string;
  name: string;
  level: RegionLevel;
  parentCode: string | null;
}

/** One sector; `parentCode` null for a top-level sector. */
export interface SectorSeed {
  code: string;
  name: string;
  parentCode: string | null;
}

/** One step of a project's ledger history. */
export interface MilestoneSeed {
  stage: StageName;
  /** ISO date, YYYY-MM-DD. */
  reachedOn: string;
  /** True when the milestone was presented at the seeded meeting (one of its batches). */
  atMeeting: boolean;
  /** Region code of the venue where it was presented; set exactly when `atMeeting`. */
  venueRegionCode: string | null;
}

/** One project with its whole history; the current stage is the last milestone's. */
export interface ProjectSeed {
  /** Stable ledger reference, unique; makes seeding idempotent. */
  ref: string;
  name: string;
  regionCode: string;
  sectorCode: string;
  /** Exact total investment in 万元 (1 亿元 = 10,000 万元). */
  investmentWan: number;
  investor: string | null;
  synthetic: boolean;
  /** In stage order, strictly increasing stages, non-decreasing dates. */
  milestones: MilestoneSeed[];
}

/** A campaign meeting with its venues and the projects presented at it. */
export interface MeetingSeed {
  title: string;
  heldOn: string;
  hostRegionCode: string;
  /** Regions holding sub-venues; the main venue is at the host region. */
  subVenueRegionCodes: string[];
  /** A major-project meeting: its STARTED batch takes only projects of at least 5 亿元. */
  majorProjects: boolean;
  projects: ProjectSeed[];
}
