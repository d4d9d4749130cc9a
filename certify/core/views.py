"""Home page, language switcher and the health check."""

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from certify.auth.services import set_preferred_language
from certify.core.forms import safe_next_url
from certify.core.hooks import template_hook
from certify.extensions import csrf, db
from certify.i18n import SESSION_KEY

bp = Blueprint("core", __name__)
# Every page may offer a place for other areas' parts (see ``certify.core.hooks``).
bp.add_app_template_global(template_hook, "template_hook")


@bp.route("/")
def home():
    return render_template("core/home.html")


@bp.route("/language", methods=["POST"])
@csrf.exempt  # checked below for a signed-in user only
def switch_language():
    # A visitor's choice changes nothing but their own session, so the switcher on public pages
    # carries no token: those pages then set no cookie and can be kept by a cache in front. A
    # signed-in user's choice is saved to the account and must come with the session's token.
    if current_user.is_authenticated and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()
    language = request.form.get("language", "")
    if language in current_app.config["LANGUAGES"]:
        session[SESSION_KEY] = language
        if current_user.is_authenticated:
            set_preferred_language(current_user, language)
            db.session.commit()
    return redirect(safe_next_url(request.form.get("next")) or url_for("core.home"))


@bp.route("/healthz")
@csrf.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        # The cause (with the database's host and port) goes to the log, not to whoever asks.
        current_app.logger.exception("Health check: the database cannot be reached")
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
