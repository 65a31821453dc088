/**
 * The 2021-07-10 meeting: 全省重大项目建设暨“三个一批”推进会.
 *
 * The report (data/henan-three-batches-meeting-2021-07-10.txt) publishes totals
 * only. This module generates the individual projects deterministically from a
 * fixed-seed PRNG so that every published figure holds exactly:
 *
 * | batch                                    | projects | total (万元) |
 * | signed (集中签约)                         | 258      | 28,605,000   |
 * |   of which 先进制造业 (MFG and below)       | 74       | 7,700,000    |
 * |   of which 战略性新兴产业 (SEI and below)   | 89       | 11,335,000   |
 * |   of which signed at the main venue       | 16       | 3,135,000    |
 * | started (集中开工, every one ≥ 5 亿)        | 555      | 73,450,000   |
 * | in production (集中投产)                   | 524      | 36,210,000   |
 *
 * The two projects the report names are real rows (`synthetic: false`); their
 * investment is an estimate chosen inside the published totals. Every other
 * row is synthetic.
 */
import { RegionLevel } from "../region/region-level";

import type {
  MeetingSeed,
  MilestoneSeed,
  ProjectSeed,
  RegionSeed,
  SectorSeed,
  StageName,
} from "./seed.types";

export const MEETING_2021_07_10_TITLE = "全省重大项目建设暨“三个一批”推进会";

const HELD_ON = "2021-07-10";
const PROVINCE_CODE = "410000";
const JIYUAN_CODE = "419001";
const SEED = 0x20210710;

/** Published figures, money in 万元. */
const FIGURES = {
  signed: { count: 258, wan: 28_605_000 },
  signedMfg: { count: 74, wan: 7_700_000 },
  signedSei: { count: 89, wan: 11_335_000 },
  signedMain: { count: 16, wan: 3_135_000 },
  started: { count: 555, wan: 73_450_000, minWan: 50_000 },
  inProduction: { count: 524, wan: 36_210_000 },
} as const;

/** Lower bound of a synthetic project's investment outside the started batch (1 亿元). */
const MIN_WAN = 10_000;
/** Lower bound of a main-venue signing (5 亿元). */
const MIN_MAIN_WAN = 50_000;

/** Main-venue signings by sector family (report: 先进制造、科技研发、总部经济、先进物流). */
const MAIN_VENUE_MIX: ReadonlyArray<readonly [family: "MFG" | "RND" | "HQ" | "LOG", count: number]> = [
  ["MFG", 8],
  ["RND", 3],
  ["HQ", 2],
  ["LOG", 3],
];

/** The two projects the report names. */
const REAL_AUTOBIO = {
  ref: `${HELD_ON}/K/real-autobio`,
  name: "安图生物德迈药业产业园",
  regionCode: "410104", // 管城回族区
  sectorCode: "SEI_BIO",
  investmentWan: 200_000, // estimate: 20 亿元
  investor: "安图实验仪器（郑州）有限公司",
  signedOn: "2021-03-26", // estimate
} as const;

const REAL_HUARUI = {
  ref: `${HELD_ON}/P/real-huarui`,
  name: "华锐光电第5代TFT-LCD项目",
  regionCode: "410184", // 新郑市 (郑州航空港区)
  sectorCode: "SEI_ICT",
  investmentWan: 550_000, // 总投资约 55 亿元, as reported in 2021
  investor: "河南省华锐光电产业有限公司",
  signedOn: "2017-10-20", // company founded 2017-10; estimate
  startedOn: "2019-02-18", // 航空港实验区 2019 年第一批重点项目集中开工
} as const;

/** Relative weight of each city in the batches (郑州 most, then 洛阳, 南阳 ...). */
const CITY_WEIGHTS: Readonly<Record<string, number>> = {
  "410100": 18, // 郑州
  "410200": 5, // 开封
  "410300": 10, // 洛阳
  "410400": 5, // 平顶山
  "410500": 5, // 安阳
  "410600": 3, // 鹤壁
  "410700": 6.5, // 新乡
  "410800": 5, // 焦作
  "410900": 4, // 濮阳
  "411000": 6.5, // 许昌
  "411100": 3.5, // 漯河
  "411200": 3.5, // 三门峡
  "411300": 8, // 南阳
  "411400": 6, // 商丘
  "411500": 5.5, // 信阳
  "411600": 6, // 周口
  "411700": 5.5, // 驻马店
  "419001": 2.5, // 济源
};
const DEFAULT_CITY_WEIGHT = 4;

type Weighted = ReadonlyArray<readonly [code: string, weight: number]>;

