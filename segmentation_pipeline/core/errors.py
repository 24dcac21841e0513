"""What a user is told when input, configuration or the environment cannot be used: one bounded line per problem
that names the file, table, column or setting, the rule and the count, and never shows personal data."""

from __future__ import annotations

from collections.abc import Iterable

from segmentation_pipeline.core.ingest.contract import PERSONAL_DATA_COLUMNS

MAX_PROBLEM_CHARS = 1000
"""No single problem's message is longer than this, whatever the input (a 1 MB rule line, an expanded YAML alias)."""
MASK = "<personal data>"
QUOTED_CHARS = 80
"""A value quoted inside a message is cut to this, so the rest of the message (the hint) still shows."""


class PipelineError(Exception):
    """Input, configuration or environment the pipeline cannot use; the CLI prints the message and exits with 1."""


def bounded(text: str, limit: int = MAX_PROBLEM_CHARS) -> str:
    """`text` cut to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    tail = f"… ({len(text) - limit} more characters)"
    return text[: max(limit - len(tail), 0)] + tail


def quoted(value: object) -> str:
    """`value` as quoted in a message: its repr, cut to QUOTED_CHARS."""
    return bounded(repr(value), QUOTED_CHARS)


def examples(values: Iterable[object], column: str, limit: int = 5) -> str:
    """Up to `limit` example values for a message, each bounded; values of personal-data columns are masked."""
    shown = [MASK if column in PERSONAL_DATA_COLUMNS else quoted(value) for value in list(values)[:limit]]
    return ", ".join(shown)
