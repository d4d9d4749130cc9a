"""A pilot accepted at the end of its construction makes its unit a recognised zero-carbon
factory or park: a certificate of its own states the recognition (零碳工厂 / 零碳园区) and is
valid on /verify, while the pilot's listing certificate is replaced, with the reason and the new
number shown on /verify. A refused acceptance issues nothing."""

import pytest
from sqlalchemy import func, select

from certify.audit.models import AuditEvent
from certify.certificates.models import Certificate, CertificateStatus, RevocationReason
from certify.certificates.services import certificate_for, revoke_certificate
from certify.exceptions import ServiceError
from certify.ops.invariants import broken_rules
from certify.workflow import Status
from tests import factories
from tests.integration.test_assessment import client_for
from tests.integration.test_certificates import BASE_URL, stored_pdf, text_of
from tests.integration.test_pilots import EN, PARK, make_pilot


@pytest.fixture(autouse=True)
def public_address(app, monkeypatch):
    monkeypatch.setitem(app.config, "CERTIFY_BASE_URL", BASE_URL)


@pytest.fixture()
def people(db):
    admin = factories.make_user("admin")
    applicant = factories.make_user("applicant")
    db.session.commit()
    return admin, applicant


def decide(app, admin, application, decision: str, emitted: str):
    staff = client_for(app, admin)
    assert staff.post(f"/admin/pilots/{application.id}/midterm",
                      data={"decision": "continue", "reason": "进展符合预期"}).status_code == 302
    return staff.post(f"/admin/pilots/{application.id}/acceptance", headers=EN, data={
        "decision": decision, "emitted": emitted, "energy": "10000", "note": "验收意见：见附件。"})


def test_an_accepted_pilot_gets_a_certificate_of_recognition_that_replaces_its_listing(app, db, people):
    admin, applicant = people
    application = make_pilot(applicant, admin, subject="一号厂区", listed_days_ago=400)
    db.session.commit()
    listing_id = certificate_for(application).id

    assert decide(app, admin, application, "accept", "1800").status_code == 302

    db.session.expire_all()
    listing = db.session.get(Certificate, listing_id)
    recognition = listing.superseded_by
    assert recognition is not None and recognition.is_recognition
    assert recognition.number.startswith("SC-ZF-") and recognition.number != listing.number
    assert recognition.status == CertificateStatus.VALID
    assert (recognition.organisation_name, recognition.subject) == (listing.organisation_name, "一号厂区")
    assert recognition.application.status == Status.LISTED
    assert recognition.application_id != application.id
    # the pilot's listing has ended: its application is revoked, for the reason "replaced"
    assert (listing.status, listing.revocation_reason) == (CertificateStatus.REVOKED, RevocationReason.SUPERSEDED)
    assert application.status == Status.REVOKED

    public = app.test_client()
    page = public.get(f"/verify?number={recognition.number}", headers=EN).get_data(as_text=True)
    assert "Valid certificate" in page and "Zero-Carbon Factory" in page
    assert "construction pilot" not in page
    page = public.get(f"/verify?number={listing.number}", headers=EN).get_data(as_text=True)
    assert "Replaced: no longer valid" in page and "Replaced by a new certificate" in page
    assert f"by certificate {recognition.number}" in page
    assert f'href="/verify?number={recognition.number}"' in page

    # The PDF states the recognition, not the pilot
    recognised, listed = text_of(stored_pdf(recognition)), text_of(stored_pdf(listing))
    assert "零碳工厂证书" in recognised and "被认定为四川省零碳工厂。" in recognised and "验收" in recognised
    assert "建设试点" not in recognised and "ConstructionPilot" not in recognised
    assert "零碳工厂建设试点证书" in listed

    # issued through the issuing path, in the acceptance's transaction, audited
    actions = set(db.session.execute(select(AuditEvent.action)).scalars())
    assert {"pilot.accepted", "application.recognised", "certificate.issued", "certificate.revoked"} <= actions
    # and the rows agree with one another (flask doctor)
    assert broken_rules() == []

    # The recognised unit is no pilot: not on the pilots page, no reports asked of it
    browser = client_for(app, applicant)
    pilots_page = browser.get("/pilots", headers=EN).get_data(as_text=True)
    assert recognition.application.reference not in pilots_page
    assert browser.get(f"/pilots/{recognition.application_id}/report").status_code == 404
    assert browser.get(f"/applications/{recognition.application_id}", headers=EN).status_code == 200
    staff = client_for(app, admin)
    shown = staff.get(f"/admin/pilots/{application.id}", headers=EN).get_data(as_text=True)
    assert "Certificate of recognition" in shown and recognition.number in shown


def test_a_park_is_recognised_as_a_zero_carbon_park(app, db, people):
    admin = people[0]
    committee = factories.make_user("applicant", organisation=factories.make_organisation("park_committee"))
    application = make_pilot(committee, admin, kind=PARK, subject="零碳产业园", listed_days_ago=400)
    db.session.commit()
    staff = client_for(app, admin)
    staff.post(f"/admin/pilots/{application.id}/midterm", data={"decision": "continue", "reason": ""})
    # 72,000 / 400,000 = 0.18, within the 0.20 of a park of 20–100 万 tce
    assert staff.post(f"/admin/pilots/{application.id}/acceptance", headers=EN, data={
        "decision": "accept", "emitted": "72000", "energy": "400000", "note": "同意通过验收。"}).status_code == 302
    db.session.expire_all()
    recognition = certificate_for(application).superseded_by
    assert recognition.number.startswith("SC-ZP-")
    text = text_of(stored_pdf(recognition))
    assert "零碳园区证书" in text and "建设试点" not in text


