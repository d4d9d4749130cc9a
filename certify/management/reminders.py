"""Reminders, sent by ``flask reminders send`` (run daily by cron): certificates about to
expire, declarations coming due and missed, assessments coming due and overdue, and objections
awaiting resolution.

Each reminder is claimed in ``reminders_sent`` under its window before it is mailed, so running
the command again in the same window sends nothing more:

- certificate expiry: once per certificate and last valid day, ``CERTIFY_EXPIRY_REMINDER_DAYS``
  (default 90) before it, to the organisation's users, with the re-evaluation link;
- declaration due: once per listed application and period, ``CERTIFY_DECLARATION_REMINDER_DAYS``
  (default 30) before the due date, while no declaration is submitted;
- declarations missed: once the last period has closed, a listed application that has missed
  ``CERTIFY_MISSED_WARNING_AFTER`` periods in a row is warned (its organisation's users), and one
  that has missed ``CERTIFY_MISSED_REVIEW_AFTER`` in a row is proposed for review under ongoing
  management (the administrators in one list, and the organisation told) — once per application
  and period missed;
- construction pilots' progress reports due and overdue: ``certify.pilots.reminders``, which the
  command runs after these;
- assessment due soon: once per assignment and due date, ``CERTIFY_ASSESSMENT_DUE_SOON_DAYS``
  (default 7) before it, to the assessor of an assignment still pending or accepted;
- overdue assessment: at most once a day per assignment still pending or accepted after its due
  date, to the assessor, and one list to the administrators;
- objections: at most once a day per open objection older than ``CERTIFY_OBJECTION_REMINDER_DAYS``
  (default 7) or whose notice period has ended, one list to the administrators.

The daily run also queues again the certificate PDFs whose rendering was lost, and writes the
audit log's newest event to the anchor file (``certify.audit.anchors``).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import or_, select

from certify.applications.models import Application
from certify.assessment.models import OPEN_ASSIGNMENT, Assignment
from certify.audit.services import record_event
from certify.auth.models import Role, User
from certify.certificates.models import Certificate, CertificateStatus
from certify.certificates.services import certificates_by_application
from certify.core.urls import absolute_url
from certify.extensions import db
from certify.mail.services import send_mail
from certify.management import missed, services
from certify.management.models import DeclarationStatus, ReminderKind, ReminderSent
from certify.publication.models import Batch, Objection, ObjectionStatus
from certify.timeutil import LOCAL_TIMEZONE, local_today
from certify.workflow import Status


@dataclass
class Sent:
    """What one kind of reminder sent: a line per object reminded, with its recipients."""

    kind: ReminderKind
    lines: list[str] = field(default_factory=list)


def _claim(kind: ReminderKind, object_id: int, window: str, recipients: int) -> bool:
    """Record the reminder for ``window``; ``False`` when it was already sent."""
    exists = db.session.execute(
        select(ReminderSent.id).where(ReminderSent.kind == kind, ReminderSent.object_id == object_id,
                                      ReminderSent.window_key == window)
    ).first()
    if exists is not None:
        return False
    db.session.add(ReminderSent(kind=kind, object_id=object_id, window_key=window,
                                recipients=recipients))
    db.session.flush()
    return True


def _active(query) -> list[User]:
    return db.session.execute(query.where(User.is_active.is_(True), User.password_hash.is_not(None))
                              .order_by(User.id)).scalars().all()


def organisation_users(organisation_id: int) -> list[User]:
    return _active(select(User).where(User.organisation_id == organisation_id))


def administrators() -> list[User]:
    return _active(select(User).where(User.role == Role.ADMIN))


def _mail(people: list[User], template: str, **context) -> list[str]:
    for person in people:
        send_mail(person.email, template, language=person.preferred_language, user=person, **context)
    return [person.email for person in people]


def _line(label: str, emails: list[str]) -> str:
    return f"{label} -> {', '.join(emails) or '(nobody to tell)'}"


def remind_organisation(sent: Sent, obj, organisation_id: int, *, window: str, template: str, action: str,
                        label: str, details: dict, **context) -> bool:
    """Mail the active users of ``organisation_id`` the reminder ``template`` about ``obj`` (in
    their own language, with ``context``), once per ``window``: claimed in ``reminders_sent``
    under ``sent.kind`` before anything is mailed. Audited as ``action`` with ``details`` and the
    recipients; a line of ``label`` is added to ``sent``. ``False`` when it was sent before."""
    people = organisation_users(organisation_id)
    if not _claim(sent.kind, obj.id, window, len(people)):
        return False
    emails = _mail(people, template, **context)
    record_event(action, obj=obj, details=details | {"recipients": emails})
    sent.lines.append(_line(label, emails))
    return True


def remind_expiring_certificates(today: date, days: int) -> Sent:
    """Tell the holders of valid certificates whose last day is within ``days``."""
    sent = Sent(ReminderKind.CERTIFICATE_EXPIRY)
    certificates = db.session.execute(
        select(Certificate).join(Application, Certificate.application_id == Application.id)
        .where(Certificate.status == CertificateStatus.VALID, Application.status == Status.LISTED,
               Certificate.valid_until >= today, Certificate.valid_until <= today + timedelta(days=days))
        .order_by(Certificate.valid_until, Certificate.id)
    ).scalars().all()
    for certificate in certificates:
        application, until = certificate.application, certificate.valid_until.isoformat()
        remind_organisation(sent, certificate, application.organisation_id, window=until,
                            template="certificate_expiry_reminder", action="reminder.certificate_expiry",
                            label=f"{certificate.number} (valid until {until})", details={"valid_until": until},
                            certificate=certificate, application=application,
                            link=absolute_url("management.re_evaluation", application_id=application.id))
    return sent


def remind_declarations_due(today: date, days: int) -> Sent:
    """Tell listed organisations whose declaration for the period is due within ``days`` and
    not yet submitted."""
    sent = Sent(ReminderKind.DECLARATION_DUE)
    period = services.current_period(today)
    if (period - today).days > days:
        return sent
    applications = db.session.execute(
        select(Application).where(Application.status == Status.LISTED).order_by(Application.id)
    ).scalars().all()
    certificates = certificates_by_application(a.id for a in applications)
    for application in applications:
        if not services.is_declaration_due(certificates.get(application.id), period):
            continue
        declaration = services.declaration_for(application, period)
        if declaration is not None and declaration.status != DeclarationStatus.DRAFT:
            continue
        remind_organisation(sent, application, application.organisation_id, window=period.isoformat(),
                            template="declaration_due_reminder", action="reminder.declaration_due",
                            label=f"{application.reference} (due {period.isoformat()})",
                            details={"period": period.isoformat()}, application=application, period=period,
                            link=absolute_url("management.declare", application_id=application.id))
    return sent


def _declare_late_link(application: Application, period: date) -> str:
    return absolute_url("management.declare", application_id=application.id, period=period.isoformat())


def warn_missed_declarations(today: date, limits: missed.Thresholds) -> Sent:
    """Warn the organisations of listed applications that have missed, with the period that
    closed last, as many periods in a row as the warning asks (but not yet the proposal)."""
    sent = Sent(ReminderKind.DECLARATION_MISSED_WARNING)
    period = services.last_closed_period(today)
    for entry in missed.all_missed(period):
        if limits.step_for(entry.misses_in_a_row) != sent.kind:
            continue
        application = entry.application
        remind_organisation(
            sent, application, application.organisation_id, window=period.isoformat(),
            template="declaration_missed_warning", action="declaration.missed_warning",
            label=f"{application.reference} (missed {entry.misses_in_a_row} in a row, last due {period.isoformat()})",
            details={"period": period.isoformat(), "misses_in_a_row": entry.misses_in_a_row},
            application=application, period=period, misses=entry.misses_in_a_row, review_after=limits.proposal,
            link=_declare_late_link(application, period))
    return sent


def propose_reviews(today: date, limits: missed.Thresholds) -> Sent:
    """Propose for review under ongoing management the listed applications that have missed,
    with the period that closed last, as many periods in a row as the proposal asks: the
    administrators get one list, each organisation is told."""
    sent = Sent(ReminderKind.DECLARATION_REVIEW_PROPOSAL)
    period = services.last_closed_period(today)
    admins = administrators()
    proposed = []
    for entry in missed.all_missed(period):
        if limits.step_for(entry.misses_in_a_row) != sent.kind:
            continue
        application = entry.application
        if not _claim(sent.kind, application.id, period.isoformat(), len(admins)):
            continue
        emails = _mail(organisation_users(application.organisation_id), "declaration_review_proposed",
                       application=application, period=period, misses=entry.misses_in_a_row,
                       link=_declare_late_link(application, period))
        record_event("declaration.review_proposed", obj=application, details={
            "period": period.isoformat(), "misses_in_a_row": entry.misses_in_a_row,
            "recipients": emails + [admin.email for admin in admins]})
        proposed.append(entry)
        sent.lines.append(_line(f"{application.reference} (missed {entry.misses_in_a_row} in a row, "
                                f"last due {period.isoformat()})", emails))
    if proposed:
        emails = _mail(admins, "declarations_review_proposed", entries=proposed, period=period,
                       link=absolute_url("management.missed", period=period.isoformat()))
        sent.lines.append(_line(f"{len(proposed)} listing(s) proposed for review, to the "
                                "administrators", emails))
    return sent


def remind_assessments_due_soon(today: date, days: int) -> Sent:
    """Tell the assessor of each open assignment due within ``days`` (once per due date)."""
    sent = Sent(ReminderKind.ASSESSMENT_DUE_SOON)
    assignments = db.session.execute(
        select(Assignment).where(Assignment.status.in_(OPEN_ASSIGNMENT), Assignment.due_on >= today,
                                 Assignment.due_on <= today + timedelta(days=days))
        .order_by(Assignment.due_on, Assignment.id)
    ).scalars().all()
    for assignment in assignments:
        assessor = assignment.assessor
        people = [assessor] if assessor.is_active else []
        if not _claim(sent.kind, assignment.id, assignment.due_on.isoformat(), len(people)):
            continue
        emails = _mail(people, "assessment_due_soon", assignment=assignment,
                       days_left=(assignment.due_on - today).days,
                       link=absolute_url("assessment.assignment", assignment_id=assignment.id))
        record_event("reminder.assessment_due_soon", obj=assignment, details={
            "due_on": assignment.due_on.isoformat(), "recipients": emails})
        sent.lines.append(_line(f"{assignment.application.reference} (assessor {assessor.email}, "
                                f"due {assignment.due_on.isoformat()})", emails))
    return sent


def remind_overdue_assessments(today: date) -> Sent:
    """Tell each assessor of an overdue assignment, and the administrators in one list."""
    sent = Sent(ReminderKind.ASSESSMENT_OVERDUE)
    assignments = db.session.execute(
        select(Assignment).where(Assignment.status.in_(OPEN_ASSIGNMENT), Assignment.due_on < today)
        .order_by(Assignment.due_on, Assignment.id)
    ).scalars().all()
    reminded = []
    for assignment in assignments:
        assessor = assignment.assessor
        people = [assessor] if assessor.is_active else []
        if not _claim(sent.kind, assignment.id, today.isoformat(), len(people)):
            continue
        emails = _mail(people, "assessment_overdue", assignment=assignment, today=today,
                       link=absolute_url("assessment.assignment", assignment_id=assignment.id))
        record_event("reminder.assessment_overdue", obj=assignment, details={
            "due_on": assignment.due_on.isoformat(), "recipients": emails})
        reminded.append(assignment)
        label = (f"{assignment.application.reference} (assessor {assessor.email}, "
                 f"due {assignment.due_on.isoformat()})")
        sent.lines.append(_line(label, emails))
    if reminded:
        emails = _mail(administrators(), "assessments_overdue_digest", assignments=reminded,
                       today=today, link=absolute_url("assessment.index"))
        sent.lines.append(_line(f"{len(reminded)} overdue assessment(s), to the administrators",
                                emails))
    return sent


def remind_pending_objections(today: date, days: int) -> Sent:
    """Tell the administrators, in one list, of the open objections older than ``days`` or
    whose notice period has ended."""
    sent = Sent(ReminderKind.OBJECTION_PENDING)
    # Stored times are UTC: the start of the local day, ``days`` ago, in UTC.
    older_than = datetime.combine(today - timedelta(days=days), time.min,
                                  LOCAL_TIMEZONE).astimezone(timezone.utc)
    objections = db.session.execute(
        select(Objection).join(Batch, Objection.batch_id == Batch.id)
        .where(Objection.status == ObjectionStatus.OPEN,
               or_(Objection.created_at < older_than, Batch.notice_ends_on < today))
        .order_by(Objection.created_at, Objection.id)
    ).scalars().all()
    admins = administrators()
    pending = [o for o in objections if _claim(sent.kind, o.id, today.isoformat(), len(admins))]
    if not pending:
        return sent
    items = [{"objection": o, "link": absolute_url("publication.objection", objection_id=o.id)}
             for o in pending]
    emails = _mail(admins, "objections_pending", items=items, today=today)
    for objection in pending:
        record_event("reminder.objection_pending", obj=objection, details={"recipients": emails})
    sent.lines.append(_line(f"{len(pending)} objection(s) awaiting resolution", emails))
    return sent


def send_reminders(config, today: date | None = None, *, commit=None) -> list[Sent]:
    """Run every reminder for ``today`` (China Standard Time); ``commit`` (if given) is called
    after each kind, so one kind's failure does not hold back the others' records."""
    today = today or local_today()
    limits = missed.thresholds(config)
    steps = (
        lambda: remind_expiring_certificates(today, int(config["CERTIFY_EXPIRY_REMINDER_DAYS"])),
        lambda: remind_declarations_due(today, int(config["CERTIFY_DECLARATION_REMINDER_DAYS"])),
        lambda: warn_missed_declarations(today, limits),
        lambda: propose_reviews(today, limits),
        lambda: remind_assessments_due_soon(today, int(config["CERTIFY_ASSESSMENT_DUE_SOON_DAYS"])),
        lambda: remind_overdue_assessments(today),
        lambda: remind_pending_objections(today, int(config["CERTIFY_OBJECTION_REMINDER_DAYS"])),
    )
    return run_steps(steps, commit)


def run_steps(steps, commit=None) -> list[Sent]:
    """Each of ``steps`` (functions returning a ``Sent``) in turn; ``commit`` (if given) called
    after each."""
    results = []
    for step in steps:
        results.append(step())
        if commit is not None:
            commit()
    return results


@dataclass
class Upkeep:
    """What the daily run did besides reminding: certificate PDFs queued again or given up, and
    the audit event anchored (``None`` when nothing was committed)."""

    requeued: list[str]
    given_up: list[str]
    anchored: object = None


def daily_upkeep(commit) -> Upkeep:
    """Queue again the certificate PDFs whose rendering was lost, and — once that is committed —
    anchor the audit log's newest event in the file kept outside the database."""
    from certify.audit.anchors import record_anchor, write_anchor
    from certify.certificates.services import sweep_unrendered

    sweep = sweep_unrendered()
    done = Upkeep(list(sweep.requeued), list(sweep.given_up))
    if commit is None:
        return done
    commit()
    done.anchored = record_anchor()
    commit()
    write_anchor(done.anchored)
    return done
