"""Applications, the evidence attached to them, and the snapshot kept at each submission."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.applications.kinds import kind_code
from certify.extensions import db
from certify.organisations.models import Organisation, enum_column
from certify.timeutil import utcnow
from certify.workflow import Status


class Application(db.Model):
    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_status_kind", "status", "kind"),
        Index("ix_applications_organisation_status", "organisation_id", "status"),
        # Every filter and sort of the lists (admin list, decision queue, assessment queue).
        Index("ix_applications_status_created", "status", "created_at"),
        Index("ix_applications_status_updated", "status", "updated_at"),
        Index("ix_applications_status_submitted", "status", "submitted_at"),
        Index("ix_applications_kind_created", "kind", "created_at"),
        Index("ix_applications_submitted_at", "submitted_at"),
        Index("ix_applications_updated_at", "updated_at"),
        # Covers what list joins read (a row itself carries its frozen rule file and answers,
        # tens of KB, which SQLite would otherwise step through for each joined row).
        Index("ix_applications_listing", "id", "kind", "status", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    # The kind of recognition, by its key in criteria/vocabulary/kinds.yaml (``applications.kinds``).
    kind: Mapped[str] = mapped_column(String(40))
    # What is recognised: a production site, a product and its models, a park, a group.
    subject: Mapped[str] = mapped_column(String(200))
    subject_detail: Mapped[str] = mapped_column(String(500), default="")
    industry_code: Mapped[str | None] = mapped_column(String(4))
    status: Mapped[Status] = mapped_column(enum_column(Status, "application_status"), default=Status.DRAFT)
    # Optimistic locking: every update checks and increments it.
    version: Mapped[int] = mapped_column(Integer, default=1)

    # The rule set pinned when the application was opened; later edits of the file change nothing.
    rule_set_id: Mapped[str] = mapped_column(String(100))
    rule_set_version: Mapped[str] = mapped_column(String(40))
    rule_set_sha256: Mapped[str] = mapped_column(String(64))
    # Deferred: tens of KB that only a page about this one application reads (lists never do).
    rule_set_frozen: Mapped[dict] = mapped_column(JSON, deferred=True)

    # The pass threshold pinned when the application was opened, and where it came from
    # (``file``, or the CRITERIA_THRESHOLDS key that set it); see ``rulesets.applied``.
    threshold: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    threshold_source: Mapped[str] = mapped_column(String(200), default="file")

    # Self-assessment: indicator id -> answer (JSON scalars), -> the text typed where it differs
    # from the stored number, -> explanation; indicators declared not applicable -> the reason.
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    answer_texts: Mapped[dict] = mapped_column(JSON, default=dict)
    remarks: Mapped[dict] = mapped_column(JSON, default=dict)
    not_applicable: Mapped[dict] = mapped_column(JSON, default=dict)
    self_score_total: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    self_score_passed: Mapped[bool | None]
    # The self-assessment's whole result with its threshold and source, frozen at submission
    # (``Result.to_dict()``); every page, PDF and export shows it. Deferred, as lists never read it.
    self_result: Mapped[dict | None] = mapped_column(JSON, deferred=True)

    pledge_name: Mapped[str | None] = mapped_column(String(100))
    pledge_accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    return_note: Mapped[str | None] = mapped_column(Text)
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A re-evaluation names the listed application it renews (动态管理).
    previous_application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id"), index=True)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    created_by = relationship("User")
    # Current evidence only (deleted files keep their rows for the audit trail).
    evidence: Mapped[list["Evidence"]] = relationship(
        order_by="Evidence.id", viewonly=True,
        primaryjoin="and_(Evidence.application_id == Application.id, Evidence.deleted_at.is_(None))",
    )
    submissions: Mapped[list["Submission"]] = relationship(
        back_populates="application", order_by="Submission.number")
    previous_application: Mapped["Application | None"] = relationship(
        remote_side="Application.id", back_populates="re_evaluations")
    re_evaluations: Mapped[list["Application"]] = relationship(
        back_populates="previous_application", order_by="Application.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def reference(self) -> str:
        """A short reference people quote, e.g. ``GF-2026-000042``."""
        return reference(self)

    def __repr__(self) -> str:
        return f"<Application {self.id} {self.kind} {self.status}>"


def reference(application) -> str:
    """The reference of an application, or of a row with its ``kind``, ``created_at`` and ``id``."""
    return f"{kind_code(application.kind)}-{application.created_at.year}-{application.id:06d}"


class Evidence(db.Model):
    """A file attached to an application, for one indicator or for the application as a whole.
    Deleting keeps the row (``deleted_at``) so that the audit trail can name it."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    indicator_id: Mapped[str | None] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(255))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    application: Mapped[Application] = relationship()


class Submission(db.Model):
    """What the applicant sent at one submission: earlier versions stay viewable after a return."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("application_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    answers: Mapped[dict] = mapped_column(JSON)
    remarks: Mapped[dict] = mapped_column(JSON)
    evidence: Mapped[list] = mapped_column(JSON)
    self_score: Mapped[dict] = mapped_column(JSON)
    pledge_name: Mapped[str] = mapped_column(String(100))

    application: Mapped[Application] = relationship(back_populates="submissions")
    submitted_by = relationship("User")
