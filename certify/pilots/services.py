"""Construction pilot use cases: filing a yearly progress report, the mid-term review and the
final acceptance, and the reading of a pilot's state for the pages.

Report periods work as the self-declarations' do (``certify.management.periods``): a period is
named by its due date, from ``CERTIFY_PILOT_REPORT_DUE_DATES`` (default ``12-31``: "每年12月底前…
报送试点工作进展情况", Sichuan's pilot list, docs/sources/tiers-and-zero-carbon.md §6). A pilot owes
the report of every period whose due date falls on or after its listing.

Each function that changes something is one use case: it checks, changes, writes an audit event
and flushes; the caller commits once.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from certify.applications.models import Application
from certify.audit.services import record_event
from certify.auth.models import User
from certify.certificates.models import Certificate, CertificateStatus, RevocationReason
from certify.certificates.services import (
    certificate_for,
    certificates_by_application,
    issue_certificate,
    last_valid_day,
    revoke_certificate,
    supersede_certificate,
)
from certify.core.urls import absolute_url
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.mail.services import OutgoingMail, send_mails
from certify.management import periods as _periods
from certify.management.periods import parse_due_dates
from certify.management.services import lead_assessor_answers
from certify.pilots.models import (
    CONSTRUCTION_YEARS,
    MIDTERM_AFTER_YEARS,
    PILOT_KINDS,
    MidtermDecision,
    Pilot,
    PilotReport,
    PilotStatus,
)
from certify.pilots.permissions import (
    can_decide_pilot,
    can_file_report,
    is_pilot_application,
    recognition_application_ids,
)
from certify.rulesets.applied import metric_value, rule_set_of
from certify.rulesets.forms import ParsedAnswers, answer_error_message
from certify.scoring import AnswerError, Indicator, applicable_indicators, read_answer
from certify.scoring.engine import computer, within_limit
from certify.scoring.model import plain, short
from certify.timeutil import local_date, local_today, utcnow
from certify.workflow import Status

MAX_TEXT = 4000
# Control characters other than tab and line breaks (PostgreSQL refuses NUL in text).
_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\t\n\r")
# The unit of the core indicator, 单位能耗碳排放 (CO2 emitted ÷ comprehensive energy use).
CORE_UNIT = "tCO2/tce"


def _clean(text: str | None) -> str:
    return (text or "").translate(_CONTROL).strip()[:MAX_TEXT]


def _require_admin(user) -> None:
    if not can_decide_pilot(user):
        raise PermissionDenied(_l("Only the department can do this."))


# ---- periods -----------------------------------------------------------------------------------

def due_dates() -> tuple[tuple[int, int], ...]:
    """The configured due dates of progress reports (``CERTIFY_PILOT_REPORT_DUE_DATES``)."""
    return parse_due_dates(current_app.config["CERTIFY_PILOT_REPORT_DUE_DATES"])


def current_period(today: date | None = None) -> date:
    """The period being reported now, named by its due date."""
    return _periods.current_period(due_dates(), today or local_today())


def last_closed_period(today: date | None = None) -> date:
    """The most recent period whose due date has passed."""
    return _periods.last_closed_period(due_dates(), today or local_today())


def is_report_due(listed_on: date | None, period: date) -> bool:
    """Whether a pilot listed on ``listed_on`` owes the report of ``period``."""
    return listed_on is not None and listed_on <= period


def listed_on(certificate: Certificate | None) -> date | None:
    """The day the pilot was listed: its certificate's first valid day."""
    return certificate.valid_from if certificate is not None else None


def reportable_periods(application: Application, today: date | None = None) -> list[date]:
    """The periods a report can be filed for now, newest first: the current one, and the last
    closed one when it was owed and not filed (a late report)."""
    today = today or local_today()
    started = listed_on(certificate_for(application))
    filed = set(db.session.execute(select(PilotReport.period).where(
        PilotReport.application_id == application.id)).scalars())
    periods = [p for p in (current_period(today), last_closed_period(today))
               if is_report_due(started, p) and p not in filed]
    return periods


