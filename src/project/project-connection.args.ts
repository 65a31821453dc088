import { ArgsType, Field, Int } from "type-graphql";

import { ProjectFilter } from "../filter/project-filter.input";

import { ProjectOrder } from "./project-order.input";

/** The arguments of every project connection. */
@ArgsType()
export class ProjectConnectionArgs {
  @Field(() => ProjectFilter, { nullable: true, description: "Only projects matching all these conditions." })
  filter?: ProjectFilter | null;

  @Field(() => Int, { nullable: true, defaultValue: 20, description: "Page size, 1 to 100." })
  first?: number | null;

  @Field(() => String, { nullable: true, description: "Return the items after this cursor (a previous page's endCursor)." })
  after?: string | null;

  @Field(() => ProjectOrder, { nullable: true, description: "Order of the list; id order unless given." })
  orderBy?: ProjectOrder | null;
}
