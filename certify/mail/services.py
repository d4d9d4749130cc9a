"""Sending e-mail. Messages are rendered in the recipient's language from ``templates/mail/``."""

import smtplib
from email.message import EmailMessage

from blinker import Namespace
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from certify.extensions import db
from certify.jobs import call_after_commit
from certify.mail.models import MailMessage, MailStatus
from certify.timeutil import utcnow

# Sent once a message has gone out — handed to the SMTP server, or, without one, written to the
# application's log — with its whole text. The mail log keeps the text without its secret.
_signals = Namespace()
message_delivered = _signals.signal("message-delivered")


def send_mail(recipient: str, template: str, *, language: str | None = None, secret: str | None = None,
              **context) -> MailMessage:
    """Render ``mail/<template>.txt`` (first line: subject) and send it after commit.

    ``secret`` is a part of the text that gives access to an account (a password or confirmation
    link): it goes to the recipient only. The mail log, and so the database and its backups, keep
    the message with that part replaced by a note; the whole text travels in the delivery job
    alone."""
    language = language or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(language):
        rendered = render_template(f"mail/{template}.txt", **context)
        hidden = str(_l("[a personal link, not kept in the mail log]"))
    subject, _, body = rendered.strip().partition("\n")
    body = body.strip() + "\n"
    smtp = bool(current_app.config.get("MAIL_SERVER"))
    message = MailMessage(
        recipient=recipient,
        subject=subject.strip()[:200],
        body=body.replace(secret, hidden) if secret else body,
        status=MailStatus.QUEUED if smtp else MailStatus.LOGGED,
    )
    db.session.add(message)
    db.session.flush()  # for its id
    call_after_commit(deliver_mail if smtp else log_mail, message.id, body if secret else None)
    return message


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
