"""Cohort grades (企业绿码) of listed units from their self-declarations, and the park removal
rule (the bottom share of parks for several years in a row proposed for removal).

``ranking`` and ``removal`` are the pure rules; ``services`` grades a closed period and records
the department's removal decisions; ``views`` are the staff pages and the unit's own grades.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the pages, ``flask grades`` and the unit's own grades on its declarations page."""
    from certify.core.hooks import register_template_hook
    from certify.grades.cli import grades_cli
    from certify.grades.labels import cohort_fields_label, cohort_label, share_percent
    from certify.grades.models import GRADE_LABELS, OUTCOME_LABELS
    from certify.grades.views import bp, own_grades_part

    app.register_blueprint(bp)
    app.cli.add_command(grades_cli)
    register_template_hook(app, "declarations-bottom", "grades/_own_grades.html",
                           context=own_grades_part, order=10)
    app.jinja_env.globals.update(grade_labels=GRADE_LABELS, grade_outcome_labels=OUTCOME_LABELS)
    app.jinja_env.filters.update(cohort_label=cohort_label, cohort_fields_label=cohort_fields_label,
                                 share_percent=share_percent)
