"""Forms that never lose work, in the browser: a file over the limit is refused beside its field
before anything is sent, leaving a section with unsaved answers asks first, the live score follows
the answers, and a section can be answered with the keyboard alone."""

from certify.demo import DEMO_PASSWORD, load_demo
from certify.extensions import db as _db
from tests import factories
from tests.e2e.test_journey import log_in_with_the_keyboard


def signed_in_with_a_new_application(journey, live_app, name: str, email: str, subject: str):
    """The demo loaded, a new supply-chain application opened for ``email``'s organisation, and a
    browser signed in as them: (journey, application id)."""
    with live_app.app_context():
        load_demo()
        from certify.auth.models import User

        applicant = _db.session.query(User).filter_by(email=email).one()
        application_id = factories.make_application(applicant, kind="supply_chain", subject=subject).id
        _db.session.commit()
    started = journey(name, "zh-CN")
    log_in_with_the_keyboard(started, email, DEMO_PASSWORD)
    return started, application_id


def test_an_oversized_file_and_an_unsaved_section_lose_nothing(journey, live_app, tmp_path):
    zh, application_id = signed_in_with_a_new_application(journey, live_app, "keep-work", "applicant2@example.com",
                                                          "德阳绿色供应链")
    page = zh.page
    big = tmp_path / "扫描件.pdf"
    big.write_bytes(factories.PDF_BYTES + b"%" * 4096)

    limit = live_app.config["CERTIFY_MAX_UPLOAD_BYTES"]
    live_app.config["CERTIFY_MAX_UPLOAD_BYTES"] = 2048
    try:
        zh.goto(f"/applications/{application_id}/sections/strategy")
    finally:
        live_app.config["CERTIFY_MAX_UPLOAD_BYTES"] = limit
    page.select_option("select[name=a-X11]", "6")
    page.fill("textarea[name=r-X11]", "已纳入公司五年发展规划")
    file_input = page.locator("input[name=f-X11]")
    file_input.set_input_files(str(big))
    # Refused in the browser, with the reason beside the field; nothing chosen remains to send.
    note = page.locator("#f-X11-too-large")
    assert note.is_visible() and "超过 0.00195312 MB" in note.inner_text()
    assert file_input.evaluate("input => input.files.length") == 0
    assert file_input.get_attribute("aria-invalid") == "true"
    zh.shot("file over the limit")

    # Going to another section with unsaved answers asks first; staying keeps them.
    asked = []

    def stay(dialog):
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    page.locator("a[href$='/sections/suppliers']").first.click()
    page.wait_for_timeout(300)
    assert asked == ["beforeunload"]
    assert page.url.endswith("/sections/strategy")
    assert page.input_value("select[name=a-X11]") == "6"
    assert page.input_value("textarea[name=r-X11]") == "已纳入公司五年发展规划"

    # Once saved, moving on asks nothing.
    page.remove_listener("dialog", stay)
    page.locator("button[name=go][value=next]").click()
    page.wait_for_load_state()
    assert page.url.endswith("/sections/suppliers")
    with live_app.app_context():
        from certify.applications.models import Application

        saved = _db.session.get(Application, application_id)
        assert saved.answers["X11"] == "6" and saved.remarks["X11"] == "已纳入公司五年发展规划"
    assert zh.problems == []


def test_the_live_score_and_its_unmet_list_follow_the_form_and_stay_in_view(journey, live_app):
    zh, application_id = signed_in_with_a_new_application(journey, live_app, "live-score", "applicant3@example.com",
                                                          "宜宾绿色供应链")
    page = zh.page
    zh.goto(f"/applications/{application_id}/sections/basic")
    failed = page.locator(".score-panel [data-score=failed]")
    assert "具有独立法人资格" in failed.inner_text()

    page.check("input[name=a-BR1][value=yes]")  # not saved: the panel follows the form
    page.wait_for_function("() => !document.querySelector('[data-score=failed]').innerText.includes('具有独立法人资格')")
    assert "具有较强的行业影响力" in failed.inner_text()  # what is still unmet stays listed

    page.mouse.wheel(0, 900)  # down the form, the panel stays at the top of the window
    page.wait_for_timeout(200)
    assert page.evaluate("window.scrollY") > 800
    assert abs(page.locator(".score-panel").bounding_box()["y"] - 16) < 2
    zh.shot("live score in view")
    assert zh.problems == []


def test_a_section_is_answered_and_saved_with_the_keyboard_alone(journey, live_app):
    zh, application_id = signed_in_with_a_new_application(journey, live_app, "keyboard", "applicant1@example.com",
                                                          "攀枝花绿色供应链")
    page = zh.page
    zh.goto(f"/applications/{application_id}/sections/basic")
    page.focus("input[name=a-BR1][value=yes]")  # the first choice of the first requirement
    page.keyboard.press("Space")               # chosen
    for _ in range(40):                        # on through the form to the Save button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "保存":
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "已保存" in page.content()
    with live_app.app_context():
        from certify.applications.models import Application

        assert _db.session.get(Application, application_id).answers["BR1"] is True
    assert zh.problems == []
