"""Times the validation of one day of usage events (default 300,000), stage by stage, as the pipeline runs it.

    .venv/bin/python benchmarks/bench_validation.py [--events 300000] [--customers 100000] [--repeat 5]
        [--earlier-days 30] [--ids sequential|random] [--repeat-window 2]

Prints the median of each stage over the repeats: reading and typing the landing file, the row-level rules, writing
clean and quarantined rows, and the Great Expectations suite (its one-off import and context set-up are reported
separately: a run pays them once, not per partition). The row-level rules include looking the day's event ids up in
`--earlier-days` validated days of as many events each (0.1% of the day's events repeat an id of one of the
`--repeat-window` days before it, 2 by default as when a late batch is sent again; 0: of any earlier day). That
look-up is then timed on its own with its peak memory (the growth of the process's peak RSS), next to the designs it
replaced: a DuckDB semi-join over every earlier id (no id hash rollups), and every earlier id held in memory.
`--ids random` gives ids without order (UUID-like), so Parquet statistics cannot skip any earlier row group;
`sequential` ids grow with time, as the synthetic history's do.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.features.rollups import EVENT_ID_HASHES
from segmentation_pipeline.core.ingest.contract import USAGE_EVENTS, clean_schema, quarantine_schema
from segmentation_pipeline.core.ingest.landing import read_landing
from segmentation_pipeline.core.storage.atomic import write_parquet_atomically
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate.key_sets import HashedKeys, KeySet, ValidatedKeysBefore
from segmentation_pipeline.core.validate.partitions import write_validated_partition
from segmentation_pipeline.core.validate.row_checks import CheckContext, validate

DAY = date(2026, 3, 1)
REPEATED_ID_SHARE = 0.001


def event_ids(day_index: int, events: int, style: str) -> np.ndarray:
    """Sequential ids grow with time (day, then number); random ones are 16 hex digits of a seeded generator."""
    if style == "sequential":
        return np.char.add(f"E{day_index:05d}", np.char.zfill(np.arange(events).astype(str), 8))
    words = np.random.default_rng(1_000 + day_index).integers(0, 2**63, events)
    return np.array([f"{word:016x}" for word in words.tolist()])


def events_table(day: date, ids: np.ndarray, customers: int, seed: int) -> pa.Table:
    """One day of events in the input contract, with 0.1% unknown devices and 0.1% unknown customers."""
    events = len(ids)
    rng = np.random.default_rng(seed)
    customer_ids = np.char.add("C", np.char.zfill(rng.integers(0, customers, events).astype(str), 7))
    seconds = np.sort(rng.integers(0, 86_400, events))
    devices = rng.choice(np.array(["mobile", "desktop", "tablet"]), events, p=[0.6, 0.3, 0.1])
    devices[rng.random(events) < 0.001] = "smart_tv"
    customer_ids[rng.random(events) < 0.001] = "UNKNOWN"
    return pa.table(
        {
            "event_id": ids,
            "customer_id": customer_ids,
            "event_ts": pd.Timestamp(day, tz="UTC") + pd.to_timedelta(seconds, unit="s"),
            "session_id": np.char.add("S", (np.arange(events) // 5).astype(str)),
            "device_type": devices,
            "feature": rng.choice(np.array(["search", "browse", "cart", "checkout"]), events),
            "duration_s": rng.exponential(30.0, events),
        }
    )


def write_history(layout: DataLayout, days: int, events: int, customers: int, style: str) -> list[str]:
    """`days` validated days before DAY with their rollups (no quarantine); returns their event ids."""
    earlier_ids = []
    for offset in range(days, 0, -1):
        ids = event_ids(-offset, events, style)
        table = events_table(DAY - timedelta(days=offset), ids, customers, seed=offset)
        lineage = {"_source_file": pa.array(["events.parquet"] * events), "_source_row": pa.array(np.arange(events))}
        table = pa.table({**{name: table[name] for name in table.column_names}, **lineage})
        clean = table.select(clean_schema(USAGE_EVENTS).names).cast(clean_schema(USAGE_EVENTS))
        write_validated_partition(layout, USAGE_EVENTS, DAY - timedelta(days=offset), clean)
        earlier_ids.append(ids)
    return earlier_ids


def write_landing_day(
    layout: DataLayout, events: int, customers: int, earlier_ids: list, style: str, repeat_window: int
) -> None:
    """The day to validate; `REPEATED_ID_SHARE` of its events re-deliver an id of one of the `repeat_window` days
    before it (of any earlier day with 0)."""
    ids = event_ids(0, events, style)
    if earlier_ids:
        rng = np.random.default_rng(7)
        repeated = rng.choice(events, int(events * REPEATED_ID_SHARE), replace=False)
        ids[repeated] = rng.choice(np.concatenate(earlier_ids[-repeat_window:]), repeated.size, replace=False)
    folder = layout.landing / USAGE_EVENTS.landing_path / f"date={DAY.isoformat()}"
    folder.mkdir(parents=True)
    pq.write_table(events_table(DAY, ids, customers, seed=0), folder / "events.parquet")


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def rss_kib(field: str) -> int:
    return int(re.search(rf"{field}:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1))


def with_peak_memory(function, *args):
    """The result, seconds, and how far the process's peak RSS rose above its RSS at the start (MB); Linux only.
    Counts DuckDB's and Arrow's native memory too, which tracemalloc would not see."""
    Path("/proc/self/clear_refs").write_text("5")  # resets the peak (VmHWM) to the current RSS
    before = rss_kib("VmRSS")
    result, seconds = timed(function, *args)
    return result, seconds, (rss_kib("VmHWM") - before) / 1024


def ids_held_as_strings(layout: DataLayout, values: pd.Series) -> pd.Series:
    """The replaced design: every earlier event id read into a key set, then the day's ids looked up in it."""
    files = [path for path in layout.validated_files(USAGE_EVENTS.name) if f"date={DAY.isoformat()}" not in str(path)]
    held = pa.concat_arrays([pq.read_table(path, columns=["event_id"]).column(0).combine_chunks() for path in files])
    return KeySet(held).contains(values)


