"""Answers are checked against what the rule file declares; nothing is capped, zeroed or dropped
silently. Each case here was a confident wrong score before: the expected outcomes are worked out
by hand in the comments."""

from decimal import Decimal

import pytest

from certify.scoring import AnswerError, NumberFormatError, parse_number, read_answer, read_answers, score
from tests.unit.scoring.test_scoring_worked_examples import FACTORY, SUPPLY_CHAIN, factory_example, supply_chain_example

# ---- one number parser ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1234.5", "1234.5"),
        ("1,234.5", "1234.5"),
        ("12,345,678", "12345678"),
        ("１２．５", "12.5"),
        ("１，２３４．５", "1234.5"),
        (" 0.5 ", "0.5"),
        ("-3", "-3"),
        (".5", "0.5"),
    ],
)
def test_a_number_written_unambiguously_is_read_exactly(text, value):
    read = parse_number(text)
    assert read.value == Decimal(value)
    assert read.text == text.strip()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1,2", "decimal_comma"),
        ("1,23", "decimal_comma"),
        ("1,2345", "grouping"),
        ("12,34,567", "grouping"),
        ("1.2.3", "malformed"),
        ("12 34", "space"),
        ("1E+400", "exponent"),
        ("5e3", "exponent"),
        ("Infinity", "malformed"),
        ("NaN", "malformed"),
        ("", "empty"),
        ("12%", "percent"),
        ("1" * 25, "too_long"),
    ],
)
def test_an_ambiguous_or_malformed_number_is_refused_with_a_hint(text, code):
    with pytest.raises(NumberFormatError) as caught:
        parse_number(text)
    assert caught.value.code == code
    assert caught.value.hint


def test_a_percentage_sign_is_read_only_where_the_unit_is_percent(rule_sets):
    rule_set = rule_sets[SUPPLY_CHAIN]
    assert read_answer(rule_set.indicator("X26"), "82.5%").value == Decimal("82.5")
    assert read_answer(rule_set.indicator("X26"), "８２．５％").text == "８２．５％"
    factory = rule_sets[FACTORY]
    with pytest.raises(AnswerError) as caught:
        read_answer(factory.indicator("land.plot_ratio"), "1.2%")
    assert caught.value.code == "not_a_number" and caught.value.params["hint"] == "percent"


def test_a_plot_ratio_typed_one_comma_two_is_refused_not_read_as_twelve(rule_sets):
    # Was read as 12 and earned the 5-point band instead of the 3 points 1.2 earns.
    rule_set = rule_sets[FACTORY]
    with pytest.raises(AnswerError) as caught:
        read_answer(rule_set.indicator("land.plot_ratio"), "1,2")
    assert caught.value.indicator_id == "land.plot_ratio"
    assert caught.value.params["hint"] == "decimal_comma"
    value = read_answer(rule_set.indicator("land.plot_ratio"), "1.2").value
    assert score(rule_set, {"land.plot_ratio": value}).indicator("land.plot_ratio").points == Decimal("3.00")


def test_an_answer_in_another_unit_of_the_same_dimension_is_converted_exactly(rule_sets):
    steel = rule_sets[FACTORY].indicator("energy.unit_energy.steel")
    assert read_answer(steel, {"value": "0.5455", "unit": "tce/t"}).value == Decimal("545.5")
    with pytest.raises(AnswerError, match="cannot be converted"):
        read_answer(steel, {"value": "545.5", "unit": "kWh/t"})


def test_answers_of_a_document_keep_the_text_as_typed(rule_sets):
    values, texts = read_answers(rule_sets[SUPPLY_CHAIN], {"X11": 8, "X26": "82.5%", "BR1": True})
    assert values == {"X11": Decimal(8), "X26": Decimal("82.5"), "BR1": True}
    assert texts == {"X26": "82.5%"}


# ---- answer domains --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-100"])
def test_a_lower_is_better_intensity_of_zero_or_less_is_refused_not_given_full_marks(rule_sets, value):
    # 0 kgce/t used to beat the leading value 540 and earn all 5 points.
    with pytest.raises(AnswerError) as caught:
        score(rule_sets[FACTORY], {"energy.unit_energy.steel": Decimal(value)}, industry="3120")
    error = caught.value
    assert error.code == "out_of_range" and error.indicator_id == "energy.unit_energy.steel"
    assert str(error) == f"energy.unit_energy.steel: {value} kgce/t is outside the allowed range: greater than 0 kgce/t"


