"""The report as one self-contained HTML page for marketers.

Charts are embedded as data URIs and the CSS is inline, so the file opens offline and can be mailed around; every
value from the data is HTML-escaped, as segment names and descriptions can be edited by hand.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np
import pandas as pd

from segmentation_pipeline.core.publish.report.charts import (
    CHARTS,
    NO_PREVIOUS_SENTENCE,
    chart_captions,
    png_data_uri,
    report_charts,
    report_colours,
)
from segmentation_pipeline.core.publish.report.inputs import ReportInputs, customer_total, largest_first, priorities

TABLE_ROWS = [  # column, row label, value format
    ("description", "What sets it apart", "{}"),
    ("customers", "Customers", "{:,}"),
    ("share", "Share of customers", "{:.1%}"),
    ("revenue", "Revenue", "{:,.0f}"),
    ("revenue_share", "Share of revenue", "{:.1%}"),
    ("mean_recency_days", "Mean days since last order", "{:.0f}"),
    ("median_recency_days", "Median days since last order", "{:.0f}"),
    ("mean_frequency", "Mean orders", "{:.2f}"),
    ("median_frequency", "Median orders", "{:.1f}"),
    ("mean_monetary", "Mean spend", "{:,.2f}"),
    ("median_monetary", "Median spend", "{:,.2f}"),
    ("mean_sessions", "Mean sessions", "{:.1f}"),
    ("dominant_device", "Main device", "{}"),
    ("dominant_time_of_day", "Main time of day", "{}"),
    ("top_country", "Top country", "{}"),
    ("top_acquisition_channel", "Top acquisition channel", "{}"),
    ("promoter_share", "Promoters (NPS)", "{:.0%}"),
    ("passive_share", "Passives (NPS)", "{:.0%}"),
    ("detractor_share", "Detractors (NPS)", "{:.0%}"),
    ("mean_predicted_clv", "Mean predicted CLV", "{:,.2f}"),
    ("mean_p_alive", "Mean probability still active", "{:.0%}"),
    ("high_churn_risk_share", "High churn risk (of those with a prediction)", "{:.0%}"),
]
PERSONA_FIELDS = [  # group, rows of (column, label, value format)
    (
        "Who they are",
        [
            ("age_band_mix", "Age", "{}"),
            ("gender_mix", "Gender", "{}"),
            ("top_countries", "Countries", "{}"),
            ("b2b_share", "B2B", "{:.0%}"),
        ],
    ),
    (
        "How they use the product",
        [
            ("dominant_device", "Main device", "{}"),
            ("dominant_time_of_day", "Main time of day", "{}"),
            ("median_session_minutes", "Median session (min)", "{:.1f}"),
            ("top_features", "Top features", "{}"),
        ],
    ),
    (
        "What they buy",
        [
            ("orders_per_customer", "Orders per customer (year)", "{:.1f}"),
            ("avg_order_value", "Average order value", "{:,.2f}"),
            ("top_categories", "Top categories", "{}"),
        ],
    ),
    (
        "What they say",
        [
            ("nps_mix", "NPS", "{}"),
            ("top_primary_needs", "Primary needs", "{}"),
            ("mean_price_sensitivity", "Price sensitivity (1-5)", "{:.1f}"),
        ],
    ),
    (
        "How to reach them",
        [
            ("contact_channel_mix", "Preferred channel", "{}"),
            ("marketing_opt_in_share", "Marketing opt-in", "{:.0%}"),
            ("weekend_share", "Weekend share of activity", "{:.0%}"),
            ("most_active_weekday", "Most active weekday", "{}"),
            ("most_active_hour", "Most active hour", "{:02.0f}:00 UTC"),
        ],
    ),
    (
        "What they are worth",
        [
            ("revenue_share", "Share of revenue", "{:.1%}"),
            ("mean_predicted_clv", "Mean predicted CLV", "{:,.2f}"),
            ("high_churn_risk_share", "High churn risk", "{:.0%}"),
        ],
    ),
]
CSS = """body{font-family:Helvetica,Arial,sans-serif;color:#222;max-width:1200px;margin:0 auto;padding:0 24px 48px}
header{border-bottom:3px solid #1f77b4;padding:16px 0 8px}h1{margin:0 0 4px}header p{margin:0;color:#555}
section{margin-top:32px}h2{margin-bottom:4px}.caption{color:#555;margin:0 0 12px;max-width:900px}
img{max-width:100%;height:auto;border:1px solid #eee}.scroll{overflow-x:auto}.note{font-style:italic}
table{border-collapse:collapse;font-size:13px;margin-top:16px}th,td{border:1px solid #ddd;padding:4px 8px;
vertical-align:top;text-align:left;min-width:90px}tbody th{background:#fafafa;white-space:nowrap}
.swatch{display:inline-block;width:10px;height:10px;margin-right:6px;border-radius:2px}
.cards{display:flex;flex-wrap:wrap;gap:16px}.card{border:1px solid #ddd;border-top:6px solid;padding:8px 12px;
width:360px}.card h3{margin:4px 0}.card table{margin-top:8px;width:100%}.card td,.card th{min-width:0}
.action{background:#f3f8fc;padding:6px 8px;margin-top:8px}"""


def _format(value: object, fmt: str) -> str:
    """A dash for a missing value, so an empty cell never reads as zero."""
    return "–" if value is None or (np.ndim(value) == 0 and pd.isna(value)) else fmt.format(value)


def profiles_table(profiles: pd.DataFrame, colours: dict[int, str]) -> str:
    """Segments as columns, metrics as rows, every value HTML-escaped."""
    profiles = largest_first(profiles)
    head = "".join(
        f'<th scope="col"><span class="swatch" style="background:{colours[int(s)]}"></span>{html.escape(str(n))}</th>'
        for s, n in zip(profiles["segment_id"], profiles["segment_name"], strict=True)
    )
    body = "".join(
        f'<tr><th scope="row">{html.escape(label)}</th>'
        + "".join(f"<td>{html.escape(_format(v, fmt))}</td>" for v in profiles[column])
        + "</tr>"
        for column, label, fmt in TABLE_ROWS
    )
    return f'<div class="scroll"><table><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def persona_cards(personas: pd.DataFrame, colours: dict[int, str]) -> str:
    """A card per segment (largest first): the persona text, its figures by theme and the next action with why;
    a trait the data lacks shows as a dash."""
    cards = []
    for persona in largest_first(personas).to_dict("records"):
        rows = "".join(
            f'<tr><th scope="row">{html.escape(label)}</th><td>{html.escape(_format(persona[column], fmt))}</td></tr>'
            for _, fields in PERSONA_FIELDS
            for column, label, fmt in fields
        )
        colour, name = colours.get(int(persona["segment_id"]), "#999"), html.escape(str(persona["segment_name"]))
        summary = html.escape(persona["persona_summary"])
        action = html.escape(_format(persona["next_action"], "{}"))
        reason = html.escape(_format(persona["next_action_reason"], "{}"))
        cards.append(
            f'<div class="card persona" style="border-top-color:{colour}"><h3>{name}</h3><p>{summary}</p>'
            f'<div class="action"><b>Next action:</b> {action}<br><small>because {reason}</small></div>'
            f"<table>{rows}</table></div>"
        )
    return f'<div class="cards">{"".join(cards)}</div>'


def priority_table(inputs: ReportInputs) -> str:
    """The segments by priority score (`priorities`), highest first."""
    since = "(no snapshot 28-31 days earlier)" if inputs.month_ago is None else f"since {inputs.month_ago[0]}"
    columns = [
        ("segment_name", "Segment", "{}"),
        ("score", "Priority score", "{:.3f}"),
        ("customers", "Customers", "{:,}"),
        ("revenue_share", "Share of revenue", "{:.1%}"),
        ("growth", f"Growth {since}", ""),
        ("high_churn_risk_share", "High churn risk", "{:.0%}"),
    ]
    table = priorities(inputs)
    head = "".join(f'<th scope="col">{html.escape(label)}</th>' for _, label, _ in columns)
    body = "".join(
        '<tr class="priority">'
        + "".join(
            f"<td>{html.escape(_growth(row[column]) if column == 'growth' else _format(row[column], fmt))}</td>"
            for column, _, fmt in columns
        )
        + "</tr>"
        for row in table.to_dict("records")
    )
    caption = (
        '<p class="caption">Priority score = share of revenue × (1 + share at high churn risk) + share of customers × '
        "growth in customers since the published snapshot 28-31 days earlier (losses count 0; a missing figure counts "
        "0); ties by name. Money comes first, money at risk weighs more, and fast-growing segments move up.</p>"
    )
    return f"{caption}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _growth(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:+.0%}"


def _model_version(profiles: pd.DataFrame) -> str:
    return ", ".join(sorted(map(str, profiles["model_version"].dropna().unique()))) or "unknown"


def _value_section(card: dict, charts: dict[str, bytes], figure: Callable[..., str]) -> str:
    """What the value model predicts, and how it did on its holdout period; a note instead when no model scored the
    snapshot."""
    if not card.get("fitted"):
        reason = html.escape(card.get("reason", "unknown"))
        return f'<p class="note">No value model scored this snapshot ({reason}), so it has no predictions.</p>'
    intro = (
        '<p class="caption">Predictions come from a purchase model (BG/NBD) and a spend model (Gamma-Gamma) fitted on '
        f"the snapshot of {html.escape(card['fitted_on'])}, on {card['customers']:,} customers with a purchase "
        f"({card['repeat_buyers']:,} of them bought again), and applied to this snapshot's customers.</p>"
    )
    holdout = (
        figure("holdout", heading=True)
        if "holdout" in charts
        else f'<p class="note">No holdout check: {html.escape(card["holdout"].get("skipped", "unknown"))}.</p>'
    )
    return intro + figure("predicted_value", heading=True) + figure("churn_risk", heading=True) + holdout


def render_report(inputs: ReportInputs) -> str:
    """The whole report as one HTML page: inline CSS, charts as data URIs, no script and nothing fetched."""
    charts, captions = report_charts(inputs), chart_captions(inputs)

    def figure(name: str, heading: bool = False) -> str:
        title, caption = html.escape(CHARTS[name].title), html.escape(captions[name])
        head = f"<h3>{title}</h3>" if heading else ""
        return f'{head}<p class="caption">{caption}</p><img src="{png_data_uri(charts[name])}" alt="{title}">'

    if inputs.previous_snapshot_date is None:
        migration = f'<p class="note">{html.escape(NO_PREVIOUS_SENTENCE)}</p>'
    else:
        shown = [n for n in ("migration_behavioural", "migration_rfm") if n in charts]
        migration = (
            "".join(figure(name, heading=True) for name in shown)
            or '<p class="note">No segment transitions were recorded.</p>'
        )
    day, version = html.escape(str(inputs.snapshot_date)), html.escape(_model_version(inputs.profiles))
    sections = [
        ("Segment sizes and revenue", figure("sizes")),
        ("RFM grid", figure("rfm_grid")),
        ("Segment profiles", figure("profiles") + profiles_table(inputs.profiles, report_colours(inputs))),
        *(
            [
                ("Segment personas", persona_cards(inputs.personas, report_colours(inputs))),
                ("Priorities", priority_table(inputs)),
            ]
            if inputs.personas is not None
            else []
        ),
        *([("Segment overlap", figure("overlap"))] if "overlap" in charts else []),
        ("Predicted customer value", _value_section(inputs.value_card, charts, figure)),
        ("Where the segments sit", figure("projection")),
        ("Migration since the previous snapshot", migration),
    ]
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Customer segments {day}</title>'
        f"<style>{CSS}</style></head><body><header><h1>Customer segments</h1><p>Snapshot {day} · model {version} · "
        f"{customer_total(inputs.customers):,} customers in {len(inputs.profiles)} behavioural segments</p></header>"
        "<section><h2>How to read this report</h2><p>Customers are grouped two ways. <b>Behavioural segments</b> come "
        "from a model that groups customers with similar buying and browsing habits; each has one colour throughout "
        "the report. <b>RFM segments</b> come from scores of 1 (lowest) to 5 (highest) for how recently (R) and how "
        "often (F) a customer bought and how much they spent (M). <b>Predicted value</b> looks ahead: how likely a "
        "customer is still active, and what they are expected to spend. Shares are of all customers in the snapshot "
        "unless a caption says otherwise.</p></section>"
        + "".join(f"<section><h2>{html.escape(title)}</h2>{body}</section>" for title, body in sections)
        + "</body></html>\n"
    )
