"""Cohort grades (企业绿码): the composite of a unit's declared key indicators and the grades
A+ / A / B within its cohort. Pure Python: no Flask, no SQLAlchemy.

Published (docs/sources/tiers-and-zero-carbon.md §1.4): MIIT grades national green factories
A+ / A / B in the proportions 5 % / 35 % / 60 %, from the green-performance data of the yearly
dynamic-management form, refreshed each year, and gives no grade to a unit that did not report or
whose data are abnormal. **The formula is not published.** The composite below is certify's own,
provisional, and documented here so that the department can judge it:

- **Position per indicator.** For each key indicator, among the units of the cohort that declared
  it, a unit's position is its mid-rank percentile in the indicator's better direction:
  ``(worse + (equal - 1) / 2) / (declared - 1)``, where ``worse`` counts the units with a worse
  value and ``equal`` those with the same value (itself included). The best value scores 1, the
  worst 0, equal values score the same. Positions, not raw values, are averaged because the
  indicators have different units and scales (tonnes of standard coal, ratios, percentages);
  a position needs no weights nobody has published.
- **Composite.** The mean of the unit's positions over the indicators it declared that at least
  two units of its cohort declared (one unit alone has no position). A unit with no such
  indicator has no composite and is not graded (``NO_VALUES``).
- Arithmetic is exact (fractions), so equal composites are really equal and never depend on
  rounding.

Cohorts (``cohort_key``): the source states the shares over all national-level green factories
and says the code also shows a factory's position within its industry, but not whether A+ / A / B
are ranked within the industry (§1.4, not found). The default here, as the department asked, is
the industry class and the province (``CERTIFY_GRADE_COHORT=industry,province``); in a
deployment for one province that is the industry class. ``all`` gives one cohort per kind.

Grading (``grade_cohort``): units withheld (open plausibility flags) are set aside first, so a
withheld unit changes the others' grades exactly as its absence from the cohort would. The
remaining units are ordered by composite, best first, then by their tie key (the application id:
the application opened first comes first) — an order that does not depend on the order the units
are given in. With ``n`` units graded, the first ``floor(top_share · n)`` get A+, the next
``floor(second_share · n)`` get A, the rest B. **Equal composites straddling a boundary:** the
counts stay exactly those floors, and the tie key decides which of the equal units takes the
higher grade; each unit whose composite equals that of a unit across a grade boundary is marked
``tied_at_boundary`` so that staff see it. A cohort with fewer than ``minimum_size`` units left to
grade is reported (composites and ranks) but not graded.
"""

from __future__ import annotations

import enum
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction


class Grade(enum.StrEnum):
    A_PLUS = "a_plus"
    A = "a"
    B = "b"


GRADE_ORDER = (Grade.A_PLUS, Grade.A, Grade.B)
GRADE_NAMES = {Grade.A_PLUS: "A+", Grade.A: "A", Grade.B: "B"}


class Outcome(enum.StrEnum):
    GRADED = "graded"
    SMALL_COHORT = "small_cohort"      # reported, not graded: the cohort is under the minimum size
    WITHHELD = "withheld"              # open plausibility flags
    NO_VALUES = "no_values"            # no indicator comparable within the cohort
    NOT_DECLARED = "not_declared"      # no declaration submitted for the period (set by the caller)


# ---- cohorts -----------------------------------------------------------------------------------

# What a cohort may be defined by: parts of the organisation's industry class (GB/T 4754, four
# digits: 小类) and administrative division (GB/T 2260, six digits).
COHORT_FIELDS = ("industry", "industry_division", "province", "city", "all")


def parse_cohort_fields(text: str) -> tuple[str, ...]:
    """``"industry,province"`` -> ``("industry", "province")``; ``ValueError`` on an unknown
    field or none at all."""
    fields = tuple(dict.fromkeys(part.strip() for part in (text or "").split(",") if part.strip()))
    if not fields or any(f not in COHORT_FIELDS for f in fields):
        raise ValueError(f"cohort fields must be among {', '.join(COHORT_FIELDS)}")
    return fields


def cohort_key(fields: Iterable[str], industry_code: str | None, city_code: str | None) -> str:
    """The cohort a unit belongs to, as text (``"industry=3120;province=51"``): ``industry`` is the
    four-digit class, ``industry_division`` its first two digits (大类), ``province`` the first
    two digits of the division code, ``city`` the first four, ``all`` one cohort for everyone.
    A unit without an industry class is in the cohort ``industry=-``."""
    industry_code, city_code = industry_code or "-", city_code or "-"
    parts = {
        "industry": industry_code,
        "industry_division": industry_code[:2],
        "province": city_code[:2],
        "city": city_code[:4],
        "all": "*",
    }
    return ";".join(f"{name}={parts[name]}" for name in fields)


# ---- the composite -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Unit:
    """One unit to grade: ``key`` is its stable tie key (the application id), ``values`` its
    declared key-indicator values (indicator id -> number)."""

    key: int
    cohort: str
    values: Mapping[str, Decimal] = field(default_factory=dict)


