/**
 * Table columns that several views show, defined once so the same data reads the same everywhere.
 * Each view picks the ones it needs, in its own order.
 */
import { marketOf, symbolOf } from "./state";
import type { DecisionRecord, Fill } from "./lib/api";
import { decisionOutcomeText } from "./lib/decisions";
import { formatConfidence, formatMoney, formatPrice, formatQuantity, formatTime } from "./lib/format";
import type { Column } from "./lib/table";

/** The instrument's symbol, for any row of one instrument. */
export const instrumentColumn: Column<{ instrumentKey: string }> = { key: "instrument", label: "Instrument", value: (r) => symbolOf(r.instrumentKey) };

export const fillColumn = {
  time: { key: "time", label: "Time (UTC)", value: (f) => f.time, text: (f) => formatTime(f.time) },
  side: { key: "side", label: "Side", value: (f) => f.side },
  price: { key: "price", label: "Price", value: (f) => f.price, text: (f) => formatPrice(f.price, marketOf(f.instrumentKey)), numeric: true },
  quantity: { key: "quantity", label: "Quantity", value: (f) => f.quantity, text: (f) => formatQuantity(f.quantity, marketOf(f.instrumentKey)), numeric: true },
  fee: { key: "fee", label: "Fee", value: (f) => f.fee, text: (f) => `${formatMoney(f.fee)} ${f.feeCurrency}`, numeric: true },
} satisfies Record<string, Column<Fill>>;

export const decisionColumn = {
  result: { key: "result", label: "Trade or reason", value: (d) => d.reason ?? d.notional, text: (d) => decisionOutcomeText(d, marketOf(d.instrumentKey)), wrap: true },
  strategy: { key: "strategy", label: "Strategy · model", value: (d) => `${d.signal.strategy} ${d.signal.modelVersion}`, text: (d) => `${d.signal.strategy} · v${d.signal.modelVersion}` },
  confidence: { key: "confidence", label: "Confidence", value: (d) => d.signal.confidence, text: (d) => formatConfidence(d.signal.confidence), numeric: true },
} satisfies Record<string, Column<DecisionRecord>>;
