import fs from "node:fs";
import path from "node:path";

import { invariant } from "../common/errors";
import { getDistDirectory, isSandboxFrame, renderAltair, renderInitSnippet, type RenderOptions } from "altair-static";
import express, { type Response, Router } from "express";

/** Where the offline explorer is served. */
export const EXPLORER_PATH = "/explorer";

/** The GraphQL endpoint the explorer sends its requests to: same origin, so the page needs no CORS and no other host. */
export const EXPLORER_ENDPOINT = "/graphql";

/** The script that starts Altair with our options, served as a file so that the page needs no inline script. */
const INIT_SCRIPT = "initial_options.js";
/** Stands in the init script for the WebSocket address, which only the browser knows (the origin it opened). */
const SUBSCRIPTIONS_PLACEHOLDER = "__SUBSCRIPTIONS_ENDPOINT__";
/** The WebSocket address of /graphql on the page's own origin, as a script expression. */
const SUBSCRIPTIONS_ENDPOINT_EXPRESSION = '(location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql"';

/** The explorer page's title (Altair's own page says "Altair"). */
export const EXPLORER_TITLE = "重大项目 GraphQL explorer";

/**
 * What the result pane says before the first request, in place of Altair's
 * "Ezio my friend, how may I be of service?". Altair has no option for it: it
 * is QUERY_RESULT_NO_RESULT_TEXT of the translation files it fetches from
 * assets/i18n/<language>.json under its base URL, so those files are served
 * with this text (`sendRequest` is the file's own label of the button).
 */
export function emptyResultText(language: string, sendRequest: string): string {
  return /^(zh|cn)\b/i.test(language)
    ? `重大项目 GraphQL API：点击“${sendRequest}”运行左边的查询，结果显示在这里。`
    : `重大项目 GraphQL API: press “${sendRequest}” to run the query on the left; its answer shows here.`;
}

/** The question most people open the explorer for, shown in its first tab (README, "The query it exists for"). */
const INITIAL_QUERY = `# 全省到县的项目总量、行业与阶段分布 / The province down to every county, each with sector and stage breakdowns.
query ProvinceToCounty {
  region(code: "410000") {
    code
    name
    stats {
      projectCount
      totalInvestment
      byStage { stage projectCount totalInvestment }
      bySector { sector { code name } projectCount totalInvestment }
    }
    children {
      code
      name
      stats { projectCount totalInvestment bySector { sector { code } projectCount totalInvestment } }
      children { code name stats { projectCount totalInvestment bySector { sector { code } totalInvestment } } }
    }
  }
}
`;

/**
 * How Altair is started: against /graphql on the same origin, with everything
 * that would reach altairgraphql.dev or a CDN switched off (accounts and
 * remote sync, update notices, banners, push notifications, plugins).
 * Its own sandbox for pre-request scripts is found under
 * /explorer/iframe-sandbox, so it is not fetched from sandbox.altairgraphql.dev.
 */
const ALTAIR_OPTIONS: RenderOptions = {
  baseURL: `${EXPLORER_PATH}/`,
  endpointURL: EXPLORER_ENDPOINT,
  // The first tab is then named after the query's operation (ProvinceToCounty), as Altair names every tab. (A tab of
  // `initialWindows` would keep its name, but Altair does not resolve a relative endpointURL there.)
  initialName: "重大项目",
  initialQuery: INITIAL_QUERY,
  initialHttpMethod: "POST",
  // Subscriptions over graphql-ws at /graphql on the page's own host (ws:// or wss://, put in when the page runs).
  subscriptionsEndpoint: SUBSCRIPTIONS_PLACEHOLDER,
  initialSubscriptionRequestHandlerId: "graphql-ws",
  instanceStorageNamespace: "major_projects_",
  disableAccount: true,
  serveInitialOptionsInSeperateRequest: INIT_SCRIPT,
  initialSettings: {
    "alert.disableUpdateNotification": true,
    "banners.disable": true,
    disablePushNotification: true,
    "plugin.list": [],
    "schema.reloadOnStart": true,
  },
};

/** The Content-Security-Policy directives of the explorer page (a helmet `contentSecurityPolicy.directives` object). */
export function explorerCspDirectives(): Record<string, string[]> {
  return {
    "default-src": ["'self'"],
    // Altair's modules, web workers and the file that starts it (initial_options.js): no inline script, no eval.
    "script-src": ["'self'"],
    "worker-src": ["'self'"],
    // Angular and its components add <style> elements and style attributes at run time.
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'", "data:"],
    // Requests go to /graphql on the same origin only (subscriptions by WebSocket to the same host).
    "connect-src": ["'self'"],
    // Altair's script sandbox is an iframe of /explorer/iframe-sandbox/.
    "frame-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'self'"],
  };
}

