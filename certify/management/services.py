"""Ongoing management (动态管理) use cases: opening, saving, submitting and reviewing the periodic
self-declaration of a listed application (late, for a closed period it missed), and opening its
re-evaluation.

Each function is one use case: it checks, changes, writes an audit event and flushes; the caller
commits once.
"""

from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from certify.applications import services as application_services
from certify.applications.kinds import kind_of
from certify.applications.models import Application
from certify.assessment.models import AssessorRole, Assignment, AssignmentStatus, ScoreSheet
from certify.audit.services import record_event
from certify.certificates.models import Certificate
from certify.certificates.services import certificates_by_application
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.management import periods as _periods
from certify.management.compare import STATEMENT_FLAGS, declaration_flags
from certify.management.models import Declaration, DeclarationStatus
from certify.management.periods import parse_due_dates, period_start
from certify.management.permissions import (
    DECLARATION_FREE_KINDS,
    can_file_declaration,
    can_open_re_evaluation,
    can_review_declaration,
    owes_declarations,
)
from certify.plausibility import services as plausibility
from certify.rulesets.applied import metric_value, rule_set_of
from certify.rulesets.forms import ParsedAnswers, input_keys
from certify.scoring import Indicator, applicable_indicators
from certify.scoring.model import short
from certify.timeutil import local_date, local_today, utcnow
from certify.workflow import FINAL, Status

MAX_TEXT = 4000
# Control characters other than tab and line breaks (PostgreSQL refuses NUL in text).
_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\t\n\r")


def _clean(text: str | None) -> str:
    return (text or "").translate(_CONTROL).strip()[:MAX_TEXT]


class StaleDeclaration(ServiceError):
    """A colleague saved the declaration after this user opened it."""

    MESSAGE = _l("This declaration has been changed by someone else since you opened it. Your "
                 "input is shown below but was not saved: check it and save again.")

    def __init__(self):
        super().__init__(self.MESSAGE)


# ---- periods -----------------------------------------------------------------------------------

def due_dates() -> tuple[tuple[int, int], ...]:
    """The configured due dates (``CERTIFY_DECLARATION_DUE_DATES``)."""
    return parse_due_dates(current_app.config["CERTIFY_DECLARATION_DUE_DATES"])


def current_period(today: date | None = None) -> date:
    """The period being declared now, named by its due date."""
    return _periods.current_period(due_dates(), today or local_today())


def is_declaration_due(certificate: Certificate | None, period: date) -> bool:
    """Whether ``period`` asks a declaration of a listing: only when the listing began before the
    period did (a list announced in June does not declare on 15 July for a period it missed),
    and never of a kind that owes none (``permissions.owes_declarations``: the pilots')."""
    if certificate is None:
        return True
    if not owes_declarations(certificate.kind):
        return False
    return certificate.valid_from < period_start(period, due_dates())


# A listing is re-examined every three years (shared/reference/standards.md); going back twelve
# periods covers that at any cadence up to four due dates a year.
MAX_PERIODS_BACK = 12


def last_closed_period(today: date | None = None) -> date:
    """The most recent period whose due date has passed."""
    return _periods.last_closed_period(due_dates(), today or local_today())


def closed_periods(today: date | None = None, count: int = MAX_PERIODS_BACK) -> list[date]:
    """The ``count`` most recent closed periods, newest first."""
    return _periods.closed_periods(due_dates(), today or local_today(), count)


def missed_periods(certificate: Certificate | None, declared: set[date],
                   today: date | None = None) -> list[date]:
    """The closed periods, newest first, a listing was due to declare for and did not
    (``declared``: the periods with a submitted declaration). A listing's start is known from its
    certificate; without one nothing counts as missed."""
    if certificate is None:
        return []
    due = [p for p in closed_periods(today) if is_declaration_due(certificate, p)]
    return [p for p in due if p not in declared]


def submitted_periods(application_ids, since: date) -> dict[int, set[date]]:
    """Application id -> the periods from ``since`` on for which it submitted a declaration
    (reviewed ones included), in one query."""
    ids = list(set(application_ids))
    periods: dict[int, set[date]] = {i: set() for i in ids}
    if not ids:
        return periods
    rows = db.session.execute(
        select(Declaration.application_id, Declaration.period)
        .where(Declaration.application_id.in_(ids), Declaration.status != DeclarationStatus.DRAFT,
               Declaration.period >= since))
    for application_id, period in rows:
        periods[application_id].add(period)
    return periods


