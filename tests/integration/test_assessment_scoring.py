"""Scoring: an assessor accepts, scores every indicator of the pinned rule file with comments
where needed, records the on-site visit and submits; two assessors score blind; the department
sees both side by side; the applicant reads only the comments meant for it."""

import pytest
from sqlalchemy import select

from certify.applications import services as application_services
from certify.assessment.models import AssignmentStatus, EvaluationReport
from certify.assessment.rounds import current_assignments
from certify.assessment.scoring import disagreement_margins
from certify.audit.models import AuditEvent
from certify.rulesets.applied import pages, rule_set_of, sheet_result
from certify.rulesets.forms import form_value
from certify.timeutil import local_today
from certify.workflow import Status
from tests import factories
from tests.integration.test_assessment import EN, ZH, client_for

# What the lead records; the visit is on the day of the assignment (never before it, never in
# the future), which `submit` fills in.
DETAILS = {"site_visit_participants": "张评价（组长）、企业环保负责人",
           "site_visit_findings": "现场核查供应商管理制度及台账，与申报材料一致。",
           "conclusion": "该企业绿色供应链管理体系健全。", "highlights": "建立了覆盖全部一级供应商的绿色采购平台",
           "recommendation": "approve"}


def accepted(app, application, assessor):
    """The assessor's browser, after accepting their assignment on ``application``."""
    assignment = next(a for a in current_assignments(application) if a.assessor_id == assessor.id)
    browser = client_for(app, assessor)
    assert browser.post(f"/assessment/assignments/{assignment.id}/accept").status_code == 302
    return browser, assignment


def one_assessor(app, db):
    """A submitted application, its lead assessor's browser and accepted assignment."""
    application = factories.make_submitted_application()
    assessor = factories.make_assessor()
    factories.assign(application, assessor)
    db.session.commit()
    browser, assignment = accepted(app, application, assessor)
    return application, browser, assignment


def score_all(browser, assignment, answers, notes=None, headers=EN):
    """Post every page of the score sheet: ``answers`` in stored form, ``notes`` as
    {indicator id: {note kind: text}}."""
    application = assignment.application
    rule_set = rule_set_of(application)
    for page_id, _section, indicators in pages(rule_set, application.industry_code):
        data = {"version": assignment.sheet.version, "go": "stay"}
        for indicator in indicators:
            data[f"a-{indicator.id}"] = form_value(indicator, answers.get(indicator.id))
            for kind, text in (notes or {}).get(indicator.id, {}).items():
                data[f"n-{kind}-{indicator.id}"] = text
        response = browser.post(f"/assessment/assignments/{assignment.id}/sections/{page_id}",
                                data=data, headers=headers)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def submit(browser, assignment, details=DETAILS, headers=EN):
    """Submit the sheet with ``details``; the visit took place today (China time, read now: a
    suite that runs past midnight assigns on the new day) unless they say otherwise."""
    return browser.post(f"/assessment/assignments/{assignment.id}/sheet", headers=headers,
                        data={"site_visit_on": local_today().isoformat()} | details
                        | {"version": assignment.sheet.version, "go": "submit"})


@pytest.mark.renders_reports
@pytest.mark.parametrize("language", ["en", "zh"])
def test_an_assessor_accepts_scores_and_submits_and_the_application_is_assessed(app, db, language):
    headers = {"Accept-Language": language}
    application, browser, assignment = one_assessor(app, db)
    assert application.status == Status.UNDER_ASSESSMENT
    assert assignment.status == AssignmentStatus.ACCEPTED

    # The scoring form is generated from the pinned rule file, in the reader's language.
    page = browser.get(f"/assessment/assignments/{assignment.id}/sections/strategy", headers=headers)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert ("纳入公司发展规划" if language == "zh" else "development plan") in text
    assert 'name="a-X11"' in text and 'name="n-comment-X11"' in text and 'name="n-internal-X11"' in text

    answers = dict(application.answers)
    answers["X11"] = "6"  # differs from the self-assessment (8): a comment is needed
    score_all(browser, assignment, answers, {"X11": {"comment": "规划中未见量化目标，扣 2 分。"}}, headers)
    overview = browser.get(f"/assessment/assignments/{assignment.id}", headers=headers)
    assert overview.status_code == 200
    assert submit(browser, assignment, headers=headers).status_code == 302

    assert assignment.status == AssignmentStatus.SUBMITTED
    assert application.status == Status.ASSESSED
    sheet = assignment.sheet
    expected = sheet_result(sheet)
    assert sheet.total == expected.total == application.self_score_total - 2
    assert sheet.result["total"] == str(expected.total)
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "application.report")).scalar_one()
    # The report was rendered after the commit and stored with its sha256.
    report = db.session.execute(select(EvaluationReport)).scalar_one()
    assert len(report.sha256) == 64 and report.size > 0


