import { Arg, Ctx, Query, Resolver } from "type-graphql";

import { ProjectFilter } from "../filter/project-filter.input";
import { RegionLevel } from "../region/region-level";
import type { Context } from "../common/context";
import { computeBreakdown } from "./breakdown";
import { BreakdownDimension, BreakdownRow } from "./breakdown.type";

@Resolver(() => BreakdownRow)
export class BreakdownResolver {
  @Query(() => [BreakdownRow], {
    description:
      "Flat rows grouped by the given dimensions. REGION groups at regionLevel (each project counts toward its ancestor at that level); grouping by MEETING or STAGE together with a meeting counts milestones (batch entries) instead of current stages. YEAR and QUARTER group by the date the project reached the stage named in filter.milestone.stage, or else its current stage. Rows are ordered by the dimensions in the order given, omit empty groups, and (where projects are counted) add up to `stats` of the same filter.",
  })
  breakdown(
    @Arg("groupBy", () => [BreakdownDimension], { description: "The dimensions to group by, in the order rows are sorted; none gives one total row." }) groupBy: BreakdownDimension[],
    @Arg("filter", () => ProjectFilter, { nullable: true, description: "Only projects matching all these conditions." }) filter: ProjectFilter | null,
    @Arg("regionLevel", () => RegionLevel, { nullable: true, defaultValue: RegionLevel.CITY, description: "The level REGION groups at; CITY unless given." }) regionLevel: RegionLevel | null,
    @Ctx() ctx: Context,
  ): Promise<BreakdownRow[]> {
    return computeBreakdown(ctx, { groupBy, filter, regionLevel: regionLevel ?? RegionLevel.CITY });
  }
}
