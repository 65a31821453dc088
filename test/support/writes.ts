/** What the HTTP tests of writes share: sending an operation with a token, the mutations, and small builders. */
import type { TestServer } from "./test-server";

/** What the client sees of one GraphQL answer. */
export interface Reply {
  status: number;
  text: string;
  data: any;
  errors?: Array<{ message: string; extensions?: Record<string, any> }>;
}

/** POSTs an operation with `token` as the bearer token (none when null). */
export async function send(server: TestServer, token: string | null, query: string, variables?: Record<string, unknown>): Promise<Reply> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(server.url, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const text = await response.text();
  const body = JSON.parse(text);
  return { status: response.status, text, data: body.data, errors: body.errors };
}

export const PROJECT_FIELDS = `fragment P on Project {
  id name version stage investor investment wan: investment(unit: WAN_YUAN)
  region { code } sector { code }
  milestones { stage reachedOn meeting { id } venue { code } }
}`;
export const CREATE = `mutation Create($input: CreateProjectInput!) { createProject(input: $input) { ...P } } ${PROJECT_FIELDS}`;
export const UPDATE = `mutation Update($id: ID!, $v: Int!, $input: UpdateProjectInput!) { updateProject(id: $id, expectedVersion: $v, input: $input) { ...P } } ${PROJECT_FIELDS}`;
export const ADVANCE = `mutation Advance($input: AdvanceStageInput!) { advanceStage(input: $input) { ...P } } ${PROJECT_FIELDS}`;
export const RECORD = `mutation Record($input: RecordAtMeetingInput!) { recordAtMeeting(input: $input) { ...P } } ${PROJECT_FIELDS}`;
export const CORRECT = `mutation Correct($input: CorrectMilestoneDateInput!) { correctMilestoneDate(input: $input) { ...P } } ${PROJECT_FIELDS}`;
export const CREATE_MEETING = `mutation Meet($input: CreateMeetingInput!) { createMeeting(input: $input) { id title heldOn hostRegion { code } venues { kind region { code } } } }`;
export const PROJECT = `query Project($id: ID!) { project(id: $id) { ...P history(first: 100) { nodes { id } } } } ${PROJECT_FIELDS}`;

/** The problems of a refused input: exactly one BAD_USER_INPUT error, its `extensions.problems`. */
export function problemsOf(reply: Reply): Array<{ field: string; reason: string }> {
  expect(reply.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
  return reply.errors?.[0]?.extensions?.problems ?? [];
}

/** Builders of one test file's writes: unique names, a default project input, and the province's token for set-up. */
export function writes(server: () => TestServer, kind: string, province: () => string, defaults: Record<string, unknown> = {}) {
  let serial = 0;
  const as = (token: string | null, query: string, variables?: Record<string, unknown>) => send(server(), token, query, variables);
  /** A project name no other test uses. */
  const uniqueName = (label: string) => `${label} ${kind} #${++serial}`;
  /** createProject's input: a signed MFG project in 中原区 unless overridden. */
  const projectInput = (overrides: Record<string, unknown> = {}) => ({
    name: uniqueName("项目"),
    regionCode: "410102",
    sectorCode: "MFG",
    investment: 1,
    reachedOn: "2024-03-01",
    ...defaults,
    ...overrides,
  });
  return {
    as,
    uniqueName,
    projectInput,
    /** Creates a project (with the province's token unless given); returns it as the mutation answered. */
    async newProject(overrides: Record<string, unknown> = {}, token = province()): Promise<any> {
      const reply = await as(token, CREATE, { input: projectInput(overrides) });
      expect(reply.errors).toBeUndefined();
      return reply.data.createProject;
    },
    /** Creates a meeting with the province's token; returns its id. */
    async newMeeting(hostRegionCode: string, subVenueRegionCodes: string[] = [], majorProjects = false): Promise<string> {
      const reply = await as(province(), CREATE_MEETING, { input: { title: uniqueName("推进会"), heldOn: "2024-06-30", hostRegionCode, subVenueRegionCodes, majorProjects } });
      expect(reply.errors).toBeUndefined();
      return reply.data.createMeeting.id;
    },
    /** The project as an anonymous read sees it, with the ids of its history. */
    async readProject(id: string): Promise<any> {
      const reply = await as(null, PROJECT, { id });
      expect(reply.errors).toBeUndefined();
      return reply.data.project;
    },
    /** How many projects have `name` (0: the write did not happen). */
    async countNamed(name: string): Promise<number> {
      const reply = await as(null, `query($n: String!) { projects(filter: { nameContains: $n }) { totalCount } }`, { n: name });
      return reply.data.projects.totalCount;
    },
  };
}
