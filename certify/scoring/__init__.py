"""The rule-file engine: load and check rule files, score answers against them.

Pure Python (standard library, PyYAML, jsonschema): nothing here imports Flask or SQLAlchemy, reads
a database or depends on the clock, so a score can be recomputed anywhere from a frozen rule set.

    rule_set = load("criteria/supply-chain-miit-2016.yaml")    # RuleFileError names file:line: key path
    result = score(rule_set, {"X11": 8, "BR1": True}, threshold="75", industry=None)
    result.total, result.passed, result.failed_requirements, result.indicators[0].explanation
    frozen = rule_set.to_dict();  RuleSet.from_dict(frozen) == rule_set
"""

from certify.scoring.engine import (
    AnswerError,
    IndicatorResult,
    Result,
    SectionResult,
    applicable_indicators,
    max_total,
    score,
)
from certify.scoring.loader import Problem, RuleFileError, load, loads
from certify.scoring.model import KINDS, Indicator, RuleSet, Section, Text

__all__ = [
    "KINDS",
    "AnswerError",
    "Indicator",
    "IndicatorResult",
    "Problem",
    "Result",
    "RuleFileError",
    "RuleSet",
    "Section",
    "SectionResult",
    "Text",
    "applicable_indicators",
    "load",
    "loads",
    "max_total",
    "score",
]
