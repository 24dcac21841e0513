"""The marketers' configuration files of the segment stage: segment name overrides, rule segments and manual
assignments, each at a configured path or else at its default name under the data root's `config/`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from segmentation_pipeline.core.segment.name_overrides import read_name_overrides
from segmentation_pipeline.core.storage.layout import DataLayout

DEFAULT_NAMES = {
    "segment_names_file": "segment_names.json",
    "rule_segments_file": "rule_segments.yaml",
    "manual_assignments_file": "manual_assignments.csv",
}


@dataclass(frozen=True)
class MarketerFiles:
    """Configured paths; empty means the default file under `config/`, used only if it exists."""

    segment_names_file: str = ""
    rule_segments_file: str = ""
    manual_assignments_file: str = ""

    def path(self, layout: DataLayout, setting: str) -> Path | None:
        configured = getattr(self, setting)
        if configured:
            return Path(configured)
        default = layout.config_file(DEFAULT_NAMES[setting])
        return default if default.exists() else None

    def name_overrides(self, layout: DataLayout) -> dict[int, str]:
        """Segment id -> the name marketers chose for it (none without a file); raises RuleError on a bad file."""
        path = self.path(layout, "segment_names_file")
        return read_name_overrides(path) if path is not None else {}
