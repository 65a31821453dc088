import type { GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";

import { MeetingBatchResolver, MeetingResolver, VenueResolver } from "../meeting/meeting.resolver";
import { MilestoneResolver, ProjectConnectionResolver, ProjectResolver } from "../project/project.resolver";
import { RegionResolver } from "../region/region.resolver";
import { SectorResolver } from "../sector/sector.resolver";
import { LedgerResolver, ProjectChangeResolver, ProjectHistoryResolver, RegionChangesResolver } from "../ledger/ledger.resolver";
import { BreakdownResolver } from "../stats/breakdown.resolver";
import { installDirectResolvers } from "./fast-resolvers";

/** Every resolver class of the API. */
export const RESOLVERS = [
  RegionResolver,
  SectorResolver,
  ProjectResolver,
  MilestoneResolver,
  ProjectConnectionResolver,
  MeetingResolver,
  VenueResolver,
  MeetingBatchResolver,
  BreakdownResolver,
  LedgerResolver,
  ProjectHistoryResolver,
  RegionChangesResolver,
  ProjectChangeResolver,
] as const;

/** Builds the executable schema from the resolver classes (code first), with direct resolvers on the hot fields. */
export async function buildAppSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: RESOLVERS,
    // Filters are validated once per distinct filter by the loaders (resolveFilter), not on every field that takes one.
    validate: false,
  });
  return installDirectResolvers(schema);
}
