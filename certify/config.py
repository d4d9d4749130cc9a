"""Settings, read from environment variables, with embedded defaults for a single machine.

Every setting can also be given to ``create_app(config)`` as a mapping, which wins over the
environment (tests use this). The areas' settings are one typed ``Settings`` object, read and
checked once by ``create_app`` (``load_settings``); each is kept in ``app.config`` under its
environment variable's name, where the areas read it.
"""

import dataclasses
import enum
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
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
        # Without CERTIFY_BASE_URL (see Settings), links in e-mails are built from the request's
        # host only when that host is one of CERTIFY_ALLOWED_HOSTS (comma-separated), which
        # Flask then enforces for every request (400 for any other Host header).
        "TRUSTED_HOSTS": [host.strip() for host in env("CERTIFY_ALLOWED_HOSTS", "").split(",")
                          if host.strip()] or None,
        "PASSWORD_RESET_MAX_AGE": int(env("CERTIFY_PASSWORD_RESET_MAX_AGE", str(24 * 3600))),
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", False),
        # Signatures (see certify/certificates/signing.py): certificates of earlier signing keys
        # that still verify, and the roots a timestamp authority's certificate may chain to.
        "CERTIFY_TRUST_ROOTS": env("CERTIFY_TRUST_ROOTS", str(instance_path / "keys" / "trusted")),
        "CERTIFY_TSA_TRUST_ROOTS": env("CERTIFY_TSA_TRUST_ROOTS",
                                       str(instance_path / "keys" / "tsa-trusted")),
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


class ConfigurationError(RuntimeError):
    """The deployment's settings are unsafe or incomplete; the message says how to fix them."""


class SettingError(ConfigurationError, ValueError):
    """One setting has a value certify cannot use; the message names it and what it accepts."""


class CapUnit(enum.StrEnum):
    """What the yearly cap counts: the agency, or its legal representative (the 2024 measures:
    at most 15 evaluations a year per agency legal representative, so two agencies with one legal
    representative share one cap)."""

    LEGAL_REPRESENTATIVE = "legal_representative"
    AGENCY = "agency"


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _whole(minimum: int) -> dict:
    return {"kind": "whole", "minimum": minimum}


def _decimal(minimum: int) -> dict:
    return {"kind": "decimal", "minimum": minimum}


def _choice(choices) -> dict:
    return {"kind": "choice", "choices": tuple(str(choice) for choice in choices)}


def _flag() -> dict:
    return {"kind": "flag"}


def _text(check: Callable[[str], object] | None = None, accepts: str = "") -> dict:
    return {"kind": "text", "check": check, "accepts": accepts}


def _prefix(text: str) -> str:
    from certify.certificates.numbers import check_prefix

    return check_prefix(text)


def _due_dates(text: str) -> tuple:
    from certify.management.periods import parse_due_dates

    return parse_due_dates(text)


