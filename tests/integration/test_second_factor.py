"""The optional second factor (TOTP), required for administrators and assessors when switched on."""

import re
import threading
import time

import pyotp
from sqlalchemy import select

from certify.audit.models import AuditEvent
from tests import factories

EN = {"Accept-Language": "en"}


def next_code(secret: str) -> str:
    """The code of the coming time step, accepted a step early for clocks that drift: the
    current one was spent switching the second factor on."""
    return pyotp.TOTP(secret).at(time.time(), counter_offset=1)


def _enable(client) -> str:
    page = client.get("/account/two-factor", headers=EN).get_data(as_text=True)
    secret = re.search(r"<code>([A-Z2-7]+)</code>", page).group(1)
    assert 'src="data:image/svg+xml' in page  # the QR code, inline data (allowed by the CSP)
    response = client.post("/account/two-factor", data={"enable-code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    return secret


def test_a_user_switches_the_second_factor_on_and_login_then_asks_for_a_code(app, client, login_as, db):
    user = login_as("applicant")
    secret = _enable(client)
    assert user.totp_secret == secret
    client.post("/logout")

    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.headers["Location"] == "/login/two-factor"
    assert client.get("/account/password").status_code == 302  # not logged in yet
    wrong = client.post("/login/two-factor", data={"code": "000000"}, headers=EN)
    assert "The code is not correct" in wrong.get_data(as_text=True)
    right = client.post("/login/two-factor", data={"code": next_code(secret)})
    assert right.status_code == 302
    assert client.get("/account/password").status_code == 200
    actions = db.session.execute(select(AuditEvent.action)).scalars().all()
    assert "user.totp_enabled" in actions


def test_a_wrong_setup_code_leaves_the_second_factor_off(client, login_as, db):
    user = login_as("applicant")
    client.get("/account/two-factor")
    page = client.post("/account/two-factor", data={"enable-code": "123456"}, headers=EN).get_data(as_text=True)
    assert "The code is not correct" in page
    assert user.totp_secret is None


def test_switching_it_off_needs_the_password(client, login_as, db):
    user = login_as("applicant")
    _enable(client)
    client.post("/account/two-factor", data={"disable-password": "wrong one"})
    assert user.totp_secret is not None
    client.post("/account/two-factor", data={"disable-password": factories.PASSWORD})
    assert user.totp_secret is None


def test_when_required_staff_must_set_it_up_before_anything_else(make_app, db):
    app = make_app(CERTIFY_REQUIRE_TOTP_FOR_STAFF=True)
    client = app.test_client()
    admin = factories.make_user("admin")
    applicant = factories.make_user("applicant")
    db.session.commit()
    client.post("/login", data={"email": admin.email, "password": factories.PASSWORD})
    response = client.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor"
    _enable(client)
    assert client.get("/admin/").status_code == 200
    # Applicants are not obliged.
    other = app.test_client()
    other.post("/login", data={"email": applicant.email, "password": factories.PASSWORD})
    assert other.get("/account/colleagues").status_code == 200


def test_a_pending_second_factor_is_cancelled_by_a_password_change(app, client, db):
    user = factories.make_user("applicant")
    db.session.commit()
    client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    secret = _enable(client)
    client.post("/logout")
    client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    user.session_token = "changed-elsewhere"
    db.session.commit()
    response = client.post("/login/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert response.headers["Location"] == "/login"


def _password_step(client, user) -> None:
    client.post("/logout")
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.headers["Location"] == "/login/two-factor"


def test_a_code_works_for_one_login_only(client, login_as, db):
    user = login_as("applicant")
    page = client.get("/account/two-factor", headers=EN).get_data(as_text=True)
    secret = re.search(r"<code>([A-Z2-7]+)</code>", page).group(1)
    setup_code = pyotp.TOTP(secret).now()
    assert client.post("/account/two-factor", data={"enable-code": setup_code}).status_code == 302
    # The code that switched the second factor on does not log in.
    _password_step(client, user)
    spent = client.post("/login/two-factor", data={"code": setup_code}, headers=EN)
    assert "already been used" in spent.get_data(as_text=True)

    code = next_code(secret)
    assert client.post("/login/two-factor", data={"code": code}).status_code == 302
    _password_step(client, user)
    for replayed in (code, pyotp.TOTP(secret).now()):  # the same code, and an older one
        page = client.post("/login/two-factor", data={"code": replayed}, headers=EN)
        assert page.status_code == 200 and "already been used" in page.get_data(as_text=True)
    assert client.get("/account/password").status_code == 302  # still not logged in
    reused = db.session.execute(select(AuditEvent).where(AuditEvent.action == "user.totp_code_reused")).scalars().all()
    assert len(reused) == 3


def test_two_logins_racing_with_one_code_let_only_one_in(app, client, login_as, db):
    user = login_as("applicant")
    secret = _enable(client)
    client.post("/logout")
    devices = [app.test_client(), app.test_client()]
    for device in devices:
        device.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    code, start, statuses = next_code(secret), threading.Barrier(2), []

    def enter(device):
        start.wait()
        statuses.append(device.post("/login/two-factor", data={"code": code}).status_code)

    threads = [threading.Thread(target=enter, args=(device,)) for device in devices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 302]
    assert sorted(device.get("/account/password").status_code for device in devices) == [200, 302]


def test_codes_are_limited_per_account_whatever_the_client_address(app, db):
    user = factories.make_user("applicant")
    db.session.commit()
    owner = app.test_client()
    owner.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    _enable(owner)
    statuses = []
    for attempt in range(11):
        device = app.test_client()
        address = {"REMOTE_ADDR": f"203.0.113.{attempt + 1}"}
        device.post("/login", data={"email": user.email, "password": factories.PASSWORD},
                    environ_base=address)
        statuses.append(device.post("/login/two-factor", data={"code": "000000"},
                                    environ_base=address).status_code)
    assert statuses == [200] * 10 + [429]
