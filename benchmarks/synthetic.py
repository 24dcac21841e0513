"""Seeded, vectorised generator of a large synthetic history for benchmarks (customers, orders, surveys, usage events).

It writes either the pipeline's **validated warehouse** (what the feature stage reads)::

    warehouse/validated/customers/part-0.parquet
    warehouse/validated/<source>/date=YYYY-MM-DD/part-0.parquet      exactly clean_schema(source), lineage included

or a **landing zone** in the input contract (what `segmentation-pipeline run` reads)::

    landing/crm/customers.parquet
    landing/crm/orders/date=YYYY-MM-DD/orders.parquet
    landing/survey/responses/date=YYYY-MM-DD/responses.parquet
    landing/usage/events/date=YYYY-MM-DD/events.parquet

Everything is numpy + pyarrow, one day at a time (memory stays bounded by one day of events plus a few arrays per
customer), with no per-row Python. Every day draws from its own `SeedSequence([seed, stream, day])`, so a day's
file depends only on the parameters, not on the days generated before it.

Shapes (realistic enough for timing, not a simulation of any business):

* customers: ~65% created in the three years before the history, the rest during it at a growing rate; ids
  `C0000001`... in creation order. ~10% B2B; countries partly lower-case (the SQL upper-cases them).
* orders: 10% of customers never buy, 68% are occasional (about one order in the period), 22% regulars with
  lognormal-skewed rates (so most buyers buy once or twice, a few hundred times); ~30% of customers lapse at a
  random day (no orders or usage afterwards). Daily volume has a weekly pattern, a November/December peak and
  growth. Amounts lognormal around a per-customer level times a category factor; 90% completed, 6% cancelled,
  4% refunded.
* usage events: only in the last `event_days` days (default 90 = the feature stage's usage window, so every
  event is read: the worst case). 85% of customers use the product, at lognormal-skewed rates, more or less on
  weekends; sessions of 1 + Poisson events (mean ~5 per customer, varying), one device per session (usually the
  customer's preferred one), started around the customer's preferred hour, events 40 s apart on average; a
  favourite feature for ~45% of events, ~2% without a feature, ~1% without a duration.
* survey responses: customers drawn uniformly among those created, NPS around a per-customer mean.

Run `python benchmarks/synthetic.py --help`; `bench_features.py` calls `generate()` with the warehouse target.
The parts: `synthetic_scale.py` (the parameters and their options), `synthetic_arrays.py` (seeded streams, column
builders), `synthetic_population.py` (customers) and `synthetic_daily.py` (one day of each daily source).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
from synthetic_arrays import daily_weights
from synthetic_daily import WEEKDAY_EVENTS, WEEKDAY_ORDERS, events_of_day, orders_of_day, surveys_of_day
from synthetic_population import Population, draw_population
from synthetic_scale import Scale, add_scale_arguments, scale_from_arguments

from segmentation_pipeline.core.ingest.contract import (
    CUSTOMERS,
    LINEAGE_FIELDS,
    ORDERS,
    SURVEY_RESPONSES,
    USAGE_EVENTS,
    Source,
)
from segmentation_pipeline.core.storage.atomic import write_parquet_atomically
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate.partitions import write_validated_partition
from segmentation_pipeline.sample_data.draws import largest_remainder
from segmentation_pipeline.sample_data.files import DAILY_FILE_STEMS

MARKER = "synthetic.json"
REFERENCE_SCALE = Scale()  # the feature benchmark's reference scale


class _Writer:
    """Writes a source's table for a day either as the validated warehouse or as a landing file."""

    def __init__(self, root: Path, target: str):
        if target not in ("warehouse", "landing"):
            raise ValueError(f"target must be 'warehouse' or 'landing', not {target!r}")
        self.layout = DataLayout(root)
        self.target = target

    def landing_relative(self, source: Source, day: date | None) -> str:
        """The landing file's path under landing/ (also the lineage's source_file in the warehouse)."""
        if day is None:
            return f"{source.landing_path}.parquet"
        return f"{source.landing_path}/date={day.isoformat()}/{DAILY_FILE_STEMS[source.name]}.parquet"

    def write(self, source: Source, day: date | None, table: pa.Table) -> int:
        """Write one day's table (day None: the customers snapshot) and return the file's size in bytes."""
        relative = self.landing_relative(source, day)
        table = table.select(source.column_names).cast(source.arrow_schema())
        if self.target == "landing":
            path = self.layout.landing / relative
            write_parquet_atomically(table, path)
        else:
            n = table.num_rows
            source_file, source_row = LINEAGE_FIELDS
            table = table.append_column(source_file, pa.array([relative]).take(pa.array(np.zeros(n, np.int32))))
            table = table.append_column(source_row, pa.array(np.arange(1, n + 1, dtype=np.int64)))
            path = self.layout.validated(source.name, day)
            write_validated_partition(self.layout, source, day, table)  # with the usage rollups, as validation does
        return path.stat().st_size


