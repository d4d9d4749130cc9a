"""The form codec of rule-set answers: how a page of indicators is read from a submitted form,
stored as JSON, shown back, and explained when refused. The self-assessment, the assessor's
score sheet and the annual declarations all read their pages here.

Stored form (JSON): a requirement is ``true``/``false`` (met), a veto condition ``true``/``false``
(present); points and metric values are decimal
strings (``"12.5"``), never floats; a choice is the option key; anything not answered is absent.
The text a person typed (``1,234.5``) is kept beside it in ``texts`` when it differs. Numbers are
read by the one parser of the engine, and every answer is checked against what the rule file
declares (range, steps, options) before it is stored: a refused answer is shown back with its
message, never stored, never capped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from certify.i18n import current_language
from certify.scoring import AnswerError, Indicator, Range, RuleSet, read_answer
from certify.scoring.engine import check_answer, computer
from certify.scoring.model import short

YES, NO = "yes", "no"
MAX_REMARK_LENGTH = 2000
MAX_REASON_LENGTH = 1000
# An answer is a choice or a number: anything longer is refused (and shown back cut to this).
MAX_ANSWER_LENGTH = 100


@dataclass
class ParsedAnswers:
    """What a submitted page said: valid answers to store (with the texts typed), answers
    cleared, not-applicable declarations made (id -> reason) and withdrawn, remarks, and errors
    by indicator id with the raw text the user typed (shown back, never discarded)."""

    answers: dict = field(default_factory=dict)
    texts: dict = field(default_factory=dict)
    cleared: set = field(default_factory=set)
    declared: dict = field(default_factory=dict)
    undeclared: set = field(default_factory=set)
    remarks: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)


def answer_field(indicator_id: str) -> str:
    return f"a-{indicator_id}"


def remark_field(indicator_id: str) -> str:
    return f"r-{indicator_id}"


def not_applicable_field(indicator_id: str) -> str:
    """The checkbox that declares the indicator not applicable (不适用)."""
    return f"na-{indicator_id}"


def reason_field(indicator_id: str) -> str:
    """The reason given with a not-applicable declaration."""
    return f"nar-{indicator_id}"


def parse_one(indicator: Indicator, raw: str) -> tuple[object, str | None]:
    """The stored value for ``raw`` (``None`` when left empty) and the text typed when it is
    worth keeping; ``ValueError`` with a message in the user's language when refused."""
    raw = (raw or "").strip()
    if raw == "":
        return None, None
    if len(raw) > MAX_ANSWER_LENGTH:
        raise ValueError(_l("This answer is too long: at most %(count)d characters.", count=MAX_ANSWER_LENGTH))
    if indicator.type in ("requirement", "veto"):
        if raw not in (YES, NO):
            raise ValueError(_l("Choose met or not met.") if indicator.type == "requirement"
                             else _l("Say whether the situation exists."))
        return raw == YES, None
    try:
        read = read_answer(indicator, raw)
        check_answer(indicator, read.value)
    except AnswerError as error:
        raise ValueError(answer_error_message(error, indicator)) from None
    if indicator.type == "choice":
        return read.value, None
    value = read.value.normalize() if indicator.type == "points" else read.value
    stored = _decimal_text(value)
    return stored, read.text if read.text not in (None, stored) else None


def input_field(indicator_id: str, key: str) -> str:
    """The field of one input (or assessed benchmark) of a computed indicator."""
    return f"{answer_field(indicator_id)}.{key}"


def input_keys(indicator: Indicator, *, figures_only: bool = False) -> list[str]:
    """The values a computed indicator's answer holds: its inputs, then any assessed benchmarks
    (with ``figures_only``, the inputs alone: the unit's own figures)."""
    keys = [i.key for i in indicator.inputs]
    return keys if figures_only or indicator.benchmarks != "assessed" else keys + ["baseline", "leading"]


def _parse_computed(parsed: ParsedAnswers, indicator: Indicator, form, figures_only: bool) -> None:
    keys = input_keys(indicator, figures_only=figures_only)
    names = {key: input_field(indicator.id, key) for key in keys}
    if not any(name in form for name in names.values()):
        return
    raw = {key: (form.get(name) or "").strip() for key, name in names.items()}
    if not any(raw.values()):
        parsed.cleared.add(indicator.id)
        return
    if any(len(text) > MAX_ANSWER_LENGTH for text in raw.values()):
        parsed.errors[indicator.id] = _l("This answer is too long: at most %(count)d characters.",
                                         count=MAX_ANSWER_LENGTH)
        parsed.raw[indicator.id] = {key: text[:MAX_ANSWER_LENGTH] for key, text in raw.items()}
        return
    try:
        read = read_answer(indicator, raw)
        if figures_only:  # the value must be computable from them; no benchmark is asked
            computer(indicator)(read.value)
        else:
            check_answer(indicator, read.value)
    except AnswerError as error:
        parsed.errors[indicator.id] = answer_error_message(error, indicator)
        parsed.raw[indicator.id] = raw
        return
    stored = {key: _decimal_text(value) for key, value in read.value.items()}
    parsed.answers[indicator.id] = stored
    typed = {key: text for key, text in (read.text or {}).items() if text != stored.get(key)}
    if typed:
        parsed.texts[indicator.id] = typed