# ---- the indicators reported -------------------------------------------------------------------

def report_indicators(application: Application) -> list[Indicator]:
    """The metrics of the rule set the pilot was listed under that apply to it, in file order:
    the core and guiding indicators (those it declared not applicable left out)."""
    declared = set((application.not_applicable or {}))
    return [i for i in applicable_indicators(rule_set_of(application), application.industry_code)
            if i.type == "metric" and i.id not in declared]


def base_values(application: Application) -> dict:
    """Indicator id -> the stored answer of the base year (the application's figures): the lead
    assessor's verified one where there is one, else the applicant's own."""
    verified = lead_assessor_answers(application) or {}
    own = application.answers or {}
    values = {}
    for indicator in report_indicators(application):
        answer = verified.get(indicator.id)
        values[indicator.id] = answer if answer is not None else own.get(indicator.id)
    return values


def value_of(application: Application, indicator: Indicator, stored) -> Decimal | None:
    """The value of a stored answer under the pilot's rule set (``rulesets.applied.metric_value``)."""
    return metric_value(rule_set_of(application), indicator, stored)


@dataclass
class ReportRow:
    indicator: Indicator
    base: Decimal | None
    current: Decimal | None


def report_rows(report: PilotReport) -> list[ReportRow]:
    """One row per indicator of the report: the base year's value beside the current one."""
    application = report.application
    indicators = {i.id: i for i in report_indicators(application)}
    ids = list(dict.fromkeys([*report.values, *report.base_values]))
    return [ReportRow(indicators[i], value_of(application, indicators[i], report.base_values.get(i)),
                      value_of(application, indicators[i], report.values.get(i)))
            for i in ids if i in indicators]


# ---- the pilot's own side ----------------------------------------------------------------------

def pilot_of(application: Application) -> Pilot | None:
    return db.session.execute(
        select(Pilot).where(Pilot.application_id == application.id)).scalar_one_or_none()


def _ensure_pilot(application: Application) -> Pilot:
    pilot = pilot_of(application)
    if pilot is None:
        pilot = Pilot(application=application, organisation_id=application.organisation_id,
                      status=PilotStatus.UNDER_CONSTRUCTION, midterm_reason="", final_figures={},
                      final_indicator_id="", final_value="", final_threshold="", acceptance_note="")
        db.session.add(pilot)
    return pilot


def report_for(application: Application, period: date) -> PilotReport | None:
    return db.session.execute(
        select(PilotReport).where(PilotReport.application_id == application.id,
                                  PilotReport.period == period)).scalar_one_or_none()


def file_report(user, application: Application, period: date, parsed: ParsedAnswers, narrative: str,
                *, today: date | None = None) -> PilotReport:
    """File the progress report of ``period``: every indicator's current figures and a narrative.
    Filed once; late when filed after the period's due date."""
    if not can_file_report(user, application, pilot_of(application)):
        raise PermissionDenied(_l("Only the pilot's own organisation reports, while it is under construction."))
    if period not in reportable_periods(application, today):
        raise ServiceError(_l("There is no progress report to file for this period: it has been "
                              "filed already, or is not due."))
    indicators = report_indicators(application)
    values = {i.id: parsed.answers[i.id] for i in indicators if i.id in parsed.answers}
    if parsed.errors or len(values) < len(indicators):
        raise ServiceError(_l("Give the current figures of every indicator."))
    narrative = _clean(narrative)
    if not narrative:
        raise ServiceError(_l("Describe the progress of the construction tasks."), field="narrative")
    now = utcnow()
    report = PilotReport(application=application, organisation_id=application.organisation_id,
                         period=period, values=values, base_values=base_values(application),
                         narrative=narrative, submitted_at=now, submitted_by_id=user.id,
                         is_late=local_date(now) > period)
    db.session.add(report)
    record_event("pilot.report_filed", actor=user, obj=report, details={
        "application_id": application.id, "period": period.isoformat(), "values": values,
        "is_late": report.is_late})
    return report


# ---- the department's decisions ----------------------------------------------------------------

