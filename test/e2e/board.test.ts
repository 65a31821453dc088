/**
 * The meeting-hall board (/board/<meetingId>) on the real server, on each
 * database: its routes (the page, its own script and style, ECharts and
 * graphql-ws served from node_modules with a year's cache, the board's CSP,
 * the ?meeting= redirect), its subscription checked against the schema, and
 * the page in headless Chromium at 1920×1080: the 2021-07-10 meeting's
 * published totals, a signing recorded through the API shown within 1 s of
 * the mutation's answer, the board still live after a server restart (with
 * `?token=` where READ_REQUIRES_TOKEN refuses an anonymous screen, which says
 * so), an unknown meeting's "not found", nothing asked of another origin, no
 * CSP violation, and a screenshot in test-output/board-<sqlite|mariadb>.png.
 */
import fs from "node:fs";
import path from "node:path";

import { buildSchema, parse, validate } from "graphql";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import type { DataSource } from "typeorm";

import { createToken } from "../../src/auth/tokens";
import { type Config, loadConfig } from "../../src/config";
import { openDatabase } from "../../src/db/open-database";
import { BOARD_PATH, boardCsp } from "../../src/live/board-page";
import { BOARD_SUBSCRIPTION } from "../../src/live/board-script";
import { seedDatabase } from "../../src/seed/seed";
import { type RunningServer, startServer } from "../../src/server/server";
import { createScratchDatabase, DB_KINDS, type DbKind, type ScratchDatabase } from "../support/databases";
import { CREATE } from "../support/writes";

/** The page's globals, for the functions that run in the browser (the tests' TypeScript settings have no DOM). */
declare const document: any, window: any, MutationObserver: any, getComputedStyle: any;

/** Debian's chromium; CI installs it (.ci/run). */
const CHROMIUM = "/usr/bin/chromium";

/** Headless, and nothing of Chromium's own that would call home (updates, sync, field trials). */
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** Where the screenshots go (ignored by git). */
const OUTPUT = path.join(__dirname, "../../test-output");

/** A figure must be on the screen this soon after the mutation that changed it was answered. */
const PUSH_BUDGET_MS = 1000;

/** Without Chromium the browser test is skipped on a developer's machine, and fails on CI. */
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) {
  console.warn(`Skipping the board's browser test: ${CHROMIUM} is missing (apt-get install -y chromium). CI fails instead of skipping.`);
}
/** `it`, or `it.skip` off CI when Chromium is missing. */
const itInBrowser = haveChromium || process.env.CI ? it : it.skip;

/** The board's published figures of the 2021-07-10 meeting, province-wide (README). */
const PUBLISHED = { SIGNED: ["2860.5", "258"], STARTED: ["7345", "555"], IN_PRODUCTION: ["3621", "524"] } as const;

/**
 * The product on a scratch database, started as the test server would be,
 * that can be stopped and started again on the same port and data (a server
 * restart, as a hall screen sees one).
 */
class Product {
  db!: DataSource;
  private scratch: ScratchDatabase | undefined;
  private config!: Config;
  private running: RunningServer | undefined;
  private port = 0;

  constructor(private readonly kind: DbKind) {}

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async open(): Promise<void> {
    this.scratch = await createScratchDatabase(this.kind);
    const loaded = loadConfig({ PORT: "0", HOST: "127.0.0.1", NODE_ENV: "test", LOG_LEVEL: "silent" });
    this.config = { ...loaded, database: this.scratch.config };
    this.db = await openDatabase(this.config);
    if (this.kind === "mysql") await seedDatabase(this.db); // the embedded default seeds itself on first start
  }

  async start(overrides: Partial<Config> = {}): Promise<void> {
    this.running = await startServer({ ...this.config, ...overrides, port: this.port }, this.db);
    this.port = this.running.port;
  }

  /** Stops the server (its screens get 1001) and starts it again on the same port, with `overrides`. */
  async restart(overrides: Partial<Config>): Promise<void> {
    await this.running?.close();
    this.running = undefined;
    await this.start(overrides);
  }

