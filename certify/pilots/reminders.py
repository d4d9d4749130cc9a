"""Reminders of the construction pilots' yearly progress reports, sent by ``flask reminders send``
after the others (``certify.management.reminders``, whose ``remind_organisation`` mails them), to the pilot
organisation's active users in their own language:

- report due: once per pilot and period, ``CERTIFY_DECLARATION_REMINDER_DAYS`` (default 30, the
  self-declarations' lead time) before the due date, while the period's report is owed and not
  filed;
- report overdue: once per pilot and period, after the due date has passed, while the report of
  the period that closed last is owed and not filed (it can still be filed late).

A pilot owes the report of a period whose due date falls on or after its listing, while it is
listed and under construction (``services.pilot_entries``). Each reminder is claimed in
``reminders_sent`` under its period before it is mailed, so running the command again sends
nothing more.
"""

from datetime import date

from certify.applications.models import Application
from certify.core.urls import absolute_url
from certify.extensions import db
from certify.management.models import ReminderKind
from certify.management.reminders import Sent, remind_organisation, run_steps
from certify.pilots import services
from certify.timeutil import local_today


def _entries(today: date) -> list[services.PilotEntry]:
    applications = db.session.execute(services.pilots_query()).scalars().all()
    return sorted(services.pilot_entries(applications, today), key=lambda entry: entry.application.id)


def _report_link(application: Application, period: date) -> str:
    return absolute_url("pilots.report", application_id=application.id, period=period.isoformat())


def _tell(sent: Sent, entries, period: date, template: str, when: str) -> Sent:
    """Mail each pilot of ``entries`` its reminder ``template`` for ``period``, once per period,
    with the link to file the report; audited as ``reminder.<template>``."""
    for entry in entries:
        application = entry.application
        remind_organisation(sent, application, application.organisation_id, window=period.isoformat(),
                            template=template, action=f"reminder.{template}",
                            label=f"{application.reference} ({when} {period.isoformat()})",
                            details={"period": period.isoformat()}, application=application, period=period,
                            link=_report_link(application, period))
    return sent


def remind_reports_due(today: date, days: int) -> Sent:
    """Tell the pilots whose progress report for the current period is due within ``days`` and
    not yet filed."""
    sent = Sent(ReminderKind.PILOT_REPORT_DUE)
    period = services.current_period(today)
    if (period - today).days > days:
        return sent
    due = [entry for entry in _entries(today) if entry.current_due and entry.current_report is None]
    return _tell(sent, due, period, "pilot_report_due", "due")


def warn_reports_overdue(today: date) -> Sent:
    """Tell the pilots that did not file the report of the period that closed last (once per
    period), with the link to file it late."""
    overdue = [entry for entry in _entries(today) if entry.overdue]
    return _tell(Sent(ReminderKind.PILOT_REPORT_OVERDUE), overdue, services.last_closed_period(today),
                 "pilot_report_overdue", "was due")


def send_pilot_reminders(config, today: date | None = None, *, commit=None) -> list[Sent]:
    """Run the pilots' reminders for ``today`` (China Standard Time), as ``send_reminders`` runs
    the others: ``commit`` (if given) is called after each kind."""
    today = today or local_today()
    return run_steps((
        lambda: remind_reports_due(today, int(config["CERTIFY_DECLARATION_REMINDER_DAYS"])),
        lambda: warn_reports_overdue(today),
    ), commit)
