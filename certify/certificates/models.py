"""Certificates issued on announcement, and the counters that number them.

A certificate copies what it states (organisation name, credit code, subject, rule set, standard)
at issue, so that later renames or rule-file edits never change a certificate already issued.
"""

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.applications.kinds import kind_of
from certify.applications.models import Application
from certify.extensions import db
from certify.organisations.models import enum_column
from certify.scoring.model import Text as Bilingual
from certify.timeutil import utcnow


class CertificateStatus(enum.StrEnum):
    """What was decided about a certificate. ``expired`` is set by ``flask certificates expire``;
    the public status (:meth:`Certificate.public_status`) also follows the dates before it runs."""

    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


class RenderState(enum.StrEnum):
    PENDING = "pending"
    RENDERED = "rendered"
    FAILED = "failed"


class RevocationReason(enum.StrEnum):
    """The grounds for removal from the list (动态管理)."""

    FALSIFICATION = "falsification"
    MAJOR_ACCIDENT = "major_accident"
    REFUSED_TO_REPORT = "refused_to_report"
    NO_LONGER_CONFORMING = "no_longer_conforming"
    # Not a ground for removal: another certificate replaces this one (a construction pilot's,
    # once the pilot is accepted and the unit recognised). Set only by ``supersede_certificate``.
    SUPERSEDED = "superseded"


# The grounds the department chooses from when it revokes a certificate.
REMOVAL_GROUNDS = tuple(reason for reason in RevocationReason if reason != RevocationReason.SUPERSEDED)


# Public, official wording in both languages (shown on the verification page and revocation list
# in the reader's language with the ``tr`` filter, and kept identical in open data).
STATUS_TEXTS = {
    CertificateStatus.VALID: Bilingual(zh="有效", en="Valid"),
    CertificateStatus.EXPIRED: Bilingual(zh="已过期", en="Expired"),
    CertificateStatus.REVOKED: Bilingual(zh="已撤销", en="Revoked"),
}
REASON_TEXTS = {
    RevocationReason.FALSIFICATION: Bilingual(zh="弄虚作假", en="Falsification"),
    RevocationReason.MAJOR_ACCIDENT: Bilingual(
        zh="发生较大及以上安全、环境或质量事故", en="A major safety, environmental or quality accident"),
    RevocationReason.REFUSED_TO_REPORT: Bilingual(
        zh="拒不按要求报送动态管理信息", en="Refusal to report as required"),
    RevocationReason.NO_LONGER_CONFORMING: Bilingual(
        zh="不再符合评价要求", en="No longer meets the requirements"),
    RevocationReason.SUPERSEDED: Bilingual(zh="已由新证书替代", en="Replaced by a new certificate"),
}
RENDER_STATE_TEXTS = {
    RenderState.PENDING: Bilingual(zh="生成中", en="Being prepared"),
    RenderState.RENDERED: Bilingual(zh="已生成", en="Ready"),
    RenderState.FAILED: Bilingual(zh="生成失败", en="Failed"),
}


class CertificateCounter(db.Model):
    """The last sequence number given to a kind in a year: numbers are allocated by
    ``UPDATE … SET last = last + 1 … RETURNING last`` on this row, in the issuing transaction."""

    __tablename__ = "certificate_counters"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


def public_status(status: CertificateStatus, valid_until: date, today: date) -> CertificateStatus:
    """What the public is told on ``today`` about a certificate decided ``status`` and valid
    until ``valid_until`` (:meth:`Certificate.public_status`; list pages read the columns alone)."""
    if status == CertificateStatus.REVOKED:
        return CertificateStatus.REVOKED
    if status == CertificateStatus.EXPIRED or today > valid_until:
        return CertificateStatus.EXPIRED
    return CertificateStatus.VALID


def public_status_condition(status: CertificateStatus, today: date):
    """SQL for "shows as ``status`` on ``today``" (:func:`public_status` as a condition on the
    columns, expiry following the dates)."""
    if status == CertificateStatus.REVOKED:
        return Certificate.status == CertificateStatus.REVOKED
    if status == CertificateStatus.EXPIRED:
        return or_(Certificate.status == CertificateStatus.EXPIRED,
                   and_(Certificate.status == CertificateStatus.VALID,
                        Certificate.valid_until < today))
    return and_(Certificate.status == CertificateStatus.VALID, Certificate.valid_until >= today)


