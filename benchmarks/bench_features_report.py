"""The results of `bench_features.py`: medians over the repetitions, the verdicts against the targets, the JSON
report and its table on stdout."""

from __future__ import annotations

import os
import platform
import statistics
from datetime import UTC, date, datetime
from pathlib import Path

from bench_features_stages import STAGE_PARTS, proc_field_mb

TARGET_STAGE_SECONDS = 20.0
TARGET_PEAK_MB = 6 * 1024
TARGET_RATIO = 10.0
METRICS = ("wall_s", "cpu_s", "peak_rss_mb")


def _median_min_max(values: list[float | None]) -> dict | None:
    values = [value for value in values if value is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def aggregate(runs: list[dict]) -> dict:
    """Medians (min, max) per stage and part over the repetitions."""
    by_part: dict[str, dict] = {}
    for stage, parts in STAGE_PARTS.items():
        stage_runs = [run[stage] for run in runs if stage in run]
        if not stage_runs:
            continue
        for part in parts:
            by_part[f"{stage}/{part}"] = {
                metric: _median_min_max([run[part][metric] for run in stage_runs]) for metric in METRICS
            }
        by_part[f"{stage}/process"] = {
            metric: _median_min_max([run["process"][metric] for run in stage_runs]) for metric in METRICS
        }
        if stage == "features_rfm":
            by_part["features_rfm/stage"] = {
                "wall_s": _median_min_max(
                    [run["compute_features"]["wall_s"] + run["score_customers"]["wall_s"] for run in stage_runs]
                ),
                "cpu_s": _median_min_max(
                    [run["compute_features"]["cpu_s"] + run["score_customers"]["cpu_s"] for run in stage_runs]
                ),
                "peak_rss_mb": _median_min_max([run["process"]["peak_rss_mb"] for run in stage_runs]),
            }
    return by_part


def verdicts(summary: dict) -> dict:
    """The medians that have a target, and whether they meet it."""
    result: dict = {}
    stage = summary.get("features_rfm/stage")
    if stage:
        wall, peak = stage["wall_s"]["median"], stage["peak_rss_mb"]["median"]
        result["stage_wall_s"] = wall
        result["stage_under_20_s"] = wall < TARGET_STAGE_SECONDS
        result["stage_peak_rss_mb"] = peak
        result["stage_under_6_gb"] = stage["peak_rss_mb"]["max"] < TARGET_PEAK_MB
    ours, theirs = summary.get("rfm_duckdb/rfm_sql"), summary.get("lifetimes/summary_data_from_transaction_data")
    if ours and theirs:
        ratio = theirs["wall_s"]["median"] / ours["wall_s"]["median"]
        result["lifetimes_over_ours"] = ratio
        result["rfm_at_least_10x_faster"] = ratio >= TARGET_RATIO
        result["lifetimes_over_ours_cpu"] = theirs["cpu_s"]["median"] / ours["cpu_s"]["median"]
    return result


def _versions() -> dict:
    import importlib.metadata as metadata

    versions = {"python": platform.python_version()}
    for package in ("duckdb", "pandas", "pyarrow", "numpy", "lifetimes"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def build_report(
    *,
    scale: dict,
    snapshot: date,
    root: Path,
    generation: dict,
    warm_seconds: float,
    repeat: int,
    runs: list[dict],
    crosscheck: dict | None,
) -> dict:
    """The JSON report: what ran where, the medians, the verdicts and every run's raw figures."""
    summary = aggregate(runs)
    pressures = [run[stage]["process"]["cpu_pressure_avg60_before"] for run in runs for stage in run]
    pressures = [value for value in pressures if value is not None]
    return {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": scale,
        "snapshot_date": snapshot.isoformat(),
        "data_root": str(root),
        "generation": {key: generation.get(key) for key in ("seconds", "bytes", "sources", "orders_per_buyer")},
        "page_cache_warm_up_s": warm_seconds,
        "repeat": repeat,
        "machine": {
            "cpus": os.cpu_count(),
            "cpus_usable": len(os.sched_getaffinity(0)),
            "memory_mb": proc_field_mb("/proc/meminfo", "MemTotal"),
            "platform": platform.platform(),
        },
        "versions": _versions(),
        "cpu_pressure_range": [min(pressures), max(pressures)] if pressures else None,
        "summary": summary,
        "verdicts": verdicts(summary),
        "crosscheck": crosscheck,
        "runs": runs,
    }


def _cell(stats: dict | None, digits: int) -> str:
    if not stats:
        return "-"
    return f"{stats['median']:.{digits}f} [{stats['min']:.{digits}f}-{stats['max']:.{digits}f}]"


def print_report(report: dict) -> None:
    """The medians as a table, then the verdicts and the crosscheck in a sentence each."""
    summary, scale = report["summary"], report["scale"]
    print()
    print(
        f"feature + RFM stage: {scale['customers']:,} customers, {scale['orders']:,} orders, "
        f"{scale['events']:,} events, "
        f"{scale['surveys']:,} surveys; snapshot {report['snapshot_date']}; {report['machine']['cpus']} CPUs; "
        f"medians of {report['repeat']} run(s) [min-max]"
    )
    header = f"{'stage / part':50s} {'wall s':>22s} {'CPU s':>22s} {'peak RSS MB':>24s}"
    print(header)
    print("-" * len(header))
    for name, metrics in summary.items():
        print(
            f"{name:50s} {_cell(metrics['wall_s'], 2):>22s} {_cell(metrics['cpu_s'], 2):>22s} "
            f"{_cell(metrics['peak_rss_mb'], 0):>24s}"
        )
    print()
    _print_verdicts(report["verdicts"], report.get("crosscheck"))
    print(f"CPU pressure from other load during the runs (avg60 %, min-max): {report['cpu_pressure_range']}")


def _met(flag: bool) -> str:
    return "met" if flag else "MISSED"


def _print_verdicts(verdict: dict, check: dict | None) -> None:
    if "stage_wall_s" in verdict:
        print(
            f"feature + RFM stage (compute_features + score_customers): {verdict['stage_wall_s']:.2f} s "
            f"(target < {TARGET_STAGE_SECONDS:.0f} s: {_met(verdict['stage_under_20_s'])}), "
            f"peak RSS {verdict['stage_peak_rss_mb']:,.0f} MB (target < 6 GB: {_met(verdict['stage_under_6_gb'])})"
        )
    if "lifetimes_over_ours" in verdict:
        print(
            "RFM: lifetimes summary_data_from_transaction_data / our SQL = "
            f"{verdict['lifetimes_over_ours']:.1f}x wall, {verdict['lifetimes_over_ours_cpu']:.1f}x CPU "
            f"(target >= {TARGET_RATIO:.0f}x: {_met(verdict['rfm_at_least_10x_faster'])})"
        )
    if check:
        print(
            f"crosscheck lifetimes vs the feature SQL on the same orders: "
            f"{'agree' if check.get('agree') else 'DIFFER'} {check}"
        )
