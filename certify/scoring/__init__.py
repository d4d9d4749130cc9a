"""The rule-file engine: load and check rule files, score answers against them.

Pure Python (standard library, PyYAML, jsonschema): nothing here imports Flask or SQLAlchemy, reads
a database or depends on the clock, so a score can be recomputed anywhere from a frozen rule set.

    rule_set = load("criteria/supply-chain-miit-2016.yaml")    # RuleFileError names file:line: key path
    values, texts = read_answers(rule_set, {"X11": 8, "X26": "82.5%"})   # the one number parser
    result = score(rule_set, values, not_applicable={"X41": "why"}, threshold="75")
    result.total, result.passed, result.failed_requirements, result.indicators[0].explanation
    frozen = rule_set.to_dict();  RuleSet.from_dict(frozen) == rule_set
"""

from certify.scoring.answers import ReadAnswer, read_answer, read_answers
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
from certify.scoring.model import Indicator, Range, RuleSet, Section, Text, Unit
from certify.scoring.numbers import NumberFormatError, NumberText, parse_number
from certify.scoring.vocabulary import Industry, Kind, Vocabulary, VocabularyError

__all__ = [
    "AnswerError",
    "Indicator",
    "IndicatorResult",
    "Industry",
    "Kind",
    "NumberFormatError",
    "NumberText",
    "Problem",
    "Range",
    "ReadAnswer",
    "Result",
    "RuleFileError",
    "RuleSet",
    "Section",
    "SectionResult",
    "Text",
    "Unit",
    "Vocabulary",
    "VocabularyError",
    "applicable_indicators",
    "load",
    "loads",
    "max_total",
    "parse_number",
    "read_answer",
    "read_answers",
    "score",
]