  /** POSTs an operation, with `token` as the bearer token (none when null). */
  async gql(token: string | null, query: string, variables?: Record<string, unknown>): Promise<{ data: any; errors?: unknown[] }> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${this.origin}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    return (await response.json()) as { data: any; errors?: unknown[] };
  }

  async close(): Promise<void> {
    await this.running?.close();
    if (this.db?.isInitialized) await this.db.destroy();
    await this.scratch?.drop();
  }
}

describe.each(DB_KINDS)("the meeting-hall board on %s", (kind) => {
  const product = new Product(kind);
  let origin: string;
  let meetingId: string;
  /** The province's token: writes anywhere in 河南. */
  let province: string;

  beforeAll(async () => {
    await product.open();
    await product.start();
    origin = product.origin;
    province = (await createToken(product.db, { regionCode: "410000", name: "河南省发展和改革委员会" })).token;
    const reply = await product.gql(null, `{ meetings(from: "2021-07-10", to: "2021-07-10") { id } }`);
    meetingId = reply.data.meetings[0].id;
  });
  afterAll(async () => product.close());

  it("serves the page, its script and style and the two libraries from node_modules, each with the board's CSP", async () => {
    const res = await fetch(`${origin}${BOARD_PATH}/${meetingId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("content-security-policy")).toBe(boardCsp());
    expect(boardCsp()).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(html).not.toMatch(/\sstyle=|<style/); // no inline style of its own
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//); // nothing from another host
    const links = [...html.matchAll(/(?:src|href)="(\/board\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(links.map((link) => link.replace(/\?v=[0-9a-f]{16}$/, ""))).toEqual(["/board/assets/board.css", "/board/assets/echarts.min.js", "/board/assets/graphql-ws.min.js", "/board/assets/board.js"]);

    const shipped = {
      "echarts.min.js": fs.readFileSync(require.resolve("echarts/dist/echarts.min.js")),
      "graphql-ws.min.js": fs.readFileSync(path.join(path.dirname(require.resolve("graphql-ws/package.json")), "umd/graphql-ws.min.js")),
    };
    for (const link of links) {
      const asset = await fetch(`${origin}${link}`);
      const body = Buffer.from(await asset.arrayBuffer());
      const name = new URL(link, origin).pathname.split("/").pop()!;
      expect([name, asset.status]).toEqual([name, 200]);
      expect([name, asset.headers.get("content-type")]).toEqual([name, name.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8"]);
      expect([name, asset.headers.get("cache-control")]).toEqual([name, "public, max-age=31536000, immutable"]);
      expect([name, asset.headers.get("content-security-policy")]).toEqual([name, boardCsp()]);
      expect([name, asset.headers.get("x-content-type-options")]).toEqual([name, "nosniff"]);
      if (name in shipped) expect(body.equals(shipped[name as keyof typeof shipped])).toBe(true);
    }
    const script = await (await fetch(`${origin}${BOARD_PATH}/assets/board.js`)).text();
    expect(script).toContain("graphqlWs.createClient"); // the global graphql-ws's browser build defines
    expect(script).toContain("retryAttempts: Infinity");
    expect(script).not.toMatch(/innerHTML|insertAdjacentHTML|document\.write/);

    // Not the board: other paths keep the API's policy.
    expect((await fetch(`${origin}/health/live`)).headers.get("content-security-policy")).toMatch(/^default-src 'none';style-src 'sha256-/);
    const missing = await fetch(`${origin}${BOARD_PATH}/assets/no-such.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { errors: Array<{ message: string }> }).errors[0].message).toContain("/board/<meetingId>");
  });

  it("redirects /board?meeting=<id> to /board/<id>, keeping the token, and says what to open without one", async () => {
    const redirect = await fetch(`${origin}${BOARD_PATH}?meeting=${meetingId}&token=a%2Bb`, { redirect: "manual" });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe(`${BOARD_PATH}/${meetingId}?token=a%2Bb`);
    await redirect.arrayBuffer();
    const bare = await fetch(`${origin}${BOARD_PATH}`);
    expect(bare.status).toBe(400);
    expect(await bare.text()).toContain(`${BOARD_PATH}/<meetingId>`);
    const unknown = await fetch(`${origin}${BOARD_PATH}/999999`); // the page loads; it says "not found" itself
    expect(unknown.status).toBe(200);
    await unknown.arrayBuffer();
  });

  it("subscribes to fields the schema has (schema/schema.graphql)", () => {
    const sdl = fs.readFileSync(path.join(__dirname, "../../schema/schema.graphql"), "utf8");
    const errors = validate(buildSchema(sdl), parse(BOARD_SUBSCRIPTION));
    expect(errors.map((e) => e.message)).toEqual([]);
  });

  itInBrowser(
    "shows the meeting's totals, a signing within 1 s of its mutation's answer, again after a restart, and 'not found' for an unknown meeting, from this origin only",
    async () => {
      if (!haveChromium) throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium (see .ci/run)`);
      const requests: string[] = [];
      const sockets: string[] = [];
      const problems: string[] = [];
      let browser: Browser | undefined;
      try {
        browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
        const context = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: "zh-CN" });
        context.setDefaultTimeout(15_000);
        context.on("request", (request) => requests.push(request.url()));
        const open = async (url: string) => watch(await context.newPage(), sockets, problems, url);

        // ---- the board as a hall screen opens it
        const board = await open(`${origin}${BOARD_PATH}/${meetingId}`);
        await waitForText(board, '.total[data-stage="SIGNED"] .amount', PUBLISHED.SIGNED[0]);
        await board.locator('#connection[data-state="live"]').waitFor();
        expect(await board.locator("#notice").isVisible()).toBe(false);
        expect(await board.locator("#title").textContent()).toBe("全省重大项目建设暨“三个一批”推进会");
        expect(await board.locator("#date").textContent()).toBe("2021年7月10日 · 河南省");
        for (const [stage, [amount, count]] of Object.entries(PUBLISHED)) {
          expect([stage, await board.locator(`.total[data-stage="${stage}"] .amount`).textContent()]).toEqual([stage, amount]);
          expect([stage, await board.locator(`.total[data-stage="${stage}"] .count .number`).textContent()]).toEqual([stage, count]);
        }
        const venues = (await product.gql(null, `query($id: ID!) { meeting(id: $id) { venues { kind region { code name } } } }`, { id: meetingId })).data.meeting.venues;
        expect(await board.locator("#venues tbody tr").count()).toBe(venues.length);
        const main = board.locator("#venues tbody tr.main");
        expect(await main.locator(".region").textContent()).toBe("河南省");
        expect(await main.locator("td.count.SIGNED").textContent()).toBe("16");
        expect(await main.locator("td.amount.SIGNED").textContent()).toBe("313.5");
        expect(await signedInSector(board, "先进制造业")).toBe(770);
        const zhengzhou = board.locator('#venues tbody tr[data-region="410100"]');
        expect(await zhengzhou.locator(".kind").textContent()).toBe("分会场");
        const zhengzhouSigned = Number(await zhengzhou.locator("td.count.SIGNED").textContent());
        await expectLaidOut(board);

        // ---- a signing at 郑州's sub-venue, recorded through the API, reaches the screen
        const first = await signAndMeasure(board, "2873", () =>
          product.gql(province, CREATE, { input: signing(`大屏签约 ${kind} #1`, 12.5, meetingId) }),
        );
        console.log(`board on ${kind}: the new signed total (2873 亿元) was on the screen ${first} ms after the mutation's answer`);
        expect(first).toBeLessThan(PUSH_BUDGET_MS);
        expect(await board.locator('.total[data-stage="SIGNED"] .count .number').textContent()).toBe("259");
        expect(await zhengzhou.locator("td.count.SIGNED").textContent()).toBe(String(zhengzhouSigned + 1));
        expect(await signedInSector(board, "先进制造业")).toBe(782.5);

        await board.waitForTimeout(2600); // the changed figures' flash is over
        fs.mkdirSync(OUTPUT, { recursive: true });
        const screenshot = path.join(OUTPUT, `board-${kind === "mysql" ? "mariadb" : "sqlite"}.png`);
        await board.screenshot({ path: screenshot });
        console.log(`board on ${kind}: screenshot ${path.relative(process.cwd(), screenshot)}`);

        // ---- an unknown meeting: the page loads and says so, in the server's words
        const unknown = await open(`${origin}${BOARD_PATH}/999999`);
        await unknown.locator("#notice").waitFor({ state: "visible" });
        expect(await unknown.locator("#notice-title").textContent()).toBe("未找到该会议");
        expect(await unknown.locator("#notice-text").textContent()).toBe('meetingId: no meeting "999999"');
        await unknown.close();

        // ---- a screen with a token (through the ?meeting= address), then a restart that asks for one
        const withToken = await open(`${origin}${BOARD_PATH}?meeting=${meetingId}&token=${encodeURIComponent(province)}`);
        expect(new URL(withToken.url()).pathname).toBe(`${BOARD_PATH}/${meetingId}`);
        await waitForText(withToken, '.total[data-stage="SIGNED"] .amount', "2873");
        await recordConnectionStates(withToken);
        await product.restart({ readRequiresToken: true });
        await withToken.waitForFunction(() => window.boardStates.includes("reconnecting") && document.getElementById("connection").dataset.state === "live", null, { timeout: 20_000 });
        expect(await withToken.evaluate(() => window.boardStates)).toEqual(expect.arrayContaining(["reconnecting", "live"]));
        // The anonymous screen is refused by the restarted server, and says why.
        await board.locator("#notice").waitFor({ state: "visible", timeout: 20_000 });
        expect(await board.locator("#notice-title").textContent()).toBe("无权查看该会议");
        const second = await signAndMeasure(withToken, "2880.25", () =>
          product.gql(province, CREATE, { input: signing(`大屏签约 ${kind} #2`, 7.25, meetingId) }),
        );
        console.log(`board on ${kind}: after the restart, the new total (2880.25 亿元) was on the screen ${second} ms after the mutation's answer`);
        expect(second).toBeLessThan(PUSH_BUDGET_MS);
        expect(await withToken.locator('.total[data-stage="SIGNED"] .count .number').textContent()).toBe("260");
        await withToken.waitForTimeout(1000); // anything the page asks for a moment later is recorded too
      } finally {
        await browser?.close();
      }

      expect(requests.length).toBeGreaterThan(0);
      expect(requests.filter((url) => new URL(url).origin !== origin && !/^(data|blob):/.test(url))).toEqual([]);
      expect(sockets.length).toBeGreaterThan(0);
      expect([...new Set(sockets)]).toEqual([`${origin.replace(/^http/, "ws")}/graphql`]);
      expect(problems).toEqual([]);
    },
    120_000,
  );
});

