"""The recommendation guard, worked out by hand: a candidate's key indicator against the average
of the other listed units of its industry class in its region."""

from decimal import Decimal

import pytest

from certify.tiers.guard import (
    CITY,
    NO_VALUE,
    NOT_WORSE,
    TOO_FEW_PEERS,
    WORSE,
    Metric,
    Unit,
    compare,
)

ENERGY = Metric("energy_per_tonne", "lower")      # kgce/t: lower is better
RECYCLING = Metric("water_reuse_rate", "higher")  # %: higher is better


def unit(key, energy=None, *, city="510100", industry="3120", **values):
    return Unit(key, city, industry, {"energy_per_tonne": energy, **values})


PEERS = [unit("a", 100), unit("b", 110), unit("c", 120)]


def test_a_candidate_above_the_peers_average_of_a_lower_is_better_indicator_is_flagged():
    # (100 + 110 + 120) / 3 = 110 kgce/t; 115 > 110 is worse.
    [result] = compare(unit("candidate", 115), [ENERGY], PEERS)
    assert (result.outcome, result.value, result.average, result.peers) == (WORSE, Decimal(115), Decimal(110), 3)
    assert result.is_flagged


def test_a_candidate_below_the_average_is_not_flagged():
    [result] = compare(unit("candidate", 105), [ENERGY], PEERS)
    assert (result.outcome, result.average, result.peers) == (NOT_WORSE, Decimal(110), 3)
    assert not result.is_flagged


def test_higher_is_better_flags_a_value_below_the_average():
    peers = [unit(k, water_reuse_rate=v) for k, v in (("a", "80"), ("b", "90"), ("c", "94"))]  # average 88
    assert compare(unit("x", water_reuse_rate=87), [RECYCLING], peers)[0].outcome == WORSE
    assert compare(unit("x", water_reuse_rate=88), [RECYCLING], peers)[0].outcome == NOT_WORSE


def test_the_candidate_itself_and_other_industries_are_not_peers():
    listed = PEERS + [unit("candidate", 115), unit("steel", 500, industry="3110")]
    [result] = compare(unit("candidate", 115), [ENERGY], listed)
    assert (result.average, result.peers) == (Decimal(110), 3)


def test_fewer_peers_than_the_minimum_gives_no_comparison():
    [result] = compare(unit("candidate", 115), [ENERGY], PEERS[:2])
    assert (result.outcome, result.average, result.peers) == (TOO_FEW_PEERS, None, 2)
    [result] = compare(unit("candidate", 115), [ENERGY], PEERS[:2], min_peers=2)
    assert (result.outcome, result.average) == (WORSE, Decimal(105))


def test_peers_without_a_value_do_not_count():
    [result] = compare(unit("candidate", 115), [ENERGY], PEERS + [unit("d", None), unit("e", "n/a")])
    assert (result.average, result.peers) == (Decimal(110), 3)


def test_the_city_region_takes_only_the_candidates_city():
    listed = PEERS + [unit("far", 200, city="510300")]
    assert compare(unit("candidate", 115), [ENERGY], listed)[0].average == Decimal("132.5")  # 530 / 4
    [result] = compare(unit("candidate", 115), [ENERGY], listed, region=CITY)
    assert (result.average, result.peers) == (Decimal(110), 3)


def test_a_candidate_without_a_value_is_not_compared():
    [result] = compare(unit("candidate", None), [ENERGY], PEERS)
    assert (result.outcome, result.peers) == (NO_VALUE, 3)


def test_units_without_an_industry_class_are_compared_with_one_another():
    parks = [unit(k, v, industry=None) for k, v in (("a", 100), ("b", 110), ("c", 120))]
    [result] = compare(unit("park", 115, industry=None), [ENERGY], parks + PEERS)
    assert (result.outcome, result.average, result.peers) == (WORSE, Decimal(110), 3)


def test_an_unknown_region_is_refused():
    with pytest.raises(ValueError):
        compare(unit("candidate", 115), [ENERGY], PEERS, region="country")
