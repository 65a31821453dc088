import type { GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";

import { MeetingBatchResolver, MeetingResolver, VenueResolver } from "../meeting/meeting.resolver";
import { MilestoneResolver, ProjectConnectionResolver, ProjectResolver } from "../project/project.resolver";
import { RegionResolver } from "../region/region.resolver";
import { SectorResolver } from "../sector/sector.resolver";
import { LedgerResolver, ProjectChangeResolver, ProjectHistoryResolver, RegionChangesResolver } from "../ledger/ledger.resolver";
import { BreakdownResolver } from "../stats/breakdown.resolver";
import { FunnelResolver } from "../stats/funnel";
import { buildSubgraph } from "../federation/subgraph";
import { LiveResolver } from "../live/live.resolver";
import { FactorIssueResolver, ProjectFactorIssuesResolver, RegionFactorIssuesResolver } from "../factor/factor-issue.resolver";
import { AssessmentResolver, RegionAssessmentResolver } from "../assessment/assessment.resolver";
import { OutputMutationResolver, ProjectOutputResolver, RegionOutputResolver } from "../output/output.resolver";
import { OutputBreakdownResolver } from "../output/output-breakdown";
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
  FunnelResolver,
  LedgerResolver,
  ProjectHistoryResolver,
  RegionChangesResolver,
  ProjectChangeResolver,
  LiveResolver,
  FactorIssueResolver,
  ProjectFactorIssuesResolver,
  RegionFactorIssuesResolver,
  RegionAssessmentResolver,
  AssessmentResolver,
  OutputMutationResolver,
  ProjectOutputResolver,
  RegionOutputResolver,
  OutputBreakdownResolver,
] as const;

/**
 * type-graphql asks for a PubSub as soon as one @Subscription exists; the
 * subscriptions here name their own `subscribe` and are run by the live hub
 * (src/live/live-hub.ts), so nothing is ever published through this one.
 */
const NO_PUB_SUB = {
  publish: () => undefined,
  subscribe: (): AsyncIterable<never> => {
    throw new Error("subscriptions are run by the live hub, not through type-graphql's PubSub");
  },
};

/** How to build the schema. */
export interface SchemaOptions {
  /** As an Apollo Federation 2 subgraph (FEDERATION): `_service`, `_entities` and `@key`s added (src/federation). */
  federation?: boolean;
}

/**
 * Builds the executable schema from the resolver classes (code first), with
 * direct resolvers on the hot fields; as a federation subgraph when asked,
 * the same types, resolvers and direct resolvers with the federation fields added.
 */
export async function buildAppSchema(options: SchemaOptions = {}): Promise<GraphQLSchema> {
  const schema = installDirectResolvers(
    await buildSchema({
      resolvers: RESOLVERS,
      pubSub: NO_PUB_SUB,
      // Filters are validated once per distinct filter by the loaders (resolveFilter), not on every field that takes one.
      validate: false,
    }),
  );
  // The subgraph carries every resolver over; installing the direct ones again checks that they all still apply.
  return options.federation ? installDirectResolvers(buildSubgraph(schema)) : schema;
}
