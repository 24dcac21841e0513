"""Resources: where the data root is, and the thresholds validation judges partitions by."""

import json
import os
from dataclasses import fields
from pathlib import Path

import dagster as dg

from segmentation_pipeline.core.segment.model import ClusterSettings
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate.expectations import Thresholds

DATA_DIR_ENV = "SEGMENTATION_DATA_DIR"
REPO_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DEFAULT_THRESHOLDS = Thresholds()
DEFAULT_CLUSTERING = ClusterSettings()


class DataRoot(dg.ConfigurableResource):
    """The data root: `data_dir` if set, else $SEGMENTATION_DATA_DIR, else the repository's bundled `data/`."""

    data_dir: str = ""

    @property
    def layout(self) -> DataLayout:
        return DataLayout(Path(self.data_dir or os.environ.get(DATA_DIR_ENV) or REPO_DATA_DIR).resolve())


class ValidationSettings(dg.ConfigurableResource):
    """Thresholds of the validation checks; change them here or per run in the launchpad, never in the suite JSON."""

    max_quarantine_rate: float = DEFAULT_THRESHOLDS.max_quarantine_rate
    """A partition with a larger share of quarantined rows fails its blocking check."""
    min_rows_for_quarantine_rate: int = DEFAULT_THRESHOLDS.min_rows_for_quarantine_rate
    """The quarantine rate is judged only on partitions with at least this many rows."""
    min_rows: int = DEFAULT_THRESHOLDS.min_rows
    max_rows: int = DEFAULT_THRESHOLDS.max_rows
    max_amount: float = DEFAULT_THRESHOLDS.max_amount
    """Order amounts above this are quarantined (`amount_too_large`)."""
    median_amount_min: float = DEFAULT_THRESHOLDS.median_amount_min
    median_amount_max: float = DEFAULT_THRESHOLDS.median_amount_max
    """Band for a day's median order amount (a warning check)."""
    max_unknown_customer_rate: float = 0.01
    """Share of a day's rows referencing customers missing from the CRM export above which a warning is raised."""
    max_landing_lag_days: int = 2
    """Warn when a source's newest landing day is older than this many days."""

    def thresholds(self) -> Thresholds:
        return Thresholds(**{field.name: getattr(self, field.name) for field in fields(Thresholds)})


class SegmentationSettings(dg.ConfigurableResource):
    """How behavioural segments are fitted; shared by the quarterly refit and the nightly fallback fit."""

    log_features: list[str] = list(DEFAULT_CLUSTERING.log_features)
    """Skewed feature columns the model uses after log1p (missing = 0; recency_days missing = 730 days)."""
    share_features: list[str] = list(DEFAULT_CLUSTERING.share_features)
    """Feature columns the model uses as they are (missing = 0)."""
    categorical_features: list[str] = list(DEFAULT_CLUSTERING.categorical_features)
    """Categorical feature columns, one-hot encoded with "missing" as a level, e.g. ["nps_group"]."""
    k_min: int = DEFAULT_CLUSTERING.k_min
    k_max: int = DEFAULT_CLUSTERING.k_max
    fixed_k: int = 0
    """Use exactly this many segments instead of choosing k (0 = choose between k_min and k_max)."""
    seed: int = DEFAULT_CLUSTERING.seed
    min_segment_share: float = DEFAULT_CLUSTERING.min_segment_share
    match_distance: float = DEFAULT_CLUSTERING.match_distance
    """Centroid distance (in standard deviations) within which a refitted segment keeps its previous id."""
    segment_names_file: str = ""
    """JSON file mapping segment ids to names chosen by marketers, e.g. {"3": "Weekend browsers"};
    default: `config/segment_names.json` under the data root, if present."""
    rule_segments_file: str = ""
    """YAML file of marketer-defined rule segments; default: `config/rule_segments.yaml` under the data root."""
    manual_assignments_file: str = ""
    """CSV of manual assignments (customer_id, segment, expires_on); default: `config/manual_assignments.csv`."""

    def cluster_settings(self) -> ClusterSettings:
        return ClusterSettings(
            log_features=tuple(self.log_features),
            share_features=tuple(self.share_features),
            categorical_features=tuple(self.categorical_features),
            k_min=self.k_min,
            k_max=self.k_max,
            fixed_k=self.fixed_k or None,
            seed=self.seed,
            min_segment_share=self.min_segment_share,
            match_distance=self.match_distance,
        )

    def config_file(self, layout: DataLayout, setting: str, default_name: str) -> Path | None:
        """The configured file, else the data root's `config/<default_name>` when it exists, else None."""
        configured = getattr(self, setting)
        if configured:
            return Path(configured)
        default = layout.root / "config" / default_name
        return default if default.exists() else None

    def name_overrides(self, layout: DataLayout) -> dict[int, str]:
        path = self.config_file(layout, "segment_names_file", "segment_names.json")
        if path is None:
            return {}
        return {int(segment_id): name for segment_id, name in json.loads(path.read_text()).items()}


class PublishSettings(dg.ConfigurableResource):
    """What BI receives, and how the drift and stability checks on each published snapshot judge it."""

    customer_id_salt: str = ""
    """When set (e.g. `dg.EnvVar("SEGMENTATION_ID_SALT")`), published customer ids are salted SHA-256 hashes."""
    drift_checks_block: bool = False
    """False: drift checks warn. True: a failed drift check is an error that blocks the segment report."""
    max_psi: float = 0.25
    """Population stability index above which R, F, M or a key feature counts as shifted (0.1-0.25 = moderate)."""
    max_segment_share_change_pp: float = 5.0
    """Largest change of a segment's share of customers, in percentage points, between consecutive snapshots."""
    max_changed_segment_share: float = 0.25
    """Largest share of returning customers allowed to change behavioural or RFM segment between snapshots."""
    min_silhouette: float = 0.1
    min_bootstrap_ari: float = 0.6
    """Fit quality of the model: silhouette and bootstrap stability (mean adjusted Rand index of refits)."""


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "data_root": DataRoot(),
            "validation": ValidationSettings(),
            "segmentation": SegmentationSettings(),
            "publishing": PublishSettings(),
        }
    )
