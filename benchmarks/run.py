"""End-to-end benchmark through Dagster, as a data engineer runs the pipeline from the command line.

    .venv/bin/python benchmarks/run.py                 # reference scale: 1M customers, 10M orders, 100M events
    .venv/bin/python benchmarks/run.py --scale 0.01    # 1% of it, a smoke run in a few minutes
    .venv/bin/python benchmarks/run.py --instance postgres --reuse-landing   # again, on the PostgreSQL instance
    .venv/bin/python benchmarks/run.py --scale 0.001 --engine spark         # DuckDB, then the same on Spark

A landing zone in the input contract is generated (seeded, by `benchmarks/synthetic.py`) under a fresh data root,
then three stages run one after the other, each a `dg launch` of the project's own jobs with its own Dagster
instance under the data root:

* `initial_load` -- `ingest_job` over every landing day before the snapshot day: one single-run backfill that
  ingests and validates a year of daily partitions (expectation suites included);
* `quarterly_refit` -- `quarterly_refit_job` for the snapshot day's quarter (k selection included);
* `nightly_refresh` -- `segmentation_job` for the snapshot day: ingest and validate the new day, features, RFM,
  scoring, rule segments, publish with its drift checks, and the HTML report.

Each stage is reported with wall time, CPU time (user + system of every process it started) and the peak RSS of
its largest process. In the same run, lifetimes' `summary_data_from_transaction_data` on the same validated
orders is timed next to our RFM query as the peer baseline (`pip install -e ".[bench]"`). Results: a table on
stdout and JSON under `benchmarks/output/` (or `--json PATH`).

`--instance postgres` runs the stages on the shipped PostgreSQL instance in a fresh database (as
`bench_cli.py --instance postgres`: the DAGSTER_PG_* server, else a throwaway local one) instead of SQLite under the
data root; `dg launch` opens a connection per statement there, as runs launched by the daemon do.
`--reuse-landing` keeps the root's landing zone from an earlier run of the same scale (and removes what the
pipeline wrote), instead of generating it again. `--engine spark` runs the three stages on DuckDB, then empties the
root but for its landing zone and runs them again with the Spark engine (`--spark-master`, default `local[2]`: the
`engine` and `spark` resources through `dg launch --config-json`), and reports both side by side. With
`--spark-after-load` the Spark run starts from the DuckDB run's initial load instead (a hard-linked copy of the root
beside it, `<root>-spark`) and runs only the refit and the nightly: a year of days validated by a local Spark on 2
cores takes hours, and the validated files are the same whichever engine wrote them (end_to_end/test_spark_pipeline.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from contextlib import nullcontext
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from bench_cli import postgres_instance  # noqa: E402
from rfm_comparison import completed_orders, duckdb_rfm, lifetimes_summary  # noqa: E402
from synthetic import Scale, add_scale_arguments, generate, read_marker, scale_from_arguments  # noqa: E402

from segmentation_pipeline.cli import engine_run_config  # noqa: E402
from segmentation_pipeline.core.calendar import quarter_start  # noqa: E402
from segmentation_pipeline.core.engines.spark_session import DEFAULT_MASTER  # noqa: E402
from segmentation_pipeline.instance import POSTGRES_DAGSTER_YAML  # noqa: E402

TARGETS = {
    1.0: {"initial_load": (150.0, None), "quarterly_refit": (20.0, None), "nightly_refresh": (30.0, None)},
    5.0: {"nightly_refresh": (120.0, 12288)},
}
"""Issue 15's targets (wall seconds, peak RSS MB) by scale factor of the reference: 1M customers, and 5x."""


def stage_commands(first: date, snapshot: date, run_config: dict | None = None) -> dict[str, list[str]]:
    """Each stage's `dg launch`; `run_config` (the engine's resources) is passed with `--config-json`."""
    launch = [str(Path(sys.executable).parent / "dg"), "launch"]
    launch += ["--config-json", json.dumps(run_config)] if run_config else []
    launch += ["--job"]
    return {
        "initial_load": [*launch, "ingest_job", "--partition-range", f"{first}...{snapshot - timedelta(days=1)}"],
        "quarterly_refit": [*launch, "quarterly_refit_job", "--partition", quarter_start(snapshot).isoformat()],
        "nightly_refresh": [*launch, "segmentation_job", "--partition", snapshot.isoformat()],
    }


def spark_run_config(master: str) -> dict:
    """The resources of a `--engine spark` run, as the CLI's `--engine spark --spark-master` sets them."""
    return {"resources": engine_run_config("spark", master)["resources"]}


