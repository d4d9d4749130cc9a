"""Beside each certificate PDF, anyone downloads a signed JSON credential, and a signed list of
revoked and expired numbers; `flask certificates verify-json` checks a credential offline: a
genuine one passes, a changed byte or another key fails, and a revoked certificate fails once the
status list is refreshed."""

import base64
import hashlib
import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pyhanko.keys import load_cert_from_pemder

from certify.auth.models import Role
from certify.certificates import services
from certify.certificates.credentials import CredentialState, verify_credential
from certify.certificates.signing import create_development_key
from certify.timeutil import utcnow
from tests import factories
from tests.integration import test_certificates_verification as verification

BASE_URL, EN, ZH, issue = verification.BASE_URL, verification.EN, verification.ZH, verification.issue
public_address, key_pair, admin = verification.public_address, verification.key_pair, verification.admin


@pytest.fixture()
def signing(app, monkeypatch, key_pair, tmp_path):
    """The module's key signs; the trust roots are its certificate alone."""
    key, cert = key_pair
    monkeypatch.setitem(app.config, "CERTIFY_SIGNING_KEY", str(key))
    monkeypatch.setitem(app.config, "CERTIFY_SIGNING_CERT", str(cert))
    monkeypatch.setitem(app.config, "CERTIFY_TRUST_ROOTS", str(tmp_path / "trusted"))
    return key_pair


def download(client, certificate, tmp_path) -> tuple[bytes, object]:
    """The certificate's credential as served, saved to a file; its bytes and the file."""
    response = client.get(f"/certificates/{certificate.number}.json")
    assert response.status_code == 200, response.get_data(as_text=True)
    path = tmp_path / f"{certificate.number}.json"
    path.write_bytes(response.data)
    return response.data, path


def status_list(client, tmp_path, name="status-list.json"):
    response = client.get("/certificates/status-list.json")
    assert response.status_code == 200, response.get_data(as_text=True)
    path = tmp_path / name
    path.write_bytes(response.data)
    return path


def payload_of(data: bytes) -> dict:
    encoded = json.loads(data)["payload"]
    return json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))


def header_of(data: bytes) -> dict:
    encoded = json.loads(data)["protected"]
    return json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))


def verify_json(app, *args):
    return app.test_cli_runner().invoke(args=["certificates", "verify-json", *map(str, args)])


def changed(data: bytes, member: str) -> bytes:
    """``data`` with one character in the middle of ``member`` changed."""
    document = json.loads(data)
    value = document[member]
    middle = len(value) // 2
    document[member] = value[:middle] + ("A" if value[middle] != "A" else "B") + value[middle + 1:]
    return json.dumps(document, indent=2).encode("ascii")


def test_a_credential_states_the_certificate_and_the_sha256_of_its_pdf(client, admin, signing):
    certificate = issue(admin, subject="攀枝花一号生产基地")

    response = client.get(f"/certificates/{certificate.number}.json")
    data = response.data
    pdf = client.get(f"/certificates/{certificate.number}.pdf").data

    assert response.status_code == 200 and response.mimetype == "application/jose+json"
    assert f'filename="{certificate.number}.json"' in response.headers["Content-Disposition"]
    assert set(json.loads(data)) == {"protected", "payload", "signature"}
    header = header_of(data)
    assert header["alg"] == "ES256" and header["kid"] == certificate.signer_fingerprint
    signer = load_cert_from_pemder(str(signing[1]))
    assert base64.b64decode(header["x5c"][0]) == signer.dump()
    fields = payload_of(data)
    assert fields["number"] == certificate.number and fields["subject"] == "攀枝花一号生产基地"
    assert fields["organisation"] == {"name": certificate.organisation_name,
                                      "credit_code": certificate.credit_code}
    assert fields["kind"]["code"] == "GF" and fields["status"] == "valid"
    assert fields["standard"]["code"] == certificate.standard_code
    assert fields["valid_until"] == certificate.valid_until.isoformat()
    assert fields["pdf"]["sha256"] == hashlib.sha256(pdf).hexdigest() == certificate.pdf_sha256
    assert fields["verification_url"] == f"{BASE_URL}/verify?number={certificate.number}"
    assert fields["type"] == "certify.certificate-credential" and fields["version"] == 1


