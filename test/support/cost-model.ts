import type { CostModel } from "../../src/server/cost";

/** The cost model of the shipped data (the Henan tree, the 2021-07-10 meeting), as the cost tests assume it. */
export const MODEL: CostModel = {
  regions: 175,
  regionsByLevel: { PROVINCE: 1, CITY: 18, COUNTY: 156 },
  maxRegionChildren: 20,
  regionDepth: 3,
  sectors: 12,
  maxSectorChildren: 5,
  meetings: 4,
  maxVenues: 7,
  maxMilestones: 3,
  years: 3,
  projects: 1337,
  milestones: 2000,
};
