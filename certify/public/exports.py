"""Open data: an announced batch as CSV, XLSX and JSON, safe to open in spreadsheet software
(values that a spreadsheet would run as a formula are neutralised).

The three files are made once, by a job queued when the batch is announced, and stored: the
list as announced is a document of record, and a public download then costs a file read rather
than building a spreadsheet of a thousand rows for each visitor. Until the job has run (or for a
batch announced before files were kept) a download is built on the spot.

The job is queued by a receiver of ``signals.batch_announced``, connected by ``init_app``.
"""

import json

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from certify import storage
from certify.applications.kinds import kind_of
from certify.applications.models import Application
from certify.audit.services import record_event
from certify.certificates.models import STATUS_TEXTS, Certificate
from certify.certificates.services import certificates_by_application
from certify.core import spreadsheets
from certify.core.spreadsheets import to_csv, to_xlsx
from certify.extensions import db
from certify.jobs import call_after_commit
from certify.organisations.models import Organisation
from certify.organisations.reference import cities_by_code
from certify.publication.models import Batch, BatchEntry, BatchStatus
from certify.signals import batch_announced, certificates_changed, connect_once
from certify.timeutil import local_date, local_isoformat, local_today

MEDIA_TYPES = spreadsheets.MEDIA_TYPES | {"json": "application/json"}

COLUMNS = (
    ("organisation", "单位名称 Organisation"),
    ("credit_code", "统一社会信用代码 Credit code"),
    ("city", "市（州） City"),
    ("kind", "类别 Kind"),
    ("subject", "名称 Subject"),
    ("certificate_number", "证书编号 Certificate number"),
    ("valid_until", "有效期至 Valid until"),
    ("status", "证书状态 Certificate status"),
    ("revoked_on", "撤销日期 Revoked on"),
)


def init_app(app) -> None:
    connect_once(batch_announced, queue_batch_exports)
    connect_once(certificates_changed, refresh_batch_exports)


def queue_batch_exports(batch: Batch, **_) -> None:
    """Have the files of the announced ``batch`` made once the announcement has committed."""
    call_after_commit(build_batch_exports, batch.id)


def to_json(rows: list[dict], batch: dict) -> bytes:
    return json.dumps({"batch": batch, "entries": rows}, ensure_ascii=False, indent=1).encode("utf-8")


def entries_query(batch_ids_query):
    """The current entries of the batches ``batch_ids_query`` selects, with their applications,
    organisations and batches loaded in the same query (the public lists, notices and files)."""
    return (select(BatchEntry)
            .join(BatchEntry.application).join(Application.organisation)
            .options(joinedload(BatchEntry.application).joinedload(Application.organisation),
                     # A list needs none of the frozen rule file or answers (tens of KB a row).
                     joinedload(BatchEntry.application).defer(Application.rule_set_frozen)
                     .defer(Application.answers).defer(Application.remarks)
                     .defer(Application.answer_texts).defer(Application.not_applicable),
                     joinedload(BatchEntry.batch))
            .where(BatchEntry.batch_id.in_(batch_ids_query), BatchEntry.removed_at.is_(None)))


def entry_rows_query(batch_ids):
    """The current entries of the batches ``batch_ids`` (a list or a select of ids), as rows of
    the columns a public list shows, with their certificate's (none before it is issued): no
    model objects (building four of them per entry took a page of 50 longer than its query)."""
    return (select(BatchEntry.id, BatchEntry.batch_id, BatchEntry.application_id, Application.kind,
                   Application.subject, Organisation.name.label("organisation_name"), Organisation.city_code,
                   Batch.title.label("batch_title"), Certificate.number.label("certificate_number"),
                   Certificate.status.label("certificate_status"), Certificate.valid_until,
                   Certificate.revoked_at)
            .join(BatchEntry.application).join(Application.organisation).join(BatchEntry.batch)
            .outerjoin(Certificate, Certificate.application_id == BatchEntry.application_id)
            .where(BatchEntry.batch_id.in_(batch_ids), BatchEntry.removed_at.is_(None)))


