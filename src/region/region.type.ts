import { Field, ID, ObjectType, registerEnumType } from "type-graphql";

import { CodeTree } from "../common/tree";

/** Administrative level of a region. */
export enum RegionLevel {
  PROVINCE = "PROVINCE",
  CITY = "CITY",
  COUNTY = "COUNTY",
}

registerEnumType(RegionLevel, {
  name: "RegionLevel",
  description: "Administrative level of a region.",
  valuesConfig: {
    PROVINCE: { description: "省级: a province, autonomous region or municipality." },
    CITY: { description: "地级: a prefecture-level city (省辖市), or a city directly under the province such as 济源示范区." },
    COUNTY: { description: "县级: a county, county-level city or city district (县/县级市/市辖区)." },
  },
});

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
