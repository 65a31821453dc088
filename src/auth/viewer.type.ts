import { Field, ID, ObjectType } from "type-graphql";

import { Region } from "../region/region.type";

@ObjectType({ description: "The office a bearer token belongs to, and what it may write: every project and meeting in `region`'s whole subtree." })
export class ViewerInfo {
  regionId: number;

  @Field(() => ID, { description: "The token's id (as `npm run token -- list` shows it); never the token itself." })
  tokenId: string;

  @Field({ description: "The office holding the token, e.g. 郑州市发改委; the history names it for every change it makes." })
  office: string;

  @Field(() => Region, { description: "The region whose whole subtree the token may write: a county token its county, a city token its city, a province token everything in the province." })
  region: Region;
}