const MFG_SUBSECTORS: Weighted = [
  ["MFG_EQUIP", 34],
  ["MFG_AUTO", 20],
  ["MFG_FOOD", 22],
  ["MFG_CHEM", 14],
  ["MFG", 10],
];
const SEI_SUBSECTORS: Weighted = [
  ["SEI_ICT", 28],
  ["SEI_BIO", 22],
  ["SEI_NEV", 20],
  ["SEI_MAT", 20],
  ["SEI", 10],
];
/** Signed projects that are neither MFG nor SEI (sub-venues). */
const SIGNED_OTHER_SECTORS: Weighted = [
  ["LOG", 18],
  ["SVC", 17],
  ["CULT", 14],
  ["AGRI", 14],
  ["NIB", 13],
  ["RND", 10],
  ["HQ", 7],
  ["INFRA", 4],
  ["SOCIAL", 3],
];
const STARTED_SECTORS: Weighted = [
  ["@MFG", 24],
  ["@SEI", 19],
  ["INFRA", 16],
  ["SOCIAL", 10],
  ["NIB", 6],
  ["LOG", 6],
  ["SVC", 6],
  ["AGRI", 5],
  ["CULT", 5],
  ["RND", 2],
  ["HQ", 1],
];
const IN_PRODUCTION_SECTORS: Weighted = [
  ["@MFG", 35],
  ["@SEI", 24],
  ["INFRA", 8],
  ["AGRI", 7],
  ["SOCIAL", 6],
  ["LOG", 5],
  ["CULT", 4],
  ["SVC", 4],
  ["NIB", 4],
  ["RND", 2],
  ["HQ", 1],
];

/** Sector-flavoured phrases for project names. */
const PHRASES: Readonly<Record<string, readonly string[]>> = {
  MFG: ["先进制造产业园", "智能制造基地", "高端制造产业园", "制造业数字化转型", "精密制造产业园"],
  MFG_EQUIP: [
    "智能装备产业园",
    "高端数控机床生产线",
    "工程机械再制造基地",
    "矿山装备智能化改造",
    "农机装备产业园",
    "电力装备制造基地",
    "轨道交通装备",
    "智能输送装备生产基地",
    "起重装备智能工厂",
    "节能环保装备",
  ],
  MFG_AUTO: [
    "汽车零部件产业园",
    "商用车零部件生产基地",
    "汽车轻量化部件",
    "专用汽车生产线",
    "汽车电子零部件",
    "底盘系统智能制造",
  ],
  MFG_FOOD: [
    "现代食品产业园",
    "冷链食品加工",
    "速冻食品智能工厂",
    "肉制品精深加工",
    "面制品生产线",
    "休闲食品产业园",
    "乳制品加工",
    "粮油精深加工",
  ],
  MFG_CHEM: [
    "绿色化工产业园",
    "精细化工新材料",
    "尼龙新材料产业链",
    "化工园区循环化改造",
    "可降解材料",
    "电子化学品",
  ],
  SEI: ["战略性新兴产业园", "新兴产业孵化基地", "高新技术产业园", "未来产业园"],
  SEI_ICT: [
    "智能终端产业园",
    "电子信息产业园",
    "半导体封装测试",
    "新型显示配套",
    "5G通信设备",
    "大数据产业园",
    "软件和信息服务产业园",
    "智能传感器产业基地",
  ],
  SEI_BIO: [
    "生物医药产业园",
    "医疗器械产业园",
    "原料药绿色生产基地",
    "中药现代化",
    "体外诊断试剂",
    "生物疫苗",
    "医用耗材生产基地",
  ],
  SEI_NEV: [
    "新能源汽车产业园",
    "动力电池生产基地",
    "氢燃料电池",
    "智能网联汽车",
    "充换电设备",
    "电驱动系统",
  ],
  SEI_MAT: [
    "新材料产业园",
    "高性能铝合金材料",
    "超硬材料",
    "碳纤维复合材料",
    "高端耐火材料",
    "电子铜箔",
    "光伏新材料",
  ],
  RND: ["科技创新研究院", "工程技术研究中心", "中试基地", "研发中心", "科创园", "产业技术研究院"],
  HQ: ["总部基地", "区域总部", "企业总部大厦", "结算中心", "运营总部"],
  LOG: ["现代物流园", "冷链物流中心", "多式联运物流港", "智慧仓储物流", "电商快递分拨中心", "保税物流中心"],
  NIB: ["数据中心", "5G网络建设", "工业互联网平台", "新型智慧城市", "算力中心", "充电基础设施", "城市大脑"],
  INFRA: [
    "高速公路",
    "国道改建",
    "水库",
    "引黄调蓄工程",
    "城市快速路",
    "抽水蓄能电站",
    "风电场",
    "光伏电站",
    "热电联产",
    "天然气管网",
    "供水工程",
    "污水处理厂",
    "铁路专用线",
  ],
  SVC: ["商业综合体", "现代商贸城", "金融服务中心", "会展中心", "电子商务产业园", "农产品交易市场", "服务外包基地"],
  AGRI: [
    "高标准农田",
    "现代农业产业园",
    "优质小麦基地",
    "生猪养殖",
    "设施蔬菜基地",
    "茶叶种植加工",
    "花卉苗木基地",
    "中药材种植基地",
  ],
  CULT: ["文旅小镇", "景区提升", "全域旅游", "文化产业园", "康养旅游度假区", "历史文化街区", "研学旅行基地"],
  SOCIAL: [
    "人民医院新院区",
    "中医院",
    "职业技术学院新校区",
    "中小学建设",
    "保障性租赁住房",
    "老旧小区改造",
    "养老服务中心",
    "体育中心",
    "妇幼保健院",
    "疾控中心",
  ],
};
const PHASE_WORDS = ["", "", "", "", "", "一期", "一期", "二期", "扩建", "改扩建"] as const;

