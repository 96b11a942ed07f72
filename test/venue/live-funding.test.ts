/**
 * In live trading every portfolio spends from the one exchange account: the money handed out (the
 * traders' allowances and the operator's portfolios' start cash) is checked against the account's
 * balance on every change and at start, and GET /api/account shows the headroom. ccxt's real code
 * against the local Binance-protocol server.
 */
import fs from "node:fs";
import path from "node:path";
import { FakeBinance } from "../fakes/binance-server";
import { tempDataDir, waitFor } from "../helpers/platform";
import { startLivePlatform, type LivePlatform } from "./live-platform";

jest.setTimeout(60000);

const API_KEY = "Fk2vXl8kT0pR5mWc2JbN7yHs4GdF9aUe1KiO6tLxVnBr0MjCwEyPqSu3TgDh8Af2";
const SECRET = "Sc5Lp2Qw9Rt4Yu7Io1Pa3Sd6Fg8Jh0Kl2Zx5Cv7Bn9Mq4We6Rt1Yu3Io8Pa0Sd2F";
const ALICE = "alice-token-0123456789";

async function livePlatform(fake: FakeBinance): Promise<LivePlatform> {
  const secrets = path.join(tempDataDir(), "binance-keys.json");
  fs.writeFileSync(secrets, JSON.stringify({ apiKey: API_KEY, secret: SECRET }), { mode: 0o600 });
  const platform = await startLivePlatform({
    fake,
    services: ["exchange", "risk", "gateway"],
    config: { tradingMode: "live", liveTradingConfirmed: true, exchangeSecretsFile: secrets, startCash: "10000", traderAllowance: "10000", traderTokens: { alice: ALICE } },
  });
  await waitFor(async () => (await platform.api("GET", "/api/account")).status === 200, "the account route");
  return platform;
}

describe("live funding: allowances against the exchange account's balance", () => {
  let fake: FakeBinance;
  let platform: LivePlatform;

  afterEach(async () => {
    await platform?.stop();
    await fake?.stop();
  });

  it("refuses a change that hands out more than the account holds, and shows the headroom", async () => {
    fake = await FakeBinance.start({ apiKey: API_KEY, secret: SECRET, balances: { USDT: "25000", BTC: "0" } });
    platform = await livePlatform(fake);
    // The default portfolio's 10000 and alice's default allowance of 10000.
    expect((await platform.api("GET", "/api/account")).body.funding).toMatchObject({ currency: "USDT", balance: "25000", allocated: "20000", headroom: "5000" });

    const over = await platform.api("PATCH", "/api/traders/alice", { allowance: "15000.01" });
    expect(over.status).toBe(422);
    expect(over.body.data[0]).toMatchObject({ field: "allowance", balance: "25000", allocated: "25000.01" });
    expect(over.body.data[0].message).toBe("would hand out 25000.01 USDT in all, more than the exchange account's 25000 USDT");
    expect((await platform.api("PATCH", "/api/traders/alice", { allowance: "15000" })).status).toBe(200);
    expect((await platform.api("GET", "/api/account")).body.funding).toMatchObject({ allocated: "25000", headroom: "0" });

    const portfolio = await platform.api("POST", "/api/portfolios", { id: "ops", startCash: "1" });
    expect(portfolio.status).toBe(422);
    expect(portfolio.body.data[0]).toMatchObject({ field: "startCash" });
    // A trader's own portfolios come out of the allowance already counted: nothing more is handed out.
    expect((await platform.api("POST", "/api/portfolios", { id: "alice.swing", startCash: "5000" }, ALICE)).status).toBe(201);
    expect((await platform.api("GET", "/api/account")).body.funding.headroom).toBe("0");
  });

  it("logs an error at start when the account holds less than what is handed out", async () => {
    fake = await FakeBinance.start({ apiKey: API_KEY, secret: SECRET, balances: { USDT: "15000", BTC: "0" } });
    platform = await livePlatform(fake);
    await waitFor(() => platform.logs.find((line) => line.startsWith("error") && line.includes("20000 USDT handed out")), "the start's funding error");
    expect((await platform.api("GET", "/api/account")).body.funding).toMatchObject({ balance: "15000", allocated: "20000", headroom: "-5000" });
  });
});
