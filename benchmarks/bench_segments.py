"""Benchmark of the segmentation model at the reference scale: the quarterly fit (k selection included) and the
nightly scoring of every customer with the saved model.

    .venv/bin/python benchmarks/bench_segments.py             # 1M customers, median of 3
    .venv/bin/python benchmarks/bench_segments.py --small     # 1% of the reference scale, a smoke run

The customers are those of the feature benchmark's synthetic warehouse (`benchmarks/synthetic.py`, generated on first
use and cached under `benchmarks/output/data/`); their feature table is computed once and cached next to it (not
timed). Measured, each repetition:

* `fit` -- `fit_model(features, snapshot)` with the default settings: preprocessing fitted on everyone, k chosen
  over 3-10 on the criteria sample, the final k-means on the fit sample, bootstrap stability, names and descriptions.
* `score` -- what a nightly run does with a model: `load_model` from disk, then `model.assign(features)` for every
  customer.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synthetic import add_scale_arguments, ensure_warehouse, scale_from_arguments  # noqa: E402

from segmentation_pipeline.core.features.customer_features import compute_features  # noqa: E402
from segmentation_pipeline.core.segment.model import fit_model  # noqa: E402
from segmentation_pipeline.core.segment.registry import load_model, save_model  # noqa: E402
from segmentation_pipeline.core.storage.layout import DataLayout  # noqa: E402
from segmentation_pipeline.core.value.model import NoValueModel  # noqa: E402

TARGET_FIT_SECONDS = 120.0
TARGET_SCORE_SECONDS = 10.0


def cached_features(root: Path, snapshot) -> tuple:
    """The snapshot's feature table, computed by the pipeline's SQL once and kept under the data root."""
    path = root / f"customer_features-{snapshot.isoformat()}.parquet"
    if not path.exists():
        print("computing the feature table once (not timed) ...", flush=True)
        features = compute_features(DataLayout(root), snapshot)
        features.to_parquet(path)
    return pq.read_table(path).to_pandas()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_scale_arguments(parser)
    parser.add_argument("--small", action="store_true", help="smoke run: same as --scale 0.01")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--data-dir", type=Path, help="data root to use (default: a cache folder keyed by the scale)")
    args = parser.parse_args(argv)

    scale = scale_from_arguments(args, 0.01 if args.small else None)
    root, _ = ensure_warehouse(scale, args.data_dir)
    features = cached_features(root, scale.end_date)
    fits, scores = [], []
    with tempfile.TemporaryDirectory() as folder:
        for repetition in range(args.repeat):
            started = time.perf_counter()
            model = fit_model(features, scale.end_date.isoformat())
            fits.append(time.perf_counter() - started)
            save_model(model, Path(folder), NoValueModel("not fitted: this benchmark times the segmentation model"))
            started = time.perf_counter()
            assignments = load_model(Path(folder)).assign(features)
            scores.append(time.perf_counter() - started)
            print(f"run {repetition + 1}/{args.repeat}: fit {fits[-1]:.1f} s (k = {model.k}), score {scores[-1]:.2f} s")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    fit, score = statistics.median(fits), statistics.median(scores)
    print(f"\n{len(features):,} customers, {len(assignments):,} scored; model quality {model.quality}")
    print("k candidates (criteria sample):")
    for k, criteria in model.candidates.items():
        print(f"  k={k}: " + ", ".join(f"{name} {value:g}" for name, value in criteria.items()))
    print(
        f"fit incl. k selection: {fit:.1f} s (min {min(fits):.1f}, max {max(fits):.1f}; "
        f"target < {TARGET_FIT_SECONDS:.0f} s: {'met' if fit < TARGET_FIT_SECONDS else 'MISSED'})"
    )
    print(
        f"nightly scoring (load model + assign): {score:.2f} s (min {min(scores):.2f}, max {max(scores):.2f}; "
        f"target < {TARGET_SCORE_SECONDS:.0f} s: {'met' if score < TARGET_SCORE_SECONDS else 'MISSED'})"
    )
    print(f"peak RSS of the process: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