/** The explorer page's Content-Security-Policy header value: nothing outside this origin, no inline script. */
export function explorerCsp(): string {
  return toHeader(explorerCspDirectives());
}

/**
 * The policy of Altair's script sandbox (the iframe under /explorer/iframe-sandbox/
 * that runs pre- and post-request scripts): it evaluates the user's script, so
 * it needs 'unsafe-eval', and it still reaches nothing but this origin.
 */
export function explorerSandboxCsp(): string {
  return toHeader({ ...explorerCspDirectives(), "script-src": ["'self'", "'unsafe-eval'"] });
}

/**
 * The offline explorer: Altair GraphQL Client served from the altair-static
 * package's own files at /explorer, sending its requests to /graphql. Nothing
 * is loaded from a CDN or any other host, so it works on a network without
 * internet. Every answer carries its own Content-Security-Policy (replacing a
 * stricter one set earlier, e.g. by helmet). Mount it at EXPLORER_PATH
 * (`app.use(EXPLORER_PATH, explorerRoutes())`) or at the root
 * (`app.use(explorerRoutes())`): it answers under /explorer either way.
 */
export function explorerRoutes(): Router {
  const page = renderAltair(ALTAIR_OPTIONS).replace(/<title>[^<]*<\/title>/, `<title>${EXPLORER_TITLE}</title>`);
  const init = renderInitSnippet(ALTAIR_OPTIONS).replace(`\`${SUBSCRIPTIONS_PLACEHOLDER}\``, SUBSCRIPTIONS_ENDPOINT_EXPRESSION);
  invariant(!init.includes(SUBSCRIPTIONS_PLACEHOLDER), "Altair's init snippet no longer writes subscriptionsEndpoint as a template literal");
  const translations = translationFiles();
  const sendPage = (res: Response) => {
    res.set("Content-Security-Policy", explorerCsp());
    res.set("Cache-Control", "no-cache");
    res.type("html").send(page);
  };

  // Paths relative to /explorer. Non-strict routing: /explorer and /explorer/ are the same page, and
  // <base href="/explorer/"> resolves its files either way.
  const explorer = Router();
  explorer.get("/", (_req, res) => sendPage(res));
  explorer.get("/index.html", (_req, res) => sendPage(res));
  explorer.get(`/${INIT_SCRIPT}`, (_req, res) => {
    res.set("Content-Security-Policy", explorerCsp());
    res.set("Cache-Control", "no-cache");
    res.type("text/javascript").send(init);
  });
  explorer.get("/assets/i18n/:file", (req, res, next) => {
    const text = translations.get(String(req.params.file));
    if (text === undefined) return next();
    res.set("Content-Security-Policy", explorerCsp());
    res.set("Cache-Control", "no-cache");
    res.type("application/json").send(text);
  });
  explorer.use(
    express.static(getDistDirectory(), {
      index: false,
      setHeaders: (res, path) => {
        res.setHeader("Content-Security-Policy", isSandboxFrame(path) ? explorerSandboxCsp() : explorerCsp());
      },
    }),
  );

  const router = Router();
  router.use((req, res, next) => (req.baseUrl === EXPLORER_PATH ? explorer(req, res, next) : next()));
  router.use(EXPLORER_PATH, (req, res, next) => (req.baseUrl === EXPLORER_PATH ? explorer(req, res, next) : next()));
  return router;
}

/** Altair's translation files (file name to JSON text), each with the product's empty-result text (emptyResultText). */
function translationFiles(): Map<string, string> {
  const directory = path.join(getDistDirectory(), "assets", "i18n");
  const files = new Map<string, string>();
  for (const file of fs.readdirSync(directory)) {
    if (!file.endsWith(".json")) continue;
    const strings = JSON.parse(fs.readFileSync(path.join(directory, file), "utf8")) as Record<string, string>;
    if (typeof strings.QUERY_RESULT_NO_RESULT_TEXT === "string") {
      strings.QUERY_RESULT_NO_RESULT_TEXT = emptyResultText(file.slice(0, -".json".length), strings.SEND_REQUEST_BUTTON ?? "Send Request");
    }
    files.set(file, JSON.stringify(strings));
  }
  return files;
}

/** A header value from directives: `name value value; name value`. */
function toHeader(directives: Record<string, string[]>): string {
  return Object.entries(directives)
    .map(([name, values]) => `${name} ${values.join(" ")}`)
    .join("; ");
}