def batch_rows(batch: Batch) -> list[dict]:
    """One row per entry of ``batch``, in the order they were added."""

    entries = db.session.execute(entries_query(select(Batch.id).where(Batch.id == batch.id))
                                 .order_by(BatchEntry.id)).unique().scalars().all()
    certificates = certificates_by_application(entry.application_id for entry in entries)
    city_names = cities_by_code()
    today = local_today()
    rows = []
    for entry in entries:
        application, organisation = entry.application, entry.application.organisation
        certificate = certificates.get(application.id)
        city = city_names.get(organisation.city_code)
        kind = kind_of(application.kind).certificate
        rows.append({
            "organisation": organisation.name,
            "credit_code": organisation.credit_code,
            "city": city.name_zh if city else organisation.city_code,
            "kind": f"{kind.zh} {kind.en}",
            "kind_code": application.kind,
            "subject": application.subject,
            "certificate_number": certificate.number if certificate else None,
            "valid_until": certificate.valid_until.isoformat() if certificate and certificate.valid_until else None,
            "status": _status_text(certificate, today),
            "revoked_on": local_date(certificate.revoked_at).isoformat() if certificate and certificate.revoked_at else None,
        })
    return rows


def _status_text(certificate, today) -> str | None:
    if certificate is None:
        return None
    text = STATUS_TEXTS[certificate.public_status(today)]
    return f"{text.zh} {text.en}"


def refresh_batch_exports(application_ids) -> None:
    """Listed units' certificates changed status (revoked, expired): the files of the announced
    batches they are on are made again, after the commit, with the new status. The files as first
    announced stay in storage, their sha256 in the audit log."""
    on_them = select(BatchEntry.batch_id).where(BatchEntry.application_id.in_(list(application_ids)),
                                                BatchEntry.removed_at.is_(None))
    batches = db.session.execute(
        select(Batch).where(Batch.id.in_(on_them), Batch.status == BatchStatus.ANNOUNCED)).scalars().all()
    for batch in batches:
        if batch.exports:
            record_event("batch.exports_outdated", object_type="batches", object_id=batch.id,
                         details={"files": batch.exports})
            batch.exports = None
        call_after_commit(build_batch_exports, batch.id)


def batch_export(batch: Batch, fmt: str, rows: list[dict] | None = None) -> bytes:
    """The ``fmt`` (csv, xlsx or json) file of ``batch``."""
    rows = batch_rows(batch) if rows is None else rows
    if fmt == "csv":
        return to_csv(rows, COLUMNS)
    if fmt == "xlsx":
        return to_xlsx(rows, COLUMNS, batch.title)
    return to_json(rows, {
        "id": batch.id, "title": batch.title, "kinds": batch.kinds,
        "announced_at": local_isoformat(batch.announced_at) if batch.announced_at else None,
        "notice": [batch.notice_starts_on.isoformat(), batch.notice_ends_on.isoformat()],
    })


def build_batch_exports(batch_id: int) -> None:
    """Job: make and store the three files of an announced batch, once, and record them on the
    batch (audited)."""
    batch = db.session.get(Batch, batch_id)
    if batch is None or batch.status != BatchStatus.ANNOUNCED or batch.exports:
        return
    rows = batch_rows(batch)
    files = {}
    for fmt in MEDIA_TYPES:
        stored = storage.store_bytes(batch_export(batch, fmt, rows))
        files[fmt] = {"sha256": stored.sha256, "size": stored.size}
    batch.exports = files
    record_event("batch.exports_stored", object_type="batches", object_id=batch.id, details=files)
    db.session.commit()


def stored_export(batch: Batch, fmt: str) -> str | None:
    """The sha256 of the stored ``fmt`` file of ``batch``, if it has been made."""
    sha256 = ((batch.exports or {}).get(fmt) or {}).get("sha256")
    return sha256 if sha256 and storage.exists(sha256) else None
