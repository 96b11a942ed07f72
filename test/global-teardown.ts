/** Stops the servers global-setup started (leaves alone the ones that ran before). */
import { stopServers } from "./helpers/infra";

export default async function globalTeardown(): Promise<void> {
  stopServers((process.env.TEST_INFRA_STARTED_HERE ?? "").split(",").filter(Boolean));
}