def test_a_valid_credential_passes_offline_with_the_published_certificate(client, admin, signing, tmp_path,
                                                                          make_app):
    certificate = issue(admin)
    _data, path = download(client, certificate, tmp_path)
    listed = status_list(client, tmp_path)
    # A verifier's installation: no database it could reach, no key, only the department's
    # published certificate.
    offline = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/absent/none.db",
                       CERTIFY_TRUST_ROOTS=str(tmp_path / "none"))

    result = verify_json(offline, path, "--status-list", listed, "--trust-root", signing[1])

    assert result.exit_code == 0, result.output
    assert "VALID:" in result.output and "INVALID" not in result.output
    for fact in (certificate.number, certificate.organisation_name, certificate.credit_code,
                 certificate.pdf_sha256, "development"):
        assert fact in result.output, fact
    assert not (tmp_path / "absent").exists()


@pytest.mark.parametrize("member", ["payload", "signature", "protected"])
def test_one_changed_character_makes_a_credential_invalid(app, client, admin, signing, tmp_path, member):
    certificate = issue(admin)
    data, path = download(client, certificate, tmp_path)
    path.write_bytes(changed(data, member))

    result = verify_json(app, path)

    assert result.exit_code == 1
    assert "INVALID" in result.output and "VALID:" not in result.output


def test_every_single_byte_change_in_the_signed_parts_fails(admin, client, signing, tmp_path):
    certificate = issue(admin)
    data, _path = download(client, certificate, tmp_path)
    roots = [load_cert_from_pemder(str(signing[1]))]
    document = json.loads(data)
    start = data.index(document["payload"].encode())

    assert verify_credential(data, trust_roots=roots).is_valid
    for offset in range(start, start + len(document["payload"]), 97):
        forged = bytearray(data)
        forged[offset] = ord("x") if forged[offset] != ord("x") else ord("y")
        assert not verify_credential(bytes(forged), trust_roots=roots).is_valid, offset


def test_a_credential_signed_with_another_key_is_not_trusted(app, client, admin, signing, tmp_path, monkeypatch):
    certificate = issue(admin)
    other_key, other_cert = create_development_key(tmp_path / "other", days=30)
    monkeypatch.setitem(app.config, "CERTIFY_SIGNING_KEY", str(other_key))
    monkeypatch.setitem(app.config, "CERTIFY_SIGNING_CERT", str(other_cert))
    _data, path = download(client, certificate, tmp_path)
    monkeypatch.setitem(app.config, "CERTIFY_SIGNING_KEY", str(signing[0]))
    monkeypatch.setitem(app.config, "CERTIFY_SIGNING_CERT", str(signing[1]))

    result = verify_json(app, path)

    assert result.exit_code == 1
    assert "INVALID (untrusted)" in result.output and "does not chain to any trust root" in result.output


def test_a_credential_whose_header_names_another_certificate_fails(admin, client, signing, tmp_path):
    certificate = issue(admin)
    data, _path = download(client, certificate, tmp_path)
    _key, other_cert = create_development_key(tmp_path / "other", days=30)
    other = load_cert_from_pemder(str(other_cert))
    document = json.loads(data)
    header = header_of(data) | {"x5c": [base64.b64encode(other.dump()).decode()], "kid": other.sha256.hex()}
    document["protected"] = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()

    check = verify_credential(json.dumps(document).encode(),
                              trust_roots=[load_cert_from_pemder(str(signing[1])), other])

    assert check.state == CredentialState.BROKEN


def test_a_revoked_certificate_passes_with_the_old_list_and_fails_after_a_refresh(app, client, admin, signing,
                                                                                  tmp_path):
    certificate = issue(admin)
    _data, path = download(client, certificate, tmp_path)
    old_list = status_list(client, tmp_path, "old.json")
    services.revoke_certificate(admin, certificate, "falsification", "虚报能耗数据")
    factories.db.session.commit()

    before = verify_json(app, path, "--status-list", old_list)
    after = verify_json(app, path, "--status-list", status_list(client, tmp_path, "new.json"))

    assert before.exit_code == 0, before.output
    assert after.exit_code == 1
    assert "INVALID (revoked)" in after.output and "(Falsification)" in after.output
    again = client.get(f"/certificates/{certificate.number}.json")
    assert payload_of(again.data)["status"] == "revoked"


