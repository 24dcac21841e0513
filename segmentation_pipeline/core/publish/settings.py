"""What BI receives, and the limits the drift and stability checks judge each published snapshot by; the
`publishing` resource exposes (and documents) each field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PublishSettings:
    customer_id_salt: str = ""
    drift_checks_block: bool = False
    max_psi: float = 0.25
    max_segment_share_change_pp: float = 5.0
    max_changed_segment_share: float = 0.25
    min_silhouette: float = 0.1
    min_bootstrap_ari: float = 0.6
