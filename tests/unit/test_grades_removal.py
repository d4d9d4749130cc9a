"""The removal rule worked out by hand: the bottom floor(5 %) of the units indexed each year, and
only a unit in the bottom in every one of the years in a row is proposed."""

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from certify.grades.removal import removal_candidates, standings

SHARE = Decimal("0.05")


def year_of(values: dict[int, int]) -> dict[int, Fraction]:
    return {key: Fraction(value) for key, value in values.items()}


def test_forty_parks_the_bottom_two_each_year_and_only_the_park_bottom_in_all_three_is_proposed():
    # Forty parks, index = the value; floor(0.05 · 40) = 2 at the bottom each year.
    base = {key: key for key in range(1, 41)}
    yearly = {
        2027: year_of(base),                        # bottom: 1, 2
        2028: year_of(base | {2: 30, 3: 0}),        # bottom: 1, 3 (2 moved up)
        2029: year_of(base),                        # bottom: 1, 2
    }
    [candidate] = removal_candidates(yearly, [2027, 2028, 2029], SHARE)
    assert candidate.key == 1
    assert [(s.year, s.rank, s.compared, s.bottom_count) for s in candidate.standings] == [
        (2027, 40, 40, 2), (2028, 39, 40, 2), (2029, 40, 40, 2)]  # 2028: park 3 (0) is last
    # Park 2: bottom in 2027 and 2029 but not in 2028: not proposed.
    assert not standings(yearly[2028], 2028, SHARE)[2].is_bottom


def test_under_twenty_units_a_year_nobody_is_at_the_bottom():
    # floor(0.05 · 19) = 0.
    yearly = {year: year_of({key: key for key in range(1, 20)}) for year in (1, 2, 3)}
    assert removal_candidates(yearly, [1, 2, 3], SHARE) == []


def test_a_unit_without_an_index_in_one_year_is_not_proposed():
    base = year_of({key: key for key in range(1, 41)})
    without_one = {k: v for k, v in base.items() if k != 1}
    assert [c.key for c in removal_candidates({1: base, 2: without_one, 3: base}, [1, 2, 3], SHARE)] == [2]


def test_equal_indices_at_the_boundary_the_later_application_falls_in_the_bottom_and_is_marked():
    values = {key: key for key in range(1, 41)}
    values[2] = values[3] = 2  # 2 and 3 equal at the boundary of the bottom two
    year = standings(year_of(values), 1, SHARE)
    assert [year[k].is_bottom for k in (1, 2, 3)] == [True, False, True]
    assert year[2].tied_at_boundary and year[3].tied_at_boundary and not year[1].tied_at_boundary


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(st.integers(1, 60), st.integers(0, 5), max_size=60), min_size=1, max_size=4))
def test_candidates_are_exactly_the_units_in_the_bottom_every_year(years_values):
    yearly = {year: year_of(values) for year, values in enumerate(years_values)}
    years = list(yearly)
    found = {c.key for c in removal_candidates(yearly, years, SHARE)}
    for year in years:
        year_standings = standings(yearly[year], year, SHARE)
        bottom = {k for k, s in year_standings.items() if s.is_bottom}
        assert len(bottom) == int(SHARE * len(yearly[year]))
        assert found <= bottom
    assert all(any(not standings(yearly[y], y, SHARE).get(k) or not standings(yearly[y], y, SHARE)[k].is_bottom
                   for y in years) for k in set().union(*map(set, yearly.values())) - found)
