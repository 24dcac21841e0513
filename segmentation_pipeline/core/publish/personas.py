"""Segment personas: per behavioural segment, who its customers are, how they use the product, what they buy and
say, how to reach them and what they are worth, read from the snapshot's customer features and the published
profile, with a suggested next action (`next_actions.py`) and a sentence or two of text made from the numbers.

A trait the data does not hold (a feature column that is missing or null for every customer of the segment) is a
null cell and is never mentioned in the text. Mixes are text, "mobile 52%, desktop 30%": every BI tool reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
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


COUNTED_TRAITS = (
    "age_band",
    "gender",
    "country",
    "top_feature",
    "top_category",
    "nps_group",
    "primary_need",
    "preferred_contact_channel",
    "most_active_hour",
    "most_active_weekday",
)
"""Traits counted per segment and value (text) among the customers who have one: the mixes, modes and median band."""
SUMMED_TRAITS = (
    "is_b2b",
    "has_survey",
    "price_sensitivity",
    "marketing_opt_in",
    "weekend_share",
    "new_customer",
    "orders",
    "spend",
)
"""Traits summed and counted (customers with a value) per segment: the shares, means and the order value."""
MEDIAN_TRAIT = "session_minutes"
"""The trait whose exact median per segment the personas give (pandas' median: the mean of the two middle values)."""
PERSONA_TRAITS = (*COUNTED_TRAITS, *SUMMED_TRAITS, MEDIAN_TRAIT)
PERSONA_FEATURES = (
    *COUNTED_TRAITS,
    "is_b2b",
    "has_survey",
    "price_sensitivity",
    "marketing_opt_in",
    "weekend_share",
    "has_usage",
    "lifecycle_stage",
    "frequency",
    "monetary",
    "mean_session_minutes",
)
"""The feature columns `persona_traits` reads."""


@dataclass(frozen=True)
class PersonaAggregates:
    """Everything the personas need from the customers, per behavioural segment: the same whichever engine (pandas
    here, Spark's aggregates of `persona_traits`' rows) computed it."""

    counts: pd.DataFrame
    """Customers per (`segment_id`, `trait`, `value`) of the `COUNTED_TRAITS`, only values someone has."""
    sums: pd.DataFrame
    """Per `segment_id` (the index): `<trait>_sum` and `<trait>_count` (customers with a value) of `SUMMED_TRAITS`."""
    medians: pd.Series
    """Per `segment_id` (the index): the median of `MEDIAN_TRAIT` over the customers with a value."""


def segment_personas(
    features: pd.DataFrame,
    segment_ids: pd.Series,
    profiles: pd.DataFrame,
    snapshot_date: date,
    rules: tuple[NextActionRule, ...],
) -> pd.DataFrame:
    """One row per segment of `profiles` (the published segment_profiles); `segment_ids` gives each customer's
    segment, aligned with `features` (its index)."""
    aggregates = persona_aggregates(persona_traits(features), segment_ids)
    return personas_from_aggregates(aggregates, profiles, snapshot_date, rules)


def persona_traits(features: pd.DataFrame) -> pd.DataFrame:
    """Each customer's `PERSONA_TRAITS` as the personas aggregate them (row by row, so any batch of customers gives
    its own rows: Spark's executors run it): counted traits as text, the others as floats, null where unknown."""
    usage = _flag(features, "has_usage") == 1.0
    counted = {trait: _as_text(_column(features, trait)) for trait in COUNTED_TRAITS}
    counted["most_active_hour"] = _as_text(_number(features, "most_active_hour").astype("Int64"))
    return pd.DataFrame(
        {
            **counted,
            "is_b2b": _flag(features, "is_b2b", missing=np.nan),
            "has_survey": _flag(features, "has_survey", missing=np.nan),
            "price_sensitivity": _number(features, "price_sensitivity"),
            "marketing_opt_in": _flag(features, "marketing_opt_in", missing=np.nan),
            "weekend_share": _number(features, "weekend_share").where(usage),
            "new_customer": _text(features, "lifecycle_stage").eq("new").astype("float64"),
            "orders": _number(features, "frequency").fillna(0.0),
            "spend": _number(features, "monetary").fillna(0.0),
            MEDIAN_TRAIT: _number(features, "mean_session_minutes").where(usage),
        },
        index=features.index,
    )


def persona_aggregates(traits: pd.DataFrame, segment_ids: pd.Series) -> PersonaAggregates:
    """`PersonaAggregates` of every customer's `persona_traits` (`segment_ids` aligned with them), by pandas."""
    group = pd.Series(segment_ids.astype("int64").to_numpy(), index=traits.index, name="segment_id")
    counts = [
        traits.groupby([group, traits[trait].rename("value")])
        .size()
        .rename("customers")
        .reset_index()
        .assign(trait=trait)
        for trait in COUNTED_TRAITS
    ]
    summed = traits[list(SUMMED_TRAITS)].groupby(group)
    sums = pd.concat([summed.sum().add_suffix("_sum"), summed.count().add_suffix("_count")], axis=1)
    return PersonaAggregates(
        counts=pd.concat(counts, ignore_index=True)[["segment_id", "trait", "value", "customers"]],
        sums=sums,
        medians=traits[MEDIAN_TRAIT].groupby(group).median(),
    )


def personas_from_aggregates(
    aggregates: PersonaAggregates, profiles: pd.DataFrame, snapshot_date: date, rules: tuple[NextActionRule, ...]
) -> pd.DataFrame:
    """`segment_personas` from the customers' `PersonaAggregates` and the published `profiles`."""
    counts, sums = aggregates.counts, aggregates.sums
    table = profiles[list(PROFILE_COLUMNS)].copy()
    by_segment = {
        "age_band_mix": _mix(counts, "age_band"),
        "median_age_band": _median_band(counts),
        "gender_mix": _mix(counts, "gender"),
        "top_countries": _mix(counts, "country", TOP_VALUES),
        "b2b_share": _mean(sums, "is_b2b"),
        "median_session_minutes": aggregates.medians.dropna().to_dict(),
        "top_features": _mix(counts, "top_feature", TOP_VALUES),
        "orders_per_customer": _mean(sums, "orders"),
        "avg_order_value": _ratio(sums, "spend", "orders"),
        "top_categories": _mix(counts, "top_category", TOP_VALUES),
        "nps_mix": _mix(counts, "nps_group"),
        "survey_share": _mean(sums, "has_survey"),
        "top_primary_needs": _mix(counts, "primary_need", TOP_VALUES),
        "mean_price_sensitivity": _mean(sums, "price_sensitivity"),
        "contact_channel_mix": _mix(counts, "preferred_contact_channel"),
        "marketing_opt_in_share": _mean(sums, "marketing_opt_in"),
        "weekend_share": _mean(sums, "weekend_share"),
        "most_active_hour": _most_common(counts, "most_active_hour", rank=int),
        "most_active_weekday": _most_common(counts, "most_active_weekday", rank=WEEKDAYS.index),
        "new_customer_share": _mean(sums, "new_customer"),
    }
    for column, values in by_segment.items():
        table[column] = table["segment_id"].map(values)
    table["most_active_hour"] = table["most_active_hour"].map(int, na_action="ignore").astype("Int64")
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


def _mix(counts: pd.DataFrame, trait: str, top: int | None = None) -> dict[int, str]:
    """Per segment, its values by share of the customers who have one ("a 52%, b 30%"; largest first, ties
    alphabetical), the first `top` only when given; segments where nobody has a value are left out (null)."""
    mixes = {}
    for segment_id, row in _trait_counts(counts, trait):
        shares = row.assign(share=row["customers"] / row["customers"].sum())
        shares = shares.sort_values(["share", "value"], ascending=[False, True]).head(top)
        pairs = zip(shares["value"], shares["share"], strict=True)
        mixes[segment_id] = ", ".join(f"{value} {_percent(share)}" for value, share in pairs)
    return mixes


def _most_common(counts: pd.DataFrame, trait: str, rank) -> dict[int, str]:
    """Per segment, the value most of its customers have (ties: the first in the order `rank` sorts by); segments
    where nobody has a value are left out (null)."""
    return {
        segment_id: min(zip(-row["customers"], row["value"].map(rank), row["value"], strict=True))[2]
        for segment_id, row in _trait_counts(counts, trait)
    }


def _trait_counts(counts: pd.DataFrame, trait: str):
    """(segment_id, its rows of `counts` for `trait`) for each segment where someone has a value."""
    rows = counts[(counts["trait"] == trait) & (counts["customers"] > 0)]
    return ((int(segment_id), row) for segment_id, row in rows.groupby("segment_id", sort=True))


def _largest(mix: str) -> tuple[str, str]:
    """The first value of a mix ("DE 40%, AT 20%") and its share."""
    value, share = mix.split(",")[0].rsplit(" ", 1)
    return value, share


def _median_band(counts: pd.DataFrame) -> dict[int, str]:
    """The age band of the segment's median customer among those with a band (bands are ordered; the lower of the
    two middle bands for an even count)."""
    medians = {}
    for segment_id, row in _trait_counts(counts[counts["value"].isin(AGE_BANDS)], "age_band"):
        row = row.assign(rank=row["value"].map(AGE_BANDS.index)).sort_values("rank")
        position = (int(row["customers"].sum()) - 1) // 2  # 0-based, the lower middle one
        medians[segment_id] = row["value"].iloc[int(np.searchsorted(row["customers"].cumsum(), position, "right"))]
    return medians


def _mean(sums: pd.DataFrame, trait: str) -> dict[int, float]:
    return _ratio(sums, trait, trait, f"{trait}_count")


def _ratio(sums: pd.DataFrame, numerator: str, denominator: str, denominator_column: str | None = None) -> dict:
    """Per segment, the sum of `numerator` over that of `denominator` (or `denominator_column`); left out (null)
    where that is not positive."""
    below = sums[denominator_column or f"{denominator}_sum"]
    return (sums[f"{numerator}_sum"] / below.where(below > 0)).dropna().to_dict()


def _column(features: pd.DataFrame, column: str) -> pd.Series:
    if column not in features.columns:
        return pd.Series(None, index=features.index, dtype="str")
    return features[column]


def _as_text(values: pd.Series) -> pd.Series:
    """`values` as text, nulls kept; each distinct value converted once."""
    if values.dtype == "str":
        return values
    codes, uniques = pd.factorize(values)
    text = pd.array([str(value) for value in uniques], dtype="str").take(codes, allow_fill=True)
    return pd.Series(text, index=values.index)


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
