/**
 * The finished-response cache's waiting, as bookkeeping: identical anonymous
 * requests wait for the one computing their answer, and none is ever made to
 * wait for a request whose response is already over (its client gone, or the
 * request timeout's 503 sent), which would never settle. No answer is kept
 * here (none is ever computed), so nothing is read from a database.
 */
import { EventEmitter } from "node:events";

import type { NextFunction, Request, Response } from "express";
import type { DataSource } from "typeorm";

import { ResponseCache } from "../../src/server/response-cache";
import type { SharedCache } from "../../src/server/shared-cache";

const BODY = { query: "{ region(code: \"410000\") { name } }" };

/** A request as far as the middleware looks: an anonymous POST, its response with the state Node keeps. */
function exchange() {
  const req = { method: "POST", headers: {}, body: BODY } as unknown as Request;
  const res = Object.assign(new EventEmitter(), { locals: { request: {} }, writableEnded: false, destroyed: false, setHeader: () => undefined }) as unknown as Response & {
    writableEnded: boolean;
    destroyed: boolean;
  };
  const next = jest.fn() as unknown as NextFunction & jest.Mock;
  return { req, res, next };
}

/** Lets the promise callbacks queued so far run. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe("ResponseCache: waiting for an identical request", () => {
  const cache = () => new ResponseCache({} as DataSource, {} as SharedCache, { maxBytes: 1 << 20, maxAgeSeconds: 5, sqlStatementsHeader: false });

  it.each([
    ["its connection closed", (res: ReturnType<typeof exchange>["res"]) => ((res.destroyed = true), res.emit("close"))],
    ["the request timeout answered it", (res: ReturnType<typeof exchange>["res"]) => ((res.writableEnded = true), res.emit("finish"), res.emit("close"))],
  ])("a waiter whose response is over (%s) when the one it waited for ends is not what later requests wait for", async (_, end) => {
    const responses = cache().middleware();
    const [a, b, c] = [exchange(), exchange(), exchange()];
    responses(a.req, a.res, a.next);
    expect(a.next).toHaveBeenCalledTimes(1); // A computes
    responses(b.req, b.res, b.next);
    await settled();
    expect(b.next).not.toHaveBeenCalled(); // B waits for A
    end(b.res);
    a.res.emit("close"); // A's client went away too: nothing was kept
    await settled();
    expect(b.next).not.toHaveBeenCalled(); // B, over, neither computes nor waits
    responses(c.req, c.res, c.next);
    await settled();
    expect(c.next).toHaveBeenCalledTimes(1); // C computes at once instead of waiting for B
  });

  it("a request whose response is over before the cache sees it does not compute, nor make others wait", async () => {
    const responses = cache().middleware();
    const [a, c] = [exchange(), exchange()];
    a.res.writableEnded = true; // the request timeout's 503, sent while its body was read
    responses(a.req, a.res, a.next);
    expect(a.next).not.toHaveBeenCalled();
    responses(c.req, c.res, c.next);
    await settled();
    expect(c.next).toHaveBeenCalledTimes(1);
  });

  it("a waiter whose response is live when the one it waited for ends computes the answer, and the next waits for it", async () => {
    const responses = cache().middleware();
    const [a, b, c] = [exchange(), exchange(), exchange()];
    responses(a.req, a.res, a.next);
    responses(b.req, b.res, b.next);
    a.res.emit("close");
    await settled();
    expect(b.next).toHaveBeenCalledTimes(1); // B computes, being the one the others wait for
    responses(c.req, c.res, c.next);
    await settled();
    expect(c.next).not.toHaveBeenCalled();
    b.res.emit("finish");
    await settled();
    expect(c.next).toHaveBeenCalledTimes(1); // nothing kept: C computes itself
  });
});
