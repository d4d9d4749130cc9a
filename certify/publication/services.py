"""Publication use cases: deciding on assessed applications, building a batch, running the
public notice with its objections, and announcing. Each function is one transaction's work;
the caller commits once. Status changes go through the workflow table."""

from collections import Counter
from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, defer, joinedload

from certify.applications.kinds import kind_of
from certify.applications.models import Application
from certify.applications.services import return_application
from certify.audit.models import AuditEvent
from certify.audit.services import record_event
from certify.auth.models import Role
from certify.certificates.services import issue_certificates
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.i18n import date_text
from certify.organisations.models import Organisation
from certify.publication.models import (
    ACTIVE_BATCH,
    Batch,
    BatchEntry,
    BatchStatus,
    Decision,
    DecisionOutcome,
    Objection,
    ObjectionStatus,
)
from certify.signals import batch_announced
from certify.timeutil import local_today, utcnow
from certify.uploads import save_upload
from certify.workflow import Action, Status, TransitionNotAllowed, check, transition, transition_all

MAX_REASON_LENGTH = 4000

OUTCOME_ACTIONS = {
    DecisionOutcome.APPROVED: Action.APPROVE,
    DecisionOutcome.REJECTED: Action.REJECT,
    DecisionOutcome.RETURNED: Action.RETURN,
}


def _require_admin(user) -> None:
    if user is None or user.role != Role.ADMIN:
        raise PermissionDenied(_l("Only administrators can do this."))


def notice_days() -> int:
    return int(current_app.config["CERTIFY_NOTICE_DAYS"])


# ---- decisions -------------------------------------------------------------------------------

# Workflow steps that only the application's assessors take.
_ASSESSOR_STEPS = ("application.accept", "application.report")


def has_assessed(user, application: Application) -> bool:
    """Whether ``user`` took part in assessing ``application`` (and so may not decide on it):
    the audit log shows them accepting or reporting its assessment, whatever their role now."""
    return db.session.execute(
        select(AuditEvent.id).where(
            AuditEvent.object_type == Application.__tablename__,
            AuditEvent.object_id == str(application.id),
            AuditEvent.actor_id == user.id,
            AuditEvent.action.in_(_ASSESSOR_STEPS)).limit(1)
    ).first() is not None


def decision_refusal(admin, application: Application, outcome: DecisionOutcome, reason: str):
    """Why ``admin`` may not take this decision now (a message), or ``None`` if they may."""
    if has_assessed(admin, application):
        return _l("You took part in assessing this application, so another administrator must "
                  "decide on it.")
    try:
        check(application, OUTCOME_ACTIONS[outcome], admin)
    except TransitionNotAllowed as refusal:
        return refusal.message
    if outcome != DecisionOutcome.APPROVED and not (reason or "").strip():
        return _l("A rejection or a return needs a reason the applicant can read.")
    return None


def decide(admin, application: Application, outcome: DecisionOutcome, reason: str = "") -> Decision:
    """Approve, reject or return an assessed application, with the reason recorded."""
    _require_admin(admin)
    outcome = DecisionOutcome(outcome)
    reason = (reason or "").strip()[:MAX_REASON_LENGTH]
    refusal = decision_refusal(admin, application, outcome, reason)
    if refusal is not None:
        raise ServiceError(refusal, field="reason")
    if outcome == DecisionOutcome.RETURNED:
        return_application(admin, application, note=reason)
    else:
        transition(application, OUTCOME_ACTIONS[outcome], admin, reason=reason)
    decision = Decision(application=application, outcome=outcome, reason=reason,
                        decided_by_id=admin.id, decided_at=utcnow())
    db.session.add(decision)
    return decision


def preview_decisions(admin, applications, outcome: DecisionOutcome, reason: str = ""):
    """For a bulk decision: each application with ``None`` (will be decided) or the reason it
    will be left out. Nothing changes."""
    outcome = DecisionOutcome(outcome)
    return [(application, decision_refusal(admin, application, outcome, reason))
            for application in applications]


