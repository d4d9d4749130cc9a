"""Who may see and do what in assessment. Views check these for every object they load (404 for
objects the user may not reach); templates use them to show only what the user may do.

An assessor reaches an application only through an assignment that is theirs and still stands
(waiting, accepted or submitted): a declined or cancelled assignment gives no access. Scoring is
blind: an assessor sees another assessor's sheet only once both sheets are submitted.
"""

from sqlalchemy import select

from certify.applications.permissions import grants_view, is_own_application
from certify.assessment.models import (
    ACTIVE_ASSIGNMENT,
    Assignment,
    AssignmentStatus,
    ScoreSheet,
)
from certify.auth.models import Role
from certify.extensions import db
from certify.workflow import DECIDED, Status


def _is_admin(user) -> bool:
    return user.is_authenticated and user.role == Role.ADMIN


def _is_assessor(user) -> bool:
    return user.is_authenticated and user.role == Role.ASSESSOR and user.is_active


@grants_view
def is_assigned_assessor(user, application) -> bool:
    """Whether ``user`` is an assessor with a standing assignment on ``application``."""
    if not _is_assessor(user):
        return False
    return db.session.execute(
        select(Assignment.id).where(Assignment.application_id == application.id,
                                    Assignment.assessor_id == user.id,
                                    Assignment.status.in_(ACTIVE_ASSIGNMENT)).limit(1)
    ).first() is not None


def can_manage_assessment(user) -> bool:
    """Agencies, assessors, conflicts and assignments are managed by administrators."""
    return _is_admin(user)


def can_view_assignment(user, assignment: Assignment) -> bool:
    if _is_admin(user):
        return True
    return (_is_assessor(user) and assignment.assessor_id == user.id
            and assignment.status in ACTIVE_ASSIGNMENT)


def can_respond_to_assignment(user, assignment: Assignment) -> bool:
    """Accept or decline: the assessor themself, while the assignment waits."""
    return (_is_assessor(user) and assignment.assessor_id == user.id
            and assignment.status == AssignmentStatus.PENDING)


def can_score(user, assignment: Assignment) -> bool:
    """Change the score sheet: the assessor themself, after accepting and before submitting."""
    return (_is_assessor(user) and assignment.assessor_id == user.id
            and assignment.status == AssignmentStatus.ACCEPTED)


def can_see_sheet(user, sheet: ScoreSheet, own_sheet: ScoreSheet | None = None) -> bool:
    """Administrators see submitted sheets; an assessor sees their own sheet always and a
    colleague's only when both are submitted (``own_sheet`` is the viewer's sheet on the same
    application)."""
    if sheet.assignment.assessor_id == getattr(user, "id", None) and _is_assessor(user):
        return True
    if not sheet.is_submitted:
        return False
    if _is_admin(user):
        return True
    return (own_sheet is not None and own_sheet.is_submitted
            and own_sheet.assignment.application_id == sheet.assignment.application_id
            and can_view_assignment(user, own_sheet.assignment))


def can_declare_conflicts(user, assessor) -> bool:
    """Assessors declare their own conflicts; administrators record them for any assessor."""
    return _is_admin(user) or (_is_assessor(user) and user.id == assessor.id)


def can_download_report(user, application) -> bool:
    """Administrators and the application's assessors; the applicant once the department has
    decided (before, the report is the department's working paper)."""
    if _is_admin(user) or is_assigned_assessor(user, application):
        return True
    return is_own_application(user, application) and application.status in DECIDED


def can_read_assessor_comments(user, application) -> bool:
    """The applicant reads the comments marked visible to it (never internal notes) when the
    application has been returned to it for changes, or after the decision."""
    return is_own_application(user, application) and (
        application.status == Status.DRAFT or application.status in DECIDED)