@dataclass(frozen=True)
class Settings:
    """Every ``CERTIFY_*`` setting of the areas, typed. A field's environment variable (and
    ``app.config`` key) is its name in capitals."""

    # Assessment. Evaluations one cap holder may take on in a calendar year: 15, per the 2024
    # measures (绿色工厂梯度培育及管理暂行办法: at most 15 a year per agency legal
    # representative; see shared reference policy-2024-2026.md) ...
    certify_agency_yearly_cap: int = field(default=15, metadata=_whole(1))
    # ... counted per legal representative (the measures' unit) or per agency.
    certify_cap_unit: str = field(default=CapUnit.LEGAL_REPRESENTATIVE.value, metadata=_choice(CapUnit))
    # Days an assessor has from assignment to submission, unless the admin sets a date.
    certify_assessment_due_days: int = field(default=30, metadata=_whole(1))
    # Two assessors disagree on an indicator when their points differ by more than this ...
    certify_score_disagreement_margin: Decimal = field(default=Decimal("1"), metadata=_decimal(0))
    # ... and on the whole when their totals differ by more than this.
    certify_total_disagreement_margin: Decimal = field(default=Decimal("5"), metadata=_decimal(0))

    # Publication: the length of the public notice, in days.
    certify_notice_days: int = field(default=15, metadata=_whole(1))

    # Certificates: the number's prefix, the years of validity, and the signing key and
    # certificate (PEM paths) with the key's passphrase; a timestamp authority (RFC 3161).
    certify_certificate_prefix: str = field(default="SC", metadata=_text(
        _prefix, "1 to 8 capital letters or digits"))
    certify_certificate_validity_years: int = field(default=3, metadata=_whole(1))
    certify_signing_key: str | None = field(default=None, metadata=_text())
    certify_signing_cert: str | None = field(default=None, metadata=_text())
    certify_signing_key_passphrase: str | None = field(default=None, metadata=_text())
    certify_tsa_url: str | None = field(default=None, metadata=_text())
    # Minutes a certificate may wait for its PDF before the sweep queues it again (and
    # ``flask doctor`` reports it): longer than the render job's own retries.
    certify_render_sweep_minutes: int = field(default=15, metadata=_whole(1))
    # Absolute address used in e-mails (reset links) and on certificates (the QR code).
    certify_base_url: str | None = field(default=None, metadata=_text())

    # Ongoing management and reminders: the declarations' due dates (month-day pairs,
    # half-yearly as the provincial practice; ``03-30`` makes it yearly) and the reminders' leads.
    certify_declaration_due_dates: str = field(default="01-15,07-15", metadata=_text(
        _due_dates, "month-day pairs such as 01-15,07-15"))
    certify_declaration_reminder_days: int = field(default=30, metadata=_whole(0))
    certify_expiry_reminder_days: int = field(default=90, metadata=_whole(0))
    certify_objection_reminder_days: int = field(default=7, metadata=_whole(0))
    certify_assessment_due_soon_days: int = field(default=7, metadata=_whole(0))
    # Provisional. shared/reference/standards.md (动态管理) names refusal to report as a ground for
    # removal from the list (Heilongjiang's implementation rules: 拒不按时填报动态管理表), and the
    # due dates 15 January and 15 July; neither it, the policy notes on the 2024 gradient-cultivation
    # measures, nor the public copies of those measures and of provincial rules consulted give a
    # number of declarations missed (searched for 动态管理, 未按时, 拒不, 连续). Defaults: a warning
    # after the first period missed, a proposal for review after two in a row (a year without any
    # declaration at the half-yearly cadence, as one yearly form missed).
    certify_missed_warning_after: int = field(default=1, metadata=_whole(1))
    certify_missed_review_after: int = field(default=2, metadata=_whole(1))

    # Accounts. A self-registration not confirmed by its mailed link within this many hours is
    # removed, freeing its e-mail address and credit code.
    certify_registration_confirm_hours: int = field(default=48, metadata=_whole(1))
    # Password-reset mails one account receives in an hour at most; more requests get the same
    # answer and no mail.
    certify_reset_mails_per_hour: int = field(default=3, metadata=_whole(1))
    certify_require_totp_for_staff: bool = field(default=False, metadata=_flag())
    certify_session_idle_minutes: int = field(default=60, metadata=_whole(1))
    certify_session_absolute_hours: int = field(default=12, metadata=_whole(1))

    # The audit log's key and anchor files (default: in the instance folder).
    certify_audit_key_file: str | None = field(default=None, metadata=_text())
    certify_audit_anchor_file: str | None = field(default=None, metadata=_text())

    # Jobs (with REDIS_URL): the queue's name, so that deployments sharing one Redis keep
    # apart, and how many jobs a worker process runs before it is replaced.
    certify_queue: str = field(default="certify", metadata=_text())
    certify_worker_jobs_per_process: int = field(default=1000, metadata=_whole(1))

    # Where rate limits are counted (default: Redis with REDIS_URL, else the database).
    ratelimit_storage_uri: str | None = field(default=None, metadata=_text())

    def __post_init__(self) -> None:
        if self.certify_missed_review_after < self.certify_missed_warning_after:
            raise SettingError("CERTIFY_MISSED_WARNING_AFTER must be at least 1 and "
                               "CERTIFY_MISSED_REVIEW_AFTER at least as large.")

    def as_config(self) -> dict:
        """The settings as ``app.config`` keys (the environment variables' names)."""
        return {item.name.upper(): getattr(self, item.name) for item in dataclasses.fields(self)}


def _refuse(name: str, accepts: str, raw) -> SettingError:
    return SettingError(f"{name} must be {accepts}, not {raw!r}.")


def _parse(name: str, spec: Mapping, raw, default):
    """``raw`` (from the environment, a string, or from ``create_app``'s config, any type) as the
    setting's type; ``SettingError`` naming the variable and what it accepts."""
    kind = spec["kind"]
    if isinstance(raw, str):
        raw = raw.strip()
    if raw is None or raw == "":
        return default
    if kind == "whole":
        accepts = f"a whole number of at least {spec['minimum']}"
        try:
            value = raw if isinstance(raw, int) and not isinstance(raw, bool) else int(str(raw))
        except ValueError:
            raise _refuse(name, accepts, raw) from None
        if value < spec["minimum"]:
            raise _refuse(name, accepts, raw)
        return value
    if kind == "decimal":
        accepts = f"a number of at least {spec['minimum']}"
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise _refuse(name, accepts, raw) from None
        if not value.is_finite() or value < spec["minimum"]:
            raise _refuse(name, accepts, raw)
        return value
    if kind == "choice":
        if str(raw) not in spec["choices"]:
            raise SettingError(f"{name} must be one of {', '.join(spec['choices'])}, not {raw!r}.")
        return str(raw)
    if kind == "flag":
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in _TRUE | _FALSE:
            return str(raw).lower() in _TRUE
        raise _refuse(name, "one of 1, true, yes, on, 0, false, no, off", raw)
    value = str(raw)
    if spec["check"] is not None:
        try:
            accepted = bool(spec["check"](value))
        except ValueError:
            accepted = False
        if not accepted:
            raise _refuse(name, spec["accepts"], raw)
    return value


def load_settings(config: Mapping, environ: Mapping[str, str] | None = None) -> Settings:
    """The settings: each from ``config`` (``create_app``'s own, which wins) when it holds the
    variable's name, else from the environment, else its default. Raises ``SettingError``
    naming the first bad variable."""
    environ = os.environ if environ is None else environ
    values = {}
    for item in dataclasses.fields(Settings):
        name = item.name.upper()
        raw = config[name] if name in config else environ.get(name)
        values[item.name] = _parse(name, item.metadata, raw, item.default)
    return Settings(**values)
