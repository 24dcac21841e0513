"""The files the sample writes: their names and column order, taken from the input contract.

Usage events are the one exception to the contract's column order: the sample's Parquet files put `event_id`
first, as the committed data/landing/ has always had it (the contract lists it last because it is optional).
Readers match columns by name, so both orders are valid input; keeping this one keeps the files byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation_pipeline.core.ingest.contract import CUSTOMERS, ORDERS, SURVEY_RESPONSES, USAGE_EVENTS

CUSTOMER_COLUMNS = tuple(CUSTOMERS.column_names)
ORDER_COLUMNS = tuple(ORDERS.column_names)
SURVEY_COLUMNS = tuple(SURVEY_RESPONSES.column_names)
EVENT_COLUMNS = ("event_id", *(name for name in USAGE_EVENTS.column_names if name != "event_id"))
EVENT_SCHEMA = pa.schema([USAGE_EVENTS.arrow_schema().field(name) for name in EVENT_COLUMNS])

# File name (without suffix) inside each `date=YYYY-MM-DD/` folder of a daily source.
DAILY_FILE_STEMS = {ORDERS.name: "orders", SURVEY_RESPONSES.name: "responses", USAGE_EVENTS.name: "events"}


@dataclass(frozen=True)
class DailyRows:
    """One daily source as generated: its rows in file order, each row's window day index, its planted errors."""

    rows: pd.DataFrame | pa.Table
    day: np.ndarray
    planted_errors: pd.DataFrame
