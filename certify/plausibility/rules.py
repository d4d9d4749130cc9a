"""The plausibility rules: pure functions over the figures one unit reported for one period.

No Flask, no SQLAlchemy, no clock: ``check`` takes plain data and returns ``Flag`` objects, each
naming its rule, the indicators and the values involved, so that a page can say exactly what
looks wrong and why.

    current = Figures(values={"energy.unit_energy.cement_clinker": Decimal("117000")})
    flags = check(current, indicators=rule_set.indicators, industry="3011", limits=limits,
                  thresholds=thresholds)
    flags[0].rule == UNIT_SLIP;  flags[0].figures[0].value == Decimal("117000")

What a unit reports (``Figures``): the values of plain metrics (``values``: indicator id -> value)
and the inputs of computed metrics (``inputs``: indicator id -> input key -> figure). A computed
metric's value is taken from ``values`` where the unit reported it, else computed from its
inputs with the rule file's formula (``certify.scoring.formula``, the engine's own).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from certify.scoring.formula import Formula, ZeroDivisor
from certify.scoring.model import Indicator

IDENTITY = "identity"
SHARE_MISMATCH = "share_mismatch"
SHARED_QUANTITY = "shared_quantity"
UNIT_SLIP = "unit_slip"
JUMP = "jump"
BEYOND_LIMIT = "beyond_limit"
PERCENTAGE_RANGE = "percentage_range"
PART_EXCEEDS_WHOLE = "part_exceeds_whole"
RULES = (IDENTITY, SHARE_MISMATCH, SHARED_QUANTITY, UNIT_SLIP, JUMP, BEYOND_LIMIT, PERCENTAGE_RANGE,
         PART_EXCEEDS_WHOLE)

# The role a value plays in a flag.
REPORTED = "reported"      # as the unit reported it this period
COMPUTED = "computed"      # what the formula gives on the reported inputs
PREVIOUS = "previous"      # as reported for the previous period
LIMIT = "limit"            # grade 3 of the national limit standard

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The numbers the rules compare with: the ``CERTIFY_PLAUSIBILITY_*`` settings, read and
    checked with the application's other settings (``certify.config.Settings``). ``tolerance``:
    relative difference allowed between a value and its figures; ``jump_factor``: year-on-year
    ratio beyond which a figure is flagged; ``slip_factor`` and ``slip_band``: a ratio within
    ``slip_band`` times of ``slip_factor`` (or its inverse) reads as a unit slip."""

    tolerance: Decimal
    jump_factor: Decimal
    slip_factor: Decimal
    slip_band: Decimal


@dataclass(frozen=True, slots=True)
class Figures:
    """One unit's figures for one period: plain metric values and computed metrics' inputs."""

    values: Mapping[str, Decimal] = field(default_factory=dict)
    inputs: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)

    def figure(self, indicator_id: str, key: str | None) -> Decimal | None:
        """A metric's value (``key`` None) or one of its inputs, as reported."""
        if key is None:
            return self.values.get(indicator_id)
        return (self.inputs.get(indicator_id) or {}).get(key)


@dataclass(frozen=True, slots=True)
class Value:
    """One value a flag shows: which indicator (and input), in what role, the number and its unit."""

    indicator: str
    input: str | None
    role: str
    value: Decimal
    unit: str | None = None

    def to_dict(self) -> dict:
        """As stored and shown: a computed value to four decimal places at most."""
        value = self.value
        if self.role == COMPUTED and isinstance(value.as_tuple().exponent, int) and value.as_tuple().exponent < -4:
            value = value.quantize(Decimal("0.0001"))
        return {"indicator": self.indicator, "input": self.input, "role": self.role,
                "value": plain(value), "unit": self.unit}


@dataclass(frozen=True, slots=True)
class Flag:
    """What a rule found: ``rule``, the ``indicators`` concerned, the ``figures`` involved and the
    rule's ``details`` (a factor, a tolerance, the limit standard) as text."""

    rule: str
    indicators: tuple[str, ...]
    figures: tuple[Value, ...]
    details: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"rule": self.rule, "indicators": list(self.indicators),
                "figures": [value.to_dict() for value in self.figures], "details": dict(self.details)}


