"""The engine's promises: exact decimals, the pass rule, industry filters, frozen copies, purity."""

import json
import pathlib
import subprocess
import sys
from decimal import Decimal

import pytest

from certify.scoring import AnswerError, RuleSet, applicable_indicators, loads, max_total, score

SMALL = b"""
id: small
version: "1"
kind: supply_chain
title: {zh: \xe5\xb0\x8f, en: Small}
standard: {code: T-1, title: {zh: \xe6\xa0\x87\xe5\x87\x86, en: Standard}}
effective_from: 2020-01-01
pass: {threshold: 6.6}
grades:
  - {key: good, min: 8, title: {zh: \xe5\xa5\xbd, en: Good}}
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
      - {id: M1, type: metric, unit: {zh: "%", en: "%"}, scoring: linear, better: higher,
         baseline: 0, leading: 3, max: 1, title: {zh: \xe9\x87\x8f, en: Metric}}
      - {id: S31, type: metric, unit: {zh: t, en: t}, scoring: bands, better: lower, industries: ["31"],
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
    assert score(small, {"M1": 300}).indicator("M1").points == Decimal("1.00")


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
    # 2.5 + 3 + 1.1 + 1 + 2 = 9.6 >= 8
    answers = {"B1": True, "P1": 2.5, "P2": True, "C1": "some", "M1": 3, "S31": 5}
    assert score(small, answers, industry="31").grade == "good"
    assert score(small, answers | {"B1": False}, industry="31").grade is None


def test_industry_indicators_count_only_for_their_industry(small):
    assert max_total(small) == Decimal("7.60")
    assert max_total(small, "31") == Decimal("9.60")
    assert max_total(small, "3120") == Decimal("9.60")
    assert "S31" not in {i.id for i in applicable_indicators(small, "30")}
    # an answer to an indicator of another industry is ignored, not refused
    assert score(small, {"S31": 4}, industry="30").total == 0
    assert score(small, {"S31": 4}, industry="31").total == Decimal("2.00")


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
