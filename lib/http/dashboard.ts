/**
 * The trader dashboard (the Vite build in dashboard/dist) as the gateway serves it through
 * moleculer-web's options: its files through `assets`, and every page path of the single-page app
 * (a client-side route such as /market) answered with its index.html by a route at `/`.
 */
import fs from "node:fs";
import path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isApiPath, pathOf, requestPath } from "./routing";

/** The dashboard's production build (`npm run build:dashboard`). */
export const DASHBOARD_DIST = path.resolve(__dirname, "../../dashboard/dist");

/** moleculer-web's `assets` setting: the build's files, hashed bundles cached for good, index.html revalidated. */
export const DASHBOARD_ASSETS = {
  folder: DASHBOARD_DIST,
  options: {
    setHeaders(res: ServerResponse, filePath: string) {
      // Vite names the bundles by content hash, so they never change.
      const hashed = filePath.includes(`${path.sep}assets${path.sep}`);
      res.setHeader("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
    },
  },
};

/**
 * Whether a request is for a page of the dashboard (a client-side route such as /market): GET or
 * HEAD, outside /api, and no file extension (a missing /assets/app.js stays a 404 instead of becoming HTML).
 */
export function isDashboardPage(method: string | undefined, url: string | undefined): boolean {
  if (method !== "GET" && method !== "HEAD") return false;
  if (isApiPath(url)) return false;
  return !path.posix.basename(pathOf(url)).includes(".");
}

/** A route middleware answering the dashboard's pages with its index.html; files and the rest go on to `assets`. */
export function dashboardPages(dist = DASHBOARD_DIST) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (!isDashboardPage(req.method, requestPath(req))) return next();
    fs.readFile(path.join(dist, "index.html"), (err, html) => {
      if (err) {
        res.writeHead(503, { "Content-Type": "text/plain; charset=utf-8" });
        res.end("The dashboard is not built: run `npm run build:dashboard` (npm install does it too).\n");
        return;
      }
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache" });
      res.end(req.method === "HEAD" ? undefined : html);
    });
  };
}

/** Why the dashboard cannot be served, when its build is missing. */
export function dashboardNotBuilt(dist = DASHBOARD_DIST): string | undefined {
  return fs.existsSync(path.join(dist, "index.html")) ? undefined : `dashboard not built (${dist} is missing): run \`npm run build:dashboard\``;
}
