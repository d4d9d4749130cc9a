"""Who sees and clears plausibility flags: administrators, and the assessors assigned to the
application (a standing assignment). Applicants do not see them: a flag is a question for the
people checking the figures, who ask the applicant where they need to. Views check these for
every flag they load."""

from certify.assessment.permissions import is_assigned_assessor
from certify.auth.models import Role


def can_view_flags(user, application) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.role == Role.ADMIN:
        return True
    return is_assigned_assessor(user, application)


def can_clear_flag(user, flag) -> bool:
    """An open flag, cleared by an administrator or an assessor assigned to its application."""
    return flag.is_open and can_view_flags(user, flag.application)