def parse_page(indicators, form, *, declarable: bool = False, figures_only: bool = False) -> ParsedAnswers:
    """Read one page of indicators; with ``declarable``, also the not-applicable declarations
    of the indicators whose rule file allows them; with ``figures_only``, a computed metric's
    inputs alone (a self-declaration gives its figures, not the industry's benchmarks)."""
    parsed = ParsedAnswers()
    for indicator in indicators:
        name = answer_field(indicator.id)
        if indicator.is_computed:
            if declarable and indicator.not_applicable and form.get(f"{not_applicable_field(indicator.id)}-shown"):
                _read_declaration(parsed, indicator, form, form.get(not_applicable_field(indicator.id)) == "1")
            _parse_computed(parsed, indicator, form, figures_only)
            if indicator.id in parsed.declared and indicator.id in parsed.answers:
                parsed.declared.pop(indicator.id)
                parsed.answers.pop(indicator.id)
                parsed.errors[indicator.id] = _l("You declared this indicator not applicable: clear the answer, or "
                                                 "untick “not applicable”.")
            remark = form.get(remark_field(indicator.id))
            if remark is not None:
                parsed.remarks[indicator.id] = remark.strip()[:MAX_REMARK_LENGTH]
            continue
        declared = declarable and indicator.not_applicable and form.get(not_applicable_field(indicator.id)) == "1"
        if declarable and indicator.not_applicable and form.get(f"{not_applicable_field(indicator.id)}-shown"):
            _read_declaration(parsed, indicator, form, declared)
        if name in form:
            raw = form.get(name, "")
            try:
                value, text = parse_one(indicator, raw)
            except ValueError as error:
                parsed.errors[indicator.id] = error.args[0]
                parsed.raw[indicator.id] = raw[:MAX_ANSWER_LENGTH]
            else:
                if value is None:
                    parsed.cleared.add(indicator.id)
                elif declared:  # which of the two is meant is not for us to guess: neither is saved
                    parsed.declared.pop(indicator.id, None)
                    parsed.errors[indicator.id] = _l("You declared this indicator not applicable: clear the "
                                                     "answer, or untick “not applicable”.")
                    parsed.raw[indicator.id] = raw
                else:
                    parsed.answers[indicator.id] = value
                    if text is not None:
                        parsed.texts[indicator.id] = text
        remark = form.get(remark_field(indicator.id))
        if remark is not None:
            parsed.remarks[indicator.id] = remark.strip()[:MAX_REMARK_LENGTH]
    return parsed


def _read_declaration(parsed: ParsedAnswers, indicator: Indicator, form, declared: bool) -> None:
    if not declared:
        parsed.undeclared.add(indicator.id)
        return
    reason = (form.get(reason_field(indicator.id)) or "").strip()[:MAX_REASON_LENGTH]
    if not reason:
        parsed.errors[indicator.id] = _l("Say why this indicator does not apply to you.")
        parsed.raw.setdefault(indicator.id, form.get(answer_field(indicator.id), ""))
        return
    parsed.declared[indicator.id] = reason


def for_engine(rule_set: RuleSet, stored: dict) -> dict:
    """Stored answers in the types the scoring engine takes; unknown ids are left out."""
    known = {indicator.id: indicator for indicator in rule_set.indicators}
    converted = {}
    for indicator_id, value in (stored or {}).items():
        indicator = known.get(indicator_id)
        if indicator is None:
            continue
        if indicator.is_computed:
            converted[indicator_id] = {key: Decimal(number) for key, number in value.items()}
        elif indicator.type in ("points", "metric"):
            converted[indicator_id] = Decimal(value)
        else:
            converted[indicator_id] = value
    return converted


def form_value(indicator: Indicator, stored, texts: dict | None = None) -> str:
    """The text a form field shows for a stored answer (as it was typed, where that was kept)."""
    if indicator.is_computed:
        typed = (texts or {}).get(indicator.id) or {}
        return {key: typed.get(key) or (stored or {}).get(key, "") for key in input_keys(indicator)}
    if stored is None:
        return ""
    if indicator.type in ("requirement", "veto"):
        return YES if stored else NO
    return (texts or {}).get(indicator.id) or str(stored)


# ---- messages -------------------------------------------------------------------------------------

_HINTS = {
    "empty": _l("enter a number"),
    "decimal_comma": _l("use a point for decimals (1.2); commas only separate groups of three digits (1,234.5)"),
    "grouping": _l("commas may only separate groups of three digits, as in 1,234.5"),
    "space": _l("remove the spaces inside the number"),
    "exponent": _l("write the number in full, without an exponent"),
    "percent": _l("a percentage sign is only allowed where the unit is %"),
    "too_long": _l("the number has too many digits"),
    "malformed": _l("write a number such as 12.5"),
}


