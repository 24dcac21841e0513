"""The thresholds validation judges rows and partitions by; the `validation` resource exposes (and documents) each
field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ValidationSettings:
    max_quarantine_rate: float = 0.05
    min_rows_for_quarantine_rate: int = 100
    min_rows: int = 0
    max_rows: int = 50_000_000
    max_amount: float = 1_000_000.0
    median_amount_min: float = 1.0
    median_amount_max: float = 10_000.0
    max_unknown_customer_rate: float = 0.01
