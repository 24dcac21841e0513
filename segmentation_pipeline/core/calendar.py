"""Calendar quarters: each quarter has its own segmentation model, keyed by the quarter's first day."""

from datetime import date


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
