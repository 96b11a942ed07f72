/** Platform commands for the Moleculer REPL (`npm run repl`). */
import type { ServiceBroker } from "moleculer";
import { DEFAULT_LIMITS } from "./risk/rules";
import { isoTime } from "./clock";
import { MARKET_DATA_KINDS, MINUTE_MS, type Gap, type InstrumentCoverage } from "./marketdata/types";
import type { RiskLimits } from "../schemas";

type Args = Record<string, string | undefined>;
interface Helpers {
  table?: unknown;
}

const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

export const replCommands = [
  {
    command: "portfolio [id]",
    description: "Portfolio snapshot: cash, equity, P&L, positions (default: the default portfolio)",
    async action(broker: ServiceBroker, args: Args) {
      print(await broker.call("risk.getPortfolio", { id: args.id ?? "default" }));
    },
  },
  {
    command: "register <exchange> <symbol> [portfolio]",
    description: "Register an instrument, e.g. register binance BTC/USDT default",
    async action(broker: ServiceBroker, args: Args) {
      print(await broker.call("risk.registerInstrument", { exchange: args.exchange, symbol: args.symbol, portfolioId: args.portfolio ?? "default" }));
    },
  },
  {
    command: "topics",
    description: "Topic offsets (messages) and each consumer group's lag",
    async action(broker: ServiceBroker, _args: Args, _helpers: Helpers) {
      const topics = await broker.call<Array<{ topic: string; messages: number; groups: Array<{ group: string; lag: number }> }>>("gateway.topics");
      for (const t of topics) {
        const lags = t.groups.map((g) => `${g.group}:${g.lag}`).join(" ");
        console.log(`${t.topic.padEnd(28)} ${String(t.messages).padStart(9)}  lag ${lags || "-"}`);
      }
    },
  },
  {
    command: "coverage [instrument]",
    description: "Stored market data per instrument and kind: first and last time (UTC), rows, gaps in the 1-minute candles",
    async action(broker: ServiceBroker, args: Args) {
      const coverage = await broker.call<InstrumentCoverage[], { instrument?: string }>("ingestion.coverage", args.instrument ? { instrument: args.instrument } : {});
      console.log(coverageTable(coverage));
    },
  },
  {
    command: "halt <id> [reason]",
    description: "Kill switch: halt a portfolio (new signals are rejected with reason halted)",
    async action(broker: ServiceBroker, args: Args) {
      print(await broker.call("risk.halt", { id: args.id, reason: args.reason ?? "repl" }));
    },
  },
  {
    command: "resume <id>",
    description: "Resume a halted portfolio",
    async action(broker: ServiceBroker, args: Args) {
      print(await broker.call("risk.resume", { id: args.id }));
    },
  },
  {
    command: "account [action] [reason]",
    description: "The account-wide risk gate: its state and usage; `account halt [reason]` or `account resume` for every portfolio",
    async action(broker: ServiceBroker, args: Args) {
      const calls: Record<string, () => Promise<unknown>> = {
        show: () => broker.call("risk.getAccount"),
        halt: () => broker.call("risk.haltAccount", { reason: args.reason ?? "repl" }),
        resume: () => broker.call("risk.resumeAccount"),
      };
      const call = calls[args.action ?? "show"];
      if (!call) throw new Error(`account takes show, halt or resume, not "${args.action}"`);
      print(await call());
    },
  },
  {
    command: "trader [id] [setting] [field] [value]",
    description:
      "Traders' budgets: `trader` lists them, `trader <id>` shows one, `trader <id> allowance <amount>` sets the allowance, " +
      "`trader <id> ceiling <limit> <value|null>` sets (or resets) a ceiling",
    async action(broker: ServiceBroker, args: Args) {
      if (!args.id) return print(await broker.call("risk.listTraders"));
      if (!args.setting) return print(await broker.call("risk.getTrader", { id: args.id }));
      if (args.setting === "allowance" && args.field !== undefined) return print(await broker.call("risk.setTrader", { id: args.id, allowance: args.field }));
      if (args.setting === "ceiling" && args.field !== undefined && args.value !== undefined) {
        return print(await broker.call("risk.setTrader", { id: args.id, ceilings: { [args.field]: ceilingValue(args.field, args.value) } }));
      }
      throw new Error("usage: trader [id] | trader <id> allowance <amount> | trader <id> ceiling <limit> <value|null>");
    },
  },
];

/** A ceiling typed as the limit is: numbers for the count and fraction limits, decimal strings for amounts; "null" resets it. */
function ceilingValue(field: string, raw: string): string | number | null {
  if (raw === "null") return null;
  return typeof DEFAULT_LIMITS[field as keyof RiskLimits] === "number" ? Number(raw) : raw;
}

/** The store's coverage as a text table: a line per instrument and kind held. */
export function coverageTable(coverage: readonly InstrumentCoverage[]): string {
  const lines = [["instrument", "kind", "first (UTC)", "last (UTC)", "rows", "gaps"]];
  for (const entry of coverage) {
    for (const kind of MARKET_DATA_KINDS) {
      const held = entry[kind];
      if (held) lines.push([entry.instrumentKey, kind, isoTime(held.first), isoTime(held.last), String(held.rows), "gaps" in held ? gapsText(held.gaps) : ""]);
    }
  }
  if (lines.length === 1) return "no market data stored";
  const widths = lines[0]!.map((_, column) => Math.max(...lines.map((line) => line[column]!.length)));
  return lines.map((line) => line.map((cell, column) => (column === 4 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join("  ").trimEnd()).join("\n");
}

/** "none", or how many gaps and the minutes they miss. */
function gapsText(gaps: readonly Gap[]): string {
  if (gaps.length === 0) return "none";
  const minutes = gaps.reduce((sum, gap) => sum + (gap.to - gap.from) / MINUTE_MS, 0);
  return `${gaps.length} (${minutes} min missing)`;
}
