#!/usr/bin/env python3
"""Reference values for the streaming indicators (test/fixtures/indicators/), from implementations
that are not the platform's code:

- TA-Lib (PyPI `TA-Lib`, the C library) for RSI 14, EMA 12/26, the MACD line/signal/histogram
  (EMA 12 - EMA 26 of the closes, signal = EMA 9 of that line: TA-Lib's EMA on the EMA difference,
  which is the platform's MACD; TA-Lib's own MACD function seeds the fast EMA later), Bollinger
  bands 20/2 (SMA, population standard deviation), ATR 14 and SMA 20;
- a textbook implementation in Python `decimal` at 60 significant digits for the realized
  volatility (sample standard deviation of the last 30 one-minute log returns), the one-minute
  return and Bollinger %B, and, as a cross-check of TA-Lib, every other indicator.

TA-Lib reports RSI 0 when the average gain and loss are both zero; the platform defines RSI 50 then
(no movement): those candles take the textbook value, and every other TA-Lib value must agree with
the textbook to 1e-9 relative or the script fails.

The input is a deterministic synthetic 1-minute BTC/USDT-like series (prices on a 0.01 tick) with a
flat start, quiet and trending stretches, gaps filled with flat candles (as the platform's candle
builder does), a crash and a rebound, and a volatile stretch.

Regenerate (needs Python 3.10+; the TA-Lib wheel ships the C library):
    python3 -m venv /tmp/talib-venv && /tmp/talib-venv/bin/pip install TA-Lib numpy
    /tmp/talib-venv/bin/python scripts/reference/make-indicator-fixtures.py
"""
import json
import math
import random
from decimal import Decimal, getcontext
from pathlib import Path

import numpy as np
import talib

getcontext().prec = 60
OUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "indicators" / "btc-usdt-1m.json"
START = 1_767_225_600_000  # 2026-01-01T00:00:00Z
MINUTE = 60_000
TOLERANCE = 1e-9


def generate_candles(seed: int = 17) -> list[dict]:
    """Prices in integer cents. Each segment: (kind, minutes, drift per minute, volatility per minute)."""
    rng = random.Random(seed)
    segments = [
        ("flat", 20, 0.0, 0.0),  # a market that has not moved yet: RSI 50, collapsed bands
        ("walk", 500, 0.0, 0.0006),
        ("walk", 400, 0.0004, 0.0008),  # uptrend
        ("flat", 60, 0.0, 0.0),  # a one-hour gap filled with flat candles
        ("walk", 400, -0.0005, 0.0009),  # downtrend
        ("crash", 1, -0.12, 0.0),
        ("walk", 30, 0.0, 0.004),
        ("crash", 1, 0.08, 0.0),  # rebound
        ("walk", 300, 0.0, 0.003),  # volatile
        ("flat", 120, 0.0, 0.0),  # a two-hour halt
        ("walk", 400, 0.0002, 0.0005),
        ("flat", 3, 0.0, 0.0),
        ("walk", 765, -0.0001, 0.0007),
    ]
    candles = []
    close = 6_000_000  # 60 000.00
    for kind, minutes, drift, vol in segments:
        for _ in range(minutes):
            open_ = close
            if kind == "flat":
                high = low = close
            else:
                ret = drift + vol * rng.gauss(0.0, 1.0)
                close = max(1, round(open_ * (1 + ret)))
                wick = abs(vol) * open_ if kind == "walk" else 0.01 * open_
                high = max(open_, close) + round(abs(rng.gauss(0.0, 0.5)) * wick)
                low = max(1, min(open_, close) - round(abs(rng.gauss(0.0, 0.5)) * wick))
            candles.append({"open": open_, "high": high, "low": low, "close": close})
    return [
        {
            "openTime": START + i * MINUTE,
            "open": cents(c["open"]),
            "high": cents(c["high"]),
            "low": cents(c["low"]),
            "close": cents(c["close"]),
        }
        for i, c in enumerate(candles)
    ]


def cents(n: int) -> str:
    return f"{n // 100}.{n % 100:02d}"


# ---- textbook definitions in Decimal -------------------------------------------------------------


def d_ema(xs: list[Decimal], period: int) -> list[Decimal | None]:
    out: list[Decimal | None] = [None] * len(xs)
    k = Decimal(2) / Decimal(period + 1)
    value = None
    for i, x in enumerate(xs):
        if i + 1 == period:
            value = sum(xs[:period], Decimal(0)) / period
        elif value is not None:
            value = (x - value) * k + value
        out[i] = value
    return out


def d_wilder(xs: list[Decimal], period: int) -> list[Decimal | None]:
    out: list[Decimal | None] = [None] * len(xs)
    value = None
    for i, x in enumerate(xs):
        if i + 1 == period:
            value = sum(xs[:period], Decimal(0)) / period
        elif value is not None:
            value = (value * (period - 1) + x) / period
        out[i] = value
    return out


def d_mean(xs: list[Decimal]) -> Decimal:
    return sum(xs, Decimal(0)) / len(xs)


def d_std(xs: list[Decimal], ddof: int) -> Decimal:
    m = d_mean(xs)
    return (sum(((x - m) ** 2 for x in xs), Decimal(0)) / (len(xs) - ddof)).sqrt()


