"""The rule-set model: immutable dataclasses built by the loader and read by the engine.

A ``RuleSet`` is everything one rule file says, with numbers as ``Decimal`` and dates as
``datetime.date``. ``RuleSet.to_dict()`` gives a JSON-compatible copy (numbers as decimal strings)
that ``RuleSet.from_dict()`` turns back into an equal ``RuleSet``: an application stores that frozen
copy and is re-scored from it forever, whatever later happens to the file.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

INDICATOR_TYPES = ("requirement", "points", "metric", "choice", "veto")
BASIC_SECTION_ID = "basic"
# Veto conditions (否决条件): situations that, if present, stop an application before any score.
VETO_SECTION_ID = "veto"
# What declaring an indicator not applicable (不适用) does: ``renormalise`` leaves it out of its
# section's maximum (the section still scores up to its weight); ``full_points`` awards its
# maximum. An indicator without a policy cannot be declared not applicable.
NOT_APPLICABLE_POLICIES = ("renormalise", "full_points")

# Version of the to_dict() layout; from_dict() reads this one and upgrades older copies (format 1:
# units as bare names, no answer ranges, no declared total, no not-applicable policies; format 2:
# provisional reasons in English only).
FROZEN_FORMAT = 3


@dataclass(frozen=True, slots=True)
class Text:
    """A text a user reads, in Chinese and English."""

    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Standard:
    """The standard a rule set follows (code such as ``GB/T 36132-2018`` and its title)."""

    code: str
    title: Text


@dataclass(frozen=True, slots=True)
class Provisional:
    """Marks a value that the collected references did not verify, with the reason: for the
    department's staff and assessors, in Chinese first (applicants see only that it is provisional)."""

    reason: Text


@dataclass(frozen=True, slots=True)
class Range:
    """The values an answer may take: bounds inclusive unless marked exclusive; ``None`` = open."""

    min: Decimal | None = None
    max: Decimal | None = None
    exclusive_min: bool = False
    exclusive_max: bool = False

    @classmethod
    def from_mapping(cls, data, number=Decimal) -> Range:
        """From a rule file's ``range``: ``[min, max]`` (inclusive) or ``{min, max, exclusive_*}``."""
        if isinstance(data, (list, tuple)):
            low, high = data
            return cls(None if low is None else number(low), None if high is None else number(high))
        return cls(
            min=None if data.get("min") is None else number(data["min"]),
            max=None if data.get("max") is None else number(data["max"]),
            exclusive_min=bool(data.get("exclusive_min", False)),
            exclusive_max=bool(data.get("exclusive_max", False)),
        )

    def contains(self, value: Decimal) -> bool:
        if self.min is not None and (value <= self.min if self.exclusive_min else value < self.min):
            return False
        return self.max is None or (value < self.max if self.exclusive_max else value <= self.max)

    def describe(self) -> str:
        """The range in English words, e.g. ``greater than 0`` or ``from 0 to 100``."""
        low = None if self.min is None else ("greater than " if self.exclusive_min else "at least ") + plain(self.min)
        high = None if self.max is None else ("less than " if self.exclusive_max else "at most ") + plain(self.max)
        if low and high and not (self.exclusive_min or self.exclusive_max):
            return f"from {plain(self.min)} to {plain(self.max)}"
        return " and ".join(part for part in (low, high) if part) or "any number"


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit of the vocabulary: its key (``kgce/t``), names, dimension, size relative to the
    dimension's base unit, and the range every answer in it must lie in (``%``: 0 to 100)."""

    key: str
    zh: str
    en: str
    dimension: str
    factor: Decimal | None = None
    range: Range | None = None


@dataclass(frozen=True, slots=True)
class Input:
    """One value a computed indicator is calculated from, reported by the applicant (or, for the
    benchmarks ``baseline`` and ``leading`` of an assessed indicator, by the assessor)."""

    key: str
    title: Text
    unit: Unit | None = None
    range: Range | None = None


@dataclass(frozen=True, slots=True)
class Band:
    """A threshold of a banded metric: reaching ``at`` earns ``points``."""

    at: Decimal
    points: Decimal


@dataclass(frozen=True, slots=True)
class Level:
    """A descriptor of what earns ``points`` on a points indicator."""

    points: Decimal
    title: Text


@dataclass(frozen=True, slots=True)
class Option:
    """One answer of a choice indicator."""

    key: str
    title: Text
    points: Decimal


@dataclass(frozen=True, slots=True)
class NoteKind:
    """A kind of note an assessor writes on an indicator, and whether the applicant sees it."""

    key: str
    title: Text
    visible_to_applicant: bool


