/**
 * The page a browser gets at GET /graphql, as a new user meets it: its curl
 * example names the address the page was served on (from the request's Host
 * header, never a hostile one), quoted for the shell and escaped for HTML,
 * and its long lines wrap instead of being cut off.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import http from "node:http";

import { developmentPage } from "../../src/server/landing-page";
import { startTestServer, type TestServer } from "../support/test-server";

/** GET /graphql as a browser asks for it, with the Host header given (node:http sends it as is). */
function getPage(url: string, host?: string): Promise<{ status: number; csp: string; html: string }> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.get({ hostname, port, path: pathname, headers: { accept: "text/html", ...(host === undefined ? {} : { host }) } }, (res) => {
      let html = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (html += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, csp: String(res.headers["content-security-policy"] ?? ""), html }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/** Element text as the browser shows it (the page escapes &, <, >, " and ' as numeric references). */
function unescapeHtml(text: string): string {
  return text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}

/** The curl example as a user copies it from the page. */
function curlOf(html: string): string {
  const match = /<pre>([\s\S]*?)<\/pre>/.exec(html);
  if (!match) throw new Error(`no <pre> in the page:\n${html}`);
  return unescapeHtml(match[1]);
}

/** The curl example for `endpoint`, exactly as it should be copied. */
function expectedCurl(endpoint: string): string {
  return [
    `curl -H 'content-type: application/json' \\`,
    `  -d '{"query":"{ region(code: \\"410000\\") { name stats { projectCount totalInvestment } } }"}' \\`,
    `  '${endpoint}'`,
  ].join("\n");
}

describe("the landing page at GET /graphql", () => {
  let server: TestServer;
  let served: string;

  beforeAll(async () => {
    server = await startTestServer("sqlite");
    served = new URL(server.url).host; // 127.0.0.1:<port>
  });
  afterAll(async () => server?.close());

  it("shows the address it was served on in its curl example, not HOST:PORT", async () => {
    const page = await getPage(server.url);
    expect(page.status).toBe(200);
    expect(page.html).not.toContain("HOST:PORT");
    expect(curlOf(page.html)).toBe(expectedCurl(`http://${served}/graphql`));
    expect(page.html).toContain(`<code>http://${served}/graphql</code>`);
  });

  it("shows the host name the browser used (a proxy's or a DNS name), with its port", async () => {
    const page = await getPage(server.url, "projects.example.gov.cn:8080");
    expect(curlOf(page.html)).toBe(expectedCurl("http://projects.example.gov.cn:8080/graphql"));
  });

  it.each([
    ["markup", `evil.example"><script>alert(1)</script>`],
    ["a shell command", `x.example';touch /tmp/landing-pwned;'`],
    ["a command substitution", "x.example$(id)"],
  ])("never shows a Host header carrying %s: the address the request arrived on instead", async (_what, host) => {
    const page = await getPage(server.url, host);
    expect(page.status).toBe(200);
    expect(page.html.toLowerCase()).not.toContain("<script");
    for (const part of ["alert(1)", "touch", "$(id)", "evil", "x.example"]) expect(page.html).not.toContain(part);
    expect(curlOf(page.html)).toBe(expectedCurl(`http://${served}/graphql`));
  });

  it("escapes whatever origin it is given for HTML, and quotes it for the shell", () => {
    const origin = `http://x'"<b>&$(id)`;
    const html = developmentPage(origin);
    expect(html).not.toContain("<b>");
    expect(html).not.toMatch(/&(?!#\d+;)/); // every & starts a character reference
    const lastWord = curlOf(html).split("\n").pop()!.trim();
    // The shell reads the quoted word back as the endpoint, running nothing.
    expect(execFileSync("sh", ["-c", `printf '%s' ${lastWord}`], { encoding: "utf8" })).toBe(`${origin}/graphql`);
  });

  it("wraps long lines instead of cutting them off, with its one inline style still allowed by the CSP", async () => {
    const page = await getPage(server.url);
    const style = /<style>([^<]*)<\/style>/.exec(page.html)![1];
    expect(style).toMatch(/pre\{[^}]*white-space:pre-wrap/);
    expect(style).toMatch(/pre\{[^}]*overflow-wrap:anywhere/);
    expect(style).not.toMatch(/overflow:auto/);
    expect(page.csp).toContain(`'sha256-${createHash("sha256").update(style).digest("base64")}'`);
  });
});
