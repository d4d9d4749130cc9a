"""Applying: opening an application, saving the self-assessment, evidence, submission,
withdrawal and returns. Each function is one use case; the caller commits once."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from certify.applications.kinds import kind_of, kinds_for
from certify.applications.models import Application, Evidence, Submission
from certify.applications.permissions import (
    can_edit_application,
    can_open_application,
    is_own_application,
)
from certify.audit.services import record_event
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.organisations.models import OrganisationKind
from certify.organisations.reference import industry_label, is_industry_class
from certify.plausibility import services as plausibility
from certify.rulesets import RuleSetUnavailable, current_registry
from certify.rulesets.applied import (
    freeze,
    live_self_result,
    missing_answers,
    rule_set_of,
    terms_for_new,
    terms_of,
)
from certify.rulesets.forms import ParsedAnswers, answer_error_message, for_engine
from certify.scoring import AnswerError, Result, RuleSet, score
from certify.timeutil import local_today, utcnow
from certify.uploads import save_upload
from certify.workflow import FINAL, Action, transition

# Which kinds each kind of organisation may apply for.
MAX_SUBJECT_LENGTH = 200


class StaleApplication(ServiceError):
    """Someone else saved the application after this user opened it."""

    MESSAGE = _l("This application has been changed by someone else since you opened it. Your "
                 "input is shown below but was not saved: check it against the current answers "
                 "and save again.")

    def __init__(self):
        super().__init__(self.MESSAGE)


def rule_set_choices(kind: str, industry: str | None, on=None) -> list[RuleSet]:
    """The rule sets an application of ``kind`` can be opened under today, China time (one per
    subject where each has its own, as green design products do; otherwise the one in force)."""
    registry = current_registry()
    on = on or local_today()
    if kind_of(kind).rule_set_per_subject:
        return registry.candidates(kind, on, industry)
    try:
        return [registry.in_force(kind, on, industry)]
    except RuleSetUnavailable:
        return []


def open_application(user, *, kind: str, subject: str, subject_detail: str = "",
                     rule_set_id: str | None = None) -> Application:
    """Open a draft under the rule set in force today, pinned for good."""
    if not can_open_application(user):
        raise PermissionDenied(_l("Only applicant organisations can open applications."))
    organisation = user.organisation
    if kind not in {k.key for k in kinds_for(organisation.kind)}:
        raise ServiceError(_l("Your organisation cannot apply for this kind of recognition."),
                           field="kind")
    subject = (subject or "").strip()
    if not subject:
        raise ServiceError(_l("Say what is to be recognised."), field="subject")
    if organisation.kind == OrganisationKind.ENTERPRISE and not is_industry_class(organisation.industry_code):
        # The indicators that apply (energy by product, above all) follow from the class.
        raise ServiceError(_l("Your organisation's industry is recorded as “%(industry)s”, not as a four-digit "
                              "class of GB/T 4754-2017, so the indicators that apply to you cannot be chosen. "
                              "Ask the department to record your industry class, then apply.",
                              industry=industry_label(organisation.industry_code) or "—"))
    choices = rule_set_choices(kind, organisation.industry_code)
    if rule_set_id is not None:
        choices = [rs for rs in choices if rs.id == rule_set_id]
    if not choices:
        raise ServiceError(_l("No rule set is in force for this kind of recognition today. "
                              "Please contact the department."), field="rule_set_id")
    application, details = draft_application(organisation, kind=kind, subject=subject,
                                             subject_detail=subject_detail, rule_set=choices[0],
                                             created_by=user)
    db.session.add(application)
    record_event("application.opened", actor=user, obj=application, details=details)
    return application


def draft_application(organisation, *, kind: str, subject: str, subject_detail: str = "",
                      rule_set: RuleSet, created_by, frozen: dict | None = None) -> tuple[Application, dict]:
    """A new draft of ``organisation`` pinned for good to ``rule_set`` and the terms in force for
    it, with the details of its ``application.opened`` event. Nothing is checked, added or
    recorded here: the caller has checked, adds it and records the event (one application, or
    many from an import). ``frozen`` is ``rule_set.to_dict()`` when the caller has it already."""
    terms = terms_for_new(rule_set)
    application = Application(
        organisation=organisation, kind=kind, subject=subject.strip()[:MAX_SUBJECT_LENGTH],
        subject_detail=(subject_detail or "").strip()[:500],
        industry_code=organisation.industry_code,
        rule_set_id=rule_set.id, rule_set_version=rule_set.version,
        rule_set_sha256=rule_set.sha256, rule_set_frozen=frozen or rule_set.to_dict(),
        threshold=terms.threshold, threshold_source=terms.source,
        answers={}, answer_texts={}, remarks={}, not_applicable={}, created_by_id=created_by.id,
    )
    return application, {
        "kind": kind, "subject": application.subject,
        "rule_set": {"id": rule_set.id, "version": rule_set.version, "sha256": rule_set.sha256},
        "terms": terms.to_dict(),
    }


def _require_editable(user, application: Application) -> None:
    if not can_edit_application(user, application):
        raise PermissionDenied(_l("This application cannot be changed now."))


def _require_version(application: Application, seen_version: int | None) -> None:
    if seen_version is not None and seen_version != application.version:
        raise StaleApplication()


def _refresh_self_score(application: Application) -> Result:
    result, _refused = live_self_result(application)
    application.self_score_total = result.total
    application.self_score_passed = result.passed
    return result


def save_answers(user, application: Application, parsed: ParsedAnswers, *,
                 seen_version: int | None, source: str | None = None) -> list[str]:
    """Store the valid answers, texts typed, not-applicable declarations and remarks of one page;
    return the indicator ids that changed. Invalid answers are not stored (the page shows them
    back with their errors); a page whose answers together contradict the rule file (an answer
    for an item that no longer applies) is refused whole, with the reason. ``source`` names
    where answers came from when not from a section page (``workbook``), for the audit trail."""
    _require_editable(user, application)
    _require_version(application, seen_version)
    answers = dict(application.answers or {})
    texts = dict(application.answer_texts or {})
    declared = dict(application.not_applicable or {})
    remarks = dict(application.remarks or {})
    changed = [key for key, value in parsed.answers.items() if answers.get(key) != value]
    changed += [key for key in parsed.cleared if key in answers]
    changed += [key for key, reason in parsed.declared.items() if declared.get(key) != reason]
    changed += [key for key in parsed.undeclared if key in declared]
    answers.update(parsed.answers)
    declared.update(parsed.declared)
    for key in parsed.cleared | set(parsed.answers) | set(parsed.declared):
        if key not in parsed.texts:
            texts.pop(key, None)
    texts.update(parsed.texts)
    for key in parsed.cleared:
        answers.pop(key, None)
    for key in parsed.undeclared:
        declared.pop(key, None)
    for key, text in parsed.remarks.items():
        if remarks.get(key, "") != text:
            changed.append(key)
        if text:
            remarks[key] = text
        else:
            remarks.pop(key, None)
    if not changed:
        return []
    _require_consistent(application, answers, declared, set(changed))
    application.answers = answers
    application.answer_texts = texts
    application.not_applicable = declared
    application.remarks = remarks
    _refresh_self_score(application)
    record_event("application.answers_saved", actor=user, obj=application, details={
        "indicators": sorted(set(changed)),
        "not_applicable": {key: declared[key] for key in sorted(parsed.declared) if key in declared},
        "applicable_again": sorted(parsed.undeclared & set(changed))} | ({"source": source} if source else {}))
    return sorted(set(changed))


def _require_consistent(application: Application, answers: dict, declared: dict, changed: set) -> None:
    """Refuse a change that leaves a stored answer or declaration the rule file does not take
    (an industry item declared applicable again while its general item is answered, say)."""
    rule_set = rule_set_of(application)
    try:
        score(rule_set, for_engine(rule_set, answers), not_applicable=declared, industry=application.industry_code)
    except AnswerError as error:
        if error.indicator_id in changed or error.code in ("not_for_industry", "na_and_answer"):
            indicator = next((i for i in rule_set.indicators if i.id == error.indicator_id), None)
            raise ServiceError(answer_error_message(error, indicator)) from None


def refused_answers(application: Application) -> list[tuple[object, str]]:
    """Stored answers and declarations the pinned rule file refuses (answers saved before its
    ranges were checked, say), as (indicator, message): they count for nothing until corrected."""
    rule_set = rule_set_of(application)
    _result, refused = live_self_result(application)
    known = {i.id: i for i in rule_set.indicators}
    return [(known.get(error.indicator_id), answer_error_message(error, known.get(error.indicator_id)))
            for error in refused]


def completeness_problems(application: Application) -> list:
    """What must still be done before submission: unanswered indicators (with their ids),
    answers the rule file refuses, and required evidence. Empty when it can be submitted."""
    rule_set = rule_set_of(application)
    problems = [("answer", indicator) for indicator in
                missing_answers(rule_set, application.industry_code, application.answers,
                                application.not_applicable)]
    problems += [("refused", (indicator, message)) for indicator, message in refused_answers(application)]
    if not application.evidence:
        problems.append(("evidence", None))
    return problems


def submit_application(user, application: Application, *, pledge_name: str, pledge_accepted: bool,
                       seen_version: int | None = None) -> Submission:
    """Submit a complete application with the authenticity pledge; editing locks."""
    if not is_own_application(user, application):
        raise PermissionDenied(_l("Only the applicant can submit this application."))
    _require_version(application, seen_version)
    pledge_name = (pledge_name or "").strip()
    if not pledge_accepted or not pledge_name:
        raise ServiceError(_l("Accept the pledge that the materials are true, and sign it with "
                              "your name."), field="pledge_accepted")
    if completeness_problems(application):
        raise ServiceError(_l("The application is not complete yet: see the list of what is missing."))
    # The terms in force now are frozen with the whole result: nothing re-scores it later.
    terms = terms_of(application)
    rule_set = rule_set_of(application)
    result = score(rule_set, for_engine(rule_set, application.answers), industry=application.industry_code,
                   not_applicable=application.not_applicable, threshold=terms.threshold)
    frozen = freeze(result, terms)
    application.self_result = frozen
    application.self_score_total = result.total
    application.self_score_passed = result.passed
    now = utcnow()
    application.pledge_name = pledge_name[:100]
    application.pledge_accepted_at = now
    application.submitted_at = now
    number = (db.session.execute(
        select(func.max(Submission.number)).where(Submission.application_id == application.id)
    ).scalar() or 0) + 1
    submission = Submission(
        application=application, number=number, submitted_at=now, submitted_by_id=user.id,
        answers=dict(application.answers), remarks=dict(application.remarks or {}),
        evidence=[{"id": e.id, "indicator_id": e.indicator_id, "sha256": e.sha256,
                   "name": e.original_name, "size": e.size} for e in application.evidence],
        self_score=frozen, pledge_name=application.pledge_name,
    )
    db.session.add(submission)
    transition(application, Action.SUBMIT, user, details={
        "submission": number, "pledge_name": application.pledge_name,
        "total": str(result.total), "passed": result.passed, "threshold": terms.to_dict()})
    plausibility.check_submission(application, submission)
    return submission


def withdraw_application(user, application: Application, *, reason: str = "") -> None:
    if not is_own_application(user, application):
        raise PermissionDenied(_l("Only the applicant can withdraw this application."))
    transition(application, Action.WITHDRAW, user, reason=(reason or "").strip()[:1000])


# An application in one of these is over: another for the same subject is no repetition.


def same_subject_in_progress(organisation, kind: str, subject: str) -> Application | None:
    """The organisation's application of ``kind`` for the same subject (spaces and case aside)
    that is still open or listed, if any: a second one is most often opened by mistake."""
    wanted = subject_key(subject)
    candidates = db.session.execute(
        select(Application).where(Application.organisation_id == organisation.id, Application.kind == kind,
                                  Application.status.not_in(FINAL))).scalars()
    return next((a for a in candidates if subject_key(a.subject) == wanted), None)


def subject_key(subject: str | None) -> str:
    """A subject as compared for sameness: spaces and case aside."""
    return "".join((subject or "").split()).casefold()


def return_application(admin, application: Application, *, note: str) -> None:
    """Send the application back to the applicant with questions; it becomes editable again."""
    note = (note or "").strip()
    if not note:
        raise ServiceError(_l("Say what the applicant should answer or change."), field="note")
    transition(application, Action.RETURN, admin, reason=note[:4000])
    application.return_note = note[:4000]
    application.returned_at = utcnow()
    # A draft again: scored live until it is submitted anew (the submission keeps its result).
    application.self_result = None


def add_evidence(user, application: Application, *, indicator_id: str | None, fileobj,
                 filename: str | None) -> Evidence:
    """Check an uploaded file by its content, store it by its sha256 and attach it to the draft.
    Raises ``UploadRefused`` (nothing stored) when the file is not acceptable."""
    _require_editable(user, application)
    if indicator_id is not None:
        try:
            rule_set_of(application).indicator(indicator_id)
        except KeyError:
            raise ServiceError(_l("There is no such indicator in this application's rules.")) from None
    saved = save_upload(fileobj, filename)
    evidence = Evidence(
        application=application, indicator_id=indicator_id, sha256=saved.sha256,
        size=saved.size, content_type=saved.content_type, original_name=saved.display_name,
        uploaded_by_id=user.id, uploaded_at=utcnow(),
    )
    db.session.add(evidence)
    application.updated_at = evidence.uploaded_at  # counts as a change of the application
    record_event("evidence.uploaded", actor=user, obj=application, details={
        "name": saved.display_name, "sha256": saved.sha256, "size": saved.size,
        "content_type": saved.content_type, "indicator_id": indicator_id})
    return evidence


def delete_evidence(user, evidence: Evidence) -> None:
    """Remove a file from a draft; the row stays (marked deleted) for the audit trail, and the
    stored bytes stay for earlier submissions that list it."""
    _require_editable(user, evidence.application)
    if evidence.deleted_at is not None:
        return
    evidence.deleted_at = utcnow()
    evidence.application.updated_at = evidence.deleted_at  # counts as a change of the application
    record_event("evidence.deleted", actor=user, obj=evidence.application, details={
        "evidence_id": evidence.id, "name": evidence.original_name, "sha256": evidence.sha256,
        "indicator_id": evidence.indicator_id})
