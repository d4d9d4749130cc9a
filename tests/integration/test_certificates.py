"""Certificates: issued once per listed application with a unique number, rendered to a PDF
with a QR code after commit, and revoked or expired by the rules."""

import io
import re
from datetime import date, datetime, timezone

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from certify import jobs, storage
from certify.applications.models import Application
from certify.audit.models import AuditEvent
from certify.auth.models import Role
from certify.certificates import rendering, services
from certify.certificates.models import Certificate, CertificateCounter, CertificateStatus, RenderState
from certify.certificates.numbers import allocate_sequence
from certify.demo import builders
from certify.exceptions import PermissionDenied, ServiceError
from certify.timeutil import local_today
from certify.workflow import Status
from tests import factories

BASE_URL = "https://lvse.example.gov.cn"
THIS_YEAR = datetime.now(timezone.utc).year


@pytest.fixture(autouse=True)
def public_address(app, monkeypatch):
    monkeypatch.setitem(app.config, "CERTIFY_BASE_URL", BASE_URL)


@pytest.fixture()
def admin(db):
    return factories.make_user(Role.ADMIN)


def text_of(pdf: bytes) -> str:
    """The PDF's text without whitespace (letter-spaced titles come back spaced)."""
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def stored_pdf(certificate) -> bytes:
    with storage.open_file(certificate.pdf_sha256) as handle:
        return handle.read()


def announced_together(applications, admin) -> list[Certificate]:
    """Approved ``applications`` put on one batch in this order, under notice, then announced."""
    batch = builders.in_notice(applications, admin=admin, title="合并公示批次")
    return builders.announced(batch, admin=admin)


def test_issuing_numbers_each_kind_and_year_from_one(db, admin):
    factory_1 = factories.issued_certificate(admin=admin, kind="factory", subject="一号基地")
    factory_2 = factories.issued_certificate(admin=admin, kind="factory", subject="二号基地")
    chain = factories.issued_certificate(admin=admin, kind="supply_chain")
    next_year = factories.issued_certificate_at(datetime(THIS_YEAR + 1, 3, 1, tzinfo=timezone.utc),
                                                admin=admin, kind="factory")
    db.session.commit()

    assert [c.number for c in (factory_1, factory_2, chain, next_year)] == [
        f"SC-GF-{THIS_YEAR}-0001", f"SC-GF-{THIS_YEAR}-0002", f"SC-GS-{THIS_YEAR}-0001",
        f"SC-GF-{THIS_YEAR + 1}-0001"]
    assert (factory_2.kind, factory_2.year, factory_2.sequence) == ("factory", THIS_YEAR, 2)


def test_the_prefix_and_the_validity_come_from_the_configuration(db, admin, app, monkeypatch):
    monkeypatch.setitem(app.config, "CERTIFY_CERTIFICATE_PREFIX", "SCJX")
    monkeypatch.setitem(app.config, "CERTIFY_CERTIFICATE_VALIDITY_YEARS", 5)

    certificate = factories.issued_certificate_at(datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc),
                                                  admin=admin, kind="factory")

    assert certificate.number == "SCJX-GF-2026-0001"
    assert (certificate.valid_from, certificate.valid_until) == (date(2026, 12, 1), date(2031, 11, 30))


def test_the_issue_date_is_the_date_in_china(db, admin):
    # 20:00 UTC on 31 December is already 1 January in Chengdu: the new year's first number.
    certificate = factories.issued_certificate_at(datetime(2026, 12, 31, 20, 0, tzinfo=timezone.utc),
                                                  admin=admin, kind="factory")

    assert certificate.valid_from == date(2027, 1, 1)
    assert certificate.number == "SC-GF-2027-0001"


def test_a_rolled_back_issue_gives_its_number_back(db, admin):
    application_id = factories.listed_application(admin=admin, kind="factory").id
    db.session.commit()
    assert allocate_sequence("factory", 2030) == 1
    db.session.rollback()

    assert allocate_sequence("factory", 2030) == 1
    db.session.commit()
    assert db.session.get(CertificateCounter, ("factory", 2030)).last == 1
    assert db.session.get(Application, application_id) is not None


