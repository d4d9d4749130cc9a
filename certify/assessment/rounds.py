"""The rounds of an application's assessment: each submission of the application is assessed in
a round of its own, and earlier rounds' assignments stay as history."""

from sqlalchemy import func, select

from certify.applications.models import Application, Submission
from certify.assessment.models import ACTIVE_ASSIGNMENT, Assignment, AssignmentStatus
from certify.extensions import db


def current_round(application: Application) -> int:
    """The number of the application's latest submission: the round being assessed."""
    return db.session.execute(
        select(func.coalesce(func.max(Submission.number), 0))
        .where(Submission.application_id == application.id)
    ).scalar_one()


def current_assignments(application: Application) -> list[Assignment]:
    """The standing assignments of the round being assessed (the latest submission), lead
    first. Earlier rounds' assignments stay as history."""
    return db.session.execute(
        select(Assignment).where(Assignment.application_id == application.id,
                                 Assignment.submission_number == current_round(application),
                                 Assignment.status.in_(ACTIVE_ASSIGNMENT))
        .order_by(Assignment.role, Assignment.id)
    ).scalars().all()


def assignment_history(application: Application) -> list[Assignment]:
    """Every assignment of the application, of every round, the latest first."""
    return db.session.execute(
        select(Assignment).where(Assignment.application_id == application.id)
        .order_by(Assignment.assigned_at.desc(), Assignment.id.desc())
    ).scalars().all()


def last_round_assignments(application: Application) -> list[Assignment]:
    """The submitted assignments of the latest assessed round (the round before a return)."""
    latest = db.session.execute(
        select(func.max(Assignment.submission_number)).where(
            Assignment.application_id == application.id,
            Assignment.status == AssignmentStatus.SUBMITTED)
    ).scalar()
    if latest is None:
        return []
    return db.session.execute(
        select(Assignment).where(Assignment.application_id == application.id,
                                 Assignment.submission_number == latest,
                                 Assignment.status == AssignmentStatus.SUBMITTED)
        .order_by(Assignment.role)
    ).scalars().all()
