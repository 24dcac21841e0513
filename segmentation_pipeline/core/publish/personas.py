"""Segment personas: per behavioural segment, who its customers are, how they use the product, what they buy and
say, how to reach them and what they are worth, read from the snapshot's customer features and the published
profile, with a suggested next action (`next_actions.py`) and a sentence or two of text made from the numbers.

A trait the data does not hold (a feature column that is missing or null for every customer of the segment) is a
null cell and is never mentioned in the text. Mixes are text, "mobile 52%, desktop 30%": every BI tool reads it.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from segmentation_pipeline.core.publish.next_actions import NextActionRule, next_action
from segmentation_pipeline.core.publish.schemas import PUBLISHED_SCHEMAS

TOP_VALUES = 3
"""Values listed in a `top_*` column; `*_mix` columns list every value."""
AGE_BANDS = ("16-24", "25-34", "35-44", "45-54", "55-64", "65+")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PROFILE_COLUMNS = (
    "segment_id",
    "segment_name",
    "customers",
    "share",
    "revenue_share",
    "dominant_device",
    "dominant_time_of_day",
    "promoter_share",
    "detractor_share",
    "mean_predicted_clv",
    "high_churn_risk_share",
)
"""Taken as published in `segment_profiles`, so the two tables agree."""


def segment_personas(
    features: pd.DataFrame,
    segment_ids: pd.Series,
    profiles: pd.DataFrame,
    snapshot_date: date,
    rules: tuple[NextActionRule, ...],
) -> pd.DataFrame:
    """One row per segment of `profiles` (the published segment_profiles); `segment_ids` gives each customer's
    segment, aligned with `features` (its index)."""
    group = segment_ids.astype("int64").to_numpy()
    usage = _flag(features, "has_usage") == 1.0
    frequency = _number(features, "frequency").fillna(0.0)
    table = profiles[list(PROFILE_COLUMNS)].copy()
    by_segment = {
        "age_band_mix": _mix(features, "age_band", group),
        "median_age_band": _median_band(features, group),
        "gender_mix": _mix(features, "gender", group),
        "top_countries": _mix(features, "country", group, TOP_VALUES),
        "b2b_share": _mean(_flag(features, "is_b2b", missing=np.nan), group),
        "median_session_minutes": _median(_number(features, "mean_session_minutes").where(usage), group),
        "top_features": _mix(features, "top_feature", group, TOP_VALUES),
        "orders_per_customer": _mean(frequency, group),
        "avg_order_value": _ratio(_number(features, "monetary").fillna(0.0), frequency, group),
        "top_categories": _mix(features, "top_category", group, TOP_VALUES),
        "nps_mix": _mix(features, "nps_group", group),
        "survey_share": _mean(_flag(features, "has_survey", missing=np.nan), group),
        "top_primary_needs": _mix(features, "primary_need", group, TOP_VALUES),
        "mean_price_sensitivity": _mean(_number(features, "price_sensitivity"), group),
        "contact_channel_mix": _mix(features, "preferred_contact_channel", group),
        "marketing_opt_in_share": _mean(_flag(features, "marketing_opt_in", missing=np.nan), group),
        "weekend_share": _mean(_number(features, "weekend_share").where(usage), group),
        "most_active_hour": _most_common(_number(features, "most_active_hour"), group, rank=None),
        "most_active_weekday": _most_common(_text(features, "most_active_weekday"), group, rank=WEEKDAYS.index),
        "new_customer_share": _mean(_text(features, "lifecycle_stage").eq("new").astype("float64"), group),
    }
    for column, values in by_segment.items():
        table[column] = table["segment_id"].map(values)
    table["most_active_hour"] = table["most_active_hour"].astype("Int64")
    actions = [next_action(rules, row) for row in table.to_dict("records")]
    table["next_action"] = [action for action, _ in actions]
    table["next_action_reason"] = [reason for _, reason in actions]
    table["persona_summary"] = [persona_summary(row) for row in table.to_dict("records")]
    table["snapshot_date"] = snapshot_date
    columns = PUBLISHED_SCHEMAS["segment_personas"].names
    return table[columns].sort_values("segment_id", ignore_index=True)


def persona_summary(persona: dict) -> str:
    """One or two sentences from the persona's figures, each clause only when its figure is known."""
    who = [f"{persona['customers']:,} customers ({_percent(persona['share'])} of all)"]
    if _known(persona["median_age_band"]):
        who.append(f"typically aged {persona['median_age_band']}")
    if _known(persona["top_countries"]):
        country, share = _largest(persona["top_countries"])
        who.append(f"largest country {country} ({share})")
    device, time_of_day = persona["dominant_device"], persona["dominant_time_of_day"]
    if _known(device):
        who.append(f"mostly on {device}" + (f" in the {time_of_day}" if _known(time_of_day) else ""))
    elif _known(time_of_day):
        who.append(f"mostly active in the {time_of_day}")
    buy = []
    if persona["orders_per_customer"] > 0 and _known(persona["avg_order_value"]):
        buy.append(
            f"They place {persona['orders_per_customer']:.1f} orders a year on average at "
            f"{persona['avg_order_value']:,.0f} per order, {_percent(persona['revenue_share'])} of revenue"
            + (f", most often in {_largest(persona['top_categories'])[0]}" if _known(persona["top_categories"]) else "")
        )
    else:
        buy.append("They have not bought in the last year")
    if _known(persona["high_churn_risk_share"]):
        buy.append(f"{_percent(persona['high_churn_risk_share'])} of buyers are at high churn risk")
    if _known(persona["marketing_opt_in_share"]):
        buy.append(f"{_percent(persona['marketing_opt_in_share'])} opted in to marketing")
    weekday, hour = persona["most_active_weekday"], persona["most_active_hour"]
    if _known(weekday) and _known(hour):
        buy.append(f"they are most active on {weekday}s around {hour:02d}:00 UTC")
    return f"{', '.join(who)}. {'; '.join(buy)}."


