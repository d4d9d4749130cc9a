"""``flask doctor``: check a deployment's settings and surroundings, each finding with its fix.

Every check gives one line: ``ok``, ``WARNING`` (works, but not as it should in production) or
``PROBLEM`` (unsafe or broken). The command exits 1 when there is any problem (with
``--strict``, any warning too), so that a deployment script can stop on it.
"""

import os
import random
import re
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import click
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from certify.certificates.credentials import signs_es256
from certify.certificates.signing import (
    DEVELOPMENT_COMMON_NAME,
    read_certificates,
    timestamp_authority_problem,
    trust_roots_folder,
    tsa_trust_roots_folder,
)
from certify.config import DEVELOPMENT_SECRET_KEYS
from certify.extensions import db
from certify.pdf.health import pdf_health
from certify.storage import local_root, sha256_of_stored, storage, storage_location_problem
from certify.timeutil import as_utc, utcnow

OK, WARNING, PROBLEM, SKIPPED = "ok", "WARNING", "PROBLEM", "skipped"
MIN_SECRET_KEY_LENGTH = 32
CERTIFICATE_EXPIRY_WARNING = timedelta(days=30)
# Anchors are written daily; two days without one means the daily run stopped.
ANCHOR_AGE = timedelta(days=2)
_INSTALL_HINT = re.compile(r"^(?P<detail>.*?):? (?P<fix>(?:apt-get|pip) .*)$", re.DOTALL)


@dataclass(frozen=True)
class Finding:
    """The outcome of one check: its status, what was found, and how to fix it."""

    check: str
    status: str
    detail: str
    fix: str = ""


def check_secret_key(app: Flask) -> list[Finding]:
    """The session-signing key must be long, random and not a development placeholder."""
    key = app.config.get("SECRET_KEY") or ""
    key = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
    fix = ("set SECRET_KEY to a long random value: export SECRET_KEY=$(python3 -c "
           "'import secrets; print(secrets.token_hex(32))')")
    if key.strip().lower() in DEVELOPMENT_SECRET_KEYS:
        return [Finding("secret key", PROBLEM, "SECRET_KEY is missing or a development value, so "
                        "anyone can forge sessions", fix)]
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return [Finding("secret key", PROBLEM, f"SECRET_KEY has only {len(key)} characters "
                        f"(at least {MIN_SECRET_KEY_LENGTH} needed)", fix)]
    return [Finding("secret key", OK, f"{len(key)} characters, not a development value")]


def check_debug(app: Flask) -> list[Finding]:
    """Debug mode must be off: its error pages let visitors run code on the server."""
    if app.debug:
        return [Finding("debug mode", PROBLEM, "debug mode is on: error pages show the code and "
                        "the interactive debugger", "unset FLASK_DEBUG (or set FLASK_DEBUG=0)")]
    return [Finding("debug mode", OK, "off")]


def check_pdf(app: Flask) -> list[Finding]:
    """The Chinese font and HarfBuzz subsetting that certificate PDFs need."""
    findings = []
    for problem in pdf_health():
        match = _INSTALL_HINT.match(problem)
        detail, fix = (match["detail"], match["fix"]) if match else (problem, "")
        if "HarfBuzz" in problem:
            detail += (". Without libharfbuzz-subset0 WeasyPrint falls back to subsetting with "
                       "fontTools, measured here at about 37× slower per Chinese certificate")
        findings.append(Finding("PDF rendering", PROBLEM, detail, fix))
    return findings or [Finding("PDF rendering", OK,
                                "Chinese font present, HarfBuzz subsetting available")]


def check_database(app: Flask) -> list[Finding]:
    """The database answers, and its schema is at the migrations' head."""
    url = db.engine.url.render_as_string(hide_password=True)
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except Exception as error:  # noqa: BLE001 - any driver error means "unreachable"
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return [
            Finding("database", PROBLEM, f"cannot connect to {url}: {reason}",
                    "check DATABASE_URL, that the server runs and that this host may connect"),
            Finding("migrations", SKIPPED, "not checked: the database is unreachable"),
        ]
    findings = [Finding("database", OK, f"reachable at {url}")]
    script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    heads = set(script.get_heads())
    known = {revision.revision for revision in script.walk_revisions()}
    if not current:
        findings.append(Finding("migrations", PROBLEM, "the database has no migrations applied",
                                "flask db upgrade"))
    elif current - known:
        findings.append(Finding(
            "migrations", PROBLEM, f"the database is at {', '.join(sorted(current))}, which this "
            "code does not know: a newer certify has migrated it",
            "deploy the certify version that matches the database"))
    elif current != heads:
        findings.append(Finding(
            "migrations", PROBLEM, f"the database is at {', '.join(sorted(current))}, the code "
            f"at {', '.join(sorted(heads))}", "flask db upgrade"))
    else:
        findings.append(Finding("migrations", OK, f"at head {', '.join(sorted(heads))}"))
    return findings


