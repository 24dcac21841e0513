"""How ingest judges its landing sources; the `ingest` resource exposes each field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IngestSettings:
    max_landing_lag_days: int = 2
