import { AssessmentTargetEntity } from "../assessment/assessment-target.entity";
import { ApiTokenEntity } from "../auth/token.entity";
import { MeetingEntity } from "../meeting/meeting.entity";
import { VenueEntity } from "../meeting/venue.entity";
import { MilestoneEntity } from "../project/milestone.entity";
import { ProjectEntity } from "../project/project.entity";
import { RegionEntity } from "../region/region.entity";
import { SectorEntity } from "../sector/sector.entity";
import { LedgerChangeEntity } from "../ledger/ledger-change.entity";
import { FactorIssueEntity } from "../factor/factor-issue.entity";
import { OutputReportEntity } from "../output/output-report.entity";
import { DataVersionEntity, RollupBatchEntity, RollupMeetingEntity, RollupRegionEntity } from "../stats/rollup.entity";

/** Every entity of the product, for the DataSource. */
export const ENTITIES = [
  RegionEntity,
  SectorEntity,
  MeetingEntity,
  VenueEntity,
  ProjectEntity,
  MilestoneEntity,
  RollupRegionEntity,
  RollupMeetingEntity,
  RollupBatchEntity,
  DataVersionEntity,
  ApiTokenEntity,
  LedgerChangeEntity,
  FactorIssueEntity,
  AssessmentTargetEntity,
  OutputReportEntity,
];
