"""Benchmark of the value model at the reference scale: the quarterly fit (BG/NBD + Gamma-Gamma + holdout check) and
the nightly scoring of every customer, beside lifetimes' fit of the same summary.

    .venv/bin/python benchmarks/bench_value.py             # 1M customers, median of 3
    .venv/bin/python benchmarks/bench_value.py --small     # 10,000 customers, a smoke run

The customers' purchase days are drawn from the BG/NBD and Gamma-Gamma processes with known parameters
(`core/value/simulation.py`, fixed seed): customers whose first purchase fell in the two years up to the fit day, about
5.6 purchase days each at the reference scale. They are generated once in a child process and cached under
`benchmarks/output/value/` (git-ignored), so the peak RSS below is this process's own: the order days and their
summary in memory, the fits and the scores. The summary (the feature query's columns, `summarize_order_days`) is
computed before timing. Measured, each repetition:

* `fit` -- `fit_value_model(features, order_days, eve)`: both models on the eve's summary plus the holdout check
  (calibration summary from the order days, a second BG/NBD fit, holdout predictions).
* `fit_models` -- the BG/NBD and Gamma-Gamma fits alone on the same summary: the work lifetimes is compared with.
* `score` -- `model.score(features, snapshot)` for every customer.

Then once, unless `--no-lifetimes`: lifetimes' `BetaGeoFitter` on the same per-customer summary (and on its distinct
triplets with weights, its fastest use) and `GammaGammaFitter` on its repeat buyers, both with their defaults
(penalizer 0), and the largest relative difference between lifetimes' and our parameters and per-customer figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation_pipeline.core.value import bgnbd, gamma_gamma
from segmentation_pipeline.core.value.bgnbd import BgNbdParams
from segmentation_pipeline.core.value.gamma_gamma import GammaGammaParams, RepeatSpend
from segmentation_pipeline.core.value.model import ValueModel, fit_value_model
from segmentation_pipeline.core.value.simulation import simulate_order_days
from segmentation_pipeline.core.value.summaries import AGE, RECENCY, REPEATS, SPEND, Triplets, summarize_order_days

OUTPUT = Path(__file__).resolve().parent / "output" / "value"
PURCHASE_PARAMS = BgNbdParams(r=0.9, alpha=35.0, a=0.7, b=4.0)
"""About nine purchases a year while active; 15% of customers drop out after each repeat purchase."""
SPEND_PARAMS = GammaGammaParams(p=6.0, q=3.5, v=60.0)
"""A mean spend per purchase of p v / (q - 1) = 144."""
HISTORY_DAYS = 730
EVE = date(2026, 9, 30)
SNAPSHOT = date(2026, 11, 22)
TARGET_FIT_SECONDS, TARGET_SCORE_SECONDS, TARGET_SPEEDUP, TARGET_PEAK_MB = 5.0, 2.0, 10.0, 2048


def order_days_file(customers: int, seed: int) -> Path:
    """The cached simulated order days, generated in a child process the first time."""
    path = OUTPUT / f"order_days-c{customers}-d{HISTORY_DAYS}-{EVE.isoformat()}-seed{seed}.parquet"
    if not path.exists():
        print(f"simulating the purchase days of {customers:,} customers once (not timed) ...", flush=True)
        command = [
            sys.executable,
            __file__,
            "--generate",
            str(path),
            "--customers",
            str(customers),
            "--seed",
            str(seed),
        ]
        subprocess.run(command, check=True)
    return path


def generate(path: Path, customers: int, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    order_days = simulate_order_days(
        PURCHASE_PARAMS, SPEND_PARAMS, customers, HISTORY_DAYS, EVE, np.random.default_rng(seed)
    )
    order_days.to_parquet(path.with_suffix(".tmp"))
    path.with_suffix(".tmp").rename(path)


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def fit_models(features: pd.DataFrame) -> None:
    """BG/NBD on every buyer's triplet, Gamma-Gamma on the repeat buyers with spend: what lifetimes fits."""
    buyers = features[features[AGE].notna()]
    bgnbd.fit(Triplets.of(buyers[REPEATS], buyers[RECENCY], buyers[AGE]))
    repeaters = buyers[(buyers[REPEATS] > 0) & (buyers[SPEND] > 0)]
    gamma_gamma.fit(RepeatSpend.of(repeaters[REPEATS], repeaters[SPEND]))


def largest_relative_difference(ours, theirs) -> float:
    ours, theirs = np.asarray(ours, dtype="float64"), np.asarray(theirs, dtype="float64")
    return float(np.max(np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300)))


