"""Times the validation of one day of usage events (default 300,000), stage by stage, as the pipeline runs it.

    .venv/bin/python benchmarks/bench_validation.py [--events 300000] [--customers 100000] [--repeat 5]

Prints the median of each stage over the repeats: reading and typing the landing file, the row-level rules, writing
clean and quarantined rows, and the Great Expectations suite (its one-off import and context set-up are reported
separately: a run pays them once, not per partition).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.ingest.contract import USAGE_EVENTS, clean_schema, quarantine_schema
from segmentation_pipeline.core.ingest.landing import read_landing
from segmentation_pipeline.core.storage.atomic import write_parquet_atomically
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate.partitions import write_validated_partition
from segmentation_pipeline.core.validate.row_checks import CheckContext, validate

DAY = date(2026, 3, 1)


def write_landing_day(layout: DataLayout, events: int, customers: int, seed: int = 0) -> None:
    """One day of events in the input contract, with 0.1% unknown devices and 0.1% unknown customers."""
    rng = np.random.default_rng(seed)
    customer_ids = np.char.add("C", np.char.zfill(rng.integers(0, customers, events).astype(str), 7))
    seconds = np.sort(rng.integers(0, 86_400, events))
    devices = rng.choice(np.array(["mobile", "desktop", "tablet"]), events, p=[0.6, 0.3, 0.1])
    devices[rng.random(events) < 0.001] = "smart_tv"
    customer_ids[rng.random(events) < 0.001] = "UNKNOWN"
    table = pa.table(
        {
            "event_id": np.char.add("E", np.arange(events).astype(str)),
            "customer_id": customer_ids,
            "event_ts": pd.Timestamp(DAY, tz="UTC") + pd.to_timedelta(seconds, unit="s"),
            "session_id": np.char.add("S", (np.arange(events) // 5).astype(str)),
            "device_type": devices,
            "feature": rng.choice(np.array(["search", "browse", "cart", "checkout"]), events),
            "duration_s": rng.exponential(30.0, events),
        }
    )
    folder = layout.landing / USAGE_EVENTS.landing_path / f"date={DAY.isoformat()}"
    folder.mkdir(parents=True)
    pq.write_table(table, folder / "events.parquet")


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from segmentation_pipeline.core.validate.expectations import SuiteRunner  # after the data: GX import timed below
    from segmentation_pipeline.core.validate.settings import ValidationSettings

    with tempfile.TemporaryDirectory() as folder:
        layout = DataLayout(Path(folder))
        write_landing_day(layout, args.events, args.customers)
        known = pa.array(np.char.add("C", np.char.zfill(np.arange(args.customers).astype(str), 7)))
        started = time.perf_counter()
        runner = SuiteRunner(USAGE_EVENTS.name, ValidationSettings())
        setup = time.perf_counter() - started
        stages: dict[str, list[float]] = {
            name: []
            for name in (
                "read and type landing file",
                "row-level rules",
                "write clean (+ rollups), quarantine",
                "expectation suite",
            )
        }
        for _ in range(args.repeat):
            read, seconds = timed(read_landing, layout.landing, USAGE_EVENTS, DAY)
            stages["read and type landing file"].append(seconds)
            context = CheckContext(DAY, pd.Timestamp(datetime.now(UTC)), known)
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
            _, seconds = timed(runner.run, DAY, outcome.clean, outcome.quarantine)
            stages["expectation suite"].append(seconds)

    medians = {stage: statistics.median(values) for stage, values in stages.items()}
    print(
        f"validation of one day of {args.events:,} usage events ({len(outcome.quarantine):,} quarantined), "
        f"median of {args.repeat} runs on {os.cpu_count()} cores"
    )
    for stage, seconds in medians.items():
        print(f"  {stage:<28} {seconds:6.2f} s")
    print(f"  {'total per partition':<28} {sum(medians.values()):6.2f} s")
    print(f"  (once per run: import Great Expectations and build its context {setup:.2f} s)")


if __name__ == "__main__":
    main()