@dataclass(frozen=True, slots=True)
class Limit:
    """A national energy-consumption limit: for organisations of ``industry`` (GB/T 4754 class
    prefix), the ``grades`` (1 strictest, 3 the mandatory limit) in ``unit`` of a product, read
    against the rule-file ``indicators`` that measure that product."""

    key: str
    industry: str
    standard: str
    product: str
    unit: str
    grades: tuple[Decimal, Decimal | None, Decimal]
    indicators: tuple[str, ...] = ()
    provisional: bool = False
    source: str = ""

    @property
    def mandatory(self) -> Decimal:
        """Grade 3, the limit every plant must meet."""
        return self.grades[2]


@dataclass(frozen=True, slots=True)
class SameQuantity:
    """Inputs of several metrics that are one quantity (the factory's output value, say), as
    (indicator id, input key) pairs."""

    name: str
    figures: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class PartOf:
    """An input that is part of another (a product's energy use of the factory's)."""

    part: tuple[str, str]
    whole: tuple[str, str]


def plain(number: Decimal) -> str:
    """A decimal as people write it: no exponent, no trailing zeros after the point."""
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def check(current: Figures, *, indicators: Iterable[Indicator], previous: Figures | None = None,
          industry: str | None = None, limits: Sequence[Limit] = (), same: Sequence[SameQuantity] = (),
          parts: Sequence[PartOf] = (), thresholds: Thresholds) -> list[Flag]:
    """Every flag the figures of one period raise. ``indicators``: the rule file's indicators
    (only metrics are read); ``previous``: the previous period's figures (jumps and unit slips);
    ``industry``: the unit's GB/T 4754 class (national limits); ``same`` and ``parts``: the
    relations between inputs of the rule file; ``thresholds``: the numbers of the settings."""
    metrics = {i.id: i for i in indicators if i.type == "metric"}
    values = metric_values(current, metrics)
    flags: list[Flag] = []
    flags += identity_flags(current, metrics, thresholds)
    flags += percentage_flags(current, metrics, values)
    flags += shared_quantity_flags(current, metrics, same, thresholds)
    flags += part_flags(current, metrics, parts)
    flags += limit_flags(values, metrics, industry, limits, thresholds)
    if previous is not None:
        flags += change_flags(current, previous, metrics, thresholds)
    return flags


# ---- values ---------------------------------------------------------------------------------------

def _unit(indicator: Indicator, key: str | None = None) -> str | None:
    if key is None:
        return indicator.unit.key if indicator.unit else None
    entry = next((i for i in indicator.inputs if i.key == key), None)
    return entry.unit.key if entry is not None and entry.unit is not None else None


@lru_cache(maxsize=256)
def _formula(text: str) -> Formula:
    return Formula(text)


def computed_value(indicator: Indicator, inputs: Mapping[str, Decimal] | None) -> Decimal | None:
    """The metric's formula on the reported inputs; ``None`` when an input is missing or the
    formula divides by zero."""
    if not indicator.is_computed or not inputs:
        return None
    keys = [entry.key for entry in indicator.inputs]
    if any(inputs.get(key) is None for key in keys):
        return None
    try:
        return _formula(indicator.formula).evaluate({key: Decimal(inputs[key]) for key in keys})
    except ZeroDivisor:
        return None


def metric_values(figures: Figures, metrics: Mapping[str, Indicator]) -> dict[str, tuple[Decimal, str]]:
    """Indicator id -> (value, role): the reported value where there is one, else the computed."""
    values = {}
    for indicator_id, indicator in metrics.items():
        reported = figures.values.get(indicator_id)
        if reported is not None:
            values[indicator_id] = (Decimal(reported), REPORTED)
            continue
        computed = computed_value(indicator, figures.inputs.get(indicator_id))
        if computed is not None:
            values[indicator_id] = (computed, COMPUTED)
    return values


def _input_values(indicator: Indicator, inputs: Mapping[str, Decimal]) -> tuple[Value, ...]:
    return tuple(Value(indicator.id, entry.key, REPORTED, Decimal(inputs[entry.key]), _unit(indicator, entry.key))
                 for entry in indicator.inputs if inputs.get(entry.key) is not None)


def rounding_allowance(reported: Decimal) -> Decimal:
    """Half a unit in the last decimal place the value was reported to (103.5 -> 0.05)."""
    exponent = reported.as_tuple().exponent
    return Decimal(5).scaleb(exponent - 1) if isinstance(exponent, int) else Decimal(0)


def agrees(reported: Decimal, expected: Decimal, tolerance: Decimal) -> bool:
    """Whether ``reported`` is ``expected`` within rounding of its last decimal place or within
    the relative ``tolerance``."""
    allowed = max(rounding_allowance(reported), abs(expected) * tolerance)
    return abs(reported - expected) <= allowed


# ---- (a) identities -------------------------------------------------------------------------------

