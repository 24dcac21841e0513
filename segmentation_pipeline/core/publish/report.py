"""A self-contained HTML report of a snapshot's segments for marketers, and its key charts as Markdown for Dagster.

Charts are drawn on matplotlib's Agg canvas (no pyplot, so no global figure state) into PNGs embedded as base64 data
URIs: the file opens offline and can be mailed around. Rendering is deterministic (fixed sizes, matplotlib's default
style plus ours whatever the local matplotlibrc says, no timestamp or software tag in the PNGs), so the same inputs
give byte-identical HTML.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import matplotlib
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from sklearn.decomposition import PCA

from segmentation_pipeline.core.publish.movement import GONE, NEW
from segmentation_pipeline.core.segment.model import SegmentModel, model_inputs
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.tables import read_snapshot_table

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
PROJECTION_SAMPLE = 5000
"""Customers drawn in the 2-D projection: enough to show the shape, few enough to stay readable and small."""
FULL_DPI, COMPACT_DPI, COMPACT_SIZE = 100, 80, (6.0, 3.5)
"""Compact charts go into Dagster metadata, which is stored in its event log: keep them small."""


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report shows. `projection` is a sample of customers already in 2-D (x, y, segment_id);
    `transitions` has the columns of the published segment_transitions table; migration is shown only when
    `previous_snapshot_date` is set."""

    snapshot_date: date
    profiles: pd.DataFrame
    customers: pd.DataFrame
    projection: pd.DataFrame
    transitions: pd.DataFrame | None = None
    previous_snapshot_date: date | None = None


def pca_2d(matrix: np.ndarray) -> np.ndarray:
    """The first two principal components of `matrix` (rows = customers), seeded so reruns place dots identically."""
    return PCA(n_components=2, random_state=0).fit_transform(matrix)


def rfm_grid_counts(customers: pd.DataFrame) -> pd.DataFrame:
    """Customers per R score (rows, 5 at the top) and F score (columns), zero-filled; customers without a score
    (no completed order) are left out."""
    scored = customers.dropna(subset=["r_score", "f_score"])
    r_scores, f_scores = scored["r_score"].astype("int64"), scored["f_score"].astype("int64")
    rows = sorted(set(range(1, 6)) | set(r_scores), reverse=True)
    columns = sorted(set(range(1, 6)) | set(f_scores))
    counts = pd.crosstab(r_scores, f_scores) if len(scored) else pd.DataFrame()
    grid = counts.reindex(index=rows, columns=columns, fill_value=0).fillna(0).astype("int64")
    return grid.rename_axis(index="r_score", columns="f_score")


def segment_colours(segment_ids: Iterable[int]) -> dict[int, str]:
    """One colour per segment: picked by id, so a segment keeps its colour across snapshots while ids are stable
    (by rank instead when two of these ids would share one)."""
    ids = sorted({int(segment_id) for segment_id in segment_ids})
    palette = matplotlib.colormaps["tab10" if len(ids) <= 10 else "tab20"].colors
    by_id = len({segment_id % len(palette) for segment_id in ids}) == len(ids)
    return {s: matplotlib.colors.to_hex(palette[(s if by_id else rank) % len(palette)]) for rank, s in enumerate(ids)}


def _ordered(profiles: pd.DataFrame) -> pd.DataFrame:
    """Largest segment first, in every chart and in the table."""
    return profiles.sort_values(["customers", "segment_id"], ascending=[False, True], ignore_index=True)


def _names(inputs: ReportInputs) -> dict[int, str]:
    names = {
        int(s): str(n) for s, n in zip(inputs.profiles["segment_id"], inputs.profiles["segment_name"], strict=True)
    }
    return names | {int(s): f"segment {s}" for s in inputs.projection["segment_id"].unique() if int(s) not in names}


def _draw_sizes(fig: Figure, inputs: ReportInputs, colours: dict[int, str], compact: bool) -> None:
    profiles = _ordered(inputs.profiles)
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
    profiles = _ordered(inputs.profiles)
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
    order = list(_ordered(inputs.profiles)["segment_id"].astype(int))
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


def migration_matrix(inputs: ReportInputs, segment_type: str) -> pd.DataFrame:
    """share_of_from per from segment (rows) and to segment (columns); new customers last, leavers last."""
    moves = inputs.transitions[inputs.transitions["segment_type"] == segment_type]
    matrix = moves.pivot_table(index="from_segment", columns="to_segment", values="share_of_from", aggfunc="sum")
    known = list(_ordered(inputs.profiles)["segment_name"].astype(str)) if segment_type == "behavioural" else []
    seen = set(matrix.index) | set(matrix.columns)
    segments = [s for s in known if s in seen] + sorted(seen - set(known) - {NEW, GONE})
    rows = segments + ([NEW] if NEW in matrix.index else [])
    return matrix.reindex(index=rows, columns=segments + ([GONE] if GONE in matrix.columns else []))


