"""Certificate numbers: ``<prefix>-<kind code>-<year>-<sequence>``, e.g. ``SC-GF-2026-0001``.

Sequences are unique per kind and year and allocated atomically: the counter row of (kind, year)
is incremented with ``UPDATE … SET last = last + 1 … RETURNING last`` inside the issuing
transaction, so concurrent announcements queue on that row and never duplicate a number
("read max then insert" loses most writes on SQLite and duplicates on PostgreSQL; see
MEASURED.md). A missing row is created with ``INSERT … ON CONFLICT DO NOTHING`` first, so two
transactions creating it at once do not fail either.
"""

import re
import unicodedata

from flask import current_app
from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite

from certify.applications.kinds import kind_code
from certify.certificates.models import CertificateCounter
from certify.extensions import db

DEFAULT_PREFIX = "SC"
PREFIX_PATTERN = re.compile(r"[A-Z0-9]{1,8}")
SEQUENCE_DIGITS = 4
# Dash-like characters people paste from word processors, besides those NFKC already maps.
_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−﹘"), "-")
_MAX_TYPED_LENGTH = 60

_INSERT_FOR_DIALECT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def number_prefix() -> str:
    """The configured prefix (``CERTIFY_CERTIFICATE_PREFIX``, default ``SC``)."""
    return current_app.config.get("CERTIFY_CERTIFICATE_PREFIX") or DEFAULT_PREFIX


def format_number(prefix: str, kind: str, year: int, sequence: int) -> str:
    """``SC-GF-2026-0001``: the sequence has at least four digits and simply grows past 9999."""
    return f"{prefix}-{kind_code(kind)}-{year}-{sequence:0{SEQUENCE_DIGITS}d}"


def normalise_number(typed: str | None) -> str:
    """A number as people type or paste it, made comparable: full-width characters folded
    (NFKC), dashes unified, spaces removed, upper case. Empty when nothing usable was typed."""
    text = unicodedata.normalize("NFKC", (typed or "")[:_MAX_TYPED_LENGTH]).translate(_DASHES)
    return re.sub(r"\s+", "", text).upper()


def allocate_sequence(kind: str, year: int) -> int:
    """The next sequence number of ``kind`` in ``year``, taken in the current transaction.

    The counter row stays locked until the transaction ends, so a concurrent issuer waits for
    this one to commit (or roll back, which gives the number back) and then takes the next.
    """
    return allocate_sequences(kind, year, 1)[0]


def allocate_sequences(kind: str, year: int, count: int) -> range:
    """The next ``count`` consecutive sequence numbers of ``kind`` in ``year``, taken at once
    (as ``allocate_sequence``)."""
    if count < 1:
        return range(0)
    counters = CertificateCounter.__table__
    increment = (update(counters)
                 .where(counters.c.kind == str(kind), counters.c.year == year)
                 .values(last=counters.c.last + count)
                 .returning(counters.c.last))
    sequence = db.session.execute(increment).scalar_one_or_none()
    if sequence is None:
        insert = _INSERT_FOR_DIALECT[db.session.get_bind().dialect.name]
        db.session.execute(insert(counters).values(kind=str(kind), year=year, last=0)
                           .on_conflict_do_nothing(index_elements=["kind", "year"]))
        sequence = db.session.execute(increment).scalar_one()
    return range(sequence - count + 1, sequence + 1)


def check_prefix(prefix: str) -> str:
    """``prefix`` if it is 1–8 capital letters or digits; else ``ValueError`` naming the setting."""
    if not PREFIX_PATTERN.fullmatch(prefix or ""):
        raise ValueError(f"CERTIFY_CERTIFICATE_PREFIX must be 1 to 8 capital letters or digits, "
                         f"not {prefix!r}")
    return prefix
