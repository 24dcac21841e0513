"""The `segmentation` resource: how behavioural segments are fitted, and where the marketers' files are."""

import dagster as dg

from segmentation_pipeline.core.segment.marketer_files import MarketerFiles
from segmentation_pipeline.core.segment.settings import ClusterSettings
from segmentation_pipeline.defs.resources import SettingsResource


class SegmentationResource(SettingsResource):
    """How behavioural segments are fitted (shared by the quarterly refit and the nightly fallback fit), and the
    marketers' configuration files."""

    core_settings = ClusterSettings

    log_features: list[str] = list(ClusterSettings.log_features)
    """Skewed feature columns the model uses after log1p (missing = 0; recency_days missing = the recency cap)."""
    share_features: list[str] = list(ClusterSettings.share_features)
    """Feature columns the model uses as they are (missing = 0)."""
    categorical_features: list[str] = list(ClusterSettings.categorical_features)
    """Categorical feature columns, one-hot encoded with "missing" as a level, e.g. ["nps_group"]."""
    k_min: int = ClusterSettings.k_min
    k_max: int = ClusterSettings.k_max
    fixed_k: int | None = ClusterSettings.fixed_k
    """Use exactly this many segments instead of choosing k between k_min and k_max (unset = choose)."""
    seed: int = ClusterSettings.seed
    fit_sample: int = ClusterSettings.fit_sample
    """Larger populations are fitted on a seeded sample of this size; everyone is scored."""
    criteria_sample: int = ClusterSettings.criteria_sample
    """Silhouette and the other criteria of k are computed on a seeded sample of this size."""
    min_segment_share: float = ClusterSettings.min_segment_share
    """A k whose smallest segment holds less than this share of customers is chosen only if no k qualifies."""
    recency_cap_days: int = ClusterSettings.recency_cap_days
    match_distance: float = ClusterSettings.match_distance
    """Centroid distance (in standard deviations) within which a refitted segment keeps its previous id."""
    bootstrap_refits: int = ClusterSettings.bootstrap_refits
    """Bootstrap refits behind the model's stability figure (mean adjusted Rand index)."""
    segment_names_file: str = MarketerFiles.segment_names_file
    """JSON file mapping segment ids to names chosen by marketers, e.g. {"3": "Weekend browsers"};
    default: `config/segment_names.json` under the data root, if present."""
    rule_segments_file: str = MarketerFiles.rule_segments_file
    """YAML file of marketer-defined rule segments; default: `config/rule_segments.yaml` under the data root."""
    manual_assignments_file: str = MarketerFiles.manual_assignments_file
    """CSV of manual assignments (customer_id, segment, expires_on); default: `config/manual_assignments.csv`."""

    def marketer_files(self) -> MarketerFiles:
        return MarketerFiles(self.segment_names_file, self.rule_segments_file, self.manual_assignments_file)


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"segmentation": SegmentationResource()})
