"""Who may see and change an application. Views check these for every object they touch;
templates use them to show only what the user may do.

Areas that build on applications grant their own people access (assessment: an assessor with a
standing assignment; tiers: the city bureau of the applicant's city) by registering a predicate with ``grants_view``, so that this module, below
them, names none of them."""

from collections.abc import Callable

from flask import abort
from flask_login import current_user

from certify.applications.models import Application
from certify.auth.models import Role
from certify.extensions import db
from certify.organisations.models import APPLICANT_KINDS
from certify.workflow import EDITABLE

_VIEW_GRANTS: list[Callable[[object, object], bool]] = []


def grants_view(predicate: Callable[[object, object], bool]) -> Callable[[object, object], bool]:
    """Register ``predicate(user, application)``: an assessor or city bureau user it holds for may
    see the application."""
    _VIEW_GRANTS.append(predicate)
    return predicate


def is_own_application(user, application) -> bool:
    return (user.is_authenticated and user.role == Role.APPLICANT
            and application.organisation_id == user.organisation_id)


def can_view_application(user, application) -> bool:
    if not user.is_authenticated:
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role in (Role.ASSESSOR, Role.CITY):
        return any(grant(user, application) for grant in _VIEW_GRANTS)
    return is_own_application(user, application)


def can_edit_application(user, application) -> bool:
    return is_own_application(user, application) and application.status in EDITABLE


def can_open_application(user) -> bool:
    return (user.is_authenticated and user.role == Role.APPLICANT
            and user.organisation.kind in APPLICANT_KINDS)


def load_application(application_id: int) -> Application:
    """The application, if the current user may see it; 404 otherwise (never revealing that an
    application of another organisation exists)."""
    application = db.session.get(Application, application_id)
    if application is None or not can_view_application(current_user, application):
        abort(404)
    return application
