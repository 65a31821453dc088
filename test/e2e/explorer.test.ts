/**
 * The offline explorer in a real browser: headless Chromium opens /explorer on
 * the real server, runs the province-to-county query through Altair's own
 * editor and button, and finds the province's signed projects (258) in the
 * answer it renders, while no request of the page leaves 127.0.0.1 (government
 * intranets have no internet) and the page breaks none of its own CSP. The
 * page speaks for this product: its title, its first tab's query, and what
 * the result pane says before the first request (Altair's own "Ezio my
 * friend, how may I be of service?" comes from its translation files, which
 * are served with the product's text instead).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { type BrowserContext, chromium, type Locator } from "playwright-core";

import { getDistDirectory } from "altair-static";

import { EXPLORER_PATH, EXPLORER_TITLE, emptyResultText, explorerCsp, explorerSandboxCsp } from "../../src/server/explorer";
import { startTestServer, type TestServer } from "../support/test-server";

/** Debian's chromium; CI installs it (.ci/run). */
const CHROMIUM = "/usr/bin/chromium";

/** Headless, and nothing of Chromium's own that would call home (updates, sync, field trials). */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The README's query, with byStage first in the province's stats so that its rows are near the top of the answer. */
const PROVINCE_TO_COUNTY = `query ProvinceToCounty {
  region(code: "410000") {
    name
    stats { projectCount totalInvestment
            byStage { stage projectCount totalInvestment }
            bySector { sector { code name } projectCount totalInvestment } }
    children {
      code name
      stats { projectCount totalInvestment bySector { sector { code } projectCount totalInvestment } }
      children { code name stats { projectCount totalInvestment bySector { sector { code } totalInvestment } } }
    }
  }
}`;

/** An assessment question as the README asks it (schema/examples), run through the explorer after the tree. */
const CITIES_BEHIND_TARGET = fs.readFileSync(path.join(__dirname, "../../schema/examples/cities-behind-target.graphql"), "utf8").trim();

/** Without Chromium the browser test is skipped on a developer's machine, and fails on CI. */
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) {
  console.warn(`Skipping the explorer browser test: ${CHROMIUM} is missing (apt-get install -y chromium). CI fails instead of skipping.`);
}
/** `it`, or `it.skip` off CI when Chromium is missing. */
const itInBrowser = haveChromium || process.env.CI ? it : it.skip;

