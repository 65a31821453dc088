import { Field, ID, ObjectType } from "type-graphql";

import { CodeTree } from "../common/tree";

import { RegionLevel } from "./region-level";

/** One administrative division as the API serves it; loaded whole per request into a RegionTree. */
@ObjectType({ simpleResolvers: true, description: "An administrative division (行政区划): a province, a city or a county, identified by its GB/T 2260 code." })
export class Region {
  id: number;
  parentId: number | null;

  @Field(() => ID, { description: "GB/T 2260 six-digit code, e.g. 410000 河南省, 410100 郑州市, 410102 中原区." })
  code: string;

  @Field({ description: "Official name, e.g. 郑州市." })
  name: string;

  @Field(() => RegionLevel, { description: "Administrative level." })
  level: RegionLevel;
}

/** The whole region tree of one request. */
export type RegionTree = CodeTree<Region>;