class Certificate(db.Model):
    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("kind", "year", "sequence", name="uq_certificates_kind_year_sequence"),
        Index("ix_certificates_status_valid_until", "status", "valid_until"),
        Index("ix_certificates_revoked_at", "revoked_at"),
        Index("ix_certificates_render_state", "render_state"),  # the workbench's count of PDFs pending
        # Revocation fields are set exactly when the certificate is revoked.
        CheckConstraint(
            f"(status = '{CertificateStatus.REVOKED}' AND revoked_at IS NOT NULL "
            "AND revocation_reason IS NOT NULL) OR "
            f"(status <> '{CertificateStatus.REVOKED}' AND revoked_at IS NULL AND revocation_reason IS NULL "
            "AND revoked_by_id IS NULL)",
            name="revocation_fields"),
        # A rendered certificate names its stored file.
        CheckConstraint(f"(render_state = '{RenderState.RENDERED}') = (pdf_sha256 IS NOT NULL)",
                        name="rendered_has_file"),
        # A certificate names the one that replaced it exactly when it was revoked for that.
        CheckConstraint(
            f"(revocation_reason = '{RevocationReason.SUPERSEDED}' AND superseded_by_id IS NOT NULL) OR "
            f"((revocation_reason IS NULL OR revocation_reason <> '{RevocationReason.SUPERSEDED}') "
            "AND superseded_by_id IS NULL)",
            name="superseded_by_set"),
        CheckConstraint("valid_until >= valid_from", name="validity_order"),
        CheckConstraint("sequence > 0", name="sequence_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)

    # As issued: later changes of the organisation or the rule file do not alter a certificate.
    organisation_name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    rule_set_id: Mapped[str] = mapped_column(String(100))
    rule_set_version: Mapped[str] = mapped_column(String(40))
    standard_code: Mapped[str] = mapped_column(String(100))
    standard_title_zh: Mapped[str] = mapped_column(String(300))
    standard_title_en: Mapped[str] = mapped_column(String(300))

    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)

    status: Mapped[CertificateStatus] = mapped_column(
        enum_column(CertificateStatus, "certificate_status"), default=CertificateStatus.VALID)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revocation_reason: Mapped[RevocationReason | None] = mapped_column(
        enum_column(RevocationReason, "revocation_reason"))
    revocation_note: Mapped[str | None] = mapped_column(Text)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The certificate that replaced this one (revoked as superseded).
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    # The recognition of a zero-carbon unit at the acceptance of its construction pilot: it states
    # the kind's ``recognition`` title (零碳工厂, 零碳园区), not the pilot listing's.
    is_recognition: Mapped[bool] = mapped_column(default=False, server_default=false())

    render_state: Mapped[RenderState] = mapped_column(
        enum_column(RenderState, "certificate_render_state"), default=RenderState.PENDING)
    render_error: Mapped[str | None] = mapped_column(Text)
    rendered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    pdf_size: Mapped[int | None] = mapped_column(Integer)
    is_signed: Mapped[bool] = mapped_column(default=False)
    # The signing certificate's subject and SHA-256 fingerprint, when signed.
    signer_subject: Mapped[str | None] = mapped_column(String(300))
    signer_fingerprint: Mapped[str | None] = mapped_column(String(64))

    application: Mapped[Application] = relationship()
    issued_by = relationship("User", foreign_keys=[issued_by_id])
    revoked_by = relationship("User", foreign_keys=[revoked_by_id])
    superseded_by: Mapped["Certificate | None"] = relationship(remote_side="Certificate.id")

    @property
    def title(self) -> Bilingual:
        """What the certificate recognises, as it states it: the kind's certificate title, or
        its recognition title for a recognition."""
        kind = kind_of(self.kind)
        return kind.recognition if self.is_recognition and kind.recognition else kind.certificate

    def public_status(self, today: date) -> CertificateStatus:
        """What the public is told on ``today`` (a China Standard Time date): revoked, else
        expired once the last valid day has passed (even before the expiry command runs)."""
        return public_status(self.status, self.valid_until, today)

    @property
    def filename(self) -> str:
        return f"{self.number}.pdf"

    def __repr__(self) -> str:
        return f"<Certificate {self.number} {self.status}>"
