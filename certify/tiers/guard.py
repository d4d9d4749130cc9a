"""The recommendation guard: is a candidate for the national round worse than the units already
listed? Pure rules, no Flask, no database.

390号 asks that a recommended factory or park be, in principle, not below the average of the
region's existing national green factories and parks (原则上不低于本地区已有国家绿色工厂、绿色工业园区的
平均水平; docs/sources/tiers-and-zero-carbon.md §3, one source only: [U]). certify knows the units
the province has listed, so the guard compares with those: for each key indicator of the
candidate, the average of the same indicator over the *other* listed units of the same industry
class (the caller gives units of the candidate's kind: factories with factories, parks with
parks; parks, without a class, are peers of one another), in the same region (the province, or
the candidate's city). It warns; it never refuses.
With fewer peers than the minimum there is no comparison, and the guard says so.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from certify.management.compare import is_worse

PROVINCE = "province"
CITY = "city"
REGIONS = (PROVINCE, CITY)

WORSE = "worse"
NOT_WORSE = "not_worse"
TOO_FEW_PEERS = "too_few_peers"
NO_VALUE = "no_value"


@dataclass(frozen=True)
class Unit:
    """A listed unit (or a candidate) as the guard sees it: its key, city, industry class and
    key-indicator values (indicator id -> number, text or ``None``)."""

    key: object
    city_code: str
    industry_code: str | None
    values: dict


@dataclass(frozen=True)
class Metric:
    """A key indicator: its id and which way is better (``"higher"`` or ``"lower"``)."""

    id: str
    better: str | None


@dataclass(frozen=True)
class Comparison:
    """One indicator of a candidate against its peers' average."""

    indicator_id: str
    outcome: str
    value: Decimal | None = None
    average: Decimal | None = None
    peers: int = 0

    @property
    def is_flagged(self) -> bool:
        return self.outcome == WORSE


def number(value) -> Decimal | None:
    """A stored answer as a number, or ``None`` when it is not one."""
    if value is None or isinstance(value, bool):
        return None
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def peers_of(candidate: Unit, listed: list[Unit], *, region: str = PROVINCE) -> list[Unit]:
    """The other listed units of the candidate's industry class, in its region. Units without a
    class (parks: a park spans industries) are peers of one another."""
    return [unit for unit in listed
            if unit.key != candidate.key and unit.industry_code == candidate.industry_code
            and (region == PROVINCE or unit.city_code == candidate.city_code)]


def compare(candidate: Unit, metrics: list[Metric], listed: list[Unit], *, region: str = PROVINCE,
            min_peers: int = 3) -> list[Comparison]:
    """Each of ``metrics`` of ``candidate`` against the average of its peers among ``listed``:
    flagged (``WORSE``) when worse; ``TOO_FEW_PEERS`` when fewer than ``min_peers`` peers have a
    value for it; ``NO_VALUE`` when the candidate has none."""
    if region not in REGIONS:
        raise ValueError(f"region must be one of {REGIONS}, not {region!r}")
    peers = peers_of(candidate, listed, region=region)
    comparisons = []
    for metric in metrics:
        value = number(candidate.values.get(metric.id))
        peer_values = [v for v in (number(unit.values.get(metric.id)) for unit in peers) if v is not None]
        if value is None:
            comparisons.append(Comparison(metric.id, NO_VALUE, peers=len(peer_values)))
            continue
        if len(peer_values) < min_peers:
            comparisons.append(Comparison(metric.id, TOO_FEW_PEERS, value=value, peers=len(peer_values)))
            continue
        average = sum(peer_values) / len(peer_values)
        outcome = WORSE if is_worse(metric.better, value, average) else NOT_WORSE
        comparisons.append(Comparison(metric.id, outcome, value=value, average=average, peers=len(peer_values)))
    return comparisons