def test_a_batch_takes_consecutive_numbers_per_kind_in_its_order(db, admin):
    applications = [factories.approved_application(admin=admin, kind=kind)
                    for kind in ("factory", "supply_chain", "factory", "factory", "supply_chain")]
    assert allocate_sequence("factory", local_today().year) == 1  # someone took one before

    certificates = announced_together(applications, admin)
    db.session.commit()
    year = local_today().year
    assert [c.number for c in certificates] == [
        f"SC-GF-{year}-0002", f"SC-GS-{year}-0001", f"SC-GF-{year}-0003", f"SC-GF-{year}-0004", f"SC-GS-{year}-0002"]
    assert services.issue_certificates(applications[:2], admin) == certificates[:2]  # issued once
    assert allocate_sequence("factory", year) == 5


def test_issuing_again_returns_the_same_certificate_and_renders_once(db, admin, app, monkeypatch):
    renders = []
    real = rendering.certificate_pdf
    monkeypatch.setattr(rendering, "certificate_pdf", lambda c: renders.append(c.id) or real(c))
    application = factories.listed_application(admin=admin, kind="factory")

    first = services.issue_certificate(application, admin)
    assert services.issue_certificate(application, admin) is first
    db.session.commit()
    again = services.issue_certificate(application, admin)
    db.session.commit()
    jobs.run_job(services.render_certificate, first.id)  # a job run twice does nothing more

    assert again.id == first.id
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1
    assert renders == [first.id]
    assert first.render_state == RenderState.RENDERED
    issued = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "certificate.issued")).all()
    assert len(issued) == 1 and issued[0].details["number"] == first.number


def test_nothing_is_rendered_when_the_announcement_rolls_back(db, admin):
    application = factories.approved_application(admin=admin, kind="factory")
    batch = builders.in_notice([application], admin=admin, title="将被撤销的公告")
    db.session.commit()

    builders.announced(batch, admin=admin)
    db.session.rollback()

    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0
    assert db.session.scalar(select(func.count()).select_from(CertificateCounter)) == 0


@pytest.mark.parametrize("who", ["applicant", "assessor"])
def test_only_the_department_issues_certificates(db, admin, who):
    application = factories.listed_application(admin=admin, kind="factory")
    with pytest.raises(PermissionDenied):
        services.issue_certificate(application, factories.make_user(who))


def test_an_application_that_is_not_listed_gets_no_certificate(db, admin):
    application = factories.approved_application(admin=admin, kind="factory")
    with pytest.raises(ServiceError):
        services.issue_certificate(application, admin)


def test_the_certificate_keeps_the_names_as_issued(db, admin):
    certificate = factories.issued_certificate(admin=admin, kind="factory", subject="攀枝花一号生产基地")
    application = certificate.application
    issued_name = application.organisation.name
    db.session.commit()

    application.organisation.name = "改名后的有限公司"
    db.session.commit()

    assert certificate.organisation_name == issued_name
    assert certificate.subject == "攀枝花一号生产基地"
    assert certificate.credit_code == application.organisation.credit_code
    assert (certificate.standard_code, certificate.standard_title_zh) == ("GB/T 36132-2025", "绿色工厂评价通则")
    assert (certificate.rule_set_id, certificate.rule_set_version) == (
        application.rule_set_id, application.rule_set_version)


def test_the_pdf_is_rendered_after_commit_stored_once_and_states_the_certificate(db, admin):
    organisation = factories.make_organisation(name="攀西绿色钢铁有限公司")
    applicant = factories.make_user(Role.APPLICANT, organisation=organisation)
    certificate = factories.issued_certificate(applicant, admin=admin, kind="factory")
    assert certificate.render_state == RenderState.PENDING
    db.session.commit()

    assert certificate.render_state == RenderState.RENDERED
    pdf = stored_pdf(certificate)
    assert (certificate.pdf_size, len(pdf)) == (len(pdf), certificate.pdf_size)
    text = text_of(pdf)
    assert "攀西绿色钢铁有限公司" in text
    assert certificate.number in text
    assert organisation.credit_code in text
    assert "四川省经济和信息化厅" in text and "GB/T36132-2025" in text
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 595)  # A4 landscape
    # Laid out as an official certificate: the title in the serif face, embedded; the seal's place.
    fonts = {str(font.get_object()["/BaseFont"]) for font in page["/Resources"]["/Font"].values()}
    assert any(name.endswith("+Certify-Serif-Bold") for name in fonts), fonts
    assert "绿色工厂证书" in text and "盖章处" in text and "特发此证" in text
    assert not certificate.is_signed
    rendered = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "certificate.rendered")).one()
    assert rendered.details["sha256"] == certificate.pdf_sha256


