"""Ongoing management (动态管理): the self-declarations listed organisations file each period,
and the record of reminders sent, so that each reminder goes once per window (the steps taken on missed declarations among them)."""

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.applications.models import Application
from certify.extensions import db
from certify.organisations.models import enum_column
from certify.timeutil import utcnow


class DeclarationStatus(enum.StrEnum):
    DRAFT = "draft"            # being filled in by the organisation
    SUBMITTED = "submitted"    # waiting for the department's review
    REVIEWED = "reviewed"      # read by the department, with a note


DECLARATION_STATUS_LABELS = {
    DeclarationStatus.DRAFT: _l("Draft"),
    DeclarationStatus.SUBMITTED: _l("Submitted"),
    DeclarationStatus.REVIEWED: _l("Reviewed"),
}


class Declaration(db.Model):
    """One listed application's self-declaration (自我声明) for one period: the current values of
    its key metrics beside the values at certification, and the veto statements.

    ``certified_values`` is copied when the declaration is opened (indicator id -> {"value",
    "source": "assessor" | "self"}), so the comparison the department reads never moves;
    ``values`` holds the answers as stored for the rule set: a decimal string for a plain metric,
    the figures it is computed from ({input key: decimal string}) for a computed one (their values
    are read through ``management.services.declared_values``); ``flags`` is what submission found
    (a list of {"kind", "indicator_id"?}), and ``is_flagged`` says whether it found anything.
    """

    __tablename__ = "declarations"
    __table_args__ = (
        UniqueConstraint("application_id", "period", name="uq_declarations_application_period"),
        Index("ix_declarations_status_flagged", "status", "is_flagged"),
        CheckConstraint(f"status = '{DeclarationStatus.DRAFT}' OR submitted_at IS NOT NULL",
                        name="submitted_at_set"),
        CheckConstraint(f"status != '{DeclarationStatus.REVIEWED}' OR reviewed_at IS NOT NULL",
                        name="reviewed_at_set"),
        CheckConstraint("NOT is_late OR submitted_at IS NOT NULL", name="late_only_when_submitted"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The period is named by its due date (e.g. 2026-07-15), a China Standard Time date.
    period: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[DeclarationStatus] = mapped_column(
        enum_column(DeclarationStatus, "declaration_status"), default=DeclarationStatus.DRAFT)

    certified_values: Mapped[dict] = mapped_column(JSON, default=dict)
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    # Veto statements: None until answered.
    no_major_accident: Mapped[bool | None]
    no_environmental_event: Mapped[bool | None]
    no_change: Mapped[bool | None]
    change_description: Mapped[str] = mapped_column(Text, default="")

    flags: Mapped[list] = mapped_column(JSON, default=list)
    is_flagged: Mapped[bool] = mapped_column(default=False)

    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Submitted after the period's due date (a missed period declared late).
    is_late: Mapped[bool] = mapped_column(default=False)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_note: Mapped[str] = mapped_column(Text, default="")
    # Optimistic locking: two colleagues saving the same draft never overwrite each other silently.
    version: Mapped[int] = mapped_column(Integer, default=1)

    application: Mapped[Application] = relationship(lazy="joined")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_draft(self) -> bool:
        return self.status == DeclarationStatus.DRAFT

    def __repr__(self) -> str:
        return f"<Declaration {self.id} app={self.application_id} {self.period} {self.status}>"


class ReminderKind(enum.StrEnum):
    CERTIFICATE_EXPIRY = "certificate_expiry"
    DECLARATION_DUE = "declaration_due"
    ASSESSMENT_OVERDUE = "assessment_overdue"
    OBJECTION_PENDING = "objection_pending"
    ASSESSMENT_DUE_SOON = "assessment_due_soon"
    # The steps taken when a listed application misses declarations: its object is the
    # application, its window the period missed.
    DECLARATION_MISSED_WARNING = "declaration_missed_warning"
    DECLARATION_REVIEW_PROPOSAL = "declaration_review_proposal"
    # A construction pilot's yearly progress report (certify.pilots.reminders): its object is the
    # application, its window the period.
    PILOT_REPORT_DUE = "pilot_report_due"
    PILOT_REPORT_OVERDUE = "pilot_report_overdue"


# The escalation steps of missed declarations, in order.
MISSED_STEPS = (ReminderKind.DECLARATION_MISSED_WARNING, ReminderKind.DECLARATION_REVIEW_PROPOSAL)
MISSED_STEP_LABELS = {
    ReminderKind.DECLARATION_MISSED_WARNING: _l("Warned"),
    ReminderKind.DECLARATION_REVIEW_PROPOSAL: _l("Proposed for review"),
}
REMINDER_KIND_LABELS = {
    ReminderKind.DECLARATION_DUE: _l("Reminder before the due date"),
    ReminderKind.DECLARATION_MISSED_WARNING: _l("Warning"),
    ReminderKind.DECLARATION_REVIEW_PROPOSAL: _l("Proposal for review"),
}


class ReminderSent(db.Model):
    """That the reminder of ``kind`` about object ``object_id`` went out for ``window_key`` (a
    certificate's last valid day, a declaration period, or the day for daily reminders). The
    unique key is what makes ``flask reminders send`` safe to run again."""

    __tablename__ = "reminders_sent"
    __table_args__ = (
        UniqueConstraint("kind", "object_id", "window_key",
                         name="uq_reminders_sent_kind_object_window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReminderKind] = mapped_column(enum_column(ReminderKind, "reminder_kind"))
    object_id: Mapped[int] = mapped_column(Integer)
    window_key: Mapped[str] = mapped_column(String(20))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