/** A signed MFG project in 中原区 presented at 郑州's sub-venue of the meeting. */
function signing(name: string, investment: number, meetingId: string) {
  return { name, regionCode: "410102", sectorCode: "MFG", investment, stage: "SIGNED", reachedOn: "2021-07-10", meetingId, venueRegionCode: "410100" };
}

/** Opens `url` in `page`, recording its WebSockets and its errors and CSP violations. */
async function watch(page: Page, sockets: string[], problems: string[], url: string): Promise<Page> {
  page.on("websocket", (socket) => sockets.push(socket.url()));
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  await page.goto(url, { waitUntil: "load" });
  return page;
}

/** Starts keeping, in the page's `boardStates`, every state the connection badge shows from now on. */
async function recordConnectionStates(page: Page): Promise<void> {
  await page.evaluate(() => {
    const badge = document.getElementById("connection");
    window.boardStates = [];
    new MutationObserver(() => window.boardStates.push(badge.dataset.state)).observe(badge, { attributes: true, attributeFilter: ["data-state"] });
  });
}

/** Waits for `selector`'s text to be `text`; a timeout says what the page showed instead. */
async function waitForText(page: Page, selector: string, text: string): Promise<void> {
  try {
    await page.waitForFunction(([s, t]) => document.querySelector(s)?.textContent === t, [selector, text] as const);
  } catch (error) {
    const shown = await page.evaluate(
      (s) => ({ text: document.querySelector(s)?.textContent, connection: document.getElementById("connection")?.dataset.state, notice: document.getElementById("notice")?.innerText }),
      selector,
    );
    throw new Error(`${selector} never read ${JSON.stringify(text)}; the page shows ${JSON.stringify(shown)}: ${(error as Error).message}`);
  }
}

