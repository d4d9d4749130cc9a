"""Response headers and session lifetime rules applied to every request.

- A strict Content-Security-Policy (no inline scripts or styles; nothing from other sites),
  no framing, no MIME sniffing, a conservative referrer policy, and HSTS when the public
  address is HTTPS.
- Pages shown to a logged-in user carry private data: ``Cache-Control: no-store``.
- A login lasts at most ``CERTIFY_SESSION_ABSOLUTE_HOURS`` and ends after
  ``CERTIFY_SESSION_IDLE_MINUTES`` without a request.
"""

import time

from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HSTS = "max-age=31536000; includeSubDomains"

LOGIN_AT = "_login_at"
SEEN_AT = "_seen_at"
# Refresh the idle clock at most once a minute, so that most responses leave the cookie alone.
SEEN_RESOLUTION = 60


def serves_https(app: Flask) -> bool:
    return (app.config.get("CERTIFY_BASE_URL") or "").startswith("https://")


def start_login_clock() -> None:
    now = int(time.time())
    session[LOGIN_AT] = now
    session[SEEN_AT] = now


def _session_expired(now: int) -> bool:
    config = current_app.config
    login_at = session.get(LOGIN_AT, 0)
    seen_at = session.get(SEEN_AT, 0)
    if now - login_at > config["CERTIFY_SESSION_ABSOLUTE_HOURS"] * 3600:
        return True
    return now - seen_at > config["CERTIFY_SESSION_IDLE_MINUTES"] * 60


def enforce_session_lifetime():
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = int(time.time())
    if _session_expired(now):
        logout_user()
        session.clear()
        flash(_l("Your session has ended. Please log in again."), "info")
        if request.method == "GET":
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return redirect(url_for("auth.login"))
    if now - session.get(SEEN_AT, 0) >= SEEN_RESOLUTION:
        session[SEEN_AT] = now
    return None


def refuse_nul_bytes():
    """A NUL character has no place in any field or query; PostgreSQL would refuse it deep in a
    query, so it is refused at the door with a plain 400."""
    for values in (request.args, request.form):
        for _name, value in values.items(multi=True):  # a repeated parameter's every value
            if "\x00" in value:
                abort(400)


# Pages a user who must still set up the second factor may open.
SECOND_FACTOR_SETUP_ENDPOINTS = {"auth.two_factor_settings", "auth.logout", "core.switch_language",
                                 "static", "core.healthz"}


def require_second_factor():
    if not current_user.is_authenticated or request.endpoint in SECOND_FACTOR_SETUP_ENDPOINTS:
        return None
    from certify.auth.services import second_factor_required

    if second_factor_required(current_user):
        return redirect(url_for("auth.two_factor_settings"))
    return None


def add_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if serves_https(current_app):
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static" and current_user and current_user.is_authenticated:
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("CERTIFY_SESSION_IDLE_MINUTES", 60)
    app.config.setdefault("CERTIFY_SESSION_ABSOLUTE_HOURS", 12)
    app.config.setdefault("CERTIFY_REQUIRE_TOTP_FOR_STAFF", False)

    @app.context_processor
    def second_factor_context():
        from certify.auth.services import second_factor_required

        user = current_user
        return {"second_factor_required": bool(user and user.is_authenticated
                                               and second_factor_required(user))}
    if serves_https(app):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config.setdefault("PREFERRED_URL_SCHEME", "https")
    app.before_request(refuse_nul_bytes)
    app.before_request(enforce_session_lifetime)
    app.before_request(require_second_factor)
    app.after_request(add_security_headers)
