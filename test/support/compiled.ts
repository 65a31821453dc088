import path from "node:path";

/**
 * The compiled server, as `npm start` runs it: test/support/global-setup.ts
 * builds it (incrementally) before any test, so tests that start the server as
 * a process run what production runs, and start in a fraction of a second
 * instead of compiling TypeScript on every start.
 */
export const ROOT = path.join(__dirname, "../..");
export const COMPILED_MAIN = path.join(ROOT, "dist/src/main.js");
