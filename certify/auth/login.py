"""Flask-Login wiring: the login cookie names the user and a per-user session token, so that
logout, a password change or deactivation ends every session on the server."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from certify.auth.models import User
from certify.extensions import db, login_manager


def load_user(cookie_id: str) -> User | None:
    user_id, _, token = (cookie_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if (user is None or not user.is_active or not user.organisation.is_active
            or user.session_token != token):
        return None
    return user


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