/** Industry words for synthetic investor names. */
const INVESTOR_INDUSTRY: Readonly<Record<string, readonly string[]>> = {
  MFG: ["实业", "智能制造"],
  MFG_EQUIP: ["智能装备", "重工机械", "装备制造"],
  MFG_AUTO: ["汽车零部件", "汽车科技"],
  MFG_FOOD: ["食品", "农牧食品"],
  MFG_CHEM: ["化工", "化学新材料"],
  SEI: ["高新科技", "新兴产业投资"],
  SEI_ICT: ["电子科技", "信息技术"],
  SEI_BIO: ["生物科技", "医药"],
  SEI_NEV: ["新能源科技", "动力科技"],
  SEI_MAT: ["新材料", "材料科技"],
  RND: ["科技发展", "技术研究院"],
  HQ: ["投资控股", "企业管理"],
  LOG: ["物流", "供应链管理"],
  NIB: ["数字科技", "云计算"],
  INFRA: ["交通投资", "能源", "水利建设投资"],
  SVC: ["商业管理", "置业"],
  AGRI: ["农业发展", "农牧"],
  CULT: ["文化旅游发展", "文旅投资"],
  SOCIAL: ["城市建设投资", "健康产业"],
};
const BRAND_CHARS = "华中宏鑫豫恒瑞泰达联远创星源盛嘉德信科通新天同润祥元正海金安康隆兴丰".split("");
const COMPANY_SUFFIXES = ["有限公司", "有限公司", "有限公司", "股份有限公司", "集团有限公司"] as const;
/** Probability that a project has no named investor. */
const NULL_INVESTOR: Readonly<Record<string, number>> = { INFRA: 0.45, SOCIAL: 0.5, AGRI: 0.2, CULT: 0.2 };
const DEFAULT_NULL_INVESTOR = 0.08;

// ---------------------------------------------------------------- PRNG

class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** mulberry32: uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("Rng.pick: empty list");
    return items[Math.floor(this.next() * items.length)] as T;
  }

  weighted(table: Weighted): string {
    const total = table.reduce((s, [, w]) => s + w, 0);
    let x = this.next() * total;
    for (const [code, w] of table) {
      x -= w;
      if (x < 0) return code;
    }
    return table[table.length - 1]![0];
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next(); // (0, 1]
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }
}

// ---------------------------------------------------------------- helpers

function fail(message: string): never {
  throw new Error(`meeting-2021-07-10: ${message}`);
}

/**
 * Split `totalWan` into `n` skewed amounts, each ≥ `minWan`, multiples of 100 万元,
 * summing exactly to `totalWan`: min + floor of a lognormal share, remainder on
 * the largest item.
 */
function allocate(rng: Rng, n: number, totalWan: number, minWan: number, sigma: number): number[] {
  if (n <= 0) fail("allocate: no items");
  if (totalWan % 100 !== 0 || minWan % 100 !== 0) fail("allocate: amounts must be multiples of 100 万元");
  const units = totalWan / 100;
  const minUnits = minWan / 100;
  const spare = units - n * minUnits;
  if (spare < 0) fail(`allocate: ${n} items cannot each reach ${minWan} 万元 within ${totalWan} 万元`);
  const weights: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = Math.max(-3, Math.min(3, rng.normal()));
    weights.push(Math.exp(sigma * z));
  }
  const sumW = weights.reduce((s, w) => s + w, 0);
  const shares = weights.map((w) => Math.floor((spare * w) / sumW));
  let maxIdx = 0;
  for (let i = 1; i < n; i++) if ((weights[i] as number) > (weights[maxIdx] as number)) maxIdx = i;
  const rest = spare - shares.reduce((s, x) => s + x, 0);
  shares[maxIdx] = (shares[maxIdx] as number) + rest;
  const amounts = shares.map((s) => (minUnits + s) * 100);
  if (amounts.some((a) => !Number.isSafeInteger(a) || a < minWan)) fail("allocate: amount below minimum");
  if (amounts.reduce((s, a) => s + a, 0) !== totalWan) fail("allocate: amounts do not add up");
  return amounts;
}

/** Largest-remainder apportionment of `n` items over `weights`, each getting at least `minEach`. */
function apportion(n: number, weights: readonly number[], minEach: number): number[] {
  const k = weights.length;
  const spare = n - k * minEach;
  if (k === 0 || spare < 0) fail(`apportion: cannot give ${k} cities ${minEach} of ${n} projects each`);
  const sumW = weights.reduce((s, w) => s + w, 0);
  const quotas = weights.map((w) => (spare * w) / sumW);
  const counts = quotas.map((q) => minEach + Math.floor(q));
  let left = n - counts.reduce((s, c) => s + c, 0);
  const order = quotas
    .map((q, i) => ({ i, frac: q - Math.floor(q) }))
    .sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (let j = 0; left > 0; j = (j + 1) % k, left--) {
    const idx = (order[j] as { i: number }).i;
    counts[idx] = (counts[idx] as number) + 1;
  }
  return counts;
}

