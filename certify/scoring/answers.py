"""Answers as people and other systems give them (form text, JSON, import cells), read into the
values the engine scores, with the one number parser of ``numbers``.

``read_answer(indicator, given)`` takes, by indicator type:

- requirement: ``true`` / ``false`` (or the words ``yes`` / ``no``); a veto condition likewise,
  ``true`` meaning the situation is present;
- points: a number or its text (``2.5``); a yes/no item also ``true`` / ``false``;
- metric: a number or its text (``1,234.5``, ``１２．５``, ``82.5%`` where the unit is %), or
  ``{"value": ..., "unit": "tce/t"}`` in another unit of the same dimension, converted exactly;
- choice: an option key.

and returns the engine's value with the exact text typed (``None`` for JSON numbers). The range,
steps and options are checked by the engine itself, so every way in refuses the same answers with
the same reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from certify.scoring.engine import AnswerError
from certify.scoring.formula import Formula
from certify.scoring.model import Indicator, RuleSet
from certify.scoring.numbers import NumberFormatError, parse_number
from certify.scoring.vocabulary import Vocabulary, convert, shipped

_WORDS = {"yes": True, "no": False, "true": True, "false": False}


@dataclass(frozen=True, slots=True)
class ReadAnswer:
    """An answer read: the value for the engine, and the text as typed (``None`` if not text; for a
    computed metric, the texts of its inputs by key)."""

    value: object
    text: str | dict | None = None


def read_answer(indicator: Indicator, given: object, vocabulary: Vocabulary | None = None) -> ReadAnswer:
    """Read one answer for ``indicator``; raises ``AnswerError`` naming it."""
    if given is None:
        return ReadAnswer(None)
    if indicator.type in ("requirement", "veto") or (indicator.type == "points" and indicator.is_binary and _is_yes_no(given)):
        return ReadAnswer(_yes_no(indicator, given))
    if indicator.type == "choice":
        if not isinstance(given, str):
            raise AnswerError(indicator.id, f"must be an option key, not {given!r}", "not_an_option",
                              options=tuple(o.key for o in indicator.options))
        return ReadAnswer(given.strip())
    if indicator.is_computed:
        return _inputs(indicator, given)
    if isinstance(given, Mapping) and indicator.type == "metric":
        return _with_unit(indicator, given, vocabulary or shipped())
    return _number(indicator, given)


def _inputs(indicator: Indicator, given: object) -> ReadAnswer:
    """A computed metric's answer: each input (and assessed benchmark) read as a number."""
    if not isinstance(given, Mapping):
        raise AnswerError(indicator.id, "must give the values it is computed from", "wrong_kind")
    units = {i.key: i.unit for i in indicator.inputs} | {"baseline": indicator.unit, "leading": indicator.unit}
    values, texts = {}, {}
    for key, raw in given.items():
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        read = _number(indicator, raw, percent=units.get(key) is not None and units[key].key == "%")
        values[key] = read.value
        if read.text is not None:
            texts[key] = read.text
    return ReadAnswer(values or None, texts or None)


def read_answers(rule_set: RuleSet, given: Mapping[str, object],
                 vocabulary: Vocabulary | None = None) -> tuple[dict[str, object], dict[str, str]]:
    """Every answer of a JSON document or import: (values for the engine, texts as typed)."""
    if not isinstance(given, Mapping):
        raise AnswerError("answers", "must be a mapping of indicator id to answer", "wrong_kind")
    known = {i.id: i for i in rule_set.indicators}
    values, texts = {}, {}
    for indicator_id, answer in given.items():
        indicator = known.get(indicator_id)
        if indicator is None:
            raise AnswerError(str(indicator_id), "unknown indicator in this rule set", "unknown")
        read = read_answer(indicator, answer, vocabulary)
        if read.value is not None:
            values[indicator_id] = read.value
            if read.text is not None:
                texts[indicator_id] = read.text
    return values, texts


def _is_yes_no(given: object) -> bool:
    return isinstance(given, bool) or (isinstance(given, str) and given.strip().lower() in _WORDS)


def _yes_no(indicator: Indicator, given: object) -> bool:
    if isinstance(given, bool):
        return given
    if isinstance(given, str) and given.strip().lower() in _WORDS:
        return _WORDS[given.strip().lower()]
    raise AnswerError(indicator.id, f"must be true or false, not {given!r}", "wrong_kind")


