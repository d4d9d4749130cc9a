"""Account pages: login, logout, registration, passwords, colleagues."""

import segno
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from certify.auth import registration, services
from certify.auth.forms import (
    ConfirmRegistrationForm,
    ForgotPasswordForm,
    InviteForm,
    LoginForm,
    PasswordChangeForm,
    RegistrationForm,
    SetPasswordForm,
    TotpCodeForm,
    TotpDisableForm,
)
from certify.auth.models import User
from certify.auth.permissions import can_invite_colleagues
from certify.core.forms import safe_next_url, show_service_error
from certify.exceptions import ServiceError
from certify.extensions import db, limiter
from certify.i18n import SESSION_KEY, current_language
from certify.security import start_login_clock

bp = Blueprint("auth", __name__)


def _start_session(user: User) -> None:
    # A fresh session at login (nothing carried over but the chosen language).
    language = session.get(SESSION_KEY)
    session.clear()
    if language:
        session[SESSION_KEY] = language
    login_user(user)
    start_login_clock()


def _typed_email() -> str:
    return (request.form.get("email") or "").strip().lower()[:254]


def _login_account_key() -> str:
    # Attempts count per e-mail address typed, whether or not an account has it, so that the
    # lockout reveals nothing about which accounts exist.
    return "login:" + _typed_email()


def _forget_failed_attempts() -> None:
    """The right password ends a run of failures: the address's count starts again. Every
    attempt is counted before its password is checked (one atomic step in the shared store),
    so that attempts sent at the same moment to several workers cannot pass the limit."""
    account = _login_account_key()
    for limit in limiter.current_limits:
        if account in limit.request_args:
            limiter.storage.clear(limit.key)


def _registration_address_key() -> str:
    # Registrations (each sends a mail) count per address typed, new or not: the limit tells
    # nothing about which addresses have accounts, and nobody can flood one mailbox.
    return "register:" + _typed_email()


def _pending_login_key() -> str:
    # Codes count per account as well as per client address, so that guessing from many
    # addresses gains nothing.
    return f"second-factor:{(session.get(PENDING_LOGIN) or {}).get('user')}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
