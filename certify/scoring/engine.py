"""Scoring: answers in, a ``Result`` out. Deterministic, no I/O, ``Decimal`` throughout.

Rounding rule (also in ``criteria/README.md``):

1. An indicator's points are quantised to 0.01 with ``ROUND_HALF_UP``.
2. A section's raw points are the sum of its indicators' quantised points (for a ``best_of``
   group, only the best member's points).
3. A weighted section scores ``raw × weight ÷ raw maximum``, quantised to 0.01 (``ROUND_HALF_UP``)
   once, at the end; an unweighted section scores its raw points.
4. The total is the sum of the section scores; it passes when every requirement and every required
   (必选) indicator is met and the total is **at or above** the threshold, so a total exactly on
   the threshold passes. Nothing is ever a float, so nothing drifts.

Answers map indicator ids to ``True``/``False`` (requirements, and yes/no points indicators whose
step is their maximum), numbers (points, metrics; ``int``, ``Decimal``, or ``float`` read through
its shortest text) or option keys (choice). A missing or ``None`` answer counts as 0 / not met.
Answers for indicators that do not apply to the organisation's industry are ignored; an id the rule
set does not know, or a value of the wrong kind, raises ``AnswerError`` naming the indicator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from certify.scoring.model import Indicator, RuleSet, Section

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
_FILE_THRESHOLD = object()


class AnswerError(ValueError):
    """An answer that cannot be scored; ``indicator_id`` names the indicator."""

    def __init__(self, indicator_id: str, message: str):
        self.indicator_id = indicator_id
        super().__init__(f"{indicator_id}: {message}")


class IndicatorResult:
    """Points earned on one indicator; ``explanation`` is a one-line reason, built on demand."""

    __slots__ = ("indicator", "answer", "points", "met", "counted")

    def __init__(self, indicator: Indicator, answer: object, points: Decimal, met: bool, counted: bool = True):
        self.indicator = indicator
        self.answer = answer
        self.points = points
        self.met = met
        self.counted = counted

    @property
    def id(self) -> str:
        return self.indicator.id

    @property
    def max(self) -> Decimal:
        return self.indicator.max

    @property
    def explanation(self) -> str:
        return _explain(self)

    def __repr__(self) -> str:
        return f"IndicatorResult({self.id!r}, points={self.points}, met={self.met}, counted={self.counted})"


@dataclass(frozen=True, slots=True)
class SectionResult:
    """A section's score (after weighting) and maximum, with the raw points behind them."""

    id: str
    score: Decimal
    max: Decimal
    raw: Decimal
    raw_max: Decimal


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of scoring one set of answers against one rule set."""

    rule_set_id: str
    rule_set_version: str
    rule_set_sha256: str
    industry: str | None
    total: Decimal
    max: Decimal
    threshold: Decimal | None
    passed: bool
    grade: str | None
    sections: tuple[SectionResult, ...]
    failed_requirements: tuple[str, ...]
    rows: tuple[tuple, ...]  # (indicator, answer, points, met, counted), in file order

    @property
    def indicators(self) -> tuple[IndicatorResult, ...]:
        """Every applicable indicator's result, basic requirements first, in file order."""
        return tuple(IndicatorResult(*row) for row in self.rows)

    def indicator(self, indicator_id: str) -> IndicatorResult:
        """The result of one indicator (``KeyError`` if it was not scored)."""
        for row in self.rows:
            if row[0].id == indicator_id:
                return IndicatorResult(*row)
        raise KeyError(indicator_id)

    def to_dict(self) -> dict:
        """The stable JSON layout of ``flask criteria score``; numbers are decimal strings."""
        return {
            "rule_set": {"id": self.rule_set_id, "version": self.rule_set_version, "sha256": self.rule_set_sha256},
            "total": str(self.total),
            "max": str(self.max),
            "passed": self.passed,
            "grade": self.grade,
            "sections": [{"id": s.id, "score": str(s.score), "max": str(s.max)} for s in self.sections],
            "failed_requirements": list(self.failed_requirements),
            "indicators": [
                {"id": r.id, "points": str(r.points), "max": str(_cents(r.max)), "explanation": r.explanation}
                for r in self.indicators
            ],
        }


