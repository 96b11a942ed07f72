/**
 * Builds the dashboard for the suites that serve it, unless dashboard/dist is already newer than
 * every source file. Jest may run those suites in parallel workers: a lock directory makes them
 * build one at a time, and the freshness check keeps a second build from emptying dist/ under a
 * suite that is serving it.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { DASHBOARD_DIST } from "../../services/gateway.service";

const DASHBOARD = path.resolve(__dirname, "../../dashboard");
const LOCK = path.join(DASHBOARD, ".build.lock");
const STALE_LOCK_MS = 120_000;

function newestSourceTime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "dist" || entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceTime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  const index = path.join(DASHBOARD_DIST, "index.html");
  return fs.existsSync(index) && fs.statSync(index).mtimeMs > newestSourceTime(DASHBOARD);
}

function acquireLock(): void {
  const deadline = Date.now() + STALE_LOCK_MS;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      // A lock left by a killed run would otherwise block every later one.
      if (Date.now() - fs.statSync(LOCK).mtimeMs > STALE_LOCK_MS || Date.now() > deadline) fs.rmSync(LOCK, { recursive: true, force: true });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
}

/** Returns the directory the gateway serves, with a build of the current sources in it. */
export function buildDashboard(): string {
  acquireLock();
  try {
    if (!isFresh()) {
      const vite = path.join(path.dirname(require.resolve("vite/package.json")), "bin", "vite.js");
      execFileSync(process.execPath, [vite, "build", "--config", path.join(DASHBOARD, "vite.config.ts"), "--logLevel", "error"], {
        cwd: path.resolve(DASHBOARD, ".."),
        stdio: ["ignore", "inherit", "inherit"],
        timeout: 120_000,
      });
    }
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
  return DASHBOARD_DIST;
}