class PeriodNotDeclarable(ServiceError):
    """A period that is neither the current one nor a closed one the listing missed."""

    def __init__(self):
        super().__init__(_l("There is no declaration to make for this period: declare for the "
                            "current period, or for a closed period your organisation missed."))


def check_declarable_period(application: Application, period: date,
                            today: date | None = None) -> None:
    """Refuse a period ``application`` cannot open a declaration for: only the current period,
    or a closed period it was due to declare for and missed (a late declaration)."""
    today = today or local_today()
    if period == current_period(today):
        return
    certificate = certificates_by_application([application.id]).get(application.id)
    declared = submitted_periods([application.id], period)[application.id]
    if period not in missed_periods(certificate, declared, today):
        raise PeriodNotDeclarable()


# ---- the values compared -----------------------------------------------------------------------

def key_metrics(application: Application) -> list[Indicator]:
    """The metric indicators of the rule set the application was certified under (its frozen
    copy), those that apply to its industry, in file order: a computed one is declared through
    the figures it is computed from."""
    rule_set = rule_set_of(application)
    return [i for i in applicable_indicators(rule_set, application.industry_code) if i.type == "metric"]


def verified_answers_of(application_ids) -> dict[int, dict | None]:
    """Application id -> the verified answers of the lead assessor's submitted score sheet of
    the last round assessed (``None`` when that round has no sheet); one query for them all."""
    rows = db.session.execute(
        select(Assignment.application_id, ScoreSheet.answers)
        .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .where(Assignment.application_id.in_(list(application_ids)), Assignment.role == AssessorRole.LEAD,
               Assignment.status == AssignmentStatus.SUBMITTED)
        .order_by(Assignment.application_id, Assignment.submission_number, Assignment.id)).all()
    found = {}
    for application_id, answers in rows:  # the last round's comes last
        found[application_id] = answers
    return found


def lead_assessor_answers(application: Application) -> dict | None:
    """The verified answers of the lead assessor's submitted score sheet of the last round
    assessed, or ``None`` when there is none."""
    return verified_answers_of([application.id]).get(application.id)


def _value_text(application: Application, indicator: Indicator, stored) -> str | None:
    value = metric_value(rule_set_of(application), indicator, stored)
    return None if value is None else short(value)


def certified_values_of(applications) -> dict[int, dict]:
    """Application id -> indicator id -> {"value": decimal string or None, "source": "assessor" |
    "self"}: the lead assessor's verified value where there is one, else the self-assessment's
    (a computed metric's value computed from the figures, to four decimal places)."""
    verified_of = verified_answers_of(a.id for a in applications)
    result = {}
    for application in applications:
        verified = verified_of.get(application.id) or {}
        own = application.answers or {}
        values = {}
        for indicator in key_metrics(application):
            source = "assessor" if verified.get(indicator.id) is not None else "self"
            stored = verified[indicator.id] if source == "assessor" else own.get(indicator.id)
            values[indicator.id] = {"value": _value_text(application, indicator, stored), "source": source}
        result[application.id] = values
    return result


def certified_values(application: Application) -> dict:
    """``certified_values_of`` one application."""
    return certified_values_of([application])[application.id]


def declared_values(declaration: Declaration, metrics: list[Indicator] | None = None) -> dict[str, str]:
    """Indicator id -> the declared value as a decimal string: the number given, or a computed
    metric's value computed from the figures given (to four decimal places). ``metrics``: the
    application's ``key_metrics``, when the caller has them already."""
    application = declaration.application
    stored = declaration.values or {}
    values = {}
    for indicator in metrics if metrics is not None else key_metrics(application):
        value = _value_text(application, indicator, stored.get(indicator.id))
        if value is not None:
            values[indicator.id] = value
    return values


def _flags(declaration: Declaration) -> list[dict]:
    certified = {key: entry["value"] for key, entry in (declaration.certified_values or {}).items()}
    statements = {name: getattr(declaration, name) for name in STATEMENT_FLAGS}
    return declaration_flags(key_metrics(declaration.application), certified,
                             declared_values(declaration), statements)