def check_storage(app: Flask) -> list[Finding]:
    """Stored files must be outside every static folder, in a folder the app can write; or in
    a bucket this host can reach, write to and read from."""
    if app.config.get("CERTIFY_STORAGE_URL"):
        return _check_object_storage(app)
    root = local_root(app)
    problem = storage_location_problem(app)
    if problem:
        return [Finding("storage", PROBLEM, problem.split(". Set ")[0],
                        "set CERTIFY_STORAGE_DIR to a folder outside the application, e.g. "
                        "instance/storage")]
    existing = next((folder for folder in (root, *root.parents) if folder.exists()), root)
    if not os.access(existing, os.W_OK | os.X_OK):
        return [Finding("storage", PROBLEM, f"{existing} is not writable by this user",
                        f"give the application's user write access to {root}")]
    return [Finding("storage", OK, f"{root}, outside the static folders")]


def _check_object_storage(app: Flask) -> list[Finding]:
    fix = ("check CERTIFY_STORAGE_URL, that the bucket exists, and the endpoint, region and "
           "credentials (AWS_ENDPOINT_URL_S3, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
    try:
        store = storage(app)
        problem = store.access_problem()
    except Exception as error:  # noqa: BLE001 - boto3 refuses a bad setting in many ways
        problem = f"{app.config['CERTIFY_STORAGE_URL']} cannot be used: {error}"
    if problem:
        return [Finding("storage", PROBLEM, problem, fix)]
    return [Finding("storage", OK, f"{store.describe()}: a probe was written, read back and removed")]


# Stored files whose bytes ``flask doctor`` hashes on each run: every file of a small store, a
# random sample of a large one (each run another), so that a run stays short on any store.
STORED_FILES_CHECKED = 500


def check_stored_files(app: Flask) -> list[Finding]:
    """Stored files must hold what their names promise: the sha256 of their bytes."""
    try:
        store = storage(app)
        listed = list(store.stored_files())
    except Exception as error:  # noqa: BLE001 - reported by the storage check above
        return [Finding("stored files", SKIPPED, f"not checked: the storage cannot be listed ({error})")]
    sample = listed if len(listed) <= STORED_FILES_CHECKED else random.sample(listed, STORED_FILES_CHECKED)
    damaged = []
    for item in sample:
        try:
            if sha256_of_stored(store, item.sha256) != item.sha256:
                damaged.append(item.sha256)
        except FileNotFoundError:  # deleted since it was listed
            continue
        except Exception:  # noqa: BLE001 - a read refused by the store's own checksum is damage too
            damaged.append(item.sha256)
    checked = f"{len(sample)} of {len(listed)}" if len(sample) < len(listed) else f"all {len(listed)}"
    if damaged:
        return [Finding("stored files", PROBLEM, f"{len(damaged)} stored file(s) do not hash to their names "
                        f"({', '.join(sha[:12] + '…' for sha in damaged[:5])}; {checked} checked)",
                        "restore each from a backup (flask backup restore), or from the object store's "
                        "versioning; the names are the sha256 of the bytes they must hold")]
    return [Finding("stored files", OK, f"{checked} hash to their names")]


def check_signing_key(app: Flask) -> list[Finding]:
    """Certificate PDFs must be signed with the department's key: both files exist, the key
    parses and matches the certificate, which is valid today and not the development one."""
    key_path = _setting(app, "CERTIFY_SIGNING_KEY")
    cert_path = _setting(app, "CERTIFY_SIGNING_CERT")
    if not key_path and not cert_path:
        return [Finding("signing key", PROBLEM, "no signing key: certificate PDFs are issued "
                        "unsigned, so a forged copy cannot be told from a genuine one",
                        "set CERTIFY_SIGNING_KEY and CERTIFY_SIGNING_CERT to the department's "
                        "key and certificate (PEM files)")]
    fix_pair = ("set both CERTIFY_SIGNING_KEY and CERTIFY_SIGNING_CERT to PEM files "
                "(a development pair: flask keys init)")
    if not key_path or not cert_path:
        missing = "CERTIFY_SIGNING_CERT" if key_path else "CERTIFY_SIGNING_KEY"
        return [Finding("signing key", PROBLEM, f"{missing} is not set", fix_pair)]
    for path in (key_path, cert_path):
        if not Path(path).is_file():
            return [Finding("signing key", PROBLEM, f"{path} does not exist", fix_pair)]
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
    except ImportError:
        return [Finding("signing key", PROBLEM, "cannot check the key: cryptography is missing",
                        "pip install cryptography")]
    passphrase = _setting(app, "CERTIFY_SIGNING_KEY_PASSPHRASE")
    try:
        key = serialization.load_pem_private_key(
            Path(key_path).read_bytes(), password=passphrase.encode("utf-8") if passphrase else None)
    except (ValueError, TypeError) as error:
        return [Finding("signing key", PROBLEM, f"{key_path} cannot be read as a PEM private key "
                        f"({error})", "point CERTIFY_SIGNING_KEY at the PEM key and set "
                        "CERTIFY_SIGNING_KEY_PASSPHRASE if it is encrypted")]
    try:
        certificate = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    except ValueError as error:
        return [Finding("signing key", PROBLEM, f"{cert_path} is not a PEM certificate ({error})",
                        "point CERTIFY_SIGNING_CERT at the PEM certificate")]
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
        return [Finding("signing key", PROBLEM, "the key does not belong to the certificate",
                        "configure the key and certificate of the same pair")]
    return [_certificate_finding(certificate)] + _credential_key_findings(key)


def _certificate_finding(certificate) -> Finding:
    """The signing certificate of a key that matches it: not the development one, valid today
    (a warning when it expires soon)."""
    from cryptography import x509

    common_names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    if any(name.value == DEVELOPMENT_COMMON_NAME for name in common_names):
        return Finding("signing key", PROBLEM, "the development key made by flask keys init "
                       "signs the certificates: its certificate is self-signed and says "
                       "\"development\"", "flask keys rotate --key KEY.pem --cert CERT.pem with "
                       "the department's pair (certificates signed so far stay valid)")
    now = utcnow()
    if certificate.not_valid_after_utc < now:
        return Finding("signing key", PROBLEM, "the certificate expired on "
                       f"{certificate.not_valid_after_utc:%Y-%m-%d}",
                       "renew the signing certificate and point CERTIFY_SIGNING_CERT at it")
    if certificate.not_valid_before_utc > now:
        return Finding("signing key", PROBLEM, "the certificate is valid only from "
                       f"{certificate.not_valid_before_utc:%Y-%m-%d}",
                       "check the server's clock or the certificate's dates")
    if certificate.not_valid_after_utc - now < CERTIFICATE_EXPIRY_WARNING:
        return Finding("signing key", WARNING, "the certificate expires on "
                       f"{certificate.not_valid_after_utc:%Y-%m-%d}", "renew the signing certificate soon")
    return Finding("signing key", OK, "key matches the certificate, valid until "
                   f"{certificate.not_valid_after_utc:%Y-%m-%d}")


def _credential_key_findings(key) -> list[Finding]:
    """The machine-readable certificates (JWS, ES256) are signed with the PDFs' key."""
    if signs_es256(key):
        return []
    return [Finding("signing key", WARNING, "the key is not an EC P-256 key: PDFs are signed, but the "
                    "machine-readable certificates (JSON, ES256) and the status list cannot be, and their "
                    "addresses answer 503", "flask keys rotate --key KEY.pem --cert CERT.pem with an EC "
                    "P-256 pair (openssl ecparam -name prime256v1 -genkey)")]


def check_trust_roots(app: Flask) -> list[Finding]:
    """Every file in the trust-roots folders must be a certificate: an unreadable one is a
    signing key whose certificates would stop verifying."""
    findings = []
    for check, folder in (("trust roots", trust_roots_folder()),
                          ("timestamp roots", tsa_trust_roots_folder())):
        certificates, problems = read_certificates(folder)
        if problems:
            findings.append(Finding(check, PROBLEM, "; ".join(problems),
                                    f"replace each file in {folder} by a PEM or DER certificate, "
                                    "or remove it"))
        else:
            findings.append(Finding(check, OK, f"{len(certificates)} certificate(s) in {folder}"))
    return findings


def check_timestamp_authority(app: Flask) -> list[Finding]:
    """Without a timestamp authority a signature verifies only while the signing certificate is
    valid; with one, it must answer and chain to a root kept here (or signing fails)."""
    url = app.config.get("CERTIFY_TSA_URL")
    folder = tsa_trust_roots_folder()
    if not url:
        return [Finding("timestamp authority", WARNING, "CERTIFY_TSA_URL is unset: a signature "
                        "stops verifying once its signing certificate expires",
                        "set CERTIFY_TSA_URL to an RFC 3161 timestamp service and put its root "
                        f"certificate in {folder}")]
    roots, _ = read_certificates(folder)
    if not roots:
        return [Finding("timestamp authority", PROBLEM, f"no root certificate for {url} in "
                        f"{folder}: every signature would fail",
                        f"copy the timestamp authority's root certificate (PEM) into {folder}")]
    problem = timestamp_authority_problem(url, roots)
    if problem:
        return [Finding("timestamp authority", PROBLEM, problem,
                        f"check CERTIFY_TSA_URL, and that {folder} holds the authority's root")]
    return [Finding("timestamp authority", OK, f"{url} answers with a trusted timestamp")]


def check_base_url(app: Flask) -> list[Finding]:
    """Jobs build links (e-mails, QR codes) without a request, so they need the public address."""
    base_url = app.config.get("CERTIFY_BASE_URL")
    fix = "export CERTIFY_BASE_URL=https://certify.example.gov.cn (the public address)"
    if not base_url:
        return [Finding("base URL", PROBLEM, "CERTIFY_BASE_URL is unset: links in e-mails and "
                        "certificate PDFs made by jobs have no address", fix)]
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return [Finding("base URL", PROBLEM, f"CERTIFY_BASE_URL {base_url!r} is not an http(s) "
                        "address", fix)]
    return [Finding("base URL", OK, base_url)]


def check_mail(app: Flask) -> list[Finding]:
    """Without an SMTP server, messages are only kept in the mail log."""
    server = app.config.get("MAIL_SERVER")
    if not server:
        return [Finding("mail", WARNING, "no SMTP server: e-mails are only kept in the mail log",
                        "set MAIL_SERVER, MAIL_PORT, MAIL_USERNAME and MAIL_PASSWORD")]
    return [Finding("mail", OK, f"SMTP {server}:{app.config.get('MAIL_PORT')}")]


def check_redis(app: Flask) -> list[Finding]:
    """If ``REDIS_URL`` is set, jobs and rate limits depend on it: it must answer."""
    url = app.config.get("REDIS_URL")
    if not url:
        return [Finding("redis", OK, "not used: jobs run inline, rate limits are counted in the database")]
    shown = _hide_password(url)
    error = redis_ping_error(url)
    if error:
        return [Finding("redis", PROBLEM, f"REDIS_URL {shown} does not answer: {error}",
                        "start Redis, or correct or unset REDIS_URL")]
    return [Finding("redis", OK, f"{shown} answers")]


def check_rate_limits(app: Flask) -> list[Finding]:
    """Rate limits must be counted in a store that every process shares: counted in each
    process, every gunicorn worker grants the whole limit again."""
    uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    scheme = urlsplit(uri).scheme
    if scheme.endswith("memory"):
        return [Finding("rate limits", PROBLEM, f"counted in each process ({uri}): with several "
                        "workers each grants the whole limit again (5 wrong passwords become 5 per worker)",
                        "unset RATELIMIT_STORAGE_URI (the database then keeps the counts), or set REDIS_URL")]
    where = "the database" if scheme == "database" else _hide_password(uri)
    return [Finding("rate limits", OK, f"shared by every process, in {where}")]


def check_audit_log(app: Flask) -> list[Finding]:
    """The audit key that keeps the log's hashes is there and is the log's own, and the anchor
    file is written daily and still agrees with the log."""
    from certify.audit.anchors import check_anchors
    from certify.audit.keys import AuditKeyError, key_path, load_key
    from certify.audit.models import AuditEvent

    path = key_path(app)
    try:
        keyed = db.session.execute(select(AuditEvent.key_id).where(AuditEvent.key_id.is_not(None))
                                   .order_by(AuditEvent.id.desc()).limit(1)).scalar_one_or_none()
        keyed_since = db.session.execute(select(AuditEvent.created_at).where(
            AuditEvent.key_id.is_not(None)).order_by(AuditEvent.id).limit(1)).scalar_one_or_none()
        anchors = check_anchors()
    except SQLAlchemyError:
        db.session.rollback()
        return [Finding("audit log", SKIPPED, "not checked: the database is unreachable or not migrated")]
    restore = (f"put back the audit key file at {path} from its own backup (set "
               "CERTIFY_AUDIT_KEY_FILE if it is kept elsewhere); never make a new one")
    try:
        key = load_key(app)
    except AuditKeyError as error:
        return [Finding("audit key", PROBLEM, str(error), restore)]
    findings = []
    if key is None and keyed is not None:
        findings.append(Finding("audit key", PROBLEM, f"the log is kept with audit key {keyed}, but "
                                f"{path} does not exist: no change can be recorded", restore))
    elif key is not None and keyed is not None and key.id != keyed:
        findings.append(Finding("audit key", PROBLEM, f"the log is kept with audit key {keyed}, but "
                                f"{path} holds key {key.id}: no change can be recorded", restore))
    elif key is None:
        findings.append(Finding("audit key", OK, f"{path} is made with the first event recorded"))
    elif path.stat().st_mode & 0o077:
        findings.append(Finding("audit key", WARNING, f"{path} can be read by other users",
                                f"chmod 600 {path}"))
    else:
        findings.append(Finding("audit key", OK, f"key {key.id} in {path}; keep a copy apart from "
                                "the database backups"))
    if anchors.problems or anchors.unreadable_lines:
        reasons = [problem.reason for problem in anchors.problems[:3]]
        reasons += [f"line {number} is not an anchor" for number in anchors.unreadable_lines[:3]]
        findings.append(Finding("audit anchors", PROBLEM, "; ".join(reasons),
                                "flask audit verify lists every problem; find out who changed the "
                                "audit log (or the anchor file)"))
    elif (keyed_since is not None and utcnow() - as_utc(keyed_since) > ANCHOR_AGE
          and (anchors.newest is None or _older_than(anchors.newest.at, ANCHOR_AGE))):
        when = f"the newest is from {anchors.newest.at}" if anchors.newest else "there is none"
        findings.append(Finding("audit anchors", WARNING, f"no anchor of this log written in "
                                f"{anchors.path} for {ANCHOR_AGE.days} days ({when})",
                                "run flask reminders send daily from cron (or flask audit anchor)"))
    else:
        findings.append(Finding("audit anchors", OK, f"{anchors.checked} anchor(s) in "
                                f"{anchors.path} agree with the log"))
    return findings


def check_certificates(app: Flask) -> list[Finding]:
    """No certificate waits for its PDF long after it was queued (its rendering was lost), and
    every certificate's PDF agrees with its ``certificate.rendered`` event and the stored bytes."""
    from certify.certificates.models import RenderState
    from certify.certificates.services import (
        certificate_file_problems,
        overdue_renders,
        sweep_minutes,
    )

    try:
        overdue = overdue_renders()
        checked, problems = certificate_file_problems()
    except SQLAlchemyError:
        db.session.rollback()
        return [Finding("certificate PDFs", SKIPPED, "not checked: the database is unreachable or not migrated")]
    minutes = sweep_minutes()
    pending = [waiting for waiting in overdue if waiting.state == RenderState.PENDING]
    failed = [waiting for waiting in overdue if waiting.state == RenderState.FAILED]
    findings = []
    if pending:
        findings.append(Finding("certificate PDFs", PROBLEM, f"{len(pending)} certificate(s) pending "
                                f"for more than {minutes} minutes: {_numbers(pending)}",
                                "flask certificates sweep (from cron, every 10 minutes), and check "
                                "that a worker runs when REDIS_URL is set"))
    if failed:
        findings.append(Finding("certificate PDFs", WARNING, f"{len(failed)} certificate(s) failed: "
                                f"{_numbers(failed)} ({failed[0].error})",
                                "fix the cause, then flask certificates render"))
    if not pending and not failed:
        findings.append(Finding("certificate PDFs", OK, f"none waiting longer than {minutes} minutes"))
    if problems:
        findings.append(Finding("certificate files", PROBLEM, f"{len(problems)} of {checked} "
                                "certificate(s) disagree with their recorded PDF: " + "; ".join(
                                    f"{problem.number}: {problem.reason}" for problem in problems[:3]),
                                "their downloads are refused; flask audit verify lists them all"))
    else:
        findings.append(Finding("certificate files", OK, f"{checked} certificate(s) agree with their "
                                "recorded PDF and the stored bytes"))
    return findings


def check_status_rules(app: Flask) -> list[Finding]:
    """Every application's status agrees with the rows around it (``certify.ops.invariants``)."""
    from certify.ops.invariants import broken_rules, rules

    try:
        broken = broken_rules()
    except SQLAlchemyError:
        db.session.rollback()
        return [Finding("status rules", SKIPPED, "not checked: the database is unreachable or not migrated")]
    if not broken:
        return [Finding("status rules", OK, f"every application agrees with its records ({len(rules())} rules)")]
    return [Finding("status rules", PROBLEM, "; ".join(
        f"{item.count} application(s) break the rule that {item.rule} (ids "
        f"{', '.join(map(str, item.application_ids))})"
        for item in broken), "each such application's audit history (flask audit verify, the admin "
        "audit log) shows how it got there; restore the row from a backup or ask the maintainers")]


def _numbers(waiting, shown: int = 5) -> str:
    more = f" and {len(waiting) - shown} more" if len(waiting) > shown else ""
    return ", ".join(item.number for item in waiting[:shown]) + more


def _older_than(moment: str, age: timedelta) -> bool:
    try:
        written = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return True
    return utcnow() - written > age


CHECKS = (check_secret_key, check_debug, check_database, check_storage, check_stored_files, check_pdf,
          check_audit_log, check_certificates, check_status_rules,
          check_signing_key, check_trust_roots, check_timestamp_authority, check_base_url,
          check_mail, check_redis, check_rate_limits)


def run_checks(app: Flask) -> list[Finding]:
    """Run every check on ``app`` (inside its application context)."""
    return [finding for check in CHECKS for finding in check(app)]


def render(findings: list[Finding]) -> str:
    """The findings as an aligned table, each fix on the line under its finding."""
    width = max(len(finding.check) for finding in findings)
    lines = []
    for finding in findings:
        lines.append(f"{finding.status:<8} {finding.check:<{width}}  {finding.detail}")
        if finding.fix and finding.status != OK:
            lines.append(f"{'':<8} {'':<{width}}  fix: {finding.fix}")
    tally = {status: sum(f.status == status for f in findings) for status in (PROBLEM, WARNING)}
    lines.append(f"{len(findings)} checks: {tally[PROBLEM]} problem(s), {tally[WARNING]} warning(s).")
    return "\n".join(lines)


@click.command("doctor")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@with_appcontext
def doctor_command(strict: bool) -> None:
    """Check this deployment's settings; exit 1 if anything is wrong."""
    findings = run_checks(current_app._get_current_object())
    click.echo(render(findings))
    failing = {PROBLEM, WARNING} if strict else {PROBLEM}
    if any(finding.status in failing for finding in findings):
        raise SystemExit(1)


def _setting(app: Flask, name: str) -> str | None:
    """A setting as ``create_app`` read it (``flask doctor`` runs in the application)."""
    return app.config.get(name) or None


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


def _command(*arguments: str) -> bytes:
    encoded = [argument.encode("utf-8") for argument in arguments]
    return b"*%d\r\n" % len(encoded) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in encoded)