def test_the_qr_code_printed_on_the_pdf_opens_the_verification_page(db, admin):
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp (test extra) decodes QR codes")
    from PIL import Image

    certificate = factories.issued_certificate(admin=admin, kind="product", subject="KFR-35GW 空调",
                                               rule_set_id="product-room-air-conditioner-tcagp-0001-2016")
    db.session.commit()

    images = PdfReader(io.BytesIO(stored_pdf(certificate))).pages[0].images
    assert len(images) == 1
    image = images[0].image.convert("L")
    image = image.resize((image.width * 8, image.height * 8), Image.NEAREST)
    decoded = [result.text for result in zxingcpp.read_barcodes(image)]

    assert decoded == [f"{BASE_URL}/verify?number={certificate.number}"]


def test_without_a_public_address_rendering_fails_clearly_and_can_be_repeated(db, admin, app, monkeypatch, client):
    certificate = factories.issued_certificate(admin=admin, kind="factory")
    monkeypatch.setitem(app.config, "CERTIFY_BASE_URL", None)
    db.session.commit()  # the job fails, the announcement does not

    assert certificate.render_state == RenderState.FAILED
    assert "CERTIFY_BASE_URL" in certificate.render_error
    assert services.batch_progress([certificate.application_id]) == {
        "pending": 0, "rendered": 0, "failed": 1, "not_issued": 0}

    monkeypatch.setitem(app.config, "CERTIFY_BASE_URL", BASE_URL)
    services.render_again(admin, certificate)
    db.session.commit()
    assert certificate.render_state == RenderState.RENDERED
    with pytest.raises(ServiceError):
        services.render_again(admin, certificate)


def test_the_render_command_makes_every_missing_pdf(db, admin, app, monkeypatch):
    certificates = [factories.issued_certificate(admin=admin, kind="factory") for _ in range(2)]
    monkeypatch.setitem(app.config, "CERTIFY_BASE_URL", None)
    db.session.commit()
    monkeypatch.setitem(app.config, "CERTIFY_BASE_URL", BASE_URL)

    result = app.test_cli_runner().invoke(args=["certificates", "render"])

    assert result.exit_code == 0, result.output
    assert "2 of 2" in result.output
    db.session.expire_all()
    assert {c.render_state for c in certificates} == {RenderState.RENDERED}


def test_batch_progress_counts_certificates_by_render_state(db, admin, monkeypatch):
    monkeypatch.setattr(jobs, "run_job", lambda func, *args: None)  # renders stay queued
    pending = factories.issued_certificate(admin=admin, kind="factory")
    without = factories.approved_application(admin=admin, kind="factory")
    db.session.commit()

    assert services.batch_progress([pending.application_id, without.id]) == {
        "pending": 1, "rendered": 0, "failed": 0, "not_issued": 1}
    assert services.batch_progress([]) == {"pending": 0, "rendered": 0, "failed": 0, "not_issued": 0}


def test_certificates_by_application_serves_list_pages_in_one_query(db, admin):
    certificate = factories.issued_certificate(admin=admin, kind="factory")
    other = factories.approved_application(admin=admin, kind="factory")

    found = services.certificates_by_application([certificate.application_id, other.id])

    assert found == {certificate.application_id: certificate}


def test_revoking_records_the_reason_and_revokes_the_application(db, admin):
    certificate = factories.issued_certificate(admin=admin, kind="factory")

    services.revoke_certificate(admin, certificate, "falsification", "自评价数据造假")
    db.session.commit()

    assert certificate.status == CertificateStatus.REVOKED
    assert (certificate.revocation_reason, certificate.revocation_note) == ("falsification", "自评价数据造假")
    assert certificate.revoked_by_id == admin.id and certificate.revoked_at is not None
    assert certificate.application.status == Status.REVOKED
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.in_(
        ["application.revoke", "certificate.revoked"])).order_by(AuditEvent.id)).all()
    assert actions == ["application.revoke", "certificate.revoked"]


def test_a_revocation_needs_a_known_reason_and_a_valid_certificate(db, admin):
    certificate = factories.issued_certificate(admin=admin, kind="factory")
    with pytest.raises(ServiceError):
        services.revoke_certificate(admin, certificate, "dislike")
    services.revoke_certificate(admin, certificate, "major_accident")
    with pytest.raises(ServiceError):
        services.revoke_certificate(admin, certificate, "major_accident")
    with pytest.raises(PermissionDenied):
        services.revoke_certificate(factories.make_user(Role.APPLICANT), certificate, "falsification")


