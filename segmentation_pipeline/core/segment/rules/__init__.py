"""Marketer-defined segments: a small declarative language of segment rules over feature columns, plus manual
assignments kept by account managers.

A segment rule is one line such as ``monetary >= 1000 and frequency >= 10``. The package follows a rule's way:
``tokens`` and ``parser`` turn its text into the frozen syntax tree of ``syntax``, ``type_checks`` checks it against
the kinds of the feature columns, ``loader`` reads the marketers' YAML file of segments, ``evaluation`` computes
the members on whole columns and ``manual`` reads the account managers' CSV. Rule text is only ever tokenized and
parsed: it never reaches ``eval``. ``examples/`` holds a sample of each file.

Callers import from this package, never from its modules.
"""

from segmentation_pipeline.core.segment.rules.evaluation import (
    MEMBERSHIP_KIND_COLUMN,
    RULE_MEMBERSHIP,
    empty_memberships,
    evaluate,
)
from segmentation_pipeline.core.segment.rules.loader import (
    load_rule_segments,
    parse_rule_segments,
    read_marketer_yaml,
    read_utf8_text,
)
from segmentation_pipeline.core.segment.rules.manual import (
    ManualAssignments,
    active_assignments,
    load_manual_assignments,
    read_manual_assignments,
)
from segmentation_pipeline.core.segment.rules.syntax import (
    MAX_SEGMENT_NAME_CHARS,
    And,
    BoolColumn,
    Comparison,
    Expression,
    InList,
    IsNull,
    Literal,
    Not,
    Or,
    RuleError,
    RuleSegment,
    columns_of,
)
from segmentation_pipeline.core.segment.rules.type_checks import schema_of

__all__ = [
    "MAX_SEGMENT_NAME_CHARS",
    "MEMBERSHIP_KIND_COLUMN",
    "RULE_MEMBERSHIP",
    "And",
    "BoolColumn",
    "Comparison",
    "Expression",
    "InList",
    "IsNull",
    "Literal",
    "ManualAssignments",
    "Not",
    "Or",
    "RuleError",
    "RuleSegment",
    "active_assignments",
    "columns_of",
    "empty_memberships",
    "evaluate",
    "load_manual_assignments",
    "load_rule_segments",
    "parse_rule_segments",
    "read_manual_assignments",
    "read_marketer_yaml",
    "read_utf8_text",
    "schema_of",
]
