import { ServiceBroker } from "moleculer";
import { loadConfig, platformConfig } from "../../lib/config";
import { ConfigError } from "../../lib/errors";

describe("platform configuration", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("hands a broker's services the configuration parsed at start, as it is", () => {
    const config = loadConfig({ SIM_SPEED: "7", TOPIC_PARTITIONS: "3" });
    const broker = new ServiceBroker({ logger: false, metadata: { config } });
    // Whatever the environment says later, the services see what was parsed at start.
    process.env.SIM_SPEED = "not a number";
    expect(platformConfig(broker)).toBe(config);
    expect(platformConfig(broker)).toMatchObject({ simSpeed: 7, partitions: 3 });
  });

  it("completes a partial configuration from the environment once per broker", () => {
    process.env.TOPIC_PARTITIONS = "4";
    const broker = new ServiceBroker({ logger: false, metadata: { config: { simSpeed: 300 } } });
    const first = platformConfig(broker);
    expect(first).toMatchObject({ simSpeed: 300, partitions: 4, strategy: "rule" });
    // Parsed once: a changed (even a wrong) environment is not read again for this broker.
    process.env.TOPIC_PARTITIONS = "-1";
    expect(platformConfig(broker)).toBe(first);
    // Another broker parses for itself, and a bad value stops it naming the variable.
    const other = new ServiceBroker({ logger: false });
    expect(() => platformConfig(other)).toThrow(new ConfigError('TOPIC_PARTITIONS must be a positive number, got "-1"'));
  });

  it("names the variable of every bad setting, trader tokens included", () => {
    expect(() => loadConfig({ RETENTION_CANDLES: "lots" })).toThrow(ConfigError);
    expect(() => loadConfig({ RETENTION_CANDLES: "lots" })).toThrow('RETENTION_CANDLES must be a positive number, got "lots"');
    expect(() => loadConfig({ TRADER_TOKENS: "alice" })).toThrow(ConfigError);
    expect(() => loadConfig({ TRADER_TOKENS: "alice" })).toThrow(/^TRADER_TOKENS: /);
  });
});
