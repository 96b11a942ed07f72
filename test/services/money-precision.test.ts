/**
 * What risk serves of a traded portfolio (GET /api/portfolios/:id is risk.getPortfolio) is at the
 * money scale (12 places), reconciles to the last digit, and equals the replay of the fills it lists.
 */
import { DECIMAL_PATTERN, MONEY_SCALE, dec, str, sum } from "../../lib/decimal";
import { replayFills, valueBook } from "../../lib/risk/accounting";
import { fillsOf } from "../helpers/invariants";
import { startPlatform, waitFor, type Platform } from "../helpers/platform";

jest.setTimeout(120000);

const MONEY_FIELDS = ["cash", "equity", "realizedPnl", "unrealizedPnl", "fees", "exposure"] as const;
const POSITION_MONEY_FIELDS = ["averageCost", "markPrice", "marketValue", "unrealizedPnl", "realizedPnl", "fees"] as const;

interface ServedPosition extends Record<(typeof POSITION_MONEY_FIELDS)[number], string> {
  instrumentKey: string;
  quantity: string;
}
type ServedPortfolio = Record<(typeof MONEY_FIELDS)[number] | "startCash" | "dayStartEquity" | "peakEquity", string> & { openOrders: number; positions: ServedPosition[] };

describe("money served by risk", () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await startPlatform({ services: ["exchange", "risk", "ingestion", "features", "prediction", "execution"] });
  });

  afterAll(async () => {
    await platform.stop();
  });

  it("is at 12 places, reconciles to the last digit and equals the replay of the fills", async () => {
    const { broker } = platform;
    for (const symbol of ["BTC/USDT", "ETH/USDT"]) await broker.call("risk.registerInstrument", { exchange: "binance", symbol });
    const listFills = () => fillsOf(broker, "default");
    await waitFor(async () => (await listFills()).length >= 3, "three fills");
    // Halt so no new order starts, and let the working ones settle before comparing.
    await broker.call("risk.halt", { id: "default" });
    const served = await waitFor(async () => {
      const portfolio = await broker.call<ServedPortfolio, { id: string }>("risk.getPortfolio", { id: "default" });
      return portfolio.openOrders === 0 ? portfolio : undefined;
    }, "no working orders");
    const fills = await listFills();

    const values = [...MONEY_FIELDS.map((f) => served[f]), served.dayStartEquity, served.peakEquity, ...served.positions.flatMap((p) => POSITION_MONEY_FIELDS.map((f) => p[f]))];
    const decimal = new RegExp(DECIMAL_PATTERN);
    expect(values.filter((value) => !decimal.test(value) || (value.split(".")[1]?.length ?? 0) > MONEY_SCALE)).toEqual([]);

    expect(served.equity).toBe(str(dec(served.cash).add(sum(served.positions.map((p) => p.marketValue)))));
    expect(str(dec(served.equity).sub(served.startCash))).toBe(str(dec(served.realizedPnl).add(served.unrealizedPnl).sub(served.fees)));

    const marks = Object.fromEntries(served.positions.map((p) => [p.instrumentKey, p.markPrice]));
    const replayed = valueBook(replayFills("default", served.startCash, fills, (key) => ({ base: key.split(":")[1]!.split("/")[0]!, quote: "USDT" })), marks);
    for (const field of MONEY_FIELDS) expect([field, served[field]]).toEqual([field, replayed[field]]);
    for (const position of served.positions) {
      const { costBasis: _cost, ...expected } = replayed.positions.find((p) => p.instrumentKey === position.instrumentKey)!;
      expect(position).toEqual(expected);
    }
  });
});
