/** Small test utilities that need none of the platform's services. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "tbp-test-"));
}

/**
 * Polls until the probe returns something truthy. A probe that throws (a service restarting, a
 * node not yet known to be gone) counts as "not yet"; its last error is named on timeout.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 60000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