def test_expiry_follows_the_dates_and_the_command_records_it(db, admin, app):
    old = factories.issued_certificate_at(datetime(2020, 5, 1, tzinfo=timezone.utc), admin=admin, kind="factory")
    current = factories.issued_certificate(admin=admin, kind="factory")
    db.session.commit()
    assert old.valid_until == date(2023, 4, 30)
    assert old.public_status(date(2023, 4, 30)) == CertificateStatus.VALID
    assert old.public_status(date(2023, 5, 1)) == CertificateStatus.EXPIRED
    assert old.status == CertificateStatus.VALID  # before the command runs

    result = app.test_cli_runner().invoke(args=["certificates", "expire"])

    assert result.exit_code == 0, result.output
    assert old.number in result.output and "1 certificate(s)" in result.output
    assert old.status == CertificateStatus.EXPIRED
    assert old.application.status == Status.EXPIRED
    assert current.status == CertificateStatus.VALID
    assert services.expire_due_certificates() == []


def test_a_render_job_records_the_pdfs_it_made_together_and_each_failure_on_its_own(db, admin, monkeypatch):
    from certify.audit.services import verify_chain

    applications = [factories.approved_application(admin=admin, kind="factory") for _ in range(3)]
    with monkeypatch.context() as later:
        later.setattr(services, "_queue_render", lambda *certificates: None)  # rendered below
        certificates = announced_together(applications, admin)
        db.session.commit()
    ids = [certificate.id for certificate in certificates]
    assert all(certificate.render_state == RenderState.PENDING for certificate in certificates)
    real = rendering.certificate_pdf

    def fail_the_second(certificate):
        if certificate.id == ids[1]:
            raise RuntimeError("the printer is on fire")
        return real(certificate)

    monkeypatch.setattr(rendering, "certificate_pdf", fail_the_second)
    with pytest.raises(jobs.RetryLater, match=rf"1 of 3 .*\[{ids[1]}\]"):
        services.render_certificates(ids)
    db.session.expire_all()
    states = [db.session.get(Certificate, certificate_id).render_state for certificate_id in ids]
    assert states == [RenderState.RENDERED, RenderState.FAILED, RenderState.RENDERED]
    events = db.session.execute(select(AuditEvent.action, AuditEvent.object_id).where(
        AuditEvent.action.in_((services.RENDERED, services.RENDER_FAILED))).order_by(AuditEvent.id)).all()
    assert events == [(services.RENDERED, str(ids[0])), (services.RENDERED, str(ids[2])),
                      (services.RENDER_FAILED, str(ids[1]))]
    for certificate_id in (ids[0], ids[2]):
        assert services.issued_pdf(db.session.get(Certificate, certificate_id))

    monkeypatch.setattr(rendering, "certificate_pdf", real)
    services.render_certificates(ids)  # run again: only the one that failed is made
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == services.RENDERED)) == 3
    assert all(db.session.get(Certificate, i).render_state == RenderState.RENDERED for i in ids)
    assert verify_chain()[1] == []


def test_issued_certificates_are_audited_in_order_with_their_ids_and_the_chain_verifies(db, admin):
    from certify.audit.services import verify_chain

    applications = [factories.approved_application(admin=admin, kind=kind)
                    for kind in ("factory", "supply_chain", "factory")]
    certificates = announced_together(applications, admin)
    db.session.commit()
    issued = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "certificate.issued")
                                .order_by(AuditEvent.id)).all()
    assert [(event.object_type, event.object_id, event.actor_id) for event in issued] == [
        ("certificates", str(certificate.id), admin.id) for certificate in certificates]
    assert [event.details for event in issued] == [{
        "number": c.number, "application_id": c.application_id, "organisation": c.organisation_name,
        "credit_code": c.credit_code, "valid_from": c.valid_from.isoformat(),
        "valid_until": c.valid_until.isoformat()} for c in certificates]
    for application, certificate in zip(applications, certificates, strict=True):
        standard = db.session.get(Application, application.id).rule_set_frozen.get("standard") or {}
        assert (certificate.standard_code, certificate.standard_title_en) == (
            standard.get("code", ""), (standard.get("title") or {}).get("en", ""))
    assert verify_chain()[1] == []
