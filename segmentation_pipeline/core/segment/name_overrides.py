"""The marketers' segment names (`segment_names.json`, e.g. ``{"4": "Night readers"}``): read strictly, and laid over
a model's generated names each time a snapshot is scored, so an edit shows at the next publish, not the next refit.

Every problem of the file is reported at once (RuleError), each naming the file; nothing of it is echoed unbounded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from segmentation_pipeline.core.errors import bounded, quoted
from segmentation_pipeline.core.segment.rules import MAX_SEGMENT_NAME_CHARS, RuleError, read_utf8_text

_SEGMENT_ID_RE = re.compile(r"[0-9]{1,18}")
_EXAMPLE = '{"3": "Weekend browsers"}'


class _Pairs(list):
    """A JSON object as its (key, value) pairs in file order, so repeated keys are seen instead of the last winning."""


@dataclass(frozen=True)
class _Number:
    """A JSON number kept as its text: only ever shown in a message, and a 5,000-digit one would not convert."""

    text: str


def read_name_overrides(path: Path) -> dict[int, str]:
    """Segment id -> the name marketers chose; raises RuleError listing every problem of the file."""
    origin = str(path)
    text = read_utf8_text(Path(path))
    if not text.strip():
        raise RuleError(f"{origin}: the file is empty; expected an object such as {_EXAMPLE}", origin)
    try:
        data = json.loads(
            text, object_pairs_hook=_Pairs, parse_int=_Number, parse_float=_Number, parse_constant=_Number
        )
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise RuleError(f"{origin}: not valid JSON at {where}: {error.msg}", origin) from None
    except RecursionError:
        raise RuleError(f"{origin}: not valid JSON: nested too deeply", origin) from None
    if not isinstance(data, _Pairs):
        raise RuleError(
            f"{origin}: expected an object of segment ids and names such as {_EXAMPLE}, found {_json_kind(data)}",
            origin,
        )
    problems: list[str] = []
    names = _valid_names(data, origin, problems)
    problems.extend(_shared_names(names, origin))
    if problems:
        raise RuleError(problems, origin)
    return names


def _valid_names(pairs: _Pairs, origin: str, problems: list[str]) -> dict[int, str]:
    """The well-formed (id, name) entries; the problems of the others are appended to `problems`."""
    names: dict[int, str] = {}
    for key, name in pairs:
        if not _SEGMENT_ID_RE.fullmatch(key):
            problems.append(f'{origin}: key {quoted(key)} is not a segment id (expected a whole number such as "3")')
            continue
        segment_id = int(key)
        if segment_id in names:
            problems.append(f"{origin}: segment {segment_id} is named twice")
        elif not isinstance(name, str):
            found = _json_kind(name)
            problems.append(f"{origin}: the name of segment {segment_id} must be text in quotes, found {found}")
        elif not name.strip():
            problems.append(f"{origin}: the name of segment {segment_id} is empty")
        elif len(name.strip()) > MAX_SEGMENT_NAME_CHARS:
            problems.append(
                f"{origin}: the name of segment {segment_id} is {len(name.strip()):,} characters long; "
                f"at most {MAX_SEGMENT_NAME_CHARS} are allowed"
            )
        else:
            names[segment_id] = name.strip()
    return names


def _shared_names(names: dict[int, str], origin: str) -> list[str]:
    """A problem per name given to more than one segment (ignoring case): BI could not tell them apart."""
    ids_by_name: dict[str, list[int]] = {}
    for segment_id, name in sorted(names.items()):
        ids_by_name.setdefault(name.casefold(), []).append(segment_id)
    return [
        f"{origin}: the name {quoted(names[ids[0]])} is used for segments {_listed(ids)}"
        for ids in ids_by_name.values()
        if len(ids) > 1
    ]


def apply_name_overrides(
    generated: dict[int, str], overrides: dict[int, str], origin: str, model_version: str
) -> tuple[dict[int, str], list[str]]:
    """The names to publish: the marketers' override where there is one, else the model's generated name; and a
    warning per override of an id the model does not have (ignored) and per generated name an override took (that
    segment keeps its name with its id appended, so names stay unique)."""
    unknown = sorted(set(overrides) - set(generated))
    warnings = []
    if unknown:
        warnings.append(
            f"{origin}: model {model_version} has no segment {_listed(unknown)}; "
            f"{'its name is' if len(unknown) == 1 else 'their names are'} not used"
        )
    names = {segment_id: overrides.get(segment_id, name) for segment_id, name in generated.items()}
    taken = {overrides[segment_id].casefold() for segment_id in generated if segment_id in overrides}
    for segment_id, name in generated.items():
        if segment_id not in overrides and name.casefold() in taken:
            names[segment_id] = f"{name} ({segment_id})"
            warnings.append(
                f"{origin}: segment {segment_id}'s generated name {quoted(name)} is the name given to another "
                f"segment; segment {segment_id} is published as {quoted(names[segment_id])}"
            )
    return names, warnings


def _listed(ids: list[int]) -> str:
    return ", ".join(map(str, ids[:-1])) + f" and {ids[-1]}" if len(ids) > 1 else str(ids[0])


def _json_kind(value: object) -> str:
    """How a JSON value that is not what was expected is named in a message."""
    if isinstance(value, _Pairs):
        return "an object"
    if isinstance(value, _Number):
        return f"the number {bounded(value.text, 80)}"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return f"the text {quoted(value)}"
