"""Two small published snapshots, a previous and a current one, shared by the transition and drift tests."""

from datetime import date

import pandas as pd

PREVIOUS_DATE, SNAPSHOT = date(2026, 10, 31), date(2026, 11, 30)
OWLS, DESKTOP = "Night owls", "Weekend desktop"


def snapshot(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "rfm_segment", "segment_id", "segment_name", "frequency"])


# c1 leaves, c6 appears; c3 and c5 change RFM segment, c4 changes behavioural segment
PREVIOUS = snapshot(
    [
        ("c1", "champions", 1, OWLS, 1),
        ("c2", "champions", 1, OWLS, 2),
        ("c3", "hibernating", 2, DESKTOP, 3),
        ("c4", "hibernating", 1, OWLS, 4),
        ("c5", "at risk", 2, DESKTOP, 5),
    ]
)
CURRENT = snapshot(
    [
        ("c2", "champions", 1, OWLS, 5),
        ("c3", "champions", 2, DESKTOP, 4),
        ("c4", "hibernating", 2, DESKTOP, 3),
        ("c5", "hibernating", 2, DESKTOP, 2),
        ("c6", "new customers", 1, OWLS, 1),
    ]
)
