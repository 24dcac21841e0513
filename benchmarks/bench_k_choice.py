"""Does the choice of k hold across samples, and what does it cost at the reference scale?

    .venv/bin/python benchmarks/bench_k_choice.py                            # seeds 11 23 37 51 68, 2,500 customers
    .venv/bin/python benchmarks/bench_k_choice.py --seeds 1001-1048 --no-scale
    .venv/bin/python benchmarks/bench_k_choice.py --seeds 11 --scale-customers 1000000

For every seed a fresh sample is generated (`segmentation_pipeline.sample_data`, not timed) and `fit_model` runs
with the default settings: printed are the chosen k, the adjusted Rand index against the planted personas and the
fit time. Then, at `--scale-customers`, a feature table made of the first seed's customers drawn with replacement
(numbers jittered by up to 5%, so no two rows are copies) times choosing k (`score_candidates` + `choose_k` on the
preprocessed fit sample) and the whole `fit_model`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from segmentation_pipeline.core.segment.k_choice import choose_k, sample_rows, score_candidates
from segmentation_pipeline.core.segment.model import DEFAULT_SETTINGS, fit_model
from segmentation_pipeline.core.segment.preprocessing import model_inputs, preprocessing
from segmentation_pipeline_tests.helpers import sample_features

SNAPSHOT = date(2026, 11, 22)
TARGET_FIT_SECONDS = 20.0


def seeds_argument(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def scaled(features: pd.DataFrame, customers: int, seed: int) -> pd.DataFrame:
    """`customers` rows drawn with replacement from `features`, numeric columns jittered by up to 5%."""
    rng = np.random.default_rng(seed)
    table = features.iloc[rng.integers(0, len(features), customers)].reset_index(drop=True)
    for name in (*DEFAULT_SETTINGS.log_features, *DEFAULT_SETTINGS.share_features):
        table[name] = table[name] * rng.uniform(0.95, 1.05, customers)
    table["customer_id"] = [f"S{i:07d}" for i in range(customers)]
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", nargs="+", default=["11", "23", "37", "51", "68"], help="seeds or ranges a-b")
    parser.add_argument("--customers", type=int, default=2500, help="customers per generated sample (2,500)")
    parser.add_argument("--scale-customers", type=int, default=1_000_000, help="customers of the timed fit")
    parser.add_argument("--no-scale", action="store_true", help="skip the timed fit at scale")
    parser.add_argument("--repeat", type=int, default=2, help="repetitions of the timed fit (2)")
    args = parser.parse_args(argv)
    seeds = [seed for text in args.seeds for seed in seeds_argument(text)]

    recovery, first = {}, None
    print("seed | k | ARI | fit s")
    for seed in seeds:
        with tempfile.TemporaryDirectory() as folder:
            features, personas = sample_features(Path(folder), seed, args.customers, SNAPSHOT)
        started = time.perf_counter()
        model = fit_model(features, SNAPSHOT.isoformat())
        seconds = time.perf_counter() - started
        recovery[seed] = adjusted_rand_score(personas, model.segment_of(features))
        print(f"{seed} | {model.k} | {recovery[seed]:.3f} | {seconds:.1f}", flush=True)
        first = features if first is None else first
    values = list(recovery.values())
    print(f"mean ARI {statistics.mean(values):.3f}, min {min(values):.3f}, below 0.8: {sum(v < 0.8 for v in values)}")
    if args.no_scale:
        return

    table = scaled(first, args.scale_customers, seeds[0])
    settings = DEFAULT_SETTINGS
    for repetition in range(args.repeat):
        inputs = model_inputs(table, settings)
        rows = sample_rows(np.random.default_rng(settings.seed), len(inputs), settings.fit_sample)
        sample = preprocessing(settings).fit(inputs).transform(inputs.iloc[rows])
        started = time.perf_counter()
        k = choose_k(score_candidates(sample, settings)[0])
        choosing = time.perf_counter() - started
        started = time.perf_counter()
        model = fit_model(table, SNAPSHOT.isoformat())
        fitting = time.perf_counter() - started
        verdict = "met" if fitting < TARGET_FIT_SECONDS else "MISSED"
        print(
            f"{len(table):,} customers, run {repetition + 1}: choosing k {choosing:.1f} s (k = {k}), "
            f"fit_model {fitting:.1f} s (k = {model.k}; target < {TARGET_FIT_SECONDS:.0f} s: {verdict})",
            flush=True,
        )


if __name__ == "__main__":
    main()