@dataclass(frozen=True, slots=True)
class Indicator:
    """One thing that is checked or scored.

    ``type`` is ``veto`` (a situation that stops the application when present: answered ``true``
    for present, ``false`` for absent), ``requirement`` (met / not met, vetoes when not met, no
    points), ``points``
    (0..max in steps), ``metric`` (a reported number scored by ``bands`` or ``linear`` between
    ``baseline`` and ``leading``, or held to a ``limit``: met when no worse than it — strictly
    better with ``strict`` —, no points, always required) or ``choice`` (one of ``options``). ``required`` (必选) means the
    indicator must be met for the application to pass; requirements are always required.
    ``industries`` (GB/T 4754 codes) limits the indicator to organisations in those industries;
    ``best_of`` names a group of alternatives of which only the best applicable one counts.
    ``range`` is the domain of a metric's answers (from the file, else its unit's);
    ``not_applicable`` the policy when it is declared not applicable (``None``: it cannot be).
    A computed metric has ``inputs`` and a ``formula`` over their keys: its answer maps each key to
    a number and the engine calculates the value scored. With ``benchmarks: assessed`` its
    baseline and leading value are not in the file but determined for the industry by the
    assessment (the standard's 行业平均水平 / 行业先进水平) and answered as ``baseline`` and
    ``leading`` beside the inputs.
    """

    id: str
    section: str
    type: str
    title: Text
    required: bool
    max: Decimal
    ref: str | None = None
    item: Text | None = None
    guidance: Text | None = None
    evidence: tuple[Text, ...] = ()
    step: Decimal | None = None
    levels: tuple[Level, ...] = ()
    options: tuple[Option, ...] = ()
    unit: Unit | None = None
    range: Range | None = None
    scoring: str | None = None
    better: str | None = None
    baseline: Decimal | None = None
    leading: Decimal | None = None
    bands: tuple[Band, ...] = ()
    limit: Decimal | None = None
    strict: bool = False
    industries: tuple[str, ...] = ()
    best_of: str | None = None
    applicant_visible_notes: tuple[str, ...] = ()
    not_applicable: str | None = None
    inputs: tuple[Input, ...] = ()
    formula: str | None = None
    benchmarks: str | None = None
    provisional: Provisional | None = None

    @property
    def is_computed(self) -> bool:
        """A metric calculated by the engine from its inputs (``formula``)."""
        return bool(self.inputs)

    @property
    def limit_sign(self) -> str | None:
        """How a limit reads in the specification: ``≤``, ``<``, ``≥`` or ``>`` (None without one)."""
        if self.limit is None:
            return None
        if self.better == "higher":
            return ">" if self.strict else "≥"
        return "<" if self.strict else "≤"

    @property
    def is_binary(self) -> bool:
        """A points indicator whose only step is its maximum: answered yes (full points) or no."""
        return self.type == "points" and self.step == self.max

    def applies_to(self, industry: str | None) -> bool:
        """Whether the indicator applies to an organisation of ``industry`` (a GB/T 4754 code)."""
        return _industry_matches(self.industries, industry)


@dataclass(frozen=True, slots=True)
class Section:
    """A first-level part of a rule set. With a ``weight`` its raw points are scaled to it."""

    id: str
    title: Text
    indicators: tuple[Indicator, ...]
    weight: Decimal | None = None
    provisional: Provisional | None = None


@dataclass(frozen=True, slots=True)
class Grade:
    """A grade given to a passed application whose total reaches ``min``."""

    key: str
    title: Text
    min: Decimal
    provisional: Provisional | None = None


@dataclass(frozen=True)
class RuleSet:
    """One rule file: identity, validity, pass rule, basic requirements and scored sections."""

    id: str
    version: str
    kind: str
    title: Text
    standard: Standard
    effective_from: date
    basic_requirements: tuple[Indicator, ...]
    sections: tuple[Section, ...]
    total: Decimal
    effective_until: date | None = None
    veto_conditions: tuple[Indicator, ...] = ()
    threshold: Decimal | None = None
    threshold_provisional: Provisional | None = None
    grades: tuple[Grade, ...] = ()
    industries: tuple[str, ...] = ()
    note_kinds: tuple[NoteKind, ...] = ()
    provisional: Provisional | None = None
    path: str = ""
    sha256: str = ""
    # Precomputed scoring plans, one per industry; never compared, never serialised.
    _plans: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    # The line of each top-level key in the file it was loaded from (empty for a frozen copy).
    lines: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        """Every indicator: veto conditions, basic requirements, then the sections, in file order."""
        return self.veto_conditions + self.basic_requirements + tuple(i for s in self.sections for i in s.indicators)

    @property
    def is_weighted(self) -> bool:
        """Whether sections carry weights (raw section points are scaled to the weight)."""
        return any(s.weight is not None for s in self.sections)

    def indicator(self, indicator_id: str) -> Indicator:
        """The indicator with this id (``KeyError`` when there is none)."""
        for candidate in self.indicators:
            if candidate.id == indicator_id:
                return candidate
        raise KeyError(indicator_id)

    def in_force_on(self, day: date) -> bool:
        """Whether the rule set is in force on ``day`` (``effective_until`` is inclusive)."""
        if day < self.effective_from:
            return False
        return self.effective_until is None or day <= self.effective_until

    def applies_to(self, industry: str | None) -> bool:
        """Whether the whole rule set applies to ``industry`` (no restriction when unset)."""
        return _industry_matches(self.industries, industry)

    def to_dict(self) -> dict:
        """A JSON-compatible copy: numbers as decimal strings, dates as ISO strings."""
        data = _dump(self)
        data["format"] = FROZEN_FORMAT
        return data

    @classmethod
    def from_dict(cls, data: dict) -> RuleSet:
        """Rebuild the rule set from ``to_dict()`` output (refuses an unknown ``format``)."""
        if data.get("format") == 1:
            data = _upgrade_format_1(data)
        if data.get("format") == 2:
            data = _upgrade_format_2(data) | {"format": FROZEN_FORMAT}
        elif data.get("format") != FROZEN_FORMAT:
            raise ValueError(f"unknown frozen rule-set format {data.get('format')!r}")
        body = {key: value for key, value in data.items() if key != "format"}
        return _build(cls, body)


