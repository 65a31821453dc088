import { Arg, Field, Float, ID, Int, ObjectType } from "type-graphql";

import { NotFoundError } from "../common/errors";
import { fromWan, MoneyUnit, UNIT_ARG } from "../common/money";
import { ProjectStage, STAGES, stageToNumber } from "../common/stage";
import { compareCodes } from "../common/tree";
import { Sector, type SectorTree } from "../sector/sector.type";
import { Bucket, type Tally } from "./tally";
import { getOrCreate } from "../common/maps";

const newBucket = () => new Bucket();


/**
 * A count of projects and their total investment: what every row of
 * aggregates carries. Decorated so that type-graphql passes its fields on to
 * the row types; it is reachable from no field, so the schema has no type of its own for it.
 */
@ObjectType()
export abstract class Share {
  constructor(bucket: Bucket) {
    this.projectCount = bucket.count;
    this.wan = bucket.wan;
  }

  private readonly wan: number;

  @Field(() => Int, { description: "Number of projects in this row." })
  projectCount: number;

  @Field(() => Float, { description: "Total planned investment of those projects (exact; summed in 万元)." })
  totalInvestment(@Arg("unit", () => MoneyUnit, UNIT_ARG) unit: MoneyUnit | null): number {
    return fromWan(this.wan, unit ?? undefined);
  }
}

/** One sector's share of a set of aggregates. */
@ObjectType({ simpleResolvers: true, description: "A sector's share of the aggregates; the sector's row includes its sub-sectors." })
export class SectorStats extends Share {
  constructor(sector: Sector, bucket: Bucket) {
    super(bucket);
    this.sector = sector;
  }

  @Field(() => Sector, { description: "The sector." })
  sector: Sector;
}

/** One stage's share of a set of aggregates. */
@ObjectType({ simpleResolvers: true, description: "A current stage's share of the aggregates." })
export class StageStats extends Share {
  constructor(stage: ProjectStage, bucket: Bucket) {
    super(bucket);
    this.stage = stage;
  }

  @Field(() => ProjectStage, { description: "The projects' current stage." })
  stage: ProjectStage;
}

/** Aggregates over the projects in a scope; built from a Tally. */
@ObjectType({
  simpleResolvers: true,
  description:
    "Aggregates over the projects in scope. Breakdown rows are ordered by code or stage and omit empty groups. A project is counted once; breakdown rows add up to the totals.",
})
export class ProjectStats {
  constructor(
    private readonly tally: Tally,
    private readonly sectors: SectorTree,
  ) {
    this.projectCount = tally.total.count;
  }

  /** Breakdown rows, built once per parentCode: a ProjectStats may serve many requests from the shared cache. */
  private readonly sectorRows = new Map<string, SectorStats[]>();
  private stageRows: StageStats[] | undefined;

  @Field(() => Int, { description: "Number of projects." })
  projectCount: number;

  @Field(() => Float, { description: "Total planned investment (exact; summed in 万元)." })
  totalInvestment(@Arg("unit", () => MoneyUnit, UNIT_ARG) unit: MoneyUnit | null): number {
    return fromWan(this.tally.total.wan, unit ?? undefined);
  }

  @Field(() => [SectorStats], {
    description:
      "One row per top-level sector by default; a sector's row includes its sub-sectors. With `parentCode`, one row per child of that sector instead (plus a row for the parent itself when projects are classified directly under it).",
  })
  bySector(
    @Arg("parentCode", () => ID, { nullable: true, description: "Break this sector down into its children instead of listing top-level sectors." })
    parentCode?: string | null,
  ): SectorStats[] {
    return getOrCreate(this.sectorRows, parentCode ?? "", () => this.sectorBreakdown(parentCode ?? null));
  }

  @Field(() => [StageStats], { description: "One row per current stage, in lifecycle order." })
  byStage(): StageStats[] {
    return (this.stageRows ??= STAGES.map((stage) => new StageStats(stage, this.tally.stages[stageToNumber(stage)])).filter((row) => row.projectCount > 0));
  }

  private sectorBreakdown(parentCode: string | null): SectorStats[] {
    let depth = 0;
    let parent: Sector | undefined;
    if (parentCode != null) {
      parent = this.sectors.byCode(parentCode);
      if (!parent) throw new NotFoundError("bySector.parentCode", "sector", parentCode);
      depth = this.sectors.lineageOf(parent.id).length;
    }
    const rows = new Map<Sector, Bucket>();
    for (const [sectorId, bucket] of this.tally.sectors) {
      const lineage = this.sectors.lineageOf(sectorId);
      if (parent && lineage[depth - 1] !== parent) continue;
      const group = lineage[depth] ?? lineage[depth - 1];
      if (!group || bucket.count === 0) continue;
      getOrCreate(rows, group, newBucket).add(bucket.count, bucket.wan);
    }
    return [...rows]
      .sort(([a], [b]) => compareCodes(a.code, b.code))
      .map(([sector, bucket]) => new SectorStats(sector, bucket));
  }
}