def midterm_opens_on(application: Application) -> date | None:
    """The first day of the mid-term review: the first anniversary of the listing."""
    started = listed_on(certificate_for(application))
    return None if started is None else last_valid_day(started, MIDTERM_AFTER_YEARS) + timedelta(days=1)


def construction_ends_on(application: Application) -> date | None:
    """The expected last day of construction (about three years after listing, provisional)."""
    started = listed_on(certificate_for(application))
    return None if started is None else last_valid_day(started, CONSTRUCTION_YEARS)


def _require_under_construction(application: Application) -> Pilot:
    if not is_pilot_application(application) or application.status != Status.LISTED:
        raise ServiceError(_l("Only a listed pilot can be reviewed or accepted."))
    pilot = _ensure_pilot(application)
    if pilot.status != PilotStatus.UNDER_CONSTRUCTION:
        raise ServiceError(_l("This pilot has been decided on already."))
    return pilot


def record_midterm(admin, application: Application, decision: str, reason: str, *,
                   today: date | None = None) -> Pilot:
    """The department's mid-term review after the pilot's first year: continue, or remove it
    from the pilot list — which revokes its listing and certificate through the certificates
    service (a slow pilot "及时调整出试点名单")."""
    _require_admin(admin)
    try:
        decision = MidtermDecision(decision)
    except ValueError:
        raise ServiceError(_l("Choose whether the pilot continues."), field="decision") from None
    pilot = _require_under_construction(application)
    if pilot.midterm_decision is not None:
        raise ServiceError(_l("The mid-term review of this pilot has been recorded already."))
    opens = midterm_opens_on(application)
    if opens is None or (today or local_today()) < opens:
        raise ServiceError(_l("The mid-term review comes after the pilot's first year, from %(date)s.",
                              date=opens.isoformat() if opens else "—"))
    reason = _clean(reason)
    if decision == MidtermDecision.REMOVE and not reason:
        raise ServiceError(_l("Give the reason for removing the pilot."), field="reason")
    pilot.midterm_decision = decision
    pilot.midterm_reason = reason
    pilot.midterm_at = utcnow()
    pilot.midterm_by_id = admin.id
    if decision == MidtermDecision.REMOVE:
        pilot.status = PilotStatus.REMOVED
        revoke_certificate(admin, certificate_for(application), RevocationReason.NO_LONGER_CONFORMING.value,
                           note=reason)
    record_event("pilot.midterm_reviewed", actor=admin, obj=pilot, details={
        "application_id": application.id, "decision": decision.value, "reason": reason})
    return pilot


def core_indicators(application: Application) -> list[Indicator]:
    """The core indicator 单位能耗碳排放 of the pilot's rule set: its computed metrics in tCO2/tce
    (a park's, one per band of energy use)."""
    return [i for i in rule_set_of(application).indicators
            if i.type == "metric" and i.is_computed and i.unit is not None and i.unit.key == CORE_UNIT]


def acceptance_threshold(indicator: Indicator) -> Decimal:
    """What acceptance holds the core value to: the limit, or for a scored core indicator its
    leading value (the zero-carbon level; its baseline is only the basic requirement)."""
    return indicator.limit if indicator.limit is not None else indicator.leading


@dataclass
class CoreCheck:
    indicator: Indicator
    figures: dict
    value: Decimal
    threshold: Decimal
    met: bool


def check_core(application: Application, raw: dict) -> CoreCheck:
    """The final figures (input key -> text) checked against the core indicator whose inputs
    accept them (a park's band of energy use); ``ServiceError`` saying what is wrong."""
    candidates = core_indicators(application)
    if not candidates:
        raise ServiceError(_l("The rule set of this pilot has no core indicator to check."))
    refusal = None
    for indicator in candidates:
        try:
            figures = read_answer(indicator, {key: (raw.get(key) or "").strip() for key in
                                              (entry.key for entry in indicator.inputs)}).value
            value = computer(indicator)(figures)
        except AnswerError as error:
            refusal = refusal or answer_error_message(error, indicator)
            if error.code == "out_of_range" and error.params.get("input") is not None:
                continue  # another band's figures
            raise ServiceError(answer_error_message(error, indicator), field="emitted") from None
        threshold = acceptance_threshold(indicator)
        met = within_limit(indicator, value) if indicator.limit is not None else value <= threshold
        return CoreCheck(indicator, {k: plain(v) for k, v in figures.items()}, value, threshold, met)
    raise ServiceError(refusal, field="emitted")


