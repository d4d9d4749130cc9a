"""What several assessment pages share: the length of the administrators' lists and loading an
application (the comparison of an application's scorings is in ``certify.assessment.comparison``,
for other areas' pages too)."""

from flask import abort

from certify.applications.models import Application
from certify.extensions import db


def load_application(application_id: int) -> Application:
    application = db.session.get(Application, application_id)
    if application is None:
        abort(404)
    return application
