"""Cohort grades (企业绿码): the composite worked out by hand, and the grading's promises held for
any cohort (hypothesis): the counts, the order the units come in, ties, and withheld units."""

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.grades.ranking import (
    Grade,
    GradingRules,
    Outcome,
    Unit,
    cohort_key,
    composites,
    grade_cohort,
    grade_counts,
    grade_units,
    parse_cohort_fields,
)

RULES = GradingRules(minimum_size=20, top_share=Decimal("0.05"), second_share=Decimal("0.35"))
ONE_INDICATOR = {"p": "higher"}


def units_with(values: list, cohort: str = "c") -> list[Unit]:
    """Units 1, 2, … with one indicator ``p`` each."""
    return [Unit(key=number, cohort=cohort, values={"p": Decimal(value)})
            for number, value in enumerate(values, start=1)]


def grades_of(result) -> dict[int, Grade | None]:
    return {unit.key: unit.grade for unit in result.units}


# ---- worked by hand ------------------------------------------------------------------------------

def test_the_composite_is_the_mean_of_the_positions_worked_by_hand():
    # p: higher is better, declared by all four: 10, 20, 30, 20.
    #   unit 1: no unit worse, alone at 10           -> (0 + (1-1)/2) / 3 = 0
    #   units 2 and 4: one worse (10), two equal      -> (1 + (2-1)/2) / 3 = 1/2
    #   unit 3: three worse                           -> 3 / 3 = 1
    # e: lower is better, declared by units 1-3 only: 5, 5, 9.
    #   units 1 and 2: one worse (9), two equal       -> (1 + 1/2) / 2 = 3/4
    #   unit 3: none worse                            -> 0
    # composites: 1 -> (0 + 3/4)/2 = 3/8; 2 -> (1/2 + 3/4)/2 = 5/8; 3 -> (1 + 0)/2 = 1/2;
    # 4 -> 1/2 (p only).
    units = [Unit(1, "c", {"p": Decimal(10), "e": Decimal(5)}),
             Unit(2, "c", {"p": Decimal(20), "e": Decimal(5)}),
             Unit(3, "c", {"p": Decimal(30), "e": Decimal(9)}),
             Unit(4, "c", {"p": Decimal(20)})]
    assert composites(units, {"p": "higher", "e": "lower"}) == {
        1: Fraction(3, 8), 2: Fraction(5, 8), 3: Fraction(1, 2), 4: Fraction(1, 2)}
    report = grade_cohort("c", units, {"p": "higher", "e": "lower"}, RULES)
    # Four units: under the minimum of 20, reported with ranks (3 before 4: equal, smaller key).
    assert not report.is_graded
    assert [(u.key, u.rank, u.outcome) for u in report.units] == [
        (2, 1, Outcome.SMALL_COHORT), (3, 2, Outcome.SMALL_COHORT),
        (4, 3, Outcome.SMALL_COHORT), (1, 4, Outcome.SMALL_COHORT)]
    assert all(u.grade is None for u in report.units)


def test_an_indicator_only_one_unit_declared_does_not_count_and_a_unit_without_any_is_not_graded():
    units = [Unit(1, "c", {"p": Decimal(1)}), Unit(2, "c", {"p": Decimal(2)}),
             Unit(3, "c", {"q": Decimal(7)})]
    assert composites(units, {"p": "higher", "q": "higher"}) == {1: 0, 2: 1, 3: None}
    report = grade_cohort("c", units, {"p": "higher", "q": "higher"}, RULES)
    assert {u.key: u.outcome for u in report.units}[3] == Outcome.NO_VALUES


@pytest.mark.parametrize(("graded", "a_plus", "a", "b"), [
    (21, 1, 7, 13),   # floor(1.05) = 1, floor(7.35) = 7, 21 - 8 = 13
    (20, 1, 7, 12),   # floor(1.00) = 1, floor(7.00) = 7
    (40, 2, 14, 24),  # floor(2.00) = 2, floor(14.00) = 14
    (39, 1, 13, 25),  # floor(1.95) = 1, floor(13.65) = 13
    (100, 5, 35, 60),
])
def test_grade_counts_worked_by_hand(graded, a_plus, a, b):
    assert grade_counts(graded, RULES) == (a_plus, a, b)
    report = grade_cohort("c", units_with(range(graded)), ONE_INDICATOR, RULES)
    assert (report.count(Grade.A_PLUS), report.count(Grade.A), report.count(Grade.B)) == (a_plus, a, b)


def test_twenty_one_units_the_best_is_a_plus_the_next_seven_a():
    report = grade_cohort("c", units_with(range(1, 22)), ONE_INDICATOR, RULES)
    grades = grades_of(report)
    assert grades[21] == Grade.A_PLUS
    assert {key for key, grade in grades.items() if grade == Grade.A} == set(range(14, 21))
    assert {key for key, grade in grades.items() if grade == Grade.B} == set(range(1, 14))


def test_a_cohort_of_nineteen_is_reported_but_not_graded():
    report = grade_cohort("c", units_with(range(19)), ONE_INDICATOR, RULES)
    assert report.size == 19 and not report.is_graded
    assert {u.outcome for u in report.units} == {Outcome.SMALL_COHORT}
    assert sorted(u.rank for u in report.units) == list(range(1, 20))


def test_equal_composites_at_a_boundary_keep_the_counts_and_the_smaller_key_ranks_higher():
    # Twenty units; units 5 and 3 share the best value: one A+ only, unit 3 takes it.
    values = list(range(20))
    values[4] = values[2] = 100
    report = grade_cohort("c", units_with(values), ONE_INDICATOR, RULES)
    by_key = {u.key: u for u in report.units}
    assert (by_key[3].grade, by_key[5].grade) == (Grade.A_PLUS, Grade.A)
    assert by_key[3].tied_at_boundary and by_key[5].tied_at_boundary
    assert report.count(Grade.A_PLUS) == 1
    assert not any(u.tied_at_boundary for key, u in by_key.items() if key not in (3, 5))


