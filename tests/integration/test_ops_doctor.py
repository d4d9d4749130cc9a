"""`flask doctor` names every unsafe or broken setting with its fix and exits 1; a healthy
deployment (signing with the department's key, timestamped by a timestamp authority) passes with
exit 0."""

import hashlib
import socket
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import update

import certify
from certify import ops
from certify.certificates.signing import create_development_key
from certify.extensions import db as _db
from certify.timeutil import utcnow
from tests import factories
from tests.integration.test_signatures_long_term import timestamp_authority

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402

HEALTHY = {"MAIL_SERVER": "smtp.example.com", "SECRET_KEY": "k" * 64}


def doctor(application):
    ops.init_app(application)
    with application.app_context():
        result = application.test_cli_runner().invoke(args=["doctor"])
        _db.session.remove()
        _db.engine.dispose()
    return result


def write_pair(folder: Path, *, days: int = 365, expired: bool = False, name: str = "signing",
               rsa_key: bool = False):
    """A key (EC P-256, or RSA) and a self-signed certificate in PEM files; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if rsa_key else ec.generate_private_key(
        ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "certify test")])
    start = utcnow() - timedelta(days=days + 10 if expired else 1)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(start + timedelta(days=days))
                   .sign(key, hashes.SHA256()))
    key_path, cert_path = folder / f"{name}.key.pem", folder / f"{name}.cert.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return str(key_path), str(cert_path)


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    with timestamp_authority(tmp_path_factory.mktemp("tsa")) as authority:
        yield authority


@pytest.fixture()
def healthy(tmp_path, tsa) -> dict:
    """Settings that pass every check: the ones above, the department's signing pair, and a
    timestamp authority whose root is kept."""
    key, cert = write_pair(tmp_path / "department")
    return HEALTHY | {"CERTIFY_SIGNING_KEY": key, "CERTIFY_SIGNING_CERT": cert,
                      "CERTIFY_TRUST_ROOTS": str(tmp_path / "trusted"),
                      "CERTIFY_TSA_URL": tsa.url, "CERTIFY_TSA_TRUST_ROOTS": str(tsa.roots)}


@pytest.fixture()
def fake_redis():
    """A server on 127.0.0.1 that answers every command with +PONG; yields its URL."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(5)

    def serve():
        try:
            connection, _ = server.accept()
        except OSError:
            return
        with connection, connection.makefile("rb") as lines:
            while line := lines.readline():
                if line.startswith(b"$") or line.startswith(b"*"):
                    continue
                connection.sendall(b"+PONG\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    server.close()
    thread.join(timeout=5)


def test_a_healthy_deployment_passes(app, make_app, healthy, fake_redis):
    result = doctor(make_app(**healthy, REDIS_URL=fake_redis, RATELIMIT_STORAGE_URI="database://"))
    assert result.exit_code == 0, result.output
    assert "PROBLEM" not in result.output and "WARNING" not in result.output
    for check in ("secret key", "debug mode", "database", "migrations", "storage",
                  "PDF rendering", "signing key", "trust roots", "timestamp roots",
                  "timestamp authority", "base URL", "mail", "redis", "audit key",
                  "audit anchors", "certificate PDFs", "certificate files", "status rules"):
        assert any(line.startswith("ok") and f" {check} " in line
                   for line in result.output.splitlines()), check
    assert "key matches the certificate" in result.output and "answers" in result.output
    assert "answers with a trusted timestamp" in result.output


def _unmigrated(tmp_path):
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}


def _behind_head(tmp_path, make_app):
    overrides = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'behind.sqlite3'}"}
    behind = make_app(**overrides)
    with behind.app_context():
        upgrade(revision="5d6841c81fe0")  # the first migration only
        _db.engine.dispose()
    return overrides


