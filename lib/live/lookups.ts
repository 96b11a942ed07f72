/**
 * The hub's look-ups answered by the platform's services: a portfolio's owner from risk, a candle's
 * OHLCV bar from the market data store. A failed look-up is no failure of the push: the event goes
 * out without the bar, or to the operator's streams only.
 */
import type { Candle } from "../../schemas";
import type { LiveHubLookups } from "./hub";

/** Calls an action of the platform (the gateway passes its broker's `call`). */
export type CallAction = <R>(action: string, params: Record<string, unknown>) => Promise<R>;

export function platformLookups(call: CallAction, debug: (message: string) => void): LiveHubLookups {
  return {
    ownerOf: (portfolioId) =>
      call<{ owner?: string }>("risk.getPortfolio", { id: portfolioId }).then(
        (portfolio) => portfolio.owner ?? null,
        (err: Error) => {
          debug(`owner of portfolio ${portfolioId} unknown, its event goes to operator streams only: ${err.message}`);
          return undefined;
        },
      ),
    candleAt: (instrument, openTime) =>
      call<Candle[]>("ingestion.candles", { instrument, before: openTime + 1, limit: 1 }).then(
        ([latest]) => (latest?.openTime === openTime ? latest : undefined),
        (err: Error) => {
          debug(`live candle of ${instrument} pushed without OHLCV: ${err.message}`);
          return undefined;
        },
      ),
  };
}
