"""E-mails whose delivery job was lost (Redis down when they were queued): `flask mail resend`
queues them again once Redis is back and they reach a real SMTP server; one that carried a personal
link, never kept, is marked failed and listed instead, so that the person can be asked to request a
new link. Running it again sends nothing twice."""

import time

from sqlalchemy import select

from certify.audit.models import AuditEvent
from certify.mail.models import MailMessage, MailStatus
from certify.mail.services import LINK_LOST, send_mail
from tests import factories
from tests.integration.test_mail_secrets import smtp_server  # noqa: F401 - the fixture
from tests.servers import free_port

# Jobs go to a Redis that is down; the rate limits are not under test here and are counted in the
# database (test_redis_down shows them through an outage).
COUNTED_IN_DATABASE = "database://"


def resend(site, *arguments):
    """``flask mail resend`` run by ``site`` (in its own application context: the command would
    otherwise run in the suite's, which is pushed already)."""
    with site.app_context():
        return site.test_cli_runner().invoke(args=["mail", "resend", *arguments])


def test_mails_lost_with_redis_are_sent_once_it_is_back_and_personal_links_are_listed(
        make_app, db, smtp_server):  # noqa: F811
    port, inbox = smtp_server
    mail = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False, "MAIL_USE_SSL": False}
    down = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", RATELIMIT_STORAGE_URI=COUNTED_IN_DATABASE, **mail)
    with down.app_context():
        user = factories.make_user("applicant", email="kept@example.com")
        db.session.commit()
        send_mail(user.email, "second_factor_reset", user=user, link="http://certify.test/account/second-factor")
        db.session.commit()  # its job cannot be queued: Redis is down
    assert down.test_client().post("/password/forgot", data={"email": "kept@example.com"}).status_code == 302
    queued = db.session.execute(select(MailMessage).order_by(MailMessage.id)).scalars().all()
    assert [m.status for m in queued] == [MailStatus.QUEUED, MailStatus.QUEUED] and not inbox.messages

    back = make_app(**mail)  # Redis is back (here: jobs inline)
    result = resend(back, "--after", "0")

    assert result.exit_code == 0, result.output
    assert "1 e-mail(s) waiting longer than 0 minute(s) queued again." in result.output
    assert "1 e-mail(s) carried a personal link and cannot be sent again" in result.output
    deadline = time.monotonic() + 10
    while not inbox.messages and time.monotonic() < deadline:
        time.sleep(.05)
    assert [m.rcpt_tos for m in inbox.messages] == [["kept@example.com"]]
    db.session.expire_all()
    sent, lost = db.session.execute(select(MailMessage).order_by(MailMessage.id)).scalars().all()
    assert sent.status == MailStatus.SENT
    assert (lost.status, lost.error) == (MailStatus.FAILED, LINK_LOST)
    actions = db.session.execute(select(AuditEvent.action, AuditEvent.object_id)
                                 .where(AuditEvent.action.like("mail.%"))).all()
    assert sorted(actions) == [("mail.delivery_lost", str(lost.id)), ("mail.requeued", str(sent.id))]

    again = resend(back, "--after", "0")
    assert "0 e-mail(s) waiting" in again.output and len(inbox.messages) == 1


def test_messages_younger_than_the_wait_are_left_to_their_jobs(make_app, db, smtp_server):  # noqa: F811
    port, _inbox = smtp_server
    site = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", RATELIMIT_STORAGE_URI=COUNTED_IN_DATABASE,
                    MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    with site.app_context():
        user = factories.make_user("applicant")
        db.session.commit()
        send_mail(user.email, "second_factor_reset", user=user, link="http://certify.test/x")
        db.session.commit()
    result = resend(site)  # the default wait, 30 minutes
    assert "0 e-mail(s) waiting longer than 30 minute(s) queued again." in result.output
    assert db.session.execute(select(MailMessage.status)).scalar_one() == MailStatus.QUEUED
