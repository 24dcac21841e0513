"""Writing a generated sample: the landing files in the contract's layout and the ground truth beside them."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from segmentation_pipeline.core.ingest.contract import (
    CUSTOMERS,
    DAILY_SOURCES,
    ORDERS,
    SURVEY_RESPONSES,
    USAGE_EVENTS,
    Source,
)
from segmentation_pipeline.sample_data.files import (
    CUSTOMER_COLUMNS,
    DAILY_FILE_STEMS,
    ORDER_COLUMNS,
    SURVEY_COLUMNS,
    DailyRows,
)
from segmentation_pipeline.sample_data.planted_errors import PLANTED_ERROR_COLUMNS

_DAY_FOLDER = re.compile(r"^date=\d{4}-\d{2}-\d{2}$")


def clear_daily_folders(landing: Path) -> None:
    """Remove the `date=*` folders of the daily sources, so a shorter run leaves no stale days behind."""
    for source in DAILY_SOURCES:
        folder = landing / source.landing_path
        if folder.is_dir():
            for child in folder.iterdir():
                if child.is_dir() and _DAY_FOLDER.match(child.name):
                    shutil.rmtree(child)


def write_customers(landing: Path, rows: pd.DataFrame) -> None:
    path = landing / f"{CUSTOMERS.landing_path}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.to_csv(path, index=False, columns=list(CUSTOMER_COLUMNS), lineterminator="\n")


def write_orders(landing: Path, orders: DailyRows, first_day: dt.date) -> int:
    return _write_daily_csv(landing, ORDERS, orders, ORDER_COLUMNS, first_day)


def write_survey_responses(landing: Path, responses: DailyRows, first_day: dt.date) -> int:
    return _write_daily_csv(landing, SURVEY_RESPONSES, responses, SURVEY_COLUMNS, first_day)


def write_usage_events(landing: Path, events: DailyRows, first_day: dt.date) -> int:
    """One Parquet file per day with events; returns the number of days written."""
    table = events.rows
    if table.num_rows == 0:
        return 0
    present, bounds = _day_bounds(events.day)
    for index, day in enumerate(present):
        part = table.slice(int(bounds[index]), int(bounds[index + 1] - bounds[index]))
        path = _day_file(landing, USAGE_EVENTS, first_day, day, "parquet")
        pq.write_table(part, path, compression="zstd", write_statistics=True)
    return int(present.size)


def write_ground_truth(truth: Path, personas: pd.DataFrame, planted_errors: pd.DataFrame) -> None:
    truth.mkdir(parents=True, exist_ok=True)
    personas.to_csv(truth / "personas.csv", index=False, lineterminator="\n")
    planted_errors.to_csv(
        truth / "planted_errors.csv", index=False, columns=list(PLANTED_ERROR_COLUMNS), lineterminator="\n"
    )


def _write_daily_csv(
    landing: Path, source: Source, daily: DailyRows, columns: tuple[str, ...], first_day: dt.date
) -> int:
    """One CSV file per day with rows; returns the number of days written."""
    frame = daily.rows
    if frame.empty:
        return 0
    # the generated values contain no quotes, commas or newlines, so one render split by line is exact
    text = frame.to_csv(index=False, header=False, columns=list(columns), lineterminator="\n", float_format="%.2f")
    lines = text.splitlines(keepends=True)
    header = ",".join(columns) + "\n"
    present, bounds = _day_bounds(daily.day)
    for index, day in enumerate(present):
        path = _day_file(landing, source, first_day, day, "csv")
        path.write_text(header + "".join(lines[bounds[index] : bounds[index + 1]]), encoding="utf-8")
    return int(present.size)


def _day_bounds(day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The days present in a day-sorted array and where each one's rows start (plus the end)."""
    present = np.unique(day)
    bounds = np.searchsorted(day, np.append(present, int(day.max()) + 1), side="left")
    return present, bounds


def _day_file(landing: Path, source: Source, first_day: dt.date, day: int, suffix: str) -> Path:
    """`landing/<source>/date=YYYY-MM-DD/<stem>.<suffix>` of a window day index, its folder created."""
    folder = landing / source.landing_path / f"date={(first_day + dt.timedelta(days=int(day))).isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{DAILY_FILE_STEMS[source.name]}.{suffix}"
