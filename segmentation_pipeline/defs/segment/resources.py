"""The `segmentation` and `value` resources: how behavioural segments and the value model are fitted and scored, and
where the marketers' files are."""

import dagster as dg

from segmentation_pipeline.core.segment.marketer_files import MarketerFiles
from segmentation_pipeline.core.segment.settings import ClusterSettings
from segmentation_pipeline.core.value.settings import ValueSettings
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
    """Each candidate k is fitted and scored (silhouette, other criteria, stability) on a seeded sample of this size."""
    min_segment_share: float = ClusterSettings.min_segment_share
    """A k whose smallest segment holds less than this share of customers is chosen only if no k qualifies."""
    restarts: int = ClusterSettings.restarts
    """Seeded k-means starts of every candidate fit (the best is kept)."""
    stability_refits: int = ClusterSettings.stability_refits
    """Refits of each candidate k on seeded 80% subsamples of the criteria sample (at least 1); its stability is
    their mean adjusted Rand index against the candidate on the shared rows."""
    min_stability: float = ClusterSettings.min_stability
    """k is chosen by best silhouette among candidates at least this stable; if none is, the most stable k."""
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


class ValueResource(SettingsResource):
    """How the value model (BG/NBD purchases, Gamma-Gamma spend) is fitted with each quarter's segmentation model,
    checked on a holdout period, and turned into CLV, churn risk and next-order dates every night."""

    core_settings = ValueSettings

    horizon_days: int = ValueSettings.horizon_days
    """Predicted CLV is the expected spend over this many days after the snapshot."""
    annual_discount_rate: float = ValueSettings.annual_discount_rate
    """Future spend is discounted at this yearly rate (0.10: spend one year ahead counts 1 / 1.1)."""
    churn_high_below: float = ValueSettings.churn_high_below
    """Churn risk is "high" when p_alive is below this ..."""
    churn_medium_below: float = ValueSettings.churn_medium_below
    """... "medium" when below this, otherwise "low"."""
    next_order_min_p_alive: float = ValueSettings.next_order_min_p_alive
    """No expected next order date for customers less likely than this to be still active ..."""
    next_order_max_days: int = ValueSettings.next_order_max_days
    """... nor when the expected wait is longer than this many days."""
    holdout_days: int = ValueSettings.holdout_days
    """The holdout check fits on the history up to the fit day minus this many days and predicts the rest."""
    holdout_error_threshold: float = ValueSettings.holdout_error_threshold
    """The holdout check warns when predicted holdout purchases miss the actual ones by more than this share."""
    holdout_frequency_cap: int = ValueSettings.holdout_frequency_cap
    """The holdout comparison groups customers by calibration repeat purchases 0, 1, ..., cap - 1 and "cap+"."""
    min_buyers: int = ValueSettings.min_buyers
    """No value model is fitted on fewer customers with a purchase ..."""
    min_repeat_buyers: int = ValueSettings.min_repeat_buyers
    """... or fewer customers with a repeat purchase (and spend) than this."""


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"segmentation": SegmentationResource(), "value": ValueResource()})
