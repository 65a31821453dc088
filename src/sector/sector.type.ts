import { Field, ID, ObjectType } from "type-graphql";

import { CodeTree } from "../common/tree";

/** One industry field as the API serves it; loaded whole per request into a SectorTree. */
@ObjectType({ simpleResolvers: true, description: "An industry field (产业领域) a project belongs to; sectors form a small two-level tree." })
export class Sector {
  id: number;
  parentId: number | null;

  @Field(() => ID, { description: "Stable code, e.g. MFG 先进制造业, SEI_BIO 生物医药." })
  code: string;

  @Field({ description: "Name, e.g. 先进制造业." })
  name: string;
}

/** The whole sector tree of one request. */
export type SectorTree = CodeTree<Sector>;
