"""The measured stages of `bench_features.py`, run one per child process (`bench_features.py --child STAGE`).

Each stage imports its libraries first, then records the baseline RSS, then times its parts (wall, CPU of all
threads, peak RSS of the part alone), so the figures are the work's and not the interpreter's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from rfm_comparison import completed_orders, crosscheck, duckdb_rfm, lifetimes_summary

# The timed parts of every stage, in the order they run (the report's rows).
STAGE_PARTS = {
    "features_rfm": ["compute_features", "score_customers"],
    "rfm_duckdb": ["rfm_sql"],
    "lifetimes": ["load_orders", "summary_data_from_transaction_data"],
    "daily_rollups": ["orders_day", "usage_events_day"],
}


def proc_field_mb(path: str, field: str) -> float | None:
    """A kB field of a /proc file such as /proc/self/status or /proc/meminfo, in MB (None where unavailable)."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _status_mb(field: str) -> float | None:
    return proc_field_mb("/proc/self/status", field)


def _reset_peak() -> bool:
    """Reset VmHWM (peak RSS) to the current RSS, so the next part's peak is its own (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class TimedPart:
    """Wall and CPU seconds (all threads) and peak RSS of one timed part of a child."""

    def __init__(self, name: str, results: dict):
        self.name, self.results = name, results

    def __enter__(self):
        self.peak_was_reset = _reset_peak()
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        wall, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        self.results[self.name] = {
            "wall_s": wall,
            "cpu_s": cpu,
            "peak_rss_mb": _status_mb("VmHWM") if self.peak_was_reset else None,
        }
        return False


def _features_rfm(results: dict, root: Path, snapshot: date) -> None:
    from segmentation_pipeline.core.features.customer_features import compute_features
    from segmentation_pipeline.core.features.rfm import score_customers
    from segmentation_pipeline.core.features.rollups import refresh_rollups
    from segmentation_pipeline.core.storage.layout import DataLayout

    results["baseline_rss_mb"] = _status_mb("VmRSS")
    with TimedPart("compute_features", results):
        refresh_rollups(DataLayout(root))
        features = compute_features(DataLayout(root), snapshot)
    with TimedPart("score_customers", results):
        scores, _ = score_customers(features)
    results["rows"] = {"customers": len(features), "buyers": int(features["has_orders"].sum())}


def _rfm_duckdb(results: dict, root: Path, snapshot: date) -> None:
    import duckdb  # noqa: F401  (imported before the baseline, like the other stages' libraries)

    results["baseline_rss_mb"] = _status_mb("VmRSS")
    with TimedPart("rfm_sql", results):
        rfm = duckdb_rfm(root, snapshot)
    results["rows"] = {"buyers": len(rfm)}


def _lifetimes(results: dict, root: Path, snapshot: date) -> None:
    import lifetimes  # noqa: F401
    import pyarrow.dataset  # noqa: F401

    results["baseline_rss_mb"] = _status_mb("VmRSS")
    with TimedPart("load_orders", results):
        orders = completed_orders(root, snapshot)
    with TimedPart("summary_data_from_transaction_data", results):
        summary = lifetimes_summary(orders, snapshot)
    results["rows"] = {"orders": len(orders), "buyers": len(summary)}


def _daily_rollups(results: dict, root: Path, snapshot: date) -> None:
    import pyarrow.parquet as pq

    from segmentation_pipeline.core.features.rollups import rollups
    from segmentation_pipeline.core.ingest.contract import ORDERS, USAGE_EVENTS, clean_schema
    from segmentation_pipeline.core.storage.layout import DataLayout

    results["baseline_rss_mb"] = _status_mb("VmRSS")
    for source in (ORDERS, USAGE_EVENTS):
        rows = pq.read_table(DataLayout(root).validated(source.name, snapshot), schema=clean_schema(source))
        with TimedPart(f"{source.name}_day", results):
            rollups(source, rows)
        results.setdefault("rows", {})[source.name] = rows.num_rows


_MEASURED_STAGES: dict[str, Callable[[dict, Path, date], None]] = {
    "features_rfm": _features_rfm,
    "rfm_duckdb": _rfm_duckdb,
    "lifetimes": _lifetimes,
    "daily_rollups": _daily_rollups,
}


def run_stage(stage: str, root: Path, snapshot: date) -> dict:
    """Run one stage (or the untimed `crosscheck`) in this process and return its measurements."""
    results: dict = {"baseline_rss_mb": None}
    if stage in _MEASURED_STAGES:
        _MEASURED_STAGES[stage](results, root, snapshot)
    elif stage == "crosscheck":
        results = crosscheck(root, snapshot)
    else:
        raise ValueError(f"unknown stage {stage!r}")
    # resetting VmHWM also resets the kernel's max RSS of the process: its peak is the largest of the parts' peaks
    peaks = [part["peak_rss_mb"] for part in results.values() if isinstance(part, dict) and part.get("peak_rss_mb")]
    results["peak_rss_mb"] = max(peaks + [_status_mb("VmHWM") or 0.0])
    return results