def hashes_of_a_run(layout: DataLayout) -> tuple[HashedKeys, float]:
    """The earlier days as a backfill holds them once validated: each day's ids added as 64-bit hashes; returns the
    structure and the median seconds of adding a day."""
    hashed, seconds = HashedKeys(), []
    for path in layout.validated_files(USAGE_EVENTS.name):
        if f"date={DAY.isoformat()}" not in str(path):
            ids = pq.read_table(path, columns=["event_id"]).column(0).to_pandas()
            seconds.append(timed(hashed.add, ids)[1])
    return hashed, statistics.median(seconds)


def without_id_hashes(layout: DataLayout, look_up):
    """The look-up as it ran before the id hash rollups: every earlier day's ids read (each day falls back to them)."""
    rollups = layout.rollup(EVENT_ID_HASHES, DAY).parent.parent
    rollups.rename(rollups.with_name("set-aside"))
    try:
        return look_up()
    finally:
        rollups.with_name("set-aside").rename(rollups)


def compare_look_ups(layout: DataLayout, values: pd.Series, repeat: int) -> None:
    (hashed, add_seconds), build_seconds, build_peak = with_peak_memory(hashes_of_a_run, layout)

    def nightly():
        return ValidatedKeysBefore(layout, USAGE_EVENTS, DAY).contains(values)

    designs = {
        "nightly: id hashes, then matching days' ids": nightly,
        "replaced: DuckDB semi-join over every id": lambda: without_id_hashes(layout, nightly),
        "backfill: the run's days as 64-bit hashes": lambda: hashed.contains(values),
        "replaced: every earlier id as a string": lambda: ids_held_as_strings(layout, values),
    }
    for name, look_up in designs.items():
        runs = [with_peak_memory(look_up) for _ in range(repeat)]
        seconds, peak = statistics.median(run[1] for run in runs), max(run[2] for run in runs)
        print(f"  {name:<44} {seconds:6.2f} s, peak RSS +{peak:,.0f} MB, {int(runs[0][0].sum()):,} ids seen before")
    held = sum(run.nbytes for run in hashed._runs) / 2**20
    print(
        f"  (the backfill's hashes: {held:,.0f} MB in {len(hashed._runs)} sorted runs, built in {build_seconds:.2f} s "
        f"with peak RSS +{build_peak:,.0f} MB; adding a day takes {add_seconds:.3f} s, median)"
    )