def decide_many(admin, applications, outcome: DecisionOutcome, reason: str = "") -> list[Decision]:
    """Decide every application of the preview that may be decided; skip the others."""
    _require_admin(admin)
    decisions = []
    for application, refusal in preview_decisions(admin, applications, outcome, reason):
        if refusal is None:
            decisions.append(decide(admin, application, outcome, reason))
    return decisions


# ---- batches ---------------------------------------------------------------------------------

def create_batch(admin, *, title: str, kinds, notice_starts_on: date | None = None,
                 notice_ends_on: date | None = None) -> Batch:
    _require_admin(admin)
    title = (title or "").strip()
    if not title:
        raise ServiceError(_l("Give the batch a title."), field="title")
    kinds = sorted({kind_of(kind).key for kind in kinds})
    if not kinds:
        raise ServiceError(_l("Choose at least one kind of recognition."), field="kinds")
    today = local_today()
    starts = notice_starts_on or today
    ends = notice_ends_on or starts + timedelta(days=notice_days() - 1)
    if starts < today:
        raise ServiceError(_l("The notice cannot start before today (%(today)s).", today=date_text(today)),
                           field="notice_starts_on")
    if ends < starts:
        raise ServiceError(_l("The notice cannot end before it starts."), field="notice_ends_on")
    if notice_length(starts, ends) < notice_days():
        raise ServiceError(_l("A notice lasts at least %(days)d days, both ends included: from %(start)s it "
                              "ends on %(end)s at the earliest.", days=notice_days(), start=date_text(starts),
                              end=date_text(starts + timedelta(days=notice_days() - 1))),
                           field="notice_ends_on")
    batch = Batch(title=title[:200], kinds=kinds, notice_starts_on=starts, notice_ends_on=ends,
                  created_by_id=admin.id)
    db.session.add(batch)
    record_event("batch.created", actor=admin, obj=batch, details={
        "title": batch.title, "kinds": kinds, "notice": [starts.isoformat(), ends.isoformat()]})
    return batch


def _require_draft(batch: Batch) -> None:
    if batch.status != BatchStatus.DRAFT:
        raise ServiceError(_l("The batch's notice has already been opened; it cannot be changed."))


def on_active_batch(application: Application) -> Batch | None:
    """The batch (not yet announced) the application is on, if any."""
    return db.session.execute(
        select(Batch).join(BatchEntry).where(
            BatchEntry.application_id == application.id, BatchEntry.removed_at.is_(None),
            Batch.status.in_(ACTIVE_BATCH))
    ).scalars().first()


# The draft batch page offers this many addable applications at a time: those added leave the
# list and the next ones take their place; a search finds a particular one.
ADDABLE_SHOWN = 50


def _addable_conditions(batch: Batch, search: str) -> list:
    """The conditions on an application (joined with its organisation) that may join ``batch``:
    approved, of the batch's kinds, on no other batch, its organisation's name or its subject
    containing ``search`` when one is given."""
    on_batches = select(BatchEntry.application_id).join(Batch).where(
        BatchEntry.removed_at.is_(None), Batch.status.in_(ACTIVE_BATCH))
    conditions = [Application.status == Status.APPROVED,
                  Application.kind.in_(list(batch.kinds)),
                  Application.id.not_in(on_batches)]
    if search:
        conditions.append(or_(Organisation.name.contains(search, autoescape=True),
                              Application.subject.contains(search, autoescape=True)))
    return conditions


def addable_applications(batch: Batch, search: str = "", limit: int = ADDABLE_SHOWN) -> list[Application]:
    """The first ``limit`` applications that may join ``batch``, oldest first (see
    ``_addable_conditions``)."""
    return db.session.execute(
        select(Application).join(Application.organisation)
        .options(contains_eager(Application.organisation))
        .where(*_addable_conditions(batch, search)).order_by(Application.id).limit(limit)
    ).scalars().all()


def count_addable(batch: Batch, search: str = "") -> int:
    """How many applications may join ``batch`` (see ``_addable_conditions``)."""
    return db.session.execute(
        select(func.count()).select_from(Application).join(Application.organisation)
        .where(*_addable_conditions(batch, search))
    ).scalar_one()