const DAY_MS = 86_400_000;

function toDay(iso: string): number {
  const [y, m, d] = iso.split("-").map(Number) as [number, number, number];
  return Math.round(Date.UTC(y, m - 1, d) / DAY_MS);
}

function fromDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

// ---------------------------------------------------------------- generator

interface Draft {
  batch: "S" | "K" | "P";
  main: boolean;
  cityCode: string;
  regionCode: string;
  placeName: string;
  sectorCode: string;
  investmentWan: number;
}

/** The region side of the inputs: lookups every step places projects with. */
interface RegionInputs {
  regionByCode: ReadonlyMap<string, RegionSeed>;
  /** Cities of the province, by code. */
  cities: readonly RegionSeed[];
  /** Counties of each city, by code (empty for 济源). */
  countiesOf: ReadonlyMap<string, readonly RegionSeed[]>;
  /** `CITY_WEIGHTS` in `cities` order. */
  cityWeights: readonly number[];
  cityOf: (code: string) => string;
}

/** The sector side of the inputs. */
interface SectorInputs {
  sectorByCode: ReadonlyMap<string, SectorSeed>;
  isUnder: (code: string, ancestor: string) => boolean;
}

/** Everything the steps read from the caller's regions and sectors, checked once up front. */
type Inputs = RegionInputs & SectorInputs;

/** Main-venue signings and how much of the signed MFG / other figures they already use. */
interface MainVenueSignings {
  drafts: Draft[];
  mfgCount: number;
  mfgWan: number;
  otherCount: number;
  otherWan: number;
}

/** Synthetic drafts of each batch, in ledger order. */
interface Ledger {
  signed: Draft[];
  started: Draft[];
  inProduction: Draft[];
}

export function generateMeeting20210710(
  regions: readonly RegionSeed[],
  sectors: readonly SectorSeed[],
): MeetingSeed {
  // One PRNG threads through the steps in this order: reordering them changes every synthetic row.
  const rng = new Rng(SEED);
  const inputs = readInputs(regions, sectors);
  const main = allocateMainVenueSignings(rng, inputs);
  const sub = allocateSubVenueSignings(rng, inputs, main);
  const { started, inProduction } = allocateStartedAndInProduction(rng, inputs);
  const ledger = orderLedger(main, sub, started, inProduction);

  const meeting: MeetingSeed = {
    title: MEETING_2021_07_10_TITLE,
    heldOn: HELD_ON,
    hostRegionCode: PROVINCE_CODE,
    subVenueRegionCodes: inputs.cities.map((c) => c.code),
    majorProjects: true,
    projects: buildRows(rng, inputs, ledger),
  };

  verify(meeting, inputs.regionByCode, inputs.cityOf, inputs.isUnder);
  return meeting;
}

// ---- inputs

/** Reads and checks the caller's regions and sectors, so a bad tree fails before any project is drawn. */
function readInputs(regions: readonly RegionSeed[], sectors: readonly SectorSeed[]): Inputs {
  const regionInputs = readRegions(regions);
  const sectorInputs = readSectors(sectors);
  checkSectorTables(regionInputs, sectorInputs);
  return { ...regionInputs, ...sectorInputs };
}

/** Indexes the region tree: the province must be there and have cities; counties sorted by code within each city. */
function readRegions(regions: readonly RegionSeed[]): RegionInputs {
  const regionByCode = new Map<string, RegionSeed>();
  for (const r of regions) regionByCode.set(r.code, r);
  const province = regionByCode.get(PROVINCE_CODE);
  if (!province || province.level !== "PROVINCE") fail(`province ${PROVINCE_CODE} missing from regions`);
  const cities = regions
    .filter((r) => r.level === RegionLevel.CITY && r.parentCode === PROVINCE_CODE)
    .slice()
    .sort((a, b) => a.code.localeCompare(b.code));
  if (cities.length === 0) fail("no city-level regions");
  const countiesOf = new Map<string, RegionSeed[]>();
  for (const c of cities) countiesOf.set(c.code, []);
  for (const r of regions) {
    if (r.level === RegionLevel.COUNTY && r.parentCode !== null && countiesOf.has(r.parentCode)) {
      countiesOf.get(r.parentCode)!.push(r);
    }
  }
  for (const list of countiesOf.values()) list.sort((a, b) => a.code.localeCompare(b.code));
  const cityWeights = cities.map((c) => CITY_WEIGHTS[c.code] ?? DEFAULT_CITY_WEIGHT);

  const cityOf = (code: string): string => {
    const r = regionByCode.get(code);
    if (!r) fail(`unknown region ${code}`);
    if (r.level === RegionLevel.CITY) return r.code;
    if (r.level === RegionLevel.COUNTY && r.parentCode !== null) return r.parentCode;
    return fail(`region ${code} is not inside a city`);
  };
  return { regionByCode, cities, countiesOf, cityWeights, cityOf };
}

