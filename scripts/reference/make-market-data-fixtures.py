#!/usr/bin/env python3
"""Small candle files in the formats `npm run data -- import` reads (test/fixtures/market-data/), written
by this script and not by the platform's code, so the importer's tests read what other tools write:

- Binance public-data kline files (data.binance.vision layout): 12 columns, prices and volumes with 8
  decimals, no header (spot) or a header line (as the futures files have), times in milliseconds
  (before 2025) or microseconds (spot since 2025), plain .csv or a .zip holding one .csv, and a zip's
  .CHECKSUM file (its SHA-256, as Binance publishes it);
- Freqtrade JSON candle files: [ms, open, high, low, close, volume] as JSON numbers, plain and .json.gz.

The BTC/USDT candles of 2024-12-31 are the same in the Binance CSV, the Binance zip and the Freqtrade
JSON files, so the tests check that every format gives the same stored candles.

Regenerate: python3 scripts/reference/make-market-data-fixtures.py
"""
import gzip
import hashlib
import io
import json
import random
import zipfile
from decimal import Decimal
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "market-data"
MINUTE_MS = 60_000


def candles(start_ms: int, count: int, price: str, seed: int) -> list[dict]:
    rng = random.Random(seed)
    close = Decimal(price)
    rows = []
    for i in range(count):
        open_ = close
        close = (open_ * (1 + Decimal(rng.uniform(-0.002, 0.002)))).quantize(Decimal("0.01"))
        high = (max(open_, close) * (1 + Decimal(rng.uniform(0, 0.001)))).quantize(Decimal("0.01"))
        low = (min(open_, close) * (1 - Decimal(rng.uniform(0, 0.001)))).quantize(Decimal("0.01"))
        volume = Decimal(rng.randint(1, 5_000_000)) / Decimal(100_000)  # up to 5 decimals, like real volumes
        rows.append({"t": start_ms + i * MINUTE_MS, "o": open_, "h": high, "l": low, "c": close, "v": volume, "n": rng.randint(10, 900)})
    return rows


def kline_csv(rows: list[dict], unit: int, header: bool) -> str:
    lines = ["open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore"] if header else []
    for r in rows:
        quote = (r["v"] * r["c"]).quantize(Decimal("0.00000001"))
        taker = (r["v"] / 2).quantize(Decimal("0.00000001"))
        lines.append(",".join([
            str(r["t"] * unit), f'{r["o"]:.8f}', f'{r["h"]:.8f}', f'{r["l"]:.8f}', f'{r["c"]:.8f}', f'{r["v"]:.8f}',
            str((r["t"] + MINUTE_MS) * unit - 1), f"{quote:.8f}", str(r["n"]), f"{taker:.8f}", f"{(taker * r['c']).quantize(Decimal('0.00000001')):.8f}", "0",
        ]))
    return "\n".join(lines) + "\n"


def write_zip(path: Path, inner: str, text: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo(inner, date_time=(2025, 1, 1, 0, 0, 0))  # fixed: the bytes do not change on a rerun
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, text)
    path.write_bytes(buffer.getvalue())


def freqtrade_json(rows: list[dict]) -> str:
    # Freqtrade writes the values as JSON numbers (floats), the whole array on one line.
    return json.dumps([[r["t"], float(r["o"]), float(r["h"]), float(r["l"]), float(r["c"]), float(r["v"])] for r in rows], separators=(",", ":"))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    dec31 = 1_735_603_200_000  # 2024-12-31T00:00:00Z
    btc = candles(dec31, 240, "93500.50", seed=1)
    (OUT / "BTCUSDT-1m-2024-12-31.csv").write_text(kline_csv(btc, 1, header=False))
    zipped = OUT / "zipped"  # apart: importing the directory above does not import the same day twice
    zipped.mkdir(exist_ok=True)
    write_zip(zipped / "BTCUSDT-1m-2024-12-31.zip", "BTCUSDT-1m-2024-12-31.csv", kline_csv(btc, 1, header=False))
    # Binance publishes a SHA-256 beside each zip, as `sha256sum` prints it.
    digest = hashlib.sha256((zipped / "BTCUSDT-1m-2024-12-31.zip").read_bytes()).hexdigest()
    (zipped / "BTCUSDT-1m-2024-12-31.zip.CHECKSUM").write_text(f"{digest}  BTCUSDT-1m-2024-12-31.zip\n")
    freqtrade = OUT / "freqtrade"
    freqtrade.mkdir(exist_ok=True)
    (freqtrade / "BTC_USDT-1m.json").write_text(freqtrade_json(btc))

    jan1 = 1_735_689_600_000  # 2025-01-01T00:00:00Z: spot files in microseconds from here on
    eth = candles(jan1, 180, "3350.25", seed=2)
    (OUT / "ETHUSDT-1m-2025-01-01.csv").write_text(kline_csv(eth, 1000, header=True))
    write_zip(OUT / "ETHUSDT-1m-2025-01-02.zip", "ETHUSDT-1m-2025-01-02.csv", kline_csv(candles(jan1 + 1440 * MINUTE_MS, 120, "3390.10", seed=3), 1000, header=False))
    (freqtrade / "ETH_USDT-1m.json.gz").write_bytes(gzip.compress(freqtrade_json(eth).encode(), mtime=0))


if __name__ == "__main__":
    main()