def answer_error_message(error: AnswerError, indicator: Indicator | None = None) -> str:
    """The refusal of an answer in the user's language, naming the indicator, and for a value
    out of range the allowed range and the unit. A plain string, so that templates escape what it
    quotes of the user's input (a lazy string would pass as markup)."""
    return str(_answer_error_message(error, indicator))


def _answer_error_message(error: AnswerError, indicator: Indicator | None):
    title = _title(indicator) if indicator is not None else error.indicator_id
    params = error.params
    if error.code == "out_of_range" and params.get("input") is not None:
        entry = params["input"]
        unit = _unit_of(entry.unit)
        return _l("%(indicator)s: %(input)s %(value)s%(unit)s is outside the allowed range, %(range)s%(unit)s.",
                  indicator=title, input=_text(entry.title), value=_decimal_text(params["value"]), unit=unit,
                  range=describe_range(params["range"]))
    if error.code == "out_of_range" and params.get("computed"):
        unit = _unit(indicator)
        return _l("%(indicator)s: the value computed from your figures, %(value)s%(unit)s, is outside the allowed "
                  "range, %(range)s%(unit)s: check the figures.", indicator=title, value=short(params["value"]),
                  unit=unit, range=describe_range(params["range"]))
    if error.code == "missing_input":
        return _l("%(indicator)s: fill in every figure it is computed from (%(input)s is missing).",
                  indicator=title, input=_text(params["input"].title))
    if error.code == "missing_benchmark":
        return _l("%(indicator)s: give the industry's baseline and leading values.", indicator=title)
    if error.code == "benchmarks_order":
        return _l("%(indicator)s: the industry's leading value must be better than its baseline.", indicator=title)
    if error.code == "zero_divisor":
        return _l("%(indicator)s cannot be computed: %(divisor)s is 0.", indicator=title, divisor=params["divisor"])
    if error.code == "out_of_range":
        unit = _unit(indicator)
        return _l("%(indicator)s: %(value)s%(unit)s is outside the allowed range, %(range)s%(unit)s.",
                  indicator=title, value=_decimal_text(params["value"]), unit=unit,
                  range=describe_range(params["range"]))
    if error.code == "not_a_number":
        hint = _HINTS.get(params.get("hint"), _HINTS["malformed"])
        return _l("%(indicator)s: “%(text)s” is not a number: %(hint)s.", indicator=title,
                  text=params.get("text", ""), hint=hint)
    if error.code == "not_a_step":
        return _l("%(indicator)s: choose from 0 to %(max)s points in steps of %(step)s.", indicator=title,
                  max=_decimal_text(params["max"]), step=_decimal_text(params["step"]))
    if error.code == "not_an_option":
        return _l("%(indicator)s: choose one of the options.", indicator=title)
    if error.code == "not_for_industry":
        return _l("%(indicator)s does not apply to your industry class: clear its answer.", indicator=title)
    if error.code == "na_not_allowed":
        return _l("%(indicator)s cannot be declared not applicable under this rule file.", indicator=title)
    if error.code == "na_reason":
        return _l("%(indicator)s: say why it does not apply.", indicator=title)
    if error.code == "na_and_answer":
        return _l("%(indicator)s is declared not applicable and answered: clear the answer, or untick "
                  "“not applicable”.", indicator=title)
    return _l("%(indicator)s: the answer cannot be read.", indicator=title)


def threshold_source(terms) -> str:
    """Where a pass mark comes from, in the user's language."""
    if terms.source == "file":
        return str(_l("from the rule file"))
    return str(_l("set by the department (%(setting)s)", setting=f"CRITERIA_THRESHOLDS “{terms.source}”"))


def describe_range(domain: Range) -> str:
    """A range in the user's language: ``大于 0``, ``0 至 100``; ``greater than 0``."""
    if current_language() != "zh":
        return domain.describe()
    low = high = None
    if domain.min is not None:
        low = ("大于 " if domain.exclusive_min else "不小于 ") + _decimal_text(domain.min)
    if domain.max is not None:
        high = ("小于 " if domain.exclusive_max else "不大于 ") + _decimal_text(domain.max)
    if low and high and not (domain.exclusive_min or domain.exclusive_max):
        return f"{_decimal_text(domain.min)} 至 {_decimal_text(domain.max)}"
    return "且".join(part for part in (low, high) if part) or "任意数值"


def _title(indicator: Indicator) -> str:
    return indicator.title.zh if current_language() == "zh" else indicator.title.en


def _unit(indicator: Indicator | None) -> str:
    return _unit_of(indicator.unit if indicator is not None else None)


def _unit_of(unit) -> str:
    if unit is None or unit.key == "ratio":
        return ""
    return " " + (unit.zh if current_language() == "zh" else unit.en)


def _text(text) -> str:
    return text.zh if current_language() == "zh" else text.en


def _decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
