"""What the API answers, read with the queries the public pages use (``public.exports``,
``certificates.services``, the rule-set registry), a page of rows in one query: each answer is
a plain dict in the shape of its schema (``certify.api.schemas``)."""

import re
from collections import defaultdict
from urllib.parse import urlencode

from flask import url_for
from sqlalchemy import Text, case, cast, func, select

from certify.api.paging import keyset_page
from certify.applications.models import Application
from certify.certificates.models import (
    REASON_TEXTS,
    STATUS_TEXTS,
    Certificate,
    CertificateStatus,
    public_status,
    public_status_condition,
)
from certify.certificates.numbers import normalise_number
from certify.certificates.services import find_by_number
from certify.extensions import db
from certify.organisations.models import Organisation
from certify.organisations.reference import cities_by_code
from certify.public import exports
from certify.publication.models import Batch, BatchEntry, BatchStatus
from certify.rulesets import current_registry
from certify.stats.tiers import open_data as stats_open_data
from certify.timeutil import as_utc, local_date, local_today, local_year


def bilingual(text) -> dict | None:
    return None if text is None else {"zh": text.zh, "en": text.en}


def kind_name(key: str) -> dict:
    """A kind's name in both languages (its key for a kind no longer in the kinds file)."""
    kind = current_registry().vocabulary.kinds.get(str(key))
    return bilingual(kind.title) if kind is not None else {"zh": str(key), "en": str(key)}


# ---- certificates -----------------------------------------------------------------------------

def verify_page() -> str:
    """The verification page's address, to which each certificate's number is added."""
    return url_for("certificates.verify", _external=True)


def certificate_data(certificate: Certificate, today, verify_url: str | None = None) -> dict:
    """A certificate as the verification page states it (the revocation note, free text an
    administrator wrote, is left out: it may name people). ``verify_url``: ``verify_page()``,
    when the caller states many certificates (building the address once costs as much as
    the rest of a row)."""
    status = certificate.public_status(today)
    reason = certificate.revocation_reason
    return {
        "number": certificate.number, "kind": certificate.kind, "kind_name": kind_name(certificate.kind),
        "organisation_name": certificate.organisation_name, "credit_code": certificate.credit_code,
        "subject": certificate.subject,
        "standard": {"code": certificate.standard_code,
                     "title": {"zh": certificate.standard_title_zh, "en": certificate.standard_title_en}},
        "issued_on": local_date(certificate.issued_at), "valid_from": certificate.valid_from,
        "valid_until": certificate.valid_until, "status": status.value, "status_text": bilingual(STATUS_TEXTS[status]),
        "revoked_on": local_date(certificate.revoked_at) if certificate.revoked_at else None,
        "revocation_reason": reason.value if reason else None,
        "revocation_reason_text": bilingual(REASON_TEXTS[reason]) if reason else None,
        "pdf_sha256": certificate.pdf_sha256,
        "verify_url": f"{verify_url or verify_page()}?{urlencode({'number': certificate.number})}",
    }


def certificates_page(args: dict) -> tuple[list[dict], str | None]:
    today = local_today()
    query = select(Certificate)
    if args.get("credit_code"):
        query = query.where(Certificate.credit_code == args["credit_code"])
    if args.get("kind"):
        query = query.where(Certificate.kind == args["kind"])
    if args.get("status"):
        query = query.where(public_status_condition(CertificateStatus(args["status"]), today))
    rows, next_cursor = keyset_page(query, Certificate.id, cursor=args["cursor"], limit=args["limit"], scalars=True)
    verify_url = verify_page()
    return [certificate_data(certificate, today, verify_url) for certificate in rows], next_cursor


# What a certificate number can be once normalised: anything else (a NUL byte, which PostgreSQL
# refuses in a query, or any other character) is no number and is not looked up.
NUMBER = re.compile(r"[A-Z0-9-]{1,60}")