@pytest.mark.parametrize("value", ["150", "1E+400", "-50"])
def test_a_percentage_outside_0_to_100_is_refused_not_capped_or_zeroed(rule_sets, value):
    with pytest.raises(AnswerError) as caught:
        score(rule_sets[SUPPLY_CHAIN], {"X26": Decimal(value)})
    assert caught.value.code == "out_of_range"
    assert "from 0 to 100 %" in str(caught.value)


def test_points_still_cap_at_the_leading_value(rule_sets):
    # 520 kgce/t is better than the leading value 540: full points, no more.
    result = score(rule_sets[FACTORY], {"energy.unit_energy.steel": 520}, industry="3120")
    assert result.indicator("energy.unit_energy.steel").points == Decimal("5.00")


# ---- industry classes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("industry", "indicator"),
    [
        ("3110", "energy.unit_energy.steel"),
        ("3120", "energy.unit_energy.steel"),
        ("3011", "energy.unit_energy.cement_clinker"),
        ("3216", "energy.unit_energy.aluminium"),
        ("2511", "energy.unit_energy.crude_oil"),
        ("2614", "energy.unit_energy.ethylene"),
        ("2621", "energy.unit_energy.synthetic_ammonia"),
        ("2612", "energy.unit_energy.caustic_soda"),
        ("2221", "energy.unit_energy.paper"),
        # classes without their own figure get the general item
        ("3211", "energy.unit_energy"),  # copper smelting, was scored on aluminium
        ("3041", "energy.unit_energy"),  # flat glass, was scored on cement clinker
        ("2231", "energy.unit_energy"),  # paper containers, was scored on paper-making
        ("3130", "energy.unit_energy"),  # steel rolling
        ("1351", "energy.unit_energy"),
    ],
)
def test_energy_is_scored_on_the_indicator_of_the_class(rule_sets, industry, indicator):
    result = score(rule_sets[FACTORY], {}, industry=industry)
    energy = [r.id for r in result.indicators if r.indicator.best_of == "unit_energy"]
    assert energy == [indicator]
    assert result.max == Decimal("100.00")


def test_an_answer_for_an_energy_indicator_that_does_not_apply_is_refused(rule_sets):
    # A copper smelter's answer to the aluminium metric used to be dropped silently.
    with pytest.raises(AnswerError) as caught:
        score(rule_sets[FACTORY], {"energy.unit_energy.aluminium": 13500}, industry="3211")
    assert caught.value.code == "not_for_industry"
    assert "applies only to industries 3216, not to 3211" in str(caught.value)
    # ... and so is an answer to the general item where the class has its own figure
    with pytest.raises(AnswerError, match="does not apply to industry 3120"):
        score(rule_sets[FACTORY], {"energy.unit_energy": 5}, industry="3120")


# ---- not applicable (不适用) ------------------------------------------------------------------------


def test_an_item_declared_not_applicable_leaves_its_section_maximum(rule_sets):
    rule_set = rule_sets[SUPPLY_CHAIN]
    answers, *_ = supply_chain_example(rule_set)
    answers = {k: v for k, v in answers.items() if k != "X41"}
    result = score(rule_set, answers, not_applicable={"X41": "no product is taken back"})
    # recycling: X42 3.17 + X43 4 + X44 3 = 10.17 of 15 applicable raw points, scaled to the
    # section's 20: 10.17 x 20 / 15 = 13.56; total 19 + 16.30 + 18 + 13.56 + 7 + 8.50 = 82.36
    recycling = next(s for s in result.sections if s.id == "recycling")
    assert (str(recycling.raw), str(recycling.raw_max), str(recycling.score), str(recycling.max)) == (
        "10.17", "15.00", "13.56", "20.00")
    assert str(result.total) == "82.36"
    assert result.not_applicable == {"X41": "no product is taken back"}
    assert "declared not applicable (no product is taken back)" in result.indicator("X41").explanation


