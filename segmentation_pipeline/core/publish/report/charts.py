"""The report's charts as PNG bytes, with the title and caption each is shown with.

Charts are drawn on matplotlib's Agg canvas (no pyplot, so no global figure state). Rendering is deterministic (fixed
sizes, matplotlib's default style plus ours whatever the local matplotlibrc says, no timestamp or software tag in the
PNGs), so the same inputs give the same bytes.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterable
from typing import NamedTuple

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from segmentation_pipeline.core.publish.report.inputs import (
    NO_PREDICTION,
    ReportInputs,
    churn_risk_mix,
    customer_total,
    customers_without_a_prediction,
    customers_without_a_score,
    holdout_by_frequency,
    largest_first,
    migration_matrix,
    overlap_matrix,
    predicted_value_by_segment,
    rfm_grid_counts,
)
from segmentation_pipeline.core.publish.transitions import GONE, NEW

NO_PREVIOUS_SENTENCE = "This is the first snapshot, so there is no earlier one to show migration from."
STYLE = {
    "font.family": "DejaVu Sans",  # ships with matplotlib: the same glyphs on every machine
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titleweight": "bold",
    "text.parse_math": False,  # a "$" in a segment name is text, not mathtext
    "svg.hashsalt": "segment-report",
    "figure.facecolor": "white",
}
FULL_DPI, COMPACT_DPI, COMPACT_SIZE = 100, 80, (6.0, 3.5)
"""Compact charts go into Dagster metadata, which is stored in its event log: keep them small."""

Drawing = Callable[[Figure, ReportInputs, dict[int, str], bool], None]
"""Draws one chart on an empty figure from the inputs, the segment colours and whether it is compact."""


def segment_colours(segment_ids: Iterable[int]) -> dict[int, str]:
    """One colour per segment: picked by id, so a segment keeps its colour across snapshots while ids are stable
    (by rank instead when two of these ids would share one)."""
    ids = sorted({int(segment_id) for segment_id in segment_ids})
    palette = matplotlib.colormaps["tab10" if len(ids) <= 10 else "tab20"].colors
    by_id = len({segment_id % len(palette) for segment_id in ids}) == len(ids)
    return {s: matplotlib.colors.to_hex(palette[(s if by_id else rank) % len(palette)]) for rank, s in enumerate(ids)}


def report_colours(inputs: ReportInputs) -> dict[int, str]:
    """The colour of every segment the report shows, profiled or only projected, the same in charts and table."""
    return segment_colours(list(inputs.profiles["segment_id"]) + list(inputs.projection["segment_id"]))


def _names(inputs: ReportInputs) -> dict[int, str]:
    names = {
        int(s): str(n) for s, n in zip(inputs.profiles["segment_id"], inputs.profiles["segment_name"], strict=True)
    }
    return names | {int(s): f"segment {s}" for s in inputs.projection["segment_id"].unique() if int(s) not in names}


def _draw_sizes(fig: Figure, inputs: ReportInputs, colours: dict[int, str], compact: bool) -> None:
    profiles = largest_first(inputs.profiles)
    ax, y, height = fig.subplots(), np.arange(len(profiles)), 0.4
    bar_colours = [colours[int(s)] for s in profiles["segment_id"]]
    for offset, column, alpha, hatch in ((-height / 2, "share", 1.0, None), (height / 2, "revenue_share", 0.55, "///")):
        values = profiles[column].to_numpy(dtype=float) * 100
        bars = ax.barh(y + offset, values, height, color=bar_colours, edgecolor="white", alpha=alpha, hatch=hatch)
        ax.bar_label(bars, fmt="%.1f%%", padding=3, fontsize=7 if compact else 9)
    ax.set_yticks(y, profiles["segment_name"].astype(str))
    ax.invert_yaxis()
    ax.set_xlim(0, max(1.0, float(profiles[["share", "revenue_share"]].max().max()) * 100) * 1.18)
    ax.set_xlabel("Share of all customers / of all revenue (%)")
    ax.set_title("Segment sizes and revenue shares")
    legend = [
        Patch(color="dimgrey", label="customers"),
        Patch(color="dimgrey", alpha=0.55, hatch="///", label="revenue"),
    ]
    ax.legend(handles=legend, loc="lower right", frameon=False)


def _annotated_heatmap(ax, values: np.ndarray, cmap: str, labels: list[list[str]], vmax: float):
    """Cells coloured by value (grey where there is none) with their label written in."""
    colours = matplotlib.colormaps[cmap].with_extremes(bad="#f2f2f2")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=colours, vmin=0, vmax=vmax, aspect="auto")
    for (row, column), value in np.ndenumerate(values):
        colour = "white" if np.isfinite(value) and value > 0.6 * vmax else "black"
        ax.text(column, row, labels[row][column], ha="center", va="center", color=colour, fontsize=9)
    ax.spines[:].set_visible(False)
    return image


def _draw_rfm_grid(fig: Figure, inputs: ReportInputs, colours: dict[int, str], compact: bool) -> None:
    grid = rfm_grid_counts(inputs.customers)
    ax, values = fig.subplots(), grid.to_numpy(dtype=float)
    labels = [[f"{int(v):,}" for v in row] for row in values]
    image = _annotated_heatmap(ax, values, "Blues", labels, max(1.0, values.max()))
    ax.set_xticks(range(len(grid.columns)), [str(c) for c in grid.columns])
    ax.set_yticks(range(len(grid.index)), [str(r) for r in grid.index])
    ax.set_xlabel("F score (5 = buys most often)" if compact else "F score: how often they buy (5 = most often)")
    ax.set_ylabel("R score (5 = bought last)" if compact else "R score: how recently they bought (5 = most recently)")
    ax.set_title("Customers by R and F score")
    fig.colorbar(image, ax=ax, label="customers")


PROFILE_METRICS = [  # column, title, compact title, value format
    ("mean_monetary", "Mean spend per customer", "Mean spend", "{:,.0f}"),
    ("mean_frequency", "Mean orders per customer", "Mean orders", "{:.1f}"),
    ("median_recency_days", "Median days since last order", "Median recency (d)", "{:.0f}"),
    ("mean_sessions", "Mean sessions", "Mean sessions", "{:.1f}"),
    ("promoter_share", "Promoters (of survey answers)", "Promoters", "{:.0%}"),
    ("detractor_share", "Detractors (of survey answers)", "Detractors", "{:.0%}"),
]


def _draw_profiles(fig: Figure, inputs: ReportInputs, colours: dict[int, str], compact: bool) -> None:
    profiles = largest_first(inputs.profiles)
    axes = fig.subplots(2, 3, sharey=True).ravel()
    y = np.arange(len(profiles))
    for ax, (column, title, short_title, fmt) in zip(axes, PROFILE_METRICS, strict=True):
        values = pd.to_numeric(profiles[column], errors="coerce").to_numpy(dtype=float)
        bars = ax.barh(y, np.nan_to_num(values), color=[colours[int(s)] for s in profiles["segment_id"]])
        labels = [fmt.format(v) if np.isfinite(v) else "n/a" for v in values]
        ax.bar_label(bars, labels=labels, padding=2, fontsize=7 if compact else 8)
        ax.set_xlim(0, max(np.nanmax(values, initial=0), 1e-9) * 1.3)
        ax.set_title(short_title if compact else title, fontsize=9 if compact else 11)
        ax.set_xticks([])
    axes[0].set_yticks(y, profiles["segment_name"].astype(str))
    axes[0].invert_yaxis()


def _draw_projection(fig: Figure, inputs: ReportInputs, colours: dict[int, str], compact: bool) -> None:
    ax, names, points = fig.subplots(), _names(inputs), inputs.projection
    order = list(largest_first(inputs.profiles)["segment_id"].astype(int))
    order += sorted(int(s) for s in points["segment_id"].unique() if int(s) not in order)
    for segment_id in order:
        mine = points[points["segment_id"] == segment_id]
        size = 4 if compact else 7
        ax.scatter(
            mine["x"], mine["y"], s=size, alpha=0.6, linewidths=0, color=colours[segment_id], label=names[segment_id]
        )
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, markerscale=3, fontsize=8 if compact else 10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("first projection axis (no unit)")
    ax.set_ylabel("second projection axis (no unit)")
    ax.set_title("Customers on a 2-D map, coloured by segment")


def _draw_migration(segment_type: str) -> Drawing:
    def draw(fig: Figure, inputs: ReportInputs, colours: dict[int, str], compact: bool) -> None:
        matrix = migration_matrix(inputs, segment_type)
        ax, values = fig.subplots(), matrix.to_numpy(dtype=float)
        labels = [["" if not np.isfinite(v) else "<1%" if v < 0.005 else f"{v:.0%}" for v in row] for row in values]
        image = _annotated_heatmap(ax, values, "Purples", labels, 1.0)
        ax.set_xticks(range(len(matrix.columns)), matrix.columns, rotation=35, ha="right")
        ax.set_yticks(range(len(matrix.index)), matrix.index)
        ax.set_xlabel(f"segment on {inputs.snapshot_date}")
        ax.set_ylabel(f"segment on {inputs.previous_snapshot_date}")
        ax.set_title(f"Where each {'RFM' if segment_type == 'rfm' else 'behavioural'} segment's customers went")
        fig.colorbar(image, ax=ax, label="share of the row's customers", format=lambda v, _: f"{v:.0%}")

    return draw


def _draw_overlap(fig: Figure, inputs: ReportInputs, colours: dict[int, str], compact: bool) -> None:
    matrix = overlap_matrix(inputs.overlap)
    ax, values = fig.subplots(), matrix.to_numpy(dtype=float)
    labels = [["" if not np.isfinite(v) else "<1%" if 0 < v < 0.005 else f"{v:.0%}" for v in row] for row in values]
    image = _annotated_heatmap(ax, values, "Greens", labels, 1.0)
    ax.set_xticks(range(len(matrix.columns)), matrix.columns, rotation=45, ha="right")
    ax.set_yticks(range(len(matrix.index)), matrix.index)
    ax.set_xlabel("segment b")
    ax.set_ylabel("segment a")
    ax.set_title("Share of each row's customers who are also in the column's segment")
    fig.colorbar(image, ax=ax, label="share of segment a", format=lambda v, _: f"{v:.0%}")


def _draw_predicted_value(fig: Figure, inputs: ReportInputs, colours: dict[int, str], compact: bool) -> None:
    value = predicted_value_by_segment(inputs)
    bar_colours = [colours[int(s)] for s in value["segment_id"]]
    mean_ax, share_ax = fig.subplots(1, 2, sharey=True)
    y, height, fontsize = np.arange(len(value)), 0.4, 7 if compact else 9
    bars = mean_ax.barh(y, np.nan_to_num(value["mean_predicted_clv"]), color=bar_colours)
    labels = [f"{v:,.0f}" if np.isfinite(v) else "n/a" for v in value["mean_predicted_clv"]]
    mean_ax.bar_label(bars, labels=labels, padding=3, fontsize=fontsize)
    mean_ax.set_xlim(0, max(np.nanmax(value["mean_predicted_clv"], initial=0), 1e-9) * 1.25)
    mean_ax.set_xlabel("Mean predicted CLV per customer with a purchase")
    mean_ax.set_title("Predicted value per customer")
    for offset, column, alpha, hatch in (
        (-height / 2, "clv_share", 1.0, None),
        (height / 2, "revenue_share", 0.55, "///"),
    ):
        values = value[column].to_numpy(dtype=float) * 100
        bars = share_ax.barh(y + offset, values, height, color=bar_colours, edgecolor="white", alpha=alpha, hatch=hatch)
        share_ax.bar_label(bars, fmt="%.1f%%", padding=3, fontsize=fontsize)
    share_ax.set_xlim(0, max(1.0, float(np.nanmax(value[["clv_share", "revenue_share"]].to_numpy())) * 100) * 1.22)
    share_ax.set_xlabel("Share of all predicted CLV / of all revenue (%)")
    share_ax.set_title("Where the future value is")
    legend = [
        Patch(color="dimgrey", label="predicted CLV"),
        Patch(color="dimgrey", alpha=0.55, hatch="///", label="revenue so far"),
    ]
    share_ax.legend(handles=legend, loc="lower right", frameon=False)
    mean_ax.set_yticks(y, value["segment_name"])
    mean_ax.invert_yaxis()


CHURN_COLOURS = {"low": "#2ca02c", "medium": "#ff7f0e", "high": "#d62728", NO_PREDICTION: "#d9d9d9"}


def _draw_churn_risk(fig: Figure, inputs: ReportInputs, colours: dict[int, str], compact: bool) -> None:
    mix = churn_risk_mix(inputs)
    ax, y, left = fig.subplots(), np.arange(len(mix)), np.zeros(len(mix))
    for level, colour in CHURN_COLOURS.items():
        shares = mix[level].to_numpy(dtype=float) * 100
        bars = ax.barh(
            y,
            shares,
            left=left,
            color=colour,
            edgecolor="white",
            label=level if level == NO_PREDICTION else f"{level} churn risk",
        )
        labels = [f"{share:.0f}%" if share >= 6 else "" for share in shares]
        ax.bar_label(bars, labels=labels, label_type="center", fontsize=7 if compact else 9)
        left += shares
    ax.set_yticks(y, mix.index)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("Share of the row's customers (%)")
    ax.set_title("Churn risk by segment")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)


def _draw_holdout(fig: Figure, inputs: ReportInputs, colours: dict[int, str], compact: bool) -> None:
    groups = holdout_by_frequency(inputs.value_card)
    ax, x = fig.subplots(), np.arange(len(groups))
    ax.plot(x, groups["actual_mean"], marker="o", color="#1f77b4", label="actual")
    ax.plot(x, groups["predicted_mean"], marker="s", linestyle="--", color="#ff7f0e", label="predicted")
    ax.set_xticks(
        x,
        [
            f"{group}\n({customers:,})"
            for group, customers in zip(groups["repeat_purchases"], groups["customers"], strict=True)
        ],
    )
    ax.set_xlabel("Repeat purchases before the holdout period (customers)")
    ax.set_ylabel("Mean purchase days in the holdout period")
    ax.set_ylim(bottom=0)
    ax.set_title("Holdout check: predicted against actual purchases")
    ax.legend(loc="upper left", frameon=False)


class Chart(NamedTuple):
    title: str
    draw: Drawing
    size: tuple[float, float]
    """Full-size figure in inches."""


CHARTS = {
    "sizes": Chart("Segment sizes and revenue shares", _draw_sizes, (10.0, 5.5)),
    "rfm_grid": Chart("RFM grid", _draw_rfm_grid, (8.0, 5.5)),
    "profiles": Chart("Segment profiles side by side", _draw_profiles, (12.0, 6.5)),
    "overlap": Chart("Segment overlap", _draw_overlap, (14.0, 11.0)),
    "projection": Chart("Customers on a 2-D map", _draw_projection, (11.0, 7.0)),
    "predicted_value": Chart("Predicted customer value by segment", _draw_predicted_value, (12.0, 5.5)),
    "churn_risk": Chart("Churn-risk mix", _draw_churn_risk, (11.0, 5.0)),
    "holdout": Chart("Holdout validation", _draw_holdout, (9.0, 5.0)),
    "migration_behavioural": Chart("Behavioural segment migration", _draw_migration("behavioural"), (11.0, 7.5)),
    "migration_rfm": Chart("RFM segment migration", _draw_migration("rfm"), (11.0, 7.5)),
}


def available_charts(inputs: ReportInputs) -> list[str]:
    """Chart names the inputs allow: the value charts only with a value model (the holdout chart only with its
    check), migration only with a previous snapshot and transitions of that type."""
    types = set() if inputs.transitions is None else set(inputs.transitions["segment_type"])
    has_previous = inputs.previous_snapshot_date is not None
    has_value_model = bool(inputs.value_card.get("fitted"))
    allowed = {
        "predicted_value": has_value_model,
        "churn_risk": has_value_model,
        "holdout": has_value_model and holdout_by_frequency(inputs.value_card) is not None,
        "migration_behavioural": has_previous and "behavioural" in types,
        "migration_rfm": has_previous and "rfm" in types,
        "overlap": inputs.overlap is not None and len(inputs.overlap) > 0,
    }
    return [name for name in CHARTS if allowed.get(name, True)]


def report_charts(
    inputs: ReportInputs, names: Iterable[str] | None = None, *, compact: bool = False
) -> dict[str, bytes]:
    """PNG bytes per chart name (all available charts by default; requested but unavailable ones are left out).
    `compact` draws them at COMPACT_SIZE and COMPACT_DPI, for Dagster metadata."""
    names = list(CHARTS if names is None else names)
    if unknown := sorted(set(names) - set(CHARTS)):
        raise ValueError(f"unknown report charts {unknown}; known: {list(CHARTS)}")
    colours = report_colours(inputs)
    with matplotlib.rc_context():
        matplotlib.rcdefaults()  # ignore any local matplotlibrc: same inputs, same bytes
        matplotlib.rcParams.update(STYLE | {"font.size": 8 if compact else 10})
        available = available_charts(inputs)
        return {name: _png(CHARTS[name], inputs, colours, compact) for name in names if name in available}


def _png(chart: Chart, inputs: ReportInputs, colours: dict[int, str], compact: bool) -> bytes:
    """One chart on a fresh figure of its own, so no state leaks from one chart into the next."""
    fig = Figure(figsize=COMPACT_SIZE if compact else chart.size, dpi=COMPACT_DPI if compact else FULL_DPI)
    fig.set_layout_engine("constrained")
    FigureCanvasAgg(fig)
    chart.draw(fig, inputs, colours, compact)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def png_data_uri(png: bytes) -> str:
    """A PNG inline, so the page or the Markdown needs no file beside it."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def chart_captions(inputs: ReportInputs) -> dict[str, str]:
    """How to read each chart, in words a marketer uses, with the numbers it depends on."""
    total, no_score = customer_total(inputs.customers), customers_without_a_score(inputs.customers)
    migration = (
        f"Each row is a segment on {inputs.previous_snapshot_date}; a cell is the share of that row's customers who "
        f"are in the column's segment on {inputs.snapshot_date}; the {NEW} row holds those who were not customers "
        f"then, the {GONE} column those who are not customers now."
    )
    return {
        "sizes": f"Solid bars: each segment's share of the snapshot's {total:,} customers; hatched "
        "bars: its share of revenue, so a longer hatched bar means customers worth more than average.",
        "rfm_grid": "Customers with a completed order by R score (rows) and F score (columns), the best at the top "
        f"right; {no_score:,} customers without a purchase are not in the grid.",
        "profiles": "Key metrics per segment in the segment colours; the table below lists every metric.",
        "projection": f"Each dot is one of a sample of {len(inputs.projection):,} customers, placed so that customers "
        "with similar behaviour sit close together; the axes have no unit.",
        "overlap": "Rows and columns are every segment with customers: behavioural, RFM and rule or manual; a cell "
        "is the share of the row segment's customers who are also in the column segment (the diagonal is empty). "
        "Segments of one family other than rule segments never share customers.",
        **_value_captions(inputs),
        "migration_behavioural": migration,
        "migration_rfm": migration,
    }


