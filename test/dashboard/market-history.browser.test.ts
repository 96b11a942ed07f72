/**
 * Stored history on the dashboard, in Chromium: three days of 1-minute ETH/USDT candles (with a
 * 30-minute gap) and their indicators are written into the platform's embedded store before it
 * starts, as an import leaves them, for an instrument nobody registered. The Market view offers it,
 * switches timeframes (kept in the URL), draws each 1-hour bar with the OHLC the test computes from the
 * 1-minute rows and RSI values of a textbook Wilder RSI over the hourly closes, loads older 1-minute
 * bars as the chart is dragged back; the System view lists what the store holds. A screenshot of the
 * 1-hour chart goes to test-artifacts/dashboard/.
 */
import fs from "node:fs";
import path from "node:path";
import Decimal from "decimal.js";
import { chromium, type Browser, type Page } from "playwright-core";
import { wallClock } from "../../lib/clock";
import { openMarketStore } from "../../lib/marketdata/open";
import type { MinuteCandle } from "../../lib/marketdata/types";
import { FeatureCalculator } from "../../lib/features/streaming-features";
import { indicatorRow } from "../../lib/features/history";
import type { FeaturesComputed } from "../../schemas";
import { startPlatform, tempDataDir, waitFor, TOKEN, type Platform } from "../helpers/platform";
import { CHROMIUM_FLAGS, chromiumPath } from "../helpers/chromium";
import { buildDashboard } from "./build-dashboard";

jest.setTimeout(180_000);

const ARTIFACTS = path.resolve(__dirname, "../../test-artifacts/dashboard");
const KEY = "binance:ETH/USDT";
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Date.UTC(2025, 2, 1);
const DAYS = 3;
const GAP = { from: START + 30 * HOUR + 10 * MINUTE, to: START + 30 * HOUR + 40 * MINUTE };

/** A deterministic random walk around 3000 USDT, one candle a minute, none in the gap. */
function minuteCandles(): MinuteCandle[] {
  let seed = 20250301;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const candles: MinuteCandle[] = [];
  let close = new Decimal("3000");
  for (let openTime = START; openTime < START + DAYS * 24 * HOUR; openTime += MINUTE) {
    const open = close;
    close = open.mul(1 + (random() - 0.5) * 0.004).toDecimalPlaces(2);
    if (openTime >= GAP.from && openTime < GAP.to) continue;
    const high = Decimal.max(open, close).add(new Decimal(random()).mul(2).toDecimalPlaces(2));
    const low = Decimal.min(open, close).sub(new Decimal(random()).mul(2).toDecimalPlaces(2));
    const volume = new Decimal(random()).mul(40).toDecimalPlaces(4);
    candles.push({ instrumentKey: KEY, openTime, open: open.toString(), high: high.toString(), low: low.toString(), close: close.toString(), volume: volume.toString(), tradeCount: 1 + Math.floor(random() * 90) });
  }
  return candles;
}

/** The 1-hour bars of the minutes, bucketed here: open of the first minute, highest high, lowest low, close of the last, summed volume. */
function hourBars(candles: readonly MinuteCandle[]) {
  const bars = new Map<number, { open: Decimal; high: Decimal; low: Decimal; close: Decimal; volume: Decimal }>();
  for (const c of candles) {
    const hour = Math.floor(c.openTime / HOUR) * HOUR;
    const bar = bars.get(hour);
    if (!bar) bars.set(hour, { open: new Decimal(c.open), high: new Decimal(c.high), low: new Decimal(c.low), close: new Decimal(c.close), volume: new Decimal(c.volume) });
    else Object.assign(bar, { high: Decimal.max(bar.high, c.high), low: Decimal.min(bar.low, c.low), close: new Decimal(c.close), volume: bar.volume.add(c.volume) });
  }
  return bars;
}

/** RSI 14 as Wilder defined it: gains and losses seeded with the mean of the first 14 changes, then smoothed by 13/14; one value per close from the 15th. */
function wilderRsi(closes: readonly number[]): number[] {
  const values: number[] = [];
  let gain = 0;
  let loss = 0;
  for (let i = 1; i < closes.length; i++) {
    const change = closes[i]! - closes[i - 1]!;
    const [g, l] = [Math.max(change, 0), Math.max(-change, 0)];
    if (i <= 14) {
      gain += g / 14;
      loss += l / 14;
    } else {
      gain = (gain * 13 + g) / 14;
      loss = (loss * 13 + l) / 14;
    }
    if (i >= 14) values.push(gain + loss === 0 ? 50 : (100 * gain) / (gain + loss));
  }
  return values;
}