def identity_flags(figures: Figures, metrics: Mapping[str, Indicator], thresholds: Thresholds) -> list[Flag]:
    """A reported metric value that its reported inputs do not give (a share: ``share_mismatch``)."""
    flags = []
    for indicator_id, indicator in metrics.items():
        reported = figures.values.get(indicator_id)
        inputs = figures.inputs.get(indicator_id) or {}
        computed = computed_value(indicator, inputs)
        if reported is None or computed is None or agrees(Decimal(reported), computed, thresholds.tolerance):
            continue
        unit = _unit(indicator)
        flags.append(Flag(
            SHARE_MISMATCH if unit == "%" else IDENTITY, (indicator_id,),
            (Value(indicator_id, None, REPORTED, Decimal(reported), unit),
             Value(indicator_id, None, COMPUTED, computed, unit)) + _input_values(indicator, inputs),
            {"formula": indicator.formula, "tolerance": plain(thresholds.tolerance)}))
    return flags


# ---- (f) percentages --------------------------------------------------------------------------------

def percentage_flags(figures: Figures, metrics: Mapping[str, Indicator],
                     values: Mapping[str, tuple[Decimal, str]]) -> list[Flag]:
    """A reported percentage outside 0-100; a share computed from its parts above 100 or below 0
    (a part larger than its whole)."""
    flags = []
    for indicator_id, indicator in metrics.items():
        if _unit(indicator) != "%":
            continue
        reported = figures.values.get(indicator_id)
        if reported is not None and not Decimal(0) <= Decimal(reported) <= HUNDRED:
            flags.append(Flag(PERCENTAGE_RANGE, (indicator_id,),
                              (Value(indicator_id, None, REPORTED, Decimal(reported), "%"),)))
        inputs = figures.inputs.get(indicator_id) or {}
        computed = computed_value(indicator, inputs)
        if computed is not None and not Decimal(0) <= computed <= HUNDRED:
            flags.append(Flag(PART_EXCEEDS_WHOLE, (indicator_id,),
                              (Value(indicator_id, None, COMPUTED, computed, "%"),) + _input_values(indicator, inputs),
                              {"formula": indicator.formula}))
    return flags


def part_flags(figures: Figures, metrics: Mapping[str, Indicator], parts: Sequence[PartOf]) -> list[Flag]:
    """An input larger than the input it is part of (a product's energy use above the factory's)."""
    flags = []
    for relation in parts:
        part, whole = figures.figure(*relation.part), figures.figure(*relation.whole)
        if part is None or whole is None or Decimal(part) <= Decimal(whole):
            continue
        part_unit, whole_unit = (_unit(metrics[i], key) if i in metrics else None
                                 for i, key in (relation.part, relation.whole))
        flags.append(Flag(PART_EXCEEDS_WHOLE, tuple(dict.fromkeys((relation.part[0], relation.whole[0]))),
                          (Value(*relation.part, REPORTED, Decimal(part), part_unit),
                           Value(*relation.whole, REPORTED, Decimal(whole), whole_unit))))
    return flags


# ---- (b) one quantity, two numbers ------------------------------------------------------------------

def shared_quantity_flags(figures: Figures, metrics: Mapping[str, Indicator], same: Sequence[SameQuantity],
                          thresholds: Thresholds) -> list[Flag]:
    """The same quantity reported with different numbers in two metrics: one flag per quantity,
    naming every figure reported for it."""
    flags = []
    for quantity in same:
        present = [(indicator_id, key, Decimal(value)) for indicator_id, key in quantity.figures
                   if (value := figures.figure(indicator_id, key)) is not None]
        if len(present) < 2:
            continue
        first = present[0][2]
        if all(agrees(value, first, thresholds.tolerance) and agrees(first, value, thresholds.tolerance)
               for _i, _k, value in present[1:]):
            continue
        flags.append(Flag(SHARED_QUANTITY, tuple(dict.fromkeys(i for i, _k, _v in present)),
                          tuple(Value(i, k, REPORTED, v, _unit(metrics[i], k) if i in metrics else None)
                                for i, k, v in present),
                          {"quantity": quantity.name}))
    return flags


# ---- (c) unit slips, (d) jumps ---------------------------------------------------------------------

def slip_direction(ratio: Decimal, thresholds: Thresholds) -> str | None:
    """``"up"`` when ``ratio`` is about ``slip_factor`` (a figure in kgce where tce is asked),
    ``"down"`` when about its inverse (t where kt is asked), else ``None``."""
    low, high = thresholds.slip_factor / thresholds.slip_band, thresholds.slip_factor * thresholds.slip_band
    if low <= ratio <= high:
        return "up"
    if ratio > 0 and low <= 1 / ratio <= high:
        return "down"
    return None


