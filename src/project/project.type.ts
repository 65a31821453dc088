import { Arg, Field, Float, ID, Int, ObjectType } from "type-graphql";

import { fromWan, MoneyUnit, UNIT_ARG } from "../common/money";
import { ProjectStage, stageFromNumber } from "../common/stage";

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
