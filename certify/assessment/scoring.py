"""Score sheets: saving an assessor's scores, notes and decisions on the applicant's
not-applicable declarations; the on-site record, conclusion and recommendation; what is missing
before submission; submission, which freezes the sheet with the engine's result; and reporting
the application once its last standing sheet is submitted (under_assessment -> assessed, and
``signals.assessment_reported``: the evaluation report PDF is rendered after the commit, see
``reports.py``).

An assessor's recommendation (approve, reject, return with questions) is advice to the
department, which decides with its own actions (``applications.services.return_application``).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from certify.applications.models import Application
from certify.assessment.compare import needs_comment
from certify.assessment.models import (
    MAX_HIGHLIGHTS_LENGTH,
    AssessorRole,
    Assignment,
    AssignmentStatus,
    Recommendation,
    ScoreSheet,
)
from certify.assessment.permissions import can_score
from certify.assessment.rounds import current_assignments
from certify.assessment.util import clean
from certify.audit.services import record_event
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.i18n import date_text
from certify.rulesets.applied import (
    confirmed_declarations,
    freeze,
    live_sheet_result,
    pages,
    rule_set_of,
    terms_of,
)
from certify.rulesets.forms import ParsedAnswers, answer_error_message, for_engine
from certify.scoring import Result, score
from certify.signals import assessment_reported
from certify.timeutil import local_today, utcnow
from certify.workflow import Action, Status, transition


class StaleSheet(ServiceError):
    """The sheet was saved elsewhere (another tab) after this page was opened."""

    def __init__(self):
        super().__init__(_l("This score sheet has been saved elsewhere since you opened this "
                            "page. Your input is shown below but was not saved: check it and "
                            "save again."))


NA_DECISIONS = ("confirmed", "refused")


def _require_scoring(assessor, sheet: ScoreSheet, seen_version: int | None) -> None:
    if not can_score(assessor, sheet.assignment):
        raise PermissionDenied(_l("This score sheet cannot be changed now."))
    if seen_version is not None and seen_version != sheet.version:
        raise StaleSheet()


def _refresh_total(sheet: ScoreSheet) -> Result:
    result, _refused = live_sheet_result(sheet)
    sheet.total, sheet.passed = result.total, result.passed
    return result


def save_scores(assessor, sheet: ScoreSheet, parsed: ParsedAnswers, notes: dict, *,
                seen_version: int | None, decisions: dict | None = None) -> list[str]:
    """Store one page of the sheet: valid answers (with the texts typed), notes (indicator id ->
    note kind -> text) and decisions on the applicant's not-applicable declarations (indicator id
    -> ``confirmed`` or ``refused``). Returns the indicator ids that changed; invalid answers are
    not stored (the page shows them back). Saving is always allowed while scoring: nothing is
    checked for completeness here."""
    _require_scoring(assessor, sheet, seen_version)
    declared = sheet.assignment.application.not_applicable or {}
    answers = dict(sheet.answers or {})
    texts = dict(sheet.answer_texts or {})
    stored_decisions = dict(sheet.not_applicable or {})
    stored_notes = {key: dict(value) for key, value in (sheet.notes or {}).items()}
    changed = {key for key, value in parsed.answers.items() if answers.get(key) != value}
    changed |= {key for key in parsed.cleared if key in answers}
    for key, decision in (decisions or {}).items():
        if key not in declared or decision not in NA_DECISIONS:
            raise ServiceError(_l("Only the applicant's not-applicable declarations can be confirmed or refused."))
        if decision == "confirmed" and (parsed.answers.get(key) is not None
                                        or (answers.get(key) is not None and key not in parsed.cleared)):
            raise ServiceError(_l("You confirmed that an indicator does not apply: clear its score, or refuse "
                                  "the declaration."))
        if stored_decisions.get(key) != decision:
            changed.add(key)
            stored_decisions[key] = decision
    answers.update(parsed.answers)
    for key in parsed.cleared | set(parsed.answers):
        if key not in parsed.texts:
            texts.pop(key, None)
    texts.update(parsed.texts)
    for key in parsed.cleared:
        answers.pop(key, None)
    for indicator_id, by_kind in notes.items():
        current = stored_notes.get(indicator_id, {})
        updated = {kind: text for kind, text in by_kind.items() if text}
        if updated != current:
            changed.add(indicator_id)
        if updated:
            stored_notes[indicator_id] = updated
        else:
            stored_notes.pop(indicator_id, None)
    if not changed:
        return []
    sheet.answers, sheet.answer_texts, sheet.notes = answers, texts, stored_notes
    sheet.not_applicable = stored_decisions
    _refresh_total(sheet)
    record_event("score_sheet.saved", actor=assessor, obj=sheet, details={
        "assignment_id": sheet.assignment_id, "indicators": sorted(changed),
        "not_applicable": {key: stored_decisions[key] for key in sorted(decisions or {})}})
    return sorted(changed)


def save_sheet_details(assessor, sheet: ScoreSheet, *, site_visit_on: date | None,
                       site_visit_participants: str, site_visit_findings: str,
                       recommendation: str | None, return_questions: str, conclusion: str,
                       highlights: str, seen_version: int | None) -> None:
    """Store the on-site visit record, the conclusion and the recommendation (at any time)."""
    _require_scoring(assessor, sheet, seen_version)
    highlights = (highlights or "").strip()
    if len(highlights) > MAX_HIGHLIGHTS_LENGTH:
        raise ServiceError(_l("Highlights can have at most %(count)d characters.",
                              count=MAX_HIGHLIGHTS_LENGTH), field="highlights")
    if site_visit_on is not None and site_visit_on > local_today():
        raise ServiceError(_l("The on-site visit cannot be in the future."), field="site_visit_on")
    assigned_on = sheet.assignment.assigned_on
    if site_visit_on is not None and site_visit_on < assigned_on:
        raise ServiceError(_l("The on-site visit cannot be before the assignment (%(date)s).",
                              date=date_text(assigned_on)), field="site_visit_on")
    sheet.site_visit_on = site_visit_on
    sheet.site_visit_participants = clean(site_visit_participants)
    sheet.site_visit_findings = clean(site_visit_findings, 20000)
    try:
        sheet.recommendation = Recommendation(recommendation) if recommendation else None
    except ValueError:
        raise ServiceError(_l("Choose one of the recommendations."), field="recommendation") from None
    sheet.return_questions = clean(return_questions)
    sheet.conclusion = clean(conclusion, 20000)
    sheet.highlights = highlights or None
    if db.session.is_modified(sheet):
        record_event("score_sheet.details_saved", actor=assessor, obj=sheet, details={
            "assignment_id": sheet.assignment_id,
            "recommendation": sheet.recommendation.value if sheet.recommendation else None,
            "site_visit_on": site_visit_on.isoformat() if site_visit_on else None})


def comment_kinds(rule_set, indicator) -> tuple[str, ...]:
    """The note kinds that count as the comment the report shows and the applicant may read:
    the indicator's applicant-visible kinds (any kind when the file makes none visible)."""
    return indicator.applicant_visible_notes or tuple(kind.key for kind in rule_set.note_kinds)


