/**
 * Starts the platform: every service in one broker (the embedded default), or the services named in
 * SERVICES (distributed mode, with TRANSPORTER set). `--repl` opens the Moleculer REPL with the
 * platform's commands.
 */
import { ServiceBroker, type BrokerOptions } from "moleculer";

type ReplCustomCommands = NonNullable<NonNullable<BrokerOptions["replOptions"]>["customCommands"]>;
import { brokerOptions } from "../moleculer.config";
import { SERVICE_SCHEMAS, selectServices } from "../services";
import { loadConfig } from "../lib/config";
import { ConfigError } from "../lib/errors";
import { replCommands } from "../lib/repl-commands";

async function main(): Promise<void> {
  // Parsed and validated once, before anything starts: a bad value stops the start naming its variable.
  const config = loadConfig();
  const names = selectServices(process.env.SERVICES);
  const broker = new ServiceBroker({ ...brokerOptions(), metadata: { config }, replOptions: { customCommands: replCommands as unknown as ReplCustomCommands } });
  for (const name of names) broker.createService(SERVICE_SCHEMAS[name]);
  await broker.start();
  broker.logger.info(
    `platform up: services ${names.join(", ")}; market data ${config.marketData} (speed ${config.simSpeed}x); ` +
      `bus ${config.kafkaBrokers.length ? "kafka" : "embedded"}; store ${config.mongoUri ? "mongodb" : config.dataDir}` +
      (names.includes("gateway") ? `; API http://localhost:${config.port}/api` : ""),
  );
  let stopping = false;
  // SIGTERM and SIGINT can both arrive (npm and tsx forward signals): stop once.
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await broker.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
  if (process.argv.includes("--repl")) await broker.repl();
}

main().catch((err) => {
  // A wrong setting needs its message, not a stack trace.
  console.error(err instanceof ConfigError ? `configuration: ${err.message}` : err);
  process.exit(1);
});
