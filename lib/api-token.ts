/** The REST API's bearer token: API_TOKEN, else one generated on first start and kept in DATA_DIR. */
import fs from "node:fs";
import path from "node:path";
import { randomBytes, timingSafeEqual } from "node:crypto";

export function resolveApiToken(dataDir: string, configured?: string): { token: string; generated: boolean } {
  if (configured) return { token: configured, generated: false };
  const file = path.join(dataDir, "api-token");
  if (fs.existsSync(file)) return { token: fs.readFileSync(file, "utf8").trim(), generated: false };
  fs.mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString("hex");
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, generated: true };
}

export function tokenMatches(expected: string, header: string | undefined): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  if (!match) return false;
  const given = Buffer.from(match[1]!.trim());
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
