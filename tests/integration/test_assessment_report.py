"""The evaluation report (第三方评价报告): rendered when the assessment is reported, stored once
by its sha256, readable as Chinese text, and downloadable only by those entitled to it."""

import hashlib
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from certify import storage
from certify.assessment.models import EvaluationReport
from certify.workflow import Status
from tests import factories
from tests.integration.test_assessment import client_for
from tests.integration.test_assessment_scoring import DETAILS, accepted, score_all, submit

pytestmark = pytest.mark.renders_reports


def text_of(pdf: bytes) -> str:
    """All the text of a PDF, without whitespace (table cells come back spaced and wrapped)."""
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def reported_application(app, db, *, applicant_name="成都青羊绿色制造示范有限公司"):
    organisation = factories.make_organisation(name=applicant_name)
    applicant = factories.make_user("applicant", organisation=organisation)
    application = factories.make_submitted_application(applicant)
    lead = factories.make_assessor(factories.make_agency(name="四川绿评技术服务有限公司"), name="张评价")
    factories.assign(application, lead)
    db.session.commit()
    browser, assignment = accepted(app, application, lead)
    score_all(browser, assignment, dict(application.answers) | {"X11": "6"},
              {"X11": {"comment": "规划中未见量化目标", "internal": "内部备注不得出现在报告中"}})
    assert submit(browser, assignment).status_code == 302
    assert application.status == Status.ASSESSED
    return application, assignment, browser


def test_the_report_contains_the_applicants_chinese_name_and_the_total(app, client, login_as, db):
    application, assignment, _ = reported_application(app, db)
    login_as("admin")
    response = client.get(f"/assessment/applications/{application.id}/report")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = text_of(response.data)
    assert "成都青羊绿色制造示范有限公司" in text
    assert str(assignment.sheet.total) in text  # e.g. 98.00
    assert "第三方评价报告" in text and "诚信承诺书" in text
    assert application.organisation.credit_code in text
    assert "张评价" in text and "四川绿评技术服务有限公司" in text and "王法人" in text
    assert re.sub(r"\s+", "", DETAILS["highlights"]) in text
    assert "规划中未见量化目标" in text
    assert "内部备注不得出现在报告中" not in text


def test_the_report_is_stored_once_by_its_sha256(app, client, login_as, db):
    application, _assignment, _ = reported_application(app, db)
    report = db.session.execute(select(EvaluationReport)).scalar_one()
    data = storage.path_of(report.sha256).read_bytes()
    assert hashlib.sha256(data).hexdigest() == report.sha256
    assert len(data) == report.size
    login_as("admin")
    assert client.get(f"/assessment/applications/{application.id}/report").data == data


def test_the_report_can_be_rendered_again_by_an_administrator(app, client, login_as, db):
    application, _assignment, _ = reported_application(app, db)
    login_as("admin")
    assert client.post(f"/assessment/applications/{application.id}/report").status_code == 302
    assert len(db.session.execute(select(EvaluationReport)).scalars().all()) == 2


def test_who_may_download_the_report(app, db):
    application, _assignment, lead_browser = reported_application(app, db)
    url = f"/assessment/applications/{application.id}/report"
    applicant = application.created_by
    other_assessor, other_applicant = factories.make_assessor(), factories.make_user("applicant")
    db.session.commit()
    assert lead_browser.get(url).status_code == 200
    assert client_for(app, other_assessor).get(url).status_code == 404
    assert client_for(app, applicant).get(url).status_code == 404  # not before the decision
    application.status = Status.APPROVED  # the department's decision (issue 6 adds the action)
    db.session.commit()
    assert client_for(app, applicant).get(url).status_code == 200
    assert client_for(app, other_applicant).get(url).status_code == 404
