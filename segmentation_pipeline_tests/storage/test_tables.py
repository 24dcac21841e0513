"""Snapshot tables read back as written, whole or as an evenly spaced sample read batch by batch."""

from datetime import date

import pandas as pd

from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.tables import read_snapshot_sample, read_snapshot_table, write_snapshot_table

DAY = date(2026, 9, 30)


def test_a_sample_is_every_nth_row_across_batches_with_the_tables_dtypes(tmp_path):
    layout = DataLayout(tmp_path)
    frame = pd.DataFrame(
        {
            "customer_id": pd.Series([f"C{i:02d}" for i in range(10)], dtype="str"),
            "orders": pd.array([1, None, 3, 4, None, 6, 7, 8, 9, None], dtype="Int64"),
            "share": [i / 10 for i in range(10)],
        }
    )
    write_snapshot_table(layout, "customer_features", DAY, frame)
    whole = read_snapshot_table(layout, "customer_features", DAY)

    sample = read_snapshot_sample(layout, "customer_features", DAY, max_rows=4, batch_rows=3)
    assert sample["customer_id"].tolist() == ["C00", "C03", "C06", "C09"]
    pd.testing.assert_frame_equal(sample, whole.iloc[::3].reset_index(drop=True))
    pd.testing.assert_frame_equal(read_snapshot_sample(layout, "customer_features", DAY, max_rows=10), whole)
