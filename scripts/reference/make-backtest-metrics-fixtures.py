#!/usr/bin/env python3
"""Reference values for the backtest metrics (lib/backtest/metrics.ts, fixtures in
test/fixtures/backtest-metrics/), from implementations that are not the platform's code:

- empyrical 0.5.5 (Quantopian's metrics library, used by pyfolio) for the annualised volatility,
  Sharpe (risk-free 0), Sortino (target 0), max drawdown, CAGR and Calmar, on the period returns
  pandas computes from the equity series (`pct_change`), annualised with 365 days / the sampling
  interval; empyrical's NaN (zero volatility, no downside, no drawdown) is written as null;
- a textbook implementation in pandas and Python `decimal` (40 significant digits, half to even,
  as decimal.js is configured in lib/decimal.ts) for the total return, the CAGR over the range's
  length (checked against empyrical's), the duration of the max drawdown, the trade statistics,
  the exposure time, the fees and slippage paid and the buy-and-hold return.

Inputs are synthetic and deterministic (seeded): equity in integer cents that moves only while a
position is open, each trade's P&L being the equity change over its open interval.
- random-walk.json: hourly samples over 60 days, 14 trades (wins and losses), two instruments;
- no-trades.json: a flat equity over 7 days of 15-minute samples, no trade, no position;
- unrecovered-drawdown.json: daily samples over a year, a rise then a fall that never recovers,
  one win and three losses.

Regenerate (empyrical 0.5.5 needs numpy < 2 and `six`):
    python3 -m venv /tmp/metrics-venv
    /tmp/metrics-venv/bin/pip install empyrical==0.5.5 six "numpy<2" "pandas<2.3"
    /tmp/metrics-venv/bin/python scripts/reference/make-backtest-metrics-fixtures.py
"""
import json
import math
import random
from decimal import ROUND_HALF_EVEN, Decimal, getcontext
from pathlib import Path

import empyrical
import numpy as np
import pandas as pd

getcontext().prec = 40
getcontext().rounding = ROUND_HALF_EVEN
OUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "backtest-metrics"
START = 1_767_225_600_000  # 2026-01-01T00:00:00Z
MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
YEAR = 365 * DAY
MONEY = Decimal("1e-12")


def cents(value: int) -> str:
    return str(Decimal(value) / 100)


def generate(rng, samples, interval, trade_windows, drift, vol, start_cash_cents, instruments):
    """Equity in cents, flat outside `trade_windows` (sample index pairs), a random walk inside."""
    equity = [start_cash_cents]
    open_at = set()
    for entry, exit_ in trade_windows:
        open_at.update(range(entry + 1, exit_ + 1))
    for i in range(1, samples):
        prev = equity[-1]
        move = round(prev * rng.gauss(drift(i), vol)) if i in open_at else 0
        equity.append(max(prev + move, 1))
    trades = []
    for n, (entry, exit_) in enumerate(trade_windows):
        fee = rng.randint(50, 900)  # cents, paid inside the P&L
        slip = rng.randint(0, 400)
        trades.append({
            "instrument": instruments[n % len(instruments)]["instrument"],
            "entryTime": START + entry * interval,
            "exitTime": START + exit_ * interval,
            "pnl": cents(equity[exit_] - equity[entry]),
            "fees": str(Decimal(fee) / 10_000),  # to 1e-6, as fills' fees are
            "slippage": str(Decimal(slip) / 1_000),
        })
    return {
        "equity": [{"time": START + i * interval, "equity": cents(e)} for i, e in enumerate(equity)],
        "trades": trades,
        "startCash": cents(start_cash_cents),
        "range": {"start": START, "end": START + (samples - 1) * interval},
        # the position opens at the entry sample and is closed from the exit sample on
        "openIntervals": [{"start": t["entryTime"], "end": t["exitTime"]} for t in trades],
        "buyAndHold": instruments,
    }


def nullable(x: float):
    return None if x is None or not math.isfinite(x) else float(x)