/** Indexes the sector tree and answers "is this sector under that one". */
function readSectors(sectors: readonly SectorSeed[]): SectorInputs {
  const sectorByCode = new Map<string, SectorSeed>();
  for (const s of sectors) sectorByCode.set(s.code, s);
  const isUnder = (code: string, ancestor: string): boolean => {
    let cur: SectorSeed | undefined = sectorByCode.get(code);
    for (let guard = 0; cur && guard < 32; guard++) {
      if (cur.code === ancestor) return true;
      cur = cur.parentCode === null ? undefined : sectorByCode.get(cur.parentCode);
    }
    return false;
  };
  return { sectorByCode, isUnder };
}

/** The sector tables and real projects must fit the caller's trees, or the published splits cannot hold. */
function checkSectorTables({ regionByCode }: RegionInputs, { sectorByCode, isUnder }: SectorInputs): void {
  const tables: Weighted[] = [
    MFG_SUBSECTORS,
    SEI_SUBSECTORS,
    SIGNED_OTHER_SECTORS,
    STARTED_SECTORS,
    IN_PRODUCTION_SECTORS,
  ];
  for (const table of tables) {
    for (const [code] of table) {
      const plain = code.startsWith("@") ? code.slice(1) : code;
      if (!sectorByCode.has(plain)) fail(`sector ${plain} missing from sectors`);
    }
  }
  for (const [code] of MFG_SUBSECTORS) if (!isUnder(code, "MFG")) fail(`sector ${code} is not under MFG`);
  for (const [code] of SEI_SUBSECTORS) if (!isUnder(code, "SEI")) fail(`sector ${code} is not under SEI`);
  for (const [code] of SIGNED_OTHER_SECTORS) {
    if (isUnder(code, "MFG") || isUnder(code, "SEI")) fail(`sector ${code} must be neither MFG nor SEI`);
  }
  for (const real of [REAL_AUTOBIO, REAL_HUARUI]) {
    if (!regionByCode.has(real.regionCode)) fail(`region ${real.regionCode} missing from regions`);
    if (!sectorByCode.has(real.sectorCode)) fail(`sector ${real.sectorCode} missing from sectors`);
  }
}

/** Sector from a batch table; `@MFG` / `@SEI` stand for a draw from that family's subsectors. */
function pickSector(rng: Rng, table: Weighted): string {
  const code = rng.weighted(table);
  if (code === "@MFG") return rng.weighted(MFG_SUBSECTORS);
  if (code === "@SEI") return rng.weighted(SEI_SUBSECTORS);
  return code;
}

/** Location inside a city: one of its counties (济源, which has none, is its own location). */
function locate(
  rng: Rng,
  { regionByCode, countiesOf }: RegionInputs,
  cityCode: string,
): { regionCode: string; placeName: string } {
  const city = regionByCode.get(cityCode)!;
  const counties = countiesOf.get(cityCode) ?? [];
  if (counties.length === 0) {
    // Only 济源 has no counties: its projects sit at the city. Elsewhere every project is in a county,
    // so a city's figures are exactly the sum of its counties'.
    return { regionCode: city.code, placeName: city.name };
  }
  const county = rng.pick(counties);
  return { regionCode: county.code, placeName: county.name };
}

/** Per-batch city list: every city at least twice, weighted, in random order. */
function cityList(rng: Rng, { cities, cityWeights }: RegionInputs, n: number): string[] {
  const counts = apportion(n, cityWeights, 2);
  const list: string[] = [];
  cities.forEach((c, i) => {
    for (let j = 0; j < (counts[i] as number); j++) list.push(c.code);
  });
  return rng.shuffle(list);
}

// ---- signed batch: main venue

/** The 16 main-venue signings in the reported family mix; their MFG share is taken off the sub-venue MFG group. */
function allocateMainVenueSignings(rng: Rng, inputs: Inputs): MainVenueSignings {
  const { cities, cityWeights, isUnder } = inputs;
  const mainFamilies: string[] = [];
  for (const [family, count] of MAIN_VENUE_MIX) for (let i = 0; i < count; i++) mainFamilies.push(family);
  if (mainFamilies.length !== FIGURES.signedMain.count) fail("main-venue mix does not match 16 signings");
  rng.shuffle(mainFamilies);
  const mainAmounts = allocate(rng, mainFamilies.length, FIGURES.signedMain.wan, MIN_MAIN_WAN, 0.6);
  // big cities are more likely to bring their projects to the main venue
  const mainCityTable: Weighted = cities.map((c, i) => [c.code, (cityWeights[i] as number) ** 1.5] as const);
  const drafts: Draft[] = mainFamilies.map((family, i) => {
    const cityCode = rng.weighted(mainCityTable);
    const sectorCode = family === "MFG" ? rng.weighted(MFG_SUBSECTORS) : family;
    const investmentWan = mainAmounts[i] as number;
    return { batch: "S", main: true, cityCode, ...locate(rng, inputs, cityCode), sectorCode, investmentWan };
  });
  const mfgCount = drafts.filter((d) => isUnder(d.sectorCode, "MFG")).length;
  const mfgWan = drafts.filter((d) => isUnder(d.sectorCode, "MFG")).reduce((s, d) => s + d.investmentWan, 0);
  return {
    drafts,
    mfgCount,
    mfgWan,
    otherCount: drafts.length - mfgCount,
    otherWan: FIGURES.signedMain.wan - mfgWan,
  };
}

