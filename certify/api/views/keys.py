"""The administrators' pages for API keys: the list, making a key (its secret shown once) and
revoking one."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from certify.api import services
from certify.api.forms import ApiKeyForm
from certify.api.models import SCOPES, ApiKey
from certify.auth.models import Role
from certify.auth.permissions import roles_required
from certify.core.forms import ActionForm, commit_change
from certify.extensions import db

bp = Blueprint("api_keys", __name__, url_prefix="/admin/api-keys")


def _page(form: ApiKeyForm, *, secret: str | None = None, status: int = 200):
    keys = db.session.execute(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())).scalars().all()
    return render_template("api/keys.html", keys=keys, form=form, action_form=ActionForm(), secret=secret,
                           scope_labels=SCOPES, default_limit=current_app.config["CERTIFY_API_KEY_RATE_LIMIT"]), status


@bp.route("", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def index():
    """The keys, newest first, and the form to make one. A key made is shown on the page that
    answers the form, once: only its digest is kept."""
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return _page(form, status=400 if form.errors else 200)
    made = {}

    def create():
        made["key"], made["secret"] = services.create_api_key(
            current_user, name=form.name.data, holder=form.holder.data, scopes=form.scopes.data or [],
            rate_limit=form.rate_limit.data or None)

    if not commit_change(create, form=form):
        return _page(form, status=400)
    flash(_("API key made for %(holder)s. Copy it now: it is not shown again.", holder=made["key"].holder), "success")
    return _page(ApiKeyForm(formdata=None), secret=made["secret"])


@bp.route("/<int:api_key_id>/revoke", methods=["POST"])
@roles_required(Role.ADMIN)
def revoke(api_key_id: int):
    """Revoke a key: its holder's next call is refused."""
    api_key = db.session.get(ApiKey, api_key_id)
    if api_key is None:
        abort(404)
    if ActionForm().validate_on_submit():
        commit_change(lambda: services.revoke_api_key(current_user, api_key),
                      _("The API key %(prefix)s… of %(holder)s is revoked.", prefix=api_key.prefix, holder=api_key.holder))
    return redirect(url_for("api_keys.index"))