def _signing(tmp_path, kind):
    key, cert = write_pair(tmp_path / "keys")
    other_key, _ = write_pair(tmp_path / "keys", name="other")
    _, expired_cert = write_pair(tmp_path / "keys", name="expired", expired=True)
    garbage = tmp_path / "keys" / "garbage.pem"
    garbage.write_text("not a key")
    development_key, development_cert = create_development_key(tmp_path / "development")
    return {
        "missing": {"CERTIFY_SIGNING_KEY": str(tmp_path / "nowhere.pem"), "CERTIFY_SIGNING_CERT": cert},
        "half": {"CERTIFY_SIGNING_KEY": key, "CERTIFY_SIGNING_CERT": None},
        "mismatch": {"CERTIFY_SIGNING_KEY": other_key, "CERTIFY_SIGNING_CERT": cert},
        "expired": {"CERTIFY_SIGNING_KEY": key.replace("signing", "expired"),
                    "CERTIFY_SIGNING_CERT": expired_cert},
        "garbage": {"CERTIFY_SIGNING_KEY": str(garbage), "CERTIFY_SIGNING_CERT": cert},
        "none": {"CERTIFY_SIGNING_KEY": None, "CERTIFY_SIGNING_CERT": None},
        "development": {"CERTIFY_SIGNING_KEY": str(development_key),
                        "CERTIFY_SIGNING_CERT": str(development_cert)},
    }[kind]


def _untrusted_tsa(tmp_path):
    """A timestamp-roots folder holding only an unrelated certificate."""
    _, cert = write_pair(tmp_path / "unrelated")
    folder = tmp_path / "tsa-roots"
    folder.mkdir()
    Path(cert).rename(folder / "unrelated.pem")
    return {"CERTIFY_TSA_TRUST_ROOTS": str(folder)}


def _unreadable_trust_root(tmp_path):
    folder = tmp_path / "trusted"
    folder.mkdir()
    (folder / "old-signing-cert.pem").write_text("not a certificate")
    return {"CERTIFY_TRUST_ROOTS": str(folder)}