# ---- the applicant's side ---------------------------------------------------------------------

def declaration_for(application: Application, period: date) -> Declaration | None:
    return db.session.execute(
        select(Declaration).where(Declaration.application_id == application.id,
                                  Declaration.period == period)
    ).scalar_one_or_none()


def open_declaration(user, application: Application, period: date | None = None) -> Declaration:
    """The declaration of ``application`` for ``period`` (the current one by default, or a closed
    period it missed): the one already begun, or a new draft carrying the values at
    certification."""
    if not can_file_declaration(user, application):
        raise PermissionDenied(_l("Only a listed organisation declares for its listed application."))
    period = period or current_period()
    declaration = declaration_for(application, period)
    if declaration is not None:
        return declaration
    check_declarable_period(application, period)
    declaration = Declaration(
        application=application, organisation_id=application.organisation_id, period=period,
        status=DeclarationStatus.DRAFT, certified_values=certified_values(application), values={},
        change_description="", flags=[], is_flagged=False, created_by_id=user.id,
    )
    db.session.add(declaration)
    record_event("declaration.opened", actor=user, obj=declaration, details={
        "application_id": application.id, "period": period.isoformat()})
    return declaration


@dataclass
class Statements:
    """The veto statements as answered (``None``: not answered yet)."""

    no_major_accident: bool | None = None
    no_environmental_event: bool | None = None
    no_change: bool | None = None
    change_description: str = ""


def _require_draft(user, declaration: Declaration, seen_version: int | None) -> None:
    if not can_file_declaration(user, declaration.application) or not declaration.is_draft:
        raise PermissionDenied(_l("This declaration cannot be changed now."))
    if seen_version is not None and seen_version != declaration.version:
        raise StaleDeclaration()


def save_declaration(user, declaration: Declaration, parsed: ParsedAnswers, statements: Statements,
                     *, seen_version: int | None = None) -> None:
    """Store the valid values and the statements of a draft (invalid values are not stored: the
    page shows them back with their errors)."""
    _require_draft(user, declaration, seen_version)
    known = {indicator.id: indicator for indicator in key_metrics(declaration.application)}
    values = dict(declaration.values or {})
    for key, value in parsed.answers.items():
        if key in known:  # a computed metric's figures: its inputs alone, no benchmark
            values[key] = ({name: value[name] for name in input_keys(known[key], figures_only=True) if name in value}
                           if known[key].is_computed else value)
    for key in parsed.cleared:
        values.pop(key, None)
    declaration.values = values
    for name in STATEMENT_FLAGS:
        setattr(declaration, name, getattr(statements, name))
    declaration.change_description = _clean(statements.change_description)
    declaration.updated_at = utcnow()
    record_event("declaration.saved", actor=user, obj=declaration, details={
        "values": values, "statements": {name: getattr(declaration, name) for name in STATEMENT_FLAGS}})


def missing_items(declaration: Declaration) -> list:
    """What must still be given before submitting: metrics without a value (the indicators),
    and unanswered statements (their field names)."""
    missing = [i for i in key_metrics(declaration.application) if i.id not in (declaration.values or {})]
    missing += [name for name in STATEMENT_FLAGS if getattr(declaration, name) is None]
    if declaration.no_change is False and not declaration.change_description:
        missing.append("change_description")
    return missing


def submit_declaration(user, declaration: Declaration, *, seen_version: int | None = None) -> list[dict]:
    """Submit a complete draft; returns the flags found for the department (possibly none)."""
    _require_draft(user, declaration, seen_version)
    if missing_items(declaration):
        raise ServiceError(_l("The declaration is not complete yet: give every value and answer "
                              "every statement (describe any change)."))
    flags = _flags(declaration)
    declaration.flags = flags
    declaration.is_flagged = bool(flags)
    declaration.status = DeclarationStatus.SUBMITTED
    declaration.submitted_at = utcnow()
    declaration.submitted_by_id = user.id
    # The period's due date is a China Standard Time date: late from the day after it.
    declaration.is_late = local_date(declaration.submitted_at) > declaration.period
    record_event("declaration.submitted", actor=user, obj=declaration, details={
        "period": declaration.period.isoformat(), "flags": flags, "is_late": declaration.is_late})
    plausibility.check_declaration(declaration)
    return flags


