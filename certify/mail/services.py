"""Sending e-mail. Messages are rendered in the recipient's language from ``templates/mail/``."""

import smtplib
from email.message import EmailMessage

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy.orm import Session

from certify.extensions import db
from certify.jobs import call_after_commit
from certify.mail.models import MailMessage, MailStatus
from certify.timeutil import utcnow


def send_mail(recipient: str, template: str, *, language: str | None = None, **context) -> MailMessage:
    """Render ``mail/<template>.txt`` (first line: subject) and send it after commit."""
    language = language or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(language):
        rendered = render_template(f"mail/{template}.txt", **context)
    subject, _, body = rendered.strip().partition("\n")
    smtp = bool(current_app.config.get("MAIL_SERVER"))
    message = MailMessage(
        recipient=recipient,
        subject=subject.strip()[:200],
        body=body.strip() + "\n",
        status=MailStatus.QUEUED if smtp else MailStatus.LOGGED,
    )
    db.session.add(message)
    if smtp:
        db.session.flush()  # for its id
        call_after_commit(deliver_mail, message.id)
    return message


def deliver_mail(message_id: int) -> None:
    """Hand one queued message to the SMTP server and record the outcome (a job)."""
    config = current_app.config
    with Session(db.engine) as session:
        message = session.get(MailMessage, message_id)
        if message is None or message.status != MailStatus.QUEUED:
            return
        email = EmailMessage()
        email["From"] = config["MAIL_DEFAULT_SENDER"]
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email.set_content(message.body)
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