describe("the offline explorer", () => {
  let server: TestServer;
  let origin: string;

  beforeAll(async () => {
    server = await startTestServer("sqlite");
    origin = new URL(server.url).origin;
  });
  afterAll(async () => server?.close());

  it("serves the page with its own CSP, and no script or host outside this origin", async () => {
    const res = await fetch(`${origin}${EXPLORER_PATH}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toBe(explorerCsp());
    const html = await res.text();
    expect(html).toContain(`<base href="${EXPLORER_PATH}/">`);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script: the options come from a file
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);

    const init = await fetch(`${origin}${EXPLORER_PATH}/initial_options.js`);
    expect(init.headers.get("content-type")).toMatch(/javascript/);
    const script = await init.text();
    expect(script).toContain("endpointURL: `/graphql`");
    expect(script).toContain("disableAccount: true");
    // Subscriptions: graphql-ws on the page's own host, worked out in the browser (a script expression, no placeholder).
    expect(script).toContain("initialSubscriptionRequestHandlerId: `graphql-ws`");
    const endpoint = /subscriptionsEndpoint: ([^\n]+?),?\n/.exec(script)?.[1];
    expect(new Function("location", `return ${endpoint}`)({ protocol: "https:", host: "hall.example:8443" })).toBe("wss://hall.example:8443/graphql");
    expect(new Function("location", `return ${endpoint}`)({ protocol: "http:", host: "127.0.0.1:4000" })).toBe("ws://127.0.0.1:4000/graphql");

    expect((await fetchWhole(`${origin}${EXPLORER_PATH}/main.js`)).status).toBe(200);
    // Altair's sandbox for pre-request scripts is found on this origin (not sandbox.altairgraphql.dev) and may eval.
    expect((await fetchWhole(`${origin}${EXPLORER_PATH}/iframe-sandbox/sandbox.png`)).status).toBe(200);
    const sandbox = await fetchWhole(`${origin}${EXPLORER_PATH}/iframe-sandbox/index.html`);
    expect(sandbox.status).toBe(200);
    expect(sandbox.headers.get("content-security-policy")).toBe(explorerSandboxCsp());
    expect((await fetchWhole(`${origin}${EXPLORER_PATH}/no-such-file.js`)).status).toBe(404);
  });

  it("carries the product's own texts: page title, first tab's query, and the empty result pane's text in every language", async () => {
    const html = await (await fetch(`${origin}${EXPLORER_PATH}`)).text();
    expect(html).toContain(`<title>${EXPLORER_TITLE}</title>`);
    expect(EXPLORER_TITLE).toMatch(/重大项目/);
    const script = await (await fetch(`${origin}${EXPLORER_PATH}/initial_options.js`)).text();
    expect(script).toMatch(/initialQuery: `[^`]*query ProvinceToCounty \{\n  region\(code: "410000"\)/);

    const directory = path.join(getDistDirectory(), "assets/i18n");
    const files = fs.readdirSync(directory).filter((file) => file.endsWith(".json"));
    expect(files).toEqual(expect.arrayContaining(["default.json", "en.json", "en-US.json", "zh-CN.json"]));
    for (const file of files) {
      const shipped = JSON.parse(fs.readFileSync(path.join(directory, file), "utf8")) as Record<string, string>;
      const res = await fetch(`${origin}${EXPLORER_PATH}/assets/i18n/${file}`);
      expect([file, res.status]).toEqual([file, 200]);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(res.headers.get("content-security-policy")).toBe(explorerCsp());
      const served = (await res.json()) as Record<string, string>;
      const language = file.replace(/\.json$/, "");
      // Only the empty pane's text differs from Altair's file; no language greets Ezio any more.
      expect(served).toEqual({ ...shipped, QUERY_RESULT_NO_RESULT_TEXT: emptyResultText(language, shipped.SEND_REQUEST_BUTTON ?? "Send Request") });
      expect([file, JSON.stringify(served)]).toEqual([file, expect.not.stringMatching(/Ezio|에지오|how may I be of service/)]);
    }
    expect(emptyResultText("en-US", "Send Request")).toBe("重大项目 GraphQL API: press “Send Request” to run the query on the left; its answer shows here.");
    expect(emptyResultText("zh-CN", "发送请求")).toBe("重大项目 GraphQL API：点击“发送请求”运行左边的查询，结果显示在这里。");
  });

  itInBrowser("runs the province-to-county query in headless Chromium and shows 258 signed projects, then the cities ranked on their targets, asking nothing of any other host", async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium (see .ci/run)`);
    const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "mp-chromium-"));
    const requests: string[] = [];
    const violations: string[] = [];
    let context: BrowserContext | undefined;
    try {
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        timeout: 30_000,
      });
      context.setDefaultTimeout(30_000);
      context.on("request", (request) => requests.push(request.url()));
      context.on("console", (message) => {
        if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
      });
      const page = context.pages()[0] ?? (await context.newPage());

      await page.goto(`${origin}${EXPLORER_PATH}`, { waitUntil: "load" });
      const editor = page.locator(".app-query-editor-input .cm-content, app-query-editor .cm-content").first();
      await editor.waitFor({ state: "visible" });
      // Before any request: the product's title and, in the result pane, its text in Altair's language (en-US).
      expect(await page.title()).toBe(EXPLORER_TITLE);
      const empty = page.locator("app-query-result", { hasText: emptyResultText("en-US", "Send Request") });
      await empty.waitFor({ state: "visible" });
      expect(await page.locator("app-query-result").innerText()).not.toMatch(/Ezio/);
      await editor.click();
      await page.keyboard.press("Control+A");
      await page.keyboard.press("Delete");
      await page.keyboard.insertText(PROVINCE_TO_COUNTY); // as pasted: no auto-closed brackets
      expect(await editorText(editor)).toBe(PROVINCE_TO_COUNTY);

      const answer = page.waitForResponse((response) => response.url() === server.url && response.request().method() === "POST" && /ProvinceToCounty/.test(response.request().postData() ?? ""));
      await page.locator("button.send-request__button").click();
      const response = await answer;
      expect(response.status()).toBe(200);

      // The answer as Altair renders it in its result pane.
      const result = page.locator("app-query-result .cm-content", { hasText: /"stage":\s*"SIGNED",\s*"projectCount":\s*258\b/ });
      await result.waitFor({ state: "visible" });
      const shown = await editorText(result);
      expect(shown).toContain('"name": "河南省"');
      expect(shown).toMatch(/"projectCount":\s*1337\b/);

      // The assessment through the same editor and button: the cities ranked on their third-quarter starting targets
      // (the seed's illustrative targets), first place GREEN, every target marked synthetic.
      await editor.click();
      await page.keyboard.press("Control+A");
      await page.keyboard.press("Delete");
      await page.keyboard.insertText(CITIES_BEHIND_TARGET);
      const ranked = page.waitForResponse((response) => response.url() === server.url && response.request().method() === "POST" && /CitiesBehindTarget/.test(response.request().postData() ?? ""));
      await page.locator("button.send-request__button").click();
      expect((await ranked).status()).toBe(200);
      const ranking = page.locator("app-query-result .cm-content", { hasText: /"rank":\s*1,\s*"card":\s*"GREEN"/ });
      await ranking.waitFor({ state: "visible" });
      const rankingText = await editorText(ranking);
      expect(rankingText).toContain('"targetSynthetic": true');
      expect(rankingText).not.toContain('"errors"');
      await page.waitForTimeout(1500); // anything the page asks for a moment later (update checks and the like) is recorded too
    } finally {
      await context?.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    }

    expect(requests.length).toBeGreaterThan(0);
    const elsewhere = requests.filter((url) => {
      const { protocol, hostname } = new URL(url);
      return !(protocol === "data:" || protocol === "blob:" || hostname === "127.0.0.1");
    });
    expect(elsewhere).toEqual([]);
    expect(requests).toContain(server.url);
    expect(violations).toEqual([]);
  }, 90_000);
});

/**
 * A response read to its end. A body left unread keeps its connection open: the server's answer of main.js (3 MB)
 * never finishes, so closing the server waits for it (its drain) and the socket outlives the test file, keeping the
 * jest worker from exiting ("A worker process has failed to exit gracefully").
 */
async function fetchWhole(url: string): Promise<{ status: number; headers: Headers; body: ArrayBuffer }> {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, body: await res.arrayBuffer() };
}

/** The whole text of a CodeMirror 6 editor, newline-joined (only rendered lines are in the DOM, so ask the view). */
async function editorText(editor: Locator): Promise<string> {
  return editor.evaluate((element: any) => {
    const view = element.cmView?.view ?? element.closest(".cm-editor")?.cmView?.view;
    return view ? view.state.doc.toString() : element.innerText;
  });
}
