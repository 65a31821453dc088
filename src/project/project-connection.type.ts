import { Field, ObjectType } from "type-graphql";

import { PageInfo } from "../common/pagination";
import type { ProjectFilter } from "../filter/project-filter.input";
import type { ProjectScope } from "../filter/project-scope";

import { Project } from "./project.type";

@ObjectType({ description: "A project with its cursor." })
export class ProjectEdge {
  @Field({ description: "Opaque cursor of this item; pass it as `after` to continue after it." })
  cursor: string;

  @Field(() => Project, { description: "The project." })
  node: Project;
}

@ObjectType({ description: "A page of projects (Relay cursor connection)." })
export class ProjectConnection {
  @Field(() => [ProjectEdge], { description: "The page's items with their cursors." })
  edges: ProjectEdge[];

  @Field(() => [Project], { description: "The page's items, without cursors." })
  nodes: Project[];

  @Field(() => PageInfo, { description: "Where this page sits in the whole list." })
  pageInfo: PageInfo;

  /** What the list is over, for totalCount. */
  totalOf: { scope: ProjectScope; filter?: ProjectFilter | null };
}
