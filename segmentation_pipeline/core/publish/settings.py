"""What BI receives, who is held out of campaigns, what the audience exports hold, and the limits the drift and
stability checks judge each published snapshot by; the `publishing` resource exposes (and documents) each field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from segmentation_pipeline.core.errors import PipelineError
from segmentation_pipeline.core.publish.next_actions import NextActionRule, load_next_actions
from segmentation_pipeline.core.storage.layout import DataLayout

NEXT_ACTIONS_FILE = "next_actions.yaml"
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
    audience_exports_kept: int = 7
    """Audience export snapshots kept after each publish, the newest by date (and the one just written); 0 keeps all."""
    drift_checks_block: bool = False
    max_psi: float = 0.25
    max_segment_share_change_pp: float = 5.0
    max_changed_segment_share: float = 0.25
    min_silhouette: float = 0.1
    min_bootstrap_ari: float = 0.6
    next_actions_file: str = ""
    """The marketers' next-action table (YAML); empty: `config/next_actions.yaml` if it exists, else the defaults."""

    def next_actions(self, layout: DataLayout) -> tuple[NextActionRule, ...]:
        """The next-action table to publish with; raises RuleError on a bad file."""
        configured = Path(self.next_actions_file) if self.next_actions_file else layout.config_file(NEXT_ACTIONS_FILE)
        return load_next_actions(configured if self.next_actions_file or configured.exists() else None)

    def __post_init__(self) -> None:
        if not 0 <= self.control_group_share < 1:
            raise SettingsError(
                f"publishing setting control_group_share must be at least 0 and below 1, got {self.control_group_share}"
            )
        kept = self.audience_exports_kept
        if isinstance(kept, bool) or not isinstance(kept, int) or kept < 0:
            raise SettingsError(
                f"publishing setting audience_exports_kept must be a whole number at least 0 (0 keeps every "
                f"snapshot), got {kept!r}"
            )
