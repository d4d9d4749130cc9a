"""Properties every shipped rule set keeps, whatever the answers (Hypothesis)."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certify.scoring import applicable_indicators, load, score
from tests.unit.scoring.conftest import shipped_files

# Industries worth trying: none, each seeded industry division, a finer class, one unlisted.
INDUSTRIES = [None, "31", "30", "32", "25", "26", "2612", "22", "13"]
RULE_SETS = [load(path) for path in shipped_files()]
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def answer_for(indicator) -> st.SearchStrategy:
    """Any valid answer to ``indicator``."""
    if indicator.type == "requirement":
        return st.booleans()
    if indicator.type == "points":
        steps = int(indicator.max / indicator.step)
        return st.integers(0, steps).map(lambda n: indicator.step * n)
    if indicator.type == "choice":
        return st.sampled_from([o.key for o in indicator.options])
    anchors = [b.at for b in indicator.bands] or [indicator.baseline, indicator.leading]
    low, high = min(anchors), max(anchors)
    spread = (high - low) or Decimal(1)
    return st.decimals(low - spread, high + spread, places=2)


@st.composite
def scenarios(draw):
    """A rule set, an industry and a partial set of valid answers."""
    rule_set = draw(st.sampled_from(RULE_SETS))
    industry = draw(st.sampled_from(INDUSTRIES))
    answers = {}
    for indicator in applicable_indicators(rule_set, industry):
        if draw(st.integers(0, 9)) > 0:
            answers[indicator.id] = draw(answer_for(indicator))
    return rule_set, industry, answers


def raised(indicator, answer):
    """An answer at least as good as ``answer`` (None when there is no better one)."""
    if indicator.type == "requirement":
        return True
    if indicator.type == "points":
        current = Decimal(0) if answer is None else Decimal(answer)
        return min(indicator.max, current + indicator.step)
    if indicator.type == "choice":
        current = next((o.points for o in indicator.options if o.key == answer), Decimal(-1))
        better = [o for o in indicator.options if o.points >= current]
        return max(better, key=lambda o: o.points).key
    anchors = [b.at for b in indicator.bands] or [indicator.baseline, indicator.leading]
    if answer is None:
        return min(anchors) if indicator.better == "higher" else max(anchors)
    step = Decimal("0.37")
    return answer + step if indicator.better == "higher" else answer - step


@PROPERTY_SETTINGS
@given(scenarios())
def test_the_total_stays_between_zero_and_the_maximum(scenario):
    rule_set, industry, answers = scenario
    result = score(rule_set, answers, industry=industry)
    assert Decimal(0) <= result.total <= result.max
    for section in result.sections:
        assert Decimal(0) <= section.score <= section.max


@PROPERTY_SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_raising_one_answer_never_lowers_the_total(scenario, rnd):
    rule_set, industry, answers = scenario
    indicator = rnd.choice(applicable_indicators(rule_set, industry))
    better = dict(answers, **{indicator.id: raised(indicator, answers.get(indicator.id))})
    before = score(rule_set, answers, industry=industry)
    after = score(rule_set, better, industry=industry)
    assert after.total >= before.total
    assert after.passed or not before.passed


@PROPERTY_SETTINGS
@given(scenarios(), st.randoms(use_true_random=False), st.booleans())
def test_any_unmet_requirement_fails_the_application(scenario, rnd, leave_unanswered):
    rule_set, industry, answers = scenario
    requirements = [i for i in applicable_indicators(rule_set, industry) if i.type == "requirement"]
    requirement = rnd.choice(requirements)
    answers = {key: value for key, value in answers.items() if key != requirement.id}
    if not leave_unanswered:
        answers[requirement.id] = False
    result = score(rule_set, answers, industry=industry)
    assert not result.passed
    assert requirement.id in result.failed_requirements


@PROPERTY_SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_the_order_of_the_answers_does_not_matter(scenario, rnd):
    rule_set, industry, answers = scenario
    items = list(answers.items())
    rnd.shuffle(items)
    assert score(rule_set, dict(items), industry=industry).to_dict() == score(rule_set, answers, industry=industry).to_dict()


@pytest.mark.parametrize("rule_set", RULE_SETS, ids=lambda rs: rs.id)
def test_full_answers_reach_the_maximum(rule_set):
    for industry in INDUSTRIES:
        answers = {}
        for indicator in applicable_indicators(rule_set, industry):
            answers[indicator.id] = best_answer(indicator)
        result = score(rule_set, answers, industry=industry)
        assert result.total == result.max
        assert not result.failed_requirements


def best_answer(indicator):
    if indicator.type == "requirement":
        return True
    if indicator.type == "points":
        return indicator.max
    if indicator.type == "choice":
        return max(indicator.options, key=lambda o: o.points).key
    if indicator.bands:
        return indicator.bands[-1].at
    return indicator.leading
