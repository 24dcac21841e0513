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
    outcomes = runner.run({DAY: (orders(200), orders(0))})
    assert len(outcomes) == len(load_suite("orders")["expectations"])
    assert failed(outcomes) == {}


def test_a_quarantine_rate_above_the_maximum_fails_the_critical_expectation(runner):
    outcomes = runner.run({DAY: (orders(180), orders(20))})  # 10% of 200 rows quarantined
    assert failed(outcomes) == {"quarantine rate at most the maximum": CRITICAL}
    rate = next(outcome for outcome in outcomes if outcome.name == "quarantine rate at most the maximum")
    assert rate.observed == pytest.approx(0.10)


def test_the_quarantine_rate_of_small_partitions_is_not_judged(runner):
    assert failed(runner.run({DAY: (orders(9), orders(1))})) == {}


def test_the_maximum_quarantine_rate_is_configurable():
    lenient = SuiteRunner("orders", ValidationSettings(max_quarantine_rate=0.2))
    assert failed(lenient.run({DAY: (orders(180), orders(20))})) == {}


def test_a_median_amount_outside_the_band_is_only_a_warning(runner):
    outcomes = runner.run({DAY: (orders(200, amount=50_000.0), orders(0))})
    assert failed(outcomes) == {"median amount within the expected band": WARNING}
    narrow = SuiteRunner("orders", ValidationSettings(median_amount_max=20.0)).run({DAY: (orders(200), orders(0))})
    assert failed(narrow) == {"median amount within the expected band": WARNING}


def test_value_and_uniqueness_expectations_count_clean_rows_only(runner):
    clean = orders(150, status="shipped")
    duplicate = orders(150)
    outcomes = runner.run(
        {DAY: (clean, duplicate.iloc[:2])}
    )  # quarantined copies of o0, o1 do not make keys non-unique
    assert failed(outcomes) == {"status is a known status": CRITICAL}
    status = next(outcome for outcome in outcomes if outcome.name == "status is a known status")
    assert status.unexpected_count == 150


def test_row_count_bounds_apply_even_to_an_empty_day():
    empty = clean_schema(ORDERS).empty_table().to_pandas()
    assert failed(SuiteRunner("orders", ValidationSettings()).run({DAY: (empty, empty)})) == {}
    outcomes = SuiteRunner("orders", ValidationSettings(min_rows=1)).run({DAY: (empty, empty)})
    assert [outcome.name for outcome in outcomes] == ["column set matches the contract", "row count within bounds"]
    assert failed(outcomes) == {"row count within bounds": CRITICAL}


def test_a_day_whose_rows_were_all_quarantined_is_judged_on_the_quarantine_rate(runner):
    outcomes = runner.run({DAY: (orders(0), orders(120))})
    assert failed(outcomes) == {"quarantine rate at most the maximum": CRITICAL}


def test_failures_table_names_partition_expectation_and_observed_value(runner):
    table = failures_table(runner.run({DAY: (orders(180), orders(20))}))
    assert table.splitlines()[2] == "| 2026-03-01 | quarantine rate at most the maximum | 0.1 |  |"
    assert failures_table(runner.run({DAY: (orders(200), orders(0))})) == "all expectations passed"


def test_suites_do_not_hash_every_row_of_a_partition_for_a_batch_fingerprint(runner, monkeypatch):
    from great_expectations.execution_engine import pandas_execution_engine

    def fingerprint(frame):
        raise AssertionError(f"fingerprinted a batch of {len(frame)} rows")

    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", fingerprint)
    outcomes = runner.run({DAY: (orders(200), orders(0))})
    assert failed(outcomes) == {}
    assert len(outcomes) == len(load_suite("orders")["expectations"])


def day(offset: int) -> date:
    return date(2026, 3, 1 + offset)


def mixed_partitions() -> dict[date, tuple[pd.DataFrame, pd.DataFrame]]:
    """Days that pass and days that fail each kind of expectation: row-wise, aggregate, small and empty days."""
    empty = orders(0)
    no_currency = orders(200)
    no_currency.loc[:19, "currency"] = None  # 10% missing: below `mostly` 0.95
    duplicated_ids = orders(150)
    duplicated_ids.loc[1, "order_id"] = "o0"
    return {
        day(0): (orders(200), empty),
        day(1): (orders(180), orders(20)),  # quarantine rate 10%
        day(2): (orders(9), orders(1)),  # too small to judge the rate
        day(3): (empty, empty),
        day(4): (orders(120, status="shipped"), empty),  # unknown status on every row
        day(5): (orders(200, amount=50_000.0), empty),  # median out of band (warning)
        day(6): (no_currency, empty),
        day(7): (duplicated_ids, empty),
        day(8): (empty, orders(120)),  # everything quarantined
        day(9): (orders(300), orders(3)),
    }


def failures_by_day(outcomes) -> set[tuple[date, str]]:
    return {(day, outcome.name) for outcome in outcomes if not outcome.success for day in outcome.partitions}


def test_judging_many_partitions_at_once_fails_exactly_the_partitions_judged_one_by_one(runner):
    partitions = mixed_partitions()
    one_by_one = set().union(*(failures_by_day(runner.run({key: frames})) for key, frames in partitions.items()))
    assert (
        failures_by_day(runner.run(partitions))
        == one_by_one
        == {
            (day(1), "quarantine rate at most the maximum"),
            (day(4), "status is a known status"),
            (day(5), "median amount within the expected band"),
            (day(6), "currency mostly filled"),
            (day(7), "order_id unique"),
            (day(8), "quarantine rate at most the maximum"),
        }
    )


def test_a_failed_aggregate_names_each_failing_partition_with_its_figure(runner):
    outcomes = runner.run(mixed_partitions())
    rates = [outcome for outcome in outcomes if outcome.name == "quarantine rate at most the maximum"]
    assert [(outcome.partitions, outcome.observed) for outcome in rates] == [((day(1),), 0.1), ((day(8),), 1.0)]
    assert len(outcomes) == len(load_suite("orders")["expectations"]) + 1  # the quarantine rate failed twice


def test_the_failures_table_of_a_run_names_the_days(runner):
    lines = failures_table(runner.run(mixed_partitions())).splitlines()[2:]
    assert "| 2026-03-05 | status is a known status |  | 120 |" in lines
    assert "| 2026-03-02 | quarantine rate at most the maximum | 0.1 |  |" in lines
    assert "| 2026-03-09 | quarantine rate at most the maximum | 1 |  |" in lines


def test_an_expectation_without_a_batched_form_is_judged_on_each_partition(monkeypatch):
    from segmentation_pipeline.core.validate import expectations

    unique = {
        "type": "expect_column_values_to_be_unique",
        "kwargs": {"column": "order_id"},
        "meta": {"name": "order ids unique per day"},
        "severity": "warning",
    }
    monkeypatch.setattr(expectations, "load_suite", lambda name: {"expectations": [unique]})
    runner = SuiteRunner("orders", ValidationSettings())
    # the same ids on two days are unique within each day: only the day with a repeated id fails
    repeated = orders(3)
    repeated.loc[2, "order_id"] = "o0"
    outcomes = runner.run(
        {day(0): (orders(3), orders(0)), day(1): (orders(3), orders(0)), day(2): (repeated, orders(0))}
    )
    assert [(outcome.partitions, outcome.success) for outcome in outcomes] == [((day(2),), False)]
    assert [outcome.success for outcome in runner.run({day(0): (orders(3), orders(0))})] == [True]
