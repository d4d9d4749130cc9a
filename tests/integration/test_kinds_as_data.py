"""Kinds of recognition are data: a department adds a fifth kind with an entry in
criteria/vocabulary/kinds.yaml and a rule file of that kind, and an application of it goes from
opening to its certificate without a line of code changed."""

import io
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from certify import storage
from certify.workflow import Status
from tests import factories
from tests.integration.test_assessment import ZH, client_for

CRITERIA = Path(__file__).resolve().parents[2] / "criteria"

FIFTH_KIND = """
  - key: low_carbon_pilot
    code: LC
    title: {zh: 低碳试点工厂, en: Low-carbon pilot factory}
    applicant: enterprise
    certificate: {zh: 低碳试点工厂, en: Low-Carbon Pilot Factory}
"""

RULE_FILE = """
id: low-carbon-pilot-test
version: "1"
kind: low_carbon_pilot
title: {zh: 低碳试点工厂评价, en: Low-carbon pilot factory evaluation}
standard: {code: T/TEST 1-2026, title: {zh: 试点评价要求, en: Pilot evaluation requirements}}
effective_from: 2026-01-01
total: 10
pass: {threshold: 6}
veto_conditions:
  - {id: V1, title: {zh: 被列为失信被执行人, en: Listed as a dishonest judgment debtor}}
basic_requirements:
  - {id: BR1, title: {zh: 依法设立, en: Lawfully established}}
sections:
  - id: carbon
    title: {zh: 碳管理, en: Carbon management}
    indicators:
      - {id: C1, type: points, max: 10, title: {zh: 碳排放管理, en: Carbon emission management}}
"""


@pytest.fixture()
def pilot_app(make_app, tmp_path):
    folder = tmp_path / "criteria"
    shutil.copytree(CRITERIA, folder)
    kinds = folder / "vocabulary" / "kinds.yaml"
    kinds.write_text(kinds.read_text(encoding="utf-8") + FIFTH_KIND, encoding="utf-8")
    (folder / "low-carbon-pilot-test.yaml").write_text(RULE_FILE, encoding="utf-8")
    return make_app(CRITERIA_DIR=str(folder))


def test_a_fifth_kind_goes_from_opening_to_its_certificate_without_code(db, pilot_app):
    with pilot_app.app_context():
        applicant = factories.make_user("applicant")
        admin = factories.make_user("admin")
        db.session.commit()
        browser = client_for(pilot_app, applicant)
        form = browser.get("/applications/new", headers=ZH).get_data(as_text=True)
        assert 'value="low_carbon_pilot"' in form and "低碳试点工厂" in form
        assert browser.post("/applications/new", data={"kind": "low_carbon_pilot", "subject": "一号厂区"}).status_code == 302
        from sqlalchemy import select

        from certify.applications.models import Application
        application = db.session.execute(select(Application).where(Application.kind == "low_carbon_pilot")).scalar_one()
        assert application.rule_set_id == "low-carbon-pilot-test"
        assert application.reference.startswith("LC-")
        for page_id, data in (("veto", {"a-V1": "no"}), ("basic", {"a-BR1": "yes"}), ("carbon", {"a-C1": "8"})):
            response = browser.post(f"/applications/{application.id}/sections/{page_id}",
                                    data={"version": application.version, **data})
            assert response.status_code == 302, page_id
        factories.attach_evidence(application, applicant)
        db.session.commit()
        assert browser.post(f"/applications/{application.id}/submit", data={
            "pledge_accepted": "y", "pledge_name": "周丽", "version": application.version}).status_code == 302
        assert application.status == Status.SUBMITTED and application.self_result["passed"] is True

        # assessed, decided, listed, certified through the services
        from certify.demo import builders
        with pilot_app.test_request_context():
            builders.assessed(application, admin=admin, lead=factories.make_assessor(kinds=("low_carbon_pilot",)))
            builders.decided(application, admin=admin)
            batch = builders.in_notice([application], admin=admin, title="低碳试点名单公示")
            [certificate] = builders.announced(batch, admin=admin)
        db.session.commit()
        assert re.fullmatch(r"SC-LC-\d{4}-0001", certificate.number)

        verify = pilot_app.test_client().get(f"/verify?number={certificate.number}", headers=ZH).get_data(as_text=True)
        assert "低碳试点工厂" in verify
        db.session.refresh(certificate)
        pdf = storage.path_of(certificate.pdf_sha256).read_bytes()
        text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
        assert "低碳试点工厂" in text and certificate.number in text


def test_a_rule_file_of_a_kind_the_kinds_file_does_not_have_is_refused(tmp_path):
    from certify.scoring import RuleFileError, loads

    kinds = "factory, product, park, supply_chain, zero_carbon_factory, zero_carbon_park"
    with pytest.raises(RuleFileError, match=f"must be one of {kinds}, not 'low_carbon_pilot'"):
        loads(RULE_FILE.encode(), "pilot.yaml")
