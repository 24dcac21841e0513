"""Segment personas: exact mixes from hand-built customers, the next-action table and its override file, and text
that never mentions a trait the data does not show."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.core.publish.next_actions import (
    DEFAULT_NEXT_ACTIONS,
    load_next_actions,
    next_action,
    parse_rule,
)
from segmentation_pipeline.core.publish.personas import segment_personas
from segmentation_pipeline.core.publish.schemas import to_arrow
from segmentation_pipeline.core.publish.settings import PublishSettings
from segmentation_pipeline.core.segment.rules import RuleError
from segmentation_pipeline.core.storage.layout import DataLayout

DAY = date(2026, 11, 22)


def features() -> pd.DataFrame:
    """Five customers of segment 1, three of segment 2 (who never answered a survey nor used the product)."""
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(8)],
            "age_band": ["25-34", "25-34", "35-44", "16-24", None, "55-64", "65+", "65+"],
            "gender": ["f", "f", "m", "f", "m", None, None, None],
            "country": ["DE", "DE", "FR", "NL", "AT", "FR", "FR", "DE"],
            "is_b2b": [True, False, False, False, False, False, True, True],
            "has_usage": [True, True, True, True, False, False, False, False],
            "mean_session_minutes": [2.0, 4.0, 6.0, 8.0, None, None, None, None],
            "top_feature": ["search", "search", "cart", "wishlist", None, None, None, None],
            "weekend_share": [0.5, 0.0, 1.0, 0.5, None, None, None, None],
            "most_active_hour": pd.array([20, 20, 9, 21, None, None, None, None], dtype="Int64"),
            "most_active_weekday": ["Saturday", "Tuesday", "Saturday", "Tuesday", None, None, None, None],
            "top_category": ["books", "toys", None, "books", "toys", None, None, None],
            "frequency": [4, 2, 0, 1, 3, 0, 0, 0],
            "monetary": [100.0, 50.0, 0.0, 30.0, 120.0, 0.0, 0.0, 0.0],
            "has_survey": [True, True, True, False, False, False, False, False],
            "nps_group": ["promoter", "promoter", "detractor", None, None, None, None, None],
            "primary_need": ["price", "speed", "price", None, None, None, None, None],
            "price_sensitivity": pd.array([4, 2, 3, None, None, None, None, None], dtype="Int64"),
            "preferred_contact_channel": ["email", "sms", "email", None, None, None, None, None],
            "marketing_opt_in": pd.array([True, True, False, None, True, False, False, True], dtype="boolean"),
            "lifecycle_stage": ["active", "new", "never purchased", "new", "at risk"] + ["never purchased"] * 3,
        }
    )


SEGMENT_IDS = pd.Series([1, 1, 1, 1, 1, 2, 2, 2])


def profiles(churn: list) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment_id": [2, 1],
            "segment_name": ["Sleepers", "Browsers"],
            "customers": [3, 5],
            "share": [0.375, 0.625],
            "revenue_share": [0.0, 1.0],
            "dominant_device": [None, "mobile"],
            "dominant_time_of_day": [None, "evening"],
            "promoter_share": [None, 2 / 3],
            "detractor_share": [None, 1 / 3],
            "mean_predicted_clv": [None if c is None else 10.0 for c in churn],
            "high_churn_risk_share": churn,
        }
    )


def personas(frame=None, churn=(None, 0.4), rules=DEFAULT_NEXT_ACTIONS) -> pd.DataFrame:
    frame = features() if frame is None else frame
    return segment_personas(frame, SEGMENT_IDS, profiles(list(churn)), DAY, rules).set_index("segment_id")


def test_mixes_shares_and_medians_are_exact():
    table = personas()
    one, two = table.loc[1], table.loc[2]
    assert one["age_band_mix"] == "25-34 50%, 16-24 25%, 35-44 25%"  # c4 has no band: not counted
    assert one["median_age_band"] == "25-34" and two["median_age_band"] == "65+"
    assert one["gender_mix"] == "f 60%, m 40%" and pd.isna(two["gender_mix"])
    assert one["top_countries"] == "DE 40%, AT 20%, FR 20%"  # top three, ties alphabetical
    assert one["b2b_share"] == 0.2 and two["b2b_share"] == pytest.approx(2 / 3)
    assert one["median_session_minutes"] == 5.0 and pd.isna(two["median_session_minutes"])
    assert one["top_features"] == "search 50%, cart 25%, wishlist 25%"
    assert one["orders_per_customer"] == 2.0 and one["avg_order_value"] == 30.0
    assert two["orders_per_customer"] == 0.0 and pd.isna(two["avg_order_value"])
    assert one["nps_mix"] == "promoter 67%, detractor 33%" and one["survey_share"] == 0.6
    assert one["top_primary_needs"] == "price 67%, speed 33%" and one["mean_price_sensitivity"] == 3.0
    assert one["contact_channel_mix"] == "email 67%, sms 33%"
    assert one["marketing_opt_in_share"] == 0.75 and two["marketing_opt_in_share"] == pytest.approx(1 / 3)
    assert one["weekend_share"] == 0.5 and one["new_customer_share"] == 0.4
    assert one["top_categories"] == "books 50%, toys 50%"  # buyers' top categories, ties alphabetical
    assert one["most_active_hour"] == 20
    assert one["most_active_weekday"] == "Tuesday"  # a tie: the earlier in the week, not alphabetical
    for column in ("top_categories", "most_active_hour", "most_active_weekday"):
        assert pd.isna(two[column]), column
    assert list(table.index) == [1, 2] and (table["snapshot_date"] == DAY).all()
    to_arrow(table.reset_index()[[*table.columns[:1], "segment_id", *table.columns[1:]]], "segment_personas")


def test_first_matching_rule_wins_and_the_reason_names_its_figures():
    table = personas(churn=(None, 0.42))
    assert table.loc[1, "next_action"] == "win-back offer"
    assert table.loc[1, "next_action_reason"] == "revenue share 100% ≥ 20% and high churn risk share 42% ≥ 30%"
    # segment 2: no churn figure (null never matches), no new customers, opt-in 33% < 40%
    assert table.loc[2, "next_action"] == "grow opt-in on owned channels"
    assert table.loc[2, "next_action_reason"] == "marketing opt-in share 33% < 40%"
    assert personas(churn=(None, 0.1)).loc[1, "next_action"] == "loyalty / VIP programme"


def test_a_reason_never_shows_a_comparison_that_reads_wrong():
    rules = (parse_rule("raise opt-in", "marketing_opt_in_share < 20%"),)
    assert next_action(rules, {"marketing_opt_in_share": 0.196}) == (
        "raise opt-in",
        "marketing opt-in share 19.6% < 20.0%",
    )
    assert next_action(rules, {"marketing_opt_in_share": 0.3}) == (None, None)
    fallback = (parse_rule("newsletter", "always"),)
    assert next_action(fallback, {}) == ("newsletter", "no rule above it matched")
    cheap = (parse_rule("bundle", "avg_order_value < 25"),)
    assert next_action(cheap, {"avg_order_value": 7.5}) == ("bundle", "average order value 7.5 < 25")


def test_the_override_file_replaces_the_default_table(tmp_path):
    layout = DataLayout(tmp_path)
    layout.config.mkdir()
    (layout.config / "next_actions.yaml").write_text(
        "next_actions:\n  - action: call them\n    when: b2b_share >= 50%\n  - action: wait\n    when: always\n"
    )
    rules = PublishSettings().next_actions(layout)
    table = personas(rules=rules)
    assert table["next_action"].tolist() == ["wait", "call them"]
    assert table.loc[2, "next_action_reason"] == "B2B share 67% ≥ 50%"
    assert PublishSettings().next_actions(DataLayout(tmp_path / "elsewhere")) == DEFAULT_NEXT_ACTIONS


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            "  - action: VIP\n    when: revenu_share >= 0.2\n",
            "rule 2 ('VIP' when 'revenu_share >= 0.2'): unknown figure 'revenu_share' (did you mean 'revenue_share'?",
        ),
        (
            "  - action: VIP\n    when: revenue_share is big\n",
            "rule 2 ('VIP' when 'revenue_share is big'): cannot read",
        ),
        ("  - action: ''\n    when: always\n", "rule 2 ('' when 'always'): 'action' must be non-empty text"),
        ("  - action: VIP\n    whenn: always\n", "rule 2 ('VIP' when None): unknown key 'whenn'"),
    ],
)
def test_a_bad_override_is_one_line_naming_the_file_the_rule_and_the_problem(tmp_path, rules, message):
    path = tmp_path / "next_actions.yaml"
    path.write_text("next_actions:\n  - action: fine\n    when: always\n" + rules)
    with pytest.raises(RuleError) as raised:
        load_next_actions(path)
    assert str(raised.value).startswith(f"{path}: {message}")
    assert "\n" not in str(raised.value)


def test_persona_text_is_deterministic_and_built_from_the_figures():
    first, again = personas(), personas()
    assert first["persona_summary"].tolist() == again["persona_summary"].tolist()
    assert first.loc[1, "persona_summary"] == (
        "5 customers (62% of all), typically aged 25-34, largest country DE (40%), mostly on mobile in the evening. "
        "They place 2.0 orders a year on average at 30 per order, 100% of revenue, most often in books; 40% of buyers "
        "are at high churn risk; 75% opted in to marketing; they are most active on Tuesdays around 20:00 UTC."
    )
    assert first.loc[2, "persona_summary"] == (
        "3 customers (38% of all), typically aged 65+, largest country FR (67%). "
        "They have not bought in the last year; 33% opted in to marketing."
    )


def test_no_trait_is_invented_when_a_column_is_missing_or_all_null():
    frame = features().drop(columns=["age_band", "country", "gender", "top_category", "most_active_hour"])
    frame["marketing_opt_in"] = pd.array([None] * 8, dtype="boolean")
    frame[["nps_group", "primary_need", "preferred_contact_channel"]] = None
    frame["price_sensitivity"] = np.nan
    table = personas(frame)
    for column in (
        "age_band_mix",
        "median_age_band",
        "gender_mix",
        "top_countries",
        "marketing_opt_in_share",
        "nps_mix",
        "top_primary_needs",
        "mean_price_sensitivity",
        "contact_channel_mix",
        "top_categories",
        "most_active_hour",
    ):
        assert table[column].isna().all(), column
    text = " ".join(table["persona_summary"])
    assert "aged" not in text and "country" not in text and "opted in" not in text
    assert "most often" not in text and "most active on" not in text
    assert table.loc[2, "next_action"] == "regular newsletter"  # opt-in unknown: its rule cannot fire
