/**
 * The data promises of the distributed mode, checked against the venue and the system of record
 * (shared by the fault and chaos tests): no fill lost or doubled, no order placed twice, and the
 * portfolio equal to the replay of its fills.
 */
import type { CallingOptions, ServiceBroker } from "moleculer";
import { dec } from "../../lib/decimal";
import { replayFills } from "../../lib/risk/accounting";
import type { Fill, VenueOrder } from "../../schemas";
import { waitFor } from "./wait";

/** Every row of a paged list action (pages hold at most 1000). */
export async function allPages<T>(client: ServiceBroker, action: string, portfolioId: string, opts?: CallingOptions): Promise<T[]> {
  const rows: T[] = [];
  for (;;) {
    const page = await client.call<T[], { id: string; limit: number; offset: number }>(action, { id: portfolioId, limit: 1000, offset: rows.length }, opts);
    rows.push(...page);
    if (page.length < 1000) return rows;
  }
}

export const fillsOf = (client: ServiceBroker, portfolioId: string, opts?: CallingOptions) => allPages<Fill>(client, "risk.listFills", portfolioId, opts);

/**
 * Halts the portfolio, lets its working orders settle, then checks the venue against the system of
 * record and resumes trading. Resolves the number of fills checked.
 */
export async function checkConsistent(client: ServiceBroker, portfolioId: string, startCash: string): Promise<number> {
  await client.call("risk.halt", { id: portfolioId, reason: "consistency check" });
  await waitFor(async () => (await client.call<{ openOrders: number }, { id: string }>("risk.getPortfolio", { id: portfolioId })).openOrders === 0, "working orders to settle", 60_000);
  const venue = await client.call<{ fills: Fill[]; openOrders: VenueOrder[] }, { since: number }>("exchange.executionsSince", { since: 0 });
  const venueFills = venue.fills.filter((f) => f.portfolioId === portfolioId);
  const recorded = await waitFor(async () => {
    const fills = await fillsOf(client, portfolioId);
    return fills.length === venueFills.length ? fills : undefined;
  }, "every venue fill in the system of record", 60_000);
  // No fill lost or doubled: the system of record holds exactly the venue's fills.
  expect(recorded.map((f) => f.fillId).sort()).toEqual(venueFills.map((f) => f.fillId).sort());
  // No order placed twice: client order ids are unique, and every order's fills add up to its quantity, never more.
  const orders = await allPages<VenueOrder>(client, "risk.listOrders", portfolioId);
  expect(new Set(orders.map((o) => o.clientOrderId)).size).toBe(orders.length);
  const filledByOrder = new Map<string, string>();
  for (const f of venueFills) filledByOrder.set(f.clientOrderId, dec(filledByOrder.get(f.clientOrderId) ?? "0").add(dec(f.quantity)).toString());
  for (const [clientOrderId, filled] of filledByOrder) {
    const order = orders.find((o) => o.clientOrderId === clientOrderId);
    expect(order).toBeDefined();
    expect(dec(filled).eq(dec(order!.quantity))).toBe(true);
  }
  // The portfolio is the replay of its fills.
  const portfolio = await client.call<{ cash: string; positions: Array<{ instrumentKey: string; quantity: string }> }, { id: string }>("risk.getPortfolio", { id: portfolioId });
  const replayed = replayFills(portfolioId, startCash, recorded, (key) => ({ base: key.split(":")[1]!.split("/")[0]!, quote: "USDT" }));
  expect(portfolio.cash).toBe(replayed.cash);
  for (const p of portfolio.positions) expect(p.quantity).toBe(replayed.positions[p.instrumentKey]!.quantity);
  await client.call("risk.resume", { id: portfolioId });
  return recorded.length;
}
