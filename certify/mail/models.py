"""Every message the system sends is kept here, so admins can read what went out (and, without
SMTP, read the messages themselves)."""

import enum
from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from certify.extensions import db
from certify.organisations.models import enum_column
from certify.timeutil import utcnow


class MailStatus(enum.StrEnum):
    LOGGED = "logged"  # no SMTP server configured: the log is the delivery
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class MailMessage(db.Model):
    __tablename__ = "mail_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[MailStatus] = mapped_column(enum_column(MailStatus, "mail_status"))
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