def _mix(features: pd.DataFrame, column: str, group: np.ndarray, top: int | None = None) -> dict[int, str]:
    """Per segment, its values by share of the customers who have one ("a 52%, b 30%"; largest first, ties
    alphabetical), the first `top` only when given; segments where nobody has a value are left out (null)."""
    mixes = {}
    for segment_id, row in _counts(_text(features, column), group).iterrows():
        row = row[row > 0]
        shares = (row / row.sum()).rename("share").rename_axis("value").reset_index()
        shares = shares.sort_values(["share", "value"], ascending=[False, True]).head(top)
        pairs = zip(shares["value"], shares["share"], strict=True)
        mixes[int(segment_id)] = ", ".join(f"{value} {_percent(share)}" for value, share in pairs)
    return mixes


def _most_common(values: pd.Series, group: np.ndarray, rank) -> dict[int, object]:
    """Per segment, the value most of its customers have (ties: the first in the order `rank` sorts by, natural
    order without one); segments where nobody has a value are left out (null)."""
    counts = _counts(values, group).sort_index(axis=1, key=None if rank is None else lambda index: index.map(rank))
    return {int(segment_id): row.idxmax() for segment_id, row in counts.iterrows()}


def _counts(values: pd.Series, group: np.ndarray) -> pd.DataFrame:
    """Customers per segment (rows) and value (columns), counting only customers who have a value, so a segment
    where nobody has one has no row."""
    known = values.notna().to_numpy()
    return pd.crosstab(group[known], values[known].to_numpy())


def _largest(mix: str) -> tuple[str, str]:
    """The first value of a mix ("DE 40%, AT 20%") and its share."""
    value, share = mix.split(",")[0].rsplit(" ", 1)
    return value, share


def _median_band(features: pd.DataFrame, group: np.ndarray) -> dict[int, str]:
    """The age band of the segment's median customer among those with a band (bands are ordered; the lower of the
    two middle bands for an even count)."""
    bands = _text(features, "age_band")
    rank = bands.map({band: i for i, band in enumerate(AGE_BANDS)}).astype("float64")
    lower_median = rank.groupby(group).quantile(0.5, interpolation="lower").dropna()
    return {int(segment_id): AGE_BANDS[int(r)] for segment_id, r in lower_median.items()}


def _mean(values: pd.Series, group: np.ndarray) -> dict[int, float]:
    return values.astype("float64").groupby(group).mean().dropna().to_dict()


def _median(values: pd.Series, group: np.ndarray) -> dict[int, float]:
    return values.astype("float64").groupby(group).median().dropna().to_dict()


def _ratio(numerator: pd.Series, denominator: pd.Series, group: np.ndarray) -> dict[int, float]:
    totals = pd.DataFrame({"n": numerator, "d": denominator}).groupby(group).sum()
    return (totals["n"] / totals["d"].where(totals["d"] > 0)).dropna().to_dict()


def _text(features: pd.DataFrame, column: str) -> pd.Series:
    if column not in features.columns:
        return pd.Series(None, index=features.index, dtype="object")
    return features[column].astype("object").where(features[column].notna())


def _number(features: pd.DataFrame, column: str) -> pd.Series:
    if column not in features.columns:
        return pd.Series(np.nan, index=features.index)
    return pd.to_numeric(features[column]).astype("float64")


def _flag(features: pd.DataFrame, column: str, missing: float = 0.0) -> pd.Series:
    """A true/false feature as 1.0/0.0; a missing value (or column) as `missing`."""
    if column not in features.columns:
        return pd.Series(missing, index=features.index)
    values = features[column]
    return values.astype("boolean").astype("float64").where(values.notna(), missing)


def _known(value: object) -> bool:
    return value is not None and not pd.isna(value)


def _percent(share: float) -> str:
    return "<1%" if 0 < share < 0.005 else f"{share:.0%}"
