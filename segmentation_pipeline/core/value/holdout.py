"""The holdout check of a fit: how well a model fitted on the history up to a cut-off predicts the purchases after it.

As in Fader, Hardie & Lee (2005), predicted and actual holdout purchases are compared in total, per customer, and
per calibration-period frequency (repeat purchases 0, 1, ..., cap - 1 and "cap+")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np


@dataclass(frozen=True)
class HoldoutCheck:
    cutoff: date
    """The calibration history is every purchase day up to and including this day ..."""
    end: date
    """... the holdout period the days after it, up to and including this one."""
    customers: int
    """Customers with a purchase day by the cut-off: the ones predicted."""
    predicted_purchases: float
    actual_purchases: int
    mean_absolute_error: float
    """Mean over customers of |predicted - actual| holdout purchases."""
    by_frequency: list[dict]
    """Per calibration frequency group: `repeat_purchases` ("0", ..., "7+"), `customers`, `predicted_mean`,
    `actual_mean` (mean holdout purchases per customer)."""
    error_threshold: float

    @property
    def relative_error(self) -> float | None:
        """(predicted - actual) / actual holdout purchases; None without any actual purchase."""
        if self.actual_purchases == 0:
            return None
        return (self.predicted_purchases - self.actual_purchases) / self.actual_purchases

    @property
    def exceeds_threshold(self) -> bool:
        """Whether the aggregate prediction misses by more than the threshold (or predicts purchases where none were
        made, or is not a number)."""
        error = self.relative_error
        return not abs(error) <= self.error_threshold if error is not None else not self.predicted_purchases <= 0

    def summary(self) -> str:
        """One line for a log or an asset check."""
        error = self.relative_error
        share = f"{error:+.1%}" if error is not None else "no actual purchases"
        verdict = "exceeds" if self.exceeds_threshold else "within"
        return (
            f"holdout {self.cutoff.isoformat()} .. {self.end.isoformat()}: predicted {self.predicted_purchases:,.0f} "
            f"purchase days, actual {self.actual_purchases:,} ({share}, {verdict} the {self.error_threshold:.0%} "
            f"threshold); mean absolute error {self.mean_absolute_error:.3f} per customer"
        )

    def card(self) -> dict:
        return {
            "cutoff": self.cutoff.isoformat(),
            "end": self.end.isoformat(),
            "holdout_days": (self.end - self.cutoff).days,
            "customers": self.customers,
            "predicted_purchases": self.predicted_purchases,
            "actual_purchases": self.actual_purchases,
            "relative_error": self.relative_error,
            "mean_absolute_error": self.mean_absolute_error,
            "error_threshold": self.error_threshold,
            "exceeds_threshold": self.exceeds_threshold,
            "by_frequency": self.by_frequency,
        }


def compare(
    calibration_repeats: np.ndarray,
    predicted: np.ndarray,
    actual: np.ndarray,
    cutoff: date,
    end: date,
    frequency_cap: int,
    error_threshold: float,
) -> HoldoutCheck:
    """The check's figures from each customer's calibration repeat purchases and predicted and actual holdout
    purchases (aligned arrays)."""
    group = np.minimum(calibration_repeats, frequency_cap).astype(np.int64)
    customers = np.bincount(group, minlength=frequency_cap + 1)
    predicted_sums = np.bincount(group, weights=predicted, minlength=frequency_cap + 1)
    actual_sums = np.bincount(group, weights=actual, minlength=frequency_cap + 1)
    by_frequency = [
        {
            "repeat_purchases": f"{frequency}+" if frequency == frequency_cap else str(frequency),
            "customers": int(customers[frequency]),
            "predicted_mean": float(predicted_sums[frequency] / customers[frequency]),
            "actual_mean": float(actual_sums[frequency] / customers[frequency]),
        }
        for frequency in np.flatnonzero(customers)
    ]
    return HoldoutCheck(
        cutoff=cutoff,
        end=end,
        customers=len(group),
        predicted_purchases=float(predicted.sum()),
        actual_purchases=int(actual.sum()),
        mean_absolute_error=float(np.mean(np.abs(predicted - actual))),
        by_frequency=by_frequency,
        error_threshold=error_threshold,
    )
