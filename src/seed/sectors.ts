import type { SectorSeed } from "./seed.types";

/**
 * The sector tree (产业领域). Top-level sectors are the fields the 2021-07-10
 * report names (先进制造业, 战略性新兴产业, 科技研发, 总部经济, 现代物流, 新型基础设施)
 * plus the fields a province's started and in-production batches need.
 * Order here is display order.
 */
export const SECTORS: readonly SectorSeed[] = [
  { code: "MFG", name: "先进制造业", parentCode: null },
  { code: "MFG_EQUIP", name: "装备制造", parentCode: "MFG" },
  { code: "MFG_AUTO", name: "汽车及零部件", parentCode: "MFG" },
  { code: "MFG_FOOD", name: "现代食品", parentCode: "MFG" },
  { code: "MFG_CHEM", name: "绿色化工", parentCode: "MFG" },
  { code: "SEI", name: "战略性新兴产业", parentCode: null },
  { code: "SEI_ICT", name: "新一代信息技术", parentCode: "SEI" },
  { code: "SEI_BIO", name: "生物医药", parentCode: "SEI" },
  { code: "SEI_NEV", name: "新能源及智能网联汽车", parentCode: "SEI" },
  { code: "SEI_MAT", name: "新材料", parentCode: "SEI" },
  { code: "SEI_ENV", name: "节能环保", parentCode: "SEI" },
  { code: "RND", name: "科技研发", parentCode: null },
  { code: "HQ", name: "总部经济", parentCode: null },
  { code: "LOG", name: "现代物流", parentCode: null },
  { code: "NIB", name: "新型基础设施", parentCode: null },
  { code: "INFRA", name: "交通能源水利", parentCode: null },
  { code: "SVC", name: "现代服务业", parentCode: null },
  { code: "AGRI", name: "现代农业", parentCode: null },
  { code: "CULT", name: "文化旅游", parentCode: null },
  { code: "SOCIAL", name: "社会民生", parentCode: null },
];
