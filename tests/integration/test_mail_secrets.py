"""Links into an account never at rest in readable form: the recipient gets them (through a real
SMTP server here, started on a loopback port), while the mail log — the database, and so its
backups — keeps each message with its link replaced by a note."""

import socket
import time
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from certify.mail.models import MailMessage, MailStatus
from tests import factories


class Inbox:
    """An SMTP server's handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


def test_a_reset_link_reaches_the_recipient_and_is_not_kept_in_the_mail_log(make_app, db, smtp_server):
    port, inbox = smtp_server
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False, MAIL_USE_SSL=False)
    with app.app_context():
        factories.make_user("applicant", email="reset.me@example.com")
        db.session.commit()
    response = app.test_client().post("/password/forgot", data={"email": "reset.me@example.com"})
    assert response.status_code == 302

    deadline = time.monotonic() + 10
    while not inbox.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    [received] = inbox.messages
    text = message_from_bytes(received.content, policy=policy.default).get_content()
    assert received.rcpt_tos == ["reset.me@example.com"]
    assert "http://certify.test/password/set/" in text

    with app.app_context():
        [kept] = db.session.execute(select(MailMessage)).scalars().all()
        assert kept.status == MailStatus.SENT and kept.recipient == "reset.me@example.com"
        assert "/password/set/" not in kept.body
        assert "〔个人专用链接，不在邮件日志中保存〕" in kept.body


def test_without_a_mail_server_the_link_goes_to_the_servers_log_not_the_mail_log(app, client, db, caplog, outbox):
    factories.make_user("applicant", email="reset.me@example.com")
    db.session.commit()
    with caplog.at_level("INFO", logger=app.logger.name):
        client.post("/password/forgot", data={"email": "reset.me@example.com"})
    [kept] = db.session.execute(select(MailMessage)).scalars().all()
    assert kept.status == MailStatus.LOGGED and "/password/set/" not in kept.body
    [delivered] = outbox
    assert "/password/set/" in delivered.body
    assert any("/password/set/" in record.getMessage() for record in caplog.records)
