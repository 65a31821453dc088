/**
 * The ledger's rules that every operation shares, checked before a write
 * changes anything: dates in range, regions that may hold projects, sectors
 * that exist, where a milestone is presented (a meeting and its venue) with
 * the major-meeting rule, and the actor's scope. What is wrong with the input
 * goes to `Problems`, to be told all at once; a lack of scope is FORBIDDEN,
 * thrown once the input is right.
 */
import { AppError, ErrorCode } from "../common/errors";
import { isIsoDate } from "../common/date.scalar";
import { getOrCreate } from "../common/maps";
import { BATCH_STAGES, ProjectStage, STAGES, stageFromNumber, stageToNumber } from "../common/stage";
import type { Trees } from "../common/trees";
import { placeholders } from "../db/sql";
import type { Region, RegionTree } from "../region/region.type";
import type { Actor } from "./actor";
import { formatWan } from "./history";
import type { Problems } from "./problems";

/** Investment a major-project meeting's STARTED batch requires, in 万元 (5 亿元). */
export const MAJOR_STARTED_MIN_WAN = 50_000;
/** Earliest date the ledger accepts. */
export const EARLIEST_DATE = "1949-01-01";

/** What the date rule needs (part of `LedgerSettings`). */
export interface RuleSettings {
  /** How far ahead of today a date may lie, in days (LEDGER_FUTURE_DAYS). */
  futureDays: number;
  /** Today, for the date rule (tests pin it). */
  today?: () => string;
  /** 达效: output / designed annual output at which a report moves a project in production to EFFECTIVE (EFFECTIVE_THRESHOLD; default 1). */
  effectiveThreshold?: number;
}

/**
 * The stored number of a stage a project may be written at directly (created, imported, advanced to): every stage
 * but EFFECTIVE, which only an output report reaching the designed output gives (reportOutput); -1 for anything else.
 */
export function enteringStageNumber(stage: unknown): number {
  return STAGES.includes(stage as ProjectStage) && stage !== ProjectStage.EFFECTIVE ? stageToNumber(stage as ProjectStage) : -1;
}

/** Why `enteringStageNumber` refused a stage. */
export function enteringStageProblem(stage: unknown): string {
  return stage === ProjectStage.EFFECTIVE
    ? "EFFECTIVE (达效) is reached when a yearly output report reaches the designed annual output (reportOutput), not written directly"
    : `must be one of ${STAGES.filter((s) => s !== ProjectStage.EFFECTIVE).join(", ")} (got ${JSON.stringify(stage)})`;
}

/** A refusal for lack of scope: the actor's token does not cover what the write touches. */
export class ForbiddenError extends AppError {
  constructor(message: string, field: string) {
    super(ErrorCode.FORBIDDEN, message, { field });
  }
}

/** What the rules need of a meeting: its host, whether it is a major-project meeting, and the regions of its venues. */
export interface MeetingFacts {
  id: number;
  hostRegionId: number;
  majorProjects: boolean;
  venues: Set<number>;
}

/** The facts of the meetings `ids` (those that exist), 500 a statement. */
export async function readMeetingFacts(db: { query<T>(sql: string, params?: unknown[]): Promise<T> }, ids: Iterable<number>): Promise<Map<number, MeetingFacts>> {
  const list = [...new Set(ids)];
  const facts = new Map<number, MeetingFacts>();
  for (let i = 0; i < list.length; i += 500) {
    const chunk = list.slice(i, i + 500);
    const rows: Array<{ id: number; host_region_id: number; major_projects: number | boolean; region_id: number | null }> = await db.query(
      `SELECT m.id, m.host_region_id, m.major_projects, v.region_id FROM meeting m LEFT JOIN venue v ON v.meeting_id = m.id WHERE m.id IN (${placeholders(chunk.length)})`,
      chunk,
    );
    for (const row of rows) {
      const id = Number(row.id);
      const meeting = getOrCreate(facts, id, () => ({ id, hostRegionId: Number(row.host_region_id), majorProjects: Boolean(Number(row.major_projects)), venues: new Set<number>() }));
      if (row.region_id !== null) meeting.venues.add(Number(row.region_id));
    }
  }
  return facts;
}

/** Where a milestone is presented, as `Rules.placement` found it; `check` throws FORBIDDEN for a venue out of scope. */
export interface Placement {
  meetingId: number | null;
  venueRegionId: number | null;
  check: () => void;
}

/** The shared rules, for one actor on the trees of its write. */
export class Rules {
  constructor(
    private readonly actor: Actor,
    private readonly settings: RuleSettings,
    /** The write's trees (the seed reads them again after it changed them). */
    private readonly trees: () => Trees,
  ) {}

  private get regions(): RegionTree {
    return this.trees().regions;
  }

  private inScope(regionId: number): boolean {
    const scope = this.actor.scopeRegionId;
    return scope === null || this.regions.lineageOf(regionId).some((node) => node.id === scope);
  }

  private scopeName(): string {
    const scope = this.actor.scopeRegionId === null ? undefined : this.regions.byId(this.actor.scopeRegionId);
    return scope ? `${scope.name} (${scope.code})` : "everywhere";
  }

  /** Output / designed annual output at which an output report makes a project in production EFFECTIVE (EFFECTIVE_THRESHOLD, default 1). */
  get effectiveThreshold(): number {
    return this.settings.effectiveThreshold ?? 1;
  }

  /** Today as the date rule counts it (pinned in tests). */
  get today(): string {
    return this.settings.today?.() ?? new Date().toISOString().slice(0, 10);
  }