def test_a_refused_acceptance_issues_nothing(app, db, people):
    admin, applicant = people
    application = make_pilot(applicant, admin, listed_days_ago=400)
    db.session.commit()
    assert decide(app, admin, application, "refuse", "2500").status_code == 302
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(Certificate)).scalar_one() == 1
    assert certificate_for(application).status == CertificateStatus.VALID
    assert application.status == Status.LISTED


def test_the_department_cannot_revoke_a_certificate_as_replaced_by_hand(app, db, people):
    admin, applicant = people
    certificate = certificate_for(make_pilot(applicant, admin))
    db.session.commit()
    with pytest.raises(ServiceError):
        revoke_certificate(admin, certificate, RevocationReason.SUPERSEDED.value)
    page = client_for(app, admin).get(f"/admin/certificates/{certificate.id}", headers=EN).get_data(as_text=True)
    assert 'value="falsification"' in page and 'value="superseded"' not in page


def test_the_unit_is_told_of_its_recognition_not_of_a_revocation(app, db, people, outbox):
    admin, applicant = people
    application = make_pilot(applicant, admin, subject="一号厂区", listed_days_ago=400)
    db.session.commit()
    old_number = certificate_for(application).number
    outbox.clear()

    assert decide(app, admin, application, "accept", "1800").status_code == 302

    db.session.expire_all()
    recognition = db.session.get(Certificate, certificate_for(application).superseded_by_id)
    [mail] = [m for m in outbox if m.recipient == applicant.email]
    assert mail.subject == f"一号厂区已获认定：证书编号{recognition.number}"
    assert "零碳工厂" in mail.body and recognition.number in mail.body and old_number in mail.body
    assert "不再有效" in mail.body and f"/verify?number={recognition.number}" in mail.body
    assert "已撤销" not in mail.body


def test_the_recognitions_page_shows_its_basis_not_an_empty_self_assessment(app, db, people):
    admin, applicant = people
    application = make_pilot(applicant, admin, subject="一号厂区", listed_days_ago=400)
    db.session.commit()
    decide(app, admin, application, "accept", "1800")  # 1,800 tCO2 for 10,000 tce: 0.18
    db.session.expire_all()
    recognition = certificate_for(application).superseded_by

    page = client_for(app, applicant).get(f"/applications/{recognition.application_id}").get_data(as_text=True)
    assert "零碳工厂" in page and "零碳工厂（建设试点）" not in page
    assert "在建设试点验收时获得认定" in page and application.reference in page
    assert "0.18 tCO2/tce" in page
    # No self-assessment, score or re-evaluation of its own, and no steps it never took
    assert "自评得分" not in page and "暂未达到合格要求" not in page and "申请复评" not in page
    assert "审批决定" not in page and 'class="steps' not in page
    # The pilot's own page offers no re-evaluation either
    pilot_page = client_for(app, applicant).get(f"/applications/{application.id}").get_data(as_text=True)
    assert "申请复评" not in pilot_page


def test_a_pilot_revoked_for_a_ground_of_removal_is_told_of_its_revocation(app, db, people, outbox):
    admin, applicant = people
    application = make_pilot(applicant, admin, subject="一号厂区")
    db.session.commit()
    outbox.clear()
    with app.test_request_context():
        revoke_certificate(admin, certificate_for(application), RevocationReason.FALSIFICATION.value, "数据造假")
    db.session.commit()

    [mail] = [m for m in outbox if m.recipient == applicant.email]
    assert "已撤销" in mail.body and "数据造假" in mail.body


def test_the_units_list_of_applications_leads_from_the_pilot_to_its_recognition(app, db, people):
    admin, applicant = people
    application = make_pilot(applicant, admin, subject="一号厂区", listed_days_ago=400)
    other = make_pilot(applicant, admin, subject="二号厂区", listed_days_ago=400)
    db.session.commit()
    decide(app, admin, application, "accept", "1800")
    db.session.expire_all()
    recognition = certificate_for(application).superseded_by.application

    listing = client_for(app, applicant).get("/applications").get_data(as_text=True)

    pilot_row = listing[listing.index(application.reference):].split("</tr>")[0]
    assert "接续申请：" in pilot_row and f'href="/applications/{recognition.id}"' in pilot_row
    assert recognition.reference in pilot_row
    recognition_row = listing[listing.index(f'>{recognition.reference}<'):].split("</tr>")[0]
    assert "零碳工厂" in recognition_row and "建设试点" not in recognition_row
    assert "零碳工厂（建设试点）" in pilot_row
    # The pilot still under construction, and the recognition itself, lead nowhere else.
    for row_of in (other, recognition):
        row = listing[listing.index(f'>{row_of.reference}<'):].split("</tr>")[0]
        assert "接续申请" not in row
