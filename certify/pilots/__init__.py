"""Zero-carbon construction pilots (零碳工厂、零碳园区建设试点): a listed application of a pilot
kind reports its progress every year, is reviewed by the department after its first year
(continue, or removed from the pilot list, which revokes its listing) and accepted at the end of
construction against its core indicator — which recognises the unit as a zero-carbon factory or
park, with a certificate of recognition that replaces the pilot's (``services.recognise``).

``init_app(app)`` gives templates their labels and predicates and puts the pilot block on the
application page.

Setting: ``CERTIFY_PILOT_REPORT_DUE_DATES`` (month-day pairs, default ``12-31``: the yearly
report "每年12月底前", Sichuan's pilot list; read and checked with the others,
``certify.config.Settings``).
"""

from flask import Flask

from certify.core.hooks import register_template_hook


def init_app(app: Flask) -> None:
    from certify.pilots.models import MIDTERM_DECISION_LABELS, PILOT_STATUS_LABELS
    from certify.pilots.permissions import can_file_report, is_pilot_application

    register_template_hook(app, "application-top", "pilots/_application_links.html", order=30)
    register_template_hook(app, "application-top", "pilots/_recognition.html", context=_recognition_part, order=5)
    app.jinja_env.globals.update(pilot_status_labels=PILOT_STATUS_LABELS,
                                 midterm_decision_labels=MIDTERM_DECISION_LABELS,
                                 is_pilot_application=is_pilot_application,
                                 can_file_report=can_file_report)


def _recognition_part(application, **_values) -> dict | None:
    """What the application page shows of a recognition: the pilot accepted and its figures."""
    from certify.pilots.services import recognised_pilot

    found = recognised_pilot(application)
    return None if found is None else {"listing": found[0], "pilot": found[1]}
