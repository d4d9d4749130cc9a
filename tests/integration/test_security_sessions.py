"""Sessions, headers and login hardening: what protects accounts beyond the password."""

import time

import pytest
from sqlalchemy import select

from certify.auth.models import User
from certify.security import LOGIN_AT, SEEN_AT
from tests import factories

EN = {"Accept-Language": "en"}
PAGES = ["/", "/login", "/register", "/notices", "/password/forgot"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_carries_a_strict_content_security_policy(client, db, path):
    response = client.get(path)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "<script>" not in response.get_data(as_text=True)  # no inline scripts anywhere
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP here


def test_pages_with_private_data_are_not_cached(client, login_as):
    login_as("applicant")
    assert client.get("/account/colleagues").headers["Cache-Control"] == "no-store"


def test_https_deployments_get_hsts_and_secure_cookies(make_app, db):
    app = make_app(CERTIFY_BASE_URL="https://certify.example.gov.cn")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_the_session_cookie_is_httponly_and_samesite(client, db):
    user = factories.make_user()
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_logging_in_starts_a_fresh_session(client, db):
    user = factories.make_user()
    db.session.commit()
    with client.session_transaction() as before:
        before["planted"] = "by someone else"
    client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    with client.session_transaction() as after:
        assert "planted" not in after


def _age_session(client, *, login_seconds_ago: int, seen_seconds_ago: int) -> None:
    now = int(time.time())
    with client.session_transaction() as session:
        session[LOGIN_AT] = now - login_seconds_ago
        session[SEEN_AT] = now - seen_seconds_ago


def test_an_idle_session_ends(app, client, login_as):
    login_as("applicant")
    idle = app.config["CERTIFY_SESSION_IDLE_MINUTES"] * 60
    _age_session(client, login_seconds_ago=idle + 10, seen_seconds_ago=idle + 5)
    response = client.get("/account/colleagues")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_session_ends_after_its_absolute_lifetime_even_when_active(app, client, login_as):
    login_as("applicant")
    limit = app.config["CERTIFY_SESSION_ABSOLUTE_HOURS"] * 3600
    _age_session(client, login_seconds_ago=limit + 1, seen_seconds_ago=1)
    assert client.get("/account/colleagues").status_code == 302


def test_an_active_session_continues(app, client, login_as):
    login_as("applicant")
    _age_session(client, login_seconds_ago=3600, seen_seconds_ago=60)
    assert client.get("/account/colleagues").status_code == 200


def test_repeated_failures_lock_the_login_without_revealing_the_account(client, db):
    user = factories.make_user()
    db.session.commit()
    known = [client.post("/login", data={"email": user.email, "password": "wrong password"}).status_code
             for _ in range(6)]
    unknown = [client.post("/login", data={"email": "nobody@example.com", "password": "wrong password"}).status_code
               for _ in range(6)]
    assert known == unknown == [200] * 5 + [429]
    # Even the right password waits until the lockout passes.
    locked = client.post("/login", data={"email": user.email, "password": factories.PASSWORD}, headers=EN)
    assert locked.status_code == 429
    assert "Too many requests" in locked.get_data(as_text=True)


def test_successful_logins_do_not_count_towards_the_lockout(client, db):
    user = factories.make_user()
    db.session.commit()
    for _ in range(7):
        assert client.post("/login", data={"email": user.email, "password": factories.PASSWORD}).status_code == 302
        client.post("/logout")


@pytest.mark.parametrize("password, accepted", [
    ("short1", False), ("123456789", False), ("woaini1314", False), ("Password123", False),
    ("zhou.li@example.com", False), ("zhou.li", False),
    ("a long passphrase of unrelated words", True), ("长城饮马黄河远上白云间", True),
    ("x" * 64 + "y" * 40, True), ("z" * 129, False),
])
def test_passwords_are_long_enough_and_not_common(client, db, password, accepted):
    response = client.post("/register", data={
        "kind": "enterprise", "organisation_name": "密码测试公司", "credit_code": factories.credit_code(),
        "city_code": "510100", "industry_code": "3011", "name": "周丽", "email": "zhou.li@example.com",
        "password": password, "confirm_password": password}, headers=EN)
    created = db.session.execute(select(User)).scalar_one_or_none() is not None
    assert created == accepted, response.get_data(as_text=True)[-2000:]


def test_state_changes_need_a_csrf_token(make_app, db):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    user = factories.make_user()
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD},
                           headers=EN)
    assert response.status_code == 400
    assert "The form had expired" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/verify?number=SC%00", "/lists?q=%00", "/login"])
def test_a_nul_character_anywhere_gets_a_plain_400(client, db, path):
    response = client.post(path, data={"email": "a\x00@example.com"}) if path == "/login" else client.get(path)
    assert response.status_code == 400


def test_a_visitor_switches_language_without_a_cookie_but_a_user_needs_the_token(make_app, db):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/lists")
    assert "Set-Cookie" not in page.headers  # public pages set no cookie: a cache in front may keep them
    assert 'name="csrf_token"' not in page.get_data(as_text=True)
    switched = client.post("/language", data={"language": "en", "next": "/lists"})
    assert switched.status_code == 302 and "Announced lists" in client.get("/lists").get_data(as_text=True)

    user = factories.make_user()
    db.session.commit()
    login_page = client.get("/login").get_data(as_text=True)
    token = login_page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    assert client.post("/login", data={"email": user.email, "password": factories.PASSWORD,
                                       "csrf_token": token}).status_code == 302
    refused = client.post("/language", data={"language": "zh"})
    assert refused.status_code == 400
    assert db.session.get(type(user), user.id).preferred_language != "zh"
    home = client.get("/").get_data(as_text=True)
    token = home.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert client.post("/language", data={"language": "zh", "csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(type(user), user.id).preferred_language == "zh"