def record_acceptance(admin, application: Application, *, accept: bool, figures: dict, note: str) -> Pilot:
    """Final acceptance after construction: the final figures checked against the core indicator.
    Accepted only when the core value meets its threshold; refused with the department's reason
    (nothing is issued, the pilot's listing stays as it is). An accepted pilot's unit is
    recognised (``recognise``): a certificate of recognition replaces the pilot's."""
    _require_admin(admin)
    pilot = _require_under_construction(application)
    if pilot.midterm_decision != MidtermDecision.CONTINUE:
        raise ServiceError(_l("Record the mid-term review before the final acceptance."))
    check = check_core(application, figures)
    note = _clean(note)
    if not note:
        raise ServiceError(_l("Write the acceptance opinion."), field="note")
    if accept and not check.met:
        raise ServiceError(_l("The final value %(value)s %(unit)s does not meet the core indicator "
                              "(%(threshold)s): the pilot cannot be accepted.",
                              value=short(check.value), unit=CORE_UNIT, threshold=plain(check.threshold)),
                           field="emitted")
    pilot.status = PilotStatus.ACCEPTED if accept else PilotStatus.REFUSED
    pilot.final_figures = check.figures
    pilot.final_indicator_id = check.indicator.id
    pilot.final_value = short(check.value)
    pilot.final_threshold = plain(check.threshold)
    pilot.acceptance_note = note
    pilot.accepted_at = utcnow()
    pilot.accepted_by_id = admin.id
    record_event("pilot.accepted" if accept else "pilot.refused", actor=admin, obj=pilot, details={
        "application_id": application.id, "indicator": check.indicator.id, "figures": check.figures,
        "value": pilot.final_value, "threshold": pilot.final_threshold, "met": check.met, "note": note})
    if accept:
        recognise(admin, application)
    return pilot


def recognise(admin, application: Application) -> Certificate:
    """The unit of an accepted pilot becomes a recognised zero-carbon factory or park: an
    application of the same kind, subject and rule set, listed by the acceptance itself (the
    department's decision; it has no assessment of its own), is issued a certificate of
    recognition through the issuing path, and the pilot's certificate is superseded by it (its
    application moves to revoked, the reason naming the new certificate). A pilot certificate no
    longer valid (expired meanwhile) is left as it is."""
    recognition = Application(
        organisation_id=application.organisation_id, kind=application.kind, subject=application.subject,
        subject_detail=application.subject_detail, industry_code=application.industry_code,
        status=Status.LISTED, rule_set_id=application.rule_set_id,
        rule_set_version=application.rule_set_version, rule_set_sha256=application.rule_set_sha256,
        rule_set_frozen=application.rule_set_frozen, threshold=application.threshold,
        threshold_source=application.threshold_source, answers={}, answer_texts={}, remarks={},
        not_applicable=dict(application.not_applicable or {}), created_by_id=admin.id)
    db.session.add(recognition)
    db.session.flush()
    record_event("application.recognised", actor=admin, obj=recognition, details={
        "pilot_application_id": application.id, "kind": application.kind, "subject": application.subject})
    certificate = issue_certificate(recognition, admin, is_recognition=True)
    listing = certificate_for(application)
    if listing is not None and listing.public_status(local_today()) == CertificateStatus.VALID:
        supersede_certificate(admin, listing, certificate)
        _tell_recognised(application, listing, certificate)
    return certificate


