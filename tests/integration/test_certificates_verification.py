"""Anyone can verify a certificate by its number or its QR code, see whether it was revoked or
has expired, and check that a PDF is the one issued and that its signature holds; holders and
admins see and manage certificates from their own pages."""

import io
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from babel.dates import format_date

from certify import storage
from certify.auth.models import Role
from certify.certificates import services
from certify.certificates.signing import SignatureState, check_signature, create_development_key
from certify.workflow import Status
from tests import factories

BASE_URL = "https://lvse.example.gov.cn"
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture(autouse=True)
def public_address(app, monkeypatch):
    monkeypatch.setitem(app.config, "CERTIFY_BASE_URL", BASE_URL)


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory):
    return create_development_key(tmp_path_factory.mktemp("keys"), days=30)


@pytest.fixture()
def signing(app, monkeypatch, key_pair):
    key, cert = key_pair
    monkeypatch.setitem(app.config, "CERTIFY_SIGNING_KEY", str(key))
    monkeypatch.setitem(app.config, "CERTIFY_SIGNING_CERT", str(cert))
    return key_pair


@pytest.fixture()
def admin(db):
    return factories.make_user(Role.ADMIN)


def issue(admin, **fields):
    fields.setdefault("kind", "factory")
    certificate = factories.issued_certificate(admin=admin, **fields)
    factories.db.session.commit()
    return certificate


def pdf_of(certificate) -> bytes:
    with storage.open_file(certificate.pdf_sha256) as handle:
        return handle.read()


def page(client, path, headers=EN, **kwargs) -> str:
    response = client.get(path, headers=headers, **kwargs)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_valid_certificate_is_shown_with_its_facts_and_its_pdf(client, admin):
    certificate = issue(admin, subject="攀枝花一号生产基地")

    html = page(client, f"/verify?number={certificate.number}")

    assert 'class="verdict verdict-valid"' in html and "is valid until" in html
    for fact in (certificate.number, certificate.organisation_name, certificate.credit_code,
                 "攀枝花一号生产基地", "Green factory", format_date(certificate.valid_until, "d MMMM y", locale="en"),
                 certificate.pdf_sha256, f"/certificates/{certificate.number}.pdf",
                 "Sichuan Provincial Department of Economy and Information Technology"):
        assert fact in html, fact


def test_the_verification_page_speaks_chinese(client, admin):
    certificate = issue(admin)

    html = page(client, f"/verify?number={certificate.number}", headers=ZH)

    assert '<html lang="zh-Hans">' in html
    assert "有效" in html and certificate.organisation_name in html


def test_a_number_is_found_however_it_is_typed(client, admin):
    certificate = issue(admin)
    typed = " " + certificate.number.lower().replace("-", "－") + " "

    assert certificate.organisation_name in page(client, "/verify", query_string={"number": typed})


@pytest.mark.parametrize("headers, answer", [(EN, "No certificate found"), (ZH, "SC-GF-2099-0001")])
def test_an_unknown_number_gets_a_plain_answer(client, db, headers, answer):
    html = page(client, "/verify?number=sc-gf-2099-0001", headers=headers)

    assert answer in html
    assert 'class="verdict verdict-unknown"' in html


def test_the_empty_verification_page_offers_both_ways_to_check(client, db):
    html = page(client, "/verify")

    assert 'name="number"' in html and 'type="file"' in html
    assert "No certificate found" not in html


@pytest.mark.parametrize("headers, revoked, reason", [
    (EN, "Revoked", "Falsification"), (ZH, "已撤销", "弄虚作假")])
def test_a_revoked_certificate_shows_as_revoked_with_reason_and_date(client, admin, headers, revoked, reason):
    certificate = issue(admin)
    services.revoke_certificate(admin, certificate, "falsification", "虚报能耗数据")
    factories.db.session.commit()

    html = page(client, f"/verify?number={certificate.number}", headers=headers)
    listed = page(client, "/verify/revoked", headers=headers)

    assert revoked in html and reason in html and "虚报能耗数据" in html
    assert certificate.revoked_at.strftime("%Y") in html
    assert certificate.number in listed and reason in listed and certificate.organisation_name in listed


