"""The whole journey in a real browser, as people use the product: an applicant registers,
applies, self-assesses with an upload and submits; the administrator assigns; the assessor
scores; the administrator approves, opens the notice, resolves an objection and announces;
a visitor verifies the certificate. In Chinese, then a shorter pass in English.

Every step leaves a screenshot under test-output/e2e/. No console errors and no
content-security-policy violations may occur, every form field has a label, and the login
form works with the keyboard alone."""

import re
from datetime import timedelta

from sqlalchemy import select

from certify.demo import DEMO_PASSWORD, load_demo
from certify.extensions import db as _db
from certify.publication.models import Batch
from certify.timeutil import local_today
from tests import factories

UNLABELLED_FIELDS = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => !['hidden', 'submit', 'button'].includes(el.type))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.closest('label'))
  .map(el => el.name || el.id)"""


def check_page(journey) -> None:
    unlabelled = journey.page.evaluate(UNLABELLED_FIELDS)
    assert unlabelled == [], f"fields without a label on {journey.page.url}: {unlabelled}"


def log_in_with_the_keyboard(journey, email: str, password: str) -> None:
    journey.goto("/login")
    journey.page.focus("input[name=email]")
    journey.page.keyboard.type(email)
    journey.page.keyboard.press("Tab")
    journey.page.keyboard.type(password)
    with journey.page.expect_navigation():
        journey.page.keyboard.press("Enter")
    assert "/login" not in journey.page.url, "keyboard login failed"


def log_out(journey) -> None:
    journey.page.locator("form[action='/logout'] button").click()
    journey.page.wait_for_load_state()


def answer_every_page(journey, *, pdf_path=None) -> None:
    """Fill each section page with the best answers and go on to the next, attaching a file on
    the first page; ends on the overview."""
    page = journey.page
    first = True
    seen = set()
    while True:
        # A page that comes back (an answer refused) would be filled again forever: say why instead.
        assert page.url not in seen, (page.url, page.locator(".error").all_inner_texts())
        seen.add(page.url)
        vetoes = set(page.locator("[data-kind=veto] input[type=radio]").evaluate_all("els => els.map(e => e.name)"))
        for group in set(page.locator("input[type=radio][value=yes]").evaluate_all("els => els.map(e => e.name)")):
            # a veto condition is answered "not the case"; every requirement "met"
            page.check(f"input[type=radio][name='{group}'][value={'no' if group in vetoes else 'yes'}]")
        for dropdown in page.locator("form.assessment-form select").all():
            options = dropdown.locator("option").evaluate_all("els => els.map(e => e.value)")
            dropdown.select_option(options[-1])
        for field in page.locator("form.assessment-form input[inputmode=decimal]").all():
            field.fill("1")
        for group in set(page.locator("form.assessment-form input[type=radio]:not([value=yes]):not([value=no]):not([value=''])")
                         .evaluate_all("els => els.map(e => e.name)")):
            page.locator(f"input[type=radio][name='{group}']").first.check()
        if first and pdf_path is not None:
            page.locator("input[type=file]").first.set_input_files(str(pdf_path))
            first = False
        check_page(journey)
        next_button = page.locator("button[name=go][value=next]")
        if next_button.count():
            next_button.click()
        else:
            page.locator("button[name=go][value=overview]").click()
            page.wait_for_load_state()
            return
        page.wait_for_load_state()


def test_the_whole_journey_in_chinese_then_english(journey, live_app, tmp_path, outbox):
    with live_app.app_context():
        load_demo()
        _db.session.commit()
    pdf = tmp_path / "自评价报告.pdf"
    pdf.write_bytes(factories.PDF_BYTES)
    zh = journey("zh", "zh-CN")
    page = zh.page

    # An applicant registers its organisation.
    zh.goto("/register")
    page.select_option("select[name=kind]", "enterprise")
    page.fill("input[name=organisation_name]", "成都天府绿色制造有限公司")
    page.fill("input[name=credit_code]", factories.credit_code(number=424242))
    page.select_option("select[name=city_code]", "510100")
    page.fill("input[name=industry_code]", "3413 汽轮机及辅机制造")
    page.fill("input[name=name]", "刘敏")
    page.fill("input[name=email]", "liu.min@example.com")
    page.fill("input[name=password]", "tianfu green factory")
    page.fill("input[name=confirm_password]", "tianfu green factory")
    check_page(zh)
    zh.shot("registration form")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url.endswith("/register/sent")
    zh.shot("registration sent")
    # The confirmation link arrives by e-mail (without an SMTP server: in the server's log).
    [body] = [message.body for message in outbox if message.recipient == "liu.min@example.com"]
    page.goto(re.search(r"http://\S+/register/confirm/\S+", body).group(0))
    assert "成都天府绿色制造有限公司" in page.content()
    zh.shot("registration confirmation")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "刘敏" in page.content() and "从这里开始" in page.content()  # the workbench says where to start
    zh.shot("registered")

    # It opens an application and answers the self-assessment, with evidence.
    zh.goto("/applications/new")
    page.select_option("select[name=kind]", "supply_chain")
    page.fill("input[name=subject]", "天府绿色供应链")
    check_page(zh)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    zh.shot("application opened")
    page.locator("a[href*='/sections/']").first.click()
    page.wait_for_load_state()
    zh.shot("first section")
    answer_every_page(zh, pdf_path=pdf)
    zh.shot("self-assessment complete")
    application_url = page.url
    application_id = int(re.search(r"/applications/(\d+)", application_url).group(1))

    page.locator(f"a[href='/applications/{application_id}/submit']").click()
    page.wait_for_load_state()
    page.check("input[name=pledge_accepted]")
    page.fill("input[name=pledge_name]", "刘敏")
    check_page(zh)
    zh.shot("pledge")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "已提交" in page.content()
    zh.shot("submitted")
    log_out(zh)

    # The administrator, landing on the workbench, assigns an assessor.
    log_in_with_the_keyboard(zh, "admin@example.com", DEMO_PASSWORD)
    assert page.url.endswith("/workbench") and "待分配评价人员" in page.content()
    zh.shot("administrator's workbench")
    zh.goto(f"/assessment/applications/{application_id}")
    page.select_option("select[name=lead_id]", index=1)
    check_page(zh)
    zh.shot("assignment")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    zh.shot("assigned")
    assessor_name = page.locator("table a[href*='/assessment/assignments/']").first.inner_text()
    log_out(zh)

    # The assessor accepts and scores.
    with live_app.app_context():
        from certify.auth.models import User

        assessor_email = _db.session.execute(select(User.email).where(User.name == assessor_name)).scalar_one()
    log_in_with_the_keyboard(zh, assessor_email, DEMO_PASSWORD)
    zh.goto("/assessment/assignments")
    page.locator("a[href*='/assessment/assignments/']").first.click()
    page.wait_for_load_state()
    page.locator("form[action$='/accept'] button").click()
    page.wait_for_load_state()
    zh.shot("assignment accepted")
    page.locator("a[href*='/sections/']").first.click()
    page.wait_for_load_state()
    answer_every_page(zh)
    page.fill("input[name=site_visit_on]", local_today().isoformat())
    page.fill("textarea[name=site_visit_participants], input[name=site_visit_participants]", "评价组两人，企业三人")
    page.fill("textarea[name=site_visit_findings]", "现场核查与自评价一致。")
    page.fill("textarea[name=conclusion]", "符合绿色供应链管理企业评价要求。")
    page.fill("textarea[name=highlights], input[name=highlights]", "供应商绿色管理体系完善。")
    page.check("input[name=recommendation][value=approve]")
    check_page(zh)
    zh.shot("score sheet")
    page.locator("button[name=go][value=submit]").click()
    page.wait_for_load_state()
    zh.shot("score sheet submitted")
    log_out(zh)

    # The administrator approves, opens the notice.
    log_in_with_the_keyboard(zh, "admin@example.com", DEMO_PASSWORD)
    zh.goto(f"/admin/decisions/{application_id}")
    assert page.locator("#comparison-title").count() == 1  # self and assessor scores side by side
    page.check("input[name=outcome][value=approved]")
    check_page(zh)
    zh.shot("decision")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    zh.goto("/admin/batches")
    page.fill("input[name=title]", "2026年四川省绿色制造名单（测试批）")
    page.check("input[name=kinds][value=supply_chain]")
    check_page(zh)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()
    page.check(f"input[name=application_ids][value='{application_id}']")
    page.locator("form[action$='/entries'] button").click()
    page.wait_for_load_state()
    page.locator("form[action$='/open-notice'] button").click()
    page.wait_for_load_state()
    assert "将会发生什么" in page.content()  # said before it is done
    zh.shot("notice confirmation")
    page.locator("form.confirm-actions button[type=submit]").click()
    page.wait_for_load_state()
    zh.shot("notice open")
    batch_id = int(re.search(r"/admin/batches/(\d+)", page.url).group(1))
    log_out(zh)

    # A member of the public objects during the notice.
    zh.goto(f"/notices/{batch_id}")
    zh.shot("public notice")
    page.locator("a[href*='/objection']").first.click()
    page.wait_for_load_state()
    page.fill("input[name=name]", "王先生")
    page.fill("input[name=contact]", "13900000000")
    page.fill("textarea[name=text]", "该企业供应商名录与实际不符，请核查。")
    check_page(zh)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    objection_url = page.url
    zh.shot("objection received")

    # The administrator dismisses it with a reason, and — the notice over — announces.
    log_in_with_the_keyboard(zh, "admin@example.com", DEMO_PASSWORD)
    zh.goto(f"/admin/batches/{batch_id}")
    page.locator("a[href*='/admin/objections/']").first.click()
    page.wait_for_load_state()
    page.check("input[name=outcome][value=dismissed]")
    page.fill("textarea[name=reason]", "经核查，供应商名录真实有效。")
    check_page(zh)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    with live_app.app_context():  # fifteen days pass
        batch = _db.session.get(Batch, batch_id)
        batch.notice_starts_on -= timedelta(days=20)
        batch.notice_ends_on = local_today() - timedelta(days=1)
        _db.session.commit()
    zh.goto(f"/admin/batches/{batch_id}")
    page.locator("form[action$='/announce'] button").click()
    page.wait_for_load_state()
    zh.shot("announcement confirmation")
    page.locator("form.confirm-actions button[type=submit]").click()
    page.wait_for_load_state()
    zh.shot("announced")
    log_out(zh)

    # The objector reads the answer; a visitor verifies the certificate.
    page.goto(objection_url)
    assert "供应商名录真实有效" in page.content()
    zh.goto("/lists")
    zh.shot("announced list")
    page.locator("a[href*='/verify?number=']").first.click()
    page.wait_for_load_state()
    assert "成都天府绿色制造有限公司" in page.content() and "有效" in page.content()
    zh.shot("certificate verified")
    assert zh.problems == []

    # A shorter pass in English: the visitor verifies, the applicant reads its application.
    en = journey("en", "en-US")
    en.goto("/lists")
    en.page.locator("a[href*='/verify?number=']").first.click()
    en.page.wait_for_load_state()
    assert "Valid" in en.page.content()
    en.shot("certificate verified")
    log_in_with_the_keyboard(en, "liu.min@example.com", "tianfu green factory")
    en.goto(f"/applications/{application_id}")
    assert "已列入名单" in en.page.content() or 'lang="zh-Hans"' in en.page.content()  # remembered: Chinese
    en.page.locator(".language-switcher button[value=en]").click()
    en.page.wait_for_load_state()
    assert "Listed" in en.page.content()
    en.shot("application listed")
    assert en.problems == []
