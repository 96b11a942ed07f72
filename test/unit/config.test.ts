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
    expect(() => loadConfig({ RETENTION_TRADES_DAYS: "lots" })).toThrow(ConfigError);
    expect(() => loadConfig({ RETENTION_TRADES_DAYS: "lots" })).toThrow('RETENTION_TRADES_DAYS must be a number, 0 or more, got "lots"');
    expect(() => loadConfig({ RETENTION_BOOKS_DAYS: "-1" })).toThrow('RETENTION_BOOKS_DAYS must be a number, 0 or more, got "-1"');
    expect(() => loadConfig({ RETENTION_CANDLES: "10000" })).toThrow(/^RETENTION_CANDLES is replaced by RETENTION_CANDLES_DAYS/);
    expect(() => loadConfig({ QUESTDB_URL: "127.0.0.1:8812" })).toThrow(/^QUESTDB_URL must be a PostgreSQL wire URL/);
    expect(() => loadConfig({ QUESTDB_URL: "postgresql://admin:quest@q:8812/qdb", QUESTDB_TABLE_PREFIX: "a;DROP TABLE candles" })).toThrow(/^QUESTDB_TABLE_PREFIX must hold only letters/);
    expect(() => loadConfig({ TRADER_TOKENS: "alice" })).toThrow(ConfigError);
    expect(() => loadConfig({ TRADER_TOKENS: "alice" })).toThrow(/^TRADER_TOKENS: /);
  });

  describe("the market data store", () => {
    const DAY = 86_400_000;

    it("is DuckDB in DATA_DIR by default, QuestDB when QUESTDB_URL names one", () => {
      expect(loadConfig({ DATA_DIR: "/srv/tbp" }).marketStore).toEqual({ kind: "duckdb", path: "/srv/tbp/market.duckdb" });
      expect(loadConfig({ DATA_DIR: "/srv/tbp", QUESTDB_URL: "postgresql://admin:quest@questdb:8812/qdb", QUESTDB_TABLE_PREFIX: "staging_" }).marketStore).toEqual({
        kind: "questdb",
        pgUrl: "postgresql://admin:quest@questdb:8812/qdb",
        tablePrefix: "staging_",
      });
      expect(loadConfig({ QUESTDB_URL: "postgres://admin:quest@127.0.0.1:8812/qdb" }).marketStore).toEqual({ kind: "questdb", pgUrl: "postgres://admin:quest@127.0.0.1:8812/qdb", tablePrefix: "" });
    });

    it("keeps trades 7 days, books 2 and candles with their indicators forever unless told otherwise", () => {
      expect(loadConfig({}).retention).toEqual({ trades: 7 * DAY, books: 2 * DAY, candles: 0, indicators: 0 });
      expect(loadConfig({ RETENTION_TRADES_DAYS: "0.5", RETENTION_BOOKS_DAYS: "0", RETENTION_CANDLES_DAYS: "730" }).retention).toEqual({
        trades: DAY / 2,
        books: 0,
        candles: 730 * DAY,
        indicators: 730 * DAY,
      });
    });

    it("puts the embedded store in the DATA_DIR a broker is given", () => {
      const broker = new ServiceBroker({ logger: false, metadata: { config: { dataDir: "/tmp/tbp-given" } } });
      expect(platformConfig(broker).marketStore).toEqual({ kind: "duckdb", path: "/tmp/tbp-given/market.duckdb" });
    });
  });
});