def test_the_revocation_list_is_paginated_and_lists_only_revoked_certificates(app, client, admin, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    certificates = [issue(admin) for _ in range(4)]
    for certificate in certificates[:3]:
        services.revoke_certificate(admin, certificate, "no_longer_conforming")
    factories.db.session.commit()

    first, second = page(client, "/verify/revoked"), page(client, "/verify/revoked?page=2")

    assert certificates[2].number in first and certificates[1].number in first  # newest first
    assert certificates[0].number in second
    assert certificates[3].number not in first + second


@pytest.mark.parametrize("headers, expired, last_day", [(EN, "Expired", "28 February 2022"),
                                                        (ZH, "已过期", "2022年2月28日")])
def test_a_certificate_past_its_last_day_shows_as_expired_before_the_command_runs(client, admin, headers, expired,
                                                                                  last_day):
    certificate = factories.issued_certificate_at(datetime(2019, 3, 1, tzinfo=timezone.utc), admin=admin,
                                                  kind="factory")
    factories.db.session.commit()

    html = page(client, f"/verify?number={certificate.number}", headers=headers)

    assert expired in html and last_day in html
    assert 'class="verdict verdict-expired"' in html


def test_anyone_downloads_an_issued_pdf_but_nothing_else(client, admin):
    certificate = issue(admin)

    response = client.get(f"/certificates/{certificate.number}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data == pdf_of(certificate)
    assert client.get("/certificates/SC-GF-2099-0001.pdf").status_code == 404


def test_with_object_storage_the_pdf_is_kept_in_the_bucket_and_served_and_verified_from_it(
        client, admin, app, s3_settings, monkeypatch):
    monkeypatch.setitem(app.config, "CERTIFY_STORAGE_URL", s3_settings["CERTIFY_STORAGE_URL"])
    certificate = issue(admin)

    pdf = pdf_of(certificate)
    assert storage.storage().describe().startswith(s3_settings["CERTIFY_STORAGE_URL"])
    assert not (Path(app.config["CERTIFY_STORAGE_DIR"]) / certificate.pdf_sha256[:2] / certificate.pdf_sha256[2:4]
                / certificate.pdf_sha256).exists()
    response = client.get(f"/certificates/{certificate.number}.pdf")
    assert response.status_code == 200 and response.data == pdf
    assert "byte for byte the one issued" in upload(client, pdf, certificate.number)


def test_a_certificate_still_rendering_has_no_pdf_yet(client, admin, monkeypatch):
    from certify import jobs

    monkeypatch.setattr(jobs, "run_job", lambda func, *args: None)
    certificate = issue(admin)

    assert client.get(f"/certificates/{certificate.number}.pdf").status_code == 404
    assert "being prepared" in page(client, f"/verify?number={certificate.number}")


def upload(client, data: bytes, number: str = "", headers=EN) -> str:
    response = client.post("/verify", headers=headers, content_type="multipart/form-data",
                           data={"number": number, "pdf": (io.BytesIO(data), "certificate.pdf")})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def tampered(pdf: bytes) -> bytes:
    """The PDF with one byte of its text content changed (the visible number)."""
    data = bytearray(pdf)
    position = len(data) // 3
    data[position] ^= 0x01
    return bytes(data)


def test_a_signed_certificate_is_valid_on_the_verification_page(client, admin, signing):
    certificate = issue(admin)

    assert certificate.is_signed and "development" in certificate.signer_subject
    assert check_signature(pdf_of(certificate)).state == SignatureState.VALID
    assert "Valid: signed by the department" in page(client, f"/verify?number={certificate.number}")


def test_the_genuine_pdf_passes_the_byte_check_and_the_signature_check(client, admin, signing):
    certificate = issue(admin)

    html = upload(client, pdf_of(certificate), certificate.number)

    assert f"Yes: byte for byte the PDF issued as {certificate.number}" in html
    assert "Valid: signed by the department" in html


def test_the_genuine_pdf_is_recognised_even_without_its_number(client, admin, signing):
    certificate = issue(admin)

    html = upload(client, pdf_of(certificate))

    assert f"Yes: byte for byte the PDF issued as {certificate.number}" in html
    assert certificate.organisation_name in html


def test_a_pdf_with_one_byte_changed_fails_both_checks(client, admin, signing):
    certificate = issue(admin)
    forged = tampered(pdf_of(certificate))

    html = upload(client, forged, certificate.number)

    assert f"No: it differs from the PDF issued as {certificate.number}" in html
    assert "Not valid" in html or "not a readable PDF" in html
    assert check_signature(forged).state in {SignatureState.BROKEN, SignatureState.UNREADABLE}


def test_a_pdf_extended_after_signing_fails_the_signature_check(admin, signing, db):
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    certificate = issue(admin)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_of(certificate)))
    writer.root["/Lang"] = pdf_name("/en")  # an innocent-looking change appended after signing
    writer.update_root()
    extended = io.BytesIO()
    writer.write(extended)

    assert check_signature(extended.getvalue()).state == SignatureState.MODIFIED


