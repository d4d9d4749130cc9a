"""Provisional values: an enterprise sees a neutral 暂定 badge with a Chinese explanation, never the
staff's reasons; assessors and administrators read the reason, in Chinese first."""

import json

from certify.scoring import RuleSet
from tests import factories
from tests.integration.test_assessment import EN, ZH, client_for
from tests.integration.test_assessment_scoring import accepted

HEBEI_ZH = "1级、2级数值取自限额标准的公开转录"
HEBEI_EN = "public transcription of the limit standard"


def test_an_enterprise_sees_a_neutral_badge_and_never_the_reason(app, db):
    applicant = factories.make_user("applicant", organisation=factories.make_organisation(industry_code="3011"))
    application = factories.make_application(applicant, kind="factory", subject="熟料生产线")
    db.session.commit()
    browser = client_for(app, applicant)
    for headers in (ZH, EN):
        page = browser.get(f"/applications/{application.id}/sections/energy_low_carbon", headers=headers).get_data(as_text=True)
        assert HEBEI_ZH not in page and HEBEI_EN not in page
    page = browser.get(f"/applications/{application.id}/sections/energy_low_carbon", headers=ZH).get_data(as_text=True)
    assert '<span class="badge">暂定</span>' in page and "部分数值尚待主管部门确认" in page


def test_an_assessor_reads_the_reason_in_chinese_first(app, db):
    applicant = factories.make_user("applicant", organisation=factories.make_organisation(industry_code="3011"))
    application = factories.complete_application(applicant, kind="factory", subject="熟料生产线")
    db.session.commit()
    from flask import current_app

    from certify.applications import services
    with current_app.test_request_context():
        services.submit_application(applicant, application, pledge_name="周丽", pledge_accepted=True)
    lead = factories.make_assessor()
    factories.assign(application, lead)
    db.session.commit()
    browser, assignment = accepted(app, application, lead)
    page = browser.get(f"/assessment/assignments/{assignment.id}/sections/energy_low_carbon", headers=ZH).get_data(as_text=True)
    assert HEBEI_ZH in page
    english = browser.get(f"/assessment/assignments/{assignment.id}/sections/energy_low_carbon", headers=EN).get_data(as_text=True)
    assert HEBEI_EN in english


def test_a_rule_set_frozen_with_english_reasons_only_is_read(rule_set=None):
    from pathlib import Path

    from certify.scoring import load

    rule_set = load(Path(__file__).resolve().parents[2] / "criteria" / "supply-chain-miit-2016.yaml")
    frozen = json.loads(json.dumps(rule_set.to_dict()))
    frozen["format"] = 2
    frozen["provisional"]["reason"] = "written before reasons were bilingual"
    thawed = RuleSet.from_dict(frozen)
    assert thawed.provisional.reason.zh == thawed.provisional.reason.en == "written before reasons were bilingual"