def add_to_batch(admin, batch: Batch, applications) -> list[BatchEntry]:
    _require_admin(admin)
    _require_draft(batch)
    entries = []
    for application in applications:
        if application.status != Status.APPROVED:
            raise ServiceError(_l("Only approved applications can be put on a batch (%(reference)s).",
                                  reference=application.reference))
        if application.kind not in batch.kinds:
            raise ServiceError(_l("%(reference)s is not of a kind this batch lists.",
                                  reference=application.reference))
        if on_active_batch(application) is not None:
            raise ServiceError(_l("%(reference)s is already on a batch.", reference=application.reference))
        entry = BatchEntry(batch=batch, application=application, added_at=utcnow())
        db.session.add(entry)
        db.session.flush()
        entries.append(entry)
    if entries:
        record_event("batch.entries_added", actor=admin, obj=batch,
                     details={"applications": [e.application_id for e in entries]})
    return entries


def remove_from_batch(admin, batch: Batch, entry: BatchEntry) -> None:
    _require_admin(admin)
    _require_draft(batch)
    if entry.batch_id != batch.id:
        raise ServiceError(_l("That entry is not on this batch."))
    db.session.delete(entry)
    record_event("batch.entry_removed", actor=admin, obj=batch,
                 details={"application_id": entry.application_id})


def open_notice(admin, batch: Batch) -> None:
    """Publish the batch for public notice: every entry goes under notice."""
    _require_admin(admin)
    _require_draft(batch)
    if not batch.current_entries:
        raise ServiceError(_l("Add at least one approved application before opening the notice."))
    planned = [batch.notice_starts_on.isoformat(), batch.notice_ends_on.isoformat()]
    batch.notice_starts_on, batch.notice_ends_on = notice_dates(batch)
    for entry in batch.current_entries:
        transition(entry.application, Action.OPEN_NOTICE, admin,
                   details={"batch_id": batch.id})
    batch.status = BatchStatus.IN_NOTICE
    batch.notice_opened_at = utcnow()
    notice = [batch.notice_starts_on.isoformat(), batch.notice_ends_on.isoformat()]
    record_event("batch.notice_opened", actor=admin, obj=batch, details={
        "notice": notice, "entries": len(batch.current_entries)} | ({"planned": planned} if planned != notice else {}))


def notice_length(starts: date, ends: date) -> int:
    """A notice's length in days, both ends included."""
    return (ends - starts).days + 1


def notice_dates(batch: Batch, today: date | None = None) -> tuple[date, date]:
    """The days a draft batch's notice runs if opened ``today``: as planned, except that it never
    starts in the past and never lasts less than ``CERTIFY_NOTICE_DAYS`` (a planned start that has
    passed moves to today, keeping the planned length)."""
    today = today or local_today()
    starts = max(batch.notice_starts_on, today)
    length = max(notice_length(batch.notice_starts_on, batch.notice_ends_on), notice_days())
    return starts, starts + timedelta(days=length - 1)


def notice_is_running(batch: Batch, today: date | None = None) -> bool:
    today = today or local_today()
    return (batch.status == BatchStatus.IN_NOTICE
            and batch.notice_starts_on <= today <= batch.notice_ends_on)


# ---- objections ------------------------------------------------------------------------------

def file_objection(batch: Batch, entry: BatchEntry, *, name: str, contact: str, text: str,
                   evidence=None, evidence_name: str | None = None) -> Objection:
    """Anyone may object to an entry while its notice runs; an optional evidence file is
    checked like any upload."""
    if not notice_is_running(batch):
        raise ServiceError(_l("Objections can be raised only while the notice runs."))
    if entry.batch_id != batch.id or entry.removed_at is not None:
        raise ServiceError(_l("This entry is not on the notice."))
    name, contact, text = (name or "").strip(), (contact or "").strip(), (text or "").strip()
    if not name or not contact:
        raise ServiceError(_l("Give your name and a way to contact you."), field="name")
    if len(text) < 10:
        raise ServiceError(_l("Describe the objection and the facts behind it."), field="text")
    objection = Objection(batch=batch, entry=entry, name=name[:100], contact=contact[:200],
                          text=text[:MAX_REASON_LENGTH])
    if evidence is not None:
        saved = save_upload(evidence, evidence_name)
        objection.evidence_sha256 = saved.sha256
        objection.evidence_name = saved.display_name
        objection.evidence_content_type = saved.content_type
    db.session.add(objection)
    record_event("objection.filed", obj=objection, details={
        "batch_id": batch.id, "application_id": entry.application_id,
        "evidence": objection.evidence_sha256})
    return objection


