"""Computed indicators: the applicant reports the values an indicator is defined by, the engine
computes the ratio with the standard's formula and scores it; benchmarks the assessment
determines (行业先进水平 / 行业平均水平) are answered beside the inputs. Expected values by hand."""

from decimal import Decimal

import pytest

from certify.scoring import AnswerError, RuleFileError, loads, read_answer, score
from certify.scoring.formula import Formula, FormulaError
from tests.unit.scoring.conftest import rule_file_header

RULES = rule_file_header("computed", code="T-1", effective_from="2026-01-01", total=16, threshold=8) + """basic_requirements: []
sections:
  - id: s
    title: {zh: 节, en: Section}
    indicators:
      - id: energy
        type: metric
        title: {zh: 单位产品综合能耗, en: Energy per unit of product}
        unit: kgce/t
        range: {min: 0, exclusive_min: true}
        inputs:
          - {key: E, title: {zh: 综合能耗, en: Energy use}, unit: tce, range: {min: 0}}
          - {key: Q, title: {zh: 合格产品产量, en: Output}, unit: t, range: {min: 0, exclusive_min: true}}
        formula: E * 1000 / Q
        scoring: linear
        better: lower
        baseline: 107
        leading: 100
        max: 8
      - id: reuse
        type: metric
        title: {zh: 工业用水重复利用率, en: Industrial water reuse}
        unit: "%"
        inputs:
          - {key: Vr, title: {zh: 重复利用水量, en: Water reused}, unit: m³, range: {min: 0}}
          - {key: V, title: {zh: 取水量, en: Water taken}, unit: m³, range: {min: 0}}
        formula: Vr / (V + Vr) * 100
        benchmarks: assessed
        scoring: linear
        better: higher
        max: 8
"""


@pytest.fixture(scope="module")
def rules():
    return loads(RULES.encode(), "computed.yaml")


def test_the_engine_computes_the_ratio_from_the_inputs_and_scores_it(rules):
    # 5,210 tce for 50,000 t = 104.2 kgce/t, between the baseline 107 and the leading value 100:
    # 8 x (107 - 104.2) / 7 = 3.20
    result = score(rules, {"energy": {"E": Decimal(5210), "Q": Decimal(50000)}})
    row = result.indicator("energy")
    assert row.points == Decimal("3.20")
    assert row.explanation.startswith("E * 1000 / Q = 104.2 kgce/t (E = 5210, Q = 50000) between baseline 107")


def test_assessed_benchmarks_are_answered_beside_the_inputs(rules):
    # 9,000 m³ reused of 9,000 + 1,000 = 90 %; industry average 85 %, advanced 95 %: 8 x 5 / 10 = 4.00
    answer = {"Vr": 9000, "V": 1000, "baseline": 85, "leading": 95}
    assert score(rules, {"reuse": answer}).indicator("reuse").points == Decimal("4.00")
    # at the advanced level: full points, capped
    assert score(rules, {"reuse": answer | {"leading": 90}}).indicator("reuse").points == Decimal("8.00")


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ({"E": 5210}, "missing_input"),
        ({"E": -1, "Q": 50000}, "out_of_range"),
        ({"E": 5210, "Q": 0}, "out_of_range"),
        ({"E": 5210, "Q": 50000, "X": 1}, "wrong_kind"),
        (Decimal("104.2"), "wrong_kind"),
        ({"E": 0, "Q": 50000}, "out_of_range"),  # 0 kgce/t is outside the intensity's range
    ],
)
def test_an_input_missing_or_outside_its_range_is_refused_naming_it(rules, answer, code):
    with pytest.raises(AnswerError) as caught:
        score(rules, {"energy": answer})
    assert caught.value.code == code and caught.value.indicator_id == "energy"


def test_benchmarks_in_the_wrong_order_or_missing_are_refused(rules):
    with pytest.raises(AnswerError) as caught:
        score(rules, {"reuse": {"Vr": 9000, "V": 1000, "baseline": 95, "leading": 85}})
    assert caught.value.code == "benchmarks_order"
    with pytest.raises(AnswerError) as caught:
        score(rules, {"reuse": {"Vr": 9000, "V": 1000}})
    assert caught.value.code == "missing_benchmark"


def test_a_division_by_zero_is_refused(rules):
    with pytest.raises(AnswerError) as caught:
        score(rules, {"reuse": {"Vr": 0, "V": 0, "baseline": 85, "leading": 95}})
    assert caught.value.code == "zero_divisor"


def test_inputs_are_read_with_the_one_number_parser(rules):
    read = read_answer(rules.indicator("energy"), {"E": "5,210", "Q": "５００００"})
    assert read.value == {"E": Decimal(5210), "Q": Decimal(50000)} and read.text == {"E": "5,210", "Q": "５００００"}


def test_a_formula_is_arithmetic_only():
    assert Formula("Vr / (V + Vr) * 100").evaluate({"Vr": Decimal(1), "V": Decimal(3)}) == Decimal(25)
    assert Formula("0.1 + 0.2").evaluate({}) == Decimal("0.3")  # decimal, never float
    for text in ("__import__('os')", "E ** 2", "max(E, Q)", "E if Q else 1", "E /"):
        with pytest.raises(FormulaError):
            Formula(text)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("formula: E * 1000 / Q", "formula: E * 1000 / R"), "uses R, which are not inputs"),
        (("formula: E * 1000 / Q", "formula: E * 1000"), "Q not used by the formula"),
        (("formula: E * 1000 / Q", "formula: E ** Q"), "may use only numbers"),
        (("unit: tce, range: {min: 0}}", "unit: furlongs}"), "unknown unit 'furlongs'"),
        (("        benchmarks: assessed\n", "        benchmarks: assessed\n        baseline: 80\n"), "do not belong together"),
    ],
)
def test_a_computed_indicator_that_does_not_hold_together_is_refused(change, message):
    with pytest.raises(RuleFileError) as caught:
        loads(RULES.replace(*change).encode(), "computed.yaml")
    assert message in str(caught.value)
