"""The global control group: a fixed share of customers who receive no campaigns, so campaigns can be measured
against them (`segment_uplift`).

Membership depends only on the customer id and a salt: a customer is in or out of the control group in every
snapshot, after every refit, whatever segments they move through, until the salt or the share is changed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from segmentation_pipeline.core.publish.hashing import sha256_first_8_bytes


def in_control_group(customer_ids: pd.Series, share: float, salt: str) -> pd.Series:
    """True for the customers in the control group (aligned with `customer_ids`): those whose SHA-256 of
    `salt:customer_id`, read as a big-endian integer from its first 8 bytes, is below `share` · 2^64."""
    threshold = math.ceil(share * 2**64)  # an integer is below share · 2^64 exactly when below its ceiling (< 2^64)
    draws = sha256_first_8_bytes(customer_ids, f"{salt}:")
    return pd.Series(draws < np.uint64(threshold), index=customer_ids.index, name="in_control_group")
