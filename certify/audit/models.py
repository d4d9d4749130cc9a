"""The audit log: one row per change, each hashed together with the previous row's hash, so that
editing, deleting or inserting a row afterwards breaks the chain at that row.

Rows written since the audit key exists carry its id (``key_id``) and an HMAC-SHA256 made with
it; rows written before carry no key id and a plain SHA-256, and can only come before the first
keyed row (see ``certify.audit.services``)."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.extensions import db
from certify.timeutil import utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # Unique: two events can never follow the same row, so the chain cannot fork.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The id of the audit key the hash was made with; NULL for the plain SHA-256 of earlier rows.
    key_id: Mapped[str | None] = mapped_column(String(16))

    actor = relationship("User", lazy="joined")

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.object_type}:{self.object_id}>"