/**
 * Runs `write` and measures, in ms, from its answer to the moment the signed
 * total on the page read `expected` (seen by a MutationObserver in the page,
 * on the same machine's clock; 0 when the push arrived before the answer).
 */
async function signAndMeasure(page: Page, expected: string, write: () => Promise<{ errors?: unknown[] }>): Promise<number> {
  await page.evaluate((text) => {
    const node = document.querySelector('.total[data-stage="SIGNED"] .amount')!;
    const seen = window as unknown as { boardSeenAt?: number };
    seen.boardSeenAt = undefined;
    new MutationObserver((_: unknown, observer: { disconnect(): void }) => {
      if (node.textContent !== text) return;
      seen.boardSeenAt = Date.now();
      observer.disconnect();
    }).observe(node, { childList: true, characterData: true, subtree: true });
  }, expected);
  const reply = await write();
  const answeredAt = Date.now();
  expect(reply.errors).toBeUndefined();
  await page.waitForFunction(() => (window as unknown as { boardSeenAt?: number }).boardSeenAt !== undefined, null, { timeout: 10_000 });
  const seenAt = await page.evaluate(() => (window as unknown as { boardSeenAt: number }).boardSeenAt);
  return Math.max(0, seenAt - answeredAt);
}

/** The chart's 签约 bar of a sector, in 亿元, as ECharts holds it. */
async function signedInSector(page: Page, sector: string): Promise<number> {
  return page.evaluate((name) => {
    const echarts = (window as any).echarts;
    const option = echarts.getInstanceByDom(document.getElementById("chart")).getOption();
    const index = option.yAxis[0].data.indexOf(name);
    return option.series.find((s: { name: string }) => s.name === "签约").data[index];
  }, sector);
}

