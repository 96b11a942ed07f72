/**
 * A Kafka, FerretDB, NATS and QuestDB of a test's own, on free ports with their data in a temporary folder,
 * through the same scripts as the shared servers (scripts/infra/*.sh honour TBP_INFRA_RUN and the
 * *_PORT variables). A test that restarts the broker or the database uses these, so the suites
 * sharing the servers of test/global-setup.ts are not disturbed.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { serverScript, type Infra } from "./infra";
import { freePort } from "./ports";


export interface DedicatedInfra extends Infra {
  /** Runs `scripts/infra/<server>.sh <command>` (start, stop, restart) on these servers; asynchronous, so the test's event loop keeps turning. */
  control(server: "kafka" | "ferretdb" | "nats" | "questdb" | "all", command: "start" | "stop" | "restart"): Promise<void>;
  /** Stops the servers and deletes their data. */
  destroy(): Promise<void>;
}

export async function startDedicatedInfra(): Promise<DedicatedInfra> {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "tbp-infra-"));
  const ports = {
    KAFKA_PORT: await freePort(),
    KAFKA_CONTROLLER_PORT: await freePort(),
    FERRETDB_PORT: await freePort(),
    NATS_PORT: await freePort(),
    QUESTDB_HTTP_PORT: await freePort(),
    QUESTDB_PG_PORT: await freePort(),
    QUESTDB_ILP_PORT: await freePort(),
    QUESTDB_HTTP_MIN_PORT: await freePort(),
  };
  const env = { ...process.env, TBP_INFRA_RUN: runDir, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  const control: DedicatedInfra["control"] = async (server, command) => {
    await promisify(execFile)("bash", [serverScript(server), command], { env, timeout: 180_000 });
  };
  try {
    await control("all", "start");
  } catch (err) {
    await control("all", "stop").catch(() => undefined);
    throw err;
  }
  return {
    kafkaBrokers: [`127.0.0.1:${ports.KAFKA_PORT}`],
    mongoUri: `mongodb://127.0.0.1:${ports.FERRETDB_PORT}/tbp`,
    natsUrl: `nats://127.0.0.1:${ports.NATS_PORT}`,
    questdbHttpUrl: `http://127.0.0.1:${ports.QUESTDB_HTTP_PORT}`,
    questdbPgUrl: `postgresql://admin:quest@127.0.0.1:${ports.QUESTDB_PG_PORT}/qdb`,
    control,
    async destroy() {
      await control("all", "stop");
      fs.rmSync(runDir, { recursive: true, force: true });
    },
  };
}
