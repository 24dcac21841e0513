"""The first daily partition of a data root: the first landing day, recorded so that it never moves later."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from segmentation_pipeline.core.ingest.first_day import DEFAULT_FIRST_DAY, PARTITIONS_START_ENV, first_partition_day
from segmentation_pipeline.core.ingest.landing import InputError
from segmentation_pipeline.core.storage.layout import DataLayout


@pytest.fixture
def layout(tmp_path, monkeypatch):
    monkeypatch.delenv(PARTITIONS_START_ENV, raising=False)
    return DataLayout(tmp_path)


def land(layout: DataLayout, folder: str, *days: str) -> None:
    for day in days:
        (layout.landing / folder / f"date={day}").mkdir(parents=True)


def test_the_first_day_is_the_earliest_day_folder_of_any_daily_source_and_is_recorded(layout):
    land(layout, "crm/orders", "2026-03-05", "2026-03-04")
    land(layout, "usage/events", "2026-03-02", "2026-03-09")
    land(layout, "survey/responses", "2026-03-10")

    assert first_partition_day(layout) == date(2026, 3, 2)
    assert layout.first_landing_day.read_text() == "2026-03-02\n"
    assert layout.first_landing_day == layout.root / "warehouse" / "first_landing_day.txt"


def test_deleting_the_oldest_landing_days_keeps_the_recorded_first_day(layout):
    land(layout, "crm/orders", "2026-03-01", "2026-03-02", "2026-03-03")
    assert first_partition_day(layout) == date(2026, 3, 1)

    for day in ("2026-03-01", "2026-03-02"):
        shutil.rmtree(layout.landing / "crm" / "orders" / f"date={day}")
    assert first_partition_day(layout) == date(2026, 3, 1)
    shutil.rmtree(layout.landing)
    assert first_partition_day(layout) == date(2026, 3, 1)
    assert layout.first_landing_day.read_text() == "2026-03-01\n"


def test_an_earlier_landing_day_moves_the_first_day_earlier_and_updates_the_record(layout):
    land(layout, "crm/orders", "2026-03-01")
    assert first_partition_day(layout) == date(2026, 3, 1)

    land(layout, "survey/responses", "1997-01-01")
    assert first_partition_day(layout) == date(1997, 1, 1)
    assert layout.first_landing_day.read_text() == "1997-01-01\n"
    assert not any(layout.staging.iterdir())  # written atomically: nothing left staged


def test_the_environment_variable_overrides_landing_and_record_and_writes_nothing(layout, monkeypatch):
    land(layout, "crm/orders", "1997-01-01")
    monkeypatch.setenv(PARTITIONS_START_ENV, "2020-06-15")

    assert first_partition_day(layout) == date(2020, 6, 15)
    assert not layout.warehouse.exists()


def test_an_override_that_is_not_a_day_is_one_line_naming_the_variable(layout, monkeypatch):
    monkeypatch.setenv(PARTITIONS_START_ENV, "2020/06/15")

    with pytest.raises(InputError) as raised:
        first_partition_day(layout)
    assert str(raised.value) == (
        "SEGMENTATION_PARTITIONS_START: '2020/06/15' is not a day; write it as YYYY-MM-DD, e.g. 2024-01-01"
    )


def test_without_landing_data_or_record_the_default_is_used_and_nothing_is_written(layout):
    (layout.landing / "crm" / "orders").mkdir(parents=True)  # a source folder without day folders

    assert first_partition_day(layout) == DEFAULT_FIRST_DAY == date(2024, 1, 1)
    assert not layout.warehouse.exists()
