"""On the forms: answers outside their rule file's domain are refused beside the field in the
user's language; an indicator that does not apply is declared 不适用 with a reason, which the
assessor confirms or refuses, and the report shows."""

import io
import re

import pytest
from pypdf import PdfReader

from certify import storage
from certify.assessment.reports import latest_report
from certify.rulesets.applied import self_result, sheet_result
from certify.workflow import Status
from tests import factories
from tests.integration.test_assessment import EN, ZH, client_for
from tests.integration.test_assessment_scoring import DETAILS, accepted, score_all, submit

REASON = "本企业产品为工业原料，售出后不回收"


def post_section(browser, application, page_id, data, headers=ZH):
    return browser.post(f"/applications/{application.id}/sections/{page_id}", headers=headers,
                        data={"version": application.version, "go": "stay"} | data)


def declare_x41(browser, application, reason=REASON, answer=""):
    return post_section(browser, application, "recycling", {
        "na-X41-shown": "1", "na-X41": "1", "nar-X41": reason, "a-X41": answer})


# ---- answer domains on the form ---------------------------------------------------------------------


def cement_works(db):
    organisation = factories.make_organisation(name="某水泥有限公司", industry_code="3011")
    applicant = factories.make_user("applicant", organisation=organisation)
    application = factories.make_application(applicant, kind="factory", subject="熟料生产线")
    db.session.commit()
    return applicant, application


