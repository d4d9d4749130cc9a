"""Settings, read from environment variables, with embedded defaults for a single machine.

Every setting can also be given to ``create_app(config)`` as a mapping, which wins over the
environment (tests use this).
"""

import json
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Placeholder values that must never protect a production deployment.
DEVELOPMENT_SECRET_KEYS = frozenset({"", "dev", "development", "changeme", "secret", "certify-dev"})


def database_url(url: str) -> str:
    """Return ``url`` with the psycopg 3 driver named for plain PostgreSQL URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _read_secret_key(instance_path: Path) -> str | None:
    """The secret key from ``SECRET_KEY``, else from ``instance/secret_key`` (made by ``make run``)."""
    if "SECRET_KEY" in os.environ:
        return os.environ["SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if key_file.is_file():
        return key_file.read_text(encoding="utf-8").strip()
    return None


def _criteria_thresholds() -> dict:
    """``CERTIFY_CRITERIA_THRESHOLDS``: a JSON object of ``id@version`` (or ``id``) -> threshold."""
    text = os.environ.get("CERTIFY_CRITERIA_THRESHOLDS", "").strip()
    if not text:
        return {}

    def unique(pairs):
        keys = [key for key, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("CERTIFY_CRITERIA_THRESHOLDS names a rule set twice")
        return dict(pairs)

    value = json.loads(text, object_pairs_hook=unique)
    if not isinstance(value, dict):
        raise ValueError('CERTIFY_CRITERIA_THRESHOLDS must be a JSON object such as {"factory-gbt-36132-2025@1.0": "70"}')
    return value


def from_environment(instance_path: Path) -> dict:
    """Build the settings mapping from the environment."""
    env = os.environ.get
    return {
        "SECRET_KEY": _read_secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url(
            env("DATABASE_URL", f"sqlite:///{instance_path / 'certify.sqlite3'}")
        ),
        "REDIS_URL": env("REDIS_URL") or None,
        "CERTIFY_STORAGE_DIR": env("CERTIFY_STORAGE_DIR", str(instance_path / "storage")),
        "CRITERIA_DIR": env("CERTIFY_CRITERIA_DIR", str(PROJECT_ROOT / "criteria")),
        # Provinces set their own pass thresholds: {"id@version" or "id": threshold}.
        "CRITERIA_THRESHOLDS": _criteria_thresholds(),
        # Each uploaded file; a larger one is refused beside its field, the rest of the form kept.
        "CERTIFY_MAX_UPLOAD_BYTES": int(env("CERTIFY_MAX_UPLOAD_MB", "20")) * 1024 * 1024,
        # A whole request: a section's page carries a file input for each of its items. Never
        # less than the largest file and a megabyte for the rest of its form.
        "MAX_CONTENT_LENGTH": max(int(env("CERTIFY_MAX_REQUEST_MB", "120")),
                                  int(env("CERTIFY_MAX_UPLOAD_MB", "20")) + 1) * 1024 * 1024,
        # Mail: SMTP when MAIL_SERVER is set; otherwise messages are kept in the mail log.
        "MAIL_SERVER": env("MAIL_SERVER") or None,
        "MAIL_PORT": int(env("MAIL_PORT", "587")),
        "MAIL_USERNAME": env("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS", True),
        "MAIL_USE_SSL": _env_bool("MAIL_USE_SSL", False),
        "MAIL_DEFAULT_SENDER": env("MAIL_DEFAULT_SENDER", "certify@localhost"),
        # Absolute address used in e-mails (reset links). Without it, links are built from the
        # request's host only when that host is one of CERTIFY_ALLOWED_HOSTS (comma-separated),
        # which Flask then enforces for every request (400 for any other Host header).
        "CERTIFY_BASE_URL": env("CERTIFY_BASE_URL") or None,
        "TRUSTED_HOSTS": [host.strip() for host in env("CERTIFY_ALLOWED_HOSTS", "").split(",")
                          if host.strip()] or None,
        "PASSWORD_RESET_MAX_AGE": int(env("CERTIFY_PASSWORD_RESET_MAX_AGE", str(24 * 3600))),
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", False),
        "CERTIFY_NOTICE_DAYS": int(env("CERTIFY_NOTICE_DAYS", "15")),
        "CERTIFY_REQUIRE_TOTP_FOR_STAFF": _env_bool("CERTIFY_REQUIRE_TOTP_FOR_STAFF", False),
        "CERTIFY_SESSION_IDLE_MINUTES": int(env("CERTIFY_SESSION_IDLE_MINUTES", "60")),
        "CERTIFY_SESSION_ABSOLUTE_HOURS": int(env("CERTIFY_SESSION_ABSOLUTE_HOURS", "12")),
        # Signatures (see certify/certificates/signing.py): certificates of earlier signing keys
        # that still verify, an RFC 3161 timestamp authority, and the roots its certificate may
        # chain to.
        "CERTIFY_TRUST_ROOTS": env("CERTIFY_TRUST_ROOTS", str(instance_path / "keys" / "trusted")),
        "CERTIFY_TSA_URL": env("CERTIFY_TSA_URL") or None,
        "CERTIFY_TSA_TRUST_ROOTS": env("CERTIFY_TSA_TRUST_ROOTS",
                                       str(instance_path / "keys" / "tsa-trusted")),
        # Jobs (with REDIS_URL): the queue's name, so that deployments sharing one Redis keep
        # apart, and how many jobs a worker process runs before it is replaced.
        "CERTIFY_QUEUE": env("CERTIFY_QUEUE") or "certify",
        "CERTIFY_WORKER_JOBS_PER_PROCESS": int(env("CERTIFY_WORKER_JOBS_PER_PROCESS", "1000")),
        "DEBUG": _env_bool("FLASK_DEBUG", False),
    }


# Fixed settings that are not meant to vary by deployment.
DEFAULTS = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "BABEL_DEFAULT_LOCALE": "zh",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LANGUAGES": ("zh", "en"),
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "PAGE_SIZE": 50,
}
