import { createHash } from "node:crypto";

import type { ApolloServerPlugin } from "@apollo/server";

import { EXPLORER_PATH } from "./explorer";

/**
 * The page a browser gets at GET /graphql: plain HTML with no script, so it
 * shows on a network without internet (Apollo's own landing page loads
 * Sandbox from a CDN and is blank there). It links to the explorer served
 * from this server's own files and, for those online, to Apollo Sandbox.
 */
export function landingPage(production: boolean): ApolloServerPlugin {
  return {
    async serverWillStart() {
      return {
        async renderLandingPage() {
          return { html: production ? PRODUCTION_PAGE : DEVELOPMENT_PAGE };
        },
      };
    },
  };
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#222}code,pre{background:#f4f4f4;padding:.1rem .3rem}pre{padding:.8rem;overflow:auto}`;

/** The CSP source that allows the page's one inline style and nothing else. */
export const LANDING_STYLE_HASH = `'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`;

const DEVELOPMENT_PAGE = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>重大项目 GraphQL API</title><style>${STYLE}</style></head>
<body>
<h1>重大项目 GraphQL API</h1>
<p>Send GraphQL requests to this URL by POST (or queries by GET).</p>
<ul>
<li><a href="${EXPLORER_PATH}">Open the explorer</a>: served by this server, works without internet.</li>
<li><a href="https://studio.apollographql.com/sandbox/explorer" rel="noopener">Apollo Sandbox</a> (needs internet): set its endpoint to this page's address.</li>
</ul>
<pre>curl -H 'content-type: application/json' \\
  -d '{"query":"{ region(code: \\"410000\\") { name stats { projectCount totalInvestment } } }"}' \\
  http://HOST:PORT/graphql</pre>
</body></html>`;

const PRODUCTION_PAGE = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>重大项目 GraphQL API</title><style>${STYLE}</style></head>
<body><h1>重大项目 GraphQL API</h1><p>Send GraphQL requests to this URL by POST (or queries by GET). The <a href="${EXPLORER_PATH}">explorer</a> runs queries from a browser.</p></body></html>`;