def reference(inp: dict) -> dict:
    times = np.array([s["time"] for s in inp["equity"]], dtype=np.int64)
    equity = pd.Series([float(s["equity"]) for s in inp["equity"]], index=times)
    returns = equity.pct_change().dropna().to_numpy()
    interval = int(times[1] - times[0])
    assert (np.diff(times) == interval).all()
    ppy = YEAR / interval

    start_cash = Decimal(inp["startCash"])
    final = Decimal(inp["equity"][-1]["equity"])
    years = (inp["range"]["end"] - inp["range"]["start"]) / YEAR
    cagr = float(final / start_cash) ** (1 / years) - 1
    cagr_empyrical = empyrical.cagr(returns, annualization=ppy)
    assert abs(cagr - cagr_empyrical) <= 1e-9 * max(abs(cagr), 1e-12), (cagr, cagr_empyrical)

    max_dd = 0.0 - empyrical.max_drawdown(returns)  # 0.0, not -0.0, without a drawdown
    # duration: from the running peak before the deepest point to the first sample back at that peak
    running_peak = equity.cummax()
    depth = (running_peak - equity) / running_peak
    if depth.max() > 0:
        trough = depth.idxmax()
        peak_value = running_peak[trough]
        peak_time = equity[: trough][equity[: trough] == peak_value].index[-1]
        after = equity[equity.index > trough]
        recovered = after[after >= peak_value]
        duration = int((recovered.index[0] if len(recovered) else inp["range"]["end"]) - peak_time)
    else:
        duration = 0

    pnls = [Decimal(t["pnl"]) for t in inp["trades"]]
    wins = [p for p in pnls if p > 0]
    losses = [-p for p in pnls if p < 0]
    n = len(pnls)
    win_rate = len(wins) / n if n else None

    # exposure: sweep the interval boundaries, counting how many positions are open
    events = sorted([(i["start"], 1) for i in inp["openIntervals"]] + [(i["end"], -1) for i in inp["openIntervals"]])
    covered, depth_open, since = 0, 0, None
    for t, step in events:
        t = min(max(t, inp["range"]["start"]), inp["range"]["end"])
        if depth_open == 0 and step == 1:
            since = t
        depth_open += step
        if depth_open == 0:
            covered += t - since

    bh = inp["buyAndHold"]
    return {
        "totalReturn": float(final / start_cash - 1),
        "cagr": cagr,
        "annualVolatility": nullable(empyrical.annual_volatility(returns, annualization=ppy)),
        "sharpe": nullable(empyrical.sharpe_ratio(returns, annualization=ppy)),
        "sortino": nullable(empyrical.sortino_ratio(returns, annualization=ppy)),
        "calmar": nullable(empyrical.calmar_ratio(returns, annualization=ppy)),
        "maxDrawdown": float(max_dd),
        "maxDrawdownDurationMs": duration,
        "profitFactor": float(sum(wins) / sum(losses)) if losses else None,
        "winRate": win_rate,
        # Freqtrade's expectancy ratio (freqtrade/data/metrics.py calculate_expectancy)
        "expectancy": ((1 + float((sum(wins) / len(wins) if wins else 0) / (sum(losses) / len(losses)))) * win_rate - 1)
        if losses else None,
        "averageTrade": canonical((sum(pnls) / n).quantize(MONEY)) if n else None,
        "bestTrade": canonical(max(pnls)) if n else None,
        "worstTrade": canonical(min(pnls)) if n else None,
        "exposureTime": covered / (inp["range"]["end"] - inp["range"]["start"]),
        "numberOfTrades": n,
        "feesPaid": canonical(sum((Decimal(t["fees"]) for t in inp["trades"]), Decimal(0))),
        "slippagePaid": canonical(sum((Decimal(t["slippage"]) for t in inp["trades"]), Decimal(0))),
        "buyAndHoldReturn": float(sum(Decimal(p["lastClose"]) / Decimal(p["firstClose"]) - 1 for p in bh) / len(bh))
        if bh else None,
    }


def canonical(d: Decimal) -> str:
    """lib/decimal.ts `str`: plain notation, no trailing zeros, "0" for zero."""
    if d == 0:
        return "0"
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def windows(rng, samples, count, min_len, max_len):
    """`count` disjoint (entry, exit) sample pairs, in order."""
    spots = sorted(rng.sample(range(1, samples - max_len - 1), count))
    result, free_from = [], 1
    for s in spots:
        entry = max(s, free_from)
        exit_ = min(entry + rng.randint(min_len, max_len), samples - 1)
        if exit_ > entry:
            result.append((entry, exit_))
            free_from = exit_ + 1
    return result


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(11)
    samples = 60 * 24 + 1
    cases = {
        "random-walk": generate(
            rng, samples, HOUR, windows(rng, samples, 14, 6, 60), lambda i: 0.0004, 0.006, 1_000_000,
            [{"instrument": "BTC/USDT", "firstClose": "60000.00", "lastClose": "64321.57"},
             {"instrument": "ETH/USDT", "firstClose": "3000.00", "lastClose": "2871.35"}]),
        "no-trades": generate(
            rng, 7 * 96 + 1, 15 * MINUTE, [], lambda i: 0.0, 0.0, 2_500_000,
            [{"instrument": "BTC/USDT", "firstClose": "60000.00", "lastClose": "58800.10"}]),
        # up while the first trade is open, then three losing trades on a falling market
        "unrecovered-drawdown": generate(
            rng, 366, DAY, [(10, 60), (100, 140), (180, 250), (280, 360)],
            lambda i: 0.004 if i <= 60 else -0.004, 0.01, 500_000,
            [{"instrument": "SOL/USDT", "firstClose": "150.000", "lastClose": "92.125"}]),
    }
    for name, inp in cases.items():
        expected = reference(inp)
        (OUT / f"{name}.json").write_text(json.dumps({"input": inp, "expected": expected}, indent=1) + "\n")
        print(name, json.dumps(expected))


if __name__ == "__main__":
    main()