# Runs a stage's command and prints the rusage of all its finished descendants: CPU summed, max RSS of the largest.
MEASURE = """
import json, resource, subprocess, sys
result = subprocess.run(sys.argv[1:], capture_output=True, text=True)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"returncode": result.returncode, "cpu_s": usage.ru_utime + usage.ru_stime,
                  "peak_rss_mb": usage.ru_maxrss / 1024, "tail": (result.stdout + result.stderr)[-3000:]}))
"""


def run_stage(command: list[str], root: Path, instance_env: dict[str, str]) -> dict:
    """Run one stage to completion in a fresh measuring process, so its figures are its own."""
    env = {
        **os.environ,
        **instance_env,
        "DAGSTER_HOME": str(root / ".dagster"),
        "SEGMENTATION_DATA_DIR": str(root),
        "VIRTUAL_ENV": str(Path(sys.executable).parent.parent),
    }
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, *command], cwd=REPO, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    if measured.pop("returncode") != 0:
        sys.exit(f"{' '.join(command)} failed:\n{measured['tail']}")
    del measured["tail"]
    return {"wall_s": wall, **measured, "command": " ".join(command[1:]).replace(str(REPO) + "/", "")}


def rfm_side_by_side(root: Path, snapshot: date) -> dict:
    """Our RFM query (on the pipeline's own rollups) and lifetimes on the same validated orders, in this process."""
    started = time.perf_counter()
    ours = duckdb_rfm(root, snapshot)
    ours_s = time.perf_counter() - started
    try:
        orders = completed_orders(root, snapshot)
        started = time.perf_counter()
        theirs = lifetimes_summary(orders, snapshot)
        theirs_s = time.perf_counter() - started
    except ImportError:
        return {"ours_s": ours_s, "buyers": len(ours), "lifetimes": "not installed"}
    return {"ours_s": ours_s, "lifetimes_s": theirs_s, "ratio": theirs_s / ours_s, "buyers": [len(ours), len(theirs)]}


def machine() -> dict:
    memory = {line.split(":")[0]: int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()}
    return {
        "cpus": os.cpu_count(),
        "memory_mb": memory["MemTotal"] // 1024,
        "swap_mb": memory["SwapTotal"] // 1024,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def verdict(stage: str, figures: dict, results: dict) -> str:
    """The stage against its target at a scale that has one; otherwise its peak memory against the machine's."""
    targets = next(
        (targets for factor, targets in TARGETS.items() if results["scale"] == Scale().scaled(factor).as_json()), {}
    )
    if stage not in targets:
        memory_mb = results["machine"]["memory_mb"]
        return f"{figures['peak_rss_mb'] / memory_mb:.0%} of the machine's {memory_mb / 1024:.0f} GB"
    wall_target, rss_target = targets[stage]
    met = figures["wall_s"] < wall_target and (rss_target is None or figures["peak_rss_mb"] < rss_target)
    target = f"< {wall_target:.0f} s" + (f", < {rss_target / 1024:.0f} GB" if rss_target else "")
    return f"{target}: {'met' if met else 'MISSED'}"


def report(results: dict) -> str:
    computer = results["machine"]
    spark = results.get("spark")
    lines = [
        f"end to end through Dagster on {computer['cpus']} CPUs, {computer['memory_mb'] / 1024:.0f} GB memory,"
        f" {computer['swap_mb'] / 1024:.0f} GB swap; scale {results['scale']}; Dagster instance: {results['instance']}",
        f"{'stage':<18}{'wall s':>10}{'CPU s':>10}{'peak RSS MB':>14}"
        + (f"{'Spark wall s':>14}{'CPU s':>10}{'peak RSS MB':>14}" if spark else "")
        + "   target (DuckDB)",
    ]
    for stage, figures in results["stages"].items():
        on_spark = spark["stages"].get(stage) if spark else None
        lines.append(
            f"{stage:<18}{_figures(figures, 10)}"
            + (_figures(on_spark, 14) if on_spark else f"{'(DuckDB load)':>38}" if spark else "")
            + f"   {verdict(stage, figures, results)}"
        )
    total = sum(figures["wall_s"] for figures in results["stages"].values())
    spark_total = f"{sum(figures['wall_s'] for figures in spark['stages'].values()):>38.1f}" if spark else ""
    lines.append(f"{'end to end':<18}{total:>10.1f}{spark_total}")
    if spark:
        lines.append(
            f"Spark: master {spark['master']}; its CPU and peak RSS are those of the stage's Python processes (the"
            " Spark JVM, which its launcher does not wait for, is not in them)"
        )
    rfm = results["rfm"]
    if "ratio" in rfm:
        lines.append(
            f"RFM: ours {rfm['ours_s']:.2f} s, lifetimes {rfm['lifetimes_s']:.2f} s: {rfm['ratio']:.1f}x"
            " (target >= 10x)"
        )
    return "\n".join(lines)


def _figures(figures: dict, width: int) -> str:
    return f"{figures['wall_s']:>{width}.1f}{figures['cpu_s']:>10.1f}{figures['peak_rss_mb']:>14,.0f}"


def run_stages(
    root: Path,
    first: date,
    snapshot: date,
    instance_env: dict,
    run_config: dict | None = None,
    *,
    load: bool = True,
    copy_after_load: Path | None = None,
) -> dict:
    """The stages in order (without `load`, all but the initial load); with `copy_after_load`, the root as the
    initial load left it is copied there before the next stage changes it."""
    stages = {}
    for stage, command in stage_commands(first, snapshot, run_config).items():
        if stage == "initial_load" and not load:
            continue
        print(f"running {stage}: {' '.join(command[1:])}", flush=True)
        stages[stage] = run_stage(command, root, instance_env)
        print(f"  {stages[stage]['wall_s']:.1f} s", flush=True)
        if stage == "initial_load" and copy_after_load is not None:
            link_copy(root, copy_after_load)
    return stages


def link_copy(root: Path, copy: Path) -> None:
    """`root` at `copy` by hard links (the pipeline replaces files by rename, never changes one in place), with an
    empty Dagster instance of its own."""
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, copy_function=os.link, ignore=shutil.ignore_patterns(".dagster", ".staging"))
    (copy / ".dagster").mkdir()


