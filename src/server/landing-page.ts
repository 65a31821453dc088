import { createHash } from "node:crypto";

import type { Request, RequestHandler } from "express";

import { EXPLORER_PATH } from "./explorer";

/** What Apollo Server 5 negotiates a GET against (its `prefersHTML`): the page goes to a browser that prefers HTML to all of these. */
const MEDIA_TYPES = [
  "application/json",
  "application/graphql-response+json",
  "multipart/mixed; deferSpec=20220824",
  "multipart/mixed; incrementalSpec=v0.2",
  "multipart/mixed",
  "text/html",
];

/**
 * The page a browser gets at GET /graphql, answered here rather than by
 * Apollo (whose landing-page plugin renders without the request, so it could
 * not name the address the page was served on; Apollo's own page is turned
 * off in ./server.ts): plain HTML with no script, so it shows on a network
 * without internet (Apollo's page loads Sandbox from a CDN and is blank
 * there). It links to the explorer served from this server's own files and,
 * for those online, to Apollo Sandbox; its curl example names the address the
 * page was served on. Any other request goes on to Apollo.
 */
export function landingPageRoute(production: boolean): RequestHandler {
  return (req, res, next) => {
    if (req.method !== "GET" || !req.headers.accept || req.accepts(MEDIA_TYPES) !== "text/html") return next();
    res.type("text/html").send(production ? PRODUCTION_PAGE : developmentPage(servedOrigin(req)));
  };
}

/** `hostname`, `IPv4` or `[IPv6]`, with an optional port: anything else in a Host header is not shown. */
const PLAIN_HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * The origin a request was served on, e.g. `http://10.1.2.3:4000`: its protocol
 * and Host header when that is a plain host[:port], else the address and port
 * of the socket it arrived on. A hostile Host header is never shown.
 */
export function servedOrigin(req: Request): string {
  const protocol = req.protocol === "https" ? "https" : "http";
  const host = req.headers.host;
  if (host && PLAIN_HOST.test(host)) return `${protocol}://${host.toLowerCase()}`;
  const address = req.socket.localAddress ?? "localhost";
  const port = req.socket.localPort;
  const shown = address.startsWith("::ffff:") ? address.slice(7) : address.includes(":") ? `[${address}]` : address;
  return `${protocol}://${shown}${port ? `:${port}` : ""}`;
}

/** Text for HTML element content and attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** One shell word in single quotes (POSIX sh: a quote inside ends, escapes and reopens it). */
function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `pre-wrap` and `anywhere`: a long line (the curl example on a phone) wraps instead of being cut off; copying it still gives one line. */
const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#222}code,pre{background:#f4f4f4;padding:.1rem .3rem}pre{padding:.8rem;white-space:pre-wrap;overflow-wrap:anywhere}`;

/** The CSP source that allows the page's one inline style and nothing else. */
export const LANDING_STYLE_HASH = `'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`;

/** The curl example's request body: the province's name and totals. */
const CURL_QUERY = `{"query":"{ region(code: \\"410000\\") { name stats { projectCount totalInvestment } } }"}`;

/** The development page for a server reached at `origin` (escaped here for the shell, then for HTML). */
export function developmentPage(origin: string): string {
  const endpoint = `${origin}/graphql`;
  const curl = [`curl -H 'content-type: application/json' \\`, `  -d ${shellQuote(CURL_QUERY)} \\`, `  ${shellQuote(endpoint)}`].join("\n");
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>重大项目 GraphQL API</title><style>${STYLE}</style></head>
<body>
<h1>重大项目 GraphQL API</h1>
<p>Send GraphQL requests to <code>${escapeHtml(endpoint)}</code> by POST (or queries by GET).</p>
<ul>
<li><a href="${EXPLORER_PATH}">Open the explorer</a>: served by this server, works without internet.</li>
<li><a href="https://studio.apollographql.com/sandbox/explorer" rel="noopener">Apollo Sandbox</a> (needs internet): set its endpoint to <code>${escapeHtml(endpoint)}</code>.</li>
</ul>
<pre>${escapeHtml(curl)}</pre>
</body></html>`;
}

const PRODUCTION_PAGE = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>重大项目 GraphQL API</title><style>${STYLE}</style></head>
<body><h1>重大项目 GraphQL API</h1><p>Send GraphQL requests to this URL by POST (or queries by GET). The <a href="${EXPLORER_PATH}">explorer</a> runs queries from a browser.</p></body></html>`;
