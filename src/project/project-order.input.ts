import { Field, InputType, registerEnumType } from "type-graphql";

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
    STAGE: { description: "Current stage, in lifecycle order (RESERVE first, EFFECTIVE last)." },
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
