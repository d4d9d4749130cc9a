"""Third-party assessment: agencies and assessors, conflict-of-interest checks, assignment,
scoring against the pinned rule file, and the evaluation report PDF.

The use cases live by concern: ``agencies`` (profiles and the yearly cap), ``conflicts``,
``assignment`` (checks, suggestions, bulk assignment, the assessors' answers, withdrawal) and
``scoring`` (score sheets, submission, reporting). Each public function there that changes
something is one use case: it checks, changes, writes an audit event and flushes; the caller
commits once.

``init_app(app)`` gives templates the labels they use and adds the assessment's panel to the
application page (a template hook). The area's settings are in ``certify.config.Settings``.
"""

from flask import Flask

from certify.assessment.models import (
    ASSIGNMENT_STATUS_LABELS,
    RECOMMENDATION_LABELS,
    RELATION_LABELS,
    ROLE_LABELS,
)
from certify.assessment.views.applicants import panel
from certify.core.hooks import register_template_hook
from certify.rulesets.forms import form_value


def init_app(app: Flask) -> None:
    register_template_hook(app, "application-assessment", "assessment/_panel.html",
                           context=lambda application: {"assessment": panel(application)})
    app.jinja_env.globals.update(
        role_labels=ROLE_LABELS, assignment_status_labels=ASSIGNMENT_STATUS_LABELS,
        recommendation_labels=RECOMMENDATION_LABELS, relation_labels=RELATION_LABELS,
        form_value=form_value,
    )