def _value_captions(inputs: ReportInputs) -> dict[str, str]:
    card = inputs.value_card
    if not card.get("fitted"):
        return {}
    settings, holdout = card["settings"], card["holdout"]
    no_prediction = customers_without_a_prediction(inputs.customers)
    captions = {
        "predicted_value": f"Left: mean predicted CLV (expected spend over the next {settings['horizon_days']} days, "
        f"discounted at {settings['annual_discount_rate']:.0%} a year) per customer with a purchase; right: each "
        "segment's share of all predicted CLV (solid) beside its share of revenue so far (hatched). "
        f"{no_prediction:,} customers without a purchase have no prediction.",
        "churn_risk": f"Churn risk from the probability that a customer is still active: high below "
        f"{settings['churn_high_below']:.0%}, medium below {settings['churn_medium_below']:.0%}, low otherwise. "
        "Customers who bought once count as active (the model lets customers drop out only after a repeat purchase).",
    }
    if "by_frequency" in holdout:
        error = holdout["relative_error"]
        verdict = "more than" if holdout["exceeds_threshold"] else "within"
        captions["holdout"] = (
            f"The model refitted on purchases up to {holdout['cutoff']} predicted each customer's purchase days from "
            f"then to {holdout['end']}: {holdout['predicted_purchases']:,.0f} in total against "
            f"{holdout['actual_purchases']:,} actual"
            + (
                f" ({error:+.1%}, {verdict} the {holdout['error_threshold']:.0%} tolerance)"
                if error is not None
                else ""
            )
            + ". Customers are grouped by their repeat purchases before the holdout period, as in the BG/NBD papers."
        )
    return captions
