"""The zero-carbon factory and park rule files, scored by hand: the core indicator (CO2 emitted ÷
comprehensive energy use, tCO2/tce) is a veto at its threshold whatever else scores, the park's
threshold is chosen by its band of energy use, and the guiding indicators only score."""

from decimal import Decimal

import pytest

from certify.scoring import AnswerError, load, score
from tests.unit.scoring.conftest import CRITERIA
from tests.unit.scoring.test_scoring_worked_examples import all_basic

FACTORY = "zero-carbon-factory-miit-2026"
PARK = "zero-carbon-park-ndrc-2025"
SMALL = "core.carbon_per_energy_20_100"   # 20–100 万 tce a year: ≤ 0.20
LARGE = "core.carbon_per_energy_100"      # 100 万 tce a year and more: ≤ 0.30


def park_answers(rule_set, core: dict, **guiding):
    return all_basic(rule_set) | core | {
        "guide.clean_energy_share": 72, "guide.product_energy": True, "guide.solid_waste_use": 60,
        "guide.waste_heat_use": 40, "guide.water_reuse": 90} | guiding


def park_example(rule_set):
    """A park using 400,000 tce a year (the 20–100 万 band), emitting 72,000 tCO2: 0.18 ≤ 0.20."""
    answers = park_answers(rule_set, {SMALL: {"C": Decimal("72000"), "E": Decimal("400000")}})
    del answers["guide.waste_heat_use"]
    # core: limits, no points. guiding (unweighted, 50 raw points), each 10 × value ÷ guiding value:
    #   72 / 90 -> 8.00; grade 2 reached -> 10; 60 / 80 -> 7.50; waste heat not applicable;
    #   90 / 80 -> capped 10.00. Raw 35.50 of the 40 that apply -> 35.50 × 50 / 40 = 44.375 -> 44.38.
    # Passed: the core limit and every basic requirement are met (threshold null).
    options = {"not_applicable": {LARGE: "年综合能源消费量 40 万吨标准煤", "guide.waste_heat_use": "无余热资源"}}
    return answers, options, "44.38", True, None


def factory_example(rule_set):
    """A factory of 10,000 tce a year, 8,000,000 kWh of electricity."""
    answers = all_basic(rule_set) | {
        # 9,000 / 10,000 = 0.9 tCO2/tce: 10 × (1.8 − 0.9) / (1.8 − 0.2) = 9 / 1.6 = 5.625 -> 5.63
        "core.carbon_per_energy": {"C": Decimal("9000"), "E": Decimal("10000")},
        # 6,250 / 10,000 = 62.5 %: 5 × (62.5 − 30) / (95 − 30) = 162.5 / 65 = 2.50
        "core.non_fossil_share": {"N": Decimal("6250"), "E": Decimal("10000")},
        # 1,400,000 / 8,000,000 = 17.5 %: 5 × 17.5 / 35 = 2.50
        "core.physical_green_power": {"G": Decimal("1400000"), "W": Decimal("8000000")},
    }
    # 5.63 + 2.50 + 2.50 = 10.63 of 20; passed on its requirements (threshold null)
    return answers, {}, "10.63", True, None


@pytest.fixture(scope="module")
def rule_sets():
    return {rule_set_id: load(CRITERIA / f"{rule_set_id}.yaml") for rule_set_id in (FACTORY, PARK)}


WORKED_EXAMPLES = {FACTORY: factory_example, PARK: park_example}


@pytest.mark.parametrize("rule_set_id", sorted(WORKED_EXAMPLES))
def test_the_worked_example_matches_the_hand_computation(rule_sets, rule_set_id):
    rule_set = rule_sets[rule_set_id]
    answers, options, total, passed, grade = WORKED_EXAMPLES[rule_set_id](rule_set)
    result = score(rule_set, answers, **options)
    assert (str(result.total), result.passed, result.grade) == (total, passed, grade)


def test_the_kinds_and_the_core_unit(rule_sets):
    assert rule_sets[FACTORY].kind == "zero_carbon_factory"
    assert rule_sets[PARK].kind == "zero_carbon_park"
    assert rule_sets[PARK].indicator(SMALL).unit.key == "tCO2/tce"


@pytest.mark.parametrize(("emitted", "passed"), [
    ("100000", False),   # 100,000 / 400,000 = 0.25 > 0.20: vetoed
    ("72000", True),     # 0.18 ≤ 0.20
    ("80000", True),     # exactly 0.20: at the limit passes
    ("80004", False),    # 0.20001 > 0.20
])
def test_a_park_of_20_to_100_wan_tce_is_vetoed_above_0_20(rule_sets, emitted, passed):
    rule_set = rule_sets[PARK]
    # Every guiding indicator at its best: the veto still decides.
    answers = park_answers(rule_set, {SMALL: {"C": Decimal(emitted), "E": Decimal("400000")}}, **{
        "guide.clean_energy_share": 100, "guide.solid_waste_use": 100, "guide.waste_heat_use": 100,
        "guide.water_reuse": 100})
    result = score(rule_set, answers, not_applicable={LARGE: "40 万吨标准煤"})
    assert result.passed is passed
    assert result.failed_requirements == (() if passed else (SMALL,))
    assert str(result.total) == "50.00"


