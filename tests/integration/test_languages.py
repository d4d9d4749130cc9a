"""Chinese by default, English on request, the choice remembered."""

import pytest
from sqlalchemy import select

from certify.auth.models import User


def test_the_home_page_is_in_chinese_by_default(client, db):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page
    # Really translated, not the English msgid passed through.
    assert "四川省绿色制造评价管理系统" in page
    assert "Sichuan Green Manufacturing Certification" not in page
    assert "登录" in page


def test_accept_language_english_gives_english(client, db):
    page = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Sichuan Green Manufacturing Certification" in page


def test_a_chinese_browser_gets_chinese(client, db):
    page = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page


def test_a_visitor_switches_language_and_it_sticks(client, db):
    response = client.post("/language", data={"language": "en", "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Sichuan Green Manufacturing Certification" in page


def test_a_user_s_language_is_remembered_across_logins(app, client, login_as, db):
    user = login_as("applicant")
    client.post("/language", data={"language": "en"})
    assert db.session.execute(select(User.preferred_language).where(User.id == user.id)).scalar() == "en"
    client.post("/logout")

    other_browser = app.test_client()
    other_browser.post("/login", data={"email": user.email, "password": "correct horse battery"})
    page = other_browser.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en">' in page


def test_the_switcher_refuses_to_redirect_elsewhere(client, db):
    response = client.post("/language", data={"language": "zh", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("language, title", [("zh", "页面不存在"), ("en", "Page not found")])
def test_error_pages_speak_the_visitor_s_language(client, db, language, title):
    response = client.get("/no/such/page", headers={"Accept-Language": language})
    assert response.status_code == 404
    assert title in response.get_data(as_text=True)


def test_label_tables_give_each_language_its_own_words(app):
    labels = app.jinja_env.globals["kind_labels"]
    for language in ("zh", "en", "zh"):
        with app.test_request_context(headers={"Accept-Language": language}):
            assert labels["factory"] == ("绿色工厂" if language == "zh" else "Green factory")
            assert list(labels) == ["factory", "product", "park", "supply_chain", "zero_carbon_factory",
                                    "zero_carbon_park"]


def test_a_status_shows_as_a_badge_in_the_readers_language(app):
    from flask import render_template_string

    from certify.workflow import Status

    for language, word in (("zh", "已列入名单"), ("en", "Listed")):
        with app.test_request_context(headers={"Accept-Language": language}):
            shown = render_template_string("{{ status_badge(status) }}", status=Status.LISTED)
            assert shown == f'<span class="badge badge-listed">{word}</span>'