def test_a_whole_section_declared_not_applicable_rescales_the_total(rule_sets):
    rule_set = rule_sets[FACTORY]
    answers, options, *_ = factory_example(rule_set)
    product = [i.id for i in rule_set.sections[3].indicators]
    answers = {k: v for k, v in answers.items() if k not in product}
    result = score(rule_set, answers, not_applicable={i: "intermediate goods only" for i in product}, **options)
    # the other sections as in the worked example: 16.00 + 12.35 + 13.00 + 8.00 + 20.97 = 70.32 of
    # the 90 that remain, rescaled to the declared 100: 70.32 x 100 / 90 = 78.133.. -> 78.13
    assert str(result.total) == "78.13" and str(result.max) == "100.00"
    assert next(s for s in result.sections if s.id == "product").max == 0


def test_an_item_with_full_points_when_not_applicable_earns_its_maximum():
    from certify.scoring import loads

    rule_set = loads(b"""
id: na
version: "1"
kind: supply_chain
title: {zh: x, en: x}
standard: {code: T-1, title: {zh: x, en: x}}
effective_from: 2020-01-01
total: 10
pass: {threshold: 6}
basic_requirements: []
sections:
  - id: s
    title: {zh: x, en: x}
    indicators:
      - {id: A, type: points, max: 4, title: {zh: x, en: x}, not_applicable: full_points}
      - {id: B, type: points, max: 6, title: {zh: x, en: x}}
""")
    result = score(rule_set, {"B": 3}, not_applicable={"A": "no such process"})
    assert str(result.total) == "7.00" and result.passed


@pytest.mark.parametrize(
    ("answers", "declared", "code"),
    [
        ({}, {"X11": "not relevant"}, "na_not_allowed"),  # X11 has no not-applicable policy
        ({}, {"X41": "  "}, "na_reason"),
        ({"X41": 40}, {"X41": "not taken back"}, "na_and_answer"),
        ({}, {"X99": "why"}, "unknown"),
    ],
)
def test_a_not_applicable_declaration_the_file_does_not_allow_is_refused(rule_sets, answers, declared, code):
    with pytest.raises(AnswerError) as caught:
        score(rule_sets[SUPPLY_CHAIN], answers, not_applicable=declared)
    assert caught.value.code == code


def test_an_industry_item_declared_not_applicable_gives_way_to_the_general_item(rule_sets):
    # An organic chemicals maker (2614) that makes no ethylene is scored on the general item.
    rule_set = rule_sets[FACTORY]
    result = score(rule_set, {"energy.unit_energy": 4}, industry="2614",
                   not_applicable={"energy.unit_energy.ethylene": "no ethylene is produced"})
    assert result.indicator("energy.unit_energy").points == Decimal("4.00")
    assert result.indicator("energy.unit_energy").counted
    # performance: 4 of 60 raw points x 30 / 60 = 2.00
    assert next(s for s in result.sections if s.id == "performance").score == Decimal("2.00")


# ---- veto conditions (否决条件) ---------------------------------------------------------------------


def test_every_shipped_rule_file_has_the_six_veto_conditions_of_the_national_notices(rule_sets):
    # The notices bar applications to the green-manufacturing lists; the zero-carbon notices name
    # no such conditions (docs/sources/tiers-and-zero-carbon.md §4–§6).
    for rule_set in (r for r in rule_sets.values() if not r.kind.startswith("zero_carbon")):
        assert [v.id for v in rule_set.veto_conditions] == [f"V{n}" for n in range(1, 7)], rule_set.id
        assert rule_set.indicator("V6").title.zh == "被列为失信被执行人"


def test_a_veto_condition_present_stops_an_application_with_full_marks(rule_sets):
    rule_set = rule_sets[SUPPLY_CHAIN]
    answers, *_ = supply_chain_example(rule_set)
    full = answers | {i.id: i.max for i in rule_set.indicators if i.type == "points"}
    cleared = score(rule_set, full)
    assert cleared.passed and cleared.vetoed == ()
    vetoed = score(rule_set, full | {"V6": True})
    assert (vetoed.passed, vetoed.vetoed, vetoed.total) == (False, ("V6",), cleared.total)
    assert "V6" in vetoed.failed_requirements
    assert vetoed.indicator("V6").explanation.startswith("present: vetoes the application")
    # not answered is not cleared
    unanswered = score(rule_set, {k: v for k, v in full.items() if k != "V1"})
    assert not unanswered.passed and unanswered.failed_requirements == ("V1",)
