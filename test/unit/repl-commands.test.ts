import type { ServiceBroker } from "moleculer";
import { coverageTable, replCommands } from "../../lib/repl-commands";

/** Runs a REPL command against a broker that records the actions called. */
async function run(command: string, args: Record<string, string | undefined>) {
  const calls: Array<[string, unknown]> = [];
  const broker = { call: async (action: string, params?: unknown) => void calls.push([action, params]) } as unknown as ServiceBroker;
  const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
  try {
    await replCommands.find((c) => c.command.split(" ")[0] === command)!.action(broker, args, {});
  } finally {
    log.mockRestore();
  }
  return calls;
}

describe("REPL commands", () => {
  it("drive the account-wide gate", async () => {
    expect(await run("account", {})).toEqual([["risk.getAccount", undefined]]);
    expect(await run("account", { action: "halt", reason: "incident" })).toEqual([["risk.haltAccount", { reason: "incident" }]]);
    expect(await run("account", { action: "resume" })).toEqual([["risk.resumeAccount", undefined]]);
    await expect(run("account", { action: "close" })).rejects.toThrow('account takes show, halt or resume, not "close"');
  });

  it("halt and resume one portfolio", async () => {
    expect(await run("halt", { id: "default" })).toEqual([["risk.halt", { id: "default", reason: "repl" }]]);
    expect(await run("resume", { id: "default" })).toEqual([["risk.resume", { id: "default" }]]);
  });
});

describe("REPL trader command", () => {
  it("lists, shows and sets a trader's allowance and ceilings, typed as the limits are", async () => {
    expect(await run("trader", {})).toEqual([["risk.listTraders", undefined]]);
    expect(await run("trader", { id: "alice" })).toEqual([["risk.getTrader", { id: "alice" }]]);
    expect(await run("trader", { id: "alice", setting: "allowance", field: "2500.5" })).toEqual([["risk.setTrader", { id: "alice", allowance: "2500.5" }]]);
    expect(await run("trader", { id: "alice", setting: "ceiling", field: "maxOrderNotional", value: "2000" })).toEqual([
      ["risk.setTrader", { id: "alice", ceilings: { maxOrderNotional: "2000" } }],
    ]);
    expect(await run("trader", { id: "alice", setting: "ceiling", field: "minConfidence", value: "0.3" })).toEqual([
      ["risk.setTrader", { id: "alice", ceilings: { minConfidence: 0.3 } }],
    ]);
    expect(await run("trader", { id: "alice", setting: "ceiling", field: "maxOpenOrders", value: "null" })).toEqual([
      ["risk.setTrader", { id: "alice", ceilings: { maxOpenOrders: null } }],
    ]);
    await expect(run("trader", { id: "alice", setting: "ceiling", field: "maxOpenOrders" })).rejects.toThrow("usage: trader");
  });
});

describe("REPL coverage command", () => {
  const DAY = 86_400_000;
  const from = Date.UTC(2025, 0, 1);
  const coverage = [
    {
      instrumentKey: "binance:BTC/USDT",
      candles: { first: from, last: from + 3 * DAY - 60_000, rows: 3 * 1440 - 90, gaps: [{ from: from + DAY, to: from + DAY + 30 * 60_000 }, { from: from + 2 * DAY, to: from + 2 * DAY + 3_600_000 }] },
      trades: { first: from + 2 * DAY, last: from + 2 * DAY + 5_000, rows: 12 },
    },
    { instrumentKey: "binance:ETH/USDT", candles: { first: from, last: from + 60_000, rows: 2, gaps: [] } },
  ];

  async function print(args: Record<string, string | undefined>) {
    const calls: Array<[string, unknown]> = [];
    const broker = { call: async (action: string, params?: unknown) => (calls.push([action, params]), coverage) } as unknown as ServiceBroker;
    const lines: string[] = [];
    const log = jest.spyOn(console, "log").mockImplementation((text: string) => void lines.push(text));
    try {
      await replCommands.find((c) => c.command.startsWith("coverage"))!.action(broker, args, {});
    } finally {
      log.mockRestore();
    }
    return { calls, output: lines.join("\n") };
  }

  it("asks the store for all instruments or the one named", async () => {
    expect((await print({})).calls).toEqual([["ingestion.coverage", {}]]);
    expect((await print({ instrument: "binance:BTC/USDT" })).calls).toEqual([["ingestion.coverage", { instrument: "binance:BTC/USDT" }]]);
  });

  it("prints a line per instrument and kind held, with times in UTC, row counts and the minutes the gaps miss", async () => {
    const rows = (await print({})).output.split("\n").map((line) => line.split(/\s{2,}/));
    expect(rows).toEqual([
      ["instrument", "kind", "first (UTC)", "last (UTC)", "rows", "gaps"],
      ["binance:BTC/USDT", "candles", "2025-01-01T00:00:00.000Z", "2025-01-03T23:59:00.000Z", "4230", "2 (90 min missing)"],
      ["binance:BTC/USDT", "trades", "2025-01-03T00:00:00.000Z", "2025-01-03T00:00:05.000Z", "12"],
      ["binance:ETH/USDT", "candles", "2025-01-01T00:00:00.000Z", "2025-01-01T00:01:00.000Z", "2", "none"],
    ]);
    expect(coverageTable([])).toBe("no market data stored");
  });
});
