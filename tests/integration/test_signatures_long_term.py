"""Signatures that stay verifiable: a certificate PDF carries the data to check its signature
offline (PAdES B-LT); with a timestamp authority it carries a trusted time and ends with a
document timestamp (B-LTA), so it still verifies after the signing certificate expires; a key
rotation keeps earlier certificates valid; and /verify says which key signed and when.

The timestamp authority is a real RFC 3161 service over HTTP on a loopback port, started here:
pyHanko's ``DummyTimeStamper`` signing with a certificate from a test CA of its own.
"""

import io
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from certify import storage
from certify.audit.models import AuditEvent
from certify.auth.models import Role
from certify.certificates.signing import (
    TIMESTAMP_FIELD,
    SignatureState,
    check_signature,
    create_development_key,
)
from tests import factories

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
LATER = timedelta(days=30)


@dataclass
class LocalTimestampAuthority:
    """An RFC 3161 service: its address, the folder holding its root certificate, and how many
    timestamps it has issued."""

    url: str
    roots: Path
    issued: list = field(default_factory=list)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


@contextmanager
def timestamp_authority(folder: Path):
    """Start a timestamp authority on 127.0.0.1 whose root certificate is written to
    ``folder``; yield it, and stop it afterwards."""
    now = datetime.now(timezone.utc)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = (x509.CertificateBuilder().subject_name(_name("certify test TSA root"))
            .issuer_name(_name("certify test TSA root")).public_key(root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False,
                                         False), critical=True)
            .sign(root_key, hashes.SHA256()))
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa_certificate = (
        x509.CertificateBuilder().subject_name(_name("certify test TSA"))
        .issuer_name(root.subject).public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                     False), critical=True)
        .sign(root_key, hashes.SHA256()))
    stamper = DummyTimeStamper(
        tsa_cert=_asn1(tsa_certificate), certs_to_embed=[_asn1(root)],
        tsa_key=asn1_keys.PrivateKeyInfo.load(tsa_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tsa-root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    issued = []

    class Handler(BaseHTTPRequestHandler):
        # Buffered, so that the headers and the token leave in one segment rather than waiting
        # on the client's delayed acknowledgement.
        wbufsize = -1

        def do_POST(self):  # noqa: N802 - the name http.server calls
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            body = stamper.request_tsa_response(request).dump()
            issued.append(request)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # A path of its own, so that a client kept for an earlier authority on a reused port
        # is never taken for this one.
        yield LocalTimestampAuthority(
            f"http://127.0.0.1:{server.server_address[1]}/{uuid.uuid4().hex}", folder, issued)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    with timestamp_authority(tmp_path_factory.mktemp("tsa")) as authority:
        yield authority


@pytest.fixture(autouse=True)
def public_address(app, monkeypatch):
    monkeypatch.setitem(app.config, "CERTIFY_BASE_URL", "https://lvse.example.gov.cn")


@pytest.fixture()
def keys(app, monkeypatch, tmp_path):
    """A development pair in ``tmp_path/keys`` signing from now on, with empty trust-root folders
    and no timestamp authority; returns the keys folder."""
    folder = tmp_path / "keys"
    use_pair(app, monkeypatch, *create_development_key(folder))
    monkeypatch.setitem(app.config, "CERTIFY_TRUST_ROOTS", str(folder / "trusted"))
    monkeypatch.setitem(app.config, "CERTIFY_TSA_TRUST_ROOTS", str(tmp_path / "no-tsa-roots"))
    monkeypatch.setitem(app.config, "CERTIFY_TSA_URL", None)
    return folder


@pytest.fixture()
def timestamped(app, monkeypatch, keys, tsa):
    monkeypatch.setitem(app.config, "CERTIFY_TSA_URL", tsa.url)
    monkeypatch.setitem(app.config, "CERTIFY_TSA_TRUST_ROOTS", str(tsa.roots))
    return tsa


@pytest.fixture()
def admin(db):
    return factories.make_user(Role.ADMIN)


def use_pair(app, monkeypatch, key: Path, cert: Path) -> None:
    monkeypatch.setitem(app.config, "CERTIFY_SIGNING_KEY", str(key))
    monkeypatch.setitem(app.config, "CERTIFY_SIGNING_CERT", str(cert))


def issue(admin):
    certificate = factories.issued_certificate(admin=admin, kind="factory")
    factories.db.session.commit()
    assert certificate.is_signed, certificate.render_error
    return certificate


def pdf_of(certificate) -> bytes:
    with storage.open_file(certificate.pdf_sha256) as handle:
        return handle.read()


def fingerprint(cert_path: Path) -> str:
    return load_cert_from_pemder(str(cert_path)).sha256.hex()


def short(fingerprint_hex: str) -> str:
    head = fingerprint_hex[:16].upper()
    return " ".join(head[i:i + 4] for i in range(0, 16, 4))


def page(client, certificate, headers=EN) -> str:
    response = client.get(f"/verify?number={certificate.number}", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_signed_certificate_carries_what_is_needed_to_check_it_offline(admin, keys):
    certificate = issue(admin)
    pdf = pdf_of(certificate)

    reader = PdfFileReader(io.BytesIO(pdf))
    embedded = {c.sha256.hex() for c in DocumentSecurityStore.read_dss(reader).load_certs()}
    [signature] = reader.embedded_signatures
    check = check_signature(pdf)

    assert certificate.signer_fingerprint in embedded
    # The validation data is in the signed revision: the signature covers the whole file.
    assert signature.evaluate_signature_coverage() == SignatureCoverageLevel.ENTIRE_FILE
    assert check.state == SignatureState.VALID and check.is_current_key
    assert check.fingerprint == fingerprint(keys / "signing-cert.pem")
    assert check.timestamped_at is None


def test_with_a_timestamp_authority_the_signature_and_the_file_are_timestamped(
        admin, timestamped, client):
    issued_before = len(timestamped.issued)
    started = datetime.now(timezone.utc)
    certificate = issue(admin)
    finished = datetime.now(timezone.utc)
    pdf = pdf_of(certificate)

    reader = PdfFileReader(io.BytesIO(pdf))
    signature, document_timestamp = reader.embedded_signatures
    tsa_root = load_cert_from_pemder(str(timestamped.roots / "tsa-root.pem"))
    archive = validate_pdf_timestamp(
        document_timestamp, ValidationContext(trust_roots=[tsa_root], allow_fetching=False))
    embedded = {c.subject.native["common_name"]
                for c in DocumentSecurityStore.read_dss(reader).load_certs()}
    check = check_signature(pdf)

    # One timestamp on the signature, one on the document (plus, for the first signature of
    # this client, a sample that sizes the room for them).
    assert len(timestamped.issued) - issued_before >= 2
    assert check.state == SignatureState.VALID
    assert started - timedelta(seconds=1) <= check.timestamped_at <= finished + timedelta(seconds=1)
    assert document_timestamp.field_name == TIMESTAMP_FIELD
    assert document_timestamp.sig_object_type == "/DocTimeStamp"
    assert archive.valid and archive.intact and archive.trusted
    # The document timestamp seals the whole file, the signature's validation data included.
    assert archive.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert "certify test TSA" in embedded
    local = check.timestamped_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert "as certified by a timestamp authority" in page(client, certificate)
    assert f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}" in page(client, certificate, ZH)
    assert signature.field_name == "CertificateSignature"


def test_a_timestamped_signature_still_verifies_after_its_certificate_expired(
        app, monkeypatch, admin, timestamped, tmp_path):
    short_lived = create_development_key(tmp_path / "short-lived", days=1)
    use_pair(app, monkeypatch, *short_lived)
    with_timestamp = pdf_of(issue(admin))
    monkeypatch.setitem(app.config, "CERTIFY_TSA_URL", None)
    without_timestamp = pdf_of(issue(admin))

    assert check_signature(with_timestamp).state == SignatureState.VALID
    assert check_signature(without_timestamp).state == SignatureState.VALID
    a_month_later = datetime.now(timezone.utc) + LATER
    later = check_signature(with_timestamp, at=a_month_later)
    assert later.state == SignatureState.VALID and later.timestamped_at is not None
    assert check_signature(without_timestamp, at=a_month_later).state == SignatureState.EXPIRED


def test_certificates_signed_before_a_rotation_still_verify_after_it(app, admin, keys, client, db):
    old_fingerprint = fingerprint(keys / "signing-cert.pem")
    before = issue(admin)

    result = app.test_cli_runner().invoke(args=["keys", "rotate", "--folder", str(keys)])

    assert result.exit_code == 0, result.output
    new_fingerprint = fingerprint(keys / "signing-cert.pem")
    assert new_fingerprint != old_fingerprint
    assert f"export CERTIFY_SIGNING_KEY={keys / 'signing-key.pem'}" in result.output
    assert [fingerprint(p) for p in (keys / "trusted").iterdir()] == [old_fingerprint]
    after = issue(admin)
    earlier_check, current_check = check_signature(pdf_of(before)), check_signature(pdf_of(after))
    assert earlier_check.state == SignatureState.VALID and not earlier_check.is_current_key
    assert earlier_check.fingerprint == old_fingerprint
    assert current_check.state == SignatureState.VALID and current_check.is_current_key
    assert current_check.fingerprint == new_fingerprint

    earlier_page, current_page = page(client, before), page(client, after)
    assert "Valid: signed by the department" in earlier_page
    assert short(old_fingerprint) in earlier_page
    assert "an earlier signing key of the department" in earlier_page
    assert short(new_fingerprint) in current_page
    assert "the department's current signing key" in current_page
    assert "No timestamp" in current_page
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "signing_key.rotated")).one()
    assert event.details["previous_fingerprint"] == old_fingerprint
    assert event.details["fingerprint"] == new_fingerprint


