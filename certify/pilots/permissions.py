"""Who may file and read a pilot's progress reports, and decide on a pilot. Views check these for
every object they touch (a report or pilot of another organisation is a 404); templates use them
to show only what the user may do."""

from sqlalchemy import select

from certify.applications.permissions import is_own_application
from certify.auth.models import Role
from certify.certificates.models import Certificate
from certify.extensions import db
from certify.workflow import Status


def recognition_application_ids():
    """SQL: the ids of the applications of recognised zero-carbon units (those holding a
    certificate of recognition): of a pilot kind, but no longer pilots."""
    return select(Certificate.application_id).where(Certificate.is_recognition.is_(True))


def is_pilot_application(application) -> bool:
    """An application of a pilot kind that is a pilot (not the recognition of an accepted one)."""
    from certify.pilots.models import PILOT_KINDS

    if application is None or application.kind not in PILOT_KINDS:
        return False
    return application.id is None or not db.session.execute(
        recognition_application_ids().where(Certificate.application_id == application.id)).first()


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