/** A rectangle on the page, in CSS pixels. */
type Box = { left: number; right: number; top: number; bottom: number; width: number; height: number };

/**
 * Nothing runs off the 1920×1080 screen or into its neighbour: no scrolling,
 * every venue row inside its panel, each big number inside its card, the
 * chart drawn at a real size.
 */
async function expectLaidOut(page: Page): Promise<void> {
  const layout = await page.evaluate(() => {
    const box = (element: any): Box => element.getBoundingClientRect();
    const inside = (inner: Box, outer: Box) => inner.left >= outer.left - 0.5 && inner.right <= outer.right + 0.5 && inner.top >= outer.top - 0.5 && inner.bottom <= outer.bottom + 0.5;
    const panel = box(document.querySelector("#venues")!.closest(".panel")!);
    const rows: any[] = [...document.querySelectorAll("#venues tbody tr")];
    const cards = [...document.querySelectorAll(".total")].map((card: any) => ({ card: box(card), parts: [...card.querySelectorAll(".figure, .count, h2")].map(box) }));
    const chart = box(document.getElementById("chart")!);
    return {
      scroll: [document.documentElement.scrollWidth, document.documentElement.scrollHeight],
      rowsInside: rows.every((row) => inside(box(row), panel)),
      cardsInside: cards.every(({ card, parts }) => parts.every((part) => inside(part, card))),
      amountFontPx: parseFloat(getComputedStyle(document.querySelector(".total .amount")!).fontSize),
      venueFontPx: parseFloat(getComputedStyle(document.querySelector("#venues")!).fontSize),
      chart: [Math.round(chart.width), Math.round(chart.height)],
    };
  });
  expect(layout.scroll).toEqual([1920, 1080]);
  expect(layout.rowsInside).toBe(true);
  expect(layout.cardsInside).toBe(true);
  expect(layout.amountFontPx).toBeGreaterThanOrEqual(90);
  expect(layout.venueFontPx).toBeGreaterThanOrEqual(16);
  expect(layout.chart[0]).toBeGreaterThan(600);
  expect(layout.chart[1]).toBeGreaterThan(400);
}