def test_replacing_the_key_without_rotating_leaves_earlier_certificates_unverified(
        app, admin, keys, client):
    before = issue(admin)

    result = app.test_cli_runner().invoke(args=["keys", "init", "--folder", str(keys), "--force"])

    assert result.exit_code == 0, result.output
    assert check_signature(pdf_of(before)).state == SignatureState.UNTRUSTED
    assert "not with the department" in page(client, before)


def test_rotate_takes_the_departments_pair_and_refuses_a_mismatched_one(app, db, keys, tmp_path):
    runner = app.test_cli_runner()
    new_key, new_cert = create_development_key(tmp_path / "department")
    _, stranger_cert = create_development_key(tmp_path / "stranger")

    refused = runner.invoke(args=["keys", "rotate", "--key", str(new_key),
                                  "--cert", str(stranger_cert)])
    assert refused.exit_code == 1 and new_key.name in refused.output
    assert not (keys / "trusted").exists(), "nothing is kept when the new pair is refused"

    result = runner.invoke(args=["keys", "rotate", "--key", str(new_key), "--cert", str(new_cert)])
    assert result.exit_code == 0, result.output
    assert f"export CERTIFY_SIGNING_KEY={new_key}" in result.output
    assert f"export CERTIFY_SIGNING_CERT={new_cert}" in result.output
    assert f"export CERTIFY_TRUST_ROOTS={keys / 'trusted'}" in result.output
    [kept] = (keys / "trusted").iterdir()
    assert fingerprint(kept) == fingerprint(keys / "signing-cert.pem")


def test_rotate_without_a_signing_pair_says_to_make_one(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "CERTIFY_SIGNING_CERT", None)
    result = app.test_cli_runner().invoke(args=["keys", "rotate", "--folder",
                                                str(tmp_path / "empty")])
    assert result.exit_code == 1 and "flask keys init" in result.output