STAGES = ("read and type landing file", "row-level rules", "write clean (+ rollups), quarantine", "expectation suite")


def time_stages(layout: DataLayout, known: pa.Array, runner, repeat: int):
    """Each stage of validating DAY, `repeat` times; returns the times and the last landing read and outcome."""
    stages: dict[str, list[float]] = {name: [] for name in STAGES}
    for _ in range(repeat):
        read, seconds = timed(read_landing, layout.landing, USAGE_EVENTS, DAY)
        stages["read and type landing file"].append(seconds)
        earlier = ValidatedKeysBefore(layout, USAGE_EVENTS, DAY)
        context = CheckContext(DAY, pd.Timestamp(datetime.now(UTC)), known, earlier)
        outcome, seconds = timed(validate, read.frame, USAGE_EVENTS, context, "benchmark")
        stages["row-level rules"].append(seconds)
        started = time.perf_counter()
        clean = pa.Table.from_pandas(outcome.clean, schema=clean_schema(USAGE_EVENTS), preserve_index=False)
        write_validated_partition(layout, USAGE_EVENTS, DAY, clean)
        quarantine = pa.Table.from_pandas(
            outcome.quarantine, schema=quarantine_schema(USAGE_EVENTS), preserve_index=False
        )
        write_parquet_atomically(quarantine, layout.quarantined(USAGE_EVENTS.name, DAY))
        stages["write clean (+ rollups), quarantine"].append(time.perf_counter() - started)
        _, seconds = timed(runner.run, {DAY: (outcome.clean, outcome.quarantine)})
        stages["expectation suite"].append(seconds)
    return stages, read, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--earlier-days", type=int, default=30)
    parser.add_argument("--ids", choices=["sequential", "random"], default="sequential")
    parser.add_argument("--repeat-window", type=int, default=2, help="repeated ids come from the last N days; 0: any")
    args = parser.parse_args()

    from segmentation_pipeline.core.validate.expectations import SuiteRunner  # after the data: GX import timed below
    from segmentation_pipeline.core.validate.settings import ValidationSettings

    with tempfile.TemporaryDirectory() as folder:
        layout = DataLayout(Path(folder))
        earlier_ids = write_history(layout, args.earlier_days, args.events, args.customers, args.ids)
        write_landing_day(layout, args.events, args.customers, earlier_ids, args.ids, args.repeat_window)
        del earlier_ids
        known = pa.array(np.char.add("C", np.char.zfill(np.arange(args.customers).astype(str), 7)))
        runner, setup = timed(SuiteRunner, USAGE_EVENTS.name, ValidationSettings())
        stages, read, outcome = time_stages(layout, known, runner, args.repeat)
        medians = {stage: statistics.median(values) for stage, values in stages.items()}
        print(
            f"validation of one day of {args.events:,} usage events ({len(outcome.quarantine):,} quarantined, "
            f"{outcome.check_counts['duplicate_event_id']:,} as duplicate event ids) against {args.earlier_days} "
            f"earlier days, median of {args.repeat} runs on {os.cpu_count()} cores"
        )
        for stage, seconds in medians.items():
            print(f"  {stage:<36} {seconds:6.2f} s")
        print(f"  {'total per partition':<36} {sum(medians.values()):6.2f} s")
        print(f"  (once per run: import Great Expectations and build its context {setup:.2f} s)")
        if not args.earlier_days:
            return
        print(
            f"look-up of the day's {args.events:,} event ids in {args.earlier_days} earlier validated days of "
            f"{args.events:,} events ({args.ids} ids), median of {args.repeat}:"
        )
        compare_look_ups(layout, read.frame["event_id"], args.repeat)


if __name__ == "__main__":
    main()