def textbook(candles: list[dict]) -> dict[str, list]:
    n = len(candles)
    close = [Decimal(c["close"]) for c in candles]
    high = [Decimal(c["high"]) for c in candles]
    low = [Decimal(c["low"]) for c in candles]
    out: dict[str, list] = {k: [None] * n for k in FEATURES}

    changes = [close[i] - close[i - 1] for i in range(1, n)]
    avg_gain = d_wilder([max(c, Decimal(0)) for c in changes], 14)
    avg_loss = d_wilder([max(-c, Decimal(0)) for c in changes], 14)
    true_range = [max(high[i] - low[i], abs(high[i] - close[i - 1]), abs(low[i] - close[i - 1])) for i in range(1, n)]
    atr = d_wilder(true_range, 14)
    log_returns = [(close[i] / close[i - 1]).ln() for i in range(1, n)]
    ema12, ema26 = d_ema(close, 12), d_ema(close, 26)
    macd = [None if b is None else a - b for a, b in zip(ema12, ema26)]
    signal = [None] * 25 + d_ema(macd[25:], 9)

    for i in range(n):
        out["close"][i] = close[i]
        out["ema12"][i], out["ema26"][i], out["macd"][i], out["macdSignal"][i] = ema12[i], ema26[i], macd[i], signal[i]
        if signal[i] is not None:
            out["macdHistogram"][i] = macd[i] - signal[i]
        if i >= 19:
            window = close[i - 19 : i + 1]
            mid = d_mean(window)
            offset = 2 * d_std(window, 0)
            out["sma20"][i], out["bbMiddle"][i] = mid, mid
            out["bbUpper"][i], out["bbLower"][i] = mid + offset, mid - offset
            out["bbPercentB"][i] = (close[i] - (mid - offset)) / (2 * offset) if offset > 0 else Decimal("0.5")
        if i >= 1:
            out["return1"][i] = close[i] / close[i - 1] - 1
            g, l = avg_gain[i - 1], avg_loss[i - 1]
            if g is not None:
                out["rsi14"][i] = 100 * g / (g + l) if g + l > 0 else Decimal(50)
            out["atr14"][i] = atr[i - 1]
        if i >= 30:
            out["realizedVolatility"][i] = d_std(log_returns[i - 30 : i], 1)
    return {k: [None if v is None else float(v) for v in vs] for k, vs in out.items()}


FEATURES = [
    "close", "return1", "rsi14", "macd", "macdSignal", "macdHistogram", "bbUpper", "bbMiddle", "bbLower",
    "bbPercentB", "atr14", "ema12", "ema26", "sma20", "realizedVolatility",
]


def talib_values(candles: list[dict]) -> dict[str, list]:
    close = np.array([float(c["close"]) for c in candles])
    high = np.array([float(c["high"]) for c in candles])
    low = np.array([float(c["low"]) for c in candles])
    ema12, ema26 = talib.EMA(close, 12), talib.EMA(close, 26)
    macd = ema12 - ema26
    signal = np.concatenate([np.full(25, np.nan), talib.EMA(macd[25:], 9)])
    upper, middle, lower = talib.BBANDS(close, timeperiod=20, nbdevup=2, nbdevdn=2, matype=talib.MA_Type.SMA)
    values = {
        "rsi14": talib.RSI(close, 14),
        "ema12": ema12,
        "ema26": ema26,
        "macd": macd,
        "macdSignal": signal,
        "macdHistogram": macd - signal,
        "bbUpper": upper,
        "bbMiddle": middle,
        "bbLower": lower,
        "atr14": talib.ATR(high, low, close, 14),
        "sma20": talib.SMA(close, 20),
    }
    return {k: [None if math.isnan(x) else float(x) for x in v] for k, v in values.items()}


def close_enough(a: float, b: float, floor: float) -> bool:
    return abs(a - b) <= TOLERANCE * max(abs(b), floor)


def main() -> None:
    candles = generate_candles()
    book = textbook(candles)
    ta = talib_values(candles)
    expected = dict(book)
    for name, values in ta.items():
        merged = []
        for i, (t, b) in enumerate(zip(values, book[name])):
            if (t is None) != (b is None):
                raise SystemExit(f"{name}[{i}]: TA-Lib {t} and textbook {b} disagree on the warm-up")
            if name == "rsi14" and b == 50.0 and t == 0.0:
                merged.append(b)  # no movement: the platform's definition, TA-Lib says 0
                continue
            # Differences of EMAs near a zero crossing: an absolute floor of 1e-6 of the price.
            floor = 1e-6 * float(candles[i]["close"]) if name.startswith("macd") else 1e-12
            if t is not None and not close_enough(t, b, floor):
                raise SystemExit(f"{name}[{i}]: TA-Lib {t!r} vs textbook {b!r}")
            merged.append(t)
        expected[name] = merged
    OUT.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "description": "Synthetic 1-minute BTC/USDT candles and reference indicator values; generated by "
        "scripts/reference/make-indicator-fixtures.py (TA-Lib " + talib.__version__ + ", Python decimal). Do not edit.",
        "sources": {name: "TA-Lib" for name in ta} | {name: "decimal" for name in FEATURES if name not in ta},
        "candles": candles,
        "expected": expected,
    }
    OUT.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({len(candles)} candles)")


if __name__ == "__main__":
    main()
