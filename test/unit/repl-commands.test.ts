import type { ServiceBroker } from "moleculer";
import { replCommands } from "../../lib/repl-commands";

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