def test_the_status_list_is_fetched_once_from_its_address(app, client, admin, signing, tmp_path, monkeypatch):
    for proxy in ("http_proxy", "HTTP_PROXY"):  # straight to the local server
        monkeypatch.delenv(proxy, raising=False)
    certificate = issue(admin)
    _data, path = download(client, certificate, tmp_path)
    services.revoke_certificate(admin, certificate, "falsification")
    factories.db.session.commit()
    served = client.get("/certificates/status-list.json").data
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the name http.server calls
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/jose+json")
            self.end_headers()
            self.wfile.write(served)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        address = f"http://127.0.0.1:{server.server_port}/certificates/status-list.json"
        result = verify_json(app, path, "--status-list", address)
    finally:
        server.shutdown()
        server.server_close()

    assert result.exit_code == 1 and "INVALID (revoked)" in result.output
    assert requests == ["/certificates/status-list.json"]


def test_a_status_list_past_its_next_update_is_not_relied_on(client, admin, signing, tmp_path):
    certificate = issue(admin)
    data, _path = download(client, certificate, tmp_path)
    listed = status_list(client, tmp_path).read_bytes()
    roots = [load_cert_from_pemder(str(signing[1]))]

    check = verify_credential(data, trust_roots=roots, status_list=listed, now=utcnow() + timedelta(days=2))

    assert check.state == CredentialState.UNCHECKED and "fetch it again" in check.reason


def test_a_changed_status_list_is_not_relied_on(client, admin, signing, tmp_path):
    certificate = issue(admin)
    data, _path = download(client, certificate, tmp_path)
    listed = changed(status_list(client, tmp_path).read_bytes(), "payload")

    check = verify_credential(data, trust_roots=[load_cert_from_pemder(str(signing[1]))], status_list=listed)

    assert check.state == CredentialState.UNCHECKED and "status list cannot be relied on" in check.reason


def test_the_status_list_lists_revoked_and_expired_numbers_with_their_dates(client, admin, signing):
    revoked, valid = issue(admin), issue(admin)
    expired = factories.issued_certificate_at(datetime(2019, 3, 1, tzinfo=timezone.utc), admin=admin, kind="factory")
    services.revoke_certificate(admin, revoked, "major_accident")
    factories.db.session.commit()

    fields = payload_of(client.get("/certificates/status-list.json").data)

    assert [entry["number"] for entry in fields["revoked"]] == [revoked.number]
    assert fields["revoked"][0]["reason"] == "major_accident"
    assert [entry["number"] for entry in fields["expired"]] == [expired.number]
    assert fields["expired"][0]["valid_until"] == expired.valid_until.isoformat()
    assert valid.number not in json.dumps(fields)
    assert fields["next_update"] > fields["issued_at"]