# (what is wrong, settings, patch, the check's line must mention, the fix must mention)
PLANTED = [
    ("a development secret key", lambda t, m: {"SECRET_KEY": "dev"}, None,
     "development value", "secrets.token_hex(32)"),
    ("a short secret key", lambda t, m: {"SECRET_KEY": "only-twenty-five-letters!"}, None,
     "only 25 characters", "SECRET_KEY"),
    ("debug mode on", lambda t, m: {"DEBUG": True}, None, "debug mode is on", "FLASK_DEBUG"),
    ("HarfBuzz subsetting missing", lambda t, m: {},
     ("weasyprint.text.ffi.harfbuzz_subset", None), "about 37× slower",
     "apt-get install -y libharfbuzz-subset0"),
    ("the CJK font missing", lambda t, m: {},
     ("certify.pdf.health.SOURCE_FACES", {"regular": (Path("/nonexistent/NotoSansCJK.ttc"), "x")}),
     "Chinese font is missing", "apt-get install -y fonts-noto-cjk"),
    ("no migrations applied", lambda t, m: _unmigrated(t), None, "no migrations applied",
     "flask db upgrade"),
    ("migrations behind head", _behind_head, None, "the database is at 5d6841c81fe0",
     "flask db upgrade"),
    ("storage inside the static folder",
     lambda t, m: {"CERTIFY_STORAGE_DIR": str(Path(certify.__file__).parent / "static" / "files")},
     None, "overlaps the static folder", "CERTIFY_STORAGE_DIR"),
    ("signing key file missing", lambda t, m: _signing(t, "missing"), None, "does not exist",
     "CERTIFY_SIGNING_KEY"),
    ("signing certificate not set", lambda t, m: _signing(t, "half"), None,
     "CERTIFY_SIGNING_CERT is not set", "flask keys init"),
    ("signing key of another pair", lambda t, m: _signing(t, "mismatch"), None,
     "does not belong to the certificate", "same pair"),
    ("signing certificate expired", lambda t, m: _signing(t, "expired"), None,
     "certificate expired on", "renew"),
    ("signing key unreadable", lambda t, m: _signing(t, "garbage"), None,
     "cannot be read as a PEM private key", "CERTIFY_SIGNING_KEY_PASSPHRASE"),
    ("no signing key in production", lambda t, m: _signing(t, "none"), None,
     "certificate PDFs are issued unsigned", "CERTIFY_SIGNING_KEY"),
    ("the development signing key in production", lambda t, m: _signing(t, "development"), None,
     "development key made by flask keys init", "flask keys rotate --key"),
    ("an unreadable trust root", lambda t, m: _unreadable_trust_root(t), None,
     "old-signing-cert.pem", "PEM or DER certificate"),
    ("timestamp authority unreachable", lambda t, m: {"CERTIFY_TSA_URL": "http://127.0.0.1:1/"},
     None, "no timestamp from http://127.0.0.1:1/", "CERTIFY_TSA_URL"),
    ("timestamp authority without its root", lambda t, m: {"CERTIFY_TSA_TRUST_ROOTS": str(t)},
     None, "no root certificate for", "copy the timestamp authority's root certificate"),
    ("timestamp authority not trusted", lambda t, m: _untrusted_tsa(t), None,
     "does not chain to a timestamp authority root", "CERTIFY_TSA_URL"),
    ("database unreachable",
     lambda t, m: {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{t / 'no' / 'such' / 'folder.sqlite3'}"},
     None, "cannot connect", "DATABASE_URL"),
    ("CERTIFY_BASE_URL unset", lambda t, m: {"CERTIFY_BASE_URL": None}, None,
     "CERTIFY_BASE_URL is unset", "export CERTIFY_BASE_URL="),
    ("Redis unreachable",
     lambda t, m: {"REDIS_URL": "redis://127.0.0.1:1/0", "RATELIMIT_STORAGE_URI": "memory://"},
     None, "does not answer", "start Redis"),
    ("rate limits counted per process", lambda t, m: {"RATELIMIT_STORAGE_URI": "memory://"}, None,
     "counted in each process", "unset RATELIMIT_STORAGE_URI"),
]


def test_every_planted_problem_is_reported_with_its_fix(app, make_app, tmp_path, monkeypatch,
                                                         healthy):
    failures = []
    for number, (name, settings, patch, detail, fix) in enumerate(PLANTED):
        folder = tmp_path / str(number)
        folder.mkdir()
        with monkeypatch.context() as patched:
            if patch:
                patched.setattr(*patch)
            result = doctor(make_app(**(healthy | settings(folder, make_app))))
        lines = result.output.splitlines()
        problem_at = [i for i, line in enumerate(lines) if line.startswith("PROBLEM") and detail in line]
        if result.exit_code != 1 or not problem_at or fix not in lines[problem_at[0] + 1]:
            failures.append((name, result.output))
    print(f"\ndoctor: {len(PLANTED)} planted problems, {len(PLANTED) - len(failures)} reported "
          f"with their fix, {len(failures)} failures")
    assert failures == []


def test_a_missing_smtp_server_is_a_warning_not_a_failure(app, make_app, healthy):
    result = doctor(make_app(**(healthy | {"MAIL_SERVER": None})))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    [at] = [i for i, line in enumerate(lines) if line.startswith("WARNING") and " mail " in line]
    assert "only kept in the mail log" in lines[at] and "MAIL_SERVER" in lines[at + 1]
    assert "1 warning(s)" in result.output


def test_without_a_timestamp_authority_signatures_expire_with_their_certificate(
        app, make_app, healthy):
    result = doctor(make_app(**(healthy | {"CERTIFY_TSA_URL": None})))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    [at] = [i for i, line in enumerate(lines)
            if line.startswith("WARNING") and " timestamp authority " in line]
    assert "stops verifying once its signing certificate expires" in lines[at]
    assert "CERTIFY_TSA_URL" in lines[at + 1]


def test_strict_mode_fails_on_warnings(app, make_app, healthy):
    application = make_app(**(healthy | {"MAIL_SERVER": None}))
    ops.init_app(application)
    with application.app_context():
        result = application.test_cli_runner().invoke(args=["doctor", "--strict"])
    assert result.exit_code == 1


def test_an_application_its_own_records_contradict_is_reported(make_app, healthy, db):
    from certify.applications.models import Application
    from certify.workflow import Status

    certificate = factories.issued_certificate()
    db.session.commit()
    # A listed application set back to "assessed" by hand: its certificate says otherwise.
    db.session.execute(update(Application).where(Application.id == certificate.application_id)
                       .values(status=Status.ASSESSED))
    db.session.commit()

    result = doctor(make_app(**healthy))
    line = next(line for line in result.output.splitlines() if " status rules " in line)
    assert result.exit_code == 1 and line.startswith("PROBLEM")
    assert ("1 application(s) break the rule that an application has a certificate only once "
            f"announced (ids {certificate.application_id})") in line


def finding(result, check: str) -> tuple[str, str]:
    """The line of ``check`` in the doctor's output, and the line after it (its fix, if any)."""
    lines = result.output.splitlines() + [""]
    [at] = [i for i, line in enumerate(lines[:-1]) if line[9:].startswith(f"{check}  ")]
    return lines[at], lines[at + 1]


def test_a_stored_file_whose_bytes_no_longer_hash_to_its_name_is_a_problem(app, make_app):
    from certify.storage import path_of, store_bytes

    application = make_app()
    with application.app_context():
        store_bytes(b"kept as written")
        altered = store_bytes(b"altered later on the disk")
        path_of(altered.sha256).write_bytes(b"something else")

    line, fix = finding(doctor(application), "stored files")

    assert line.startswith("PROBLEM") and altered.sha256[:12] in line and "all 2 checked" in line
    assert "flask backup restore" in fix


def test_with_object_storage_the_bucket_is_probed_and_its_objects_hashed(app, make_app, s3_settings):
    from certify.storage import storage, store_bytes

    application = make_app(**s3_settings)
    named = hashlib.sha256(b"what the name promises").hexdigest()
    with application.app_context():
        store_bytes(b"kept as written")
        store = storage()
        # Damage as a store could do it, bypassing the checksum every upload of certify carries.
        store.client.put_object(Bucket=store.bucket, Key=f"{store.prefix}{named[:2]}/{named[2:4]}/{named}",
                                Body=b"other bytes")

    result = doctor(application)

    line, _ = finding(result, "storage")
    assert line.startswith("ok") and s3_settings["CERTIFY_STORAGE_URL"] in line and "probe" in line
    line, fix = finding(result, "stored files")
    assert line.startswith("PROBLEM") and named[:12] in line and "all 2 checked" in line
    with application.app_context():
        assert [item.sha256 for item in storage().stored_files()].count(named) == 1, "the probe is gone"


def test_object_storage_that_refuses_the_credentials_is_a_problem_with_its_fix(app, make_app, s3_settings,
                                                                               monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")

    result = doctor(make_app(**s3_settings))

    line, fix = finding(result, "storage")
    assert line.startswith("PROBLEM") and "refused access" in line
    assert "AWS_SECRET_ACCESS_KEY" in fix and "CERTIFY_STORAGE_URL" in fix
    assert result.exit_code == 1


def test_a_key_that_is_not_ec_p256_signs_pdfs_but_is_a_warning_for_the_json(app, make_app, healthy, tmp_path):
    key, cert = write_pair(tmp_path / "rsa", rsa_key=True)
    result = doctor(make_app(**(healthy | {"CERTIFY_SIGNING_KEY": key, "CERTIFY_SIGNING_CERT": cert})))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("ok") and "key matches the certificate" in line for line in lines)
    [at] = [i for i, line in enumerate(lines) if line.startswith("WARNING") and "not an EC P-256 key" in line]
    assert "machine-readable certificates" in lines[at] and "flask keys rotate" in lines[at + 1]
    # The healthy pair (EC P-256) raises no such warning.
    assert "not an EC P-256 key" not in doctor(make_app(**healthy)).output
