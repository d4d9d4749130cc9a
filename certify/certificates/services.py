"""Certificates: issuing on announcement, rendering the PDF (a job), revoking and expiring; and
replacing the key that signs them.

Each use case runs in the caller's transaction and writes an audit event; the caller commits
once. Rendering happens only after that commit (``call_after_commit``), in a job that opens its
own session, so a rolled-back announcement renders nothing.

A rendering that fails is tried again on the workers (``RENDER_RETRY_INTERVALS``). One that never
finishes — its process killed, a worker lost — is found by ``sweep_unrendered`` (run by
``flask certificates sweep`` and ``flask reminders send``) and queued again, a few times at most.
The PDF a certificate names is trusted only when its ``certificate.rendered`` audit event (kept
with the audit key) records the same sha256 and the stored bytes have it
(``issued_pdf``, ``certificate_file_problems``).
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from certify import storage
from certify.applications.models import Application
from certify.audit.models import AuditEvent
from certify.audit.services import event_is_authentic, pending_event, record_event, record_events
from certify.auth.models import Role
from certify.certificates.models import (
    REASON_TEXTS,
    REMOVAL_GROUNDS,
    Certificate,
    CertificateStatus,
    RenderState,
    RevocationReason,
)
from certify.certificates.numbers import allocate_sequences, format_number, number_prefix
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.jobs import RetryLater, call_after_commit, retried
from certify.signals import certificates_changed
from certify.timeutil import LOCAL_TIMEZONE, as_utc, local_today, utcnow
from certify.workflow import Action, Status, transition

log = logging.getLogger(__name__)

DEFAULT_VALIDITY_YEARS = 3
# Certificates rendered by one job: a batch's jobs still spread over every worker, and the
# queue's own cost per job (~4 ms) is paid once per ten PDFs instead of once per PDF, as is the
# transaction that records them (the audit chain's lock, the commit).
RENDER_JOB_SIZE = 10
# On the workers a rendering that failed runs again after 30 s, 2 min and 10 min.
RENDER_RETRY_INTERVALS = (30, 120, 600)
# Times in a row the sweep queues one certificate again; then it is left (marked failed) for the
# department to render again once the cause is fixed.
MAX_SWEEPS = 3
RENDERED = "certificate.rendered"
RENDER_FAILED = "certificate.render_failed"
RENDER_REQUEUED = "certificate.render_requeued"
# Events after which a certificate's PDF is (again) awaited: the sweep counts from the last one.
_RENDER_REQUESTS = ("certificate.issued", "certificate.render_requested")
_MAX_NOTE = 2000
_MAX_ERROR = 2000


def _require_admin(user) -> None:
    if user is None or user.role != Role.ADMIN:
        raise PermissionDenied(_l("Only the department can do this."))


def validity_years() -> int:
    """``CERTIFY_CERTIFICATE_VALIDITY_YEARS`` (default three, the re-examination cycle)."""
    years = current_app.config.get("CERTIFY_CERTIFICATE_VALIDITY_YEARS")
    return int(years or DEFAULT_VALIDITY_YEARS)


def last_valid_day(first_day: date, years: int) -> date:
    """The last day of a validity of ``years`` starting on ``first_day``: the day before the
    same date ``years`` later (a certificate of 29 February ends on 28 February)."""
    try:
        anniversary = first_day.replace(year=first_day.year + years)
    except ValueError:  # 29 February, in a year that has none
        anniversary = first_day.replace(year=first_day.year + years, day=28) + timedelta(days=1)
    return anniversary - timedelta(days=1)


def certificate_for(application: Application) -> Certificate | None:
    """The certificate issued for ``application``, if any."""
    return db.session.execute(
        select(Certificate).where(Certificate.application_id == application.id)
    ).scalar_one_or_none()


def certificates_by_application(application_ids) -> dict[int, Certificate]:
    """Application id -> its certificate, for the applications among ``application_ids`` that
    have one (one query, for list pages)."""
    ids = list(set(application_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(Certificate).where(Certificate.application_id.in_(ids))).scalars()
    return {certificate.application_id: certificate for certificate in rows}


def replacing_applications(application_ids) -> dict[int, Application]:
    """Application id -> the application holding the certificate that replaced its certificate
    (a pilot's listing replaced at its recognition), for those among ``application_ids`` whose
    certificate was replaced (one query, for list pages)."""
    ids = list(set(application_ids))
    if not ids:
        return {}
    successor = aliased(Certificate)
    rows = db.session.execute(
        select(Certificate.application_id, Application)
        .join(successor, Certificate.superseded_by_id == successor.id)
        .join(Application, Application.id == successor.application_id)
        .where(Certificate.application_id.in_(ids))).all()
    return {replaced: application for replaced, application in rows}


def find_by_number(number: str) -> Certificate | None:
    """The certificate with this (already normalised) number, if any."""
    if not number:
        return None
    return db.session.execute(
        select(Certificate).where(Certificate.number == number)).scalar_one_or_none()


def find_by_pdf(sha256: str) -> Certificate | None:
    """The certificate whose issued PDF has this sha256, if any."""
    return db.session.execute(
        select(Certificate).where(Certificate.pdf_sha256 == sha256).limit(1)).scalar_one_or_none()


def issue_certificate(application: Application, actor, *,
                      now: datetime | None = None, is_recognition: bool = False) -> Certificate:
    """Issue the certificate of a listed application, in the caller's transaction.

    Idempotent: an application that already has a certificate gets that one back, and nothing
    else happens. Otherwise the next number of the kind and year is taken (atomically, see
    ``numbers``), the organisation, subject, rule set and standard are copied as they are now,
    the issue is audited as ``certificate.issued``, and the PDF is rendered by a job once the
    transaction commits. The application's status is the announcement's business, not this one's.
    ``is_recognition``: the certificate of a zero-carbon unit recognised at the acceptance of its
    pilot, stating the kind's recognition title (``certify.pilots``).
    """
    return issue_certificates([application], actor, now=now, is_recognition=is_recognition)[0]


def issue_certificates(applications: list[Application], actor, *,
                       now: datetime | None = None, is_recognition: bool = False) -> list[Certificate]:
    """``issue_certificate`` for each of ``applications`` (a batch announcement), in order:
    the certificates already issued and the rule sets' standards are read in one query each,
    and the numbers of each kind in one statement each (consecutive, in the order given)."""
    _require_admin(actor)
    existing = certificates_by_application(application.id for application in applications)
    new = [application for application in applications if application.id not in existing]
    if any(application.status != Status.LISTED for application in new):
        raise ServiceError(_l("A certificate is issued only for a listed application."))
    now = now or utcnow()
    first_day = now.astimezone(LOCAL_TIMEZONE).date()
    standards = _standards(new)
    sequences = {}
    for kind in dict.fromkeys(application.kind for application in new):
        of_kind = [application for application in new if application.kind == kind]
        sequences |= zip((application.id for application in of_kind),
                         allocate_sequences(kind, first_day.year, len(of_kind)), strict=True)
    issued = [_issue(application, actor, now, first_day, sequences[application.id],
                     standards.get(application.rule_set_sha256) or {}, is_recognition)
              for application in new]
    if issued:
        # One flush gives every certificate its id (a few multi-row INSERTs for a batch), and
        # their ``certificate.issued`` events join the audit chain in one bulk append, in order:
        # the same rows as one ``record_event`` each, without a flush and an INSERT per event.
        db.session.flush()
        recorded = utcnow()
        record_events([_issued_event(certificate, actor, recorded) for certificate in issued])
    for start in range(0, len(issued), RENDER_JOB_SIZE):
        _queue_render(*issued[start:start + RENDER_JOB_SIZE])
    existing |= {certificate.application_id: certificate for certificate in issued}
    return [existing[application.id] for application in applications]


def _standards(applications) -> dict[str, dict]:
    """Rule set sha256 -> the standard its frozen copy names, read from one application per
    rule set (only that part of the rule set is read: the whole of it is large; and the copies
    frozen from one rule set are the same, which their sha256 says)."""
    readers = {}
    for application in applications:
        readers.setdefault(application.rule_set_sha256, application.id)
    if not readers:
        return {}
    rows = db.session.execute(select(Application.rule_set_sha256, Application.rule_set_frozen["standard"])
                              .where(Application.id.in_(readers.values())))
    return {sha256: standard or {} for sha256, standard in rows}


def _issue(application: Application, actor, now: datetime, first_day: date, sequence: int,
           standard: dict, is_recognition: bool = False) -> Certificate:
    """A new certificate (added to the session; its ``certificate.issued`` event is the
    caller's, see ``_issued_event``)."""
    organisation = application.organisation
    certificate = Certificate(
        application_id=application.id, kind=application.kind, year=first_day.year,
        sequence=sequence,
        number=format_number(number_prefix(), application.kind, first_day.year, sequence),
        organisation_name=organisation.name, credit_code=organisation.credit_code or "",
        subject=application.subject,
        rule_set_id=application.rule_set_id, rule_set_version=application.rule_set_version,
        standard_code=standard.get("code", ""),
        standard_title_zh=(standard.get("title") or {}).get("zh", ""),
        standard_title_en=(standard.get("title") or {}).get("en", ""),
        issued_at=now, issued_by_id=actor.id,
        valid_from=first_day, valid_until=last_valid_day(first_day, validity_years()),
        status=CertificateStatus.VALID, render_state=RenderState.PENDING, is_recognition=is_recognition,
    )
    db.session.add(certificate)
    return certificate


def _issued_event(certificate: Certificate, actor, recorded: datetime) -> dict:
    """The ``certificate.issued`` event of a certificate that has its id (for ``record_events``)."""
    return pending_event("certificate.issued", actor=actor, obj=certificate, created_at=recorded, details={
        "number": certificate.number, "application_id": certificate.application_id,
        "organisation": certificate.organisation_name, "credit_code": certificate.credit_code,
        "valid_from": certificate.valid_from.isoformat(), "valid_until": certificate.valid_until.isoformat()}
        | ({"recognition": True} if certificate.is_recognition else {}))


def _queue_render(*certificates: Certificate) -> None:
    call_after_commit(render_certificates, [certificate.id for certificate in certificates])


def render_again(admin, certificate: Certificate) -> None:
    """Queue another rendering of a certificate whose PDF failed or never came (after the
    cause, e.g. a missing ``CERTIFY_BASE_URL``, has been fixed)."""
    _require_admin(admin)
    if certificate.render_state == RenderState.RENDERED:
        raise ServiceError(_l("This certificate's PDF has already been made; "
                              "it is never made twice."))
    certificate.render_state = RenderState.PENDING
    certificate.render_error = None
    record_event("certificate.render_requested", actor=admin, obj=certificate,
                 details={"number": certificate.number})
    _queue_render(certificate)


def unrendered_certificate_ids() -> list[int]:
    """Certificates whose PDF is still pending or failed, oldest first."""
    return list(db.session.execute(
        select(Certificate.id).where(Certificate.render_state != RenderState.RENDERED)
        .order_by(Certificate.id)).scalars())


@retried(*RENDER_RETRY_INTERVALS)
def render_certificates(certificate_ids: list[int]) -> None:
    """Job: ``render_certificate`` for each id, the certificates read in one query and those
    made recorded together, in one transaction (each with its ``certificate.rendered`` event,
    as ``render_certificate`` records one): the two workers of a batch then take the audit
    chain's lock once per job, not once per certificate. A failure is recorded on its own, as
    ``render_certificate`` records it. When one failed, ``RetryLater`` has the workers run the
    job again later (the certificates made meanwhile are skipped)."""
    wanted = db.session.execute(
        select(Certificate).where(Certificate.id.in_(certificate_ids))).scalars().all()
    by_id = {certificate.id: certificate for certificate in wanted}
    made, failed = [], []
    for certificate_id in certificate_ids:
        certificate = by_id.get(certificate_id)
        if certificate is None or certificate.render_state == RenderState.RENDERED:
            continue
        try:
            made.append((certificate_id, certificate.number, *_make_pdf(certificate)))
        except Exception as exc:  # noqa: BLE001 - any failure is recorded for the admin to see
            log.exception("Rendering certificate %s failed", certificate_id)
            failed.append((certificate_id, certificate.number, exc))
    db.session.rollback()  # the reads' transaction: the chain's lock is taken just before writing
    for certificate_id, number, stored, signer in made:
        _record_rendered(certificate_id, number, stored, signer)
    db.session.commit()
    for certificate_id, number, exc in failed:
        _record_render_failure(certificate_id, number, exc)
    if failed:
        raise RetryLater(f"{len(failed)} of {len(certificate_ids)} certificate PDF(s) failed: "
                         f"ids {[certificate_id for certificate_id, _, _ in failed]}")


def render_certificate(certificate_id: int) -> bool:
    """Job: render, sign (when a key is configured) and store one certificate's PDF, once;
    return ``False`` when it failed.

    Runs in an application context of its own (see ``certify.jobs``), so ``db.session`` here is
    the job's own. A certificate already rendered is left alone, and of two runs at once only
    the first to record its file wins. Failures are recorded on the certificate and audited
    (the admin sees them and can render again); they are never raised into the transaction
    that queued it.
    """
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.render_state == RenderState.RENDERED:
        return True
    try:
        stored, signer = _make_pdf(certificate)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded for the admin to see
        log.exception("Rendering certificate %s failed", certificate_id)
        number = certificate.number
        db.session.rollback()
        _record_render_failure(certificate_id, number, exc)
        return False
    _record_rendered(certificate_id, certificate.number, stored, signer)
    db.session.commit()
    return True


def _make_pdf(certificate: Certificate):
    """Render, sign (when a key is configured) and store the certificate's PDF; the stored file
    and the signer (``None`` unsigned). Writes nothing to the database."""
    from certify.certificates.rendering import certificate_pdf

    pdf, signer = certificate_pdf(certificate)
    return storage.store_bytes(pdf), signer


def _record_rendered(certificate_id: int, number: str, stored, signer) -> None:
    """Record a stored PDF on its certificate, with its ``certificate.rendered`` event, in the
    current transaction, unless the certificate has a PDF already (another run was first)."""
    claimed = db.session.execute(
        update(Certificate)
        .where(Certificate.id == certificate_id, Certificate.render_state != RenderState.RENDERED)
        .values(render_state=RenderState.RENDERED, render_error=None, rendered_at=utcnow(),
                pdf_sha256=stored.sha256, pdf_size=stored.size, is_signed=signer is not None,
                signer_subject=signer.subject if signer else None,
                signer_fingerprint=signer.fingerprint if signer else None)
    ).rowcount
    if claimed:
        # In the keyed audit log: the sha256 in the table is trusted only when this agrees.
        record_event(RENDERED, object_type="certificates", object_id=certificate_id,
                     details={"number": number, "sha256": stored.sha256,
                              "size": stored.size, "signed": signer is not None})


def _record_render_failure(certificate_id: int, number: str, error: Exception) -> None:
    message = f"{type(error).__name__}: {error}"[:_MAX_ERROR]
    failed = db.session.execute(
        update(Certificate)
        .where(Certificate.id == certificate_id, Certificate.render_state != RenderState.RENDERED)
        .values(render_state=RenderState.FAILED, render_error=message)).rowcount
    if failed:
        record_event(RENDER_FAILED, object_type="certificates", object_id=certificate_id,
                     details={"number": number, "error": message})
    db.session.commit()


def sweep_minutes() -> int:
    """``CERTIFY_RENDER_SWEEP_MINUTES`` (default 15): how long a certificate may wait for its
    PDF before the sweep queues it again and ``flask doctor`` reports it."""
    return int(current_app.config["CERTIFY_RENDER_SWEEP_MINUTES"])


@dataclass(frozen=True)
class WaitingRender:
    """A certificate still without its PDF: since when it waits (its last request, re-queueing
    or failure) and how many times the sweep has queued it again since it was last requested."""

    certificate_id: int
    number: str
    state: RenderState
    since: datetime
    sweeps: int
    error: str | None


def waiting_renders() -> list[WaitingRender]:
    """Every certificate whose PDF is pending or failed, oldest first."""
    rows = db.session.execute(
        select(Certificate.id, Certificate.number, Certificate.render_state, Certificate.issued_at,
               Certificate.render_error)
        .where(Certificate.render_state != RenderState.RENDERED).order_by(Certificate.id)).all()
    history = _render_history([row.id for row in rows])
    waiting = []
    for row in rows:
        since, sweeps = as_utc(row.issued_at), 0
        for action, at in history.get(row.id, ()):
            since = max(since, as_utc(at))
            sweeps = 0 if action in _RENDER_REQUESTS else sweeps + (action == RENDER_REQUEUED)
        waiting.append(WaitingRender(row.id, row.number, RenderState(row.render_state), since,
                                     sweeps, row.render_error))
    return waiting


def _render_history(certificate_ids: list[int]) -> dict[int, list[tuple[str, datetime]]]:
    """Certificate id -> its rendering events (requests, re-queueings, failures), in order."""
    history: dict[int, list] = {}
    keys = [str(certificate_id) for certificate_id in certificate_ids]
    for start in range(0, len(keys), 500):
        rows = db.session.execute(
            select(AuditEvent.object_id, AuditEvent.action, AuditEvent.created_at)
            .where(AuditEvent.object_type == "certificates",
                   AuditEvent.object_id.in_(keys[start:start + 500]),
                   AuditEvent.action.in_((*_RENDER_REQUESTS, RENDER_REQUEUED, RENDER_FAILED)))
            .order_by(AuditEvent.id))
        for object_id, action, created_at in rows:
            history.setdefault(int(object_id), []).append((action, created_at))
    return history


def overdue_renders(now: datetime | None = None, after: timedelta | None = None) -> list[WaitingRender]:
    """The waiting certificates nothing has happened to for ``after`` (default
    ``sweep_minutes()``)."""
    now = now or utcnow()
    after = timedelta(minutes=sweep_minutes()) if after is None else after
    return [waiting for waiting in waiting_renders() if now - waiting.since >= after]


@dataclass(frozen=True)
class Sweep:
    """What a sweep did: the numbers queued again, and those given up (now marked failed)."""

    requeued: list[str]
    given_up: list[str]


def sweep_unrendered(now: datetime | None = None, after: timedelta | None = None) -> Sweep:
    """Queue again the PDF of every certificate pending (its rendering lost: a process killed,
    a worker gone) or failed for ``after`` (default ``sweep_minutes()``), at most ``MAX_SWEEPS``
    times since it was last requested; a pending one past that is marked failed, for the
    department to render again. Each step is audited; renders run after the caller commits."""
    requeued, given_up = [], []
    for waiting in overdue_renders(now, after):
        if waiting.sweeps < MAX_SWEEPS:
            if _requeue(waiting):
                requeued.append(waiting)
        elif waiting.state == RenderState.PENDING and _give_up(waiting):
            given_up.append(waiting)
    for start in range(0, len(requeued), RENDER_JOB_SIZE):
        call_after_commit(render_certificates,
                          [waiting.certificate_id for waiting in requeued[start:start + RENDER_JOB_SIZE]])
    return Sweep([waiting.number for waiting in requeued], [waiting.number for waiting in given_up])


def _requeue(waiting: WaitingRender) -> bool:
    # Conditional, never over a PDF that a worker recorded meanwhile.
    changed = db.session.execute(
        update(Certificate)
        .where(Certificate.id == waiting.certificate_id, Certificate.render_state == waiting.state)
        .values(render_state=RenderState.PENDING, render_error=None)).rowcount
    if changed:
        record_event(RENDER_REQUEUED, object_type="certificates", object_id=waiting.certificate_id,
                     details={"number": waiting.number, "was": waiting.state.value,
                              "attempt": waiting.sweeps + 1, "error": waiting.error})
    return bool(changed)


def _give_up(waiting: WaitingRender) -> bool:
    message = (f"The PDF was not made after being queued {MAX_SWEEPS + 1} times (the process "
               "making it stopped each time); render it again once the cause is found.")
    changed = db.session.execute(
        update(Certificate)
        .where(Certificate.id == waiting.certificate_id,
               Certificate.render_state == RenderState.PENDING)
        .values(render_state=RenderState.FAILED, render_error=message)).rowcount
    if changed:
        record_event(RENDER_FAILED, object_type="certificates", object_id=waiting.certificate_id,
                     details={"number": waiting.number, "error": message})
    return bool(changed)


class PdfWithheld(Exception):
    """The stored PDF does not agree with the record of the certificate it was made for."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def rendered_event(certificate_id: int) -> AuditEvent | None:
    """The ``certificate.rendered`` event of a certificate (the last, if ever more than one)."""
    return db.session.execute(
        select(AuditEvent).where(AuditEvent.action == RENDERED,
                                 AuditEvent.object_type == "certificates",
                                 AuditEvent.object_id == str(certificate_id))
        .order_by(AuditEvent.id.desc()).limit(1)).scalar_one_or_none()


def recorded_pdf_sha256(certificate: Certificate) -> str | None:
    """The sha256 of the certificate's PDF as the audit log records it, when that event's own
    hash checks; ``None`` otherwise."""
    event = rendered_event(certificate.id)
    if event is None or not event_is_authentic(event):
        return None
    return (event.details or {}).get("sha256")


def issued_pdf(certificate: Certificate) -> bytes | None:
    """The certificate's PDF as issued, or ``None`` while it has none. Raises ``PdfWithheld``
    unless the certificate's sha256, its ``certificate.rendered`` event and the stored bytes
    all agree (a swapped or replaced file is never served)."""
    if certificate.render_state != RenderState.RENDERED:
        return None
    try:
        if not storage.exists(certificate.pdf_sha256):
            return None
    except storage.InvalidDigest:
        raise PdfWithheld(f"{certificate.pdf_sha256!r} is not a sha256") from None
    event = rendered_event(certificate.id)
    with storage.open_file(certificate.pdf_sha256) as handle:
        data = handle.read()
    problem = _pdf_problem(certificate.pdf_sha256, event,
                           event is not None and event_is_authentic(event),
                           hashlib.sha256(data).hexdigest())
    if problem:
        log.error("Certificate %s: PDF withheld: %s", certificate.number, problem)
        raise PdfWithheld(problem)
    return data


def _pdf_problem(named: str, event, authentic: bool, stored: str | None) -> str | None:
    """Why a rendered certificate's PDF cannot be trusted: ``named`` is the sha256 the
    certificate names, ``event`` its rendered event, ``stored`` the sha256 of the stored bytes
    (``None`` when the file is missing)."""
    if event is None:
        return "no certificate.rendered event records its PDF"
    if not authentic:
        return f"its certificate.rendered event {event.id} does not check against the audit log's key"
    recorded = (event.details or {}).get("sha256")
    if named != recorded:
        return (f"it names the PDF {named[:12]}…, but its certificate.rendered event {event.id} "
                f"records {str(recorded)[:12]}…")
    if stored is None:
        return f"the PDF {named[:12]}… is missing from storage"
    if stored != named:
        return f"the stored bytes of {named[:12]}… have the sha256 {stored[:12]}…"
    return None


@dataclass(frozen=True)
class FileProblem:
    """A certificate whose PDF or its record does not agree."""

    certificate_id: int
    number: str
    reason: str


def certificate_file_problems(batch_size: int = 500) -> tuple[int, list[FileProblem]]:
    """Check every certificate against its ``certificate.rendered`` event and the bytes in
    storage; return how many were checked and every disagreement (a PDF named by the wrong
    certificate says whose it is)."""
    events = _rendered_events()
    owners = {(event.details or {}).get("sha256"): certificate_id
              for certificate_id, (event, authentic) in events.items() if authentic}
    stored_hashes: dict[str, str | None] = {}
    checked, problems, last_id = 0, [], 0
    while True:
        rows = db.session.execute(
            select(Certificate.id, Certificate.number, Certificate.render_state, Certificate.pdf_sha256)
            .where(Certificate.id > last_id).order_by(Certificate.id).limit(batch_size)).all()
        if not rows:
            break
        for row in rows:
            checked += 1
            last_id = row.id
            event, authentic = events.get(row.id, (None, False))
            if row.render_state != RenderState.RENDERED:
                if event is not None:
                    problems.append(FileProblem(row.id, row.number, (
                        f"marked {RenderState(row.render_state).value}, but its PDF was recorded as "
                        f"made (event {event.id})")))
                continue
            if row.pdf_sha256 not in stored_hashes:
                stored_hashes[row.pdf_sha256] = _stored_sha256(row.pdf_sha256)
            problem = _pdf_problem(row.pdf_sha256, event, authentic, stored_hashes[row.pdf_sha256])
            if problem and row.pdf_sha256 in owners and owners[row.pdf_sha256] != row.id:
                problem += f"; the PDF it names is that of {_number_of(owners[row.pdf_sha256])}"
            if problem:
                problems.append(FileProblem(row.id, row.number, problem))
    return checked, problems


def _rendered_events() -> dict[int, tuple[AuditEvent, bool]]:
    """Certificate id -> its last rendered event and whether that event's hash checks."""
    found = {}
    query = (select(AuditEvent).where(AuditEvent.action == RENDERED,
                                      AuditEvent.object_type == "certificates")
             .order_by(AuditEvent.id).execution_options(yield_per=1000))
    for event in db.session.execute(query).scalars():
        found[int(event.object_id)] = (event, event_is_authentic(event))
    return found


def _stored_sha256(sha256: str) -> str | None:
    try:
        if not sha256 or not storage.exists(sha256):
            return None
    except storage.InvalidDigest:
        return None
    return storage.sha256_of_stored(storage.storage(), sha256)


def _number_of(certificate_id: int) -> str:
    return db.session.execute(
        select(Certificate.number).where(Certificate.id == certificate_id)).scalar_one()


@dataclass(frozen=True)
class KeyRotation:
    """The pair that signs from now on, and where the previous certificate was kept."""

    key_path: Path
    cert_path: Path
    kept_path: Path


def rotate_signing_key(current_cert: Path, *, folder: Path, trust_roots: Path,
                       key_path: Path | None = None, cert_path: Path | None = None,
                       days: int = 3650, passphrase: bytes | None = None) -> KeyRotation:
    """Replace the signing pair, keeping ``current_cert`` in ``trust_roots`` first so that every
    certificate it signed still verifies. The new pair is ``key_path``/``cert_path`` (checked to
    belong together) or, without them, a new development pair written over the one in ``folder``.
    Raises ``ServiceError`` for a pair that does not match or is the current one."""
    from pyhanko.keys import load_cert_from_pemder

    from certify.certificates.signing import (
        create_development_key,
        keep_as_trust_root,
        key_matches_certificate,
        signer_info,
    )

    previous = signer_info(load_cert_from_pemder(str(current_cert)))
    if key_path is not None:
        try:
            key_matches_certificate(key_path, cert_path, passphrase)
        except (OSError, ValueError, TypeError) as error:
            raise ServiceError(_l("The new key and certificate are not one pair: %(error)s",
                                  error=str(error))) from error
        if signer_info(load_cert_from_pemder(str(cert_path))).fingerprint == previous.fingerprint:
            raise ServiceError(_l("That certificate already signs: nothing to rotate."))
    kept_path = keep_as_trust_root(current_cert, trust_roots)
    if key_path is None:
        key_path, cert_path = create_development_key(folder, days=days, passphrase=passphrase,
                                                     overwrite=True)
    current = signer_info(load_cert_from_pemder(str(cert_path)))
    record_event("signing_key.rotated", object_type="system",
                 details={"previous_subject": previous.subject,
                          "previous_fingerprint": previous.fingerprint,
                          "subject": current.subject, "fingerprint": current.fingerprint,
                          "kept_as": str(kept_path)})
    return KeyRotation(key_path=key_path, cert_path=cert_path, kept_path=kept_path)


def batch_progress(application_ids) -> dict[str, int]:
    """How far the certificates of these applications have got: counts under ``pending``,
    ``rendered`` and ``failed``, and ``not_issued`` for applications without a certificate."""
    ids = set(application_ids)
    counts = {state.value: 0 for state in RenderState}
    if ids:
        rows = db.session.execute(
            select(Certificate.render_state, func.count())
            .where(Certificate.application_id.in_(ids)).group_by(Certificate.render_state))
        counts |= {RenderState(state).value: count for state, count in rows}
    counts["not_issued"] = len(ids) - sum(counts.values())
    return counts


def revoke_certificate(admin, certificate: Certificate, reason_code: str, note: str = "") -> None:
    """Revoke a valid certificate for one of the grounds of removal (``REMOVAL_GROUNDS``); the
    application moves to ``revoked`` through the workflow (audited, applicant notified)."""
    _require_admin(admin)
    try:
        reason = RevocationReason(reason_code)
    except ValueError:
        raise ServiceError(_l("Choose the reason for revoking."), field="reason") from None
    if reason not in REMOVAL_GROUNDS:
        raise ServiceError(_l("Choose the reason for revoking."), field="reason")
    _revoke(admin, certificate, reason, note)


def supersede_certificate(admin, certificate: Certificate, successor: Certificate, note: str = "") -> None:
    """End a valid certificate that ``successor`` replaces (a construction pilot's listing, once
    the pilot is accepted and the unit recognised): revoked as ``revoke_certificate`` does, for
    the reason "replaced by a new certificate", naming ``successor`` (shown on /verify)."""
    _revoke(admin, certificate, RevocationReason.SUPERSEDED, note or successor.number, successor=successor)


def _revoke(admin, certificate: Certificate, reason: RevocationReason, note: str, *,
            successor: Certificate | None = None) -> None:
    _require_admin(admin)
    if certificate.public_status(local_today()) != CertificateStatus.VALID:
        raise ServiceError(_l("Only a valid certificate can be revoked."))
    if successor is not None:
        certificate.superseded_by_id = successor.id
    note = (note or "").strip()[:_MAX_NOTE]
    label = REASON_TEXTS[reason]
    transition(certificate.application, Action.REVOKE, admin,
               reason=f"{label.zh} / {label.en}" + (f": {note}" if note else ""),
               details={"certificate": certificate.number, "revocation_reason": reason.value},
               told_by_caller=successor is not None)
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = utcnow()
    certificate.revocation_reason = reason
    certificate.revocation_note = note or None
    certificate.revoked_by_id = admin.id
    record_event("certificate.revoked", actor=admin, obj=certificate, details={
        "number": certificate.number, "reason": reason.value, "note": note}
        | ({"superseded_by": certificate.superseded_by_id} if certificate.superseded_by_id else {}))
    certificates_changed.send([certificate.application_id])


def expire_due_certificates(today: date | None = None) -> list[Certificate]:
    """Mark every valid certificate whose last valid day is before ``today`` (China Standard
    Time) as expired, and move its listed application to ``expired`` (the system acts).
    The public status already shows expiry from the dates; this records it."""
    today = today or local_today()
    due = db.session.execute(
        select(Certificate).where(Certificate.status == CertificateStatus.VALID,
                                  Certificate.valid_until < today).order_by(Certificate.id)
    ).scalars().all()
    now = utcnow()
    for certificate in due:
        certificate.status = CertificateStatus.EXPIRED
        certificate.expired_at = now
        if certificate.application.status == Status.LISTED:
            transition(certificate.application, Action.EXPIRE, None,
                       details={"certificate": certificate.number})
        record_event("certificate.expired", obj=certificate, details={
            "number": certificate.number, "valid_until": certificate.valid_until.isoformat()})
    if due:
        certificates_changed.send([certificate.application_id for certificate in due])
    return due