def test_the_status_list_answers_not_modified_until_it_changes(client, admin, signing):
    certificate = issue(admin)
    first = client.get("/certificates/status-list.json")
    etag = first.headers["ETag"]

    assert etag.startswith('W/"') and "max-age" in first.headers["Cache-Control"]
    unchanged = client.get("/certificates/status-list.json", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""

    services.revoke_certificate(admin, certificate, "falsification")
    factories.db.session.commit()
    refreshed = client.get("/certificates/status-list.json", headers={"If-None-Match": etag})
    assert refreshed.status_code == 200 and refreshed.headers["ETag"] != etag


@pytest.mark.parametrize("headers, message", [(EN, "no signing key"), (ZH, "签名密钥")])
def test_without_a_signing_key_nothing_is_offered_and_the_answer_says_why(client, admin, headers, message):
    certificate = issue(admin)

    html = client.get(f"/verify?number={certificate.number}", headers=headers).get_data(as_text=True)
    credential = client.get(f"/certificates/{certificate.number}.json", headers=headers)
    listed = client.get("/certificates/status-list.json", headers=headers)

    assert f"/certificates/{certificate.number}.json" not in html and "status-list.json" not in html
    assert credential.status_code == listed.status_code == 404
    assert message in credential.get_json()["message"] and message in listed.get_json()["message"]


def test_the_command_explains_when_it_has_no_trust_root(make_app, tmp_path):
    path = tmp_path / "credential.json"
    path.write_text("{}")
    bare = make_app(CERTIFY_TRUST_ROOTS=str(tmp_path / "none"))

    result = verify_json(bare, path)

    assert result.exit_code == 1
    assert "No trust root" in result.output and "--trust-root" in result.output


def test_a_file_that_is_not_a_credential_is_said_to_be_unreadable(app, signing, tmp_path):
    path = tmp_path / "not.json"
    path.write_bytes(b"%PDF-1.7 not json")

    result = verify_json(app, path)

    assert result.exit_code == 1 and "INVALID (unreadable)" in result.output


def test_a_certificate_still_rendering_has_no_credential_yet(client, admin, signing, monkeypatch):
    from certify import jobs

    monkeypatch.setattr(jobs, "run_job", lambda func, *args: None)
    certificate = issue(admin)

    response = client.get(f"/certificates/{certificate.number}.json", headers=EN)

    assert response.status_code == 404 and "being prepared" in response.get_json()["message"]
    assert client.get("/certificates/SC-GF-2099-0001.json").status_code == 404


@pytest.mark.parametrize("headers, link", [(EN, "Download the machine-readable certificate"),
                                           (ZH, "下载机器可读证书")])
def test_the_verification_page_and_the_certificate_page_offer_the_json(client, login_as, admin, signing,
                                                                      headers, link):
    applicant = factories.make_user(Role.APPLICANT)
    certificate = issue(admin, applicant=applicant)

    verify_page = client.get(f"/verify?number={certificate.number}", headers=headers).get_data(as_text=True)
    login_as(applicant)
    application_page = client.get(f"/applications/{certificate.application_id}",
                                  headers=headers).get_data(as_text=True)

    for html in (verify_page, application_page):
        assert f'href="/certificates/{certificate.number}.json"' in html and link in html
    assert 'href="/certificates/status-list.json"' in verify_page


def test_a_credential_checked_after_its_signing_certificate_expired_says_so(client, admin, signing, tmp_path):
    certificate = issue(admin)
    data, _path = download(client, certificate, tmp_path)

    check = verify_credential(data, trust_roots=[load_cert_from_pemder(str(signing[1]))],
                              now=utcnow() + timedelta(days=60))

    assert check.state == CredentialState.UNTRUSTED and "not valid today" in check.reason


def test_the_admins_certificate_page_offers_the_json(client, login_as, admin, signing):
    certificate = issue(admin)
    login_as(admin)

    html = client.get(f"/admin/certificates/{certificate.id}", headers=EN).get_data(as_text=True)

    assert f'href="/certificates/{certificate.number}.json"' in html and "Signed JSON" in html


def test_the_api_gives_the_same_credential_and_status_list(app, client, admin, signing, tmp_path):
    certificate = issue(admin)

    served = client.get(f"/api/v1/certificates/{certificate.number.lower()}/credential")
    listed = client.get("/api/v1/status-list")

    assert served.status_code == 200 and served.mimetype == "application/jose+json"
    assert payload_of(served.data) | {"signed_at": None} == payload_of(
        client.get(f"/certificates/{certificate.number}.json").data) | {"signed_at": None}
    path = tmp_path / "from-api.json"
    path.write_bytes(served.data)
    list_path = tmp_path / "list-from-api.json"
    list_path.write_bytes(listed.data)
    result = verify_json(app, path, "--status-list", list_path)
    assert result.exit_code == 0 and "VALID:" in result.output, result.output
    unchanged = client.get("/api/v1/status-list", headers={"If-None-Match": listed.headers["ETag"]})
    assert unchanged.status_code == 304


def test_the_api_says_why_there_is_no_credential_as_a_problem(client, admin):
    certificate = issue(admin)

    unsigned = client.get(f"/api/v1/certificates/{certificate.number}/credential", headers=ZH)
    unknown = client.get("/api/v1/certificates/SC-GF-1999-9999/credential")

    assert unsigned.status_code == 404 and unsigned.mimetype == "application/problem+json"
    assert "签名密钥" in unsigned.get_json()["detail"]
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"