def _number(indicator: Indicator, given: object, *, percent: bool | None = None) -> ReadAnswer:
    if isinstance(given, bool):
        raise AnswerError(indicator.id, f"must be a number, not {given!r}", "not_a_number")
    if isinstance(given, (int, Decimal)):
        return ReadAnswer(Decimal(given))
    if isinstance(given, float):
        return ReadAnswer(Decimal(repr(given)))
    if not isinstance(given, str):
        raise AnswerError(indicator.id, f"must be a number, not {given!r}", "not_a_number")
    if percent is None:
        percent = indicator.unit is not None and indicator.unit.key == "%"
    try:
        read = parse_number(given, percent=percent)
    except NumberFormatError as error:
        raise AnswerError(indicator.id, str(error), "not_a_number", hint=error.code, text=error.text) from None
    return ReadAnswer(read.value, read.text)


def _with_unit(indicator: Indicator, given: Mapping, vocabulary: Vocabulary) -> ReadAnswer:
    if set(given) != {"value", "unit"}:
        raise AnswerError(indicator.id, 'must be a number, or {"value": number, "unit": key}', "not_a_number")
    source = vocabulary.unit(given["unit"]) if isinstance(given["unit"], str) else None
    target = indicator.unit
    if source is None or target is None or source.dimension != target.dimension or source.factor is None:
        raise AnswerError(indicator.id, f"a value in {given['unit']!r} cannot be converted to {target.key if target else 'this indicator'}",
                          "wrong_unit", unit=given["unit"])
    read = _number(indicator, given["value"])
    return ReadAnswer(convert(read.value, source, target), read.text)


def best_answer(indicator: Indicator) -> object:
    """An answer, in the engine's types, that earns ``indicator`` its maximum: the best a missing
    answer could do (the upper bound of a re-score) and demonstration data."""
    if indicator.type == "veto":
        return False
    if indicator.type == "requirement":
        return True
    if indicator.type == "choice":
        return max(indicator.options, key=lambda option: option.points).key
    if indicator.is_computed:
        return figures_reaching(indicator, meeting_limit(indicator) if indicator.scoring == "limit" else indicator.leading)
    if indicator.scoring == "limit":
        return meeting_limit(indicator)
    if indicator.type == "metric":
        return max(indicator.bands, key=lambda band: band.points).at if indicator.bands else indicator.leading
    return indicator.max


def meeting_limit(indicator: Indicator) -> Decimal:
    """A value that meets a metric's limit: the limit itself, or (``strict``) halfway from it to
    the edge of the range on the better side."""
    limit = indicator.limit
    if not indicator.strict:
        return limit
    domain = indicator.range
    if indicator.better == "higher":
        edge = domain.max if domain is not None and domain.max is not None else limit + 2
    else:
        edge = domain.min if domain is not None and domain.min is not None else limit - 2
    return (limit + edge) / 2


def figures_reaching(indicator: Indicator, target: Decimal | None) -> dict[str, Decimal]:
    """Figures of a computed indicator whose value is ``target`` (every input 1 but the first,
    solved for: the formulas of the shipped files are linear in it; an input whose range starts
    above 1, such as a band of energy use, at the start of its range). Where the assessment sets
    the industry's levels, the figures are all 1 and the levels put ``target`` (None) at the
    leading value."""
    formula, keys = Formula(indicator.formula), [i.key for i in indicator.inputs]
    ones = {i.key: _least(i.range) for i in indicator.inputs}
    if indicator.benchmarks == "assessed":
        value = formula.evaluate(ones)
        worse = value + 1 if indicator.better == "lower" else value / 2
        return ones | {"leading": value, "baseline": worse}
    at_zero = formula.evaluate(ones | {keys[0]: Decimal(0)})
    slope = formula.evaluate(ones) - at_zero
    return ones | {keys[0]: (Decimal(target) - at_zero) / slope}


def _least(domain) -> Decimal:
    """1, or the least value of ``domain`` where that is larger (an inclusive lower bound)."""
    if domain is None or domain.min is None or domain.min < 1:
        return Decimal(1)
    return domain.min if not domain.exclusive_min else domain.min + 1