def submission_problems(sheet: ScoreSheet) -> list[tuple[str, object]]:
    """What must be done before the sheet can be submitted, as (what, indicator or None):
    a decision on each of the applicant's not-applicable declarations; every applicable
    indicator scored (a declaration refused, too); no score the rule file refuses; a comment
    where the score differs from the self-assessment, for every unmet requirement and for every
    declaration refused; a recommendation (with questions when returning); for the lead, the
    on-site visit record."""
    application = sheet.assignment.application
    rule_set = rule_set_of(application)
    result, refused = live_sheet_result(sheet)
    answers, notes = sheet.answers or {}, sheet.notes or {}
    declared, decisions = application.not_applicable or {}, sheet.not_applicable or {}
    confirmed = confirmed_declarations(sheet)
    scoreable = {i.id for _p, _s, page in pages(rule_set, application.industry_code, confirmed) for i in page}
    self_answers = application.answers or {}
    problems = []
    for indicator_id in (error.indicator_id for error in refused):
        indicator = rule_set.indicator(indicator_id)
        problems.append(("refused", (indicator, answer_error_message(
            next(e for e in refused if e.indicator_id == indicator_id), indicator))))
    for _page, _section, indicators in pages(rule_set, application.industry_code, declared):
        for indicator in indicators:
            if indicator.id in declared and decisions.get(indicator.id) not in NA_DECISIONS:
                problems.append(("na_decision", indicator))
                continue
            if indicator.id in confirmed or indicator.id not in scoreable:
                continue
            answer = answers.get(indicator.id)
            if answer is None:
                problems.append(("unscored", indicator))
                continue
            row = result.indicator(indicator.id)
            refused_declaration = decisions.get(indicator.id) == "refused"
            if refused_declaration or needs_comment(indicator, self_answers.get(indicator.id), answer, row.points,
                                                    row.met):
                written = notes.get(indicator.id, {})
                if not any(written.get(kind) for kind in comment_kinds(rule_set, indicator)):
                    problems.append(("comment", indicator))
    if sheet.recommendation is None:
        problems.append(("recommendation", None))
    elif sheet.recommendation == Recommendation.RETURN and not sheet.return_questions:
        problems.append(("return_questions", None))
    if sheet.assignment.role == AssessorRole.LEAD:
        if sheet.site_visit_on is None or not sheet.site_visit_findings:
            problems.append(("site_visit", None))
        if not sheet.conclusion:
            problems.append(("conclusion", None))
    return problems


