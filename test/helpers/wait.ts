/** Small test utilities that need none of the platform's services. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "tbp-test-"));
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 60000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
