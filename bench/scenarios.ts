/** The GraphQL requests the benchmark measures (bench/run.ts); bench/floor.ts answers the first by hand. */

/** The province the benchmark asks about: Henan. */
export const PROVINCE_CODE = "410000";

/** Every stats field the province-to-county page shows, asked at all three levels. */
function stats(args = ""): string {
  return `stats${args} { projectCount totalInvestment bySector { sector { code name } projectCount totalInvestment } byStage { stage projectCount totalInvestment } }`;
}

/**
 * The query of DESIGN.md §3 with the full stats selection at the province, its
 * cities and their counties. bench/floor.ts builds the same answer by hand, so
 * the selection order here is the key order there.
 */
export function provinceToCounty(statsArgs = ""): string {
  const s = stats(statsArgs);
  return `query ProvinceToCounty { region(code: "${PROVINCE_CODE}") { code name ${s} children { code name ${s} children { code name ${s} } } } }`;
}

export const PROJECT_PAGE =
  "query ProjectPage { projects(first: 100, orderBy: { field: INVESTMENT, direction: DESC }) { totalCount edges { cursor node { id name stage investment region { code name } sector { code } } } } }";

// ---------------------------------------------------------------------------
// The assessment reads (issue 19), on the generated assessment layer (bench/generate.ts)

/** The year the assessment scenarios ask about: a whole year of generated milestones, targets and output reports. */
export const ASSESSMENT_YEAR = 2022;

/** Henan's cities ranked by completion of their STARTED target for the year (考核亮牌). */
export function rankingsQuery(year = ASSESSMENT_YEAR): string {
  return `query Rankings { rankings(parentCode: "${PROVINCE_CODE}", stage: STARTED, year: ${year}) { rank card region { code name } targetInvestment reachedInvestment completionRate } }`;
}

/**
 * A field asked of the province, its cities and (unless `depth` is 2) their
 * counties, in one request: \`region(code) { code name <field> children { … } }\`.
 */
export function regionTree(name: string, field: string, depth: 2 | 3 = 3): string {
  const inner = depth === 3 ? ` children { code name ${field} }` : "";
  return `query ${name} { region(code: "${PROVINCE_CODE}") { code name ${field} children { code name ${field}${inner} } } }`;
}

/** The assessment of every stage at the province, its 18 cities and their counties (175 regions in Henan). */
export function assessmentTreeQuery(year = ASSESSMENT_YEAR): string {
  return regionTree("AssessmentTree", `assessment(year: ${year}) { stage targetInvestment reachedCount reachedInvestment completionRate rank card }`);
}

/** The project cycle's funnel of the province and its cities. */
export function funnelTreeQuery(): string {
  return regionTree("FunnelTree", "funnel { from to reached advanced rate }", 2);
}

/**
 * The open factor issues' stats at the province and its cities (days open count to today). With the counties too it
 * cost 169,748, over MAX_COST's default 100,000, while byDepartment was priced at 50 rows a region; it is now priced at
 * the departments open problems wait on (10 in this data set), and the counties' tree is accepted.
 */
export function factorStatsTreeQuery(): string {
  return regionTree(
    "FactorStatsTree",
    "factorStats { blockedProjects openIssues longestOpenDays byKind { kind openIssues blockedProjects longestOpenDays } byDepartment { department openIssues blockedProjects longestOpenDays } }",
    2,
  );
}

/** 达效 for the year at the province, its cities and their counties. */
export function outputStatsTreeQuery(year = ASSESSMENT_YEAR): string {
  return regionTree("OutputStatsTree", `outputStats(year: ${year}) { reportingProjects designedAnnualOutput output reachedRate effectiveProjects byBand { band projectCount output } }`);
}

/** The type of a field argument, as introspection describes it (wrappers unrolled three deep). */
export interface IntrospectedArg {
  name: string;
  type: { kind: string; name: string | null; ofType: IntrospectedArg["type"] | null };
}

export const QUERY_FIELDS_INTROSPECTION =
  "{ __type(name: \"Query\") { fields { name args { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";

/**
 * The flat BI form of the province-to-county question (API.graphql:
 * `breakdown(groupBy, filter, regionLevel)`): Henan's projects by county ×
 * sector × stage. Only the arguments the schema has are passed; null when
 * `groupBy` is missing (then there is nothing comparable to ask).
 */
export function breakdownQuery(args: IntrospectedArg[]): string | null {
  const names = new Set(args.map((a) => a.name));
  if (!names.has("groupBy")) return null;
  const parts = ["groupBy: [REGION, SECTOR, STAGE]"];
  if (names.has("filter")) parts.push(`filter: { regionCodes: ["${PROVINCE_CODE}"] }`);
  if (names.has("regionLevel")) parts.push("regionLevel: COUNTY");
  return `query Breakdown { breakdown(${parts.join(", ")}) { region { code name } sector { code } stage projectCount totalInvestment } }`;
}

// ---------------------------------------------------------------------------
// The write scenarios (bench/writes.ts)

/** Provinces the "writes elsewhere" writer records changes in, round-robin over their counties: 广东, 江苏, 浙江, 山东, 四川. */
export const ELSEWHERE_PROVINCE_CODES = ["440000", "320000", "330000", "370000", "510000"] as const;

/** Writes per second of the writer elsewhere in China (issue: 20) and of the writer in Henan (issue: 5). */
export const ELSEWHERE_WRITES_PER_SECOND = 20;
export const HENAN_WRITES_PER_SECOND = 5;

/** The writer's mutations; it keeps the id, version and stage each answer gives, so its next write names the right version. */
export const CREATE_PROJECT = "mutation BenchCreate($input: CreateProjectInput!) { createProject(input: $input) { id version stage } }";
export const ADVANCE_STAGE = "mutation BenchAdvance($input: AdvanceStageInput!) { advanceStage(input: $input) { id version stage } }";