def submit_sheet(assessor, sheet: ScoreSheet, *, seen_version: int | None = None) -> Result:
    """Submit the sheet: it is frozen with the engine's result. When it is the last standing
    sheet of the application, the application is reported (-> assessed)."""
    _require_scoring(assessor, sheet, seen_version)
    if submission_problems(sheet):
        raise ServiceError(_l("The score sheet is not complete yet: see the list of what is missing."))
    # Frozen with the terms frozen with the application: nothing re-scores it later.
    application = sheet.assignment.application
    rule_set, terms = rule_set_of(application), terms_of(application)
    result = score(rule_set, for_engine(rule_set, sheet.answers), not_applicable=confirmed_declarations(sheet),
                   threshold=terms.threshold, industry=application.industry_code)
    sheet.total, sheet.passed = result.total, result.passed
    now = utcnow()
    sheet.result = freeze(result, terms)
    sheet.submitted_at = now
    assignment = sheet.assignment
    assignment.status = AssignmentStatus.SUBMITTED
    assignment.submitted_at = now
    record_event("score_sheet.submitted", actor=assessor, obj=sheet, details={
        "assignment_id": assignment.id, "application_id": assignment.application_id,
        "role": assignment.role.value, "total": str(result.total), "passed": result.passed,
        "recommendation": sheet.recommendation.value})
    report_if_complete(assignment.application, assessor)
    return result


def report_if_complete(application: Application, actor) -> None:
    """Report the application once the lead and every other standing assessor submitted."""
    if application.status != Status.UNDER_ASSESSMENT:
        return
    standing = current_assignments(application)
    if not any(a.role == AssessorRole.LEAD for a in standing):
        return
    if any(a.status != AssignmentStatus.SUBMITTED for a in standing):
        return
    lead_sheet = next(a.sheet for a in standing if a.role == AssessorRole.LEAD)
    transition(application, Action.REPORT, actor, details={
        "total": str(lead_sheet.total), "passed": lead_sheet.passed,
        "recommendation": lead_sheet.recommendation.value,
        "sheets": [a.sheet.id for a in standing]})
    assessment_reported.send(application, actor=actor)


def disagreement_margins() -> tuple[Decimal, Decimal]:
    return (Decimal(str(current_app.config["CERTIFY_SCORE_DISAGREEMENT_MARGIN"])),
            Decimal(str(current_app.config["CERTIFY_TOTAL_DISAGREEMENT_MARGIN"])))


@dataclass(frozen=True)
class AssessedScore:
    total: Decimal
    passed: bool


def assessed_scores(application_ids) -> dict[int, AssessedScore]:
    """The lead assessor's submitted result of each application's latest round (one query)."""
    rows = db.session.execute(
        select(Assignment.application_id, ScoreSheet.total, ScoreSheet.passed)
        .join(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .where(Assignment.application_id.in_(application_ids), Assignment.role == AssessorRole.LEAD,
               Assignment.status == AssignmentStatus.SUBMITTED)
        .order_by(Assignment.submission_number, Assignment.id))
    return {application_id: AssessedScore(total, bool(passed)) for application_id, total, passed in rows}