def redis_ping_error(url: str, timeout: float = 3.0) -> str | None:
    """Why the Redis server at ``url`` does not answer PING (after AUTH if the URL has a
    password), or ``None`` if it answers. Speaks the protocol directly: no client library."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        return f"unsupported scheme {parts.scheme!r} (use redis://, rediss:// or unix://)"
    try:
        if parts.scheme == "unix":
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            connection.settimeout(timeout)
            connection.connect(parts.path)
        else:
            connection = socket.create_connection((parts.hostname or "localhost",
                                                   parts.port or 6379), timeout=timeout)
            if parts.scheme == "rediss":
                connection = ssl.create_default_context().wrap_socket(
                    connection, server_hostname=parts.hostname)
        with connection, connection.makefile("rb") as replies:
            if parts.password is not None:
                auth = ([unquote(parts.username)] if parts.username else []) + [unquote(parts.password)]
                connection.sendall(_command("AUTH", *auth))
                reply = replies.readline()
                if not reply.startswith(b"+OK"):
                    return f"AUTH refused ({reply.decode('utf-8', 'replace').strip()})"
            connection.sendall(_command("PING"))
            reply = replies.readline()
    except (OSError, ValueError) as error:
        return str(error) or type(error).__name__
    if not reply.startswith(b"+PONG"):
        return f"unexpected reply to PING: {reply.decode('utf-8', 'replace').strip()!r}"
    return None
