"""Zero-carbon construction pilots (零碳工厂、零碳园区建设试点): the yearly progress reports of a
listed pilot, and the department's mid-term review and final acceptance of it.

A pilot is a listed application of a pilot kind (``PILOT_KINDS``): its listing and certificate are
the pilot list of the kind. ``Pilot`` holds what the department decided on it afterwards and is
created by the first of those decisions or reports; ``PilotReport`` is one year's report.
"""

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Date, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.applications.models import Application
from certify.extensions import db
from certify.organisations.models import enum_column
from certify.timeutil import utcnow

# The kinds of kinds.yaml whose listing is a construction pilot (docs/sources/tiers-and-zero-carbon.md
# §4–§6): yearly reports, a mid-term review, and acceptance at the end of construction.
PILOT_KINDS = frozenset({"zero_carbon_factory", "zero_carbon_park"})
# "将通过3年左右的建设期" (Sichuan's pilot list, §6; about three years, not verified): shown as the
# expected end of construction, not enforced — the department records acceptance when it is over.
CONSTRUCTION_YEARS = 3
# "试点建设期满1年后…组织开展中期评估" (§6, not verified): from the first anniversary of listing.
MIDTERM_AFTER_YEARS = 1


class PilotStatus(enum.StrEnum):
    UNDER_CONSTRUCTION = "under_construction"   # listed; reports yearly
    REMOVED = "removed"                         # taken off the pilot list at the mid-term review
    ACCEPTED = "accepted"                       # passed final acceptance (验收)
    REFUSED = "refused"                         # failed final acceptance


PILOT_STATUS_LABELS = {
    PilotStatus.UNDER_CONSTRUCTION: _l("Under construction"),
    PilotStatus.REMOVED: _l("Removed from the pilot list"),
    PilotStatus.ACCEPTED: _l("Accepted"),
    PilotStatus.REFUSED: _l("Not accepted"),
}


class MidtermDecision(enum.StrEnum):
    CONTINUE = "continue"
    REMOVE = "remove"


MIDTERM_DECISION_LABELS = {
    MidtermDecision.CONTINUE: _l("Continue the pilot"),
    MidtermDecision.REMOVE: _l("Remove from the pilot list"),
}


class Pilot(db.Model):
    """The department's decisions on one pilot: the mid-term review and the final acceptance,
    with the final figures, the core value computed from them and the threshold it was held to."""

    __tablename__ = "pilots"
    __table_args__ = (
        CheckConstraint("midterm_decision IS NULL OR midterm_at IS NOT NULL", name="midterm_at_set"),
        CheckConstraint(f"status NOT IN ('{PilotStatus.ACCEPTED}', '{PilotStatus.REFUSED}') "
                        "OR accepted_at IS NOT NULL", name="acceptance_at_set"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[PilotStatus] = mapped_column(enum_column(PilotStatus, "pilot_status"),
                                                default=PilotStatus.UNDER_CONSTRUCTION)

    midterm_decision: Mapped[MidtermDecision | None] = mapped_column(
        enum_column(MidtermDecision, "pilot_midterm_decision"))
    midterm_reason: Mapped[str] = mapped_column(Text, default="")
    midterm_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    midterm_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    # Final acceptance: the figures as given ({input key: decimal string}), the indicator they
    # were checked against, the value computed and the threshold in force.
    final_figures: Mapped[dict] = mapped_column(JSON, default=dict)
    final_indicator_id: Mapped[str] = mapped_column(String(80), default="")
    final_value: Mapped[str] = mapped_column(String(40), default="")
    final_threshold: Mapped[str] = mapped_column(String(40), default="")
    acceptance_note: Mapped[str] = mapped_column(Text, default="")
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    application: Mapped[Application] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Pilot {self.id} app={self.application_id} {self.status}>"


class PilotReport(db.Model):
    """A pilot's progress report (试点工作进展情况) for one period, named by its due date: the
    current figures of its indicators (stored as answers are: id -> value or {input: value}),
    the values at the base year copied when filed, and a narrative."""

    __tablename__ = "pilot_reports"
    __table_args__ = (
        UniqueConstraint("application_id", "period", name="uq_pilot_reports_application_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    period: Mapped[date] = mapped_column(Date, index=True)
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    base_values: Mapped[dict] = mapped_column(JSON, default=dict)
    narrative: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Filed after the period's due date.
    is_late: Mapped[bool] = mapped_column(default=False)

    application: Mapped[Application] = relationship(lazy="joined")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])

    def __repr__(self) -> str:
        return f"<PilotReport {self.id} app={self.application_id} {self.period}>"
