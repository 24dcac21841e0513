"""Builders shared by the landing tests: a landing zone written file by file, and the InputError a read raises."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core.ingest.contract import ORDERS
from segmentation_pipeline.core.ingest.landing import InputError, read_landing

DAY = date(2026, 3, 1)
ORDERS_DIR = "crm/orders/date=2026-03-01"
SURVEY_DIR = "survey/responses/date=2026-03-01"
ORDERS_HEADER = "order_id,customer_id,ordered_at,amount\n"
SURVEY_HEADER = "response_id,customer_id,submitted_at,nps\n"
CUSTOMERS_HEADER = "customer_id,created_at,email,full_name,marketing_opt_in\n"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def write(landing: Path, relative: str, content: str | bytes) -> Path:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def write_parquet(landing: Path, relative: str, table: pa.Table) -> Path:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def read_orders(landing: Path):
    return read_landing(landing, ORDERS, DAY)


def input_error(landing: Path, source=ORDERS, day: date | None = DAY) -> str:
    with pytest.raises(InputError) as caught:
        read_landing(landing, source, day)
    return str(caught.value)
