"""Third-party assessment: agencies and assessors, conflict-of-interest checks, assignment,
scoring against the pinned rule file, and the evaluation report PDF.

``init_app(app)`` settles the area's settings (see ``services.DEFAULTS``) and gives templates the
labels and the application-page panel they use.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    from certify.assessment import services
    from certify.assessment.models import (
        ASSIGNMENT_STATUS_LABELS,
        RECOMMENDATION_LABELS,
        RELATION_LABELS,
        ROLE_LABELS,
    )
    from certify.assessment.views import panel
    from certify.rulesets.forms import form_value

    services.init_app(app)
    app.jinja_env.globals.update(
        role_labels=ROLE_LABELS, assignment_status_labels=ASSIGNMENT_STATUS_LABELS,
        recommendation_labels=RECOMMENDATION_LABELS, relation_labels=RELATION_LABELS,
        assessment_panel=panel, form_value=form_value,
    )
