"""Ongoing management (动态管理) and reminders: listed organisations' periodic self-declarations
with the department's review, re-evaluation of a listed application under the rule file then in
force, and the reminders sent by ``flask reminders send``.

``init_app(app)`` settles the settings (environment, else the defaults; ``create_app``'s own
``config`` wins over both), gives templates their labels, and registers ``flask reminders``.

Settings: ``CERTIFY_DECLARATION_DUE_DATES`` (month-day pairs, default ``01-15,07-15``:
half-yearly, as the provincial practice; ``03-30`` makes it yearly),
``CERTIFY_DECLARATION_REMINDER_DAYS`` (default 30), ``CERTIFY_EXPIRY_REMINDER_DAYS`` (default 90),
``CERTIFY_OBJECTION_REMINDER_DAYS`` (default 7).
"""

import os

from flask import Flask

SETTINGS = {
    "CERTIFY_DECLARATION_DUE_DATES": "01-15,07-15",
    "CERTIFY_DECLARATION_REMINDER_DAYS": 30,
    "CERTIFY_EXPIRY_REMINDER_DAYS": 90,
    "CERTIFY_OBJECTION_REMINDER_DAYS": 7,
}


def init_app(app: Flask) -> None:
    from certify.management.cli import reminders_cli
    from certify.management.models import DECLARATION_STATUS_LABELS
    from certify.management.periods import parse_due_dates
    from certify.management.permissions import can_open_re_evaluation
    from certify.management.services import open_re_evaluation_of
    from certify.management.views import FLAG_LABELS

    for key, default in SETTINGS.items():
        value = os.environ.get(key)
        app.config.setdefault(key, type(default)(value) if value is not None else default)
    parse_due_dates(app.config["CERTIFY_DECLARATION_DUE_DATES"])  # refuse a bad setting at start
    app.jinja_env.globals.update(declaration_status_labels=DECLARATION_STATUS_LABELS,
                                 declaration_flag_labels=FLAG_LABELS,
                                 can_open_re_evaluation=can_open_re_evaluation,
                                 open_re_evaluation_of=open_re_evaluation_of)
    app.cli.add_command(reminders_cli)
