"""The landing days of a sample run and the calendar shape (weekday, season) every daily source draws from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

SECONDS_PER_DAY = 86_400
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class LandingWindow:
    """Days `first_day .. last_day`; sources index them 0 .. days - 1 and place rows in epoch seconds."""

    first_day: dt.date
    last_day: dt.date
    days: int
    first_second: int  # epoch second the first day starts
    end_second: int  # epoch second after the last day (exclusive)
    weekday: np.ndarray  # per day, Monday = 0
    season: np.ndarray  # per day, relative activity: a Christmas and a Black Friday peak over a yearly wave

    @classmethod
    def ending(cls, last_day: dt.date, days: int) -> LandingWindow:
        first_day = last_day - dt.timedelta(days=days - 1)
        first_second = (first_day - _EPOCH).days * SECONDS_PER_DAY
        day_dates = np.datetime64(first_day.isoformat(), "D") + np.arange(days)
        day_of_year = (day_dates - day_dates.astype("datetime64[Y]")).astype(np.int64) + 1
        christmas = _days_apart(day_of_year, 345)
        black_friday = _days_apart(day_of_year, 331)
        season = 1 + 0.9 * np.exp(-0.5 * (christmas / 16) ** 2) + 0.6 * np.exp(-0.5 * (black_friday / 2.5) ** 2)
        season += 0.12 * np.cos(2 * np.pi * (day_of_year - 15) / 365)
        return cls(
            first_day=first_day,
            last_day=last_day,
            days=days,
            first_second=first_second,
            end_second=first_second + days * SECONDS_PER_DAY,
            weekday=((day_dates.astype(np.int64) + 3) % 7).astype(np.int64),
            season=season,
        )

    def day_start(self, day: np.ndarray) -> np.ndarray:
        """Epoch second each day index starts."""
        return self.first_second + day * SECONDS_PER_DAY

    def dates(self, day: np.ndarray) -> np.ndarray:
        """'YYYY-MM-DD' of each day index (object array), as the planted-error list names partitions."""
        return (np.datetime64(self.first_day.isoformat(), "D") + day).astype(str).astype(object)

    def after_creation(
        self, rng: np.random.Generator, second: np.ndarray, day: np.ndarray, created_second: np.ndarray
    ) -> np.ndarray:
        """Move rows timed before their customer's creation to a random later second of the same day."""
        day_end = self.day_start(day + 1)
        early = second <= created_second
        if early.any():
            room = day_end[early] - created_second[early] - 1
            second = second.copy()
            second[early] = (
                created_second[early] + 1 + np.floor(rng.random(early.sum()) * np.maximum(room, 0)).astype(np.int64)
            )
        return second


def _days_apart(day_of_year: np.ndarray, centre: int) -> np.ndarray:
    """Days between each day of the year and `centre`, the short way round the year."""
    distance = np.abs(day_of_year - centre)
    return np.minimum(distance, 365 - distance)
