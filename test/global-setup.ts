/**
 * Starts the real servers the integration suites need — Apache Kafka, FerretDB (MongoDB protocol),
 * NATS and QuestDB (market data) — through the project's scripts (installed and cached on first use),
 * and hands their addresses to the tests. A server that cannot start fails the run: nothing is skipped.
 */
import { execFileSync } from "node:child_process";
import { parseInfraEnv, serverScript, serversNotRunning } from "./helpers/infra";


export default async function globalSetup(): Promise<void> {
  // Read by global-teardown.ts (same process), which stops these and leaves the others running.
  process.env.TEST_INFRA_STARTED_HERE = serversNotRunning().join(",");
  const output = execFileSync("bash", [serverScript("all"), "start"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 15 * 60 * 1000 });
  for (const [key, value] of Object.entries(parseInfraEnv(output))) process.env[`TEST_${key}`] = value;
}
