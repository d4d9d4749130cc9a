"""Self-assessment answers: how they are read from forms, stored as JSON and given to the engine.

Stored form (JSON): a requirement is ``true``/``false``; points and metric values are decimal
strings (``"12.5"``), never floats; a choice is the option key. Anything not answered is absent.
"""

import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from certify.scoring import Indicator, RuleSet, applicable_indicators
from certify.scoring.model import BASIC_SECTION_ID

YES, NO = "yes", "no"
MAX_REMARK_LENGTH = 2000


@dataclass
class ParsedAnswers:
    """What a submitted page said: valid answers to store, and errors by indicator id with the
    raw text the user typed (shown back, never discarded)."""

    answers: dict = field(default_factory=dict)
    cleared: set = field(default_factory=set)
    remarks: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)


def answer_field(indicator_id: str) -> str:
    return f"a-{indicator_id}"


def remark_field(indicator_id: str) -> str:
    return f"r-{indicator_id}"


def parse_decimal(text: str) -> Decimal | None:
    """A number typed by a person: full-width digits, thousands separators and spaces allowed."""
    cleaned = unicodedata.normalize("NFKC", text or "").replace(",", "").replace(" ", "")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(cleaned) from None
    if not value.is_finite():
        raise ValueError(cleaned)
    return value


def _points_choices(indicator: Indicator) -> list[Decimal]:
    steps = int(indicator.max / indicator.step)
    return [(indicator.step * n).normalize() for n in range(steps + 1)]


def parse_one(indicator: Indicator, raw: str):
    """The stored value for ``raw`` (``None`` when left empty), or ``ValueError`` with a message."""
    raw = (raw or "").strip()
    if raw == "":
        return None
    if indicator.type == "requirement":
        if raw not in (YES, NO):
            raise ValueError(_l("Choose met or not met."))
        return raw == YES
    if indicator.type == "choice":
        if raw not in {option.key for option in indicator.options}:
            raise ValueError(_l("Choose one of the options."))
        return raw
    try:
        value = parse_decimal(raw)
    except ValueError:
        raise ValueError(_l("Enter a number, such as 12.5.")) from None
    if indicator.type == "points":
        if value not in _points_choices(indicator):
            raise ValueError(_l("Choose from 0 to %(max)s points in steps of %(step)s.",
                                max=indicator.max.normalize(), step=indicator.step.normalize()))
        return str(value.normalize())
    # metric
    if value < 0:
        raise ValueError(_l("A reported value cannot be negative."))
    return str(value)


def parse_page(indicators, form) -> ParsedAnswers:
    """Read one page of the self-assessment form."""
    parsed = ParsedAnswers()
    for indicator in indicators:
        name = answer_field(indicator.id)
        if name in form:
            raw = form.get(name, "")
            try:
                value = parse_one(indicator, raw)
            except ValueError as error:
                parsed.errors[indicator.id] = error.args[0]
                parsed.raw[indicator.id] = raw
            else:
                if value is None:
                    parsed.cleared.add(indicator.id)
                else:
                    parsed.answers[indicator.id] = value
        remark = form.get(remark_field(indicator.id))
        if remark is not None:
            parsed.remarks[indicator.id] = remark.strip()[:MAX_REMARK_LENGTH]
    return parsed


def for_engine(rule_set: RuleSet, stored: dict) -> dict:
    """Stored answers in the types the scoring engine takes; unknown ids are left out."""
    known = {indicator.id: indicator for indicator in rule_set.indicators}
    converted = {}
    for indicator_id, value in (stored or {}).items():
        indicator = known.get(indicator_id)
        if indicator is None:
            continue
        if indicator.type in ("points", "metric"):
            converted[indicator_id] = Decimal(value)
        else:
            converted[indicator_id] = value
    return converted


def form_value(indicator: Indicator, stored) -> str:
    """The text a form field shows for a stored answer."""
    if stored is None:
        return ""
    if indicator.type == "requirement":
        return YES if stored else NO
    return str(stored)


def pages(rule_set: RuleSet, industry: str | None) -> list[tuple[str, object, list[Indicator]]]:
    """The self-assessment pages: (page id, section or None for basic requirements, indicators)."""
    applicable = {indicator.id for indicator in applicable_indicators(rule_set, industry)}
    result = []
    if rule_set.basic_requirements:
        result.append((BASIC_SECTION_ID, None, list(rule_set.basic_requirements)))
    for section in rule_set.sections:
        indicators = [i for i in section.indicators if i.id in applicable]
        if indicators:
            result.append((section.id, section, indicators))
    return result


def missing_answers(rule_set: RuleSet, industry: str | None, stored: dict) -> list[Indicator]:
    """Indicators still unanswered: every basic requirement and every required indicator must be
    answered before submission (optional ones may stay empty and then earn nothing)."""
    missing = []
    for _page, _section, indicators in pages(rule_set, industry):
        for indicator in indicators:
            if indicator.required and indicator.id not in (stored or {}):
                missing.append(indicator)
    return missing
