/** Platform commands for the Moleculer REPL (`npm run repl`). */
import type { ServiceBroker } from "moleculer";

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
];
