"""Tests of validating the CRM export as a partition: the first valid copy of a customer is the one orders see, and
an export without a valid customer stops the run before anything is written."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core.errors import PipelineError
from segmentation_pipeline.core.ingest.contract import CUSTOMERS, ORDERS
from segmentation_pipeline.core.ingest.landing import InputError
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate.key_sets import known_customer_ids
from segmentation_pipeline.core.validate.partitions import NoValidCustomers, validate_days
from segmentation_pipeline.core.validate.settings import ValidationSettings
from segmentation_pipeline_tests.validate.builders import (
    CUSTOMERS_HEADER,
    DAY,
    NOW,
    ORDERS_HEADER,
    RUN_ID,
    customer_row,
    land,
    order_row,
)


def validate_export(layout: DataLayout, header: str, rows: list[str]):
    land(layout.landing, CUSTOMERS, header, rows)
    return next(validate_days(layout, CUSTOMERS, [None], ValidationSettings(), RUN_ID, NOW))[1][None]


def test_orders_of_a_customer_whose_first_copy_is_invalid_are_clean(tmp_path):
    layout = DataLayout(tmp_path)
    rows = ["C1,2024-01-01T00:00:00Z,bad-email", "C1,2024-01-01T00:00:00Z,a@b.com"]
    customers = validate_export(layout, "customer_id,created_at,email", rows)
    assert customers.clean["customer_id"].tolist() == ["C1"]
    land(layout.landing, ORDERS, ORDERS_HEADER, [order_row("o1", customer_id="C1"), order_row("o2", customer_id="C2")])

    (orders,) = next(validate_days(layout, ORDERS, [DAY], ValidationSettings(), RUN_ID, NOW))[1].values()

    assert known_customer_ids(layout).to_pylist() == ["C1"]
    assert orders.clean["order_id"].tolist() == ["o1"]
    assert orders.quarantine["reason"].tolist() == ["unknown_customer"]
    assert pq.read_table(layout.validated("orders", DAY)).column("order_id").to_pylist() == ["o1"]


def test_a_header_only_export_stops_with_the_file_and_the_counts(tmp_path):
    layout = DataLayout(tmp_path)

    with pytest.raises(NoValidCustomers) as raised:
        validate_export(layout, CUSTOMERS_HEADER, [])

    assert str(raised.value) == (
        "crm/customers.csv: the CRM export has no valid customers (0 rows; 0 clean, 0 quarantined); "
        "nothing was validated or published"
    )
    assert isinstance(raised.value, InputError) and isinstance(raised.value, PipelineError)
    assert not layout.validated("customers", None).exists()
    assert not layout.quarantined("customers", None).exists()


def test_an_export_without_a_valid_row_keeps_the_previous_validated_customers(tmp_path):
    layout = DataLayout(tmp_path)
    validate_export(layout, CUSTOMERS_HEADER, [customer_row("c1"), customer_row("c2")])
    validated_before = layout.validated("customers", None).read_bytes()
    quarantined_before = layout.quarantined("customers", None).read_bytes()

    rows = [customer_row("c1", email="ann-at-example.com"), customer_row("c2", created_at="")]
    with pytest.raises(NoValidCustomers) as raised:
        validate_export(layout, CUSTOMERS_HEADER, rows)

    assert str(raised.value) == (
        "crm/customers.csv: the CRM export has no valid customers (2 rows; 0 clean, 2 quarantined: "
        "missing_required_value 1, malformed_email 1); nothing was validated or published"
    )
    assert "ann" not in str(raised.value)  # counts only, never personal data
    assert layout.validated("customers", None).read_bytes() == validated_before
    assert layout.quarantined("customers", None).read_bytes() == quarantined_before


def test_an_export_with_one_valid_customer_is_validated(tmp_path):
    layout = DataLayout(tmp_path)

    outcome = validate_export(layout, CUSTOMERS_HEADER, [customer_row("c1", email="bad"), customer_row("c2")])

    assert outcome.clean["customer_id"].tolist() == ["c2"]
    assert pq.read_table(layout.validated("customers", None)).column("customer_id").to_pylist() == ["c2"]
