"""The parameters of a synthetic data set (`Scale`) and the command-line options that set them.

Shared by `synthetic.py` and the benchmarks that generate or reuse its data, so they all accept the same options.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, replace
from datetime import date

GENERATOR_VERSION = 2  # bump when the generated data changes, so cached data sets are regenerated


@dataclass(frozen=True)
class Scale:
    """What to generate. Defaults are the reference scale of the feature benchmark."""

    customers: int = 1_000_000
    orders: int = 10_000_000
    events: int = 100_000_000
    surveys: int = 200_000
    days: int = 365  # days of order and survey history, ending on end_date
    event_days: int = 90  # days of usage events, ending on end_date
    end_date: date = date(2026, 11, 22)
    seed: int = 42

    def scaled(self, factor: float) -> Scale:
        """Same shape with every row count multiplied by `factor` (days unchanged)."""
        return replace(
            self,
            customers=max(int(self.customers * factor), 10),
            orders=int(self.orders * factor),
            events=int(self.events * factor),
            surveys=int(self.surveys * factor),
        )

    def key(self) -> str:
        """A folder name that identifies the data set (and the generator version)."""
        return (
            f"c{self.customers}-o{self.orders}-e{self.events}-s{self.surveys}-d{self.days}-ed{self.event_days}"
            f"-{self.end_date.isoformat()}-seed{self.seed}-v{GENERATOR_VERSION}"
        )

    def as_json(self) -> dict:
        """The parameters as stored in a data set's marker, so a cached data set can be matched to a scale."""
        return {**asdict(self), "end_date": self.end_date.isoformat(), "generator_version": GENERATOR_VERSION}


def add_scale_arguments(parser: argparse.ArgumentParser) -> None:
    """The scale options shared by the generator and the benchmarks that use it."""
    defaults = Scale()
    parser.add_argument("--customers", type=int, default=defaults.customers)
    parser.add_argument("--orders", type=int, default=defaults.orders)
    parser.add_argument("--events", type=int, default=defaults.events)
    parser.add_argument("--surveys", type=int, default=defaults.surveys)
    parser.add_argument("--days", type=int, default=defaults.days, help="days of order/survey history")
    parser.add_argument("--event-days", type=int, default=defaults.event_days, help="days of usage events")
    parser.add_argument("--end-date", type=date.fromisoformat, default=defaults.end_date, help="also the snapshot date")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every row count by this factor")


def scale_from_arguments(args: argparse.Namespace, factor: float | None = None) -> Scale:
    """The scale the options ask for; `factor` overrides `--scale` (e.g. a benchmark's `--small`)."""
    scale = Scale(
        args.customers, args.orders, args.events, args.surveys, args.days, args.event_days, args.end_date, args.seed
    )
    return scale.scaled(args.scale if factor is None else factor)
