"""Settings, read from environment variables, with embedded defaults for a single machine.

Every setting can also be given to ``create_app(config)`` as a mapping, which wins over the
environment (tests use this). The settings are one typed ``Settings`` object, read and checked
once by ``create_app`` (``load_settings``); each is kept in ``app.config`` under its environment
variable's name (or the key Flask and the areas know it by), where the areas read it. Only the
secret key, the database and Flask's debug switch are read apart (``flask_settings``).
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


def engine_options(url: str) -> dict:
    """SQLAlchemy's engine options for the database at ``url``: a connection the pool kept may
    have been closed by a database server meanwhile, so it is tested before use; a SQLite file
    has no server, and its connections are not."""
    return {"pool_pre_ping": not url.startswith("sqlite")}


def _env_bool(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _read_secret_key(instance_path: Path, environ: Mapping[str, str]) -> str | None:
    """The secret key from ``SECRET_KEY`` (as it is: a key is never trimmed), else from
    ``instance/secret_key`` (made by ``make run``)."""
    if "SECRET_KEY" in environ:
        return environ["SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if key_file.is_file():
        return key_file.read_text(encoding="utf-8").strip()
    return None


def flask_settings(instance_path: Path, environ: Mapping[str, str] | None = None) -> dict:
    """The settings that are not ``Settings``' own: the secret key, the database and Flask's
    debug switch (each with a default, or a fallback file, in the instance folder)."""
    environ = os.environ if environ is None else environ
    return {
        "SECRET_KEY": _read_secret_key(instance_path, environ),
        "SQLALCHEMY_DATABASE_URI": database_url(
            environ.get("DATABASE_URL", f"sqlite:///{instance_path / 'certify.sqlite3'}")
        ),
        "DEBUG": _env_bool(environ, "FLASK_DEBUG"),
    }


def from_environment(instance_path: Path, environ: Mapping[str, str] | None = None) -> dict:
    """``app.config`` as the environment alone sets it (``create_app`` with no config of its own)."""
    return (flask_settings(instance_path, environ)
            | load_settings({}, environ, instance_path=instance_path).as_config())


# Fixed settings that are not meant to vary by deployment.
DEFAULTS = {
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


# Each kind of setting takes, besides what it accepts: ``key``, its ``app.config`` key where that
# is not the variable's name, and ``in_instance``, a default path inside the instance folder.

def _whole(minimum: int, **options) -> dict:
    return {"kind": "whole", "minimum": minimum, **options}


def _decimal(minimum: int, *, above: bool = False, **options) -> dict:
    """A decimal number of at least ``minimum`` (greater than it, with ``above``)."""
    return {"kind": "decimal", "minimum": minimum, "above": above, **options}


def _choice(choices, **options) -> dict:
    return {"kind": "choice", "choices": tuple(str(choice) for choice in choices), **options}


def _flag(**options) -> dict:
    return {"kind": "flag", **options}


def _text(check: Callable[[str], object] | None = None, accepts: str = "", **options) -> dict:
    return {"kind": "text", "check": check, "accepts": accepts, **options}


def _names(**options) -> dict:
    """Comma-separated names, kept as a tuple (a list given to ``create_app`` is taken as it is)."""
    return {"kind": "names", **options}


def _json_object(example: str, **options) -> dict:
    return {"kind": "json_object", "example": example, **options}


def _prefix(text: str) -> str:
    from certify.certificates.numbers import check_prefix

    return check_prefix(text)


def _storage_url(text: str) -> tuple:
    from certify.storage import parse_storage_url

    return parse_storage_url(text)


def _rate_limit(text: str) -> str:
    from certify.ratelimit import check_rate_limit

    return check_rate_limit(text)


def _due_dates(text: str) -> tuple:
    from certify.management.periods import parse_due_dates

    return parse_due_dates(text)


def _cohort_fields(text: str) -> tuple:
    from certify.grades.ranking import parse_cohort_fields

    return parse_cohort_fields(text)


@dataclass(frozen=True)
class Settings:
    """Every setting of the areas, typed. A field's environment variable is its name in
    capitals, and so is its ``app.config`` key unless its ``key`` names another."""

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
    # Zero-carbon construction pilots report their progress yearly "每年12月底前" (Sichuan's pilot
    # list, docs/sources/tiers-and-zero-carbon.md §6, provisional): month-day pairs as above.
    certify_pilot_report_due_dates: str = field(default="12-31", metadata=_text(
        _due_dates, "month-day pairs such as 12-31"))
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

    # Cohort grades (企业绿码), provisional: docs/sources/tiers-and-zero-carbon.md §1.4 gives the
    # shares A+ 5 % and A 35 % (B the rest) [V], but neither the formula nor whether the cohort is
    # the industry (certify's composite: certify/grades/ranking.py). The cohort's fields
    # (industry, industry_division, province, city, all), the smallest cohort graded and the kinds
    # graded are the department's choice, not published.
    certify_grade_cohort: str = field(default="industry,province", metadata=_text(
        _cohort_fields, "fields among industry, industry_division, province, city, all, such as industry,province"))
    certify_grade_minimum_cohort: int = field(default=20, metadata=_whole(1))
    certify_grade_top_share: Decimal = field(default=Decimal("0.05"), metadata=_decimal(0))
    certify_grade_second_share: Decimal = field(default=Decimal("0.35"), metadata=_decimal(0))
    certify_grade_kinds: tuple[str, ...] = field(default=("factory",), metadata=_names())
    # Removal of the bottom 5 % three years in a row [U] (§1.5: "得分连续三年处于后5%的移出名单",
    # source document disputed), applied to parks by default.
    certify_removal_bottom_share: Decimal = field(default=Decimal("0.05"), metadata=_decimal(0))
    certify_removal_consecutive_years: int = field(default=3, metadata=_whole(1))
    certify_removal_kinds: tuple[str, ...] = field(default=("park",), metadata=_names())

    # Plausibility checks on reported figures (certify/plausibility). No published text sets these
    # numbers: they are this system's defaults, provisional, and a province sets its own. The
    # relative difference allowed between a reported value and the value its figures give (beyond
    # the rounding of the reported value's last decimal place, which is always allowed) ...
    certify_plausibility_tolerance: Decimal = field(default=Decimal("0.005"), metadata=_decimal(0, above=True))
    # ... a figure more than this many times, or less than one over this many times, its
    # previous-period value is a jump ...
    certify_plausibility_jump_factor: Decimal = field(default=Decimal("2"), metadata=_decimal(1, above=True))
    # ... and one between factor / band and factor × band times (or the inverse) its previous value
    # or the national limit is a unit slip (kgce for tce, t for kt) rather than a jump.
    certify_plausibility_slip_factor: Decimal = field(default=Decimal("1000"), metadata=_decimal(0, above=True))
    certify_plausibility_slip_band: Decimal = field(default=Decimal("3"), metadata=_decimal(1, above=True))

    # Tiers (certify/tiers, docs/tiers.md). The kinds whose applications the city bureau
    # pre-reviews and recommends before the province assigns assessors (Sichuan's list notices:
    # 经申报单位自评价、市（州）经济和信息化局确认推荐、专家评审…; docs/sources/tiers-and-zero-carbon.md
    # §2); empty, the default, means no city step. Sichuan: factory,park,product,supply_chain.
    certify_city_review_kinds: tuple[str, ...] = field(default=(), metadata=_names())
    # The national recommendation package's summary columns, in order. Provisional: the national
    # platform's column order was not found (sources §3), so the default is built from the fields
    # certify keeps; see certify/tiers/national.py for the keys (序号 always comes first).
    certify_national_summary_columns: tuple[str, ...] = field(default=(
        "organisation", "credit_code", "city", "industry", "kind", "provincial_batch",
        "certificate_number", "valid_until", "score", "key_indicators", "opinion"), metadata=_names())
    # The recommendation guard: a candidate's key indicators against the average of the other
    # listed units of its industry class in its region ("province": all listed units; "city"),
    # compared only with at least this many of them. 390号's rule (原则上不低于本地区已有国家绿色
    # 工厂、绿色工业园区的平均水平) is [U], sources §3: the guard warns, it never refuses.
    certify_guard_region: str = field(default="province", metadata=_choice(("province", "city")))
    certify_guard_min_peers: int = field(default=3, metadata=_whole(1))

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
    redis_url: str | None = field(default=None, metadata=_text())
    # The public API's rate limits: an anonymous caller's (per address), and a key's unless an
    # administrator gave the key its own (Flask-Limiter's notation, several joined by ";").
    certify_api_rate_limit: str = field(default="60 per minute;1000 per hour", metadata=_text(
        _rate_limit, "rate limits such as 60 per minute;1000 per hour"))
    certify_api_key_rate_limit: str = field(default="600 per minute", metadata=_text(
        _rate_limit, "rate limits such as 600 per minute"))

    # Files: evidence and PDFs (outside any web root), and the rule files.
    certify_storage_dir: str | None = field(default=None, metadata=_text(in_instance="storage"))
    # ... or, for several hosts, an S3-compatible bucket (and a key prefix) instead of the folder;
    # its endpoint, region and credentials are boto3's own AWS_* variables (certify/storage/s3.py).
    certify_storage_url: str | None = field(default=None, metadata=_text(
        _storage_url, "an address such as s3://bucket/prefix"))
    certify_criteria_dir: str = field(default=str(PROJECT_ROOT / "criteria"), metadata=_text(key="CRITERIA_DIR"))
    # The Chinese PDF fonts, prepared once from the system's (certify/pdf/fonts.py).
    certify_font_dir: str | None = field(default=None, metadata=_text(in_instance="fonts"))
    # Provinces set their own pass thresholds: {"id@version" or "id": threshold}.
    certify_criteria_thresholds: dict = field(default_factory=dict, metadata=_json_object(
        '{"factory-gbt-36132-2025@1.0": "70"}', key="CRITERIA_THRESHOLDS"))
    # Each uploaded file; a larger one is refused beside its field, the rest of the form kept.
    certify_max_upload_mb: int = field(default=20, metadata=_whole(1))
    # A whole request: a section's page carries a file input for each of its items (never less
    # than the largest file and a megabyte for the rest of its form: see ``as_config``).
    certify_max_request_mb: int = field(default=120, metadata=_whole(1))

    # Mail: SMTP when MAIL_SERVER is set; otherwise messages are kept in the mail log.
    mail_server: str | None = field(default=None, metadata=_text())
    mail_port: int = field(default=587, metadata=_whole(1))
    mail_username: str | None = field(default=None, metadata=_text())
    mail_password: str | None = field(default=None, repr=False, metadata=_text())
    mail_use_tls: bool = field(default=True, metadata=_flag())
    mail_use_ssl: bool = field(default=False, metadata=_flag())
    mail_default_sender: str = field(default="certify@localhost", metadata=_text())

    # Without CERTIFY_BASE_URL, links in e-mails are built from the request's host only when that
    # host is one of CERTIFY_ALLOWED_HOSTS (comma-separated), which Flask then enforces for every
    # request as TRUSTED_HOSTS (400 for any other Host header).
    certify_allowed_hosts: tuple[str, ...] = field(default=(), metadata=_names(key="TRUSTED_HOSTS"))
    # Seconds a password link stays valid.
    certify_password_reset_max_age: int = field(default=24 * 3600, metadata=_whole(
        1, key="PASSWORD_RESET_MAX_AGE"))
    session_cookie_secure: bool = field(default=False, metadata=_flag())

    # Signatures (see certify/certificates/signing.py): certificates of earlier signing keys that
    # still verify, and the roots a timestamp authority's certificate may chain to.
    certify_trust_roots: str | None = field(default=None, metadata=_text(in_instance="keys/trusted"))
    certify_tsa_trust_roots: str | None = field(default=None, metadata=_text(in_instance="keys/tsa-trusted"))

    def __post_init__(self) -> None:
        if self.certify_missed_review_after < self.certify_missed_warning_after:
            raise SettingError("CERTIFY_MISSED_WARNING_AFTER must be at least 1 and "
                               "CERTIFY_MISSED_REVIEW_AFTER at least as large.")
        if self.certify_grade_top_share + self.certify_grade_second_share > 1:
            raise SettingError("CERTIFY_GRADE_TOP_SHARE and CERTIFY_GRADE_SECOND_SHARE must add up "
                               "to at most 1.")
        if self.certify_removal_bottom_share > 1:
            raise SettingError("CERTIFY_REMOVAL_BOTTOM_SHARE must be at most 1.")
        # A ratio must not read as both a unit slip and a jump.
        if self.certify_plausibility_slip_factor / self.certify_plausibility_slip_band \
                <= self.certify_plausibility_jump_factor:
            raise SettingError("CERTIFY_PLAUSIBILITY_SLIP_FACTOR divided by CERTIFY_PLAUSIBILITY_SLIP_BAND must be "
                               "greater than CERTIFY_PLAUSIBILITY_JUMP_FACTOR.")

    def as_config(self) -> dict:
        """The settings as ``app.config`` keys (the environment variables' names, unless a
        setting names another key), with the sizes Flask and the uploads read in bytes."""
        config = {_config_key(item): getattr(self, item.name) for item in dataclasses.fields(self)}
        config["TRUSTED_HOSTS"] = list(self.certify_allowed_hosts) or None
        config["CERTIFY_MAX_UPLOAD_BYTES"] = self.certify_max_upload_mb * _MEGABYTE
        config["MAX_CONTENT_LENGTH"] = max(self.certify_max_request_mb, self.certify_max_upload_mb + 1) * _MEGABYTE
        return config


_MEGABYTE = 1024 * 1024


def _config_key(item: dataclasses.Field) -> str:
    return item.metadata.get("key", item.name.upper())


# Every name under which ``create_app``'s config gives a setting: read by ``load_settings``.
SETTING_KEYS = frozenset({item.name.upper() for item in dataclasses.fields(Settings)}
                         | {_config_key(item) for item in dataclasses.fields(Settings)})


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
        above = spec["above"]
        accepts = f"a number {'greater than' if above else 'of at least'} {spec['minimum']}"
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise _refuse(name, accepts, raw) from None
        if not value.is_finite() or value < spec["minimum"] or (above and value == spec["minimum"]):
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
    if kind == "names":
        names = raw.split(",") if isinstance(raw, str) else raw
        return tuple(name.strip() for name in names if name.strip())
    if kind == "json_object":
        return _json_object_value(name, spec, raw)
    value = str(raw)
    if spec["check"] is not None:
        try:
            accepted = bool(spec["check"](value))
        except ValueError:
            accepted = False
        if not accepted:
            raise _refuse(name, spec["accepts"], raw)
    return value


def _json_object_value(name: str, spec: Mapping, raw) -> dict:
    """A JSON object (or, from ``create_app``'s config, a mapping) that names each key once."""
    if isinstance(raw, Mapping):
        return dict(raw)

    def unique(pairs):
        keys = [key for key, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("a key given twice")
        return dict(pairs)

    accepts = f"a JSON object that names each key once, such as {spec['example']}"
    try:
        value = json.loads(str(raw), object_pairs_hook=unique)
    except ValueError:
        raise _refuse(name, accepts, raw) from None
    if not isinstance(value, dict):
        raise _refuse(name, accepts, raw)
    return value


def _default(item: dataclasses.Field, instance_path: Path | None):
    if instance_path is not None and "in_instance" in item.metadata:
        return str(instance_path / item.metadata["in_instance"])
    if item.default_factory is not dataclasses.MISSING:
        return item.default_factory()
    return item.default


def load_settings(config: Mapping, environ: Mapping[str, str] | None = None, *,
                  instance_path: Path | None = None) -> Settings:
    """The settings: each from ``config`` (``create_app``'s own, which wins) when it holds the
    setting's ``app.config`` key or its variable's name, else from the environment, else its
    default (a path in ``instance_path``, for the files kept there). Raises ``SettingError``
    naming the first bad variable."""
    environ = os.environ if environ is None else environ
    values = {}
    for item in dataclasses.fields(Settings):
        name, key = item.name.upper(), _config_key(item)
        raw = config[key] if key in config else config[name] if name in config else environ.get(name)
        values[item.name] = _parse(name, item.metadata, raw, _default(item, instance_path))
    return Settings(**values)
