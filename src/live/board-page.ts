import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { type Response, Router } from "express";

import { boardScript } from "./board-script";
import { BOARD_STYLE } from "./board-style";

/** Where the meeting-hall board is served: /board/<meetingId>. */
export const BOARD_PATH = "/board";

/** The board's files under BOARD_PATH/assets/: the page's own script and style, and the two libraries it runs on. */
interface Asset {
  body: Buffer;
  type: string;
  /** The first 16 hex digits of its SHA-256, put in the page's links (`?v=`) so that a new version is a new URL. */
  version: string;
}

/** Assets are cached for a year: the page names each with its version, and the page itself is revalidated. */
const ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable";

/**
 * The Content-Security-Policy directives of the board (a helmet
 * `contentSecurityPolicy.directives` object): scripts and styles from this
 * origin only, no inline script; ECharts sets style attributes on the
 * elements it draws (its tooltip and the chart's container), hence
 * 'unsafe-inline' for styles; its canvas may export to data: and blob:
 * images; the subscription's WebSocket goes to /graphql on this origin.
 */
export function boardCspDirectives(): Record<string, string[]> {
  return {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "connect-src": ["'self'", "ws:", "wss:"],
    "base-uri": ["'none'"],
    "form-action": ["'none'"],
    "frame-ancestors": ["'none'"],
  };
}

/** The board's Content-Security-Policy header value. */
export function boardCsp(): string {
  return Object.entries(boardCspDirectives())
    .map(([name, values]) => `${name} ${values.join(" ")}`)
    .join("; ");
}

/**
 * The meeting-hall board: a page for a 1920×1080 screen at a 三个一批
 * meeting showing the meeting's title and date, the province's signed,
 * started and in-production totals (亿元 and projects), the main venue and
 * every sub-venue with their figures, and a chart by sector. It updates live
 * from the `meetingBoard` subscription (graphql-ws at /graphql on the same
 * origin, reconnecting for ever with a backoff; `?token=` is passed as the
 * connection's `authorization` for a server with READ_REQUIRES_TOKEN). Served
 * entirely from this server: ECharts and graphql-ws's browser build are read
 * from node_modules at start-up, so it works on a network without internet.
 *
 * - GET /board/<meetingId>: the page (an unknown meeting still loads it, and it says so).
 * - GET /board?meeting=<id>: redirects there (keeping `token`).
 * - GET /board/assets/{board.js,board.css,echarts.min.js,graphql-ws.min.js}.
 *
 * Every answer carries the board's own Content-Security-Policy (replacing
 * a stricter one set earlier, e.g. by helmet). Mount it at BOARD_PATH.
 */
export function boardRoutes(): Router {
  const assets = new Map<string, Asset>([
    ["echarts.min.js", asset(fs.readFileSync(require.resolve("echarts/dist/echarts.min.js")), "text/javascript; charset=utf-8")],
    // graphql-ws's package exports do not list its browser build, so it is found beside its package.json.
    ["graphql-ws.min.js", asset(fs.readFileSync(path.join(path.dirname(require.resolve("graphql-ws/package.json")), "umd", "graphql-ws.min.js")), "text/javascript; charset=utf-8")],
    ["board.js", asset(Buffer.from(boardScript(BOARD_PATH)), "text/javascript; charset=utf-8")],
    ["board.css", asset(Buffer.from(BOARD_STYLE), "text/css; charset=utf-8")],
  ]);
  const page = boardPage((name) => `${BOARD_PATH}/assets/${name}?v=${assets.get(name)!.version}`);
  const csp = boardCsp();

  const router = Router();
  router.get("/assets/:file", (req, res, next) => {
    const file = assets.get(String(req.params.file));
    if (!file) return next();
    res.set("Content-Security-Policy", csp);
    res.set("Cache-Control", ASSET_CACHE_CONTROL);
    res.set("Content-Type", file.type);
    res.send(file.body);
  });
  router.get("/", (req, res) => {
    const meeting = typeof req.query.meeting === "string" ? req.query.meeting.trim() : "";
    res.set("Content-Security-Policy", csp);
    if (!meeting) {
      res.status(400).type("text/plain").send(`Which meeting? Open ${BOARD_PATH}/<meetingId> or ${BOARD_PATH}?meeting=<meetingId>\n`);
      return;
    }
    const token = typeof req.query.token === "string" && req.query.token ? `?token=${encodeURIComponent(req.query.token)}` : "";
    res.set("Cache-Control", "no-store");
    res.redirect(302, `${BOARD_PATH}/${encodeURIComponent(meeting)}${token}`);
  });
  router.get("/:meetingId", (_req, res) => sendPage(res, page, csp));
  return router;
}

function asset(body: Buffer, type: string): Asset {
  return { body, type, version: createHash("sha256").update(body).digest("hex").slice(0, 16) };
}

/** The page is the same for every meeting (its script reads the id from the address), and revalidated on each load. */
function sendPage(res: Response, page: string, csp: string): void {
  res.set("Content-Security-Policy", csp);
  res.set("Cache-Control", "no-cache");
  res.type("html").send(page);
}

/**
 * The page's markup: the frame the script fills in, with no inline script or
 * style and nothing from the data (the script sets every figure with
 * textContent). `url` names an asset with its version.
 */
function boardPage(url: (asset: string) => string): string {
  const stageHeads = [
    ["SIGNED", "签约"],
    ["STARTED", "开工"],
    ["IN_PRODUCTION", "投产"],
  ];
  const card = ([stage, name]: string[]) => `<div class="total" data-stage="${stage}">
    <h2>集中${name}</h2>
    <p class="count"><span class="number">—</span>个项目</p>
    <p class="figure"><span class="amount">—</span><span class="unit">亿元</span></p>
  </div>`;
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>三个一批 · 会议看板</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${url("board.css")}">
<script src="${url("echarts.min.js")}" defer></script>
<script src="${url("graphql-ws.min.js")}" defer></script>
<script src="${url("board.js")}" defer></script>
</head>
<body class="stale empty">
<header class="top">
  <div>
    <h1 id="title">三个一批 · 会议看板</h1>
    <p id="date" class="date">&nbsp;</p>
  </div>
  <div class="status">
    <p id="connection" class="connection" data-state="connecting" role="status">连接中 · connecting</p>
    <p id="updated" class="updated">&nbsp;</p>
  </div>
</header>
<section class="totals" aria-label="全省">
  ${stageHeads.map(card).join("\n  ")}
</section>
<main class="detail">
  <section class="panel">
    <h2>主会场 · 分会场</h2>
    <div class="table-fit">
    <table id="venues">
      <thead>
        <tr><th class="venue" rowspan="2">会场</th>${stageHeads.map(([stage, name]) => `<th class="stage ${stage}" colspan="2">${name}</th>`).join("")}</tr>
        <tr>${stageHeads.map(([stage]) => `<th class="${stage}">项目</th><th class="${stage}">亿元</th>`).join("")}</tr>
      </thead>
      <tbody></tbody>
    </table>
    </div>
  </section>
  <section class="panel">
    <h2>分产业领域投资（亿元）</h2>
    <div id="chart" class="chart"></div>
  </section>
</main>
<div id="notice" class="notice" role="alert" hidden><h2 id="notice-title"></h2><p id="notice-text"></p></div>
</body>
</html>
`;
}