def plain(number: Decimal) -> str:
    """A number as people write it: ``10.0`` as ``10``, never as ``1E+1``."""
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def short(number: Decimal) -> str:
    """A computed value as shown to people and kept beside its figures: at most four decimal
    places, rounded half up."""
    if number == number.to_integral_value() or number.as_tuple().exponent >= -4:
        return plain(number)
    return plain(number.quantize(Decimal("0.0001"), ROUND_HALF_UP))


def _upgrade_format_1(data: dict) -> dict:
    """A format-1 frozen copy in today's layout. Its metrics' answers were only ever refused when
    negative, so that stays their range (0 to 100 for percentages); its total is the maximum it
    gave an organisation of no particular industry."""
    data = dict(data)
    sections = []
    for section in data["sections"]:
        section = dict(section)
        section["indicators"] = [_upgrade_indicator_1(item) for item in section["indicators"]]
        sections.append(section)
    data["sections"] = sections
    data["total"] = str(_nominal_total(sections))
    data["format"] = 2
    return data


def _upgrade_format_2(node):
    """Provisional reasons written in English only are kept as the text in both languages."""
    if isinstance(node, list):
        return [_upgrade_format_2(item) for item in node]
    if not isinstance(node, dict):
        return node
    upgraded = {key: _upgrade_format_2(value) for key, value in node.items()}
    provisional = upgraded.get("provisional")
    if isinstance(provisional, dict) and isinstance(provisional.get("reason"), str):
        reason = provisional["reason"]
        upgraded["provisional"] = {"reason": {"zh": reason, "en": reason}}
    return upgraded


def _upgrade_indicator_1(item: dict) -> dict:
    unit = item.get("unit")
    if not unit:
        return item
    percent = unit["en"].strip() == "%"
    bounds = {"min": "0", "max": "100" if percent else None, "exclusive_min": False, "exclusive_max": False}
    return {**item, "unit": {"key": unit["en"], "zh": unit["zh"], "en": unit["en"], "dimension": "", "factor": None,
                             "range": None}, "range": bounds}


def _nominal_total(sections: list[dict]) -> Decimal:
    """The most a format-1 rule set gave: weights, else the general indicators' maxima."""
    if any(s.get("weight") is not None for s in sections):
        return sum((Decimal(s["weight"]) for s in sections), Decimal(0))
    total = Decimal(0)
    for section in sections:
        general = [i for i in section["indicators"] if not i.get("industries")]
        total += sum((Decimal(i["max"]) for i in general if not i.get("best_of")), Decimal(0))
        groups: dict[str, Decimal] = {}
        for item in general:
            if item.get("best_of"):
                groups[item["best_of"]] = max(groups.get(item["best_of"], Decimal(0)), Decimal(item["max"]))
        total += sum(groups.values(), Decimal(0))
    return total


def _industry_matches(codes: tuple[str, ...], industry: str | None) -> bool:
    """No codes: applies to all. Else the organisation's code must start with one of them."""
    if not codes:
        return True
    return industry is not None and any(industry.startswith(code) for code in codes)


# ---- generic (de)serialisation driven by the dataclass annotations ---------------------------

_HINTS: dict[type, dict[str, object]] = {}


def _fields(cls: type) -> list[tuple[str, object]]:
    if cls not in _HINTS:
        hints = typing.get_type_hints(cls)
        _HINTS[cls] = {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}
    return list(_HINTS[cls].items())


def _dump(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_dump(item) for item in value]
    if dataclasses.is_dataclass(value):
        return {name: _dump(getattr(value, name)) for name, _ in _fields(type(value))}
    return value


def _build(hint: object, value: object) -> object:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        (inner,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _build(inner, value)
    if origin is tuple:
        inner = typing.get_args(hint)[0]
        return tuple(_build(inner, item) for item in value)
    if hint is Decimal:
        return Decimal(value)
    if hint is date:
        return date.fromisoformat(value)
    if dataclasses.is_dataclass(hint):
        return hint(**{name: _build(h, value[name]) for name, h in _fields(hint) if name in value})
    return value