  /** A calendar date, not before EARLIEST_DATE nor more than `futureDays` after today. */
  checkDate(problems: Problems, field: string, value: string): void {
    if (typeof value !== "string" || !isIsoDate(value)) return problems.add(field, `must be a calendar date written YYYY-MM-DD (got ${JSON.stringify(value)})`);
    if (value < EARLIEST_DATE) return problems.add(field, `must not be before ${EARLIEST_DATE} (got ${value})`);
    const today = this.today;
    const latest = new Date(Date.parse(`${today}T00:00:00Z`) + this.settings.futureDays * 86_400_000).toISOString().slice(0, 10);
    if (value > latest) problems.add(field, `must not be after ${latest} (${this.settings.futureDays} days from today, LEDGER_FUTURE_DAYS; got ${value})`);
  }

  /**
   * The ledger's own checks of a project's place and date (the region exists
   * and may hold projects, the sector exists, the date is in range), for an
   * input whose other fields are wrong, so that all its problems are told at
   * once: problems only, nothing written. A null field is not checked.
   */
  checkPlace(problems: Problems, path: string, fields: { regionCode: string | null; sectorCode: string | null; reachedOn: string | null }): void {
    if (fields.regionCode !== null) this.projectRegion(problems, `${path}.regionCode`, fields.regionCode);
    if (fields.sectorCode !== null) this.sectorId(problems, `${path}.sectorCode`, fields.sectorCode);
    if (fields.reachedOn !== null) this.checkDate(problems, `${path}.reachedOn`, fields.reachedOn);
  }

  /** A region a project may sit in: a county, or a city without counties. */
  projectRegion(problems: Problems, field: string, code: string | null | undefined): Region | undefined {
    if (typeof code !== "string" || !/^\d{6}$/.test(code)) return undefined; // the field rules said why
    const region = this.regions.byCode(code);
    if (!region) {
      problems.add(field, `no region "${code}"`);
      return undefined;
    }
    if (this.regions.children(region.id).length > 0) {
      problems.add(field, `${region.name} (${code}) has regions below it: a project sits in a county, or in a city that has no counties`);
      return undefined;
    }
    return region;
  }

  sectorId(problems: Problems, field: string, code: string | null | undefined): number | undefined {
    if (typeof code !== "string") return void problems.add(field, "must be a sector code");
    const sector = this.trees().sectors.byCode(code);
    if (!sector) problems.add(field, `no sector "${code.slice(0, 64)}"`);
    return sector?.id;
  }

  /** FORBIDDEN unless the actor's scope holds `region`; the message names it as `what` (e.g. "a project in"). */
  forbidRegion(region: Region, field: string, what: string): void {
    if (!this.inScope(region.id)) throw new ForbiddenError(`${this.actor.office} may write in ${this.scopeName()} only, not ${what} ${region.name} (${region.code})`, field);
  }

  /**
   * Where a milestone is presented: the meeting and venue (checked to exist,
   * to be the host or a sub-venue, within the actor's scope), and the
   * major-meeting rule for its STARTED batch (a problem of `majorField`, the
   * input field the client would change). Problems go to `problems`; scope
   * is FORBIDDEN.
   */
  placement(
    problems: Problems,
    path: string,
    at: { meetingId: number | null; venueRegionCode: string | null; stage: number; investmentWan: number },
    meetings: Map<number, MeetingFacts>,
    majorField: string,
  ): Placement {
    const none = { meetingId: null, venueRegionId: null, check: () => undefined };
    if (at.meetingId === null) {
      if (at.venueRegionCode) problems.add(`${path}.venueRegionCode`, "a venue needs a meeting: give meetingId too");
      return none;
    }
    if (!BATCH_STAGES.some((stage) => stageToNumber(stage) === at.stage)) {
      const name = STAGES.some((stage) => stageToNumber(stage) === at.stage) ? stageFromNumber(at.stage) : "this stage";
      problems.add(`${path}.meetingId`, `${name} is not presented at a meeting: a 三个一批 meeting's batches are ${BATCH_STAGES.join(", ")}`);
      return none;
    }
    const meeting = meetings.get(at.meetingId);
    if (!meeting) {
      problems.add(`${path}.meetingId`, `no meeting "${at.meetingId}"`);
      return none;
    }
    let venue: Region | undefined;
    if (at.venueRegionCode) {
      venue = this.regions.byCode(at.venueRegionCode);
      if (!venue) problems.add(`${path}.venueRegionCode`, `no region "${at.venueRegionCode}"`);
      else if (!meeting.venues.has(venue.id)) problems.add(`${path}.venueRegionCode`, `${venue.name} (${venue.code}) holds no venue of meeting ${meeting.id}`);
    }
    if (meeting.majorProjects && at.stage === stageToNumber(ProjectStage.STARTED) && at.investmentWan < MAJOR_STARTED_MIN_WAN) {
      problems.add(
        `${path}.${majorField}`,
        `meeting ${meeting.id} is a major-project meeting: its STARTED batch takes only projects of at least 5 亿元 (this one: ${formatWan(at.investmentWan)} 亿元)`,
      );
    }
    const host = this.regions.byId(meeting.hostRegionId)!;
    const check = () => {
      // A venue outside the token's scope is open only to the host's own office (whose scope then holds every venue).
      const where = venue ?? host;
      if (!this.inScope(where.id) && !this.inScope(host.id)) {
        throw new ForbiddenError(`${this.actor.office} may write in ${this.scopeName()} only, not at the venue in ${where.name} (${where.code}) of meeting ${meeting.id}`, `${path}.venueRegionCode`);
      }
    };
    return { meetingId: meeting.id, venueRegionId: venue?.id ?? null, check };
  }
}
