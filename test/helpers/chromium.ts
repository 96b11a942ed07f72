/** Debian's `chromium` for the browser tests (driven by playwright-core). Missing is a failure, not a skip. */
import { execFileSync } from "node:child_process";

export const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

export function chromiumPath(): string {
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("chromium is not installed: the browser tests need it (run `bash scripts/ci/install-chromium.sh`)");
  }
}