def test_a_pdf_signed_with_another_key_is_not_trusted(admin, signing, db, tmp_path, app, monkeypatch):
    other_key, other_cert = create_development_key(tmp_path / "other", days=30)
    monkeypatch.setitem(app.config, "CERTIFY_SIGNING_KEY", str(other_key))
    monkeypatch.setitem(app.config, "CERTIFY_SIGNING_CERT", str(other_cert))
    certificate = issue(admin)
    monkeypatch.setitem(app.config, "CERTIFY_SIGNING_KEY", str(signing[0]))
    monkeypatch.setitem(app.config, "CERTIFY_SIGNING_CERT", str(signing[1]))

    assert check_signature(pdf_of(certificate)).state == SignatureState.UNTRUSTED


def blank_pdf() -> bytes:
    from pypdf import PdfWriter

    writer, output = PdfWriter(), io.BytesIO()
    writer.add_blank_page(200, 200)
    writer.write(output)
    return output.getvalue()


def test_a_file_that_was_never_issued_is_said_to_be_unknown(client, db):
    html = upload(client, blank_pdf())

    assert "No: no certificate was issued with this content" in html
    assert "Not signed" in html


def test_a_file_that_is_not_a_pdf_is_said_to_be_unreadable(client, db):
    assert "not a readable PDF" in upload(client, "not a pdf at all".encode())


def test_an_unsigned_certificate_says_so(client, admin):
    certificate = issue(admin)

    assert "Not signed" in page(client, f"/verify?number={certificate.number}")


def test_keys_init_makes_a_development_pair_and_prints_the_settings(app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["keys", "init", "--folder", str(tmp_path / "keys")])

    assert result.exit_code == 0, result.output
    key, cert = tmp_path / "keys" / "signing-key.pem", tmp_path / "keys" / "signing-cert.pem"
    assert f"CERTIFY_SIGNING_KEY={key}" in result.output
    assert f"CERTIFY_SIGNING_CERT={cert}" in result.output
    assert key.stat().st_mode & 0o777 == 0o600
    assert b"PRIVATE KEY" in key.read_bytes() and b"CERTIFICATE" in cert.read_bytes()

    again = runner.invoke(args=["keys", "init", "--folder", str(tmp_path / "keys")])
    assert again.exit_code == 1 and "--force" in again.output


def test_the_holder_downloads_its_certificate_and_sees_its_status(client, login_as, admin):
    applicant = factories.make_user(Role.APPLICANT)
    certificate = issue(admin, applicant=applicant)
    login_as(applicant)

    html = page(client, f"/applications/{certificate.application_id}")
    response = client.get(f"/applications/{certificate.application_id}/certificate.pdf")

    assert certificate.number in html and "Valid" in html
    assert f"/verify?number={certificate.number}" in html
    assert response.status_code == 200 and response.data == pdf_of(certificate)
    assert "attachment" in response.headers["Content-Disposition"]


def test_another_applicant_cannot_download_the_certificate_from_the_application(client, login_as, admin):
    certificate = issue(admin)
    login_as("applicant")

    assert client.get(f"/applications/{certificate.application_id}/certificate.pdf").status_code == 404


