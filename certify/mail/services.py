"""Sending e-mail. Messages are rendered in the recipient's language from ``templates/mail/``."""

import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import NamedTuple

from blinker import Namespace
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from certify.audit.services import record_event
from certify.extensions import db
from certify.jobs import call_after_commit
from certify.mail.models import MailMessage, MailStatus
from certify.timeutil import utcnow

# Sent once a message has gone out — handed to the SMTP server, or, without one, written to the
# application's log — with its whole text. The mail log keeps the text without its secret.
_signals = Namespace()
message_delivered = _signals.signal("message-delivered")


class OutgoingMail(NamedTuple):
    """One message to send: ``mail/<template>.txt`` rendered with ``context`` in ``language``
    (``None``: the default) for ``recipient``; ``secret`` as in :func:`send_mail`."""

    recipient: str
    template: str
    language: str | None
    context: dict
    secret: str | None = None


def send_mail(recipient: str, template: str, *, language: str | None = None, secret: str | None = None,
              **context) -> MailMessage:
    """Render ``mail/<template>.txt`` (first line: subject) and send it after commit.

    ``secret`` is a part of the text that gives access to an account (a password or confirmation
    link): it goes to the recipient only. The mail log, and so the database and its backups, keep
    the message with that part replaced by a note; the whole text travels in the delivery job
    alone."""
    return send_mails([OutgoingMail(recipient, template, language, context, secret)])[0]


def send_mails(mails: list[OutgoingMail]) -> list[MailMessage]:
    """:func:`send_mail` for each of ``mails``, stored in the mail log with one flush (a
    batch announced mails every listed unit in its transaction)."""
    delivery = deliver_mail if current_app.config.get("MAIL_SERVER") else log_mail
    status = MailStatus.QUEUED if delivery is deliver_mail else MailStatus.LOGGED
    rendered = [_rendered(mail) for mail in mails]
    messages = [MailMessage(recipient=mail.recipient, subject=subject, body=kept, status=status)
                for mail, (subject, kept, _) in zip(mails, rendered, strict=True)]
    if not messages:
        return messages
    db.session.add_all(messages)
    db.session.flush()  # for their ids
    for message, (_, _, whole_text) in zip(messages, rendered, strict=True):
        call_after_commit(delivery, message.id, whole_text)
    return messages


_HIDDEN_SECRET = _l("[a personal link, not kept in the mail log]")


def _rendered(mail: OutgoingMail) -> tuple[str, str, str | None]:
    """The subject, the body as the mail log keeps it, and the whole body when it differs."""
    with force_locale(mail.language or current_app.config["BABEL_DEFAULT_LOCALE"]):
        rendered = render_template(f"mail/{mail.template}.txt", **mail.context)
        hidden = str(_HIDDEN_SECRET) if mail.secret else ""
    subject, _, body = rendered.strip().partition("\n")
    body = body.strip() + "\n"
    if not mail.secret:
        return subject.strip()[:200], body, None
    return subject.strip()[:200], body.replace(mail.secret, hidden), body


def log_mail(message_id: int, body: str | None = None) -> None:
    """Without a mail server, the log is the delivery: the whole message goes to the application's
    log (where whoever runs the server reads it), the mail log keeps it as stored (a job)."""
    message = db.session.get(MailMessage, message_id)
    if message is None:
        return
    text = body or message.body
    current_app.logger.info("Mail to %s (no mail server configured): %s\n%s", message.recipient,
                            message.subject, text)
    message_delivered.send(current_app._get_current_object(), message=message, body=text)


def deliver_mail(message_id: int, body: str | None = None) -> None:
    """Hand one queued message to the SMTP server and record the outcome (a job); ``body`` is the
    whole text when the stored one lacks its secret."""
    config = current_app.config
    with Session(db.engine) as session:
        message = session.get(MailMessage, message_id)
        if message is None or message.status != MailStatus.QUEUED:
            return
        email = EmailMessage()
        email["From"] = config["MAIL_DEFAULT_SENDER"]
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email.set_content(body or message.body)
        smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
        try:
            with smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
                if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
                    smtp.starttls()
                if config["MAIL_USERNAME"]:
                    smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
                smtp.send_message(email)
        except (OSError, smtplib.SMTPException) as exc:
            message.status = MailStatus.FAILED
            message.error = str(exc)[:2000]
        else:
            message.status = MailStatus.SENT
            message.sent_at = utcnow()
        session.commit()
        if message.status == MailStatus.SENT:
            message_delivered.send(current_app._get_current_object(), message=message,
                                   body=body or message.body)


# What a message whose delivery was lost, and that carried a personal link, is marked with.
LINK_LOST = ("Its delivery job was lost (Redis down, or a worker stopped before it ran). It carried a "
             "personal link, which is never kept, so it cannot be sent again: the person must ask for "
             "a new link, or be invited again.")


@dataclass
class Resent:
    """What ``resend_queued`` did: the messages queued again, and those marked failed."""

    requeued: list[MailMessage] = field(default_factory=list)
    lost: list[MailMessage] = field(default_factory=list)


def resend_queued(older_than: timedelta, now: datetime | None = None) -> Resent:
    """Queue again every message still queued ``older_than`` after it was stored: the job that was
    to send it was lost (Redis down when it was queued, a worker stopped before it ran). A message
    that carried a personal link cannot be sent again, since the link was never kept: it is marked
    failed, saying so. Each is audited; the deliveries run after the caller commits, and one that
    finds its message sent meanwhile sends nothing. Only with a mail server (without one, messages
    are logged, never queued)."""
    done = Resent()
    if not current_app.config.get("MAIL_SERVER"):
        return done
    cutoff = (now or utcnow()) - older_than
    notes = set()
    for language in current_app.config["LANGUAGES"]:
        with force_locale(language):
            notes.add(str(_HIDDEN_SECRET))
    waiting = db.session.execute(
        select(MailMessage).where(MailMessage.status == MailStatus.QUEUED, MailMessage.created_at < cutoff)
        .order_by(MailMessage.id)).scalars().all()
    for message in waiting:
        details = {"recipient": message.recipient, "subject": message.subject,
                   "queued_at": message.created_at.isoformat()}
        if any(note in message.body for note in notes):
            message.status, message.error = MailStatus.FAILED, LINK_LOST
            record_event("mail.delivery_lost", obj=message, details=details)
            done.lost.append(message)
        else:
            record_event("mail.requeued", obj=message, details=details)
            call_after_commit(deliver_mail, message.id)
            done.requeued.append(message)
    return done
