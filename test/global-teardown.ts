/** Stops the servers global-setup started (leaves alone the ones a developer had running). */
import { execFileSync } from "node:child_process";
import path from "node:path";

export default async function globalTeardown(): Promise<void> {
  if (process.env.TEST_INFRA_STARTED_HERE !== "1") return;
  execFileSync("bash", [path.join(__dirname, "..", "scripts", "infra", "all.sh"), "stop"], { stdio: "inherit" });
}
