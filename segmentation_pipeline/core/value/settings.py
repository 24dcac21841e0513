"""What the value model is judged and scored by: the minimum data to fit, the holdout check, the CLV horizon and the
cut points that turn probabilities into labels. Settings are stored with every fitted model and in its card."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ValueSettings:
    horizon_days: int = 365
    """Predicted CLV is the expected spend over this many days after the snapshot."""
    annual_discount_rate: float = 0.10
    """Future spend is discounted at this yearly rate (0.10: spend one year ahead counts 1 / 1.1)."""
    churn_high_below: float = 0.3
    """Churn risk is "high" when p_alive is below this ..."""
    churn_medium_below: float = 0.7
    """... "medium" when below this, otherwise "low"."""
    next_order_min_p_alive: float = 0.5
    """No expected next order date is given to customers less likely than this to be still active ..."""
    next_order_max_days: int = 3650
    """... nor when the expected wait is longer than this: such a wait says "not soon", not a day."""
    holdout_days: int = 180
    """The holdout check fits on the history up to the fit day minus this many days and predicts the rest."""
    holdout_error_threshold: float = 0.20
    """The holdout check fails when predicted holdout purchases miss the actual ones by more than this share."""
    holdout_frequency_cap: int = 7
    """The holdout comparison groups customers by calibration repeat purchases 0, 1, ..., cap - 1 and "cap+"."""
    min_buyers: int = 500
    """No model is fitted on fewer customers with a purchase ..."""
    min_repeat_buyers: int = 100
    """... or fewer customers with a repeat purchase (and spend) than this."""

    def __post_init__(self) -> None:
        if not 0 <= self.churn_high_below <= self.churn_medium_below <= 1:
            raise ValueError(
                "churn cut points must satisfy 0 <= churn_high_below <= churn_medium_below <= 1, got "
                f"{self.churn_high_below} and {self.churn_medium_below}"
            )
        if self.horizon_days < 1 or self.holdout_days < 1 or self.holdout_frequency_cap < 1:
            raise ValueError("horizon_days, holdout_days and holdout_frequency_cap must be at least 1")
        if self.annual_discount_rate <= -1:
            raise ValueError(f"annual_discount_rate must be above -1, got {self.annual_discount_rate}")
