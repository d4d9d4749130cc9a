"""Accounts: registration, login, passwords, invitations and staff accounts.

Service functions flush and leave the commit to their caller (one transaction per use case);
every change writes an audit event.
"""

import hmac
import time
from functools import cache
from importlib import resources

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import null, or_, select, update

from certify.audit.services import record_event
from certify.auth.models import Role, User, new_session_token
from certify.core.urls import absolute_url
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.mail.services import send_mail
from certify.organisations.models import APPLICANT_KINDS, Organisation, OrganisationKind
from certify.organisations.services import create_organisation
from certify.ratelimit import take
from certify.timeutil import utcnow

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when an e-mail is unknown, so that a failed login takes the same time.
_DUMMY_HASH = _hasher.hash("certify: no such account")

# Which organisation kinds each role belongs to.
ROLE_ORGANISATION_KINDS = {
    Role.APPLICANT: APPLICANT_KINDS,
    Role.ASSESSOR: (OrganisationKind.AGENCY,),
    Role.ADMIN: (OrganisationKind.AUTHORITY,),
    Role.CITY: (OrganisationKind.AUTHORITY,),  # a city bureau (``certify.tiers.bureaus``)
}


def normalise_email(raw: str) -> str:
    """The canonical (lower-case) form of an e-mail address, or ``ServiceError``."""
    try:
        return validate_email((raw or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ServiceError(_l("Enter a valid e-mail address."), field="email") from exc


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("certify.auth").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password_rules(password: str, *, email: str | None = None) -> None:
    """At least 8 characters (long passphrases welcome), not a well-known password, not the
    e-mail address."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            _l("A password needs at least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
            field="password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ServiceError(
            _l("A password can have at most %(count)d characters.", count=MAX_PASSWORD_LENGTH),
            field="password",
        )
    lowered = password.lower()
    if lowered in common_passwords() or (email and lowered in {email.lower(), email.split("@")[0].lower()}):
        raise ServiceError(_l("This password is too easy to guess. Choose another one, for example "
                              "a few unrelated words."), field="password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(user: User | None, password: str) -> bool:
    """Check ``password``; costs the same whether or not the account exists."""
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password or "")
    except (VerificationError, InvalidHashError):
        return False
    return user is not None and user.password_hash is not None


def find_user_by_email(raw_email: str) -> User | None:
    try:
        email = normalise_email(raw_email)
    except ServiceError:
        return None
    return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def _require_new_email(email: str) -> None:
    if db.session.execute(select(User.id).where(User.email == email)).first() is not None:
        raise ServiceError(
            _l("An account with this e-mail address already exists. Log in, or reset the password."),
            field="email",
        )


def clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ServiceError(_l("Enter the person's name."), field="name")
    return name


def applicant_kind(value) -> OrganisationKind:
    """The organisation kind of a self-registration, or ``ServiceError``."""
    kind = OrganisationKind(value)
    if kind not in APPLICANT_KINDS:
        raise ServiceError(_l("Only enterprises and park management committees can register."),
                           field="kind")
    return kind


def new_user(*, email: str, name: str, role: Role, organisation: Organisation,
             password: str | None = None, language: str | None = None,
             confirmed: bool = True) -> User:
    """A new account (flushed, no audit event: the caller records what happened). Without
    ``confirmed`` it waits for its address to be proven before it may log in."""
    email = normalise_email(email)
    name = clean_name(name)
    if organisation.kind not in ROLE_ORGANISATION_KINDS[role]:
        raise ServiceError(_l("This organisation cannot hold accounts of that role."),
                           field="organisation")
    _require_new_email(email)
    if password is not None:
        check_password_rules(password, email=email)
    user = user_record(email=email, name=name, role=role, organisation=organisation,
                       password_hash=hash_password(password) if password is not None else None,
                       language=language, confirmed=confirmed)
    db.session.add(user)
    db.session.flush()
    return user


def user_record(*, email: str, name: str, role: Role, organisation: Organisation,
                password_hash: str | None = None, language: str | None = None,
                confirmed: bool = True) -> User:
    """A new account of details already checked (as ``new_user`` checks them: an address in
    canonical form that no account has, a clean name, an organisation that holds the role). Not
    added: an import adds many and writes them together."""
    return User(
        email=email, name=name, role=role, organisation=organisation, password_hash=password_hash,
        # null(): the column's default (confirmed now) must not fill in a deliberate blank.
        preferred_language=language, email_confirmed_at=utcnow() if confirmed else null(),
    )


def register_applicant(*, organisation: dict, email: str, name: str, password: str,
                       language: str | None = None) -> User:
    """A new applicant organisation and its first user, able to log in at once: for the
    demonstration data. People registering themselves go through
    ``registration.request_registration``, which proves the address first."""
    kind = applicant_kind(organisation["kind"])
    email = normalise_email(email)
    _require_new_email(email)
    check_password_rules(password, email=email)
    new_org = create_organisation(actor=None, **{**organisation, "kind": kind})
    user = new_user(email=email, name=name, role=Role.APPLICANT, organisation=new_org,
                    password=password, language=language)
    record_event("user.registered", actor=user, obj=user,
                 details={"email": user.email, "organisation_id": new_org.id})
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or ``None`` (never saying which part was wrong).
    A registration not yet confirmed gets ``ServiceError`` saying so: only someone who knows
    its password learns that it exists."""
    user = find_user_by_email(email)
    if not password_matches(user, password) or not user.is_active or not user.organisation.is_active:
        record_event("user.login_failed", details={"email": (email or "")[:254]})
        return None
    if not user.is_confirmed:
        record_event("user.login_failed", details={"email": user.email, "unconfirmed": True})
        raise ServiceError(_l("Finish the registration first: follow the link in the e-mail sent to "
                              "this address. If it has expired, register again."))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def record_login(user: User) -> None:
    user.last_login_at = utcnow()
    record_event("user.logged_in", actor=user, obj=user)


def logout(user: User) -> None:
    user.session_token = new_session_token()
    record_event("user.logged_out", actor=user, obj=user)


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not password_matches(user, current_password):
        raise ServiceError(_l("The current password is not correct."), field="current_password")
    check_password_rules(new_password, email=user.email)
    user.password_hash = hash_password(new_password)
    user.session_token = new_session_token()
    record_event("user.password_changed", actor=user, obj=user)


# Password links (reset and invitation) are signed, expire, and stop working once used: they
# carry a fingerprint of the password hash, which changes when a password is set.
def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="certify.password-link")


def _fingerprint(user: User) -> str:
    return (user.password_hash or "unset")[-16:]


def password_token(user: User) -> str:
    return _serializer().dumps({"user": user.id, "fp": _fingerprint(user)})


def user_from_password_token(token: str) -> User:
    """The user a password link was made for, or ``ServiceError`` if it is invalid or used."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired as exc:
        raise ServiceError(_l("This link has expired. Ask for a new one.")) from exc
    except BadSignature as exc:
        raise ServiceError(_l("This link is not valid.")) from exc
    user = db.session.get(User, data.get("user"))
    if user is None or not user.is_active or data.get("fp") != _fingerprint(user):
        raise ServiceError(_l("This link has already been used or is no longer valid."))
    return user


def password_link(user: User) -> str:
    return absolute_url("auth.set_password", token=password_token(user))


def request_password_reset(email: str) -> None:
    """Mail a reset link if the account exists, at most ``CERTIFY_RESET_MAILS_PER_HOUR`` an hour
    to one account; the caller says the same thing whatever happened."""
    # Whether the site may build a link at all, asked before the account is looked up, so that the
    # answer is the same for an unknown address.
    absolute_url("auth.forgot_password")
    user = find_user_by_email(email)
    if user is None or not user.is_active or not user.is_confirmed:
        record_event("user.password_reset_unknown", details={"email": (email or "")[:254]})
        return
    # Counted before anything is written: the shared counter may live in this same database.
    if not take(f"{current_app.config['CERTIFY_RESET_MAILS_PER_HOUR']} per hour", "reset-mail", str(user.id)):
        record_event("user.password_reset_throttled", obj=user)
        return
    link = password_link(user)
    send_mail(user.email, "password_reset", language=user.preferred_language,
              user=user, link=link, secret=link)
    record_event("user.password_reset_requested", actor=user, obj=user)


def set_password_from_link(user: User, new_password: str) -> None:
    check_password_rules(new_password, email=user.email)
    action = "user.password_reset" if user.password_hash else "user.invitation_accepted"
    user.password_hash = hash_password(new_password)
    user.session_token = new_session_token()
    record_event(action, actor=user, obj=user)


def invite_colleague(inviter: User, *, email: str, name: str) -> User:
    """An applicant adds a colleague to its own organisation; the colleague sets a password
    through the link sent by e-mail."""
    if inviter.role != Role.APPLICANT:
        raise PermissionDenied(_l("Only applicant users can invite colleagues."))
    user = new_user(email=email, name=name, role=Role.APPLICANT,
                    organisation=inviter.organisation, language=inviter.preferred_language)
    link = password_link(user)
    send_mail(user.email, "invitation", language=user.preferred_language,
              user=user, inviter=inviter, link=link, secret=link)
    record_event("user.invited", actor=inviter, obj=user, details={"email": user.email})
    return user


def create_staff_user(admin: User | None, *, email: str, name: str, role: Role,
                      organisation: Organisation, password: str | None = None) -> User:
    """An admin (or the command line, with ``admin`` None) creates an assessor, admin or city
    bureau account. Without a password, the new user receives a link to set one."""
    if admin is not None and admin.role != Role.ADMIN:
        raise PermissionDenied(_l("Only administrators can create staff accounts."))
    if role not in (Role.ASSESSOR, Role.ADMIN, Role.CITY):
        raise ServiceError(_l("Staff accounts are assessors, administrators or city bureau staff."),
                           field="role")
    if role == Role.CITY and organisation.id == authority_organisation().id:
        raise ServiceError(_l("A city bureau account belongs to a city or prefecture bureau, not to the "
                              "department."), field="organisation")
    user = new_user(email=email, name=name, role=role, organisation=organisation,
                    password=password)
    if password is None:
        link = password_link(user)
        send_mail(user.email, "invitation", user=user, inviter=admin, link=link, secret=link)
    record_event("user.created", actor=admin, obj=user,
                 details={"email": user.email, "role": role.value})
    return user


def set_user_active(admin: User, user: User, active: bool) -> None:
    if admin.role != Role.ADMIN:
        raise PermissionDenied(_l("Only administrators can do this."))
    if user.id == admin.id and not active:
        raise ServiceError(_l("You cannot deactivate your own account."))
    if user.is_active == active:
        return
    user.is_active = active
    user.session_token = new_session_token()
    record_event("user.activated" if active else "user.deactivated", actor=admin, obj=user)


def set_preferred_language(user: User, language: str) -> None:
    if language not in current_app.config["LANGUAGES"] or user.preferred_language == language:
        return
    user.preferred_language = language
    record_event("user.language_changed", actor=user, obj=user, details={"language": language})


def authority_organisation() -> Organisation:
    """The authority that runs the programme (created on first use)."""
    authority = db.session.execute(
        select(Organisation).where(Organisation.kind == OrganisationKind.AUTHORITY)
        .order_by(Organisation.id).limit(1)
    ).scalar_one_or_none()
    if authority is None:
        authority = create_organisation(
            actor=None, kind=OrganisationKind.AUTHORITY, name="四川省经济和信息化厅",
            credit_code=None, city_code="510100",
        )
    return authority


# ---- second factor (time-based one-time passwords) -------------------------------------------

TOTP_ISSUER = "Sichuan Green Manufacturing"


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    """The provisioning address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


WRONG_CODE = _l("The code is not correct. Check the time on your phone and try the newest code.")


def totp_step(secret: str | None, code: str, at: float | None = None) -> int | None:
    """The time step whose code ``code`` is, or ``None`` if it is not a current code of
    ``secret``. One step of tolerance either way for clocks that drift."""
    code = "".join((code or "").split())
    if not secret or not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if at is None else at
    current = int(now // totp.interval)
    matches = [step for step in (current - 1, current, current + 1)
               if hmac.compare_digest(totp.generate_otp(step), code)]
    return matches[0] if matches else None


def use_totp_code(user: User, code: str) -> None:
    """Accept ``code`` as the second factor of a login, once: a code of a time step no later
    than the last one accepted is refused, so a code seen over someone's shoulder or taken
    from a login that just happened is worthless. ``ServiceError`` if refused."""
    step = totp_step(user.totp_secret, code)
    if step is None:
        raise ServiceError(WRONG_CODE, field="code")
    # One conditional update, so that two logins racing with the same code cannot both win.
    claimed = db.session.execute(
        update(User).where(User.id == user.id,
                           or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        record_event("user.totp_code_reused", obj=user, details={"step": step})
        raise ServiceError(_l("This code has already been used. Wait for the next code in your "
                              "authenticator app and enter that one."), field="code")
    db.session.refresh(user, ["totp_last_step"])


def enable_totp(user: User, secret: str, code: str) -> None:
    """Switch the second factor on, after proving the authenticator app holds ``secret``. The
    code given here counts as used."""
    step = totp_step(secret, code)
    if step is None:
        raise ServiceError(WRONG_CODE, field="code")
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    user.session_token = new_session_token()
    record_event("user.totp_enabled", actor=user, obj=user)


def reset_second_factor(admin: User, user: User) -> None:
    """An administrator switches off the second factor of someone who lost their authenticator
    (or whose seed could not be opened after a restore): they log in with the password alone and
    set it up again — at once, when it is required of staff. Their sessions end; they are told."""
    if admin.role != Role.ADMIN:
        raise PermissionDenied(_l("Only administrators can do this."))
    if user.id == admin.id:
        raise ServiceError(_l("Switch your own second factor off in your account settings."))
    if user.totp_enabled_at is None:
        raise ServiceError(_l("This account has no second factor switched on."))
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.session_token = new_session_token()
    record_event("user.totp_reset", actor=admin, obj=user)
    send_mail(user.email, "second_factor_reset", language=user.preferred_language, user=user,
              link=absolute_url("auth.two_factor_settings"))


def disable_totp(user: User, password: str) -> None:
    if current_app.config.get("CERTIFY_REQUIRE_TOTP_FOR_STAFF") and user.role != Role.APPLICANT:
        raise ServiceError(_l("Administrators and assessors must keep the second factor."))
    if not password_matches(user, password):
        raise ServiceError(_l("The current password is not correct."), field="password")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    record_event("user.totp_disabled", actor=user, obj=user)


def second_factor_required(user: User) -> bool:
    """Whether ``user`` must set up the second factor before doing anything else."""
    return (bool(current_app.config.get("CERTIFY_REQUIRE_TOTP_FOR_STAFF"))
            and user.role != Role.APPLICANT and not user.totp_secret)
