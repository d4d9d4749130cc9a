"""Ongoing management (动态管理) and reminders: listed organisations' periodic self-declarations
with the department's review, re-evaluation of a listed application under the rule file then in
force, and the reminders sent by ``flask reminders send``.

``init_app(app)`` settles the settings (environment, else the defaults; ``create_app``'s own
``config`` wins over both), gives templates their labels, and registers ``flask reminders``.

Settings: ``CERTIFY_DECLARATION_DUE_DATES`` (month-day pairs, default ``01-15,07-15``:
half-yearly, as the provincial practice; ``03-30`` makes it yearly),
``CERTIFY_DECLARATION_REMINDER_DAYS`` (default 30), ``CERTIFY_EXPIRY_REMINDER_DAYS`` (default 90),
``CERTIFY_OBJECTION_REMINDER_DAYS`` (default 7), ``CERTIFY_ASSESSMENT_DUE_SOON_DAYS`` (default 7),
``CERTIFY_MISSED_WARNING_AFTER`` (default 1) and ``CERTIFY_MISSED_REVIEW_AFTER`` (default 2):
after how many declarations missed in a row a listed organisation is warned, and proposed for
review under ongoing management.
"""

import os

from flask import Flask

from certify.core.hooks import register_template_hook

SETTINGS = {
    "CERTIFY_DECLARATION_DUE_DATES": "01-15,07-15",
    "CERTIFY_DECLARATION_REMINDER_DAYS": 30,
    "CERTIFY_EXPIRY_REMINDER_DAYS": 90,
    "CERTIFY_OBJECTION_REMINDER_DAYS": 7,
    "CERTIFY_ASSESSMENT_DUE_SOON_DAYS": 7,
    # Provisional. shared/reference/standards.md (动态管理) names refusal to report as a ground for
    # removal from the list (Heilongjiang's implementation rules: 拒不按时填报动态管理表), and the
    # due dates 15 January and 15 July; neither it, the policy notes on the 2024 gradient-cultivation
    # measures, nor the public copies of those measures and of provincial rules consulted give a
    # number of declarations missed (searched for 动态管理, 未按时, 拒不, 连续). Defaults: a warning
    # after the first period missed, a proposal for review after two in a row (a year without any
    # declaration at the half-yearly cadence, as one yearly form missed).
    "CERTIFY_MISSED_WARNING_AFTER": 1,
    "CERTIFY_MISSED_REVIEW_AFTER": 2,
}


def init_app(app: Flask) -> None:
    from certify.management.cli import reminders_cli
    from certify.management.models import (
        DECLARATION_STATUS_LABELS,
        MISSED_STEP_LABELS,
        REMINDER_KIND_LABELS,
    )
    from certify.management.periods import parse_due_dates
    from certify.management.permissions import can_open_re_evaluation
    from certify.management.services import open_re_evaluation_of
    from certify.management.views import FLAG_LABELS

    for key, default in SETTINGS.items():
        value = os.environ.get(key)
        app.config.setdefault(key, type(default)(value) if value is not None else default)
    parse_due_dates(app.config["CERTIFY_DECLARATION_DUE_DATES"])  # refuse a bad setting at start
    _check_missed_thresholds(app.config)
    register_template_hook(app, "application-top", "management/_application_links.html", order=20)
    app.jinja_env.globals.update(declaration_status_labels=DECLARATION_STATUS_LABELS,
                                 declaration_flag_labels=FLAG_LABELS,
                                 missed_step_labels=MISSED_STEP_LABELS,
                                 reminder_kind_labels=REMINDER_KIND_LABELS,
                                 can_open_re_evaluation=can_open_re_evaluation,
                                 open_re_evaluation_of=open_re_evaluation_of)
    app.cli.add_command(reminders_cli)


def _check_missed_thresholds(config) -> None:
    warning, review = int(config["CERTIFY_MISSED_WARNING_AFTER"]), int(config["CERTIFY_MISSED_REVIEW_AFTER"])
    if warning < 1 or review < warning:
        raise ValueError("CERTIFY_MISSED_WARNING_AFTER must be at least 1 and "
                         "CERTIFY_MISSED_REVIEW_AFTER at least as large.")