def _tell_recognised(application: Application, listing: Certificate, certificate: Certificate) -> None:
    """Mail the unit's people the news of its recognition, in their language: the new certificate
    and the pilot certificate it replaces (whose revocation is told here, not as a revocation)."""
    people = db.session.execute(
        select(User).where(User.organisation_id == application.organisation_id, User.is_active.is_(True),
                           User.password_hash.is_not(None)).order_by(User.id)).scalars()
    context = {"application": application, "replaced": listing, "successor": certificate,
               "link": absolute_url("applications.show", application_id=certificate.application_id),
               "verify_link": absolute_url("certificates.verify", number=certificate.number)}
    send_mails([OutgoingMail(person.email, "certificate_replaced", person.preferred_language,
                             context | {"user": person}) for person in people])


def recognised_pilot(application: Application) -> tuple[Certificate, Pilot | None] | None:
    """For the application of a recognition: the pilot's listing certificate it replaced and the
    pilot's record (its acceptance); ``None`` for any other application."""
    certificate = certificate_for(application)
    if certificate is None or not certificate.is_recognition:
        return None
    listing = db.session.execute(
        select(Certificate).where(Certificate.superseded_by_id == certificate.id)).scalar_one_or_none()
    if listing is None:
        return None
    return listing, pilot_of(listing.application)


def recognition_certificate(application: Application) -> Certificate | None:
    """The certificate of recognition that replaced a pilot's listing, if any."""
    listing = certificate_for(application)
    return listing.superseded_by if listing is not None else None


# ---- lists -------------------------------------------------------------------------------------

@dataclass
class PilotEntry:
    """A pilot as the lists show it: its certificate, decisions, and the reports of the current
    and the last closed period (``overdue``: owed for a closed period and not filed)."""

    application: Application
    pilot: Pilot | None
    certificate: Certificate | None
    current_period: date
    current_report: PilotReport | None
    current_due: bool
    closed_period: date
    closed_report: PilotReport | None
    overdue: bool

    @property
    def status(self) -> PilotStatus:
        return self.pilot.status if self.pilot is not None else PilotStatus.UNDER_CONSTRUCTION


def pilots_query(organisation_id: int | None = None):
    """Pilot applications listed now or once (removed and recognised ones are revoked), newest
    first; not the applications of recognised units (``recognise``)."""
    query = (select(Application).where(Application.kind.in_(PILOT_KINDS),
                                       or_(Application.status == Status.LISTED,
                                           Application.id.in_(select(Pilot.application_id))),
                                       Application.id.not_in(recognition_application_ids()))
             .order_by(Application.id.desc()))
    if organisation_id is not None:
        query = query.where(Application.organisation_id == organisation_id)
    return query


def pilot_entries(applications: list[Application], today: date | None = None) -> list[PilotEntry]:
    """The entries of ``applications`` (a page of ``pilots_query``), in a few queries."""
    current, closed = current_period(today), last_closed_period(today)
    ids = [a.id for a in applications]
    certificates = certificates_by_application(ids)
    pilots = {p.application_id: p for p in db.session.execute(
        select(Pilot).where(Pilot.application_id.in_(ids))).scalars()} if ids else {}
    reports = {(r.application_id, r.period): r for r in db.session.execute(
        select(PilotReport).where(PilotReport.application_id.in_(ids),
                                  PilotReport.period.in_([current, closed]))).scalars()} if ids else {}
    entries = []
    for application in applications:
        pilot = pilots.get(application.id)
        started = listed_on(certificates.get(application.id))
        open_ = (application.status == Status.LISTED
                 and (pilot is None or pilot.status == PilotStatus.UNDER_CONSTRUCTION))
        closed_report = reports.get((application.id, closed))
        entries.append(PilotEntry(
            application, pilot, certificates.get(application.id), current,
            reports.get((application.id, current)), open_ and is_report_due(started, current),
            closed, closed_report, open_ and is_report_due(started, closed) and closed_report is None))
    return entries


def reports_of(application: Application) -> list[PilotReport]:
    return db.session.execute(select(PilotReport).where(PilotReport.application_id == application.id)
                              .order_by(PilotReport.period.desc())).scalars().all()