def _numbers(typed) -> list[str]:
    return [number for number in map(normalise_number, typed) if NUMBER.fullmatch(number)]


def certificate_record(number: str) -> Certificate | None:
    """The certificate with ``number`` as typed (any spelling of a valid number), if any."""
    [number] = _numbers([number]) or [None]
    return find_by_number(number) if number else None


def certificate_by_number(number: str) -> dict | None:
    certificate = certificate_record(number)
    return certificate_data(certificate, local_today()) if certificate else None


def lookup(credit_codes: list[str], numbers: list[str]) -> list[dict]:
    """The certificates of any of ``credit_codes`` or with any of ``numbers``, in one query."""
    numbers = _numbers(numbers)
    if not credit_codes and not numbers:
        return []
    found = db.session.execute(select(Certificate).where(
        Certificate.credit_code.in_(credit_codes) | Certificate.number.in_(numbers)
    ).order_by(Certificate.id)).scalars()
    today, verify_url = local_today(), verify_page()
    return [certificate_data(certificate, today, verify_url) for certificate in found]


# ---- lists and notices ------------------------------------------------------------------------

def _city(code: str, names: dict) -> dict:
    city = names.get(code)
    return {"code": code, "name": {"zh": city.name_zh, "en": city.name_en} if city else None}


def _entry(row, names: dict, today, *, listed: bool) -> dict:
    """An entry as the public list (``listed``) or notice shows it."""
    data = {"id": row.id, "batch_id": row.batch_id, "organisation_name": row.organisation_name,
            "city": _city(row.city_code, names), "kind": row.kind, "kind_name": kind_name(row.kind),
            "subject": row.subject}
    if listed:
        data["credit_code"] = row.credit_code
        data["certificate"] = None if row.certificate_number is None else {
            "number": row.certificate_number,
            "status": public_status(row.certificate_status, row.valid_until, today).value,
            "valid_until": row.valid_until,
            "revoked_on": local_date(row.revoked_at) if row.revoked_at else None,
        }
    return data


def entries_page(batch_ids, args: dict, *, listed: bool) -> tuple[list[dict], str | None]:
    """A page of the current entries of the batches ``batch_ids`` (a list or a select of ids),
    filtered by kind, city and credit code when ``args`` names them."""
    query = exports.entry_rows_query(batch_ids).add_columns(Organisation.credit_code)
    if args.get("kind"):
        query = query.where(Application.kind == args["kind"])
    if args.get("city"):
        query = query.where(Organisation.city_code == args["city"])
    if args.get("credit_code"):
        query = query.where(Organisation.credit_code == args["credit_code"])
    rows, next_cursor = keyset_page(query, BatchEntry.id, cursor=args["cursor"], limit=args["limit"])
    names, today = cities_by_code(), local_today()
    return [_entry(row, names, today, listed=listed) for row in rows], next_cursor


def announced_batch_ids(year: int | None = None) -> list[int]:
    """The announced batches (of ``year``, China Standard Time), as the public lists choose them."""
    announced = db.session.execute(
        select(Batch.id, Batch.announced_at).where(Batch.status == BatchStatus.ANNOUNCED)).all()
    return [batch.id for batch in announced if not year or local_year(batch.announced_at) == year]


def public_batch(batch_id: int, status: BatchStatus) -> Batch | None:
    batch = db.session.get(Batch, batch_id)
    return batch if batch is not None and batch.status == status else None


def batch_data(batch: Batch, entries: int) -> dict:
    announced = batch.status == BatchStatus.ANNOUNCED
    return {
        "id": batch.id, "title": batch.title, "status": batch.status.value, "kinds": list(batch.kinds or []),
        "notice_starts_on": batch.notice_starts_on, "notice_ends_on": batch.notice_ends_on,
        "announced_at": as_utc(batch.announced_at) if batch.announced_at else None, "entries": entries,
        "downloads": {fmt: url_for("public.export_batch", batch_id=batch.id, fmt=fmt, _external=True)
                      for fmt in exports.MEDIA_TYPES} if announced else None,
    }