def test_figures_outside_their_domain_are_refused_beside_the_field_naming_the_range_and_unit(app, db):
    applicant, application = cement_works(db)
    browser = client_for(app, applicant)
    response = post_section(browser, application, "energy_low_carbon", {
        "a-energy.clinker.E": "0", "a-energy.clinker.Q": "1000000",
        "a-carbon.per_value.C": "1,2", "a-carbon.per_value.G": "100000",
        "a-energy.carbon_platform": "13"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ("水泥熟料单位产品综合能耗：由您填报的数据计算得到的数值 0 千克标准煤/吨 超出允许范围（大于 0 千克标准煤/吨），"
            "请核对数据。") in page
    assert "单位产值二氧化碳排放量：“1,2”不是有效数值，小数请用小数点（如 1.2），逗号只能用作千位分隔符（如 1,234.5）。" in page
    assert "能碳管理系统平台功能符合数量：填报值 13 项 超出允许范围（0 至 12 项）。" in page
    assert 'value="1,2"' in page and 'value="0"' in page  # shown back as typed
    assert application.answers == {}
    # Figures written unambiguously are taken, the ratio is computed by the engine:
    # 103,500 tce / 1,000,000 t = 103.5 kgce/t, halfway between grades 2 and 1: 4.00 points
    assert post_section(browser, application, "energy_low_carbon", {
        "a-energy.clinker.E": "103,500", "a-energy.clinker.Q": "1000000"}).status_code == 302
    assert application.answers == {"energy.clinker": {"E": "103500", "Q": "1000000"}}
    assert application.answer_texts == {"energy.clinker": {"E": "103,500"}}
    assert self_result(application).indicator("energy.clinker").points == 4
    page = browser.get(f"/applications/{application.id}/sections/energy_low_carbon").get_data(as_text=True)
    assert 'value="103,500"' in page


def test_each_class_is_offered_its_own_energy_figure_or_energy_per_output_value(app, db):
    for industry, shown, hidden in (("3120", "电弧炉", "水泥熟料"), ("3211", "铜冶炼", "电解铝"),
                                    ("3413", "单位产值综合能耗", "水泥熟料")):
        organisation = factories.make_organisation(name=f"某企业{industry}", industry_code=industry)
        user = factories.make_user("applicant", organisation=organisation)
        application = factories.make_application(user, kind="factory", subject="生产基地")
        db.session.commit()
        page = client_for(app, user).get(f"/applications/{application.id}/sections/energy_low_carbon", headers=ZH)
        text = page.get_data(as_text=True)
        assert shown in text and hidden not in text, industry


def test_an_organisation_recorded_with_a_division_only_is_told_to_have_its_class_recorded(app, db):
    organisation = factories.make_organisation(name="旧档案钢铁有限公司", industry_code="31")
    applicant = factories.make_user("applicant", organisation=organisation)
    db.session.commit()
    response = client_for(app, applicant).post("/applications/new", headers=ZH,
                                               data={"kind": "factory", "subject": "一号基地"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "贵单位登记的行业为“31 黑色金属冶炼和压延加工业”，不是国民经济行业分类（GB/T 4754-2017）的四位小类" in page


# ---- not applicable: the applicant -----------------------------------------------------------------


def test_an_applicant_declares_an_indicator_not_applicable_with_a_reason(app, db):
    applicant = factories.make_user("applicant")
    application = factories.complete_application(applicant)
    db.session.commit()
    browser = client_for(app, applicant)
    form = browser.get(f"/applications/{application.id}/sections/recycling", headers=ZH).get_data(as_text=True)
    assert 'name="na-X41"' in form and "本单位不适用" in form
    assert 'name="na-X11"' not in browser.get(f"/applications/{application.id}/sections/strategy").get_data(as_text=True)

    # a declaration needs a reason, and no answer beside it
    no_reason = declare_x41(browser, application, reason=" ")
    assert "请说明该指标不适用于本单位的理由。" in no_reason.get_data(as_text=True)
    both = declare_x41(browser, application, answer="40")
    assert "您已声明该指标不适用：请清除填报值，或取消“不适用”。" in both.get_data(as_text=True)
    assert application.not_applicable == {}

    assert declare_x41(browser, application).status_code == 302
    assert application.not_applicable == {"X41": REASON} and "X41" not in application.answers
    # Recycling is scored on the 15 points that apply, scaled to its 20: still full marks.
    result = self_result(application)
    assert result.indicator("X41").not_applicable == REASON
    assert [str(s.score) for s in result.sections if s.id == "recycling"] == ["20.00"]
    assert str(result.total) == "100.00"
    page = browser.get(f"/applications/{application.id}/sections/recycling", headers=ZH).get_data(as_text=True)
    assert REASON in page and re.search(r'name="na-X41" value="1"\s+checked', page)
    # and it can be taken back
    assert post_section(browser, application, "recycling", {"na-X41-shown": "1", "a-X41": "40"}).status_code == 302
    assert application.not_applicable == {} and application.answers["X41"] == "40"


def submitted_with_x41_declared(app, db):
    applicant = factories.make_user("applicant")
    application = factories.complete_application(applicant)
    application.answers = {k: v for k, v in application.answers.items() if k != "X41"}
    application.not_applicable = {"X41": REASON}
    db.session.commit()
    browser = client_for(app, applicant)
    assert browser.post(f"/applications/{application.id}/submit", data={
        "pledge_accepted": "y", "pledge_name": "周丽", "version": application.version}).status_code == 302
    assert application.status == Status.SUBMITTED
    assert application.self_result["not_applicable"] == {"X41": REASON}
    lead = factories.make_assessor()
    factories.assign(application, lead)
    db.session.commit()
    assessor_browser, assignment = accepted(app, application, lead)
    answers = {k: v for k, v in application.answers.items()}
    return application, assessor_browser, assignment, answers


def score_recycling(browser, assignment, data):
    return browser.post(f"/assessment/assignments/{assignment.id}/sections/recycling", headers=EN,
                        data={"version": assignment.sheet.version, "go": "stay"} | data)


@pytest.mark.renders_reports
def test_the_assessor_confirms_a_declaration_and_the_report_shows_it(app, db):
    application, browser, assignment, answers = submitted_with_x41_declared(app, db)
    page = browser.get(f"/assessment/assignments/{assignment.id}/sections/recycling", headers=ZH).get_data(as_text=True)
    assert "申报单位声明该项不适用。您的意见：" in page and REASON in page
    score_all(browser, assignment, answers)
    # undecided, the declaration stops the submission
    overview = browser.get(f"/assessment/assignments/{assignment.id}", headers=ZH).get_data(as_text=True)
    assert "请确认或不认可申报单位的“不适用”声明：产品回收率" in overview
    assert score_recycling(browser, assignment, {"nad-X41": "confirmed"}).status_code == 302
    assert assignment.sheet.not_applicable == {"X41": "confirmed"}
    assert submit(browser, assignment).status_code == 302
    result = sheet_result(assignment.sheet)
    assert str(result.total) == "100.00" and result.not_applicable == {"X41": REASON}
    assert application.status == Status.ASSESSED
    pdf = storage.path_of(latest_report(application).sha256).read_bytes()
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    assert "不适用项" in text and re.sub(r"\s+", "", REASON) in text and "评价确认不适用" in text


def test_a_refused_declaration_is_scored_with_a_comment(app, db):
    application, browser, assignment, answers = submitted_with_x41_declared(app, db)
    score_all(browser, assignment, answers)
    assert score_recycling(browser, assignment, {"nad-X41": "refused"}).status_code == 302
    overview = browser.get(f"/assessment/assignments/{assignment.id}", headers=EN).get_data(as_text=True)
    assert "Not scored: Product recovery rate" in overview and "Comment required: Product recovery rate" not in overview
    # a confirmed declaration takes no score
    confirmed_and_scored = score_recycling(browser, assignment, {"nad-X41": "confirmed", "a-X41": "40"})
    assert confirmed_and_scored.status_code == 200
    assert assignment.sheet.not_applicable == {"X41": "refused"}
    assert score_recycling(browser, assignment, {"nad-X41": "refused", "a-X41": "40"}).status_code == 302
    overview = browser.get(f"/assessment/assignments/{assignment.id}", headers=EN).get_data(as_text=True)
    assert "Comment required: Product recovery rate" in overview
    assert score_recycling(browser, assignment, {
        "a-X41": "40", "n-comment-X41": "企业包装桶可回收，产品回收率按台账核定为 40%"}).status_code == 302
    assert submit(browser, assignment, DETAILS).status_code == 302
    # recycling: 2.00 + 5 + 5 + 5 = 17 of 20 -> total 97.00
    assert str(sheet_result(assignment.sheet).total) == "97.00"
