"""The evaluation report PDF: downloaded by those who may read it, rendered again on an
administrator's request."""

from flask import abort, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from certify import storage
from certify.assessment.blueprint import bp
from certify.assessment.permissions import can_download_report
from certify.assessment.reports import latest_report, request_report
from certify.assessment.views.common import load_application
from certify.auth.models import Role
from certify.auth.permissions import roles_required
from certify.core.forms import ActionForm, commit_change


@bp.route("/assessment/applications/<int:application_id>/report", methods=["GET"])
@login_required
def report(application_id: int):
    """The latest evaluation report PDF."""
    application = load_application(application_id)
    if not can_download_report(current_user, application):
        abort(404)
    found = latest_report(application)
    if found is None or not storage.exists(found.sha256):
        abort(404)
    response = storage.send_stored(found.sha256, mimetype="application/pdf",
                                   as_attachment=True, conditional=True, etag=found.sha256,
                                   download_name=f"第三方评价报告-{application.reference}.pdf")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/assessment/applications/<int:application_id>/report", methods=["POST"])
@roles_required(Role.ADMIN)
def regenerate_report(application_id: int):
    """Have the report rendered again (e.g. when rendering failed after the assessment was
    reported): a job renders it after the commit, so the request does not wait for it."""
    application = load_application(application_id)
    if ActionForm().validate_on_submit():
        commit_change(lambda: request_report(application, current_user),
                      _("The evaluation report is being generated; it will appear on this page "
                        "when it is ready."))
    return redirect(url_for("assessment.application", application_id=application_id))

