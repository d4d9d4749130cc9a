"""The engine's promises: exact decimals, the pass rule, industry filters, frozen copies, purity."""

import json
import pathlib
import subprocess
import sys
from decimal import Decimal

import pytest

from certify.scoring import AnswerError, Result, RuleSet, applicable_indicators, loads, max_total, score

SMALL = b"""
id: small
version: "1"
kind: supply_chain
title: {zh: \xe5\xb0\x8f, en: Small}
standard: {code: T-1, title: {zh: \xe6\xa0\x87\xe5\x87\x86, en: Standard}}
effective_from: 2020-01-01
total: 7.6
pass: {threshold: 6.6}
grades:
  - {key: good, min: 7.5, title: {zh: \xe5\xa5\xbd, en: Good}}
basic_requirements:
  - {id: B1, title: {zh: \xe5\x9f\xba\xe6\x9c\xac, en: Basic}}
sections:
  - id: s
    title: {zh: \xe8\x8a\x82, en: Section}
    indicators:
      - {id: P1, type: points, max: 2.5, step: 0.5, title: {zh: \xe7\x82\xb9, en: Points}}
      - {id: P2, type: points, max: 3, step: 3, required: true, title: {zh: \xe5\xbf\x85, en: Mandatory}}
      - {id: C1, type: choice, title: {zh: \xe9\x80\x89, en: Choice},
         options: [{key: none, points: 0, title: {zh: \xe6\x97\xa0, en: None}},
                   {key: some, points: 1.1, title: {zh: \xe9\x83\xa8\xe5\x88\x86, en: Some}}]}
      - {id: M1, type: metric, unit: "%", scoring: linear, better: higher,
         baseline: 0, leading: 3, max: 1, title: {zh: \xe9\x87\x8f, en: Metric}}
      - {id: S31, type: metric, unit: kgce/t, range: {min: 0, exclusive_min: true}, scoring: bands, better: lower, industries: ["31"],
         bands: [{at: 10, points: 1}, {at: 5, points: 2}], title: {zh: \xe9\x92\xa2, en: Steel}}
"""


@pytest.fixture
def small():
    return loads(SMALL, "small.yaml")


def test_a_total_exactly_on_the_threshold_passes(small):
    # 2.5 + 3 + 1.1 = 6.6, the threshold
    result = score(small, {"B1": True, "P1": 2.5, "P2": True, "C1": "some"})
    assert result.total == Decimal("6.60")
    assert result.passed


def test_a_total_just_below_the_threshold_fails(small):
    result = score(small, {"B1": True, "P1": 2.5, "P2": True, "C1": "some"}, threshold="6.61")
    assert not result.passed


def test_float_answers_do_not_drift(small):
    # 0.1 + 0.2 as floats is 0.30000000000000004; metric points are 1 x value / 3, quantised once.
    result = score(small, {"M1": 0.1 + 0.2})
    assert result.indicator("M1").points == Decimal("0.10")
    assert score(small, {"P1": 0.5, "M1": 1.5}).total == Decimal("1.00")


def test_points_are_rounded_half_up_to_the_cent(small):
    # 1 x 0.015 / 3 = 0.005 -> 0.01 (ROUND_HALF_UP, not banker's rounding)
    assert score(small, {"M1": Decimal("0.015")}).indicator("M1").points == Decimal("0.01")


def test_a_metric_is_capped_at_its_maximum(small):
    # 3 % is the leading value; 80 % earns no more than the maximum
    assert score(small, {"M1": 80}).indicator("M1").points == Decimal("1.00")


def test_an_unmet_mandatory_item_fails_even_with_enough_points(small):
    result = score(small, {"B1": True, "P1": 2.5, "P2": False, "C1": "some", "M1": 3}, threshold=0)
    assert result.failed_requirements == ("P2",)
    assert not result.passed
    assert "required" in result.indicator("P2").explanation


def test_unanswered_counts_as_zero_and_not_met(small):
    result = score(small, {})
    assert result.total == 0
    assert result.failed_requirements == ("B1", "P2")


def test_a_pass_fail_rule_set_passes_on_requirements_alone(small):
    assert score(small, {"B1": True, "P2": True}, threshold=None).passed


def test_the_grade_is_given_only_to_a_passed_application(small):
    # 2.5 + 3 + 1.1 + 1 = 7.6 >= 7.5
    answers = {"B1": True, "P1": 2.5, "P2": True, "C1": "some", "M1": 3}
    assert score(small, answers).grade == "good"
    assert score(small, answers | {"B1": False}).grade is None


def test_industry_indicators_count_only_for_their_industry(small):
    assert max_total(small) == Decimal("7.60")
    assert "S31" not in {i.id for i in applicable_indicators(small, "30")}
    # an industry's extra indicator is scored within the declared total: 2 of 9.6 raw -> 1.58 of 7.6
    assert max_total(small, "3120") == Decimal("7.60")
    assert score(small, {"S31": 4}, industry="3120").total == Decimal("1.58")


def test_an_answer_for_an_indicator_of_another_industry_is_refused_not_dropped(small):
    with pytest.raises(AnswerError) as caught:
        score(small, {"P1": 1, "S31": 4}, industry="3011")
    assert caught.value.indicator_id == "S31" and caught.value.code == "not_for_industry"
    assert "applies only to industries 31, not to 3011" in str(caught.value)