def review_declaration(admin, declaration: Declaration, *, note: str) -> None:
    """The department marks a submitted declaration as reviewed, with a note."""
    if not can_review_declaration(admin, declaration):
        raise PermissionDenied(_l("Only the department reviews submitted declarations."))
    note = _clean(note)
    if not note:
        raise ServiceError(_l("Write what was found, even if only “no concerns”."), field="note")
    declaration.status = DeclarationStatus.REVIEWED
    declaration.review_note = note
    declaration.reviewed_at = utcnow()
    declaration.reviewed_by_id = admin.id
    record_event("declaration.reviewed", actor=admin, obj=declaration,
                 details={"note": declaration.review_note})


@dataclass
class ListedEntry:
    """A listed application as its organisation sees it on the declarations page: the current
    period's declaration, the closed periods missed (newest first) with any late draft, and the
    declarations it submitted late."""

    application: Application
    certificate: Certificate | None
    period: date
    declaration: Declaration | None
    is_due: bool
    re_evaluation: Application | None
    missed: list[date] = field(default_factory=list)
    late_drafts: dict[date, Declaration] = field(default_factory=dict)
    submitted_late: list[Declaration] = field(default_factory=list)


def open_re_evaluation_of(application: Application) -> Application | None:
    """The re-evaluation of ``application`` still in progress (not ended), if any."""
    return next((a for a in application.re_evaluations if a.status not in FINAL), None)


def listed_entries(organisation_id: int, today: date | None = None) -> list[ListedEntry]:
    """The organisation's listed applications that declare (``permissions.owes_declarations``),
    with the current period's declaration and the closed periods they missed."""
    period = current_period(today)
    oldest = closed_periods(today)[-1]
    applications = db.session.execute(
        select(Application).where(Application.organisation_id == organisation_id,
                                  Application.status == Status.LISTED,
                                  Application.kind.not_in(DECLARATION_FREE_KINDS)).order_by(Application.id)
    ).scalars().all()
    ids = [a.id for a in applications]
    certificates = certificates_by_application(ids)
    declarations: dict[int, dict[date, Declaration]] = {i: {} for i in ids}
    for declaration in db.session.execute(
            select(Declaration).where(Declaration.application_id.in_(ids),
                                      Declaration.period >= oldest)).scalars():
        declarations[declaration.application_id][declaration.period] = declaration
    entries = []
    for application in applications:
        own = declarations[application.id]
        certificate = certificates.get(application.id)
        declared = {p for p, d in own.items() if not d.is_draft}
        missed = missed_periods(certificate, declared, today)
        entries.append(ListedEntry(
            application, certificate, period, own.get(period),
            is_declaration_due(certificate, period), open_re_evaluation_of(application),
            missed=missed, late_drafts={p: own[p] for p in missed if p in own},
            submitted_late=[d for _p, d in sorted(own.items(), reverse=True) if d.is_late]))
    return entries


# ---- re-evaluation -----------------------------------------------------------------------------

def open_re_evaluation(user, application: Application) -> Application:
    """Open a new application for the same kind and subject under the rule set in force today,
    linked to ``application`` (listed, or expired). Refused while one is already in progress."""
    if not can_open_re_evaluation(user, application):
        raise PermissionDenied(_l("Only the listed organisation can apply for re-evaluation."))
    if open_re_evaluation_of(application) is not None:
        raise ServiceError(_l("A re-evaluation of this application is already in progress."))
    rule_set_id = None
    if kind_of(application.kind).rule_set_per_subject:
        # The product's own rules (their version in force today), when still in force.
        choices = application_services.rule_set_choices(application.kind,
                                                        application.organisation.industry_code)
        if not any(rule_set.id == application.rule_set_id for rule_set in choices):
            raise ServiceError(_l("The product's rule set is no longer in force. Open a new "
                                  "application and choose the rules that replace it."))
        rule_set_id = application.rule_set_id
    successor = application_services.open_application(
        user, kind=application.kind, subject=application.subject,
        subject_detail=application.subject_detail, rule_set_id=rule_set_id)
    successor.previous_application = application
    record_event("application.re_evaluation_opened", actor=user, obj=application, details={
        "new_application_id": successor.id,
        "rule_set": {"id": successor.rule_set_id, "version": successor.rule_set_version}})
    return successor