def test_an_admin_revokes_a_certificate_from_its_page(client, login_as, admin):
    certificate = issue(admin)
    login_as(admin)

    assert "Revoke the certificate" in page(client, f"/admin/certificates/{certificate.id}")
    response = client.post(f"/admin/certificates/{certificate.id}/revoke", headers=EN,
                           data={"reason": "refused_to_report", "note": "未按期报送年度信息", "confirm": "1"})

    assert response.status_code == 302
    assert certificate.status == "revoked" and certificate.revocation_reason == "refused_to_report"
    assert certificate.application.status == Status.REVOKED
    assert "Revoked" in page(client, f"/verify?number={certificate.number}")


def test_a_revocation_without_a_reason_is_refused(client, login_as, admin):
    certificate = issue(admin)
    login_as(admin)

    response = client.post(f"/admin/certificates/{certificate.id}/revoke", headers=EN, data={"reason": ""})

    assert response.status_code == 400
    assert "Choose the reason" in response.get_data(as_text=True)
    assert certificate.status == "valid"


@pytest.mark.parametrize("role", ["applicant", "assessor"])
def test_only_admins_reach_the_certificate_admin_pages(client, login_as, admin, role):
    certificate = issue(admin)
    login_as(role)

    assert client.get("/admin/certificates").status_code == 403
    assert client.post(f"/admin/certificates/{certificate.id}/revoke",
                       data={"reason": "falsification"}).status_code == 403
    assert certificate.status == "valid"


def test_admins_filter_certificates_by_kind_year_and_status(client, login_as, admin):
    factory = issue(admin, kind="factory")
    chain = issue(admin, kind="supply_chain")
    old = factories.issued_certificate_at(datetime(2019, 3, 1, tzinfo=timezone.utc), admin=admin, kind="factory")
    factories.db.session.commit()
    login_as(admin)

    def numbers(**query):
        html = page(client, "/admin/certificates", query_string=query)
        return {c.number for c in (factory, chain, old) if c.number in html}

    assert numbers() == {factory.number, chain.number, old.number}
    assert numbers(kind="supply_chain") == {chain.number}
    assert numbers(year="2019") == {old.number}
    assert numbers(status="expired") == {old.number}
    assert numbers(status="valid") == {factory.number, chain.number}
    assert numbers(q=chain.credit_code) == {chain.number}



def test_revoking_is_confirmed_on_a_page_that_says_what_will_happen(client, login_as, admin):
    certificate = issue(admin)
    login_as(admin)
    response = client.post(f"/admin/certificates/{certificate.id}/revoke", headers=EN,
                           data={"reason": "falsification", "note": "伪造监测数据"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and f"Revoke certificate {certificate.number}" in text
    assert "for this reason: Falsification" in text and "This cannot be undone" in text
    assert 'name="note" value="伪造监测数据"' in text
    assert certificate.status == "valid"


def verdict_of(html: str) -> tuple[str, str]:
    """The verdict the page leads with: its kind and its words."""
    kind = re.search(r'class="verdict verdict-(\w+)"', html).group(1)
    title = re.search(r'<h2 id="verdict-title">([^<]*)</h2>', html).group(1)
    assert html.index('class="verdict ') < html.index("Certificate number")  # above everything else
    return kind, title


def test_a_changed_file_is_the_verdict_even_when_the_certificate_is_valid(client, admin):
    certificate = issue(admin)

    html = upload(client, tampered(pdf_of(certificate)), certificate.number)

    assert verdict_of(html) == ("mismatch", "The file does not match the certificate issued")
    assert f"It differs from the PDF issued as {certificate.number}" in html
    assert f"{certificate.number} · " not in html  # no heading that reads as "valid"


def test_the_verdicts_of_a_revoked_an_unknown_and_an_empty_check(client, admin):
    certificate = issue(admin)
    services.revoke_certificate(admin, certificate, "falsification")
    factories.db.session.commit()

    assert verdict_of(page(client, f"/verify?number={certificate.number}")) == ("revoked", "Revoked: no longer valid")
    assert verdict_of(page(client, "/verify?number=SC-GF-2099-0001"))[0] == "unknown"
    empty = client.post("/verify", headers=EN, data={"number": ""}).get_data(as_text=True)
    assert verdict_of(empty) == ("missing", "Nothing was checked") and "Choose the PDF file." in empty
    assert verdict_of(upload(client, pdf_of(certificate)))[0] == "revoked"  # the genuine file of a revoked one
