"""What BI receives, and the limits the drift and stability checks judge each published snapshot by; the
`publishing` resource exposes (and documents) each field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from segmentation_pipeline.core.publish.next_actions import NextActionRule, load_next_actions
from segmentation_pipeline.core.storage.layout import DataLayout

NEXT_ACTIONS_FILE = "next_actions.yaml"


@dataclass(frozen=True)
class PublishSettings:
    customer_id_salt: str = ""
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
