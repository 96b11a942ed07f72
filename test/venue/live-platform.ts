/**
 * The platform on MARKET_DATA=binance pointed at the local Binance-protocol server, in one
 * in-process broker, with every log line captured (the key-leak checks read them) and every topic
 * message recorded.
 */
import { inspect } from "node:util";
import { Loggers } from "moleculer";
import { ALL_TOPICS, type ServiceName } from "../../schemas";
import type { PlatformConfig } from "../../lib/config";
import type { Subscription } from "../../lib/bus/types";
import { TOKEN, startPlatform, tempDataDir, type Platform } from "../helpers/platform";
import type { FakeBinance } from "../fakes/binance-server";

/** Every log line of the broker, at debug level, as text. */
class CapturingLogger extends Loggers.Base<{ level: "debug" }> {
  constructor(private readonly lines: string[]) {
    super({ level: "debug" });
  }

  override getLogHandler(bindings: { mod?: string }) {
    return (level: string, args: unknown[]) => {
      this.lines.push(`${level} ${bindings.mod ?? ""} ${args.map((a) => (typeof a === "string" ? a : inspect(a, { depth: 6 }))).join(" ")}`);
    };
  }
}

export interface LivePlatform extends Platform {
  logs: string[];
  /** Every message on every topic since start, as published. */
  messages: string[];
}

export const FAST_TUNING = { reconnectBaseMs: 100, reconnectMaxMs: 400, breakerCooldownMs: 300, reconcileIntervalMs: 1000, bookIntervalMs: 200 };

export async function startLivePlatform(options: {
  fake?: FakeBinance;
  /** Endpoints when not the fake's (an exchange that is down). */
  urls?: Record<string, unknown>;
  dataDir?: string;
  services?: ServiceName[];
  config?: Partial<PlatformConfig>;
}): Promise<LivePlatform> {
  const dataDir = options.dataDir ?? tempDataDir();
  const config: Partial<PlatformConfig> = {
    dataDir, apiToken: TOKEN, port: 0, kafkaBrokers: [], mongoUri: undefined,
    marketData: "binance", exchangeUrls: options.urls ?? options.fake!.ccxtUrls(), exchangeTimeoutMs: 2000, exchangeTuning: FAST_TUNING,
    ...options.config,
  };
  const logs: string[] = [];
  const platform = await startPlatform({ dataDir, services: options.services, config, logger: new CapturingLogger(logs) });
  const messages: string[] = [];
  const tap: Subscription = await platform.bus.subscribe({ topics: ALL_TOPICS, group: "test-tap", handler: async (m) => void messages.push(m.value) });
  return {
    ...platform,
    logs,
    messages,
    async stop() {
      await tap.close();
      await platform.stop();
    },
  };
}