def score(
    rule_set: RuleSet,
    answers: Mapping[str, object],
    *,
    threshold: Decimal | str | None | object = _FILE_THRESHOLD,
    industry: str | None = None,
) -> Result:
    """Score ``answers`` against ``rule_set``.

    ``threshold`` overrides the file's pass threshold (provinces set their own; ``None`` means
    pass / fail on requirements alone). ``industry`` is the organisation's GB/T 4754 code (division
    such as ``"31"`` or a finer class such as ``"3120"``): indicators limited to other industries
    are left out of points and maxima alike.
    """
    if not isinstance(answers, Mapping):
        raise AnswerError("answers", "must be a mapping of indicator id to answer")
    plan = _plan(rule_set, industry)
    if not plan.known.issuperset(answers):
        unknown = sorted(str(key) for key in answers if key not in plan.known)
        raise AnswerError(unknown[0], "unknown indicator in this rule set")
    get = answers.get
    rows: list[tuple] = []
    failed: list[str] = []
    for indicator_id, indicator, scorer, _, _ in plan.basic:
        answer = get(indicator_id)
        points, met = scorer(answer)
        rows.append((indicator, answer, points, met, True))
        if not met:
            failed.append(indicator_id)
    sections = []
    total = ZERO
    for section in plan.sections:
        raw = ZERO
        groups = [[] for _ in range(section.group_count)] if section.group_count else ()
        for indicator_id, indicator, scorer, group, required in section.entries:
            answer = get(indicator_id)
            points, met = scorer(answer)
            if group >= 0:
                groups[group].append(len(rows))
            else:
                raw += points
                if required and not met:
                    failed.append(indicator_id)
            rows.append((indicator, answer, points, met, True))
        for members in groups:
            best = max(members, key=lambda n: rows[n][2])
            raw += rows[best][2]
            for n in members:
                if n != best:
                    rows[n] = rows[n][:4] + (False,)
        if section.weight is None:
            section_score = raw
        elif section.raw_max:
            section_score = (raw * section.weight / section.raw_max).quantize(CENT, ROUND_HALF_UP)
        else:
            section_score = ZERO
        total += section_score
        sections.append(SectionResult(section.id, section_score, section.max, raw, section.raw_max))
    if threshold is _FILE_THRESHOLD:
        threshold = rule_set.threshold
    elif threshold is not None:
        threshold = Decimal(threshold)
    passed = not failed and (threshold is None or total >= threshold)
    grade = next((g.key for g in rule_set.grades if total >= g.min), None) if passed else None
    return Result(
        rule_set.id,
        rule_set.version,
        rule_set.sha256,
        industry,
        total,
        plan.max,
        threshold,
        passed,
        grade,
        tuple(sections),
        tuple(failed),
        tuple(rows),
    )


def max_total(rule_set: RuleSet, industry: str | None = None) -> Decimal:
    """The highest total the rule set can give an organisation of ``industry``."""
    return _plan(rule_set, industry).max


def applicable_indicators(rule_set: RuleSet, industry: str | None = None) -> tuple[Indicator, ...]:
    """The indicators that count for an organisation of ``industry``, in file order."""
    return tuple(i for i in rule_set.indicators if i.id in _plan(rule_set, industry).applicable)


# ---- plans: everything about a rule set that does not depend on the answers ----------------------

Scorer = Callable[[object], tuple[Decimal, bool]]


class _SectionPlan:
    __slots__ = ("id", "entries", "group_count", "weight", "raw_max", "max")

    def __init__(self, section: Section, industry: str | None):
        self.id = section.id
        self.weight = section.weight
        applicable = [i for i in section.indicators if i.applies_to(industry)]
        # Within a best_of group, an alternative limited to the organisation's industry beats a
        # general one; only the best-scoring remaining member counts.
        names = list(dict.fromkeys(i.best_of for i in applicable if i.best_of))
        members = {name: [i for i in applicable if i.best_of == name] for name in names}
        members = {name: [i for i in group if i.industries] or group for name, group in members.items()}
        counted = {i.id for group in members.values() for i in group}
        self.entries = [
            (i.id, i, _scorer(i), names.index(i.best_of) if i.best_of else -1, i.required)
            for i in applicable
            if i.best_of is None or i.id in counted
        ]
        self.group_count = len(names)
        singles = sum((i.max for i in applicable if i.best_of is None), Decimal(0))
        self.raw_max = _cents(singles + sum((max(i.max for i in g) for g in members.values()), Decimal(0)))
        if self.weight is None:
            self.max = self.raw_max
        else:
            self.max = _cents(self.weight) if self.raw_max else ZERO


class _Plan:
    __slots__ = ("basic", "sections", "known", "applicable", "max")

    def __init__(self, rule_set: RuleSet, industry: str | None):
        self.known = frozenset(i.id for i in rule_set.indicators)
        self.basic = [(i.id, i, _scorer(i), -1, True) for i in rule_set.basic_requirements]
        self.sections = [_SectionPlan(section, industry) for section in rule_set.sections]
        self.applicable = frozenset(
            [entry[0] for entry in self.basic] + [entry[0] for s in self.sections for entry in s.entries]
        )
        self.max = sum((s.max for s in self.sections), ZERO)


def _plan(rule_set: RuleSet, industry: str | None) -> _Plan:
    plan = rule_set._plans.get(industry)
    if plan is None:
        plan = rule_set._plans[industry] = _Plan(rule_set, industry)
    return plan


def _scorer(indicator: Indicator) -> Scorer:
    if indicator.type == "requirement":
        return _requirement_scorer(indicator)
    if indicator.type == "points":
        return _points_scorer(indicator)
    if indicator.type == "choice":
        return _choice_scorer(indicator)
    if indicator.scoring == "bands":
        return _bands_scorer(indicator)
    return _linear_scorer(indicator)


