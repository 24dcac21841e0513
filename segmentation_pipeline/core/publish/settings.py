"""What BI receives, who is held out of campaigns, what the audience exports hold, and the limits the drift and
stability checks judge each published snapshot by; the `publishing` resource exposes (and documents) each field."""

from __future__ import annotations

from dataclasses import dataclass

from segmentation_pipeline.core.errors import PipelineError

DEFAULT_CONTROL_GROUP_SALT = "segmentation-pipeline-control-group"
"""Fixed, so the control group is the same out of the box in every run; change it only to draw a new group."""


class SettingsError(PipelineError, ValueError):
    """A publishing setting that cannot be used, in one line naming it."""


@dataclass(frozen=True)
class PublishSettings:
    customer_id_salt: str = ""
    control_group_share: float = 0.05
    control_group_salt: str = DEFAULT_CONTROL_GROUP_SALT
    export_plain_emails: bool = False
    drift_checks_block: bool = False
    max_psi: float = 0.25
    max_segment_share_change_pp: float = 5.0
    max_changed_segment_share: float = 0.25
    min_silhouette: float = 0.1
    min_bootstrap_ari: float = 0.6

    def __post_init__(self) -> None:
        if not 0 <= self.control_group_share < 1:
            raise SettingsError(
                f"publishing setting control_group_share must be at least 0 and below 1, got {self.control_group_share}"
            )
