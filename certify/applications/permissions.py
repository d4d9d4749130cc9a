"""Who may see and change an application. Views check these for every object they touch;
templates use them to show only what the user may do."""

from certify.auth.models import Role
from certify.organisations.models import APPLICANT_KINDS
from certify.workflow import EDITABLE


def is_own_application(user, application) -> bool:
    return (user.is_authenticated and user.role == Role.APPLICANT
            and application.organisation_id == user.organisation_id)


def can_view_application(user, application) -> bool:
    if not user.is_authenticated:
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.ASSESSOR:
        from certify.assessment.permissions import is_assigned_assessor

        return is_assigned_assessor(user, application)
    return is_own_application(user, application)


def can_edit_application(user, application) -> bool:
    return is_own_application(user, application) and application.status in EDITABLE


def can_open_application(user) -> bool:
    return (user.is_authenticated and user.role == Role.APPLICANT
            and user.organisation.kind in APPLICANT_KINDS)
