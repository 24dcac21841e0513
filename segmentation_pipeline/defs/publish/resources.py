"""The `publishing` resource: what BI receives, the control group and audience exports, and how the drift and
stability checks judge each snapshot."""

import dagster as dg

from segmentation_pipeline.core.publish.settings import PublishSettings
from segmentation_pipeline.defs.resources import SettingsResource


class PublishingResource(SettingsResource):
    """What BI receives, who is held out of campaigns, what the audience exports hold, and how the drift and
    stability checks on each published snapshot judge it."""

    core_settings = PublishSettings

    customer_id_salt: str = PublishSettings.customer_id_salt
    """When set (e.g. `dg.EnvVar("SEGMENTATION_ID_SALT")`), published customer ids are salted SHA-256 hashes."""
    control_group_share: float = PublishSettings.control_group_share
    """Share of customers (0 <= share < 1) held out of every campaign as the global control group."""
    control_group_salt: str = PublishSettings.control_group_salt
    """Salt of the control group's hash: keep it fixed, a new salt draws a new control group."""
    export_plain_emails: bool = PublishSettings.export_plain_emails
    """False: audience exports hold SHA-256 e-mail hashes only. True: also the plain (normalised) e-mail."""
    audience_exports_kept: int = PublishSettings.audience_exports_kept
    """Audience export snapshots kept (they hold personal data): after each publish, snapshot folders older than the
    newest this many are deleted, never the one just written; 0 keeps every snapshot."""
    drift_checks_block: bool = PublishSettings.drift_checks_block
    """False: drift checks warn. True: a failed drift check is an error that blocks the segment report."""
    max_psi: float = PublishSettings.max_psi
    """Population stability index above which R, F, M or a key feature counts as shifted (0.1-0.25 = moderate)."""
    max_segment_share_change_pp: float = PublishSettings.max_segment_share_change_pp
    """Largest change of a segment's share of customers, in percentage points, between consecutive snapshots."""
    max_changed_segment_share: float = PublishSettings.max_changed_segment_share
    """Largest share of returning customers allowed to change behavioural or RFM segment between snapshots."""
    min_silhouette: float = PublishSettings.min_silhouette
    min_bootstrap_ari: float = PublishSettings.min_bootstrap_ari
    """Fit quality of the model: silhouette and bootstrap stability (mean adjusted Rand index of refits)."""
    next_actions_file: str = PublishSettings.next_actions_file
    """YAML table of next-action rules for the segment personas; default: `config/next_actions.yaml` under the data
    root if present, else the built-in table."""


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"publishing": PublishingResource()})
