"""The assessment's e-mails, each from its own template in ``templates/mail/`` and in the
recipient's language: the assessor hears of an assignment made, cancelled or withdrawn; the
administrator who made it hears whether the assessor accepted or declined.

(The reminders of assessments due soon or overdue are sent by ``flask reminders send``; the
applicant hears of the application's own steps through ``certify.notifications``.)"""

from sqlalchemy import select

from certify.assessment.models import Assignment, AssignmentStatus
from certify.auth.models import Role, User
from certify.core.urls import absolute_url
from certify.extensions import db
from certify.mail.services import send_mail


def _mail(person: User, template: str, assignment: Assignment, link: str, **context) -> None:
    send_mail(person.email, template, language=person.preferred_language, user=person,
              assignment=assignment, application=assignment.application, link=link, **context)


def _assessor_link(assignment: Assignment) -> str:
    return absolute_url("assessment.assignment", assignment_id=assignment.id)


def _assigners(assignment: Assignment) -> list[User]:
    """The administrator who made the assignment, or every active administrator when that
    account is no longer active."""
    assigner = assignment.assigned_by
    if assigner is not None and assigner.is_active:
        return [assigner]
    return db.session.execute(
        select(User).where(User.role == Role.ADMIN, User.is_active.is_(True))).scalars().all()


def tell_assigned(assignment: Assignment) -> None:
    """The assessor: assigned, as lead or second, due on a date; accept or decline."""
    _mail(assignment.assessor, "assessment_assigned", assignment, _assessor_link(assignment))


def tell_response(assignment: Assignment) -> None:
    """The administrator: the assessor accepted, or declined with a reason."""
    template = ("assessment_declined" if assignment.status == AssignmentStatus.DECLINED
                else "assessment_accepted")
    link = absolute_url("assessment.application", application_id=assignment.application_id)
    for person in _assigners(assignment):
        if person.id != assignment.assessor_id:
            _mail(person, template, assignment, link)


def tell_cancelled(assignment: Assignment) -> None:
    """The second assessor, when the lead declined: the assignment ended without their doing
    (the link leads to their list: an ended assignment's page is closed to them)."""
    _mail(assignment.assessor, "assessment_cancelled", assignment,
          absolute_url("assessment.my_assignments"))


def tell_withdrawn(assignment: Assignment) -> None:
    """The assessor: the department took the assignment back, and why."""
    _mail(assignment.assessor, "assessment_withdrawn", assignment,
          absolute_url("assessment.my_assignments"))
