"""``flask reminders send``: the daily cron entry point for every reminder."""

import click
from flask import current_app
from flask.cli import AppGroup

from certify.extensions import db

reminders_cli = AppGroup("reminders", help="Reminders by e-mail (run daily).")

TITLES = {
    "certificate_expiry": "Certificates expiring",
    "declaration_due": "Self-declarations due",
    "declaration_missed_warning": "Warnings for self-declarations missed",
    "declaration_review_proposal": "Listings proposed for review (self-declarations missed)",
    "pilot_report_due": "Pilot progress reports due",
    "pilot_report_overdue": "Pilot progress reports overdue",
    "assessment_due_soon": "Assessments due soon",
    "assessment_overdue": "Overdue assessments",
    "objection_pending": "Objections awaiting resolution",
}


@reminders_cli.command("send")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Act as if it were this day (China Standard Time); default: today.")
def send(today) -> None:
    """Send every reminder due today and print what was sent; safe to run again (a reminder
    goes once in its window)."""
    from certify.management.reminders import daily_upkeep, send_reminders
    from certify.pilots.reminders import send_pilot_reminders

    if not current_app.config.get("CERTIFY_BASE_URL"):
        raise click.ClickException("Set CERTIFY_BASE_URL first: the reminders link to the site.")
    day = today.date() if today else None
    results = send_reminders(current_app.config, day, commit=db.session.commit)
    results += send_pilot_reminders(current_app.config, day, commit=db.session.commit)
    for sent in results:
        click.echo(f"{TITLES[sent.kind.value]}: {len(sent.lines)} reminder(s) sent.")
        for line in sent.lines:
            click.echo(f"  {line}")
    upkeep = daily_upkeep(db.session.commit)
    click.echo(f"Certificate PDFs queued again: {len(upkeep.requeued)}; given up (marked failed): "
               f"{len(upkeep.given_up)}.")
    for number in upkeep.requeued + upkeep.given_up:
        click.echo(f"  {number}")
    if upkeep.anchored is not None:
        click.echo(f"Audit log anchored at event {upkeep.anchored.id}.")
