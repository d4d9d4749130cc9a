"""Properties every shipped rule set keeps, whatever the answers (Hypothesis)."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certify.scoring import AnswerError, applicable_indicators, load, score
from certify.scoring.engine import check_answer, within_limit
from certify.scoring.formula import Formula
from tests.unit.scoring.conftest import shipped_files

# Industries worth trying: none, each class with its own energy figure, a division, classes without.
INDUSTRIES = [None, "3110", "3120", "3011", "3216", "2511", "2614", "2621", "2612", "2221", "31", "3211", "1351"]
RULE_SETS = [load(path) for path in shipped_files()]
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def answer_for(indicator) -> st.SearchStrategy:
    """Any valid answer to ``indicator``."""
    if indicator.type in ("requirement", "veto"):
        return st.booleans()
    if indicator.type == "points":
        steps = int(indicator.max / indicator.step)
        return st.integers(0, steps).map(lambda n: indicator.step * n)
    if indicator.type == "choice":
        return st.sampled_from([o.key for o in indicator.options])
    if indicator.is_computed:
        return computed_answer(indicator)
    if indicator.limit is not None:
        anchors = [indicator.limit]
    else:
        anchors = [b.at for b in indicator.bands] or [indicator.baseline, indicator.leading]
    low, high = min(anchors), max(anchors)
    spread = (high - low) or Decimal(1)
    return st.decimals(low - spread, high + spread, places=2).filter(indicator.range.contains)


def accepted(indicator, answer) -> bool:
    try:
        check_answer(indicator, answer)
    except AnswerError:
        return False
    return True


@st.composite
def computed_answer(draw, indicator):
    """Figures for a computed metric (and, where the assessment sets them, the industry's levels)."""
    figures = {i.key: draw(st.decimals(Decimal("0.01"), Decimal(10000), places=2)) for i in indicator.inputs}
    if indicator.benchmarks == "assessed":
        low, high = sorted(draw(st.lists(st.decimals(Decimal("0.01"), Decimal(100), places=2), min_size=2,
                                         max_size=2, unique=True)))
        better = high if indicator.better == "higher" else low
        figures |= {"leading": better, "baseline": low if better == high else high}
    if not accepted(indicator, figures):
        figures = best_answer(indicator)
    return figures


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
    if indicator.type == "veto":
        return False
    if indicator.type == "requirement":
        return True
    if indicator.type == "points":
        current = Decimal(0) if answer is None else Decimal(answer)
        return min(indicator.max, current + indicator.step)
    if indicator.type == "choice":
        current = next((o.points for o in indicator.options if o.key == answer), Decimal(-1))
        better = [o for o in indicator.options if o.points >= current]
        return max(better, key=lambda o: o.points).key
    if indicator.is_computed:
        return best_answer(indicator)
    step = Decimal("0.37") if indicator.better == "higher" else Decimal("-0.37")
    if answer is None and indicator.limit is not None:
        meeting = (indicator.limit + step, indicator.limit + step / 100, indicator.limit)
        return next(v for v in meeting if indicator.range.contains(v) and within_limit(indicator, v))
    if answer is None:
        anchors = [b.at for b in indicator.bands] or [indicator.baseline, indicator.leading]
        return min(anchors) if indicator.better == "higher" else max(anchors)
    better = answer + step
    return better if indicator.range.contains(better) else answer


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
    if indicator.is_computed:
        return best_figures(indicator)
    if indicator.type == "veto":
        return False
    if indicator.type == "requirement":
        return True
    if indicator.type == "points":
        return indicator.max
    if indicator.type == "choice":
        return max(indicator.options, key=lambda o: o.points).key
    if indicator.limit is not None:  # the limit itself, or just beyond it where it must be exceeded
        nudge = (Decimal(1) if indicator.better == "higher" else Decimal("-0.01")) if indicator.strict else 0
        return indicator.limit + nudge
    if indicator.bands:
        return indicator.bands[-1].at
    return indicator.leading


@st.composite
def declared_scenarios(draw):
    """A scenario in which some of the indicators the file allows are declared not applicable
    (and left unanswered)."""
    rule_set, industry, answers = draw(scenarios())
    allowed = [i.id for i in applicable_indicators(rule_set, industry) if i.not_applicable]
    declared = {key: "does not apply here" for key in allowed if draw(st.integers(0, 2)) == 0}
    answers = {key: value for key, value in answers.items() if key not in declared}
    # an industry alternative declared not applicable lets the general item in: answer it too
    for indicator in applicable_indicators(rule_set, industry, declared):
        if indicator.id not in answers and indicator.id not in declared and draw(st.booleans()):
            answers[indicator.id] = draw(answer_for(indicator))
    return rule_set, industry, answers, declared


@PROPERTY_SETTINGS
@given(declared_scenarios())
def test_a_total_always_lies_between_zero_and_the_declared_total(scenario):
    rule_set, industry, answers, declared = scenario
    result = score(rule_set, answers, industry=industry, not_applicable=declared)
    assert Decimal(0) <= result.total <= rule_set.total
    assert result.max in (rule_set.total, Decimal(0))
    for section in result.sections:
        assert Decimal(0) <= section.score <= section.max


@PROPERTY_SETTINGS
@given(declared_scenarios())
def test_a_renormalised_section_scores_raw_over_applicable_maximum_times_its_weight(scenario):
    rule_set, industry, answers, declared = scenario
    result = score(rule_set, answers, industry=industry, not_applicable=declared)
    unrestricted = score(rule_set, {}, industry=industry)
    for section, plain in zip(result.sections, unrestricted.sections, strict=True):
        if not section.raw_max:
            assert section.score == 0 and section.max == 0
            continue
        weight = next(s.weight for s in rule_set.sections if s.id == section.id) or plain.raw_max
        expected = (section.raw / section.raw_max * weight).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert section.score == expected
        assert section.max == weight.quantize(Decimal("0.01"))


def best_figures(indicator) -> dict:
    """Figures whose computed value reaches the leading value (or the limit): every input 1 (or its
    least value) but the first, solved
    for (the formulas are linear in it); where the assessment sets the levels, levels around it."""
    formula, keys = Formula(indicator.formula), [i.key for i in indicator.inputs]
    # 1, or an input's least value where its range starts above 1 (a park's band of energy use)
    ones = {i.key: max(Decimal(1), i.range.min) if i.range is not None and i.range.min is not None else Decimal(1)
            for i in indicator.inputs}
    if indicator.benchmarks == "assessed":
        value = formula.evaluate(ones)
        step = Decimal("0.5") if indicator.better == "higher" else Decimal("-0.5")
        baseline = value - step if indicator.range.contains(value - step) else value
        return ones | {"leading": value, "baseline": baseline if baseline != value else value - step * 2}
    at_zero = formula.evaluate(ones | {keys[0]: Decimal(0)})
    slope = formula.evaluate(ones) - at_zero
    target = indicator.leading if indicator.limit is None else indicator.limit
    return ones | {keys[0]: (target - at_zero) / slope}
