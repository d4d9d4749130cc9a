"""The rule set an application uses, and its scores: pinned when opened, live while a draft or a
sheet is worked on, frozen once submitted.

Applying and assessing both come here for:

- the pinned rule set (``rule_set_of``: the frozen copy stored when the application was opened,
  never the file);
- the pages of indicators an organisation answers (``pages``: what applies to its industry class
  and its not-applicable declarations);
- the terms it is scored with (``terms_of``): the threshold and its source, pinned at opening,
  frozen at submission;
- its scores (``self_result``, ``sheet_result``): a submitted self-assessment or score sheet is
  shown from the result frozen with it; only a draft is scored again, with the terms it would be
  submitted under. Nothing here re-scores a submitted sheet with today's settings: that is the
  administrator's re-score (``rulesets.services.rescore_application``).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from certify.rulesets import current_registry
from certify.rulesets.forms import for_engine
from certify.rulesets.registry import FILE_SOURCE, Terms
from certify.scoring import AnswerError, Indicator, Result, RuleSet, Section, Text, applicable_indicators, score
from certify.scoring.engine import computer
from certify.scoring.model import BASIC_SECTION_ID, VETO_SECTION_ID
from certify.workflow import EDITABLE

# The veto conditions are a page of their own, before the basic requirements.
VETO_PAGE = Text("否决条件", "Veto conditions")

# Thawed frozen copies, by the identity of the file they were frozen from (a few per deployment).
_thawed: dict[tuple[str, str, str], RuleSet] = {}


def rule_set_of(application) -> RuleSet:
    """The rule set the application was opened under (its frozen copy, never the file)."""
    key = (application.rule_set_id, application.rule_set_version, application.rule_set_sha256)
    rule_set = _thawed.get(key)
    if rule_set is None:
        rule_set = _thawed[key] = RuleSet.from_dict(application.rule_set_frozen)
    return rule_set


# ---- pages ----------------------------------------------------------------------------------------


def pages(rule_set: RuleSet, industry: str | None, declared=()) -> list[tuple[str, object, list[Indicator]]]:
    """The pages of indicators: (page id, section or None for basic requirements, indicators); the
    veto conditions, when the file has them, come first as a page of their own.
    ``declared`` are the indicators declared not applicable: they stay on their page (with the
    declaration), and any general item they give way to joins it."""
    applicable = {indicator.id for indicator in applicable_indicators(rule_set, industry, declared)}
    result = []
    if rule_set.veto_conditions:
        result.append((VETO_SECTION_ID, Section(VETO_SECTION_ID, VETO_PAGE, rule_set.veto_conditions),
                       list(rule_set.veto_conditions)))
    if rule_set.basic_requirements:
        result.append((BASIC_SECTION_ID, None, list(rule_set.basic_requirements)))
    for section in rule_set.sections:
        indicators = [i for i in section.indicators if i.id in applicable]
        if indicators:
            result.append((section.id, section, indicators))
    return result


def missing_answers(rule_set: RuleSet, industry: str | None, stored: dict, declared: dict | None = None) -> list[Indicator]:
    """Indicators still unanswered: every basic requirement and every required indicator must be
    answered (or declared not applicable, with a reason) before submission; optional ones may
    stay empty and then earn nothing."""
    declared = declared or {}
    missing = []
    for _page, _section, indicators in pages(rule_set, industry, declared):
        for indicator in indicators:
            if indicator.required and indicator.id not in (stored or {}) and indicator.id not in declared:
                missing.append(indicator)
    return missing


# ---- terms ----------------------------------------------------------------------------------------


def terms_for_new(rule_set: RuleSet) -> Terms:
    """The terms an application opened now under ``rule_set`` pins."""
    return current_registry().terms(rule_set)


def pinned_terms(application) -> Terms:
    """The terms pinned when the application was opened."""
    return Terms(application.threshold, application.threshold_source or FILE_SOURCE)


def terms_of(application) -> Terms:
    """The terms the application is scored with: frozen with its submitted result, else the
    terms it would be submitted under now."""
    frozen = application.self_result if application.status not in EDITABLE else None
    if frozen and "threshold_source" in frozen:
        return Terms(None if frozen.get("threshold") is None else Decimal(frozen["threshold"]), frozen["threshold_source"])
    if frozen is not None:  # frozen before terms were recorded with results
        return pinned_terms(application)
    return current_registry().terms_at_submission(rule_set_of(application), pinned_terms(application))


# ---- scores -----------------------------------------------------------------------------------------


def freeze(result: Result, terms: Terms) -> dict:
    """A result as stored at submission: the engine's whole result and the threshold's source."""
    return result.to_dict() | {"threshold_source": terms.source}


def self_result(application, pending=None) -> Result:
    """The self-assessment's result: frozen once submitted; for a draft, scored now with the
    terms it would be submitted under (``pending``: with unsaved answers of one page)."""
    rule_set = rule_set_of(application)
    if application.status not in EDITABLE and application.self_result is not None:
        return _thaw(rule_set, application.self_result, application.answers, application.not_applicable,
                     application.industry_code, pinned_terms(application))
    return live_self_result(application, pending)[0]


def live_self_result(application, pending=None) -> tuple[Result, list[AnswerError]]:
    """The draft's result scored now, and the stored answers the rule file refuses (left out of
    the result and listed, so that the applicant corrects them before submitting)."""
    answers = dict(application.answers or {})
    declared = dict(application.not_applicable or {})
    if pending is not None:
        answers.update(pending.answers)
        for key in pending.cleared:
            answers.pop(key, None)
        declared.update(pending.declared)
        for key in pending.undeclared:
            declared.pop(key, None)
    rule_set = rule_set_of(application)
    return score_tolerantly(rule_set, for_engine(rule_set, answers), declared, application.industry_code,
                            terms_of(application))


def confirmed_declarations(sheet) -> dict[str, str]:
    """The applicant's not-applicable declarations the assessor confirmed, with their reasons."""
    return confirmed(sheet.assignment.application.not_applicable, sheet.not_applicable)


