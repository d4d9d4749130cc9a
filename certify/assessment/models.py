"""Third-party assessment: agencies' details, assessors' expertise and declared conflicts,
assignments of assessors to applications, their score sheets and the evaluation reports.

An agency is an ``Organisation`` of kind ``agency``; an assessor is a ``User`` of role ``assessor``
belonging to one. The tables here add what assessment needs to them.
"""

import enum
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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.applications.models import Application
from certify.auth.models import User
from certify.extensions import db
from certify.organisations.models import Organisation, enum_column
from certify.timeutil import utcnow


class AgencyProfile(db.Model):
    """What the evaluation report says about an agency: the legal representative who signs the
    integrity pledge (诚信承诺书) and the agency's qualification."""

    __tablename__ = "agency_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    legal_representative: Mapped[str] = mapped_column(String(100), default="")
    qualification: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="joined")


class AssessorProfile(db.Model):
    """An assessor's expertise: the kinds of recognition and the industries (GB/T 4754 division
    codes) they evaluate, and the city they work from (used to rank suggestions)."""

    __tablename__ = "assessor_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    # Lists of application kind values and of industry codes; empty means none declared.
    kinds: Mapped[list] = mapped_column(JSON, default=list)
    industries: Mapped[list] = mapped_column(JSON, default=list)
    city_code: Mapped[str | None] = mapped_column(String(6))
    title: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class ConflictRelation(enum.StrEnum):
    CONSULTED = "consulted"
    EMPLOYED = "employed"
    INVESTED = "invested"
    RELATIVE = "relative"
    OTHER = "other"


RELATION_LABELS = {
    ConflictRelation.CONSULTED: _l("Consulted for the organisation"),
    ConflictRelation.EMPLOYED: _l("Employed by the organisation"),
    ConflictRelation.INVESTED: _l("Holds shares in the organisation"),
    ConflictRelation.RELATIVE: _l("A close relative works there"),
    ConflictRelation.OTHER: _l("Other relation"),
}


class ConflictDeclaration(db.Model):
    """An assessor's declared relation with an organisation, identified by its unified social
    credit code (so that a relation can be declared before the organisation registers).
    Withdrawn declarations keep their row for the audit trail."""

    __tablename__ = "conflict_declarations"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="period_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    organisation_name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[ConflictRelation] = mapped_column(enum_column(ConflictRelation, "conflict_relation"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)  # None: still going on
    note: Mapped[str] = mapped_column(String(500), default="")
    declared_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    assessor: Mapped[User] = relationship(foreign_keys=[assessor_id])


class AssessorRole(enum.StrEnum):
    LEAD = "lead"
    SECOND = "second"


class AssignmentStatus(enum.StrEnum):
    PENDING = "pending"        # waiting for the assessor to accept or decline
    ACCEPTED = "accepted"      # scoring
    SUBMITTED = "submitted"    # score sheet submitted
    DECLINED = "declined"      # the assessor declined, with a reason
    CANCELLED = "cancelled"    # ended by the system: the lead declined, or the application was returned
    WITHDRAWN = "withdrawn"    # taken back by the department, with a reason (e.g. long overdue)


# Assignments that hold the assessor's place on the application (and count against the cap).
ACTIVE_ASSIGNMENT = frozenset({AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED, AssignmentStatus.SUBMITTED})
# Assignments still waiting for the assessor: to accept or decline, or to submit the score sheet.
OPEN_ASSIGNMENT = frozenset({AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED})

ROLE_LABELS = {AssessorRole.LEAD: _l("Lead assessor"), AssessorRole.SECOND: _l("Second assessor")}
ASSIGNMENT_STATUS_LABELS = {
    AssignmentStatus.PENDING: _l("Waiting for acceptance"),
    AssignmentStatus.ACCEPTED: _l("Scoring"),
    AssignmentStatus.SUBMITTED: _l("Submitted"),
    AssignmentStatus.DECLINED: _l("Declined"),
    AssignmentStatus.CANCELLED: _l("Cancelled"),
    AssignmentStatus.WITHDRAWN: _l("Withdrawn by the department"),
}


