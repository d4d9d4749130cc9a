"""``flask mail resend``: e-mails whose delivery job was lost are queued again."""

from datetime import timedelta

import click
from flask.cli import AppGroup

from certify.extensions import db

mail_cli = AppGroup("mail", help="Outgoing e-mail.")


@mail_cli.command("resend")
@click.option("--after", "minutes", type=click.IntRange(min=0), default=30, show_default=True,
              help="Queue again what has waited this many minutes.")
def resend(minutes: int) -> None:
    """Queue again every e-mail still waiting to be sent long after it was queued: its job was lost
    (Redis down, a worker stopped). One that carried a personal link (a password or confirmation
    link, never kept) is marked failed instead and listed, to be asked for again. Safe to run
    again, e.g. after Redis is back or every 10 minutes from cron."""
    from certify.mail.services import resend_queued

    done = resend_queued(timedelta(minutes=minutes))
    db.session.commit()
    click.echo(f"{len(done.requeued)} e-mail(s) waiting longer than {minutes} minute(s) queued again.")
    for message in done.requeued:
        click.echo(f"  {message.id}: {message.recipient} - {message.subject}")
    if done.lost:
        click.echo(f"{len(done.lost)} e-mail(s) carried a personal link and cannot be sent again "
                   "(marked failed; the person must ask for a new link, or be invited again):", err=True)
        for message in done.lost:
            click.echo(f"  {message.id}: {message.recipient} - {message.subject}", err=True)
