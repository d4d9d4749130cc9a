"""The removal rule: units whose yearly index lies in the bottom share of their cohort in each of
several years in a row are proposed for removal; the department decides. Pure Python.

docs/sources/tiers-and-zero-carbon.md §1.5 [U]: "得分连续三年处于后5%的移出名单" — reported by two
summaries that disagree on the source document and quote no wording; applied to parks by default
here (``CERTIFY_REMOVAL_KINDS``), with ``bottom_share`` 0.05 and three years in a row, all
configurable and provisional.

A year's index is the composite of ``certify.grades.ranking`` within the cohort of that year's
declarations. With ``n`` units indexed in a year, the bottom ``floor(bottom_share · n)`` of the
grading order (composite, best first, then application id) are that year's bottom: equal indices
at the boundary are separated by the same tie key as the grades (the later application falls in
the bottom), and are marked ``tied_at_boundary``. A unit with no index in one of the years
(nothing declared) is not in that year's bottom, so it is not proposed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from certify.grades.ranking import ordered, share_of


@dataclass(frozen=True)
class YearStanding:
    year: int
    composite: Fraction | None
    rank: int | None
    compared: int           # units indexed that year
    bottom_count: int       # floor(bottom_share · compared)
    is_bottom: bool
    tied_at_boundary: bool = False


@dataclass(frozen=True)
class Candidate:
    key: int
    standings: tuple[YearStanding, ...]


def standings(composite_by_key: Mapping[int, Fraction], year: int, bottom_share: Decimal) -> dict[int, YearStanding]:
    """Each unit's standing in one year's cohort."""
    order = ordered(composite_by_key)
    count = len(order)
    bottom = share_of(bottom_share, count)
    first_bottom = count - bottom
    boundary_values = ({composite_by_key[k] for k in order[first_bottom:]}
                       & {composite_by_key[k] for k in order[:first_bottom]})
    return {key: YearStanding(year, composite_by_key[key], index + 1, count, bottom,
                              is_bottom=index >= first_bottom,
                              tied_at_boundary=composite_by_key[key] in boundary_values)
            for index, key in enumerate(order)}


def removal_candidates(yearly: Mapping[int, Mapping[int, Fraction]], years: Sequence[int],
                       bottom_share: Decimal) -> list[Candidate]:
    """The units in the bottom share of every one of ``years`` (``yearly``: year -> unit key ->
    index), by key, with their standing in each year."""
    by_year = {year: standings(yearly.get(year, {}), year, bottom_share) for year in years}
    if not years:
        return []
    keys = set.intersection(*({k for k, s in by_year[y].items() if s.is_bottom} for y in years))
    return [Candidate(key, tuple(by_year[year][key] for year in years)) for key in sorted(keys)]
