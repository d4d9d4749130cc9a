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

5. An indicator declared not applicable (不适用) with policy ``renormalise`` leaves its section's
   raw maximum: the section scores ``raw × nominal ÷ applicable raw maximum`` (nominal: its weight,
   or its raw maximum when nothing is declared), quantised once; with ``full_points`` it earns its
   maximum. A section left with nothing to score drops out and the total is rescaled to the rule
   set's declared total (``total × Σ scores ÷ Σ remaining maxima``, quantised once).

Answers map indicator ids to ``True``/``False`` (requirements, and yes/no points indicators whose
step is their maximum), numbers (points, metrics; ``int``, ``Decimal``, or ``float`` read through
its shortest text) or option keys (choice); ``answers.read_answers`` turns text and JSON into
these. A missing or ``None`` answer counts as 0 / not met. Nothing is dropped or capped silently:
an id the rule set does not know, an answer for an indicator that does not apply to the
organisation's industry, a value of the wrong kind or outside the indicator's range, and a
not-applicable declaration the rule file does not allow all raise ``AnswerError`` naming the
indicator. (Points are still capped at the leading value, as the standards score.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from certify.scoring.formula import Formula, ZeroDivisor
from certify.scoring.model import Indicator, RuleSet, Section, plain, short

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The outcomes (points, met, points in cents) of an indicator scoring nothing, met or not.
MET = (ZERO, True, 0)
NOT_MET = (ZERO, False, 0)
_FILE_THRESHOLD = object()


class AnswerError(ValueError):
    """An answer that cannot be scored; ``indicator_id`` names the indicator, ``code`` says why
    (``unknown``, ``not_for_industry``, ``wrong_kind``, ``out_of_range``, ``not_a_step``,
    ``not_an_option``, ``not_a_number``, ``na_not_allowed``, ``na_reason``, ``na_and_answer``) and
    ``params`` carries what a message in another language needs."""

    def __init__(self, indicator_id: str, message: str, code: str = "wrong_kind", **params):
        self.indicator_id = indicator_id
        self.code = code
        self.params = params
        self.message = message
        super().__init__(f"{indicator_id}: {message}")


class IndicatorResult:
    """Points earned on one indicator; ``explanation`` is a one-line reason, built on demand.
    ``not_applicable`` is the reason given when it was declared not applicable (else ``None``)."""

    __slots__ = ("indicator", "answer", "points", "met", "counted", "not_applicable")

    def __init__(self, indicator: Indicator, answer: object, points: Decimal, met: bool, counted: bool = True,
                 not_applicable: str | None = None):
        self.indicator = indicator
        self.answer = answer
        self.points = points
        self.met = met
        self.counted = counted
        self.not_applicable = not_applicable

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


class SectionResult(NamedTuple):
    """A section's score (after weighting) and maximum, with the raw points behind them.
    ``raw_max`` is over what applies; a section with nothing left to score has ``max`` 0.

    A named tuple, not a frozen dataclass: as immutable, and several times quicker to make (a
    frozen dataclass sets each field through ``object.__setattr__``), which counts at six
    sections a scoring."""

    id: str
    score: Decimal
    max: Decimal
    raw: Decimal
    raw_max: Decimal


RESULT_FORMAT = 2


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
    rows: tuple[tuple, ...]  # (indicator, answer, points, met, counted, not_applicable), in file order

    @property
    def vetoed(self) -> tuple[str, ...]:
        """The veto conditions declared present: each stops the application, whatever its score."""
        return tuple(row[0].id for row in self.rows if row[0].type == "veto" and row[1] is True)

    @property
    def indicators(self) -> tuple[IndicatorResult, ...]:
        """Every applicable indicator's result: veto conditions and basic requirements first."""
        return tuple(IndicatorResult(*row) for row in self.rows)

    @property
    def not_applicable(self) -> dict[str, str]:
        """The indicators declared not applicable, with their reasons."""
        return {row[0].id: row[5] for row in self.rows if row[5] is not None}

    def indicator(self, indicator_id: str) -> IndicatorResult:
        """The result of one indicator (``KeyError`` if it was not scored)."""
        for row in self.rows:
            if row[0].id == indicator_id:
                return IndicatorResult(*row)
        raise KeyError(indicator_id)

    def to_dict(self) -> dict:
        """The stable JSON layout of ``flask criteria score``; numbers are decimal strings.

        It holds everything the result is, so that ``from_dict`` rebuilds it exactly: a result
        frozen at submission is shown from this copy, never scored again."""
        return {
            "format": RESULT_FORMAT,
            "rule_set": {"id": self.rule_set_id, "version": self.rule_set_version, "sha256": self.rule_set_sha256},
            "industry": self.industry,
            "total": str(self.total),
            "max": str(self.max),
            "threshold": None if self.threshold is None else str(self.threshold),
            "passed": self.passed,
            "grade": self.grade,
            "sections": [
                {"id": s.id, "score": str(s.score), "max": str(s.max), "raw": str(s.raw), "raw_max": str(s.raw_max)}
                for s in self.sections
            ],
            "failed_requirements": list(self.failed_requirements),
            "vetoed": list(self.vetoed),
            "not_applicable": self.not_applicable,
            "indicators": [
                {
                    "id": r.id,
                    "points": str(r.points),
                    "max": str(_cents(r.max)),
                    "explanation": r.explanation,
                    "answer": _dump_answer(r.answer),
                    "met": r.met,
                    "counted": r.counted,
                    "not_applicable": r.not_applicable,
                }
                for r in self.indicators
            ],
        }

    @classmethod
    def from_dict(cls, rule_set: RuleSet, data: dict) -> Result:
        """The result ``to_dict`` gave, rebuilt against the same (frozen) rule set."""
        if data.get("format") != RESULT_FORMAT:
            raise ValueError(f"unknown result format {data.get('format')!r}")
        if data["rule_set"]["id"] != rule_set.id or data["rule_set"]["version"] != rule_set.version:
            raise ValueError("the result was not made with this rule set")
        rows = []
        for item in data["indicators"]:
            indicator = rule_set.indicator(item["id"])
            rows.append((indicator, _load_answer(indicator, item["answer"]), Decimal(item["points"]), item["met"],
                         item["counted"], item["not_applicable"]))
        return cls(
            rule_set.id,
            rule_set.version,
            data["rule_set"]["sha256"],
            data["industry"],
            Decimal(data["total"]),
            Decimal(data["max"]),
            None if data["threshold"] is None else Decimal(data["threshold"]),
            data["passed"],
            data["grade"],
            tuple(
                SectionResult(s["id"], Decimal(s["score"]), Decimal(s["max"]), Decimal(s["raw"]), Decimal(s["raw_max"]))
                for s in data["sections"]
            ),
            tuple(data["failed_requirements"]),
            tuple(rows),
        )


def score(
    rule_set: RuleSet,
    answers: Mapping[str, object],
    *,
    not_applicable: Mapping[str, str] | None = None,
    threshold: Decimal | str | None | object = _FILE_THRESHOLD,
    industry: str | None = None,
) -> Result:
    """Score ``answers`` against ``rule_set``.

    ``not_applicable`` maps indicator ids declared not applicable (不适用) to the reason given;
    only indicators whose rule file allows it may be declared. ``threshold`` overrides the file's
    pass threshold (provinces set their own; ``None`` means pass / fail on requirements alone).
    ``industry`` is the organisation's GB/T 4754 code (a class such as ``"3120"``): indicators
    limited to other industries are left out of points and maxima alike, and answering one is an
    error.
    """
    if type(answers) is not dict and not isinstance(answers, Mapping):  # a dict is one: skip the slower check
        raise AnswerError("answers", "must be a mapping of indicator id to answer", "wrong_kind")
    declared = _declarations(not_applicable)
    plan = _plan(rule_set, industry, frozenset(declared))
    if not plan.applicable.issuperset(answers):
        _refuse_inapplicable(rule_set, plan, answers, industry)
    if declared:
        _check_declarations(plan, declared, answers, industry, rule_set)
    get = answers.get
    rows: list[tuple] = []
    append = rows.append
    failed: list[str] = []
    for indicator_id, indicator, scorer, by_bool, by_value, _, _ in plan.basic:
        if scorer is None:  # declared not applicable
            append((indicator, None, ZERO, True, False, declared[indicator_id]))
            continue
        answer = get(indicator_id)
        # The scorer's outcome from its table of common answers (see _outcomes), else the scorer.
        try:
            outcome = (by_bool if answer is True or answer is False else by_value).get(answer)
        except TypeError:  # an unhashable answer: the scorer reads or refuses it
            outcome = None
        if outcome is None:
            outcome = scorer(answer)
        points, met, _ = outcome
        append((indicator, answer, points, met, True, None))
        if not met:
            failed.append(indicator_id)
    sections = []
    total = ZERO
    for section in plan.sections:
        # The raw points in whole cents (every indicator's points are quantised to 0.01, rule 1):
        # integer sums, made a Decimal once per section.
        raw_cents = 0
        groups = [[] for _ in range(section.group_count)] if section.group_count else ()
        for indicator_id, indicator, scorer, by_bool, by_value, group, required in section.entries:
            if scorer is None:  # declared not applicable
                full = indicator.not_applicable == "full_points"
                points = _cents(indicator.max) if full else ZERO
                if full and group < 0:
                    raw_cents += _in_cents(points)
                if group >= 0 and full:
                    groups[group].append(len(rows))
                append((indicator, None, points, True, full, declared[indicator_id]))
                continue
            answer = get(indicator_id)
            # As for the basic requirements above.
            try:
                outcome = (by_bool if answer is True or answer is False else by_value).get(answer)
            except TypeError:
                outcome = None
            if outcome is None:
                outcome = scorer(answer)
            points, met, cents = outcome
            if group >= 0:
                groups[group].append(len(rows))
            else:
                raw_cents += cents
                if required and not met:
                    failed.append(indicator_id)
            append((indicator, answer, points, met, True, None))
        for members in groups:  # the best_of groups with a choice to make (rule 2)
            if not members:
                continue
            best = max(members, key=lambda n: rows[n][2])
            raw_cents += _in_cents(rows[best][2])
            for n in members:
                if n != best:
                    rows[n] = rows[n][:4] + (False,) + rows[n][5:]
        raw = raw_cents * CENT  # 1250 cents: Decimal("12.50"), exactly the Decimal sum
        section_score = raw if section.scale_to is None else _scaled(raw, section.scale_to, section.raw_max)
        total += section_score
        sections.append(SectionResult(section.id, section_score, section.max, raw, section.raw_max))
    if plan.rescaled:  # a section dropped out: the total is rescaled to the declared total (rule 5)
        total = (total * plan.max / plan.kept_max).quantize(CENT, ROUND_HALF_UP)
    if threshold is _FILE_THRESHOLD:
        threshold = rule_set.threshold
    elif threshold is not None:
        threshold = Decimal(threshold)
    passed = not failed and (threshold is None or total >= threshold)
    grade = _grade(rule_set, total) if passed else None
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


def _grade(rule_set: RuleSet, total: Decimal) -> str | None:
    """The grade a passed total reaches: the first listed whose minimum it reaches."""
    for grade in rule_set.grades:
        if total >= grade.min:
            return grade.key
    return None


def check_answer(indicator: Indicator, answer: object) -> None:
    """Refuse (``AnswerError``) an answer ``indicator`` would refuse when scored: its kind,
    range, steps or options; a form checks each field with it before storing anything."""
    _scorer(indicator)(answer)


def max_total(rule_set: RuleSet, industry: str | None = None) -> Decimal:
    """The highest total the rule set can give an organisation of ``industry``."""
    plan = _plan(rule_set, industry, frozenset())
    kept = sum((s.nominal for s in plan.sections if s.raw_max), ZERO)
    declared = _cents(rule_set.total)
    return declared if kept and declared else kept


def applicable_indicators(
    rule_set: RuleSet, industry: str | None = None, not_applicable: Iterable[str] = ()
) -> tuple[Indicator, ...]:
    """The indicators that count for an organisation of ``industry``, in file order: with
    ``not_applicable``, those declared not applicable stay (they are listed, not answered) and any
    general item they give way to joins them."""
    plan = _plan(rule_set, industry, frozenset(not_applicable))
    return tuple(i for i in rule_set.indicators if i.id in plan.declarable)


def _scaled(raw: Decimal, nominal: Decimal, raw_max: Decimal) -> Decimal:
    if not raw_max:
        return ZERO
    return (raw * nominal / raw_max).quantize(CENT, ROUND_HALF_UP)


def _declarations(not_applicable: Mapping[str, str] | None) -> dict[str, str]:
    if not not_applicable:
        return {}
    if not isinstance(not_applicable, Mapping):
        raise AnswerError("not_applicable", "must be a mapping of indicator id to the reason", "wrong_kind")
    declared = {}
    for indicator_id, reason in not_applicable.items():
        if not isinstance(reason, str) or not reason.strip():
            raise AnswerError(str(indicator_id), "declared not applicable without a reason", "na_reason")
        declared[indicator_id] = reason.strip()
    return declared


def _refuse_inapplicable(rule_set: RuleSet, plan: _Plan, answers: Mapping, industry: str | None) -> None:
    for key in answers:
        if key in plan.applicable:
            continue
        if key not in plan.known:
            raise AnswerError(str(key), "unknown indicator in this rule set", "unknown")
        if key in plan.declared:
            raise AnswerError(key, "is declared not applicable and answered: give one or the other", "na_and_answer")
        raise AnswerError(key, _not_for(rule_set.indicator(key), industry), "not_for_industry", industry=industry)


def _check_declarations(plan: _Plan, declared: dict, answers: Mapping, industry: str | None, rule_set: RuleSet) -> None:
    for indicator_id in declared:
        if indicator_id not in plan.known:
            raise AnswerError(str(indicator_id), "unknown indicator in this rule set", "unknown")
        indicator = rule_set.indicator(indicator_id)
        if indicator_id not in plan.declarable:
            raise AnswerError(indicator_id, _not_for(indicator, industry), "not_for_industry", industry=industry)
        if indicator.not_applicable is None:
            raise AnswerError(indicator_id, "cannot be declared not applicable under this rule file", "na_not_allowed")
        if answers.get(indicator_id) is not None:
            raise AnswerError(indicator_id, "is declared not applicable and answered: give one or the other", "na_and_answer")


def _not_for(indicator: Indicator, industry: str | None) -> str:
    if indicator.industries and not indicator.applies_to(industry):
        return f"applies only to industries {', '.join(indicator.industries)}, not to {industry or 'an unclassified organisation'}"
    return f"does not apply to industry {industry or '(none)'}: an industry-specific alternative counts instead"


# ---- plans: everything about a rule set that does not depend on the answers ----------------------

# A scored answer: the points, whether the indicator is met, and the points in whole cents.
Outcome = tuple[Decimal, bool, int]
# An indicator's scorer: its answer in, its outcome out (or AnswerError).
Scorer = Callable[[object], Outcome]
# Plans kept per rule set: one per industry, and a few per set of not-applicable declarations.
_MAX_PLANS = 256


class _SectionPlan:
    __slots__ = ("id", "entries", "group_count", "weight", "raw_max", "nominal_raw_max", "nominal", "applicable",
                 "scale_to", "max")

    def __init__(self, section: Section, industry: str | None, declared: frozenset[str]):
        self.id = section.id
        self.weight = section.weight
        self.nominal_raw_max, _, _ = _counted(section, industry, frozenset())
        self.raw_max, counted, names = _counted(section, industry, declared)
        self.applicable = counted
        indicators = [i for i in section.indicators if i.id in counted]
        # The best_of groups with more than one member left: only these need the best one chosen.
        # A group left with one member (its alternatives are for other industries) scores it as
        # any other indicator.
        sizes = Counter(i.best_of for i in indicators if i.best_of)
        groups = [name for name in names if sizes[name] > 1]
        # (id, indicator, scorer, the scorer's outcome tables (see _outcomes), group number or -1,
        # whether a miss fails the application); the scorer is None for an indicator declared not
        # applicable. A best_of member's ``required`` is not checked, with or without alternatives.
        self.entries = [
            (i.id, i, *((None, None, None) if i.id in declared else _scoring(i)),
             groups.index(i.best_of) if i.best_of in groups else -1, i.required and not i.best_of)
            for i in indicators
        ]
        self.group_count = len(groups)
        self.nominal = self.nominal_raw_max if self.weight is None else _cents(self.weight)
        # The score is ``raw × scale_to ÷ raw_max``, quantised (rules 3 and 5), or the raw points
        # when ``scale_to`` is None: an unweighted section with nothing declared not applicable.
        if self.raw_max != self.nominal_raw_max:
            self.scale_to = self.nominal
        else:
            self.scale_to = self.weight
        # What the section counts towards the total's maximum: nothing once nothing is left to score.
        self.max = self.nominal if self.raw_max else ZERO


def _counted(section: Section, industry: str | None, declared: frozenset[str]) -> tuple[Decimal, set[str], list[str]]:
    """The raw maximum over what counts, the ids that count (declared ones included, as rows) and
    the ``best_of`` groups. Within a group, an alternative limited to the organisation's industry
    beats a general one unless it is declared not applicable; only the best member counts."""
    applicable = [i for i in section.indicators if i.applies_to(industry)]
    names = list(dict.fromkeys(i.best_of for i in applicable if i.best_of))
    counted: set[str] = set()
    raw_max = ZERO
    for i in applicable:
        if i.best_of is None:
            counted.add(i.id)
            if i.id not in declared or i.not_applicable == "full_points":
                raw_max += i.max
    for name in names:
        group = [i for i in applicable if i.best_of == name]
        specific = [i for i in group if i.industries]
        standing = [i for i in specific if i.id not in declared]
        members = specific if standing else specific + [i for i in group if not i.industries]
        counted.update(i.id for i in members)
        scoring = [i.max for i in members if i.id not in declared or i.not_applicable == "full_points"]
        raw_max += max(scoring, default=ZERO)
    return _cents(raw_max), counted, names


class _Plan:
    __slots__ = ("basic", "sections", "known", "applicable", "declarable", "declared", "kept_max", "max", "rescaled")

    def __init__(self, rule_set: RuleSet, industry: str | None, declared: frozenset[str]):
        self.known = frozenset(i.id for i in rule_set.indicators)
        self.declared = declared
        # Laid out as a section's entries (see _SectionPlan): no best_of group, every one required.
        self.basic = [(i.id, i, *((None, None, None) if i.id in declared else _scoring(i)), -1, True)
                      for i in rule_set.veto_conditions + rule_set.basic_requirements]
        self.sections = [_SectionPlan(section, industry, declared) for section in rule_set.sections]
        counted = [i for entry in self.sections for i in entry.applicable]
        self.declarable = frozenset([entry[0] for entry in self.basic] + counted)
        # What may be answered: every counted indicator not declared not applicable.
        self.applicable = self.declarable - declared
        # The sections' maxima, and the total's: the rule set's declared total instead when a
        # section dropped out (rule 5), and then ``rescaled``.
        self.kept_max = sum((s.max for s in self.sections), ZERO)
        declared_total = _cents(rule_set.total)
        self.rescaled = bool(self.kept_max and self.kept_max != declared_total and declared_total)
        self.max = declared_total if self.rescaled else self.kept_max


def _plan(rule_set: RuleSet, industry: str | None, declared: frozenset[str]) -> _Plan:
    key = (industry, declared) if declared else industry
    plan = rule_set._plans.get(key)
    if plan is None:
        if len(rule_set._plans) >= _MAX_PLANS:
            rule_set._plans.clear()
        plan = rule_set._plans[key] = _Plan(rule_set, industry, declared)
    return plan


def _scoring(indicator: Indicator) -> tuple[Scorer, dict, dict]:
    """The indicator's scorer and its outcome tables (see ``_outcomes``)."""
    scorer = _scorer(indicator)
    return (scorer, *_outcomes(indicator, scorer))


def _outcomes(indicator: Indicator, scorer: Scorer) -> tuple[dict, dict]:
    """The scorer's outcome for every answer it accepts from a short list, worked out once per plan
    so that scoring looks the common answers up instead of calling the scorer: no answer, yes and
    no, each step of a points indicator, each option of a choice. Any other answer (a metric's
    value, one off the steps, one of the wrong kind) is not in the tables and goes to the scorer,
    so a look-up and a call always agree.

    Two tables, because ``True`` and ``False`` are equal to ``1`` and ``0`` as dictionary keys
    (yet score differently): one for the two booleans, one for every other answer."""
    by_bool = {}
    for answer in (True, False):
        try:
            by_bool[answer] = scorer(answer)
        except AnswerError:
            pass  # a boolean answer is refused: the scorer says why
    by_value = {None: scorer(None)}
    if indicator.type == "points":
        by_value |= {_whole_as_int(points): scorer(points) for points in _steps(indicator)}
    elif indicator.type == "choice":
        by_value |= {option.key: scorer(option.key) for option in indicator.options}
    return by_bool, by_value


def _whole_as_int(value: Decimal) -> int | Decimal:
    """A whole number as an ``int`` key (``Decimal("2.00")`` as ``2``), else the value itself.

    Equal numbers hash alike, so an answer of ``2``, ``2.0`` or ``Decimal("2")`` finds the key
    either way; with an ``int`` key an ``int`` answer matches at once instead of through a
    comparison of an ``int`` with a ``Decimal``, the slower part of the look-up."""
    return int(value) if value == value.to_integral_value() else value


def _outcome(points: Decimal, met: bool) -> Outcome:
    """A scorer's answer: ``points`` (quantised to 0.01, rule 1), whether met, and the points in cents."""
    return points, met, _in_cents(points)


def _scorer(indicator: Indicator) -> Scorer:
    if indicator.type == "veto":
        return _veto_scorer(indicator)
    if indicator.type == "requirement":
        return _requirement_scorer(indicator)
    if indicator.type == "points":
        return _points_scorer(indicator)
    if indicator.type == "choice":
        return _choice_scorer(indicator)
    if indicator.scoring == "bands":
        return _bands_scorer(indicator)
    if indicator.scoring == "limit":
        return _limit_scorer(indicator)
    return _linear_scorer(indicator)


def _requirement_scorer(indicator: Indicator) -> Scorer:
    def score_requirement(answer):
        if answer is True or answer is False:
            return MET if answer else NOT_MET
        if answer is None:
            return NOT_MET
        raise AnswerError(indicator.id, f"must be true or false, not {answer!r}", "wrong_kind")

    return score_requirement


def _veto_scorer(indicator: Indicator) -> Scorer:
    def score_veto(answer):
        if answer is True or answer is False:
            return NOT_MET if answer else MET  # cleared when the situation is absent
        if answer is None:
            return NOT_MET
        raise AnswerError(indicator.id, f"must be true (present) or false (absent), not {answer!r}", "wrong_kind")

    return score_veto


def _points_scorer(indicator: Indicator) -> Scorer:
    maximum, step, binary = _cents(indicator.max), indicator.step, indicator.is_binary
    allowed = {points: _outcome(points, points == maximum) for points in _steps(indicator)}

    def score_points(answer):
        if answer is None:
            return NOT_MET
        if answer is True or answer is False:
            if binary:
                return _outcome(maximum, True) if answer else NOT_MET
            raise AnswerError(indicator.id, f"must be a number of points from 0 to {indicator.max}, not {answer!r}",
                              "wrong_kind")
        try:
            outcome = allowed.get(answer)
        except TypeError:
            outcome = None
        if outcome is None:
            value = _number(indicator, answer)
            outcome = allowed.get(value) if value == _cents(value) else None
            if outcome is None:
                raise AnswerError(indicator.id, f"must be from 0 to {indicator.max} in steps of {step}, not {answer}",
                                  "not_a_step", value=value, max=indicator.max, step=step)
        return outcome

    return score_points


def _steps(indicator: Indicator) -> list[Decimal]:
    """The points a points indicator can award: 0 to its maximum in its steps."""
    return [_cents(indicator.step * n) for n in range(int(indicator.max / indicator.step) + 1)]


def _choice_scorer(indicator: Indicator) -> Scorer:
    maximum = _cents(indicator.max)
    outcome_by_key = {o.key: _outcome(_cents(o.points), _cents(o.points) == maximum) for o in indicator.options}

    def score_choice(answer):
        if answer is None:
            return NOT_MET
        outcome = outcome_by_key.get(answer) if isinstance(answer, str) else None
        if outcome is None:
            raise AnswerError(indicator.id, f"must be one of {', '.join(outcome_by_key)}, not {answer!r}",
                              "not_an_option", options=tuple(outcome_by_key))
        return outcome

    return score_choice


def _in_domain(indicator: Indicator) -> Callable[[object], Decimal]:
    """The answer (or, for a computed metric, the value computed from it) as a ``Decimal``,
    refused when it lies outside the indicator's range."""
    domain = indicator.range
    compute = computer(indicator) if indicator.is_computed else None

    def value_of(answer) -> Decimal:
        value = compute(answer) if compute is not None else _number(indicator, answer)
        if domain is not None and not domain.contains(value):
            unit = f" {indicator.unit.key}" if indicator.unit else ""
            shown = short(value) if compute is not None else value
            raise AnswerError(indicator.id, f"{shown}{unit} is outside the allowed range: {domain.describe()}{unit}",
                              "out_of_range", value=value, range=domain, unit=indicator.unit,
                              computed=compute is not None)
        return value

    return value_of


def computer(indicator: Indicator) -> Callable[[object], Decimal]:
    """For a computed metric: the inputs of an answer checked one by one (each named, with its
    range and unit), then the indicator's formula applied to them."""
    formula = Formula(indicator.formula)
    expected = {i.key for i in indicator.inputs} | ({"baseline", "leading"} if indicator.benchmarks else set())

    def compute(answer) -> Decimal:
        if not isinstance(answer, Mapping):
            raise AnswerError(indicator.id, f"must give the values it is computed from ({', '.join(sorted(expected))})",
                              "wrong_kind")
        unknown = sorted(str(key) for key in answer if key not in expected)
        if unknown:
            raise AnswerError(indicator.id, f"has no input {unknown[0]!r}", "wrong_kind")
        values = {}
        for entry in indicator.inputs:
            given = answer.get(entry.key)
            if given is None:
                raise AnswerError(indicator.id, f"{entry.title.en} is missing", "missing_input", input=entry)
            value = _number(indicator, given)
            if entry.range is not None and not entry.range.contains(value):
                unit = f" {entry.unit.key}" if entry.unit else ""
                raise AnswerError(indicator.id, f"{entry.title.en}: {value}{unit} is outside the allowed range: "
                                  f"{entry.range.describe()}{unit}", "out_of_range", value=value, range=entry.range,
                                  unit=entry.unit, input=entry)
            values[entry.key] = value
        try:
            return formula.evaluate(values)
        except ZeroDivisor as error:
            raise AnswerError(indicator.id, f"cannot be computed: {error.divisor} is 0", "zero_divisor",
                              divisor=error.divisor) from None

    return compute


def _assessed_benchmarks(indicator: Indicator, answer) -> tuple[Decimal, Decimal]:
    """The baseline and leading value an assessment determined for the industry, in the
    indicator's range and in the right order."""
    found = []
    for key, title in (("baseline", "baseline value"), ("leading", "leading value")):
        given = answer.get(key) if isinstance(answer, Mapping) else None
        if given is None:
            raise AnswerError(indicator.id, f"the industry's {title} is missing", "missing_benchmark", benchmark=key)
        value = _number(indicator, given)
        if indicator.range is not None and not indicator.range.contains(value):
            raise AnswerError(indicator.id, f"the {title} {value} is outside the allowed range: {indicator.range.describe()}",
                              "out_of_range", value=value, range=indicator.range, unit=indicator.unit, benchmark=key)
        found.append(value)
    baseline, leading = found
    if (leading <= baseline) if indicator.better == "higher" else (leading >= baseline):
        raise AnswerError(indicator.id, f"the leading value {leading} must be better than the baseline {baseline}",
                          "benchmarks_order", baseline=baseline, leading=leading)
    return baseline, leading


def _linear_scorer(indicator: Indicator) -> Scorer:
    assessed = indicator.benchmarks == "assessed"
    baseline, leading, maximum = indicator.baseline, indicator.leading, _cents(indicator.max)
    higher = indicator.better == "higher"
    value_of = _in_domain(indicator)

    def score_linear(answer):
        if answer is None:
            return NOT_MET
        value = value_of(answer)
        low, high = _assessed_benchmarks(indicator, answer) if assessed else (baseline, leading)
        return _outcome(*_linear_points(indicator.max, maximum, higher, low, high, value))

    return score_linear


def _linear_points(top: Decimal, maximum: Decimal, higher: bool, baseline: Decimal, leading: Decimal,
                   value: Decimal) -> tuple[Decimal, bool]:
    """0 at or worse than the baseline, ``maximum`` at or better than the leading value (capped),
    in proportion between."""
    met = value >= baseline if higher else value <= baseline
    if (value >= leading) if higher else (value <= leading):
        return maximum, met
    if not met or value == baseline:
        return ZERO, met
    return (top * (value - baseline) / (leading - baseline)).quantize(CENT, ROUND_HALF_UP), met


def within_limit(indicator: Indicator, value: Decimal) -> bool:
    """Whether ``value`` meets the indicator's limit: no worse than it, or better with ``strict``."""
    if indicator.better == "higher":
        return value > indicator.limit if indicator.strict else value >= indicator.limit
    return value < indicator.limit if indicator.strict else value <= indicator.limit


def _limit_scorer(indicator: Indicator) -> Scorer:
    value_of = _in_domain(indicator)

    def score_limit(answer):
        if answer is None:
            return NOT_MET
        return MET if within_limit(indicator, value_of(answer)) else NOT_MET

    return score_limit


def _bands_scorer(indicator: Indicator) -> Scorer:
    # Best band first, so the first band reached is the one that scores.
    bands = [(b.at, _outcome(_cents(b.points), True)) for b in reversed(indicator.bands)]
    higher = indicator.better == "higher"
    value_of = _in_domain(indicator)

    def score_bands(answer):
        if answer is None:
            return NOT_MET
        value = value_of(answer)
        for at, reached in bands:
            if (value >= at) if higher else (value <= at):
                return reached
        return NOT_MET

    return score_bands


def _number(indicator: Indicator, answer: object) -> Decimal:
    if isinstance(answer, bool) or not isinstance(answer, (int, float, Decimal)):
        raise AnswerError(indicator.id, f"must be a number, not {answer!r}", "not_a_number")
    value = Decimal(repr(answer)) if isinstance(answer, float) else Decimal(answer)
    if not value.is_finite():
        raise AnswerError(indicator.id, f"must be a finite number, not {answer!r}", "not_a_number")
    return value


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _in_cents(points: Decimal) -> int:
    """Points already quantised to 0.01 as a whole number of cents: ``Decimal("12.50")`` is 1250."""
    return int(points.scaleb(2))


def _dump_answer(answer: object) -> object:
    if answer is None or isinstance(answer, (bool, str)):
        return answer
    if isinstance(answer, Mapping):
        return {key: str(value) for key, value in answer.items()}
    return str(answer)


def _load_answer(indicator: Indicator, answer: object) -> object:
    if answer is None or isinstance(answer, bool) or indicator.type in ("requirement", "choice", "veto"):
        return answer
    if isinstance(answer, Mapping):
        return {key: Decimal(value) for key, value in answer.items()}
    return Decimal(answer)


# ---- explanations ----------------------------------------------------------------------------------


def _explain(result: IndicatorResult) -> str:
    indicator, answer = result.indicator, result.answer
    if result.not_applicable is not None:
        if indicator.not_applicable == "full_points":
            return f"declared not applicable ({result.not_applicable}): full points, {result.points} of {_cents(indicator.max)}"
        return f"declared not applicable ({result.not_applicable}): left out of the section's maximum"
    if answer is None:
        text = "not answered: 0 points"
        if indicator.type in ("requirement", "veto"):
            text = "not answered: counts as not met" if indicator.type == "requirement" else "not answered: not cleared"
    elif indicator.type == "veto":
        text = "present: vetoes the application" if answer else "absent"
        return text
    elif indicator.type == "requirement":
        text = "met" if result.met else "not met"
    elif indicator.type == "points":
        text = f"awarded {result.points} of {_cents(indicator.max)}"
    elif indicator.type == "choice":
        option = next(o for o in indicator.options if o.key == answer)
        text = f"option {answer!r} ({option.title.en}): {result.points} of {_cents(indicator.max)}"
    else:
        text = _explain_metric(indicator, answer, result.points)
    if indicator.required and not result.met:
        text += "; required, so the application fails" if indicator.type != "requirement" else "; vetoes the application"
    if not result.counted:
        text += f"; not counted: a better alternative in {indicator.best_of!r} counts"
    return text


def _explain_metric(indicator: Indicator, answer: object, points: Decimal) -> str:
    unit = f" {indicator.unit.key}" if indicator.unit else ""
    of = f"{points} of {_cents(indicator.max)}"
    if indicator.is_computed:
        value = computer(indicator)(answer)
        inputs = ", ".join(f"{i.key} = {plain(Decimal(answer[i.key]))}" for i in indicator.inputs)
        shown = f"{indicator.formula} = {short(value)}{unit} ({inputs})"
    else:
        value = _number(indicator, answer)
        shown = f"{value}{unit}"
    baseline, leading = indicator.baseline, indicator.leading
    if indicator.benchmarks == "assessed":
        baseline, leading = Decimal(answer["baseline"]), Decimal(answer["leading"])
    if indicator.scoring == "limit":
        wanted = f"{indicator.limit_sign} {plain(indicator.limit)}{unit}"
        return f"{shown} {'meets' if within_limit(indicator, value) else 'does not meet'} the limit {wanted}"
    if indicator.scoring == "bands":
        reached = [b for b in indicator.bands if (value >= b.at if indicator.better == "higher" else value <= b.at)]
        if not reached:
            return f"{shown} does not reach the first band {indicator.bands[0].at}: {of}"
        return f"{shown} reaches the band {reached[-1].at}: {of}"
    if points == _cents(indicator.max):
        return f"{shown} reaches the leading value {plain(leading)}: {of} (capped)"
    if points == 0:
        return f"{shown} is no better than the baseline {plain(baseline)}: {of}"
    return f"{shown} between baseline {plain(baseline)} and leading value {plain(leading)}: {of}"
