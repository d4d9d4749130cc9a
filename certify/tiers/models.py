"""The city bureau's pre-review of an application (市（州）经济和信息化局确认推荐).

The pre-review is a record beside the workflow, not a state of it: a submitted application of a
kind that needs it waits, still ``submitted``, until its city bureau recommends it (the province
may then assign assessors) or returns it (the workflow's return, to ``draft``). Every decision is
a new row; the newest is the current one.
"""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.applications.models import Application
from certify.extensions import db
from certify.organisations.models import enum_column
from certify.timeutil import utcnow


class CityDecision(enum.StrEnum):
    RECOMMENDED = "recommended"
    RETURNED = "returned"


CITY_DECISION_LABELS = {
    CityDecision.RECOMMENDED: _l("Recommended to the province"),
    CityDecision.RETURNED: _l("Returned to the applicant"),
}


class CityReview(db.Model):
    __tablename__ = "city_reviews"
    __table_args__ = (
        CheckConstraint("length(opinion) > 0", name="opinion_required"),
        Index("ix_city_reviews_application_reviewed", "application_id", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    # The bureau's city, as it was when it decided (an organisation may move city later).
    city_code: Mapped[str] = mapped_column(String(6), index=True)
    decision: Mapped[CityDecision] = mapped_column(enum_column(CityDecision, "city_decision"))
    opinion: Mapped[str] = mapped_column(Text)
    reviewed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    application: Mapped[Application] = relationship()
    reviewed_by = relationship("User")

    def __repr__(self) -> str:
        return f"<CityReview {self.id} application={self.application_id} {self.decision}>"
