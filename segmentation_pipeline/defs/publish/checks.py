"""The drift and stability checks on `published/customer_segments`, judged on the run's last snapshot (every
snapshot's moves are in `segment_transitions`)."""

from collections.abc import Iterator

import dagster as dg

from segmentation_pipeline.core.calendar import quarter_start
from segmentation_pipeline.core.publish.drift import check_problems
from segmentation_pipeline.core.publish.settings import PublishSettings
from segmentation_pipeline.core.publish.snapshot import PublishedSnapshot
from segmentation_pipeline.core.segment.registry import model_quality
from segmentation_pipeline.core.storage.layout import DataLayout

CHECKED_ASSET = ["published", "customer_segments"]
DRIFT_CHECKS = {
    "distribution_drift": "Population stability index of R, F, M, value and key segment columns vs the previous "
    "snapshot.",
    "segment_size_change": "Change of each segment's share of customers vs the previous snapshot.",
    "segment_churn": "Share of returning customers whose behavioural or RFM segment changed.",
    "model_fit_quality": "Silhouette and bootstrap stability of the segmentation model that scored the snapshot.",
}

drift_check_specs = [
    dg.AssetCheckSpec(name, asset=CHECKED_ASSET, blocking=True, description=description)
    for name, description in DRIFT_CHECKS.items()
]


def drift_check_results(
    layout: DataLayout, day, snapshot: PublishedSnapshot, settings: PublishSettings
) -> Iterator[dg.AssetCheckResult]:
    severity = dg.AssetCheckSeverity.ERROR if settings.drift_checks_block else dg.AssetCheckSeverity.WARN
    drift, previous_day = snapshot.drift, snapshot.previous_day
    quality = model_quality(layout.model_folder(quarter_start(day)))
    problems = check_problems(drift, quality, settings)
    details = {
        "distribution_drift": {"psi": dg.MetadataValue.json(drift["psi"])},
        "segment_size_change": {"share_change_pp": dg.MetadataValue.json(drift["segment_share_change_pp"])},
        "segment_churn": {"changed_segment_share": dg.MetadataValue.json(drift["changed_segment_share"])},
        "model_fit_quality": {"quality": dg.MetadataValue.json(quality)},
    }
    for name in DRIFT_CHECKS:
        yield dg.AssetCheckResult(
            asset_key=CHECKED_ASSET,
            check_name=name,
            passed=not problems[name],
            severity=severity,
            metadata={
                "snapshot_date": day.isoformat(),
                "previous_snapshot_date": previous_day.isoformat() if previous_day else "none (first snapshot)",
                "problems": "; ".join(problems[name]) or "none",
                **details[name],
            },
        )