class _Generation:
    """One `generate()` call: the customers first, then every day of each daily source, with their statistics."""

    def __init__(self, root: Path, scale: Scale, target: str, log: Callable[[str], None]):
        self.writer = _Writer(root, target)
        self.scale, self.log = scale, log
        self.first_day = scale.end_date - timedelta(days=scale.days - 1)
        self.sources: dict[str, dict] = {}
        self.orders_per_customer = np.zeros(scale.customers, np.int64)
        self.population: Population | None = None

    def write_customers(self) -> None:
        """Draw the population (every daily source samples from it) and write its customers table."""
        clock = time.perf_counter()
        self.population, customers = draw_population(self.scale, self.first_day)
        size = self.writer.write(CUSTOMERS, None, customers)
        self.sources["customers"] = {"rows": customers.num_rows, "bytes": size, "seconds": time.perf_counter() - clock}
        self.log(f"customers: {customers.num_rows:,} rows in {time.perf_counter() - clock:.1f} s")

    def write_daily(self, source: Source, days: list[date], total: int, weekday_w) -> None:
        """Spread `total` rows over `days` by the daily weights and write one file per day."""
        clock = time.perf_counter()
        weights = daily_weights(days, weekday_w)
        counts = largest_remainder(weights / weights.sum() * total, total)
        first_ids = np.concatenate([[1], 1 + np.cumsum(counts)[:-1]])
        rows = size = 0
        for i, (day, count) in enumerate(zip(days, counts, strict=True)):
            table = self._day_table(source, day, int(count), int(first_ids[i]))
            rows += table.num_rows
            size += self.writer.write(source, day, table)
            if source is USAGE_EVENTS and (i + 1) % 10 == 0:
                self.log(
                    f"  usage_events: {i + 1}/{len(days)} days, {rows:,} rows, {time.perf_counter() - clock:.0f} s"
                )
        seconds = time.perf_counter() - clock
        self.sources[source.name] = {"rows": rows, "days": len(days), "bytes": size, "seconds": seconds}
        self.log(f"{source.name}: {rows:,} rows over {len(days)} days, {size / 1e6:,.0f} MB in {seconds:.1f} s")

    def _day_table(self, source: Source, day: date, count: int, first_id: int) -> pa.Table:
        day_index = (day - self.first_day).days  # event days may start before the order history
        if source is ORDERS:
            table, who = orders_of_day(self.scale, self.population, day, day_index, count, first_id)
            self.orders_per_customer += np.bincount(who, minlength=self.scale.customers)
            return table
        if source is SURVEY_RESPONSES:
            return surveys_of_day(self.scale, self.population, day, day_index, count, first_id)
        return events_of_day(self.scale, self.population, day, day_index, count)


def _days_ending(end: date, count: int) -> list[date]:
    """The `count` consecutive days up to and including `end`."""
    return [end - timedelta(days=count - 1 - i) for i in range(count)]


def generate(
    root: Path, scale: Scale = REFERENCE_SCALE, target: str = "warehouse", log: Callable[[str], None] = print
) -> dict:
    """Write the data set under `root` and return statistics (rows, bytes and seconds per source).

    A `synthetic.json` marker with the parameters and the statistics is written last, so a data set with a
    marker is complete. Existing files of the same day are replaced.
    """
    root = Path(root)
    run = _Generation(root, scale, target, log)
    started = time.perf_counter()
    run.write_customers()
    history = _days_ending(scale.end_date, scale.days)
    run.write_daily(ORDERS, history, scale.orders, WEEKDAY_ORDERS)
    run.write_daily(SURVEY_RESPONSES, history, scale.surveys, WEEKDAY_ORDERS)
    run.write_daily(USAGE_EVENTS, _days_ending(scale.end_date, scale.event_days), scale.events, WEEKDAY_EVENTS)

    stats: dict = {"scale": scale.as_json(), "target": target, "sources": run.sources}
    buyers = run.orders_per_customer[run.orders_per_customer > 0]
    if len(buyers):
        stats["orders_per_buyer"] = _orders_per_buyer(buyers)
    stats["seconds"] = time.perf_counter() - started
    stats["bytes"] = sum(source["bytes"] for source in stats["sources"].values())
    (root / MARKER).write_text(json.dumps(stats, indent=2) + "\n")
    log(f"generated {stats['bytes'] / 1e9:.2f} GB in {stats['seconds']:.0f} s under {root}")
    return stats


def _orders_per_buyer(buyers: np.ndarray) -> dict:
    """How skewed the orders came out: most buyers should buy once or twice, a few very often."""
    return {
        "buyers": int(len(buyers)),
        "share_buying_once_or_twice": round(float(np.mean(buyers <= 2)), 3),
        "median": float(np.median(buyers)),
        "p99": float(np.percentile(buyers, 99)),
        "max": int(buyers.max()),
    }


def read_marker(root: Path) -> dict | None:
    """The statistics of a completely generated data set under root, or None."""
    marker = Path(root) / MARKER
    return json.loads(marker.read_text()) if marker.exists() else None


def ensure_warehouse(scale: Scale, root: Path | None = None) -> tuple[Path, dict]:
    """The data root of `scale` (default: a cache folder keyed by the scale) and its statistics, generating the
    warehouse first unless a complete one of the same scale is there."""
    root = root or Path(__file__).resolve().parent / "output" / "data" / scale.key()
    marker = read_marker(root)
    if marker is None or marker.get("scale") != scale.as_json():
        print(f"generating the synthetic warehouse under {root} ...", flush=True)
        return root, generate(root, scale, "warehouse")
    print(f"reusing the synthetic warehouse under {root} (generated in {marker['seconds']:.0f} s)")
    return root, marker


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="data root to write under")
    parser.add_argument("--target", choices=("warehouse", "landing"), default="warehouse")
    add_scale_arguments(parser)
    args = parser.parse_args(argv)
    generate(args.out, scale_from_arguments(args), args.target)


if __name__ == "__main__":
    main()
