"""Re-scores: an administrator's deliberate re-scoring of a submitted application with today's
settings, keeping the result shown before beside the new one."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.extensions import db
from certify.timeutil import utcnow


class Rescore(db.Model):
    """One result replaced by a re-score: the self-assessment's (``score_sheet_id`` empty) or a
    submitted score sheet's."""

    __tablename__ = "rescores"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    score_sheet_id: Mapped[int | None] = mapped_column(ForeignKey("score_sheets.id"))
    previous: Mapped[dict] = mapped_column(JSON)
    current: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    rescored_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    rescored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    rescored_by = relationship("User")