@limiter.limit("5 per 15 minutes", methods=["POST"], key_func=_login_account_key)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("workbench.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except ServiceError as error:
            db.session.commit()  # keeps the audit record of the attempt
            flash(error.message, "error")
            return render_template("auth/login.html", form=form)
        if user is None:
            db.session.commit()  # keeps the audit record of the failed attempt
            flash(_("The e-mail address or the password is not correct."), "error")
            return render_template("auth/login.html", form=form)
        if user.totp_secret:
            db.session.commit()
            _forget_failed_attempts()  # after the commit: the count may live in this database
            # The password is right; the second factor decides (the pending login is bound
            # to the current session token, so a logout elsewhere cancels it).
            session[PENDING_LOGIN] = {"user": user.id, "token": user.session_token,
                                      "next": safe_next_url(form.next.data)}
            return redirect(url_for("auth.second_factor"))
        response = _complete_login(user, form.next.data)
        _forget_failed_attempts()
        return response
    return render_template("auth/login.html", form=form)


PENDING_LOGIN = "_pending_login"


def _complete_login(user: User, next_url: str | None):
    services.record_login(user)
    db.session.commit()
    _start_session(user)
    return redirect(safe_next_url(next_url) or url_for("workbench.index"))


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit("10 per 15 minutes", methods=["POST"])
@limiter.limit("10 per 15 minutes", methods=["POST"], key_func=_pending_login_key)
def second_factor():
    pending = session.get(PENDING_LOGIN) or {}
    user = db.session.get(User, pending.get("user") or 0)
    if user is None or not user.is_active or user.session_token != pending.get("token"):
        session.pop(PENDING_LOGIN, None)
        return redirect(url_for("auth.login"))
    form = TotpCodeForm()
    if form.validate_on_submit():
        try:
            services.use_totp_code(user, form.code.data)
        except ServiceError as error:
            db.session.commit()  # keeps the audit record of a code used twice
            show_service_error(form, error)
        else:
            session.pop(PENDING_LOGIN, None)
            return _complete_login(user, pending.get("next"))
    return render_template("auth/second_factor.html", form=form)


SETUP_SECRET = "_totp_setup_secret"  # noqa: S105 - the name of a session key, not a secret


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_settings():
    user = current_user._get_current_object()
    enable_form, disable_form = TotpCodeForm(prefix="enable"), TotpDisableForm(prefix="disable")
    if user.totp_secret:
        if disable_form.validate_on_submit():
            try:
                services.disable_totp(user, disable_form.password.data)
                db.session.commit()
            except ServiceError as error:
                db.session.rollback()
                show_service_error(disable_form, error)
            else:
                flash(_("The second factor is off."), "success")
                return redirect(url_for("auth.two_factor_settings"))
        return render_template("auth/two_factor.html", form=disable_form, enabled=True)
    secret = session.get(SETUP_SECRET) or services.new_totp_secret()
    session[SETUP_SECRET] = secret
    if enable_form.validate_on_submit():
        try:
            services.enable_totp(user, secret, enable_form.code.data)
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            show_service_error(enable_form, error)
        else:
            session.pop(SETUP_SECRET, None)
            login_user(user)  # the session token changed: other sessions end, this one goes on
            flash(_("The second factor is on. You will be asked for a code at every login."), "success")
            return redirect(url_for("workbench.index"))
    uri = services.totp_uri(user, secret)
    qr = segno.make(uri, error="m").svg_data_uri(scale=4, dark="#1d2521")
    return render_template("auth/two_factor.html", form=enable_form, enabled=False, secret=secret, qr=qr)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    services.logout(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("core.home"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@limiter.limit("3 per hour", methods=["POST"], key_func=_registration_address_key,
               deduct_when=lambda response: response.status_code == 302)
def register():
    if current_user.is_authenticated:
        return redirect(url_for("workbench.index"))
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            _register(form)
        except ServiceError as error:
            db.session.rollback()
            show_service_error(form, error)
        except IntegrityError:
            # The same credit code (or address) was registered a moment ago.
            db.session.rollback()
            flash(_("These details have just been registered by someone else. Check them and "
                    "try again."), "error")
        else:
            return redirect(url_for("auth.registration_sent"))
    return render_template("auth/register.html", form=form)


def _register(form: RegistrationForm) -> None:
    """A new registration waiting for its link; or, when the address has an account, nothing
    kept but a mail to its holder. The visitor sees the same page either way."""
    try:
        registration.request_registration(
            organisation=form.organisation_data(form.kind.data),
            email=form.email.data, name=form.name.data, password=form.password.data,
            language=current_language(),
        )
    except registration.AddressTaken as taken:
        db.session.rollback()
        registration.report_registration_attempt(taken.email)
    db.session.commit()


@bp.route("/register/sent")
def registration_sent():
    return render_template("auth/registration_sent.html", hours=registration.confirm_hours())


@bp.route("/register/confirm/<token>", methods=["GET", "POST"])
def confirm_registration(token: str):
    """The mailed link opens a page whose button confirms (a GET changes nothing, so a mail
    scanner that opens links confirms nothing); confirming logs the new user in."""
    try:
        user = registration.user_from_registration_token(token)
    except ServiceError as error:
        return render_template("auth/link_invalid.html", message=error.message,
                               links=[(url_for("auth.login"), _("Log in")),
                                      (url_for("auth.register"), _("Register again"))]), 400
    form = ConfirmRegistrationForm()
    if form.validate_on_submit():
        registration.confirm_registration(user)
        db.session.commit()
        _start_session(user)
        flash(_("Your registration is confirmed. Welcome!"), "success")
        return redirect(url_for("workbench.index"))
    return render_template("auth/confirm_registration.html", form=form, user=user)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.new_password.data)
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            show_service_error(form, error)
        else:
            # The old session token is gone; log in again under the new one.
            login_user(current_user._get_current_object())
            flash(_("Your password has been changed. Other sessions have been logged out."), "success")
            return redirect(url_for("workbench.index"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        # The same answer whether or not the account exists.
        flash(_("If an account exists for this address, a link to set a new password has been "
                "sent to it. The link is valid for 24 hours."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/password/set/<token>", methods=["GET", "POST"])
def set_password(token: str):
    try:
        user = services.user_from_password_token(token)
    except ServiceError as error:
        return render_template("auth/link_invalid.html", message=error.message), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password_from_link(user, form.new_password.data)
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            show_service_error(form, error)
        else:
            logout_user()
            flash(_("Your password has been set. You can log in now."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/set_password.html", form=form, user=user)


@bp.route("/account/colleagues", methods=["GET", "POST"])
@login_required
def colleagues():
    if not can_invite_colleagues(current_user):
        abort(403)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invited = services.invite_colleague(current_user, email=form.email.data, name=form.name.data)
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            show_service_error(form, error)
        else:
            flash(_("An invitation has been sent to %(email)s.", email=invited.email), "success")
            return redirect(url_for("auth.colleagues"))
    members = db.session.execute(
        select(User).where(User.organisation_id == current_user.organisation_id).order_by(User.id)
    ).scalars().all()
    return render_template("auth/colleagues.html", form=form, members=members)