// ---- signed batch: sub-venues, three groups with fixed counts and totals

/** The rest of the signed batch, as MFG / SEI / other groups sized so the published splits hold with the main venue. */
function allocateSubVenueSignings(rng: Rng, inputs: Inputs, main: MainVenueSignings): Draft[] {
  const otherCount = FIGURES.signed.count - FIGURES.signedMfg.count - FIGURES.signedSei.count; // 95
  const otherWan = FIGURES.signed.wan - FIGURES.signedMfg.wan - FIGURES.signedSei.wan; // 9,570,000
  const groups: Array<{ n: number; wan: number; table: Weighted }> = [
    { n: FIGURES.signedMfg.count - main.mfgCount, wan: FIGURES.signedMfg.wan - main.mfgWan, table: MFG_SUBSECTORS },
    { n: FIGURES.signedSei.count, wan: FIGURES.signedSei.wan, table: SEI_SUBSECTORS },
    { n: otherCount - main.otherCount, wan: otherWan - main.otherWan, table: SIGNED_OTHER_SECTORS },
  ];
  const subSigned = groups.reduce((s, g) => s + g.n, 0);
  const signedCities = cityList(rng, inputs, subSigned);
  const subDrafts: Draft[] = [];
  for (const g of groups) {
    const amounts = allocate(rng, g.n, g.wan, MIN_WAN, 1.0);
    for (const amount of amounts) {
      const cityCode = signedCities[subDrafts.length] as string;
      subDrafts.push({
        batch: "S",
        main: false,
        cityCode,
        ...locate(rng, inputs, cityCode),
        sectorCode: rng.weighted(g.table),
        investmentWan: amount,
      });
    }
  }
  return subDrafts;
}

// ---- started and in-production batches (one real project each)

/** The synthetic started and in-production drafts; each batch leaves room for its one real project. */
function allocateStartedAndInProduction(rng: Rng, inputs: Inputs): { started: Draft[]; inProduction: Draft[] } {
  const started = allocateBatch(
    rng,
    inputs,
    "K",
    FIGURES.started.count - 1,
    FIGURES.started.wan - REAL_AUTOBIO.investmentWan,
    FIGURES.started.minWan,
    STARTED_SECTORS,
  );
  const inProduction = allocateBatch(
    rng,
    inputs,
    "P",
    FIGURES.inProduction.count - 1,
    FIGURES.inProduction.wan - REAL_HUARUI.investmentWan,
    MIN_WAN,
    IN_PRODUCTION_SECTORS,
  );
  return { started, inProduction };
}

/** One batch of `n` drafts summing to `totalWan`, spread over every city. */
function allocateBatch(
  rng: Rng,
  inputs: Inputs,
  batch: "K" | "P",
  n: number,
  totalWan: number,
  minWan: number,
  table: Weighted,
): Draft[] {
  const cityCodes = cityList(rng, inputs, n);
  const amounts = allocate(rng, n, totalWan, minWan, 1.0);
  return amounts.map((amount, i) => {
    const cityCode = cityCodes[i] as string;
    const place = locate(rng, inputs, cityCode);
    return { batch, main: false, cityCode, ...place, sectorCode: pickSector(rng, table), investmentWan: amount };
  });
}

// ---- ledger order: main-venue signings first, then by region code (stable)

/** Sorts the drafts into ledger order; draws nothing, so it only decides which row gets which number and name. */
function orderLedger(main: MainVenueSignings, sub: Draft[], started: Draft[], inProduction: Draft[]): Ledger {
  const byRegion = (a: Draft, b: Draft): number => a.regionCode.localeCompare(b.regionCode);
  return {
    signed: [...main.drafts, ...sub.slice().sort(byRegion)],
    started: started.slice().sort(byRegion),
    inProduction: inProduction.slice().sort(byRegion),
  };
}

// ---- rows

/** Every project row: each batch's synthetic rows in ledger order, then its real project. */
function buildRows(rng: Rng, inputs: Inputs, ledger: Ledger): ProjectSeed[] {
  const signedRows = toRows(rng, inputs, ledger.signed, "S");
  const startedRows = toRows(rng, inputs, ledger.started, "K");
  const productionRows = toRows(rng, inputs, ledger.inProduction, "P");
  const { autobio, huarui } = realRows(inputs.cityOf);
  return [...signedRows, ...startedRows, autobio, ...productionRows, huarui];
}

