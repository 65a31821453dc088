import { Router } from "express";

/** Where the offline explorer is served. */
export const EXPLORER_PATH = "/explorer";

/** The offline explorer (to be filled in): a GraphQL IDE served from an npm package's own files, no CDN. */
export function explorerRoutes(): Router {
  return Router();
}