def test_a_comment_is_required_where_the_assessor_differs_and_for_unmet_requirements(app, db):
    application, browser, assignment = one_assessor(app, db)
    answers = dict(application.answers) | {"X12": "3", "BR2": False}
    score_all(browser, assignment, answers, {"X12": {"internal": "内部：与组长讨论过"}})

    response = submit(browser, assignment)
    assert response.status_code == 302
    assert assignment.status == AssignmentStatus.ACCEPTED
    page = browser.get(f"/assessment/assignments/{assignment.id}", headers=EN).get_data(as_text=True)
    # An internal note is not the comment the report and the applicant need.
    assert "Comment required: Green supply-chain management goals set" in page
    assert "Comment required: （二）2 Strong influence in its industry" in page
    assert "Comment required: X11" not in page
    # Everything typed was kept although submission was refused.
    assert assignment.sheet.site_visit_findings == DETAILS["site_visit_findings"]

    score_all(browser, assignment, answers, {"X12": {"comment": "目标未分解到部门。"},
                                             "BR2": {"comment": "供应商数量不足。"}})
    assert submit(browser, assignment).status_code == 302
    assert assignment.status == AssignmentStatus.SUBMITTED
    assert application.status == Status.ASSESSED
    assert assignment.sheet.passed is False  # an unmet basic requirement vetoes