@pytest.mark.parametrize(("emitted", "passed"), [
    ("500000", True),    # 500,000 / 2,000,000 = 0.25 ≤ 0.30: the larger band passes what the smaller fails
    ("600000", True),    # exactly 0.30
    ("700000", False),   # 0.35 > 0.30
])
def test_a_park_of_100_wan_tce_or_more_is_vetoed_above_0_30(rule_sets, emitted, passed):
    rule_set = rule_sets[PARK]
    answers = park_answers(rule_set, {LARGE: {"C": Decimal(emitted), "E": Decimal("2000000")}})
    result = score(rule_set, answers, not_applicable={SMALL: "200 万吨标准煤"})
    assert result.passed is passed
    assert result.failed_requirements == (() if passed else (LARGE,))


def test_a_park_cannot_answer_the_band_its_energy_use_is_not_in(rule_sets):
    rule_set = rule_sets[PARK]
    # 400,000 tce is not "100 万 tce or more": the lenient 0.30 cannot be claimed.
    with pytest.raises(AnswerError) as refused:
        score(rule_set, park_answers(rule_set, {LARGE: {"C": Decimal("100000"), "E": Decimal("400000")}}),
              not_applicable={SMALL: "不适用"})
    assert refused.value.indicator_id == LARGE and refused.value.code == "out_of_range"
    # 1,000,000 tce belongs to the larger band, not the smaller.
    with pytest.raises(AnswerError):
        score(rule_set, park_answers(rule_set, {SMALL: {"C": Decimal("100000"), "E": Decimal("1000000")}}),
              not_applicable={LARGE: "不适用"})


def test_an_unanswered_core_indicator_fails_the_park(rule_sets):
    rule_set = rule_sets[PARK]
    result = score(rule_set, park_answers(rule_set, {}), not_applicable={LARGE: "不适用"})
    assert not result.passed and result.failed_requirements == (SMALL,)


def test_a_park_missing_its_plan_fails(rule_sets):
    rule_set = rule_sets[PARK]
    answers = park_answers(rule_set, {SMALL: {"C": Decimal("72000"), "E": Decimal("400000")}}) | {"BR2": False}
    result = score(rule_set, answers, not_applicable={LARGE: "不适用"})
    assert not result.passed and "BR2" in result.failed_requirements


@pytest.mark.parametrize(("emitted", "passed", "points"), [
    ("19000", False, "0.00"),   # 1.9 > 1.8, the basic requirement: vetoed
    ("18000", True, "0.00"),    # exactly 1.8: passes, no points
    ("2000", True, "10.00"),    # 0.2, the zero-carbon level: full points
    ("1000", True, "10.00"),    # 0.1, better still: capped
])
def test_a_factory_is_vetoed_above_the_basic_requirement_of_1_8(rule_sets, emitted, passed, points):
    rule_set = rule_sets[FACTORY]
    answers, *_ = factory_example(rule_set)
    answers["core.carbon_per_energy"] = {"C": Decimal(emitted), "E": Decimal("10000")}
    result = score(rule_set, answers)
    assert result.passed is passed
    assert str(result.indicator("core.carbon_per_energy").points) == points
    assert ("core.carbon_per_energy" in result.failed_requirements) is (not passed)


def test_a_factory_below_30_percent_non_fossil_energy_fails(rule_sets):
    rule_set = rule_sets[FACTORY]
    answers, *_ = factory_example(rule_set)
    answers["core.non_fossil_share"] = {"N": Decimal("2999"), "E": Decimal("10000")}   # 29.99 % < 30 %
    assert score(rule_set, answers).failed_requirements == ("core.non_fossil_share",)


def test_the_physical_green_power_share_is_no_veto_and_small_users_declare_it_not_applicable(rule_sets):
    rule_set = rule_sets[FACTORY]
    answers, *_ = factory_example(rule_set)
    answers["core.physical_green_power"] = {"G": Decimal("0"), "W": Decimal("8000000")}
    result = score(rule_set, answers)
    assert result.passed and str(result.total) == "8.13"   # 5.63 + 2.50 + 0
    del answers["core.physical_green_power"]
    result = score(rule_set, answers, not_applicable={"core.physical_green_power": "年用电 300 万千瓦时"})
    # the core section's 20 raw points scaled from the 15 that apply: 8.13 × 20 / 15 = 10.84
    assert result.passed and str(result.total) == "10.84"
    with pytest.raises(AnswerError):
        score(rule_set, answers | {"core.physical_green_power": {"G": Decimal("0"), "W": Decimal("3000000")}})


def test_every_unverified_value_is_provisional_with_its_source(rule_sets):
    for rule_set_id in (FACTORY, PARK):
        rule_set = rule_sets[rule_set_id]
        for indicator in rule_set.indicators:
            if indicator.id.startswith(("core.", "guide.")):
                assert indicator.provisional and indicator.provisional.reason.zh, indicator.id
    assert Decimal(str(rule_sets[PARK].indicator(SMALL).limit)) == Decimal("0.20")