/** The two projects the report names, as rows; they draw nothing from the PRNG. */
function realRows(cityOf: (code: string) => string): { autobio: ProjectSeed; huarui: ProjectSeed } {
  const autobio: ProjectSeed = {
    ref: REAL_AUTOBIO.ref,
    name: REAL_AUTOBIO.name,
    regionCode: REAL_AUTOBIO.regionCode,
    sectorCode: REAL_AUTOBIO.sectorCode,
    investmentWan: REAL_AUTOBIO.investmentWan,
    investor: REAL_AUTOBIO.investor,
    synthetic: false,
    milestones: [earlier("SIGNED", REAL_AUTOBIO.signedOn), atMeeting("STARTED", cityOf(REAL_AUTOBIO.regionCode))],
  };
  const huarui: ProjectSeed = {
    ref: REAL_HUARUI.ref,
    name: REAL_HUARUI.name,
    regionCode: REAL_HUARUI.regionCode,
    sectorCode: REAL_HUARUI.sectorCode,
    investmentWan: REAL_HUARUI.investmentWan,
    investor: REAL_HUARUI.investor,
    synthetic: false,
    milestones: [
      earlier("SIGNED", REAL_HUARUI.signedOn),
      earlier("STARTED", REAL_HUARUI.startedOn),
      atMeeting("IN_PRODUCTION", cityOf(REAL_HUARUI.regionCode)),
    ],
  };
  return { autobio, huarui };
}

/** Numbered rows of one batch, with a synthetic name, investor and milestone history each. */
function toRows(rng: Rng, inputs: Inputs, drafts: Draft[], letter: "S" | "K" | "P"): ProjectSeed[] {
  return drafts.map((d, i) => {
    const n = i + 1;
    const phrase = rng.pick(PHRASES[d.sectorCode] ?? [inputs.sectorByCode.get(d.sectorCode)!.name]);
    const phase = rng.pick(PHASE_WORDS);
    return {
      ref: `${HELD_ON}/${letter}/${pad(n, 3)}`,
      name: `${d.placeName}${phrase}${phase}项目（${letter}-${pad(n, 4)}）`,
      regionCode: d.regionCode,
      sectorCode: d.sectorCode,
      investmentWan: d.investmentWan,
      investor: investorFor(rng, inputs, d.sectorCode, d.cityCode),
      synthetic: true,
      milestones: milestonesFor(rng, d),
    };
  });
}

/** A plausible investor name for the sector and city, or null as often as such projects have none. */
function investorFor(rng: Rng, { regionByCode }: RegionInputs, sectorCode: string, cityCode: string): string | null {
  const top = sectorCode.split("_")[0] as string;
  if (rng.next() < (NULL_INVESTOR[top] ?? DEFAULT_NULL_INVESTOR)) return null;
  const cityName = regionByCode.get(cityCode)!.name.replace(/市$/, "");
  const prefixRoll = rng.next();
  const prefix = prefixRoll < 0.4 ? "河南" : prefixRoll < 0.85 ? cityName : "";
  const first = rng.pick(BRAND_CHARS);
  const second = rng.pick(BRAND_CHARS.filter((c) => c !== first));
  const brand = first + second;
  const industry = rng.pick(INVESTOR_INDUSTRY[sectorCode] ?? INVESTOR_INDUSTRY[top] ?? ["实业"]);
  return `${prefix}${brand}${industry}${rng.pick(COMPANY_SUFFIXES)}`;
}

/** The milestone presented at the meeting, at the given venue. */
function atMeeting(stage: StageName, venueRegionCode: string): MilestoneSeed {
  return { stage, reachedOn: HELD_ON, atMeeting: true, venueRegionCode };
}

/** A milestone reached before the meeting, so with no venue. */
function earlier(stage: StageName, reachedOn: string): MilestoneSeed {
  return { stage, reachedOn, atMeeting: false, venueRegionCode: null };
}

const STARTED_SIGN_FROM = toDay("2019-06-01");
const STARTED_SIGN_TO = toDay("2021-06-30");
const PROD_SIGN_FROM = toDay("2017-01-01");
const PROD_SIGN_TO = toDay("2019-12-31");
const PROD_START_LAST = toDay("2021-06-29"); // strictly before 2021-06-30

/** A draft's history: earlier stages on random past dates, then its batch's stage at the meeting's venue. */
function milestonesFor(rng: Rng, d: Draft): MilestoneSeed[] {
  const venue = d.main ? PROVINCE_CODE : d.cityCode;
  if (d.batch === "S") return [atMeeting("SIGNED", venue)];
  if (d.batch === "K") {
    return [earlier("SIGNED", fromDay(rng.int(STARTED_SIGN_FROM, STARTED_SIGN_TO))), atMeeting("STARTED", venue)];
  }
  const signed = rng.int(PROD_SIGN_FROM, PROD_SIGN_TO);
  const started = rng.int(signed + 30, Math.min(signed + 900, PROD_START_LAST));
  return [earlier("SIGNED", fromDay(signed)), earlier("STARTED", fromDay(started)), atMeeting("IN_PRODUCTION", venue)];
}

// ---------------------------------------------------------------- assertion