def _position(value: Decimal, ordered_values: list[Decimal], better: str | None) -> Fraction:
    """The mid-rank percentile of ``value`` among ``ordered_values`` (sorted ascending)."""
    below = bisect_left(ordered_values, value)
    equal = bisect_right(ordered_values, value) - below
    worse = below if better != "lower" else len(ordered_values) - below - equal
    return Fraction(2 * worse + equal - 1, 2 * (len(ordered_values) - 1))


def composites(units: Iterable[Unit], directions: Mapping[str, str | None]) -> dict[int, Fraction | None]:
    """Each unit's composite within the units given (one cohort): the mean of its positions over
    the indicators of ``directions`` (indicator id -> ``"higher"`` / ``"lower"``, higher when
    unset) it declared and at least one other unit declared; ``None`` where there is none."""
    units = list(units)
    declared: dict[str, list[Decimal]] = defaultdict(list)
    for unit in units:
        for indicator, value in unit.values.items():
            if indicator in directions and value is not None:
                declared[indicator].append(Decimal(value))
    for values in declared.values():
        values.sort()
    result: dict[int, Fraction | None] = {}
    for unit in units:
        positions = [_position(Decimal(value), declared[indicator], directions[indicator])
                     for indicator, value in unit.values.items()
                     if indicator in directions and value is not None and len(declared[indicator]) > 1]
        result[unit.key] = sum(positions, Fraction(0)) / len(positions) if positions else None
    return result


# ---- grades ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UnitResult:
    key: int
    cohort: str
    outcome: Outcome
    composite: Fraction | None = None
    rank: int | None = None
    grade: Grade | None = None
    tied_at_boundary: bool = False
    reason: str = ""


@dataclass(frozen=True)
class CohortResult:
    cohort: str
    size: int              # units graded or reported (withheld and no-value units left out)
    is_graded: bool
    units: tuple[UnitResult, ...]

    def count(self, grade: Grade) -> int:
        return sum(1 for unit in self.units if unit.grade == grade)


@dataclass(frozen=True)
class GradingRules:
    """The settings a run grades with (provisional; see the module docstring)."""

    minimum_size: int = 20
    top_share: Decimal = Decimal("0.05")
    second_share: Decimal = Decimal("0.35")


def share_of(share: Decimal, count: int) -> int:
    """``floor(share · count)``, exactly."""
    return int((Decimal(share) * count).to_integral_value(rounding=ROUND_FLOOR))


def grade_counts(count: int, rules: GradingRules) -> tuple[int, int, int]:
    """How many of ``count`` graded units get A+, A and B."""
    top = share_of(rules.top_share, count)
    second = share_of(rules.second_share, count)
    return top, second, count - top - second


def ordered(composite_by_key: Mapping[int, Fraction]) -> list[int]:
    """The keys best first: by composite, then by key (smaller first)."""
    return sorted(composite_by_key, key=lambda key: (-composite_by_key[key], key))


def grade_cohort(cohort: str, units: Iterable[Unit], directions: Mapping[str, str | None],
                 rules: GradingRules, withheld: Mapping[int, str] | None = None) -> CohortResult:
    """Grade one cohort. ``withheld`` maps the keys of units withheld to the reason; they are set
    aside before anything is computed."""
    withheld = withheld or {}
    units = sorted(units, key=lambda unit: unit.key)
    results = [UnitResult(unit.key, cohort, Outcome.WITHHELD, reason=withheld[unit.key])
               for unit in units if unit.key in withheld]
    composite_by_key = composites([u for u in units if u.key not in withheld], directions)
    results += [UnitResult(key, cohort, Outcome.NO_VALUES)
                for key, value in composite_by_key.items() if value is None]
    comparable = {key: value for key, value in composite_by_key.items() if value is not None}
    order = ordered(comparable)
    is_graded = len(order) >= rules.minimum_size
    grades = _grades(len(order), rules) if is_graded else [None] * len(order)
    grades_by_composite: dict[Fraction, set] = defaultdict(set)
    for index, key in enumerate(order):
        grades_by_composite[comparable[key]].add(grades[index])
    for index, key in enumerate(order):
        results.append(UnitResult(
            key, cohort, Outcome.GRADED if is_graded else Outcome.SMALL_COHORT,
            composite=comparable[key], rank=index + 1, grade=grades[index],
            # a unit of the same composite holds another grade
            tied_at_boundary=len(grades_by_composite[comparable[key]]) > 1))
    return CohortResult(cohort, len(order), is_graded,
                        tuple(sorted(results, key=_report_order)))


def _grades(count: int, rules: GradingRules) -> list[Grade]:
    top, second, rest = grade_counts(count, rules)
    return [Grade.A_PLUS] * top + [Grade.A] * second + [Grade.B] * rest


def _report_order(result: UnitResult) -> tuple:
    return (result.rank is None, result.rank or 0, result.outcome, result.key)


def grade_units(units: Iterable[Unit], directions: Mapping[str, str | None], rules: GradingRules,
                withheld: Mapping[int, str] | None = None) -> list[CohortResult]:
    """Grade every cohort of ``units`` (by their ``cohort``), in cohort order."""
    by_cohort: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        by_cohort[unit.cohort].append(unit)
    return [grade_cohort(cohort, members, directions, rules, withheld)
            for cohort, members in sorted(by_cohort.items())]