/** The legend's number as a decimal (thousands separators and the typographic minus undone). */
const legendNumber = (text: string | null) => new Decimal((text ?? "").replace(/,/g, "").replace("−", "-"));

describe("stored history on the dashboard", () => {
  const candles = minuteCandles();
  const hours = hourBars(candles);
  let platform: Platform;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const chart = ".market-chart";
  const attr = async (name: string) => Number(await page.locator(chart).getAttribute(name));

  beforeAll(async () => {
    const executablePath = chromiumPath();
    buildDashboard();
    const dataDir = tempDataDir();
    // As an import leaves the store: the candles and the 1-minute indicators of the same calculator as live.
    const store = await openMarketStore({ kind: "duckdb", path: path.join(dataDir, "market.duckdb") }, wallClock);
    try {
      await store.writeCandles(candles);
      const calculator = new FeatureCalculator();
      const rows: FeaturesComputed[] = [];
      for (const c of candles) {
        const features = calculator.update(c);
        if (features) rows.push(indicatorRow({ ...c, timeframe: "1m", closeTime: c.openTime + MINUTE - 1 }, features, c.openTime + MINUTE - 1));
      }
      await store.writeIndicators(rows);
    } finally {
      await store.close();
    }
    platform = await startPlatform({ dataDir });
    browser = await chromium.launch({ executablePath, args: CHROMIUM_FLAGS });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
    page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`));
    await page.goto(`${platform.baseUrl}/market`);
    await page.getByLabel("API token").fill(TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it("offers the instrument with stored history though it is not registered, at 1 minute", async () => {
    const picker = page.getByLabel("Instrument", { exact: true });
    await waitFor(async () => (await picker.inputValue()) === KEY, "the stored instrument chosen");
    expect(await picker.locator("option:checked").textContent()).toBe("ETH/USDT · binance (history)");
    await waitFor(async () => (await attr("data-bars")) === 500, "the newest 500 one-minute bars");
    expect(await page.locator(chart).getAttribute("data-timeframe")).toBe("1m");
    expect(await attr("data-last-bar")).toBe(candles[candles.length - 1]!.openTime);
    await waitFor(async () => (await attr("data-indicator-rows")) === 500, "their indicator rows");
  });

  it("switches to 1 hour: a bar per hour with the OHLC of its minutes, and Wilder's RSI over the hourly closes", async () => {
    await page.getByRole("group", { name: "Timeframe" }).getByRole("button", { name: "1h", exact: true }).click();
    expect(new URL(page.url()).searchParams.get("timeframe")).toBe("1h");
    await waitFor(async () => (await page.locator(chart).getAttribute("data-timeframe")) === "1h" && (await attr("data-bars")) === hours.size, "the hourly bars");
    expect(hours.size).toBe(DAYS * 24);
    const hourTimes = [...hours.keys()];
    expect(await attr("data-first-bar")).toBe(hourTimes[0]);
    expect(await attr("data-last-bar")).toBe(hourTimes[hourTimes.length - 1]);
    expect(await page.locator("#chart-title").textContent()).toBe("ETH/USDT · 1 hour");
    const closes = [...hours.values()].map((bar) => bar.close.toNumber());
    const rsi = wilderRsi(closes);
    // Rows from the 34th bar on (the calculator's warm-up), one per bar after.
    await waitFor(async () => (await attr("data-indicator-rows")) === hours.size - 33, "the hourly indicator rows");

    // The crosshair over each bar shows that bar's values in the legend.
    const box = (await page.locator(chart).boundingBox())!;
    const seen = new Map<number, { open: string; high: string; low: string; close: string; volume: string; rsi: string }>();
    for (let x = box.x + 4; x < box.x + box.width - 90; x += 3) {
      await page.mouse.move(x, box.y + 60);
      const time = Number(await page.locator(".chart-legend").getAttribute("data-time"));
      if (seen.has(time)) continue;
      const text = async (name: string) => (await page.locator(`[data-legend="${name}"]`).textContent()) ?? "";
      seen.set(time, { open: await text("open"), high: await text("high"), low: await text("low"), close: await text("close"), volume: await text("volume"), rsi: await text("rsi14") });
    }
    expect(seen.size).toBeGreaterThanOrEqual(hours.size - 2);
    for (const [time, shown] of seen) {
      const bar = hours.get(time)!;
      expect({ time, open: legendNumber(shown.open).eq(bar.open), high: legendNumber(shown.high).eq(bar.high), low: legendNumber(shown.low).eq(bar.low), close: legendNumber(shown.close).eq(bar.close) }).toEqual({
        time,
        open: true,
        high: true,
        low: true,
        close: true,
      });
      // Volumes of 4 decimals sum to 4 decimals: the legend's 4 places show the sum exactly.
      expect({ time, volume: legendNumber(shown.volume).eq(bar.volume) }).toEqual({ time, volume: true });
      const index = hourTimes.indexOf(time);
      // RSI's first value is at the 15th close, but the chart has rows only from the calculator's 34th.
      expect({ time, rsi: shown.rsi }).toEqual({ time, rsi: index >= 33 ? rsi[index - 14]!.toFixed(1) : "—" });
    }
    // The gap's hour holds the 30 minutes there are.
    expect(seen.has(Math.floor(GAP.from / HOUR) * HOUR)).toBe(true);
    await page.mouse.move(0, 0);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, "market-history-1h.png") });
  });

  it("keeps the timeframe in the URL: a link to 4h opens at 4 hours, 1d has a bar per day", async () => {
    await page.goto(`${platform.baseUrl}/market?instrument=${encodeURIComponent(KEY)}&timeframe=4h`);
    await waitFor(async () => (await page.locator(chart).getAttribute("data-timeframe")) === "4h" && (await attr("data-bars")) === DAYS * 6, "the 4-hour bars");
    expect(await page.getByRole("button", { name: "4h", exact: true }).getAttribute("aria-pressed")).toBe("true");
    await page.getByRole("button", { name: "1d", exact: true }).click();
    await waitFor(async () => (await page.locator(chart).getAttribute("data-timeframe")) === "1d" && (await attr("data-bars")) === DAYS, "the daily bars");
    expect(await attr("data-first-bar")).toBe(START);
    await page.mouse.move(0, 0);
    const lastDay = candles.filter((c) => c.openTime >= START + (DAYS - 1) * 24 * HOUR);
    expect(legendNumber(await page.locator('[data-legend="open"]').textContent()).eq(lastDay[0]!.open)).toBe(true);
    expect(legendNumber(await page.locator('[data-legend="close"]').textContent()).eq(lastDay[lastDay.length - 1]!.close)).toBe(true);
  });

  it("loads older 1-minute bars as the chart is dragged back, without holes or doubles", async () => {
    await page.getByRole("button", { name: "1m", exact: true }).click();
    expect(new URL(page.url()).searchParams.get("timeframe")).toBeNull();
    await waitFor(async () => (await page.locator(chart).getAttribute("data-timeframe")) === "1m" && (await attr("data-bars")) === 500, "the newest 1-minute bars");
    const box = (await page.locator(chart).boundingBox())!;
    const y = box.y + 80;
    await waitFor(
      async () => {
        await page.mouse.move(box.x + 100, y);
        await page.mouse.down();
        await page.mouse.move(box.x + box.width - 150, y, { steps: 8 });
        await page.mouse.up();
        return (await attr("data-bars")) >= 1500;
      },
      "older pages after dragging back",
      60_000,
    );
    // Read at once: a further page may land meanwhile.
    const [first, last, bars] = await page.locator(chart).evaluate((el) => ["data-first-bar", "data-last-bar", "data-bars"].map((name) => Number(el.getAttribute(name))));
    expect(last).toBe(candles[candles.length - 1]!.openTime);
    expect(bars).toBe(candles.filter((c) => c.openTime >= first).length);
    expect(await attr("data-indicator-rows")).toBeGreaterThan(500);
  });

  it("lists what the store holds per instrument and kind on the System view", async () => {
    await page.locator('nav a[title="System"]').click();
    const row = page.locator(`table[aria-label="Market data stored"] tr[data-key="${KEY}|candles"]`);
    await row.waitFor();
    const cells = await row.locator("td").allTextContents();
    expect(cells).toEqual([KEY, "candles", "2025-03-01 00:00:00", "2025-03-03 23:59:00", "4,290", "1 · 30 min missing"]);
    expect(await page.locator(`table[aria-label="Market data stored"] tr[data-key="${KEY}|indicators"] td`).nth(4).textContent()).toBe("4,257");
  });

  it("logged no errors in the browser console", () => {
    expect(errors).toEqual([]);
  });
});