function verify(
  meeting: MeetingSeed,
  regionByCode: ReadonlyMap<string, RegionSeed>,
  cityOf: (code: string) => string,
  isUnder: (code: string, ancestor: string) => boolean,
): void {
  const sum = (ps: readonly ProjectSeed[]): number => ps.reduce((s, p) => s + p.investmentWan, 0);
  const check = (label: string, ps: readonly ProjectSeed[], count: number, wan: number): void => {
    if (ps.length !== count || sum(ps) !== wan) {
      fail(`${label}: got ${ps.length} projects / ${sum(ps)} 万元, expected ${count} / ${wan}`);
    }
  };
  const meetingStage = (p: ProjectSeed): MilestoneSeed => {
    const at = p.milestones.filter((m) => m.atMeeting);
    if (at.length !== 1) fail(`${p.ref}: expected exactly one milestone at the meeting`);
    const m = at[0] as MilestoneSeed;
    if (m !== p.milestones[p.milestones.length - 1]) fail(`${p.ref}: meeting milestone is not the last`);
    if (m.reachedOn !== meeting.heldOn) fail(`${p.ref}: meeting milestone not on ${meeting.heldOn}`);
    return m;
  };

  const refs = new Set<string>();
  const names = new Set<string>();
  for (const p of meeting.projects) {
    if (refs.has(p.ref)) fail(`duplicate ref ${p.ref}`);
    if (names.has(p.name)) fail(`duplicate name ${p.name}`);
    refs.add(p.ref);
    names.add(p.name);
    if (!Number.isSafeInteger(p.investmentWan) || p.investmentWan <= 0 || p.investmentWan % 100 !== 0) {
      fail(`${p.ref}: bad investment ${p.investmentWan}`);
    }
    const region = regionByCode.get(p.regionCode);
    if (!region || region.level === RegionLevel.PROVINCE) fail(`${p.ref}: bad region ${p.regionCode}`);
    const m = meetingStage(p);
    const expectedVenue = m.venueRegionCode === PROVINCE_CODE && m.stage === "SIGNED" ? PROVINCE_CODE : cityOf(p.regionCode);
    if (m.venueRegionCode !== expectedVenue) fail(`${p.ref}: venue ${m.venueRegionCode}, expected ${expectedVenue}`);
    for (let i = 0; i < p.milestones.length - 1; i++) {
      const a = p.milestones[i] as MilestoneSeed;
      const b = p.milestones[i + 1] as MilestoneSeed;
      if (a.atMeeting || a.venueRegionCode !== null || !(a.reachedOn < b.reachedOn)) {
        fail(`${p.ref}: milestones out of order`);
      }
    }
  }
  if (meeting.projects.filter((p) => !p.synthetic).length !== 2) fail("expected exactly two real projects");

  const stageOf = (p: ProjectSeed): StageName => meetingStage(p).stage;
  const signed = meeting.projects.filter((p) => stageOf(p) === "SIGNED");
  const started = meeting.projects.filter((p) => stageOf(p) === "STARTED");
  const inProduction = meeting.projects.filter((p) => stageOf(p) === "IN_PRODUCTION");
  check("signed", signed, FIGURES.signed.count, FIGURES.signed.wan);
  check("signed MFG", signed.filter((p) => isUnder(p.sectorCode, "MFG")), FIGURES.signedMfg.count, FIGURES.signedMfg.wan);
  check("signed SEI", signed.filter((p) => isUnder(p.sectorCode, "SEI")), FIGURES.signedSei.count, FIGURES.signedSei.wan);
  const main = signed.filter((p) => meetingStage(p).venueRegionCode === PROVINCE_CODE);
  check("signed at main venue", main, FIGURES.signedMain.count, FIGURES.signedMain.wan);
  for (const family of ["MFG", "RND", "HQ", "LOG"]) {
    if (!main.some((p) => isUnder(p.sectorCode, family))) fail(`no ${family} signing at the main venue`);
  }
  if (main.some((p) => !["MFG", "RND", "HQ", "LOG"].some((f) => isUnder(p.sectorCode, f)))) {
    fail("main-venue signing outside MFG/RND/HQ/LOG");
  }
  check("started", started, FIGURES.started.count, FIGURES.started.wan);
  if (started.some((p) => p.investmentWan < FIGURES.started.minWan)) fail("started project below 5 亿元");
  check("in production", inProduction, FIGURES.inProduction.count, FIGURES.inProduction.wan);
  if (meeting.projects.length !== signed.length + started.length + inProduction.length) fail("project outside the batches");

  const cityCodes = new Set(meeting.subVenueRegionCodes);
  for (const [label, ps] of [
    ["signed", signed],
    ["started", started],
    ["in production", inProduction],
  ] as const) {
    const present = new Set(ps.map((p) => cityOf(p.regionCode)));
    for (const c of cityCodes) if (!present.has(c)) fail(`${label}: no project in city ${c}`);
  }
  if (cityCodes.has(JIYUAN_CODE) === false && regionByCode.has(JIYUAN_CODE)) fail("济源 missing from sub-venues");
}