def compare_with_lifetimes(model: ValueModel, features: pd.DataFrame, scores: pd.DataFrame, ours_seconds: float):
    """lifetimes' fits of the same summary, their times and how far their figures are from ours."""
    import lifetimes

    buyers = features[AGE].notna().to_numpy()
    x, t_x, T, m = (features.loc[buyers, column].reset_index(drop=True) for column in (REPEATS, RECENCY, AGE, SPEND))
    repeaters = (x > 0) & (m > 0)
    purchases, purchase_seconds = timed(lambda: lifetimes.BetaGeoFitter().fit(x, t_x, T))
    spend, spend_seconds = timed(lambda: lifetimes.GammaGammaFitter().fit(x[repeaters], m[repeaters]))
    triplets = pd.DataFrame({"x": x, "t_x": t_x, "T": T}).groupby(["x", "t_x", "T"]).size().reset_index(name="n")
    _, triplet_seconds = timed(
        lambda: lifetimes.BetaGeoFitter().fit(triplets["x"], triplets["t_x"], triplets["T"], weights=triplets["n"])
    )
    lifetimes_seconds = purchase_seconds + spend_seconds
    print(f"\nlifetimes {lifetimes.__version__} on the same summary ({len(x):,} customers):")
    print(f"  BetaGeoFitter, one row per customer: {purchase_seconds:.2f} s")
    print(f"  BetaGeoFitter, {len(triplets):,} distinct triplets with weights: {triplet_seconds:.2f} s")
    print(f"  GammaGammaFitter, {repeaters.sum():,} repeat buyers: {spend_seconds:.2f} s")
    speedup = lifetimes_seconds / ours_seconds
    best_speedup = (triplet_seconds + spend_seconds) / ours_seconds
    print(
        f"  BG/NBD + Gamma-Gamma: lifetimes {lifetimes_seconds:.2f} s, ours {ours_seconds:.2f} s: "
        f"{speedup:.1f}x faster ({best_speedup:.1f}x against lifetimes on weighted triplets; "
        f"target >= {TARGET_SPEEDUP:.0f}x: "
        f"{'met' if min(speedup, best_speedup) >= TARGET_SPEEDUP else 'MISSED'})"
    )
    ours_scores = scores[buyers]
    parity = {
        "BG/NBD parameters": largest_relative_difference(
            list(model.purchase_fit.params.values()), purchases.params_[["r", "alpha", "a", "b"]]
        ),
        "Gamma-Gamma parameters": largest_relative_difference(
            list(model.spend_fit.params.values()), spend.params_[["p", "q", "v"]]
        ),
        "p_alive": largest_relative_difference(
            ours_scores["p_alive"], purchases.conditional_probability_alive(x, t_x, T)
        ),
        "expected_orders_90d": largest_relative_difference(
            ours_scores["expected_orders_90d"],
            purchases.conditional_expected_number_of_purchases_up_to_time(90, x, t_x, T),
        ),
        "expected_orders_365d": largest_relative_difference(
            ours_scores["expected_orders_365d"],
            purchases.conditional_expected_number_of_purchases_up_to_time(365, x, t_x, T),
        ),
        "expected spend per purchase": largest_relative_difference(
            gamma_gamma.expected_spend(model.spend, x.to_numpy(), m.to_numpy()),
            spend.conditional_expected_average_profit(x, m),
        ),
    }
    print("  largest relative difference, ours vs lifetimes (target <= 1e-3):")
    for figure, difference in parity.items():
        print(f"    {figure:<28} {difference:.1e}  {'met' if difference <= 1e-3 else 'MISSED'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--small", action="store_true", help="smoke run: 10,000 customers")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--no-lifetimes", action="store_true", help="skip lifetimes' fits and the parity figures")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    customers = 10_000 if args.small else args.customers
    if args.generate:
        generate(args.generate, customers, args.seed)
        return

    order_days = pd.read_parquet(order_days_file(customers, args.seed))
    features = summarize_order_days(order_days, EVE)
    print(f"{customers:,} customers, {len(order_days):,} purchase days; load average {os.getloadavg()[0]:.2f}")
    fits, model_fits, scores_times = [], [], []
    for repetition in range(args.repeat):
        model, seconds = timed(fit_value_model, features, order_days, EVE)
        fits.append(seconds)
        model_fits.append(timed(fit_models, features)[1])
        scores, seconds = timed(model.score, features, SNAPSHOT)
        scores_times.append(seconds)
        print(
            f"run {repetition + 1}/{args.repeat}: fit {fits[-1]:.2f} s (models alone {model_fits[-1]:.2f} s), "
            f"score {scores_times[-1]:.2f} s"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert isinstance(model, ValueModel), model.reason

    card = model.card()
    print(f"\nBG/NBD {_rounded(card['bgnbd']['params'])} (true {_rounded(vars(PURCHASE_PARAMS))})")
    print(f"Gamma-Gamma {_rounded(card['gamma_gamma']['params'])} (true {_rounded(vars(SPEND_PARAMS))})")
    print(f"{model.holdout.summary() if not isinstance(model.holdout, str) else model.holdout}")
    fit, model_fit, score = (statistics.median(times) for times in (fits, model_fits, scores_times))
    print(
        f"fit incl. holdout check: {fit:.2f} s (min {min(fits):.2f}, max {max(fits):.2f}; "
        f"target < {TARGET_FIT_SECONDS:.0f} s: {'met' if fit < TARGET_FIT_SECONDS else 'MISSED'})"
    )
    print(f"BG/NBD + Gamma-Gamma fits alone: {model_fit:.2f} s (min {min(model_fits):.2f}, max {max(model_fits):.2f})")
    print(
        f"nightly scoring of {len(features):,} customers: {score:.2f} s (min {min(scores_times):.2f}, "
        f"max {max(scores_times):.2f}; target < {TARGET_SCORE_SECONDS:.0f} s: "
        f"{'met' if score < TARGET_SCORE_SECONDS else 'MISSED'})"
    )
    print(
        f"peak RSS of the process (input, fits, scores): {peak_mb:,.0f} MB "
        f"(target < {TARGET_PEAK_MB:,} MB: {'met' if peak_mb < TARGET_PEAK_MB else 'MISSED'})"
    )
    if not args.no_lifetimes:
        compare_with_lifetimes(model, features, scores, model_fit)


def _rounded(params: dict) -> str:
    return ", ".join(f"{name} {value:.4g}" for name, value in params.items())


if __name__ == "__main__":
    main()