def open_objections(batch: Batch) -> int:
    return db.session.execute(
        select(func.count()).select_from(Objection).where(
            Objection.batch_id == batch.id, Objection.status == ObjectionStatus.OPEN)
    ).scalar_one()


def resolve_objection(admin, objection: Objection, *, upheld: bool, reason: str) -> None:
    """Uphold (the entry leaves the batch and goes back to decision) or dismiss (with a reason
    the objector can read through their private link)."""
    _require_admin(admin)
    if objection.status != ObjectionStatus.OPEN:
        raise ServiceError(_l("This objection has already been resolved."))
    reason = (reason or "").strip()[:MAX_REASON_LENGTH]
    if not reason:
        raise ServiceError(_l("Give the reason for the resolution; the objector will read it."),
                           field="reason")
    objection.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED
    objection.resolution = reason
    objection.resolved_by_id = admin.id
    objection.resolved_at = utcnow()
    entry = objection.entry
    if upheld and entry.removed_at is None:
        entry.removed_at = objection.resolved_at
        entry.removal_reason = reason
        transition(entry.application, Action.UPHOLD_OBJECTION, admin, reason=reason,
                   details={"batch_id": objection.batch_id, "objection_id": objection.id})
    record_event("objection.upheld" if upheld else "objection.dismissed", actor=admin,
                 obj=objection, details={"reason": reason, "application_id": entry.application_id})


# ---- announcement ----------------------------------------------------------------------------

def announcement_refusal(batch: Batch, today: date | None = None):
    """Why the batch cannot be announced now, or ``None``."""
    today = today or local_today()
    if batch.status != BatchStatus.IN_NOTICE:
        return _l("Only a batch under notice can be announced.")
    if today <= batch.notice_ends_on:
        return _l("The notice runs until %(date)s; the batch can be announced after that day.",
                  date=date_text(batch.notice_ends_on))
    if open_objections(batch):
        return _l("Every objection must be resolved before the batch is announced.")
    return None


def announce(admin, batch: Batch) -> list:
    """List every remaining entry and issue its certificate (rendered after commit)."""
    _require_admin(admin)
    refusal = announcement_refusal(batch)
    if refusal is not None:
        raise ServiceError(refusal)
    entries = _current_entries(batch)
    applications = [entry.application for entry in entries]
    batch.status = BatchStatus.ANNOUNCED
    batch.kind_counts = dict(Counter(application.kind for application in applications))
    batch.announced_at = utcnow()
    batch.announced_by_id = admin.id
    # Before the entries: what receivers queue (the public files: quick) runs after the commit
    # ahead of the certificates' rendering.
    batch_announced.send(batch, actor=admin)
    transition_all(applications, Action.ANNOUNCE, admin, details={"batch_id": batch.id})
    certificates = issue_certificates(applications, admin)
    record_event("batch.announced", actor=admin, obj=batch,
                 details={"applications": [entry.application_id for entry in entries]})
    return certificates


# Read with every entry of a batch by ``announce``, which needs none of them: an application's
# self-assessment (several JSON documents).
_NOT_ANNOUNCED = (Application.answers, Application.answer_texts, Application.remarks,
                  Application.not_applicable)


def _current_entries(batch: Batch) -> list[BatchEntry]:
    """``batch.current_entries`` with their applications, in one query, without the
    applications' self-assessments."""
    return db.session.execute(
        select(BatchEntry).where(BatchEntry.batch_id == batch.id, BatchEntry.removed_at.is_(None))
        .options(joinedload(BatchEntry.application).options(*(defer(column) for column in _NOT_ANNOUNCED)))
        .order_by(BatchEntry.id)).unique().scalars().all()
