import type { CostModel } from "../../src/server/cost";

/**
 * The cost model of the shipped data (the Henan tree, the 2021-07-10 meeting), as the cost tests assume it; without
 * the rollups' groups, so a breakdown is bounded by its dimensions and the counts alone.
 */
export const MODEL: CostModel = {
  regions: 175,
  regionsByLevel: { PROVINCE: 1, CITY: 18, COUNTY: 156 },
  // What a breakdown by REGION can name: the province itself at CITY (a project of the province's own), every region at COUNTY.
  breakdownRegions: { PROVINCE: 1, CITY: 19, COUNTY: 175 },
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
