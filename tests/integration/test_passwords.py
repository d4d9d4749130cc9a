"""Changing, resetting and setting passwords; inviting colleagues."""

import re

from sqlalchemy import select

from certify.audit.models import AuditEvent
from certify.auth.models import User
from certify.mail.models import MailMessage
from tests import factories

EN = {"Accept-Language": "en"}
CSRF_TOKEN = re.compile(r'name="csrf_token" value="[^"]*"')


def _link_in_last_mail(outbox, recipient: str) -> str:
    """The link in the newest message delivered to ``recipient`` (the mail log keeps it hidden)."""
    messages = [message for message in outbox if message.recipient == recipient]
    assert messages, f"no mail to {recipient}"
    return re.search(r"https?://\S+", messages[-1].body).group(0)


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_changing_the_password_ends_other_sessions(app, client, login_as, db):
    user = login_as("applicant")
    other_device = app.test_client()
    other_device.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert other_device.get("/account/password").status_code == 200

    response = client.post("/account/password", data={
        "current_password": factories.PASSWORD, "new_password": "a brand new secret",
        "confirm_password": "a brand new secret"})
    assert response.status_code == 302
    assert client.get("/account/password").status_code == 200  # this session continues
    assert other_device.get("/account/password").status_code == 302  # the other one is gone
    assert client.post("/logout").status_code == 302
    assert client.post("/login", data={"email": user.email, "password": "a brand new secret"}).status_code == 302


def test_a_wrong_current_password_changes_nothing(client, login_as, db):
    user = login_as("applicant")
    before = user.password_hash
    response = client.post("/account/password", data={
        "current_password": "not it at all", "new_password": "a brand new secret",
        "confirm_password": "a brand new secret"}, headers=EN)
    assert "The current password is not correct." in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == before


def test_a_reset_link_sets_a_new_password_once(client, db, outbox):
    user = factories.make_user(email="reset.me@example.com")
    db.session.commit()
    response = client.post("/password/forgot", data={"email": "Reset.Me@example.com"})
    assert response.status_code == 302
    link = _link_in_last_mail(outbox, "reset.me@example.com")

    form = client.get(_path(link))
    assert form.status_code == 200
    done = client.post(_path(link), data={"new_password": "reset password ok",
                                          "confirm_password": "reset password ok"})
    assert done.status_code == 302
    assert client.post("/login", data={"email": user.email, "password": "reset password ok"}).status_code == 302
    client.post("/logout")
    # The link is spent once the password has been set.
    assert client.get(_path(link)).status_code == 400


def test_asking_for_a_reset_does_not_reveal_whether_an_account_exists(client, db):
    factories.make_user(email="known@example.com")
    db.session.commit()
    known = client.post("/password/forgot", data={"email": "known@example.com"}, follow_redirects=True)
    unknown = client.post("/password/forgot", data={"email": "unknown@example.com"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    # The CSRF token is signed with the second it was made in, so two pages may differ there only.
    strip = lambda page: CSRF_TOKEN.sub("", page.get_data(as_text=True))  # noqa: E731
    assert strip(known) == strip(unknown)
    recipients = db.session.execute(select(MailMessage.recipient)).scalars().all()
    assert recipients == ["known@example.com"]


def test_a_forged_or_expired_link_is_refused(app, client, db):
    user = factories.make_user()
    db.session.commit()
    assert client.get("/password/set/not-a-token").status_code == 400
    from certify.auth.services import password_token
    with app.test_request_context():
        token = password_token(user)
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    try:
        response = client.get(f"/password/set/{token}", headers=EN)
    finally:
        app.config["PASSWORD_RESET_MAX_AGE"] = 24 * 3600
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_an_applicant_invites_a_colleague_who_joins_the_same_organisation(client, login_as, db, outbox):
    inviter = login_as("applicant")
    response = client.post("/account/colleagues", data={"name": "王强", "email": "wang.qiang@example.com"})
    assert response.status_code == 302
    link = _link_in_last_mail(outbox, "wang.qiang@example.com")
    client.post("/logout")

    client.post(_path(link), data={"new_password": "colleague password",
                                   "confirm_password": "colleague password"})
    colleague = db.session.execute(select(User).where(User.email == "wang.qiang@example.com")).scalar_one()
    assert colleague.organisation_id == inviter.organisation_id
    assert client.post("/login", data={"email": colleague.email,
                                       "password": "colleague password"}).status_code == 302
    page = client.get("/account/colleagues").get_data(as_text=True)
    assert inviter.name in page and "王强" in page


def test_assessors_cannot_invite_colleagues(client, login_as):
    login_as("assessor")
    assert client.get("/account/colleagues").status_code == 403


def test_one_account_receives_at_most_three_reset_mails_an_hour_and_the_page_stays_the_same(client, db):
    factories.make_user(email="known@example.com")
    db.session.commit()
    pages = [client.post("/password/forgot", data={"email": "known@example.com"}, follow_redirects=True)
             for _ in range(5)]
    assert [page.status_code for page in pages] == [200] * 5
    strip = lambda page: CSRF_TOKEN.sub("", page.get_data(as_text=True))  # noqa: E731
    assert len({strip(page) for page in pages}) == 1
    recipients = db.session.execute(select(MailMessage.recipient)).scalars().all()
    assert recipients == ["known@example.com"] * 3
    held_back = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "user.password_reset_throttled")).scalars().all()
    assert len(held_back) == 2


def test_one_client_address_asks_for_at_most_ten_resets_an_hour(client, db):
    statuses = [client.post("/password/forgot", data={"email": f"person{n}@example.com"}).status_code
                for n in range(11)]
    assert statuses == [302] * 10 + [429]
    # Another address is not held back.
    other = client.post("/password/forgot", data={"email": "x@example.com"},
                        environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert other.status_code == 302


def test_a_registration_not_yet_confirmed_gets_no_reset_mail(client, db):
    from tests.integration.test_registration import registration

    client.post("/register", data=registration(email="pending@example.com"))
    client.post("/password/forgot", data={"email": "pending@example.com"})
    subjects = db.session.execute(select(MailMessage.subject)).scalars().all()
    assert len(subjects) == 1  # the confirmation only
