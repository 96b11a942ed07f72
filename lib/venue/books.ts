/** The exchange facade's books in the system of record: the venues' journals, and whose trading they hold. */
import type { Clock } from "../clock";
import type { Collection } from "../store/collection";
import type { Fill, VenueOrder } from "../../schemas";
import type { VenueJournal } from "./types";

/** A venue's journal on two collections: orders by client order id, fills by fill id (a fill seen again is not written twice). */
export function journalOn(orders: Collection<VenueOrder>, fills: Collection<Fill>): VenueJournal {
  return {
    saveOrder: (order) => orders.put(order.clientOrderId, order),
    saveFill: (fill) => fills.insertIfAbsent(fill.fillId, fill),
    load: async () => ({ orders: await orders.find(), fills: await fills.find() }),
  };
}

/** Whose books DATA_DIR holds (see tradingAccountOf), fixed on first start. */
export interface TradingAccountClaim {
  account: string;
  since: number;
}

/** Refuses to put one trading account's orders and fills into books that hold another's; the first start claims the books. */
export async function claimTradingAccount(store: Collection<TradingAccountClaim>, account: string, clock: Clock): Promise<void> {
  const claimed = await store.get("account");
  if (!claimed) {
    await store.put("account", { account, since: clock.now() });
  } else if (claimed.account !== account) {
    throw new Error(
      `DATA_DIR holds the books of "${claimed.account}" trading; "${account}" trading needs a DATA_DIR of its own (the system of record never mixes them)`,
    );
  }
}
