"""Who may run grading, read every grade, and decide on parks proposed for removal: the
department. A unit reads its own grades only (its organisation's, never by an id it names)."""

from certify.auth.models import Role


def can_manage_grades(user) -> bool:
    return user is not None and user.is_authenticated and user.role == Role.ADMIN


def can_see_own_grades(user) -> bool:
    return (user is not None and user.is_authenticated and user.role == Role.APPLICANT
            and user.organisation_id is not None)
