"""The validation step on Spark against DuckDB on copies of one landing zone full of bad rows: the same clean rows,
the same quarantined rows with the same reasons, the same counts, read reports and rollups, file for file and byte for
byte (on Spark the landing files are typed and the validated and quarantine files written by executor tasks), and a
file that cannot be typed stops both with the same one-line message."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core.duckdb_session import duckdb_cursor
from segmentation_pipeline.core.engines.spark_validation import _earlier_files
from segmentation_pipeline.core.features.rollups import ROLLUPS
from segmentation_pipeline.core.ingest.contract import CUSTOMERS, ORDERS, SURVEY_RESPONSES, USAGE_EVENTS, clean_schema
from segmentation_pipeline.core.ingest.landing import InputError
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate.expectations import SuiteRunner
from segmentation_pipeline.core.validate.key_sets import ValidatedKeysBefore
from segmentation_pipeline.core.validate.partitions import judged, validate_days
from segmentation_pipeline.core.validate.rules import rule_names
from segmentation_pipeline.core.validate.settings import ValidationSettings
from segmentation_pipeline_tests.engines.conftest import small_batches_of
from segmentation_pipeline_tests.validate.builders import (
    CUSTOMERS_HEADER,
    ORDERS_HEADER,
    SURVEY_HEADER,
    USAGE_WITH_IDS_HEADER,
    customer_row,
    land_day,
    order_row,
    survey_row,
    usage_event_row,
)
from segmentation_pipeline_tests.validate.test_expectations import mixed_partitions
from segmentation_pipeline_tests.validate.test_key_sets import write_validated_events

DAYS = [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)]
NOW = pd.Timestamp("2026-03-03T12:00:00Z")
RUN_ID = "run-spark-parity"
PERSONAL = ("Ann Lee", "ann@example.com", "+4912345", "bad email", "eve@x")

CUSTOMER_ROWS = [
    customer_row("c1"),
    customer_row("c2", email="bob@example.com"),
    customer_row("c3", email="bad email"),  # malformed
    customer_row("c4", email="eve\u00a0@x.io"),  # a Unicode space: malformed, as Python's \s says
    customer_row("c5", email="eve\x0b@x.io"),  # a vertical tab: RE2 and Java disagree on \s here
    customer_row("c1", email="copy@example.com"),  # duplicate key
    customer_row("c6", created_at="2026-03-04T00:00:00Z"),  # in the future
    customer_row("", email="x@y.z"),  # missing id
    customer_row("c7", email="eve@x"),  # no top-level domain
    customer_row("c8"),
]
ORDER_ROWS = {
    DAYS[0]: [
        order_row("o1"),
        order_row("o1", amount="11"),  # duplicate of a valid copy
        order_row("o2", amount="-5"),  # invalid first copy...
        order_row("o2", amount="5"),  # ...so this one stays clean
        order_row("o3", ordered_at="2026-02-28T23:59:59Z"),  # outside the day
        order_row("o4", ordered_at="2026-03-01T01:00:00+02:00"),  # an offset pulls it into the day before
        order_row("o5", customer_id="c9"),  # unknown customer
        order_row("o6", customer_id="c3"),  # a quarantined customer is unknown
        order_row("o7", amount=""),
        order_row("o8", amount="NaN"),
        order_row("o9", amount="inf"),
        order_row("o10", amount="-inf"),
        order_row("o11", amount="1000000.01"),
        order_row("o12", status="SHIPPED"),
        order_row("o13", status="Cancelled"),  # normalised to cancelled
        order_row("o14", status=""),  # completed
        order_row("o15", status="refunded", amount="0"),
        order_row("", customer_id="c2"),
    ],
    DAYS[1]: [
        order_row("o1", ordered_at="2026-03-02T09:00:00Z"),  # delivered on an earlier day
        order_row("o16", ordered_at="2026-03-02T09:00:00Z", customer_id="c2", amount="42.5"),
        order_row("o17", ordered_at="2026-03-02T23:59:59.999999Z"),
        order_row("o18", ordered_at="2026-03-03T00:00:00Z"),  # the next midnight
    ],
    DAYS[2]: [
        order_row("o16", ordered_at="2026-03-03T09:00:00Z"),  # delivered on an earlier day of the same batch
        order_row("o19", ordered_at="2026-03-03T12:00:01Z"),  # one second in the future
        order_row("o20", ordered_at="2026-03-03T08:00:00Z", customer_id="c8", amount="7.25", status="cancelled"),
        order_row("o2", ordered_at="2026-03-03T08:00:00Z", amount="-1"),  # invalid and a duplicate
    ],
}
USAGE_ROWS = {
    DAYS[0]: [
        usage_event_row("e1"),
        usage_event_row("e1", session_id="s2"),  # duplicate event id
        usage_event_row("e2", device_type="tv"),  # invalid first copy
        usage_event_row("e2", device_type="Mobile"),  # stays clean, device lower-cased
        usage_event_row("", session_id="s3"),  # no event id: never a duplicate
        usage_event_row("", session_id="s3"),
        usage_event_row("e3", duration="-1"),
        usage_event_row("e4", customer_id="c9"),
        usage_event_row("e5", event_ts="2026-03-01T23:30:00Z", device_type="TABLET", duration=""),
        usage_event_row("e6", event_ts="2026-03-01T03:00:00-05:00"),  # 08:00 UTC
        usage_event_row("e7", session_id=""),
    ],
    DAYS[1]: [
        usage_event_row("e1", event_ts="2026-03-02T10:00:00Z"),  # seen on an earlier day
        usage_event_row("e8", event_ts="2026-03-02T00:00:00Z", customer_id="c2"),
        usage_event_row("e9", event_ts="2026-03-01T23:59:59Z"),  # outside the day
    ],
    DAYS[2]: [
        usage_event_row("e8", event_ts="2026-03-03T01:00:00Z"),  # seen earlier in the batch
        usage_event_row("e10", event_ts="2026-03-03T13:00:00Z"),  # in the future
        usage_event_row("e11", event_ts="2026-03-03T05:00:00Z", device_type="Desktop"),
    ],
}
SURVEY_ROWS = {
    DAYS[0]: [
        survey_row("r1"),
        survey_row("r1", nps="9"),
        survey_row("r2", nps="11"),
        survey_row("r3", csat="0", price="6"),
        survey_row("r4", nps="", csat="", price=""),
        survey_row("r5", customer_id="c9"),
        survey_row("r6", submitted_at="2026-03-02T00:00:00Z"),
    ],
    DAYS[1]: [
        survey_row("r1", submitted_at="2026-03-02T09:00:00Z"),
        survey_row("r7", submitted_at="2026-03-02T10:00:00Z"),
    ],
    DAYS[2]: [],
}


def _landing(root: Path) -> None:
    landing = root / "landing"
    (landing / "crm").mkdir(parents=True)
    (landing / "crm" / "customers.csv").write_text("\n".join([CUSTOMERS_HEADER, *CUSTOMER_ROWS]) + "\n", "utf-8")
    for source, header, rows in (
        (ORDERS, ORDERS_HEADER, ORDER_ROWS),
        (USAGE_EVENTS, USAGE_WITH_IDS_HEADER, USAGE_ROWS),
        (SURVEY_RESPONSES, SURVEY_HEADER, SURVEY_ROWS),
    ):
        for day, day_rows in rows.items():
            if day_rows:
                # two files: the order "earlier" means runs by file name, then line
                land_day(landing, source, day, header, day_rows[: len(day_rows) // 2], "part-01.csv")
                land_day(landing, source, day, header, day_rows[len(day_rows) // 2 :], "part-02.csv")
    folder = landing / ORDERS.landing_path / f"date={DAYS[0].isoformat()}"
    shutil.copy(folder / "part-01.csv", folder / "part-03.csv")  # a byte-identical copy: skipped
    (folder / ".part-04.csv").write_text(ORDERS_HEADER + "\n" + order_row("o99") + "\n", "utf-8")  # hidden: skipped
    land_day(
        landing,
        ORDERS,
        DAYS[1],
        f"{ORDERS_HEADER},note",
        [order_row("o21", ordered_at="2026-03-02T08:00:00Z") + ",x"],
        "part-03.csv",
    )  # extra column
    pd.DataFrame(  # a Parquet file of typed values beside the CSV files, with a duplicate of an earlier day's order
        {
            "order_id": ["o1", "o22"],
            "customer_id": ["c2", "c2"],
            "ordered_at": pd.to_datetime(["2026-03-02T11:00:00Z", "2026-03-02T12:00:00Z"]),
            "amount": [3.5, float("nan")],
            "status": ["completed", None],
        }
    ).to_parquet(landing / ORDERS.landing_path / f"date={DAYS[1].isoformat()}" / "part-04.parquet")
    empty = landing / SURVEY_RESPONSES.landing_path / f"date={DAYS[2].isoformat()}"
    empty.mkdir(parents=True)
    (empty / "part-01.csv").write_bytes(b"")  # an empty day: one empty file


def _validate(layout: DataLayout, spark) -> dict[str, dict]:
    """Customers, then each daily source's first day alone and its other days as one batch (their duplicates found
    once against the validated day, once within the batch); the outcomes' counts, read reports and suite verdicts by
    source and day."""
    settings, counts = ValidationSettings(min_rows=3, min_rows_for_quarantine_rate=1), {}
    for source, batches in (
        (CUSTOMERS, [[None]]),
        *((source, [DAYS[:1], DAYS[1:]]) for source in (ORDERS, USAGE_EVENTS, SURVEY_RESPONSES)),
    ):
        suite = SuiteRunner(source.name, settings, spark)
        for days in batches:
            for reports, outcomes in validate_days(layout, source, days, settings, RUN_ID, NOW, spark=spark):
                counts[(source.name, tuple(days), "verdicts")] = judged(suite, outcomes)
                for day, outcome in outcomes.items():
                    summary = outcome.summary()
                    examples = summary.quarantine_examples
                    counts[(source.name, day)] = (
                        (summary.rows_in, summary.rows_clean, summary.rows_quarantined, summary.check_counts),
                        reports[day],
                        (
                            list(examples.columns),
                            examples.dtypes.astype(str).tolist(),
                            examples.to_json(orient="split", date_format="iso"),
                        ),
                    )
    return counts


@pytest.fixture(scope="module")
def validated(tmp_path_factory, spark):
    zone = tmp_path_factory.mktemp("zone")
    _landing(zone)
    layouts = {}
    for engine in ("duckdb", "spark"):
        root = tmp_path_factory.mktemp(engine)
        shutil.copytree(zone / "landing", root / "landing")
        layouts[engine] = DataLayout(root)
    with small_batches_of(spark):
        counts = {engine: _validate(layout, spark if engine == "spark" else None) for engine, layout in layouts.items()}
    return layouts, counts


def _files(layout: DataLayout) -> list[Path]:
    found = [*layout.warehouse.rglob("*.parquet"), *layout.quarantine.rglob("*.parquet")]
    return sorted(path.relative_to(layout.root) for path in found)


def test_both_engines_write_the_same_validated_quarantine_and_rollup_files(validated):
    layouts, _ = validated
    files = _files(layouts["duckdb"])
    assert files == _files(layouts["spark"])
    kinds = {path.parts[1] if path.parts[0] == "warehouse" else "quarantine" for path in files}
    assert kinds == {"validated", "rollups", "quarantine"}
    for path in files:
        duckdb_table, spark_table = (
            pq.read_table(layouts["duckdb"].root / path),
            pq.read_table(layouts["spark"].root / path),
        )
        assert spark_table.equals(duckdb_table, check_metadata=True), path
        assert (layouts["spark"].root / path).read_bytes() == (layouts["duckdb"].root / path).read_bytes(), path


def test_both_engines_count_read_and_judge_the_same(validated):
    """The same counts per rule, read reports (files, warnings, skipped files), quarantined examples and verdicts."""
    _, counts = validated
    assert counts["spark"] == counts["duckdb"]
    orders = counts["spark"][("orders", DAYS[0])]
    assert orders[0][:3] == (18, 5, 13)
    assert [entry.reason for entry in orders[1].skipped] == ["hidden file", "byte-identical copy of part-01.csv"]
    assert len(json.loads(orders[2][2])["data"]) == 5 and "customer_id" in orders[2][0]
    assert not set(orders[2][0]) & {"email", "full_name", "phone", "run_id"}
    assert counts["spark"][("orders", DAYS[1])][1].warnings == [
        "crm/orders/date=2026-03-02/part-03.csv: unknown column(s) ignored: note"
    ]
    assert counts["spark"][("survey_responses", DAYS[2])][0][:3] == (0, 0, 0)
    assert counts["spark"][("survey_responses", DAYS[2])][1].warnings == [
        "survey/responses/date=2026-03-03/part-01.csv: empty file, read as zero rows"
    ]
    verdicts = [outcome for key, value in counts["spark"].items() if "verdicts" in key for outcome in value]
    assert any(not outcome.success for outcome in verdicts)


def _bad_zone(root: Path) -> DataLayout:
    """A day of orders in four files: a good one, one with a value that cannot be read on a row with a missing field
    (the message's short-rows hint), one with a bad amount, and one without a required column (a read error)."""
    landing = root / "landing"
    land_day(landing, ORDERS, DAYS[0], ORDERS_HEADER, [order_row("o1")], "part-01.csv")
    shifted = "o2,2026-03-01T10:00:00Z,12.5,completed"  # no customer_id: the later values shift left
    land_day(
        landing,
        ORDERS,
        DAYS[0],
        ORDERS_HEADER,
        [order_row("o3"), shifted, order_row("o4", amount="ten")],
        "part-02.csv",
    )
    land_day(landing, ORDERS, DAYS[0], ORDERS_HEADER, [order_row("o5", amount="abc")], "part-03.csv")
    land_day(landing, ORDERS, DAYS[0], "order_id,amount", ["o6,1"], "part-04.csv")
    return DataLayout(root)


@pytest.mark.parametrize("drop", [(), ("part-01.csv", "part-02.csv", "part-03.csv"), ("part-02.csv",)])
def test_a_file_that_cannot_be_typed_stops_both_engines_with_the_same_line(spark, tmp_path, drop):
    """The first file in error is named, whether its error is a value (with the short-rows hint) or a read error;
    the executors' message reaches the driver as the same one line, and nothing is written."""
    messages = {}
    for engine in ("duckdb", "spark"):
        layout = _bad_zone(tmp_path / engine)
        for name in drop:
            (layout.landing / ORDERS.landing_path / f"date={DAYS[0].isoformat()}" / name).unlink()
        with pytest.raises(InputError) as raised:
            list(
                validate_days(
                    layout,
                    ORDERS,
                    DAYS[:1],
                    ValidationSettings(),
                    RUN_ID,
                    NOW,
                    spark=spark if engine == "spark" else None,
                )
            )
        messages[engine] = str(raised.value)
        assert not layout.validated(ORDERS.name, DAYS[0]).exists()
    assert messages["spark"] == messages["duckdb"]
    assert "\n" not in messages["spark"] and "Traceback" not in messages["spark"]
    expected = {(): "part-02.csv: column 'ordered_at'", ("part-02.csv",): "part-03.csv: column 'amount'"}
    assert expected.get(drop, "part-04.csv: required column(s) 'customer_id'") in messages["spark"]
    if not drop:
        assert "fewer fields than the header" in messages["spark"]


def test_the_tricky_rows_are_quarantined_for_the_documented_reasons(validated):
    layouts, _ = validated
    layout = layouts["spark"]

    def reasons(source, day, key):
        table = pq.read_table(layout.quarantined(source.name, day)).to_pandas()
        return dict(zip(table[key].fillna("-"), table["reason"], strict=True))

    assert reasons(ORDERS, DAYS[0], "order_id") == {
        "o1": "duplicate_key",
        "o2": "negative_amount",
        "o3": "timestamp_outside_partition",
        "o4": "timestamp_outside_partition",
        "o5": "unknown_customer",
        "o6": "unknown_customer",
        "o7": "missing_required_value",
        "o8": "missing_required_value",
        "o9": "amount_not_finite",
        "o10": "negative_amount, amount_not_finite",
        "o11": "amount_too_large",
        "o12": "unknown_status",
        "-": "missing_required_value",
    }
    assert reasons(ORDERS, DAYS[1], "order_id") == {
        "o1": "duplicate_key",  # in a CSV file and in the Parquet one
        "o18": "timestamp_outside_partition",
        "o22": "missing_required_value",  # a NaN amount in Parquet
    }
    assert reasons(ORDERS, DAYS[2], "order_id") == {
        "o16": "duplicate_key",
        "o19": "timestamp_in_future",
        "o2": "duplicate_key, negative_amount",
    }
    clean = pq.read_table(layout.validated(ORDERS.name, DAYS[0])).to_pandas()
    assert dict(zip(clean["order_id"], clean["status"], strict=True)) == {
        "o1": "completed",
        "o2": "completed",
        "o13": "cancelled",
        "o14": "completed",
        "o15": "refunded",
    }
    assert reasons(USAGE_EVENTS, DAYS[0], "event_id") == {
        "e1": "duplicate_event_id",
        "e2": "unknown_device_type",
        "e3": "negative_duration",
        "e4": "unknown_customer",
        "e7": "missing_required_value",
    }
    assert reasons(USAGE_EVENTS, DAYS[1], "event_id") == {
        "e1": "duplicate_event_id",
        "e9": "timestamp_outside_partition",
    }
    assert reasons(USAGE_EVENTS, DAYS[2], "event_id") == {"e8": "duplicate_event_id", "e10": "timestamp_in_future"}
    assert reasons(SURVEY_RESPONSES, DAYS[0], "response_id") == {
        "r1": "duplicate_key",
        "r2": "nps_out_of_range",
        "r3": "csat_out_of_range, price_sensitivity_out_of_range",
        "r5": "unknown_customer",
        "r6": "timestamp_outside_partition",
    }
    assert reasons(CUSTOMERS, None, "customer_id") == {
        "c3": "malformed_email",
        "c4": "malformed_email",
        "c5": "malformed_email",
        "c1": "duplicate_key",
        "c6": "timestamp_in_future",
        "-": "missing_required_value",
        "c7": "malformed_email",
    }


def _files_joined_for(spark, layout: DataLayout, event_ids: list[str]) -> list[str]:
    """The earlier days' validated files a batch of DAYS[2] with `event_ids` is joined with, by day."""
    frame = pd.DataFrame({"event_id": pd.Series(event_ids, dtype="str")})
    spark.createDataFrame(frame).createOrReplaceTempView("batch_rows")
    return [path.parent.name for path in _earlier_files(spark, layout, USAGE_EVENTS, DAYS[2])]


def test_a_batch_reads_the_event_ids_of_only_the_earlier_days_where_a_hash_matches(validated, spark, tmp_path):
    layout = validated[0]["spark"]
    assert _files_joined_for(spark, layout, ["e8", "unseen"]) == ["date=2026-03-02"]
    assert _files_joined_for(spark, layout, ["e1", "e8"]) == ["date=2026-03-01", "date=2026-03-02"]
    assert _files_joined_for(spark, layout, ["unseen"]) == []
    copy = DataLayout(tmp_path / "copy")
    shutil.copytree(layout.root, copy.root)
    copy.rollup("usage_day_event_ids", DAYS[0]).unlink()  # a day without current hashes is always read
    assert _files_joined_for(spark, copy, ["unseen"]) == ["date=2026-03-01"]


def test_the_hash_look_up_finds_hashes_with_and_without_the_top_bit_on_both_engines(spark, tmp_path):
    """DuckDB's hashes are unsigned 64-bit; Spark carries them as signed BIGINT: an id whose hash has the top bit set
    (negative in Spark) is found in its day's rollup as one whose hash has not, and as on DuckDB."""
    with duckdb_cursor() as con:
        hashes = {key: con.execute("SELECT hash(?)", [key]).fetchone()[0] for key in (f"e{i}" for i in range(32))}
    high = next(key for key, value in hashes.items() if value >= 2**63)
    low = next(key for key, value in hashes.items() if value < 2**63)
    layout = DataLayout(tmp_path)
    write_validated_events(layout, DAYS[0], [high, "other"])
    write_validated_events(layout, DAYS[1], [low])
    for key, folder in ((high, "date=2026-03-01"), (low, "date=2026-03-02")):
        assert _files_joined_for(spark, layout, [key, "unseen", None]) == [folder], key
        wanted = pd.Series([key, "unseen", None], dtype="str")
        assert ValidatedKeysBefore(layout, USAGE_EVENTS, DAYS[2]).contains(wanted).tolist() == [True, False, False]
    assert _files_joined_for(spark, layout, [high, low]) == ["date=2026-03-01", "date=2026-03-02"]


def test_reasons_name_rules_only_never_personal_data(validated):
    layouts, _ = validated
    for source in (CUSTOMERS, ORDERS, USAGE_EVENTS, SURVEY_RESPONSES):
        for path in layouts["spark"].quarantine.glob(f"{source.name}/**/*.parquet"):
            for reason in pq.read_table(path, columns=["reason"]).column(0).to_pylist():
                assert set(reason.split(", ")) <= set(rule_names(source)), reason
                assert not any(value in reason for value in PERSONAL)


def _suite_partitions(layout: DataLayout, source, days) -> dict:
    """The (clean, quarantined) rows of validated partitions, read back as the suite gets them."""
    schema = clean_schema(source)
    partitions = {}
    for day in days:
        quarantined = pq.read_table(layout.quarantined(source.name, day)).select(schema.names)
        partitions[day] = (pq.read_table(layout.validated(source.name, day)).to_pandas(), quarantined.to_pandas())
    return partitions


@pytest.mark.parametrize(("source", "days"), [(CUSTOMERS, [None]), (USAGE_EVENTS, DAYS), (SURVEY_RESPONSES, DAYS[:2])])
def test_the_suites_give_the_same_verdicts_on_spark_for_the_validated_days(validated, spark, source, days):
    """Each kind of expectation of each suite (orders' in the test below): per partition (customers), medians
    (usage events), `mostly` shares of filled values (survey responses)."""
    layouts, _ = validated
    partitions = _suite_partitions(layouts["duckdb"], source, days)
    settings = ValidationSettings(min_rows=3, min_rows_for_quarantine_rate=1)  # tiny days: some verdicts fail
    expected = SuiteRunner(source.name, settings).run(partitions)
    assert not all(outcome.success for outcome in expected)
    assert SuiteRunner(source.name, settings, spark).run(partitions) == expected


def test_the_suites_give_the_same_verdicts_on_spark_for_every_kind_of_failure(spark):
    partitions = mixed_partitions()
    expected = SuiteRunner(ORDERS.name, ValidationSettings()).run(partitions)
    failed_kinds = {outcome.name for outcome in expected if not outcome.success}
    assert len(failed_kinds) >= 5
    assert SuiteRunner(ORDERS.name, ValidationSettings(), spark).run(partitions) == expected


def test_a_batch_without_any_landing_file_writes_empty_days_on_both_engines(spark, tmp_path):
    """Days without a landing folder: no file for the executors to type, and empty validated and quarantine files."""
    written = {}
    for engine in ("duckdb", "spark"):
        layout = DataLayout(tmp_path / engine)
        layout.landing.mkdir(parents=True)
        session = spark if engine == "spark" else None
        ((reports, outcomes),) = validate_days(
            layout, ORDERS, DAYS[:2], ValidationSettings(), RUN_ID, NOW, spark=session
        )
        assert [summary.rows_in for summary in (outcome.summary() for outcome in outcomes.values())] == [0, 0]
        assert all(report.files == [] for report in reports.values())
        written[engine] = {path: (layout.root / path).read_bytes() for path in _files(layout)}
    assert len(written["spark"]) == 4 + len(ROLLUPS[ORDERS.name]) * 2  # validated, quarantine, rollups per day
    assert written["spark"] == written["duckdb"]