def confirmed(declared: dict | None, decisions: dict | None) -> dict[str, str]:
    """Of ``declared`` (indicator id -> reason), those a sheet's ``decisions`` confirmed."""
    decisions = decisions or {}
    return {key: reason for key, reason in (declared or {}).items() if decisions.get(key) == "confirmed"}


def sheet_result(sheet) -> Result:
    """A score sheet's result: frozen once submitted; while scoring, scored now against the
    application's pinned rule set with the terms frozen with the application."""
    application = sheet.assignment.application
    rule_set = rule_set_of(application)
    confirmed = confirmed_declarations(sheet)
    if sheet.result is not None:
        return _thaw(rule_set, sheet.result, sheet.answers, confirmed, application.industry_code, terms_of(application))
    return live_sheet_result(sheet)[0]


def live_sheet_result(sheet) -> tuple[Result, list[AnswerError]]:
    application = sheet.assignment.application
    rule_set = rule_set_of(application)
    return score_tolerantly(rule_set, for_engine(rule_set, sheet.answers), confirmed_declarations(sheet),
                            application.industry_code, terms_of(application))


def score_tolerantly(rule_set: RuleSet, answers: dict, declared: dict, industry: str | None,
                     terms: Terms) -> tuple[Result, list[AnswerError]]:
    """Score, leaving out (and returning) each answer or declaration the rule file refuses, so
    that a page always shows a score and the refusals beside it; never used for a result that
    is frozen."""
    answers, declared, refused = dict(answers), dict(declared), []
    while True:
        try:
            return score(rule_set, answers, not_applicable=declared, threshold=terms.threshold,
                         industry=industry), refused
        except AnswerError as error:
            if error.indicator_id in answers:
                answers.pop(error.indicator_id)
            elif error.indicator_id in declared:
                declared.pop(error.indicator_id)
            else:
                raise
            refused.append(error)


def _thaw(rule_set: RuleSet, data: dict, answers: dict, declared: dict, industry: str | None, terms: Terms) -> Result:
    """A frozen result, rebuilt; one frozen before whole results were kept is scored once more
    from the same answers and frozen rule set, with its recorded total and verdict kept."""
    if "format" in data:
        return Result.from_dict(rule_set, data)
    result, _ = score_tolerantly(rule_set, for_engine(rule_set, answers), declared or {}, industry, terms)
    return dataclasses.replace(
        result, total=Decimal(data["total"]), passed=data["passed"], grade=data.get("grade"))


def metric_value(rule_set: RuleSet, indicator: Indicator, stored) -> Decimal | None:
    """The value of a metric's stored answer: the number given, or for a computed metric what
    its formula gives on the figures given; ``None`` when there is none or it cannot be computed
    (an input missing, a divisor of 0)."""
    if stored is None:
        return None
    answer = for_engine(rule_set, {indicator.id: stored}).get(indicator.id)
    if not indicator.is_computed:
        return answer
    try:
        return computer(indicator)(answer)
    except AnswerError:
        return None
