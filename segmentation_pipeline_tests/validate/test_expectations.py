from datetime import date

import pandas as pd
import pytest

from segmentation_pipeline.core.ingest.contract import ORDERS, SOURCES, clean_schema
from segmentation_pipeline.core.validate.expectations import CRITICAL, WARNING, SuiteRunner, failures_table, load_suite
from segmentation_pipeline.core.validate.settings import ValidationSettings

DAY = date(2026, 3, 1)


def orders(n: int, amount: float = 25.0, status: str = "completed") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "customer_id": "c1",
            "ordered_at": pd.Timestamp("2026-03-01T10:00:00Z"),
            "amount": amount,
            "currency": "EUR",
            "status": status,
            "channel": "web",
            "product_category": "books",
            "_source_file": "orders.csv",
            "_source_row": range(1, n + 1),
        }
    )


def failed(outcomes) -> dict[str, str]:
    return {outcome.name: outcome.severity for outcome in outcomes if not outcome.success}


@pytest.fixture(scope="module")
def runner():
    return SuiteRunner("orders", ValidationSettings())


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_source_has_a_suite_with_critical_and_warning_expectations_over_its_contract_columns(source):
    suite = load_suite(source)
    severities = {item["severity"] for item in suite["expectations"]}
    assert severities == {CRITICAL, WARNING}
    column_set = suite["expectations"][0]["kwargs"]["column_set"]
    assert set(column_set) == set(clean_schema(SOURCES[source]).names) | {"_quarantined"}
    assert all(item["meta"]["name"] for item in suite["expectations"])


def test_a_clean_partition_passes_every_expectation(runner):
    outcomes = runner.run(DAY, orders(200), orders(0))
    assert len(outcomes) == len(load_suite("orders")["expectations"])
    assert failed(outcomes) == {}


def test_a_quarantine_rate_above_the_maximum_fails_the_critical_expectation(runner):
    outcomes = runner.run(DAY, orders(180), orders(20))  # 10% of 200 rows quarantined
    assert failed(outcomes) == {"quarantine rate at most the maximum": CRITICAL}
    rate = next(outcome for outcome in outcomes if outcome.name == "quarantine rate at most the maximum")
    assert rate.observed == pytest.approx(0.10)


def test_the_quarantine_rate_of_small_partitions_is_not_judged(runner):
    assert failed(runner.run(DAY, orders(9), orders(1))) == {}


def test_the_maximum_quarantine_rate_is_configurable():
    lenient = SuiteRunner("orders", ValidationSettings(max_quarantine_rate=0.2))
    assert failed(lenient.run(DAY, orders(180), orders(20))) == {}


def test_a_median_amount_outside_the_band_is_only_a_warning(runner):
    outcomes = runner.run(DAY, orders(200, amount=50_000.0), orders(0))
    assert failed(outcomes) == {"median amount within the expected band": WARNING}
    narrow = SuiteRunner("orders", ValidationSettings(median_amount_max=20.0)).run(DAY, orders(200), orders(0))
    assert failed(narrow) == {"median amount within the expected band": WARNING}


def test_value_and_uniqueness_expectations_count_clean_rows_only(runner):
    clean = orders(150, status="shipped")
    duplicate = orders(150)
    outcomes = runner.run(DAY, clean, duplicate.iloc[:2])  # quarantined copies of o0, o1 do not make keys non-unique
    assert failed(outcomes) == {"status is a known status": CRITICAL}
    status = next(outcome for outcome in outcomes if outcome.name == "status is a known status")
    assert status.unexpected_count == 150


def test_row_count_bounds_apply_even_to_an_empty_day():
    empty = clean_schema(ORDERS).empty_table().to_pandas()
    assert failed(SuiteRunner("orders", ValidationSettings()).run(DAY, empty, empty)) == {}
    outcomes = SuiteRunner("orders", ValidationSettings(min_rows=1)).run(DAY, empty, empty)
    assert [outcome.name for outcome in outcomes] == ["column set matches the contract", "row count within bounds"]
    assert failed(outcomes) == {"row count within bounds": CRITICAL}


def test_a_day_whose_rows_were_all_quarantined_is_judged_on_the_quarantine_rate(runner):
    outcomes = runner.run(DAY, orders(0), orders(120))
    assert failed(outcomes) == {"quarantine rate at most the maximum": CRITICAL}


def test_failures_table_names_partition_expectation_and_observed_value(runner):
    table = failures_table(runner.run(DAY, orders(180), orders(20)))
    assert table.splitlines()[2] == "| 2026-03-01 | quarantine rate at most the maximum | 0.1 |  |"
    assert failures_table(runner.run(DAY, orders(200), orders(0))) == "all expectations passed"


def test_suites_do_not_hash_every_row_of_a_partition_for_a_batch_fingerprint(runner, monkeypatch):
    from great_expectations.execution_engine import pandas_execution_engine

    def fingerprint(frame):
        raise AssertionError(f"fingerprinted a batch of {len(frame)} rows")

    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", fingerprint)
    outcomes = runner.run(DAY, orders(200), orders(0))
    assert failed(outcomes) == {}
    assert len(outcomes) == len(load_suite("orders")["expectations"])