def entry_counts(batch_ids: list[int]) -> dict[int, int]:
    """Current entries of each batch, in one query (as the notices page counts them)."""
    if not batch_ids:
        return {}
    return dict(db.session.execute(
        select(BatchEntry.batch_id, func.count()).where(BatchEntry.batch_id.in_(batch_ids),
                                                        BatchEntry.removed_at.is_(None))
        .group_by(BatchEntry.batch_id)).all())


def batches_page(status: BatchStatus, args: dict) -> tuple[list[dict], str | None]:
    rows, next_cursor = keyset_page(select(Batch).where(Batch.status == status), Batch.id,
                                    cursor=args["cursor"], limit=args["limit"], scalars=True)
    counts = entry_counts([batch.id for batch in rows])
    return [batch_data(batch, counts.get(batch.id, 0)) for batch in rows], next_cursor


def one_batch(batch: Batch) -> dict:
    return batch_data(batch, entry_counts([batch.id]).get(batch.id, 0))


# ---- rule sets and statistics -----------------------------------------------------------------

def rule_sets_in_force() -> dict:
    """Every rule set in force today, kind by kind (the best first, as new applications get it)."""
    registry, today = current_registry(), local_today()
    items = []
    for kind in registry.vocabulary.kinds.values():
        for rule_set in registry.candidates(kind.key, today):
            threshold = registry.threshold(rule_set)
            items.append({
                "id": rule_set.id, "version": rule_set.version, "kind": rule_set.kind,
                "kind_name": bilingual(kind.title), "title": bilingual(rule_set.title),
                "standard": {"code": rule_set.standard.code, "title": bilingual(rule_set.standard.title)},
                "effective_from": rule_set.effective_from, "effective_until": rule_set.effective_until,
                "industries": list(rule_set.industries), "threshold": None if threshold is None else str(threshold),
                "sha256": rule_set.sha256,
            })
    return {"on": today, "items": items}


def _listed_by_year() -> list[dict]:
    """Entries of the announced lists by year of announcement and kind: one GROUP BY query."""
    rows = db.session.execute(
        select(Batch.id, Batch.announced_at, Application.kind, func.count())
        .join(BatchEntry, BatchEntry.batch_id == Batch.id).join(BatchEntry.application)
        .where(Batch.status == BatchStatus.ANNOUNCED, BatchEntry.removed_at.is_(None))
        .group_by(Batch.id, Batch.announced_at, Application.kind)).all()
    years: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for _batch_id, announced_at, kind, count in rows:
        years[local_year(announced_at)][kind] += count
    return [{"year": year, "total": sum(kinds.values()),
             "kinds": [{"kind": kind, "kind_name": kind_name(kind), "count": count}
                       for kind, count in sorted(kinds.items())]}
            for year, kinds in sorted(years.items(), reverse=True)]


def _certificates_by_kind(today) -> list[dict]:
    """Certificates by kind and status today: one GROUP BY query."""
    shown = case((Certificate.status == CertificateStatus.REVOKED, CertificateStatus.REVOKED.value),
                 ((Certificate.status == CertificateStatus.EXPIRED) | (Certificate.valid_until < today),
                  CertificateStatus.EXPIRED.value),
                 else_=CertificateStatus.VALID.value)
    rows = db.session.execute(select(Certificate.kind, cast(shown, Text), func.count())
                              .group_by(Certificate.kind, shown)).all()
    kinds: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(("valid", "expired", "revoked"), 0))
    for kind, status, count in rows:
        kinds[kind][status] = count
    return [{"kind": kind, "kind_name": kind_name(kind), **counts} for kind, counts in sorted(kinds.items())]


def statistics() -> dict:
    today = local_today()
    return {"on": today, "listed_by_year": _listed_by_year(), "certificates_by_kind": _certificates_by_kind(today),
            **stats_open_data(kind_name)}
