"""Clearing a plausibility flag: a POST from the flag panel on the application's or the
declaration's page, back to that page with a message."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from certify.applications.models import Application
from certify.core.forms import commit_change
from certify.core.ids import row_id
from certify.extensions import db
from certify.plausibility import services
from certify.plausibility.forms import ClearFlagForm
from certify.plausibility.models import PlausibilityFlag
from certify.plausibility.permissions import can_clear_flag, can_view_flags

bp = Blueprint("plausibility", __name__)


def _back(flag: PlausibilityFlag):
    if flag.declaration_id is not None and current_user.is_admin:
        return redirect(url_for("management.admin_show", self_declaration_id=flag.declaration_id) + "#plausibility")
    return redirect(url_for("applications.show", application_id=flag.application_id) + "#plausibility")


@bp.route("/applications/<int:application_id>/plausibility/clear", methods=["POST"])
@login_required
def clear(application_id: int):
    """Clear the flag named by the form's ``flag_id``, one of this application's flags."""
    application = db.session.get(Application, application_id)
    if application is None or not can_view_flags(current_user, application):
        abort(404)
    flag_id = row_id(request.form.get("flag_id", ""))
    flag = db.session.get(PlausibilityFlag, flag_id) if flag_id is not None else None
    if flag is None or flag.application_id != application.id:
        abort(404)
    if not can_clear_flag(current_user, flag):
        abort(403)
    form = ClearFlagForm()
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return _back(flag)
    commit_change(lambda: services.clear_flag(current_user, flag, form.reason.data),
                  _("The flag has been cleared."))
    return _back(flag)
