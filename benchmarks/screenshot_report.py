"""Screenshot an HTML segment report in headless Chromium, to check by eye how it renders.

    .venv/bin/python benchmarks/screenshot_report.py REPORT.html OUT.png
    .venv/bin/python benchmarks/screenshot_report.py --demo /tmp/segments.html /tmp/segments.png  # synthetic report

Needs Chromium at /usr/bin/chromium (Debian: `sudo apt-get install chromium`). The page is rendered with networking
off-limits in spirit (background networking, sync and updates disabled) and a throwaway profile; a report that
needs the internet shows broken images in the screenshot. `--demo` first writes a report from synthetic inputs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

CHROMIUM = Path("/usr/bin/chromium")


def screenshot(report: Path, out: Path, width: int = 1280, height: int = 4000, chromium: Path = CHROMIUM) -> None:
    if not chromium.exists():
        sys.exit(f"{chromium} not found: install Chromium first (Debian: `sudo apt-get install chromium`).")
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [
            str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
            f"--window-size={width},{height}", f"--screenshot={out.resolve()}", report.resolve().as_uri(),
        ]  # fmt: skip
        subprocess.run(command, check=True, timeout=180, capture_output=True)
    print(f"wrote {out} ({width}x{height}) from {report}")


def demo_inputs(customers: int = 4000, seed: int = 7):
    """Synthetic inputs shaped like the published tables: 7 segments, one with HTML-special characters."""
    from segmentation_pipeline.core.publish.report import ReportInputs, customer_counts
    from segmentation_pipeline.core.publish.transitions import segment_transitions

    rng = np.random.default_rng(seed)
    names = ["Loyal big spenders", "Weekend browsers", "New & curious", "Lapsed one-timers", "Mobile night owls",
             "Bargain <hunters>", "Dormant accounts"]  # fmt: skip
    weights = np.array([0.08, 0.22, 0.15, 0.2, 0.12, 0.13, 0.1])
    segment = rng.choice(len(names), size=customers, p=weights)
    bought = rng.random(customers) > 0.12
    r_score = pd.array(np.where(bought, rng.integers(1, 6, customers), 0), dtype="Int64").astype("Int64")
    r_score[~bought] = pd.NA
    f_score = r_score.copy()
    f_score[bought] = np.clip(r_score[bought].to_numpy(dtype=int) + rng.integers(-1, 2, bought.sum()), 1, 5)
    monetary = np.where(bought, rng.lognormal(4 + segment / 4, 0.8), 0.0)
    rfm = np.where(bought, np.array(["Champions", "Loyal", "At risk", "Hibernating", "Need attention"])[
        np.asarray(r_score.fillna(1), dtype=int) % 5], "no purchases")  # fmt: skip
    p_alive = np.where(bought, rng.beta(2 + segment % 3, 1.5), np.nan)
    churn_risk = pd.Series(np.where(p_alive < 0.3, "high", np.where(p_alive < 0.7, "medium", "low")), dtype="str")
    churn_risk[~bought] = None
    table = pd.DataFrame({"customer_id": [f"c{i}" for i in range(customers)], "r_score": r_score, "f_score": f_score,
                          "rfm_segment": rfm, "segment_id": segment, "segment_name": np.array(names)[segment],
                          "monetary": monetary, "p_alive": p_alive, "churn_risk": churn_risk,
                          "predicted_clv": np.where(bought, p_alive * monetary * 0.8, np.nan)})  # fmt: skip
    grouped = table.groupby("segment_id")
    profiles = pd.DataFrame({"segment_id": range(len(names)), "segment_name": names,
                             "description": [f"What sets {n} apart, in a sentence." for n in names],
                             "customers": grouped.size().to_numpy(),
                             "revenue": grouped["monetary"].sum().to_numpy()})  # fmt: skip
    profiles["share"] = profiles["customers"] / customers
    profiles["revenue_share"] = profiles["revenue"] / profiles["revenue"].sum()
    for column, scale in (("recency_days", 200), ("frequency", 6), ("monetary", 300), ("sessions", 40)):
        profiles[f"mean_{column}"] = rng.random(len(names)) * scale
        profiles[f"median_{column}"] = profiles[f"mean_{column}"] * 0.8
    profiles = profiles.drop(columns="median_sessions").assign(
        dominant_device="mobile", dominant_time_of_day="evening", top_country="DE", top_acquisition_channel="search",
        promoter_share=[0.5, 0.3, None, 0.1, 0.4, 0.2, 0.05], passive_share=0.3, detractor_share=0.2,
        model_version="2026-09-30-abc123", snapshot_date=date(2026, 11, 22),
        mean_predicted_clv=grouped["predicted_clv"].mean().to_numpy(),
        mean_p_alive=grouped["p_alive"].mean().to_numpy(),
        high_churn_risk_share=grouped["churn_risk"].agg(lambda risk: (risk.dropna() == "high").mean()).to_numpy(),
    )  # fmt: skip
    centres = rng.normal(0, 4, (len(names), 2))
    sample = table.sample(1500, random_state=seed)
    projection = pd.DataFrame(centres[sample["segment_id"]] + rng.normal(0, 1, (len(sample), 2)), columns=["x", "y"])
    projection["segment_id"] = sample["segment_id"].to_numpy()
    leavers = table.sample(200, random_state=seed + 1).assign(customer_id=lambda t: t["customer_id"] + "-left")
    previous = pd.concat([table.sample(frac=0.9, random_state=seed), leavers], ignore_index=True)
    moved = rng.random(len(previous)) > 0.7
    previous.loc[moved, "segment_name"] = rng.choice(names, moved.sum())
    previous.loc[moved, "rfm_segment"] = rng.choice(sorted(set(rfm)), moved.sum())
    transitions = segment_transitions(previous, table, date(2026, 11, 22), date(2026, 11, 21))
    by_frequency = [
        {"repeat_purchases": f"{x}+" if x == 7 else str(x), "customers": int(900 / (x + 1)),
         "predicted_mean": 0.4 + 0.9 * x, "actual_mean": 0.35 + 0.85 * x + rng.normal(0, 0.2)}
        for x in range(8)
    ]  # fmt: skip
    value_card = {
        "fitted": True, "fitted_on": "2026-09-30", "customers": int(bought.sum()),
        "repeat_buyers": int(bought.sum() / 2),
        "settings": {"horizon_days": 365, "annual_discount_rate": 0.1, "churn_high_below": 0.3,
                     "churn_medium_below": 0.7},
        "holdout": {"cutoff": "2026-04-03", "end": "2026-09-30", "predicted_purchases": 4210.0,
                    "actual_purchases": 4000, "relative_error": 0.0525, "error_threshold": 0.2,
                    "exceeds_threshold": False, "by_frequency": by_frequency},
    }  # fmt: skip
    return ReportInputs(
        snapshot_date=date(2026, 11, 22), profiles=profiles, customers=customer_counts(table), projection=projection,
        value_card=value_card, transitions=transitions, previous_snapshot_date=date(2026, 11, 21),
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", type=Path, help="the HTML report")
    parser.add_argument("out", type=Path, help="where to write the PNG screenshot")
    parser.add_argument("--demo", action="store_true", help="first write a report from synthetic inputs to REPORT")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=4000)
    args = parser.parse_args()
    if args.demo:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from segmentation_pipeline.core.publish.report import render_report

        args.report.write_text(render_report(demo_inputs()), encoding="utf-8")
        print(f"wrote demo report {args.report}")
    screenshot(args.report, args.out, args.width, args.height)


if __name__ == "__main__":
    main()