def is_jump(ratio: Decimal, thresholds: Thresholds) -> bool:
    return ratio > thresholds.jump_factor or ratio * thresholds.jump_factor < 1


def change_flags(current: Figures, previous: Figures, metrics: Mapping[str, Indicator],
                 thresholds: Thresholds) -> list[Flag]:
    """Figures about ``slip_factor`` times (or its inverse) the previous period's: a unit slip;
    beyond ``jump_factor`` times either way: a jump. Inputs are compared first; a computed
    metric whose inputs are flagged is not flagged again for the same change."""
    flags = []
    for indicator_id, indicator in metrics.items():
        flagged_input = False
        for entry in indicator.inputs:
            flag = _change(indicator, entry.key, current.figure(indicator_id, entry.key),
                           previous.figure(indicator_id, entry.key), thresholds)
            if flag is not None:
                flags.append(flag)
                flagged_input = True
        if flagged_input:
            continue
        now, role = _value_or_computed(current, indicator)
        before, _role = _value_or_computed(previous, indicator)
        flag = _change(indicator, None, now, before, thresholds, role=role)
        if flag is not None:
            flags.append(flag)
    return flags


def _value_or_computed(figures: Figures, indicator: Indicator) -> tuple[Decimal | None, str]:
    reported = figures.values.get(indicator.id)
    if reported is not None:
        return Decimal(reported), REPORTED
    return computed_value(indicator, figures.inputs.get(indicator.id)), COMPUTED


def _change(indicator: Indicator, key: str | None, now, before, thresholds: Thresholds, *,
            role: str = REPORTED) -> Flag | None:
    if now is None or before is None:
        return None
    now, before = Decimal(now), Decimal(before)
    # A ratio says nothing where a sign changes or a figure is zero (a converter's negative energy).
    if now <= 0 or before <= 0:
        return None
    ratio = now / before
    direction = slip_direction(ratio, thresholds)
    if direction is None and not is_jump(ratio, thresholds):
        return None
    unit = _unit(indicator, key)
    values = (Value(indicator.id, key, role, now, unit), Value(indicator.id, key, PREVIOUS, before, unit))
    if direction is not None:
        return Flag(UNIT_SLIP, (indicator.id,), values,
                    {"basis": PREVIOUS, "direction": direction, "factor": plain(thresholds.slip_factor)})
    return Flag(JUMP, (indicator.id,), values,
                {"ratio": plain(ratio.quantize(Decimal("0.01"))), "factor": plain(thresholds.jump_factor)})


# ---- (e) national limits -----------------------------------------------------------------------------

def applicable_limits(limits: Sequence[Limit], industry: str | None) -> list[Limit]:
    """The limits for an organisation of ``industry`` (its class starts with the limit's)."""
    return [limit for limit in limits if industry and industry.startswith(limit.industry)]


def limit_flags(values: Mapping[str, tuple[Decimal, str]], metrics: Mapping[str, Indicator],
                industry: str | None, limits: Sequence[Limit], thresholds: Thresholds) -> list[Flag]:
    """A metric worse than grade 3 of its class's national limit: ``beyond_limit``; about
    ``slip_factor`` times (or its inverse) the limit: ``unit_slip``."""
    flags = []
    for limit in applicable_limits(limits, industry):
        for indicator_id in limit.indicators:
            indicator = metrics.get(indicator_id)
            if indicator is None or indicator_id not in values or _unit(indicator) != limit.unit:
                continue
            value, role = values[indicator_id]
            figures = (Value(indicator_id, None, role, value, limit.unit),
                       Value(indicator_id, None, LIMIT, limit.mandatory, limit.unit))
            details = {"standard": limit.standard, "product": limit.product, "limit": limit.key,
                       "provisional": "yes" if limit.provisional else "no"}
            direction = (slip_direction(value / limit.mandatory, thresholds)
                         if value > 0 and limit.mandatory > 0 else None)
            if direction is not None:
                flags.append(Flag(UNIT_SLIP, (indicator_id,), figures,
                                  details | {"basis": LIMIT, "direction": direction,
                                             "factor": plain(thresholds.slip_factor)}))
            elif value > limit.mandatory:
                flags.append(Flag(BEYOND_LIMIT, (indicator_id,), figures, details))
    return flags