def _draw_migration(segment_type: str) -> Callable[[Figure, ReportInputs, dict[int, str], bool], None]:
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


CHARTS = {  # name: (title, drawing, full-size figure in inches)
    "sizes": ("Segment sizes and revenue shares", _draw_sizes, (10.0, 5.5)),
    "rfm_grid": ("RFM grid", _draw_rfm_grid, (8.0, 5.5)),
    "profiles": ("Segment profiles side by side", _draw_profiles, (12.0, 6.5)),
    "projection": ("Customers on a 2-D map", _draw_projection, (11.0, 7.0)),
    "migration_behavioural": ("Behavioural segment migration", _draw_migration("behavioural"), (11.0, 7.5)),
    "migration_rfm": ("RFM segment migration", _draw_migration("rfm"), (11.0, 7.5)),
}


def available_charts(inputs: ReportInputs) -> list[str]:
    """Chart names the inputs allow: migration only with a previous snapshot and transitions of that type."""
    types = set() if inputs.transitions is None else set(inputs.transitions["segment_type"])
    has_previous = inputs.previous_snapshot_date is not None
    return [
        n for n in CHARTS if not n.startswith("migration_") or (has_previous and n.removeprefix("migration_") in types)
    ]


def report_charts(
    inputs: ReportInputs, names: Iterable[str] | None = None, *, compact: bool = False
) -> dict[str, bytes]:
    """PNG bytes per chart name (all available charts by default; requested but unavailable ones are left out).
    `compact` draws them at COMPACT_SIZE and COMPACT_DPI, for Dagster metadata."""
    names = list(CHARTS if names is None else names)
    if unknown := sorted(set(names) - set(CHARTS)):
        raise ValueError(f"unknown report charts {unknown}; known: {list(CHARTS)}")
    colours = segment_colours(list(inputs.profiles["segment_id"]) + list(inputs.projection["segment_id"]))
    charts = {}
    with matplotlib.rc_context():
        matplotlib.rcdefaults()  # ignore any local matplotlibrc: same inputs, same bytes
        matplotlib.rcParams.update(STYLE | {"font.size": 8 if compact else 10})
        available = available_charts(inputs)
        for name in [n for n in names if n in available]:
            _, draw, size = CHARTS[name]
            fig = Figure(figsize=COMPACT_SIZE if compact else size, dpi=COMPACT_DPI if compact else FULL_DPI)
            fig.set_layout_engine("constrained")
            FigureCanvasAgg(fig)
            draw(fig, inputs, colours, compact)
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", metadata={"Software": None})
            charts[name] = buffer.getvalue()
    return charts


def _captions(inputs: ReportInputs) -> dict[str, str]:
    no_score = int((inputs.customers["r_score"].isna() | inputs.customers["f_score"].isna()).sum())
    migration = (
        f"Each row is a segment on {inputs.previous_snapshot_date}; a cell is the share of that row's customers who "
        f"are in the column's segment on {inputs.snapshot_date}; the {NEW} row holds those who were not customers "
        f"then, the {GONE} column those who are not customers now."
    )
    return {
        "sizes": f"Solid bars: each segment's share of the snapshot's {len(inputs.customers):,} customers; hatched "
        "bars: its share of revenue, so a longer hatched bar means customers worth more than average.",
        "rfm_grid": "Customers with a completed order by R score (rows) and F score (columns), the best at the top "
        f"right; {no_score:,} customers without a purchase are not in the grid.",
        "profiles": "Key metrics per segment in the segment colours; the table below lists every metric.",
        "projection": f"Each dot is one of a sample of {len(inputs.projection):,} customers, placed so that customers "
        "with similar behaviour sit close together; the axes have no unit.",
        "migration_behavioural": migration,
        "migration_rfm": migration,
    }


def _format(value: object, fmt: str) -> str:
    return "–" if value is None or (np.ndim(value) == 0 and pd.isna(value)) else fmt.format(value)


TABLE_ROWS = [
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
]


def profiles_table(profiles: pd.DataFrame, colours: dict[int, str]) -> str:
    """Segments as columns, metrics as rows, every value HTML-escaped."""
    profiles = _ordered(profiles)
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


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _model_version(profiles: pd.DataFrame) -> str:
    return ", ".join(sorted(map(str, profiles["model_version"].dropna().unique()))) or "unknown"


