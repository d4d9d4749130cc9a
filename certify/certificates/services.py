"""Certificates: issuing on announcement, rendering the PDF (a job), revoking and expiring; and
replacing the key that signs them.

Each use case runs in the caller's transaction and writes an audit event; the caller commits
once. Rendering happens only after that commit (``call_after_commit``), in a job that opens its
own session, so a rolled-back announcement renders nothing.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from certify import storage
from certify.applications.models import Application
from certify.audit.services import record_event
from certify.auth.models import Role
from certify.certificates.models import (
    REASON_TEXTS,
    Certificate,
    CertificateStatus,
    RenderState,
    RevocationReason,
)
from certify.certificates.numbers import allocate_sequences, format_number, number_prefix
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.jobs import call_after_commit
from certify.public.exports import refresh_batch_exports
from certify.timeutil import LOCAL_TIMEZONE, local_today, utcnow
from certify.workflow import Action, Status, transition

log = logging.getLogger(__name__)

DEFAULT_VALIDITY_YEARS = 3
# Certificates rendered by one job: a batch's jobs still spread over every worker, and the
# queue's own cost per job (~4 ms) is paid once per ten PDFs instead of once per PDF.
RENDER_JOB_SIZE = 10
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
                      now: datetime | None = None) -> Certificate:
    """Issue the certificate of a listed application, in the caller's transaction.

    Idempotent: an application that already has a certificate gets that one back, and nothing
    else happens. Otherwise the next number of the kind and year is taken (atomically, see
    ``numbers``), the organisation, subject, rule set and standard are copied as they are now,
    the issue is audited as ``certificate.issued``, and the PDF is rendered by a job once the
    transaction commits. The application's status is the announcement's business, not this one's.
    """
    return issue_certificates([application], actor, now=now)[0]


def issue_certificates(applications: list[Application], actor, *,
                       now: datetime | None = None) -> list[Certificate]:
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
    standards = _standards(application.id for application in new)
    sequences = {}
    for kind in dict.fromkeys(application.kind for application in new):
        of_kind = [application for application in new if application.kind == kind]
        sequences |= zip((application.id for application in of_kind),
                         allocate_sequences(kind, first_day.year, len(of_kind)), strict=True)
    issued = [_issue(application, actor, now, first_day, sequences[application.id], standards.get(application.id) or {})
              for application in new]
    for start in range(0, len(issued), RENDER_JOB_SIZE):
        _queue_render(*issued[start:start + RENDER_JOB_SIZE])
    existing |= {certificate.application_id: certificate for certificate in issued}
    return [existing[application.id] for application in applications]


def _standards(application_ids) -> dict[int, dict]:
    """Application id -> the standard named by its frozen rule set."""
    ids = list(application_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(Application.id, Application.rule_set_frozen).where(Application.id.in_(ids)))
    return {application_id: (frozen or {}).get("standard") or {} for application_id, frozen in rows}


def _issue(application: Application, actor, now: datetime, first_day: date, sequence: int,
           standard: dict) -> Certificate:
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
        status=CertificateStatus.VALID, render_state=RenderState.PENDING,
    )
    db.session.add(certificate)
    record_event("certificate.issued", actor=actor, obj=certificate, details={
        "number": certificate.number, "application_id": application.id,
        "organisation": certificate.organisation_name, "credit_code": certificate.credit_code,
        "valid_from": first_day.isoformat(), "valid_until": certificate.valid_until.isoformat(),
    })
    return certificate


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


def render_certificates(certificate_ids: list[int]) -> None:
    """Job: ``render_certificate`` for each id in turn (each stored and committed on its own)."""
    for certificate_id in certificate_ids:
        render_certificate(certificate_id)


def render_certificate(certificate_id: int) -> None:
    """Job: render, sign (when a key is configured) and store one certificate's PDF, once.

    Runs in an application context of its own (see ``certify.jobs``), so ``db.session`` here is
    the job's own. A certificate already rendered is left alone, and of two runs at once only
    the first to record its file wins. Failures are recorded on the certificate (the admin sees
    them and can render again); they are never raised into the transaction that queued it.
    """
    from certify.certificates.rendering import certificate_pdf

    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.render_state == RenderState.RENDERED:
        return
    try:
        pdf, signer = certificate_pdf(certificate)
        stored = storage.store_bytes(pdf)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded for the admin to see
        log.exception("Rendering certificate %s failed", certificate_id)
        db.session.rollback()
        _record_render_failure(certificate_id, exc)
        return
    claimed = db.session.execute(
        update(Certificate)
        .where(Certificate.id == certificate_id, Certificate.render_state != RenderState.RENDERED)
        .values(render_state=RenderState.RENDERED, render_error=None, rendered_at=utcnow(),
                pdf_sha256=stored.sha256, pdf_size=stored.size, is_signed=signer is not None,
                signer_subject=signer.subject if signer else None,
                signer_fingerprint=signer.fingerprint if signer else None)
    ).rowcount
    if claimed:
        # In the hash-chained log, so that a changed sha256 in the table can be noticed.
        record_event("certificate.rendered", object_type="certificates", object_id=certificate_id,
                     details={"number": certificate.number, "sha256": stored.sha256,
                              "size": stored.size, "signed": signer is not None})
    db.session.commit()


def _record_render_failure(certificate_id: int, error: Exception) -> None:
    message = f"{type(error).__name__}: {error}"[:_MAX_ERROR]
    db.session.execute(
        update(Certificate)
        .where(Certificate.id == certificate_id, Certificate.render_state != RenderState.RENDERED)
        .values(render_state=RenderState.FAILED, render_error=message))
    db.session.commit()


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
    """Revoke a valid certificate for one of the grounds of ``RevocationReason``; the
    application moves to ``revoked`` through the workflow (audited, applicant notified)."""
    _require_admin(admin)
    try:
        reason = RevocationReason(reason_code)
    except ValueError:
        raise ServiceError(_l("Choose the reason for revoking."), field="reason") from None
    if certificate.public_status(local_today()) != CertificateStatus.VALID:
        raise ServiceError(_l("Only a valid certificate can be revoked."))
    note = (note or "").strip()[:_MAX_NOTE]
    label = REASON_TEXTS[reason]
    transition(certificate.application, Action.REVOKE, admin,
               reason=f"{label.zh} / {label.en}" + (f": {note}" if note else ""),
               details={"certificate": certificate.number, "revocation_reason": reason.value})
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = utcnow()
    certificate.revocation_reason = reason
    certificate.revocation_note = note or None
    certificate.revoked_by_id = admin.id
    record_event("certificate.revoked", actor=admin, obj=certificate, details={
        "number": certificate.number, "reason": reason.value, "note": note})
    refresh_batch_exports([certificate.application_id])


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
    refresh_batch_exports(certificate.application_id for certificate in due)
    return due
