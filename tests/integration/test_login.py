"""Logging in and out, and what a login cookie is worth afterwards."""

from sqlalchemy import select

from certify.audit.models import AuditEvent
from tests import factories

EN = {"Accept-Language": "en"}


def test_a_user_logs_in_and_sees_their_name(client, db):
    user = factories.make_user(name="李华")
    db.session.commit()
    response = client.post("/login", data={"email": user.email.upper(), "password": factories.PASSWORD})
    assert response.status_code == 302
    assert "李华" in client.get("/").get_data(as_text=True)
    assert user.last_login_at is not None


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client, db):
    user = factories.make_user()
    db.session.commit()
    wrong_password = client.post("/login", data={"email": user.email, "password": "not the password"},
                                 headers=EN)
    unknown_email = client.post("/login", data={"email": "nobody@example.com", "password": "whatever1"},
                                headers=EN)
    assert wrong_password.status_code == unknown_email.status_code == 200
    message = "The e-mail address or the password is not correct."
    assert message in wrong_password.get_data(as_text=True)
    assert message in unknown_email.get_data(as_text=True)
    failures = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "user.login_failed")
    ).scalars().all()
    assert len(failures) == 2


def test_a_deactivated_user_cannot_log_in(client, db):
    user = factories.make_user(is_active=False)
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 200


def test_an_invited_user_without_a_password_cannot_log_in(client, db):
    user = factories.make_user(password_hash=None)
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 200


def test_a_cookie_copied_before_logout_no_longer_works(app, client, login_as):
    login_as("applicant")
    copied = client.get_cookie("session")
    assert client.get("/account/password").status_code == 200
    client.post("/logout")

    thief = app.test_client()
    thief.set_cookie(copied.key, copied.value, domain=copied.domain)
    response = thief.get("/account/password")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_login_redirects_only_to_pages_of_this_site(client, db):
    user = factories.make_user()
    db.session.commit()
    for target, expected in [("/account/password", "/account/password"),
                             ("https://evil.example/", "/workbench"), ("//evil.example/", "/workbench"),
                             ("/\\evil.example", "/workbench")]:
        response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD,
                                               "next": target})
        assert response.headers["Location"] == expected, target
        client.post("/logout")


def test_pages_that_need_a_login_send_visitors_to_it(client):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_logout_needs_a_post(client, login_as):
    login_as("applicant")
    assert client.get("/logout").status_code == 405


def test_a_registration_not_yet_confirmed_is_told_so_only_with_its_password(client, db):
    from tests.integration.test_registration import registration

    data = registration(email="pending@example.com")
    client.post("/register", data=data)
    right = client.post("/login", data={"email": "pending@example.com", "password": data["password"]},
                        headers=EN).get_data(as_text=True)
    wrong = client.post("/login", data={"email": "pending@example.com", "password": "not the password"},
                        headers=EN).get_data(as_text=True)
    assert "Finish the registration first" in right
    assert "Finish the registration first" not in wrong
    assert "The e-mail address or the password is not correct." in wrong
    assert client.get("/account/password").status_code == 302
