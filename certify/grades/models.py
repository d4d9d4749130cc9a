"""Cohort grades kept as history, and the department's decisions on parks proposed for removal.

A grading run grades one closed declaration period with the settings it records; every unit it
considered has one row in it. Running a period again makes a new run: the newest run of a period
is its current one, and the earlier ones stay as they were.
"""

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
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

from certify.applications.models import Application
from certify.extensions import db
from certify.grades.ranking import Grade, Outcome
from certify.organisations.models import Organisation, enum_column
from certify.timeutil import utcnow

GRADE_LABELS = {Grade.A_PLUS: "A+", Grade.A: "A", Grade.B: "B"}
OUTCOME_LABELS = {
    Outcome.GRADED: _l("Graded"),
    Outcome.SMALL_COHORT: _l("Not graded: cohort under the minimum size"),
    Outcome.WITHHELD: _l("Withheld: open plausibility flags"),
    Outcome.NO_VALUES: _l("Not graded: no indicator comparable within the cohort"),
    Outcome.NOT_DECLARED: _l("Not graded: no declaration submitted for the period"),
}

class GradingRun(db.Model):
    """One grading of a closed period: when, by whom (``None``: the command line), and the
    settings used (cohort fields, minimum size, shares, kinds), so that a past run can be read
    as it was made."""

    __tablename__ = "grading_runs"
    __table_args__ = (Index("ix_grading_runs_period_run_at", "period", "run_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[date] = mapped_column(Date)
    run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    run_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    units_count: Mapped[int] = mapped_column(Integer, default=0)

    run_by = relationship("User")
    grades: Mapped[list["UnitGrade"]] = relationship(back_populates="run", order_by="UnitGrade.id",
                                                     cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<GradingRun {self.id} {self.period}>"


class UnitGrade(db.Model):
    """A unit's result in one run: its cohort, composite and rank, and its grade — or why it has
    none (cohort too small, withheld with the reason, nothing comparable)."""

    __tablename__ = "unit_grades"
    __table_args__ = (
        UniqueConstraint("run_id", "application_id", name="uq_unit_grades_run_application"),
        Index("ix_unit_grades_run_cohort", "run_id", "cohort"),
        Index("ix_unit_grades_organisation", "organisation_id"),
        CheckConstraint(f"(outcome = '{Outcome.GRADED}') = (grade IS NOT NULL)",
                        name="grade_iff_graded"),
        CheckConstraint(f"outcome NOT IN ('{Outcome.GRADED}', '{Outcome.SMALL_COHORT}') "
                        "OR (composite IS NOT NULL AND rank IS NOT NULL)",
                        name="ranked_when_compared"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("grading_runs.id", ondelete="CASCADE"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    cohort: Mapped[str] = mapped_column(String(80))
    cohort_size: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[Outcome] = mapped_column(enum_column(Outcome, "grade_outcome"))
    grade: Mapped[Grade | None] = mapped_column(enum_column(Grade, "cohort_grade"))
    # The composite (0 worst … 1 best), rounded to six places for reading; the ranking used the
    # exact value.
    composite: Mapped[Decimal | None] = mapped_column(Numeric(9, 6, asdecimal=True))
    rank: Mapped[int | None] = mapped_column(Integer)
    tied_at_boundary: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(Text, default="")

    run: Mapped[GradingRun] = relationship(back_populates="grades")
    application: Mapped[Application] = relationship()
    organisation: Mapped[Organisation] = relationship()

    @property
    def grade_label(self) -> str:
        return GRADE_LABELS.get(self.grade, "") if self.grade else ""


class RemovalDecision(db.Model):
    """The department's decision on a park proposed for removal (bottom share of the parks for
    the years in a row ending with ``last_year``), with the figures it was shown."""

    __tablename__ = "removal_decisions"
    __table_args__ = (
        UniqueConstraint("application_id", "last_year", name="uq_removal_decisions_application_year"),
        CheckConstraint("decision IN ('keep', 'remove')", name="decision_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    last_year: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    figures: Mapped[list] = mapped_column(JSON, default=list)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    application: Mapped[Application] = relationship()
    decided_by = relationship("User")
