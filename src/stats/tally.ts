import { getOrCreate } from "../common/maps";
import { STAGE_NUMBER_LIST } from "../common/stage";

const newBucket = (): Bucket => new Bucket();

/** A project count and an exact investment sum in 万元. */
export class Bucket {
  count = 0;
  wan = 0;

  add(count: number, wan: number): void {
    this.count += count;
    this.wan += wan;
  }
}

/**
 * Aggregates over one scope: the totals, and the same split by (leaf) sector
 * and by current stage. Filled from grouped rows (region × sector × stage), so
 * its cost follows the number of groups, not of projects.
 */
export class Tally {
  readonly total = new Bucket();
  /** By the sector a project is classified under (any level). */
  readonly sectors = new Map<number, Bucket>();
  /** By stored stage number (0..4: RESERVE … EFFECTIVE). */
  readonly stages: Bucket[] = STAGE_NUMBER_LIST.map(() => new Bucket());

  add(sectorId: number, stage: number, count: number, wan: number): void {
    this.total.add(count, wan);
    getOrCreate(this.sectors, sectorId, newBucket).add(count, wan);
    this.stages[stage].add(count, wan);
  }
}
