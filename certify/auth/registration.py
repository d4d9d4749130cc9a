"""Self-registration that never tells whether an address already has an account.

Whatever address is typed, the answer is the same page: "check your e-mail". A new address gets
a link that confirms the registration and logs in; an address that has an account gets a message
saying that someone tried to register with it. Until its link is followed, a registration's
organisation and user exist but cannot log in; ``CERTIFY_REGISTRATION_CONFIRM_HOURS`` after it
was made, it is removed, which frees its address and credit code.

Service functions flush and leave the commit to their caller; every change writes an audit event.
A registration waiting for confirmation is never an event's actor, so that it can be removed.
"""

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from certify.audit.services import record_event
from certify.auth.models import Role, User
from certify.auth.services import (
    applicant_kind,
    check_password_rules,
    clean_name,
    hash_password,
    new_user,
    normalise_email,
)
from certify.core.urls import absolute_url
from certify.exceptions import ServiceError
from certify.extensions import db
from certify.mail.services import send_mail
from certify.organisations.services import create_organisation
from certify.timeutil import utcnow


class AddressTaken(Exception):
    """The address typed belongs to an account. Raised once every other check of the
    registration has passed, so that the answer cannot tell; the caller rolls the registration
    back (nothing of it is kept) and calls :func:`report_registration_attempt`."""

    def __init__(self, email: str):
        super().__init__(email)
        self.email = email


def confirm_hours() -> int:
    return current_app.config["CERTIFY_REGISTRATION_CONFIRM_HOURS"]


def _account(email: str) -> User | None:
    return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def request_registration(*, organisation: dict, email: str, name: str, password: str,
                         language: str | None = None) -> User:
    """Register a new applicant organisation and its first user, who cannot log in until the
    link mailed to ``email`` is followed. An earlier unconfirmed registration of the same
    address is replaced. Raises ``ServiceError`` for anything wrong in the details, and
    ``AddressTaken`` — after the same checks and the same work — when the address has an
    account."""
    purge_expired_registrations()
    kind = applicant_kind(organisation["kind"])
    email = normalise_email(email)
    holder = _account(email)
    if holder is not None and not holder.is_confirmed:
        _remove_registration(holder, reason="registered again")
        holder = None
    check_password_rules(password, email=email)
    new_organisation = create_organisation(actor=None, **{**organisation, "kind": kind})
    if holder is not None:
        clean_name(name)
        hash_password(password)  # as much work as a registration, so the time tells nothing
        raise AddressTaken(email)
    user = new_user(email=email, name=name, role=Role.APPLICANT, organisation=new_organisation,
                     password=password, language=language, confirmed=False)
    record_event("user.registered", obj=user,
                 details={"email": user.email, "organisation_id": new_organisation.id})
    link = absolute_url("auth.confirm_registration", token=registration_token(user))
    send_mail(user.email, "registration_confirm", language=language, user=user, link=link, secret=link,
              hours=confirm_hours())
    return user


def report_registration_attempt(email: str) -> None:
    """Tell the holder of ``email`` that someone tried to register with it: perhaps they forgot
    they have an account, and the mail leads them to log in or set a new password."""
    holder = _account(normalise_email(email))
    if holder is None:
        return
    record_event("user.registration_attempted", obj=holder, details={"email": holder.email})
    if holder.is_active and holder.organisation.is_active:
        send_mail(holder.email, "registration_exists", language=holder.preferred_language,
                  user=holder, login_link=absolute_url("auth.login"),
                  reset_link=absolute_url("auth.forgot_password"))


# Confirmation links are signed and expire with the registration. They carry a fingerprint of the
# password hash (salted afresh for each registration), so that the link of a registration that
# was replaced or removed stops working even where the database gives its row number again.
def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="certify.registration")


def registration_token(user: User) -> str:
    return _serializer().dumps({"user": user.id, "fp": _fingerprint(user)})


def _fingerprint(user: User) -> str:
    return (user.password_hash or "")[-16:]


def user_from_registration_token(token: str) -> User:
    """The registration a confirmation link was made for, or ``ServiceError`` saying why not."""
    try:
        data = _serializer().loads(token, max_age=confirm_hours() * 3600)
    except SignatureExpired as exc:
        raise ServiceError(_l("This link has expired: a registration not confirmed within %(hours)d "
                              "hours is removed. Register again.", hours=confirm_hours())) from exc
    except BadSignature as exc:
        raise ServiceError(_l("This link is not valid.")) from exc
    user = db.session.get(User, data.get("user") or 0)
    if user is None or data.get("fp") != _fingerprint(user):
        raise ServiceError(_l("This link is no longer valid: the registration was made again or "
                              "removed. Use the link in the newest e-mail, or register again."))
    if user.is_confirmed:
        raise ServiceError(_l("This registration is already confirmed. Log in with your e-mail "
                              "address and password."))
    return user


def confirm_registration(user: User) -> None:
    """The address is proven: the account may log in from now on."""
    if user.is_confirmed:
        return
    user.email_confirmed_at = utcnow()
    record_event("user.registration_confirmed", actor=user, obj=user,
                 details={"email": user.email, "organisation_id": user.organisation_id})


def purge_expired_registrations() -> int:
    """Remove every registration not confirmed in time; the number removed."""
    cutoff = utcnow() - timedelta(hours=confirm_hours())
    expired = db.session.execute(
        select(User).where(User.email_confirmed_at.is_(None), User.created_at < cutoff)
    ).scalars().all()
    for user in expired:
        _remove_registration(user, reason="expired")
    return len(expired)


def _remove_registration(user: User, *, reason: str) -> None:
    organisation = user.organisation
    record_event("user.registration_removed", object_type=User.__tablename__, object_id=user.id,
                 details={"email": user.email, "organisation_id": organisation.id,
                          "credit_code": organisation.credit_code, "reason": reason})
    db.session.delete(user)
    db.session.flush()
    db.session.expire(organisation)
    others = db.session.execute(
        select(func.count()).select_from(User).where(User.organisation_id == organisation.id)
    ).scalar_one()
    if not others:
        db.session.delete(organisation)
        db.session.flush()