def test_a_withheld_unit_is_reported_with_its_reason_and_does_not_count_towards_the_size():
    report = grade_cohort("c", units_with(range(21)), ONE_INDICATOR, RULES, withheld={7: "flag"})
    by_key = {u.key: u for u in report.units}
    assert by_key[7].outcome == Outcome.WITHHELD and by_key[7].reason == "flag"
    assert by_key[7].grade is None and by_key[7].rank is None
    assert report.size == 20 and report.is_graded


def test_cohort_keys_follow_the_configured_fields():
    assert parse_cohort_fields("industry, province") == ("industry", "province")
    assert cohort_key(("industry", "province"), "3120", "510100") == "industry=3120;province=51"
    assert cohort_key(("industry_division", "city"), "3120", "510700") == "industry_division=31;city=5107"
    assert cohort_key(("all",), None, None) == "all=*"
    with pytest.raises(ValueError):
        parse_cohort_fields("industry,planet")
    with pytest.raises(ValueError):
        parse_cohort_fields("")


def test_units_are_graded_within_their_own_cohort():
    units = units_with(range(20), cohort="a") + [
        Unit(100 + n, "b", {"p": Decimal(n)}) for n in range(5)]
    reports = {r.cohort: r for r in grade_units(units, ONE_INDICATOR, RULES)}
    assert reports["a"].is_graded and not reports["b"].is_graded
    assert reports["a"].count(Grade.A_PLUS) == 1


# ---- promises for any cohort ----------------------------------------------------------------------

VALUES = st.integers(min_value=0, max_value=6).map(Decimal)  # few values: many ties
UNIT_VALUES = st.fixed_dictionaries({}, optional={"p": VALUES, "e": VALUES, "w": VALUES})
DIRECTIONS = {"p": "higher", "e": "lower", "w": None}


@st.composite
def cohorts(draw, min_size=0, max_size=60):
    values = draw(st.lists(UNIT_VALUES, min_size=min_size, max_size=max_size))
    keys = draw(st.lists(st.integers(1, 10_000), min_size=len(values), max_size=len(values), unique=True))
    return [Unit(key, "c", value) for key, value in zip(keys, values, strict=True)]


@st.composite
def rules(draw):
    return GradingRules(minimum_size=draw(st.integers(1, 25)),
                        top_share=draw(st.sampled_from([Decimal("0.05"), Decimal("0.1"), Decimal("0.2")])),
                        second_share=draw(st.sampled_from([Decimal("0.35"), Decimal("0.3")])))


@settings(max_examples=200, deadline=None)
@given(cohorts(), rules())
def test_the_counts_are_the_floors_of_the_shares_of_the_units_graded(units, grading):
    report = grade_cohort("c", units, DIRECTIONS, grading)
    comparable = [u for u in report.units if u.outcome in (Outcome.GRADED, Outcome.SMALL_COHORT)]
    assert report.size == len(comparable)
    if report.size < grading.minimum_size:
        assert not report.is_graded and all(u.grade is None for u in report.units)
        return
    n = report.size
    assert report.count(Grade.A_PLUS) == int(grading.top_share * n)
    assert report.count(Grade.A) == int(grading.second_share * n)
    assert report.count(Grade.B) == n - int(grading.top_share * n) - int(grading.second_share * n)


@settings(max_examples=200, deadline=None)
@given(cohorts(), rules(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_the_units_come_in(units, grading, rnd):
    shuffled = list(units)
    rnd.shuffle(shuffled)
    assert grade_cohort("c", shuffled, DIRECTIONS, grading) == grade_cohort("c", units, DIRECTIONS, grading)


@settings(max_examples=200, deadline=None)
@given(cohorts(min_size=1), rules())
def test_ties_are_stable_and_a_better_composite_never_gets_a_lower_grade(units, grading):
    report = grade_cohort("c", units, DIRECTIONS, grading)
    ranked = sorted((u for u in report.units if u.rank is not None), key=lambda u: u.rank)
    assert [u.rank for u in ranked] == list(range(1, len(ranked) + 1))
    order = {Grade.A_PLUS: 0, Grade.A: 1, Grade.B: 2, None: 3}
    for higher, lower in zip(ranked, ranked[1:], strict=False):
        assert higher.composite >= lower.composite
        if higher.composite == lower.composite:
            assert higher.key < lower.key  # equal composites: the smaller tie key first
        assert order[higher.grade] <= order[lower.grade]


@settings(max_examples=200, deadline=None)
@given(cohorts(min_size=1), rules(), st.data())
def test_a_withheld_unit_changes_the_others_grades_only_as_its_removal_would(units, grading, data):
    withheld = data.draw(st.sampled_from(units)).key
    with_it = grade_cohort("c", units, DIRECTIONS, grading, withheld={withheld: "open flags"})
    without_it = grade_cohort("c", [u for u in units if u.key != withheld], DIRECTIONS, grading)
    assert [u for u in with_it.units if u.key != withheld] == list(without_it.units)
    assert (with_it.size, with_it.is_graded) == (without_it.size, without_it.is_graded)


def test_a_large_cohort_grades_in_one_pass():
    rnd = random.Random(4)
    units = [Unit(n, "c", {"p": Decimal(rnd.randint(0, 50)), "e": Decimal(rnd.randint(0, 50))})
             for n in range(1, 2001)]
    report = grade_cohort("c", units, {"p": "higher", "e": "lower"}, RULES)
    assert (report.count(Grade.A_PLUS), report.count(Grade.A)) == (100, 700)