class Assignment(db.Model):
    """One assessor on one application, as lead or second assessor. The agency is recorded at
    assignment time, so that the yearly cap counts the agency that did the work even if the
    assessor later moves."""

    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_application_status", "application_id", "status"),
        Index("ix_assignments_agency_assigned_on", "agency_id", "assigned_on"),
        Index("ix_assignments_assessor_due", "assessor_id", "due_on"),  # an assessor's list
        Index("ix_assignments_status_due", "status", "due_on", "id"),  # assessments under way
        CheckConstraint(f"status != '{AssignmentStatus.DECLINED}' OR decline_reason IS NOT NULL",
                        name="declined_with_reason"),
        CheckConstraint(f"status != '{AssignmentStatus.SUBMITTED}' OR submitted_at IS NOT NULL",
                        name="submitted_at_set"),
        CheckConstraint(f"status != '{AssignmentStatus.WITHDRAWN}' OR withdrawal_reason IS NOT NULL",
                        name="withdrawn_with_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    assessor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[AssessorRole] = mapped_column(enum_column(AssessorRole, "assessor_role"))
    # The submission assessed: an application returned and submitted again is a new round.
    submission_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[AssignmentStatus] = mapped_column(
        enum_column(AssignmentStatus, "assignment_status"), default=AssignmentStatus.PENDING)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The day of assignment in China Standard Time: the calendar year of the cap.
    assigned_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when the department takes the assignment back: who did, and why.
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    application: Mapped[Application] = relationship(lazy="joined")
    assessor: Mapped[User] = relationship(foreign_keys=[assessor_id], lazy="joined")
    agency: Mapped[Organisation] = relationship(foreign_keys=[agency_id])
    assigned_by: Mapped[User] = relationship(foreign_keys=[assigned_by_id])
    sheet: Mapped["ScoreSheet | None"] = relationship(back_populates="assignment", uselist=False)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ASSIGNMENT

    def is_overdue(self, today: date) -> bool:
        """Still open after its due date."""
        return self.is_open and self.due_on < today

    def __repr__(self) -> str:
        return f"<Assignment {self.id} {self.role} {self.status} app={self.application_id}>"


class Recommendation(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    RETURN = "return"


RECOMMENDATION_LABELS = {
    Recommendation.APPROVE: _l("Approve"),
    Recommendation.REJECT: _l("Reject"),
    Recommendation.RETURN: _l("Return to the applicant with questions"),
}
MAX_HIGHLIGHTS_LENGTH = 100


class ScoreSheet(db.Model):
    """One assessor's scoring of one application, against the application's pinned rule set.

    ``answers`` has the stored form of the applicant's answers (see ``rulesets/forms.py``),
    so the same engine scores both. ``notes`` maps indicator id -> note kind (the rule file's
    ``assessor_notes``, e.g. ``comment`` and ``internal``) -> text. The total and pass are the
    engine's, kept from the last save; ``result`` is the full engine output frozen at submission,
    with the application's threshold and its source, and is what every page shows from then on.
    """

    __tablename__ = "score_sheets"
    __table_args__ = (
        CheckConstraint(f"highlights IS NULL OR length(highlights) <= {MAX_HIGHLIGHTS_LENGTH}",
                        name="highlights_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), unique=True)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    answer_texts: Mapped[dict] = mapped_column(JSON, default=dict)
    notes: Mapped[dict] = mapped_column(JSON, default=dict)
    # The assessor's decision on each of the applicant's not-applicable declarations:
    # indicator id -> "confirmed" or "refused" (a refused one is scored like any other).
    not_applicable: Mapped[dict] = mapped_column(JSON, default=dict)
    site_visit_on: Mapped[date | None] = mapped_column(Date)
    site_visit_participants: Mapped[str] = mapped_column(Text, default="")
    site_visit_findings: Mapped[str] = mapped_column(Text, default="")
    recommendation: Mapped[Recommendation | None] = mapped_column(
        enum_column(Recommendation, "recommendation"))
    return_questions: Mapped[str] = mapped_column(Text, default="")
    conclusion: Mapped[str] = mapped_column(Text, default="")
    highlights: Mapped[str | None] = mapped_column(String(MAX_HIGHLIGHTS_LENGTH))
    total: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    passed: Mapped[bool | None]
    result: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Optimistic locking: a save based on an older version is refused, never silently lost.
    version: Mapped[int] = mapped_column(Integer, default=1)

    assignment: Mapped[Assignment] = relationship(back_populates="sheet", lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None


class EvaluationReport(db.Model):
    """The third-party evaluation report (第三方评价报告) of one assessment round, stored as a PDF
    in the content-addressed storage."""

    __tablename__ = "evaluation_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    application: Mapped[Application] = relationship()