def test_saving_is_always_allowed_and_a_wrong_value_is_shown_back(app, db):
    application, browser, assignment = one_assessor(app, db)
    response = browser.post(f"/assessment/assignments/{assignment.id}/sections/suppliers", headers=EN,
                            data={"version": assignment.sheet.version, "a-X21": "4", "a-X26": "八十",
                                  "n-comment-X26": "台账数据待核实"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="八十"' in page and "Share of low-risk suppliers: “八十” is not a number" in page
    assert assignment.sheet.answers == {"X21": "4"}
    assert assignment.sheet.notes == {"X26": {"comment": "台账数据待核实"}}
    # Highlights are limited to 100 characters.
    browser.post(f"/assessment/assignments/{assignment.id}/sheet",
                 data=DETAILS | {"highlights": "亮" * 101, "version": assignment.sheet.version})
    assert assignment.sheet.highlights is None


def test_a_stale_page_does_not_overwrite_a_newer_save(app, db):
    application, browser, assignment = one_assessor(app, db)
    opened = assignment.sheet.version
    url = f"/assessment/assignments/{assignment.id}/sections/strategy"
    assert browser.post(url, data={"version": opened, "a-X11": "8"}).status_code == 302
    stale = browser.post(url, data={"version": opened, "a-X11": "2"}, headers=EN)
    assert "saved elsewhere" in stale.get_data(as_text=True)
    assert assignment.sheet.answers == {"X11": "8"}


def two_assessors(app, db):
    application = factories.make_submitted_application()
    lead, second = factories.make_assessor(name="李组长"), factories.make_assessor(name="王评价")
    factories.assign(application, lead, second)
    db.session.commit()
    lead_browser, lead_assignment = accepted(app, application, lead)
    second_browser, second_assignment = accepted(app, application, second)
    return application, (lead_browser, lead_assignment), (second_browser, second_assignment)


def test_two_assessors_score_blind_until_both_have_submitted(app, db):
    application, (lead_browser, lead_a), (second_browser, second_a) = two_assessors(app, db)
    answers = dict(application.answers)
    score_all(lead_browser, lead_a, answers)
    score_all(second_browser, second_a, answers | {"X11": "2"},
              {"X11": {"comment": "第二评价人独立意见：规划缺失", "internal": "第二评价人内部备注"}})

    # Neither sees the other's scores or notes before submitting.
    for browser, assignment in [(lead_browser, lead_a), (second_browser, second_a)]:
        for path in [f"/assessment/assignments/{assignment.id}",
                     f"/assessment/assignments/{assignment.id}/sections/strategy",
                     f"/applications/{application.id}"]:
            page = browser.get(path, headers=EN).get_data(as_text=True)
            assert "Scores side by side" not in page, path
            assert "第二评价人" not in page or browser is second_browser, path
    # Nor can one open the other's assignment.
    assert lead_browser.get(f"/assessment/assignments/{second_a.id}").status_code == 404
    assert lead_browser.get(f"/assessment/assignments/{second_a.id}/sections/strategy").status_code == 404

    assert submit(lead_browser, lead_a).status_code == 302
    assert application.status == Status.UNDER_ASSESSMENT  # waits for the second sheet
    page = lead_browser.get(f"/assessment/assignments/{lead_a.id}", headers=EN).get_data(as_text=True)
    assert "王评价" not in page  # submitted, but the colleague has not: still blind

    assert submit(second_browser, second_a, DETAILS | {"site_visit_findings": ""}).status_code == 302
    assert application.status == Status.ASSESSED
    page = lead_browser.get(f"/assessment/assignments/{lead_a.id}", headers=EN).get_data(as_text=True)
    assert "Scores side by side" in page and "Disagreement" in page


def test_the_department_sees_both_sheets_side_by_side_with_disagreements_flagged(app, client, login_as, db):
    application, (lead_browser, lead_a), (second_browser, second_a) = two_assessors(app, db)
    answers = dict(application.answers)
    score_all(lead_browser, lead_a, answers | {"X12": "5"}, {"X12": {"comment": "略有不足"}})
    score_all(second_browser, second_a, answers | {"X11": "2", "X12": "6"},
              {"X11": {"comment": "规划缺失"}})
    submit(lead_browser, lead_a)
    login_as("admin")
    page = client.get(f"/assessment/applications/{application.id}", headers=EN).get_data(as_text=True)
    assert "Scores side by side" in page
    assert "李组长" in page  # the second has not submitted: only the lead's sheet
    assert "Disagreement</strong>" not in page

    submit(second_browser, second_a)
    page = client.get(f"/assessment/applications/{application.id}", headers=EN).get_data(as_text=True)
    rows = {row.split("</th>")[0]: row for row in page.split('<tr')[1:] if '<th scope="row">' in row}
    flagged = {key for key, row in rows.items() if "Disagreement</strong>" in row}
    # X11: 8 against 2 points (beyond the 1-point margin); X12: 5 against 6 is within it.
    assert any("Part of the company&#39;s development plan" in key for key in flagged)
    assert not any("Green supply-chain management goals set" in key for key in flagged)
    assert "differs from the self-assessment" in page


def test_the_margin_of_disagreement_is_configurable(make_app, db):
    from decimal import Decimal

    from certify.assessment.compare import ScoreCell, disagree

    app = make_app(CERTIFY_SCORE_DISAGREEMENT_MARGIN="0")
    with app.app_context():
        margin, _total = disagreement_margins()
        assert margin == Decimal("0")
        rule_set = rule_set_of(factories.make_application())
        indicator = rule_set.indicator("X12")
        assert disagree(indicator, ScoreCell("5", Decimal("5")), ScoreCell("6", Decimal("6")), margin)
        factories.db.session.rollback()


def test_the_applicant_reads_visible_comments_never_internal_notes(app, client, login_as, db):
    application, browser, assignment = one_assessor(app, db)
    score_all(browser, assignment, dict(application.answers) | {"X11": "6"},
              {"X11": {"comment": "请补充量化目标", "internal": "内部：企业负责人态度消极"}})
    submit(browser, assignment, DETAILS | {"recommendation": "return", "return_questions": "请补充规划文件"})
    applicant = client_for(app, application.created_by)
    feedback = f"/assessment/applications/{application.id}/feedback"
    assert applicant.get(feedback).status_code == 404  # not before the department acts

    admin = login_as("admin")
    with app.test_request_context():  # the notification e-mails hold links
        application_services.return_application(admin, application, note="请按评价意见补充材料")
    db.session.commit()
    page = applicant.get(feedback, headers=EN).get_data(as_text=True)
    assert "请补充量化目标" in page and "请补充规划文件" in page
    assert "企业负责人态度消极" not in page
    assert "企业负责人态度消极" not in applicant.get(f"/applications/{application.id}").get_data(as_text=True)
    # The report is the department's until it decides.
    assert applicant.get(f"/assessment/applications/{application.id}/report").status_code == 404


def test_scoring_pages_for_every_kind_render_in_both_languages(app, db):
    for kind, organisation_kind, extra in [("factory", "enterprise", {}), ("park", "park_committee", {}),
                                           ("product", "enterprise", {"rule_set_id": "product-gbt-32161-2015"})]:
        organisation = factories.make_organisation(organisation_kind)
        applicant = factories.make_user("applicant", organisation=organisation)
        application = factories.make_submitted_application(applicant, kind=kind, **extra)
        assessor = factories.make_assessor(kinds=[kind])
        factories.assign(application, assessor)
        db.session.commit()
        browser, assignment = accepted(app, application, assessor)
        rule_set = rule_set_of(application)
        for page_id, _section, _indicators in pages(rule_set, application.industry_code):
            for headers in (EN, ZH):
                response = browser.get(f"/assessment/assignments/{assignment.id}/sections/{page_id}",
                                       headers=headers)
                assert response.status_code == 200, (kind, page_id)


def test_an_on_site_visit_before_the_assignment_is_refused_and_the_record_kept(app, db):
    from datetime import timedelta

    application, browser, assignment = one_assessor(app, db)
    assignment.assigned_on = local_today() - timedelta(days=3)
    db.session.commit()
    early = (assignment.assigned_on - timedelta(days=1)).isoformat()
    response = browser.post(f"/assessment/assignments/{assignment.id}/sheet", headers=EN,
                            data=DETAILS | {"site_visit_on": early, "version": assignment.sheet.version, "go": "save"})
    page = response.get_data(as_text=True)
    assert "The on-site visit cannot be before the assignment" in page
    assert DETAILS["site_visit_findings"] in page  # what was typed is shown back
    db.session.refresh(assignment.sheet)
    assert assignment.sheet.site_visit_on is None
