"""Who may file and read a pilot's progress reports, and decide on a pilot. Views check these for
every object they touch (a report or pilot of another organisation is a 404); templates use them
to show only what the user may do."""

from certify.applications.permissions import is_own_application
from certify.auth.models import Role
from certify.workflow import Status


def is_pilot_application(application) -> bool:
    from certify.pilots.models import PILOT_KINDS

    return application is not None and application.kind in PILOT_KINDS


def can_file_report(user, application, pilot=None) -> bool:
    """The pilot's own organisation, while it is listed and under construction."""
    from certify.pilots.models import PilotStatus

    return (is_pilot_application(application) and is_own_application(user, application)
            and application.status == Status.LISTED
            and (pilot is None or pilot.status == PilotStatus.UNDER_CONSTRUCTION))


def can_view_pilot(user, application) -> bool:
    """The pilot's own organisation and the department."""
    if not is_pilot_application(application) or not user.is_authenticated:
        return False
    return user.role == Role.ADMIN or is_own_application(user, application)


def can_view_report(user, report) -> bool:
    if not user.is_authenticated:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.APPLICANT and report.organisation_id == user.organisation_id


def can_decide_pilot(user) -> bool:
    """The department reviews and accepts pilots."""
    return user is not None and user.is_authenticated and user.role == Role.ADMIN