def _requirement_scorer(indicator: Indicator) -> Scorer:
    def score_requirement(answer):
        if answer is True or answer is False:
            return ZERO, answer
        if answer is None:
            return ZERO, False
        raise AnswerError(indicator.id, f"must be true or false, not {answer!r}")

    return score_requirement


def _points_scorer(indicator: Indicator) -> Scorer:
    maximum, step, binary = _cents(indicator.max), indicator.step, indicator.is_binary
    allowed = {_cents(step * n): _cents(step * n) for n in range(int(indicator.max / step) + 1)}

    def score_points(answer):
        if answer is None:
            return ZERO, False
        if answer is True or answer is False:
            if binary:
                return (maximum, True) if answer else (ZERO, False)
            raise AnswerError(indicator.id, f"must be a number of points from 0 to {indicator.max}, not {answer!r}")
        try:
            points = allowed.get(answer)
        except TypeError:
            points = None
        if points is None:
            points = allowed.get(_number(indicator, answer))
        if points is None:
            raise AnswerError(indicator.id, f"must be from 0 to {indicator.max} in steps of {step}, not {answer}")
        return points, points == maximum

    return score_points


def _choice_scorer(indicator: Indicator) -> Scorer:
    points_by_key = {o.key: _cents(o.points) for o in indicator.options}
    maximum = _cents(indicator.max)

    def score_choice(answer):
        if answer is None:
            return ZERO, False
        points = points_by_key.get(answer) if isinstance(answer, str) else None
        if points is None:
            raise AnswerError(indicator.id, f"must be one of {', '.join(points_by_key)}, not {answer!r}")
        return points, points == maximum

    return score_choice


def _linear_scorer(indicator: Indicator) -> Scorer:
    baseline, leading, maximum = indicator.baseline, indicator.leading, _cents(indicator.max)
    span = leading - baseline  # negative when lower is better
    higher = indicator.better == "higher"

    def score_linear(answer):
        if answer is None:
            return ZERO, False
        value = _number(indicator, answer)
        met = value >= baseline if higher else value <= baseline
        reached = value >= leading if higher else value <= leading
        if reached:
            return maximum, met
        if not met or value == baseline:
            return ZERO, met
        return (indicator.max * (value - baseline) / span).quantize(CENT, ROUND_HALF_UP), met

    return score_linear


def _bands_scorer(indicator: Indicator) -> Scorer:
    # Best band first, so the first band reached is the one that scores.
    bands = [(b.at, _cents(b.points)) for b in reversed(indicator.bands)]
    higher = indicator.better == "higher"

    def score_bands(answer):
        if answer is None:
            return ZERO, False
        value = _number(indicator, answer)
        for at, points in bands:
            if (value >= at) if higher else (value <= at):
                return points, True
        return ZERO, False

    return score_bands


def _number(indicator: Indicator, answer: object) -> Decimal:
    if isinstance(answer, bool) or not isinstance(answer, (int, float, Decimal)):
        raise AnswerError(indicator.id, f"must be a number, not {answer!r}")
    value = Decimal(repr(answer)) if isinstance(answer, float) else Decimal(answer)
    if not value.is_finite():
        raise AnswerError(indicator.id, f"must be a finite number, not {answer!r}")
    return value


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _points_of(result: IndicatorResult) -> Decimal:
    return result.points


# ---- explanations ----------------------------------------------------------------------------------


def _explain(result: IndicatorResult) -> str:
    indicator, answer = result.indicator, result.answer
    if answer is None:
        text = "not answered: counts as not met" if indicator.type == "requirement" else "not answered: 0 points"
    elif indicator.type == "requirement":
        text = "met" if result.met else "not met"
    elif indicator.type == "points":
        text = f"awarded {result.points} of {_cents(indicator.max)}"
    elif indicator.type == "choice":
        option = next(o for o in indicator.options if o.key == answer)
        text = f"option {answer!r} ({option.title.en}): {result.points} of {_cents(indicator.max)}"
    else:
        text = _explain_metric(indicator, _number(indicator, answer), result.points)
    if indicator.required and not result.met:
        text += "; required, so the application fails" if indicator.type != "requirement" else "; vetoes the application"
    if not result.counted:
        text += f"; not counted: a better alternative in {indicator.best_of!r} counts"
    return text


def _explain_metric(indicator: Indicator, value: Decimal, points: Decimal) -> str:
    unit = f" {indicator.unit.en}" if indicator.unit else ""
    of = f"{points} of {_cents(indicator.max)}"
    if indicator.scoring == "bands":
        reached = [b for b in indicator.bands if (value >= b.at if indicator.better == "higher" else value <= b.at)]
        if not reached:
            return f"{value}{unit} does not reach the first band {indicator.bands[0].at}: {of}"
        return f"{value}{unit} reaches the band {reached[-1].at}: {of}"
    if points == _cents(indicator.max):
        return f"{value}{unit} reaches the leading value {indicator.leading}: {of} (capped)"
    if points == 0:
        return f"{value}{unit} is no better than the baseline {indicator.baseline}: {of}"
    return f"{value}{unit} between baseline {indicator.baseline} and leading value {indicator.leading}: {of}"
