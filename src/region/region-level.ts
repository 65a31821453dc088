import { registerEnumType } from "type-graphql";

/** Administrative level of a region: the GraphQL enum, and the value stored in `region.level`. */
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
