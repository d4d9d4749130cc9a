"""The city bureau's pages (its queue of applications to pre-review, one application with the
recommend / return form) and the department's national recommendation page (candidates, the
guard's figures, the package to download)."""

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from certify.applications.models import Application
from certify.auth.models import Role
from certify.auth.permissions import roles_required
from certify.core.forms import commit_change, int_arg
from certify.core.ids import row_ids
from certify.exceptions import ServiceError
from certify.extensions import db
from certify.rulesets.applied import self_result
from certify.tiers import guard, national, services
from certify.tiers.forms import CityReviewForm
from certify.tiers.models import CITY_DECISION_LABELS
from certify.tiers.permissions import can_pre_review, can_view_as_city

bp = Blueprint("tiers", __name__)

GUARD_LABELS = {
    guard.WORSE: _l("Worse than the average"),
    guard.NOT_WORSE: _l("Not worse than the average"),
    guard.TOO_FEW_PEERS: _l("Too few listed units to compare"),
    guard.NO_VALUE: _l("No value"),
}


def _city_application(application_id: int) -> Application:
    """The application, if it is one the bureau may read; 404 otherwise (never revealing that
    another city's application exists)."""
    application = db.session.get(Application, application_id)
    if application is None or not can_view_as_city(current_user, application):
        abort(404)
    return application


@bp.route("/city")
@roles_required(Role.CITY)
def city_queue():
    return render_template("tiers/city_queue.html", queue=services.city_queue(current_user),
                           reviews=services.recent_reviews(current_user), decision_labels=CITY_DECISION_LABELS)


@bp.route("/city/applications/<int:application_id>", methods=["GET", "POST"])
@roles_required(Role.CITY)
def city_application(application_id: int):
    application = _city_application(application_id)
    form = CityReviewForm()
    if request.method == "POST":
        if not can_pre_review(current_user, application):
            abort(403)
        if form.validate_on_submit():
            decide = services.return_application if form.send_back.data else services.recommend_application
            message = (_("The application has been returned to the applicant.") if form.send_back.data
                       else _("The application has been recommended to the province."))
            if commit_change(lambda: decide(current_user, application, form.opinion.data), message, form=form):
                return redirect(url_for("tiers.city_queue"))
    return render_template("tiers/city_application.html", application=application, form=form,
                           result=self_result(application), reviews=services.reviews_of(application),
                           decision_labels=CITY_DECISION_LABELS,
                           may_decide=can_pre_review(current_user, application))


@bp.route("/admin/national-recommendation")
@roles_required(Role.ADMIN)
def national_candidates():
    kind = request.args.get("kind") if request.args.get("kind") in national.NATIONAL_KINDS else None
    city = request.args.get("city") or None
    year = int_arg("year", low=2000, high=2199)
    listed = national.listed_applications(kind=kind, city=city, year=year)
    region, min_peers = national.guard_settings()
    return render_template("tiers/national.html", candidates=national.candidates(listed),
                           kind=kind, city=city, year=year, years=national.listing_years(),
                           kinds=national.NATIONAL_KINDS, region=region, min_peers=min_peers,
                           guard_labels=GUARD_LABELS)


@bp.route("/admin/national-recommendation/package", methods=["POST"])
@roles_required(Role.ADMIN)
def national_package():
    chosen = row_ids(request.form.getlist("application_ids"))
    if chosen is None:
        flash(_("The choice sent could not be read. Please choose again in the list."), "error")
        return redirect(url_for("tiers.national_candidates"))
    try:
        package = national.build_package(current_user, chosen)
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("tiers.national_candidates"))
    return send_file(io.BytesIO(package.data), mimetype="application/zip", as_attachment=True,
                     download_name=package.filename)
