/** A restart keeps instruments, portfolios, orders and fills; the book equals the replay of its fills. */
import { replayFills } from "../../lib/risk/accounting";
import type { Fill } from "../../schemas";
import { startPlatform, tempDataDir, waitFor } from "../helpers/platform";

jest.setTimeout(120000);

interface PortfolioView {
  cash: string;
  fees: string;
  realizedPnl: string;
  halted: boolean;
  openOrders: number;
  positions: Array<{ instrumentKey: string; quantity: string; averageCost: string }>;
}

describe("restart", () => {
  it("loses nothing of the system of record and resumes streaming", async () => {
    const dataDir = tempDataDir();
    const services = ["exchange", "risk", "ingestion", "features", "prediction", "execution"] as const;
    const first = await startPlatform({ dataDir, services: [...services] });
    await first.broker.call("risk.registerInstrument", { exchange: "binance", symbol: "BTC/USDT" });
    await waitFor(async () => (await first.broker.call<Fill[], { id: string }>("risk.listFills", { id: "default" })).length >= 2, "two fills");
    // Halt so no new order starts, then let the working ones settle before comparing.
    await first.broker.call("risk.halt", { id: "default" });
    const before = await waitFor(async () => {
      const p = await first.broker.call<PortfolioView, { id: string }>("risk.getPortfolio", { id: "default" });
      return p.openOrders === 0 ? p : undefined;
    }, "no working orders");
    const ordersBefore = await first.broker.call<unknown[], { id: string; limit: number }>("risk.listOrders", { id: "default", limit: 1000 });
    const fillsBefore = await first.broker.call<Fill[], { id: string; limit: number }>("risk.listFills", { id: "default", limit: 1000 });
    await first.stop();

    const second = await startPlatform({ dataDir, services: [...services] });
    try {
      const after = await second.broker.call<PortfolioView, { id: string }>("risk.getPortfolio", { id: "default" });
      expect(after.cash).toBe(before.cash);
      expect(after.fees).toBe(before.fees);
      expect(after.realizedPnl).toBe(before.realizedPnl);
      expect(after.halted).toBe(true);
      expect(after.positions.map((p) => [p.instrumentKey, p.quantity, p.averageCost])).toEqual(
        before.positions.map((p) => [p.instrumentKey, p.quantity, p.averageCost]),
      );
      expect(await second.broker.call("risk.listOrders", { id: "default", limit: 1000 })).toEqual(ordersBefore);
      const fillsAfter = await second.broker.call<Fill[], { id: string; limit: number }>("risk.listFills", { id: "default", limit: 1000 });
      expect(fillsAfter).toEqual(fillsBefore);
      const replayed = replayFills("default", "10000", fillsAfter, () => ({ base: "BTC", quote: "USDT" }));
      expect(replayed.cash).toBe(after.cash);
      const instruments = await second.broker.call<Array<{ instrumentKey: string; enabled: boolean }>>("risk.listInstruments");
      expect(instruments).toMatchObject([{ instrumentKey: "binance:BTC/USDT", enabled: true }]);
      await waitFor(async () => (await second.broker.call<string[]>("exchange.streams")).includes("binance:BTC/USDT"), "the stream to resume");
      // A venue that remembers the client order ids it has seen.
      const firstOrder = ordersBefore[0] as { clientOrderId: string };
      const again = await second.broker.call<{ order: { clientOrderId: string } }, { clientOrderId: string }>("exchange.getOrder", { clientOrderId: firstOrder.clientOrderId });
      expect(again.order.clientOrderId).toBe(firstOrder.clientOrderId);
    } finally {
      await second.stop();
    }
  });
});
