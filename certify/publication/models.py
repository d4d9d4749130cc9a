"""Decisions on assessed applications, publication batches with their notice period, the
entries of a batch, and objections raised by the public during the notice."""

import enum
import secrets
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.applications.models import Application
from certify.extensions import db
from certify.organisations.models import enum_column
from certify.timeutil import utcnow


class DecisionOutcome(enum.StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"


class Decision(db.Model):
    """An administrator's decision on an assessed application, with the reason given."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    outcome: Mapped[DecisionOutcome] = mapped_column(enum_column(DecisionOutcome, "decision_outcome"))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    application: Mapped[Application] = relationship()
    decided_by = relationship("User")


class BatchStatus(enum.StrEnum):
    DRAFT = "draft"
    IN_NOTICE = "in_notice"
    ANNOUNCED = "announced"


# Batches not announced yet: an application on one of them is on no other.
ACTIVE_BATCH = frozenset({BatchStatus.DRAFT, BatchStatus.IN_NOTICE})
# Batches the public reads: under notice, or announced.
PUBLIC_BATCH = frozenset({BatchStatus.IN_NOTICE, BatchStatus.ANNOUNCED})


class Batch(db.Model):
    """A list of approved applications published together: first for public notice (公示),
    then announced (公告)."""

    __tablename__ = "batches"
    __table_args__ = (Index("ix_batches_status_announced", "status", "announced_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kinds: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[BatchStatus] = mapped_column(enum_column(BatchStatus, "batch_status"),
                                                default=BatchStatus.DRAFT)
    notice_starts_on: Mapped[date] = mapped_column(Date)
    notice_ends_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    notice_opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    announced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    announced_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The open-data files stored once announced: {"csv": {"sha256": …, "size": …}, "xlsx": …, "json": …}
    exports: Mapped[dict | None] = mapped_column(JSON)
    # Entries of each kind, kept once announced (they never change after): {"factory": 120, …}.
    # The public lists count from these rather than over every entry.
    kind_counts: Mapped[dict | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)

    entries: Mapped[list["BatchEntry"]] = relationship(
        back_populates="batch", order_by="BatchEntry.id", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    @property
    def current_entries(self) -> list["BatchEntry"]:
        return [entry for entry in self.entries if entry.removed_at is None]


class BatchEntry(db.Model):
    """An application on a batch. An upheld objection removes it (the row stays, with why)."""

    __tablename__ = "batch_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removal_reason: Mapped[str | None] = mapped_column(Text)

    batch: Mapped[Batch] = relationship(back_populates="entries")
    application: Mapped[Application] = relationship(lazy="joined")


class ObjectionStatus(enum.StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


# Objections examined, with a resolution the objector reads.
RESOLVED_OBJECTION = frozenset({ObjectionStatus.UPHELD, ObjectionStatus.DISMISSED})


def new_objection_token() -> str:
    return secrets.token_urlsafe(24)


class Objection(db.Model):
    """An objection to an entry, raised by anyone during the notice period. The objector reads
    the outcome through a private link that carries ``token``."""

    __tablename__ = "objections"
    __table_args__ = (Index("ix_objections_batch_status", "batch_id", "status"),
                      Index("ix_objections_status", "status"))  # the workbench's count of open ones

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("batch_entries.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    contact: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    evidence_name: Mapped[str | None] = mapped_column(String(255))
    evidence_content_type: Mapped[str | None] = mapped_column(String(100))
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_objection_token)
    status: Mapped[ObjectionStatus] = mapped_column(enum_column(ObjectionStatus, "objection_status"),
                                                    default=ObjectionStatus.OPEN)
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    batch: Mapped[Batch] = relationship()
    entry: Mapped[BatchEntry] = relationship(lazy="joined")


BATCH_STATUS_LABELS = {
    BatchStatus.DRAFT: _l("Being prepared"),
    BatchStatus.IN_NOTICE: _l("Under public notice"),
    BatchStatus.ANNOUNCED: _l("Announced"),
}
OBJECTION_STATUS_LABELS = {
    ObjectionStatus.OPEN: _l("Being examined"),
    ObjectionStatus.UPHELD: _l("Upheld"),
    ObjectionStatus.DISMISSED: _l("Dismissed"),
}