def prepare_root(root: Path, scale: Scale, reuse_landing: bool) -> float:
    """An empty data root with a landing zone of `scale` and an empty `.dagster/`; the seconds spent generating.
    With `reuse_landing`, a complete landing zone of the same scale (its marker says so) is kept."""
    marker = read_marker(root)
    if reuse_landing and marker is not None and marker["scale"] == scale.as_json():
        for path in root.iterdir():
            if path.is_dir() and path.name != "landing":
                shutil.rmtree(path)
        (root / ".dagster").mkdir()
        return 0.0
    shutil.rmtree(root, ignore_errors=True)
    (root / ".dagster").mkdir(parents=True)
    return generate(root, scale, "landing")["seconds"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scale_arguments(parser)
    parser.add_argument("--root", type=Path, default=HERE / "output" / "e2e", help="data root (emptied first)")
    parser.add_argument("--json", type=Path, help="where to write the results (default: under benchmarks/output/)")
    parser.add_argument("--instance", choices=["sqlite", "postgres"], default="sqlite", help="the Dagster instance")
    parser.add_argument("--reuse-landing", action="store_true", help="keep the root's landing zone (same scale)")
    parser.add_argument(
        "--engine",
        choices=["duckdb", "spark"],
        default="duckdb",
        help="spark: after the DuckDB stages, the same stages again on the Spark engine, on the same landing zone",
    )
    parser.add_argument("--spark-master", default=DEFAULT_MASTER, help="the Spark master of --engine spark")
    parser.add_argument(
        "--spark-after-load",
        action="store_true",
        help="--engine spark: start the Spark stages from the DuckDB run's initial load (a hard-linked copy of the"
        " root; the validated files are the same on both engines) and run only the refit and the nightly on Spark",
    )
    args = parser.parse_args(argv)
    scale = scale_from_arguments(args)

    generated_s = prepare_root(args.root, scale, args.reuse_landing)
    first = scale.end_date - timedelta(days=scale.days - 1)
    instance = postgres_instance() if args.instance == "postgres" else nullcontext(({}, "SQLite under the data root"))
    with instance as (instance_env, instance_name):
        if instance_env:
            shutil.copy(POSTGRES_DAGSTER_YAML, args.root / ".dagster" / "dagster.yaml")
        results = {
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "scale": scale.as_json(),
            "machine": machine(),
            "instance": instance_name,
            "generated_s": generated_s,
        }
        after_load = args.root.with_name(args.root.name + "-spark") if args.spark_after_load else None
        results["stages"] = run_stages(args.root, first, scale.end_date, instance_env, copy_after_load=after_load)
        results["rfm"] = rfm_side_by_side(args.root, scale.end_date)
        if args.engine == "spark":
            spark_root = after_load or args.root
            if after_load is None:
                prepare_root(args.root, scale, reuse_landing=True)  # the same landing zone, nothing DuckDB wrote
            if instance_env:
                shutil.copy(POSTGRES_DAGSTER_YAML, spark_root / ".dagster" / "dagster.yaml")
            config = spark_run_config(args.spark_master)
            stages = run_stages(spark_root, first, scale.end_date, instance_env, config, load=after_load is None)
            results["spark"] = {"master": args.spark_master, "stages": stages}

    print(report(results))
    out = args.json or HERE / "output" / f"run-{scale.key()}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"results written to {out}")


if __name__ == "__main__":
    main()