def test_banded_metrics_score_the_best_band_reached(small):
    points = [score(small, {"S31": v}, industry="31").indicator("S31").points for v in (11, 10, 7, 5, 1)]
    assert points == [Decimal("0.00"), Decimal("1.00"), Decimal("1.00"), Decimal("2.00"), Decimal("2.00")]


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"X9": 1}, "X9: unknown indicator"),
        ({"B1": "yes"}, "B1: must be true or false"),
        ({"P1": 0.7}, "P1: must be from 0 to 2.5 in steps of 0.5"),
        ({"P1": 3}, "P1: must be from 0 to 2.5"),
        ({"P1": True}, "P1: must be a number of points"),
        ({"C1": "all"}, "C1: must be one of none, some"),
        ({"M1": "12"}, "M1: must be a number"),
        ({"M1": float("nan")}, "M1: must be a finite number"),
        ({"M1": 150}, "M1: 150 % is outside the allowed range: from 0 to 100 %"),
        ({"M1": Decimal("1E+400")}, "M1: 1E+400 % is outside the allowed range: from 0 to 100 %"),
        ({"M1": -50}, "M1: -50 % is outside the allowed range"),
    ],
)
def test_a_bad_answer_is_refused_naming_the_indicator(small, answers, message):
    with pytest.raises(AnswerError) as caught:
        score(small, answers)
    assert str(caught.value).startswith(message)


def test_a_yes_no_points_item_accepts_true_or_its_maximum(small):
    assert score(small, {"P2": True}).indicator("P2").points == Decimal("3.00")
    assert score(small, {"P2": 3}).indicator("P2").points == Decimal("3.00")


def test_every_indicator_explains_its_points_in_one_line(small):
    result = score(small, {"B1": True, "P1": 1, "C1": "some", "M1": 2, "S31": 7}, industry="31")
    for indicator in result.indicators:
        assert indicator.explanation and "\n" not in indicator.explanation


def test_the_frozen_copy_round_trips_exactly(rule_sets, small):
    for rule_set in [small, *rule_sets.values()]:
        frozen = json.loads(json.dumps(rule_set.to_dict()))
        thawed = RuleSet.from_dict(frozen)
        assert thawed == rule_set
        assert thawed.to_dict() == frozen
        assert thawed.sha256 == rule_set.sha256 and thawed.path == rule_set.path


def test_a_frozen_copy_scores_like_the_file(rule_sets):
    rule_set = rule_sets["supply-chain-miit-2016"]
    thawed = RuleSet.from_dict(json.loads(json.dumps(rule_set.to_dict())))
    answers = {"X11": 7, "X26": Decimal("33.3"), "X61": 2}
    assert score(thawed, answers).to_dict() == score(rule_set, answers).to_dict()


def test_a_result_rebuilt_from_its_frozen_copy_is_the_same_result(rule_sets):
    rule_set = rule_sets["supply-chain-miit-2016"]
    result = score(rule_set, {"BR1": True, "X11": 7, "X26": Decimal("33.3"), "X61": 2},
                   not_applicable={"X41": "no product is taken back"}, threshold="70")
    frozen = json.loads(json.dumps(result.to_dict()))
    rebuilt = Result.from_dict(rule_set, frozen)
    assert rebuilt.to_dict() == result.to_dict()
    assert rebuilt.indicator("X26").answer == Decimal("33.3")
    assert rebuilt.not_applicable == {"X41": "no product is taken back"}


def test_a_frozen_copy_of_the_first_format_is_read_and_scores_as_before(rule_sets):
    # A copy frozen before answer ranges and declared totals existed (applications opened then).
    rule_set = rule_sets["supply-chain-miit-2016"]
    old = rule_set.to_dict() | {"format": 1}
    old.pop("total")
    for section in old["sections"]:
        for item in section["indicators"]:
            item.pop("range", None)
            item.pop("not_applicable", None)
            if item.get("unit"):
                item["unit"] = {"zh": "%", "en": "%"}
    thawed = RuleSet.from_dict(json.loads(json.dumps(old)))
    assert thawed.total == Decimal(100)
    assert thawed.indicator("X26").range.describe() == "from 0 to 100"
    answers = {"X11": 7, "X26": Decimal("33.3")}
    assert score(thawed, answers).total == score(rule_set, answers).total


def test_an_unknown_frozen_format_is_refused(small):
    with pytest.raises(ValueError, match="format"):
        RuleSet.from_dict(small.to_dict() | {"format": 99})


def test_the_engine_imports_neither_flask_nor_sqlalchemy():
    # The parent package ``certify`` builds the Flask app, so stand in for it: what is measured is
    # what ``certify.scoring`` itself pulls in.
    code = (
        "import sys, types, pathlib\n"
        "stub = types.ModuleType('certify'); stub.__path__ = [str(pathlib.Path('certify').resolve())]\n"
        "sys.modules['certify'] = stub\n"
        "import certify.scoring\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy', 'flask_sqlalchemy')))\n"
    )
    root = pathlib.Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root).stdout
    assert out.strip() == "[]"
