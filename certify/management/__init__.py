"""Ongoing management (动态管理) and reminders: listed organisations' periodic self-declarations
with the department's review, re-evaluation of a listed application under the rule file then in
force, and the reminders sent by ``flask reminders send``.

``init_app(app)`` gives templates their labels and registers ``flask reminders``.

Settings: ``CERTIFY_DECLARATION_DUE_DATES`` (month-day pairs, default ``01-15,07-15``:
half-yearly, as the provincial practice; ``03-30`` makes it yearly),
``CERTIFY_DECLARATION_REMINDER_DAYS`` (default 30), ``CERTIFY_EXPIRY_REMINDER_DAYS`` (default 90),
``CERTIFY_OBJECTION_REMINDER_DAYS`` (default 7), ``CERTIFY_ASSESSMENT_DUE_SOON_DAYS`` (default 7),
``CERTIFY_MISSED_WARNING_AFTER`` (default 1) and ``CERTIFY_MISSED_REVIEW_AFTER`` (default 2):
after how many declarations missed in a row a listed organisation is warned, and proposed for
review under ongoing management. They are read and checked with the others
(``certify.config.Settings``).
"""

from flask import Flask

from certify.core.hooks import register_template_hook


def init_app(app: Flask) -> None:
    from certify.management.cli import reminders_cli
    from certify.management.models import (
        DECLARATION_STATUS_LABELS,
        MISSED_STEP_LABELS,
        REMINDER_KIND_LABELS,
    )
    from certify.management.permissions import can_file_declaration, can_open_re_evaluation
    from certify.management.services import open_re_evaluation_of
    from certify.management.views import FLAG_LABELS

    register_template_hook(app, "application-top", "management/_application_links.html", order=20)
    app.jinja_env.globals.update(declaration_status_labels=DECLARATION_STATUS_LABELS,
                                 declaration_flag_labels=FLAG_LABELS,
                                 missed_step_labels=MISSED_STEP_LABELS,
                                 reminder_kind_labels=REMINDER_KIND_LABELS,
                                 can_open_re_evaluation=can_open_re_evaluation,
                                 can_file_declaration=can_file_declaration,
                                 open_re_evaluation_of=open_re_evaluation_of)
    app.cli.add_command(reminders_cli)

