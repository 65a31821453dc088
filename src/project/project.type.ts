import { Arg, ArgsType, Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";

import { DateScalar } from "../common/date.scalar";
import { fromWan, MoneyUnit, UNIT_ARG } from "../common/money";
import { PageInfo } from "../common/pagination";
import { ProjectStage, stageFromNumber } from "../common/stage";
import type { ProjectScope } from "../filter/project-scope";
import { ProjectFilter } from "../filter/project-filter.input";

/** A `project` row as the read queries select it. */
export interface ProjectRow {
  id: number;
  name: string;
  region_id: number;
  sector_id: number;
  stage: number;
  investment_wan: number | string;
  investor: string | null;
  synthetic: number | boolean;
  version: number;
}

/** The columns of ProjectRow, for SELECT lists. */
export const PROJECT_COLUMNS = "p.id, p.name, p.region_id, p.sector_id, p.stage, p.investment_wan, p.investor, p.synthetic, p.version";

@ObjectType({ description: "One major investment project (重大项目) in a region's ledger." })
export class Project {
  regionId: number;
  sectorId: number;
  private wan: number;

  @Field(() => ID, { description: "Stable identifier." })
  id: string;

  @Field({ description: "Project name." })
  name: string;

  @Field(() => ProjectStage, { description: "Current stage: the stage of its latest milestone." })
  stage: ProjectStage;

  @Field(() => String, { nullable: true, description: "Investor (投资方), when known." })
  investor: string | null;

  @Field({ description: "True for generated rows whose individual figures were not published." })
  synthetic: boolean;

  @Field(() => Int, { description: "Incremented on every change; writes that name an older version fail with CONFLICT." })
  version: number;

  @Field(() => Float, { description: "Total planned investment (总投资), exact." })
  investment(@Arg("unit", () => MoneyUnit, UNIT_ARG) unit: MoneyUnit | null): number {
    return fromWan(this.wan, unit ?? undefined);
  }

  /** Raw investment in 万元, for cursors and sorting. */
  get investmentWan(): number {
    return this.wan;
  }

  static fromRow(row: ProjectRow): Project {
    const project = new Project();
    project.id = String(row.id);
    project.name = row.name;
    project.regionId = Number(row.region_id);
    project.sectorId = Number(row.sector_id);
    project.stage = stageFromNumber(Number(row.stage));
    project.wan = Number(row.investment_wan);
    project.investor = row.investor;
    project.synthetic = Boolean(Number(row.synthetic));
    project.version = Number(row.version);
    return project;
  }
}

/** A `milestone` row. */
export interface MilestoneRow {
  project_id: number;
  stage: number;
  reached_on: string;
  meeting_id: number | null;
  venue_region_id: number | null;
}

@ObjectType({ description: "A ledger entry (台账记录): the project reached a stage on a date, optionally presented at a meeting venue." })
export class Milestone {
  meetingId: number | null;
  venueRegionId: number | null;

  @Field(() => ProjectStage, { description: "The stage reached." })
  stage: ProjectStage;

  @Field(() => DateScalar, { description: "The date it was reached." })
  reachedOn: string;

  static fromRow(row: MilestoneRow): Milestone {
    const milestone = new Milestone();
    milestone.stage = stageFromNumber(Number(row.stage));
    milestone.reachedOn = String(row.reached_on).slice(0, 10);
    milestone.meetingId = row.meeting_id === null ? null : Number(row.meeting_id);
    milestone.venueRegionId = row.venue_region_id === null ? null : Number(row.venue_region_id);
    return milestone;
  }
}

/** Fields a project list can be ordered by. */
export enum ProjectOrderField {
  NAME = "NAME",
  INVESTMENT = "INVESTMENT",
  STAGE = "STAGE",
}

registerEnumType(ProjectOrderField, {
  name: "ProjectOrderField",
  description: "What a project list is ordered by; ties are broken by id, so pages are stable.",
  valuesConfig: {
    NAME: { description: "Project name (the database's collation)." },
    INVESTMENT: { description: "Total planned investment." },
    STAGE: { description: "Current stage, in lifecycle order (SIGNED first)." },
  },
});

/** Sort direction. */
export enum OrderDirection {
  ASC = "ASC",
  DESC = "DESC",
}

registerEnumType(OrderDirection, {
  name: "OrderDirection",
  description: "Sort direction.",
  valuesConfig: { ASC: { description: "Smallest first." }, DESC: { description: "Largest first." } },
});

@InputType({ description: "Order of a project list. Without one, lists are in id order." })
export class ProjectOrder {
  @Field(() => ProjectOrderField, { description: "The field to order by." })
  field: ProjectOrderField;

  @Field(() => OrderDirection, { nullable: true, defaultValue: OrderDirection.ASC, description: "Direction; ASC unless given (null also means ASC)." })
  direction?: OrderDirection | null;
}

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