CSS = """body{font-family:Helvetica,Arial,sans-serif;color:#222;max-width:1200px;margin:0 auto;padding:0 24px 48px}
header{border-bottom:3px solid #1f77b4;padding:16px 0 8px}h1{margin:0 0 4px}header p{margin:0;color:#555}
section{margin-top:32px}h2{margin-bottom:4px}.caption{color:#555;margin:0 0 12px;max-width:900px}
img{max-width:100%;height:auto;border:1px solid #eee}.scroll{overflow-x:auto}.note{font-style:italic}
table{border-collapse:collapse;font-size:13px;margin-top:16px}th,td{border:1px solid #ddd;padding:4px 8px;
vertical-align:top;text-align:left;min-width:90px}tbody th{background:#fafafa;white-space:nowrap}
.swatch{display:inline-block;width:10px;height:10px;margin-right:6px;border-radius:2px}"""


def render_report(inputs: ReportInputs) -> str:
    """The whole report as one HTML page: inline CSS, charts as data URIs, no script and nothing fetched."""
    charts, captions = report_charts(inputs), _captions(inputs)
    colours = segment_colours(list(inputs.profiles["segment_id"]) + list(inputs.projection["segment_id"]))

    def figure(name: str, heading: bool = False) -> str:
        title, caption = html.escape(CHARTS[name][0]), html.escape(captions[name])
        head = f"<h3>{title}</h3>" if heading else ""
        return f'{head}<p class="caption">{caption}</p><img src="{_data_uri(charts[name])}" alt="{title}">'

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
        ("Segment profiles", figure("profiles") + profiles_table(inputs.profiles, colours)),
        ("Where the segments sit", figure("projection")),
        ("Migration since the previous snapshot", migration),
    ]
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Customer segments {day}</title>'
        f"<style>{CSS}</style></head><body><header><h1>Customer segments</h1><p>Snapshot {day} · model {version} · "
        f"{len(inputs.customers):,} customers in {len(inputs.profiles)} behavioural segments</p></header>"
        "<section><h2>How to read this report</h2><p>Customers are grouped two ways. <b>Behavioural segments</b> come "
        "from a model that groups customers with similar buying and browsing habits; each has one colour throughout "
        "the report. <b>RFM segments</b> come from scores of 1 (lowest) to 5 (highest) for how recently (R) and how "
        "often (F) a customer bought and how much they spent (M). Shares are of all customers in the snapshot unless "
        "a caption says otherwise.</p></section>"
        + "".join(f"<section><h2>{html.escape(title)}</h2>{body}</section>" for title, body in sections)
        + "</body></html>\n"
    )


def report_markdown(inputs: ReportInputs, chart_names: Iterable[str] = ("sizes", "rfm_grid")) -> str:
    """Compact charts as Markdown images with their captions, for Dagster asset metadata. A migration chart asked
    for without a previous snapshot becomes the sentence saying so."""
    names = list(chart_names)
    charts, captions = report_charts(inputs, names, compact=True), _captions(inputs)
    parts = []
    for name in names:
        title = CHARTS[name][0]
        if name in charts:
            parts.append(f"**{title}**\n\n![{title}]({_data_uri(charts[name])})\n\n{captions[name]}")
        else:
            parts.append(
                f"**{title}**\n\n{NO_PREVIOUS_SENTENCE if inputs.previous_snapshot_date is None else 'No data.'}"
            )
    return "\n\n".join(parts) + "\n"


def project_customers(model: SegmentModel, features: pd.DataFrame, size: int = PROJECTION_SAMPLE) -> pd.DataFrame:
    """A seeded sample of at most `size` customers (chosen by id order, not row order) in the 2-D principal plane of
    the model's scaled inputs, with the segment the model gives each: the picture of how segments separate."""
    ordered = features.sort_values("customer_id", ignore_index=True)
    rows = np.sort(np.random.default_rng(0).choice(len(ordered), size=min(size, len(ordered)), replace=False))
    sample = ordered.iloc[rows]
    xy = pca_2d(model.preprocess.transform(model_inputs(sample, model.settings)))
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "segment_id": model.segment_of(sample)})


def snapshot_report_inputs(layout: DataLayout, day: date, model: SegmentModel) -> ReportInputs:
    """The report of a published snapshot: its published tables, and its customers projected with `model`."""
    published = {
        table: pq.read_table(layout.published_table(table, day)).to_pandas()
        for table in ("customer_segments", "segment_profiles", "segment_transitions")
    }
    features = read_snapshot_table(layout, "customer_features", day)
    previous = published["segment_transitions"]["previous_snapshot_date"].dropna()
    return ReportInputs(
        snapshot_date=day,
        profiles=published["segment_profiles"],
        customers=published["customer_segments"],
        projection=project_customers(model, features),
        transitions=published["segment_transitions"],
        previous_snapshot_date=previous.iloc[0] if len(previous) else None,
    )
