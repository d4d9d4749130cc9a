"""The workbench page: one per role, the landing page after signing in."""

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from certify.auth.models import Role
from certify.timeutil import local_today
from certify.workbench import queries

bp = Blueprint("workbench", __name__)

# Each administrators' queue: its title, what its count means, where it is worked, and what its
# urgent part means.
QUEUES = {
    "assign": (_l("To assign"), _l("submitted applications waiting for assessors"), "assessment.index", None),
    "under_way": (_l("Assessments under way"), _l("assignments open"), "assessment.under_way", _l("overdue")),
    "decide": (_l("To decide"), _l("assessed applications waiting for a decision"), "publication.decision_queue",
               None),
    "objections": (_l("Objections open"), _l("objections from the public to examine"), "publication.batches", None),
    "notices": (_l("Notices ending"), _l("notices ending within 3 days"), "publication.batches",
                _l("over: ready to announce")),
    "declarations": (_l("Declarations to review"), _l("self-declarations submitted"), "management.admin_index",
                     _l("flagged")),
    "missed": (_l("Declarations missed"), _l("listed units that did not declare for the last closed period"),
               "management.missed", _l("proposed for review")),
    "certificates": (_l("Certificates not yet rendered"), _l("PDFs pending"), "certificates.admin_list",
                     _l("failed")),
    "expiring": (_l("Certificates expiring"), _l("valid certificates ending within 90 days"),
                 "certificates.admin_list", None),
}


@bp.route("/workbench")
@login_required
def index():
    today = local_today()
    if current_user.role == Role.ADMIN:
        return render_template("workbench/admin.html", queues=queries.admin_queues(today), labels=QUEUES)
    if current_user.role == Role.CITY:  # the city bureau's work is its pre-review queue
        return redirect(url_for("tiers.city_queue"))
    if current_user.role == Role.ASSESSOR:
        return render_template("workbench/assessor.html", bench=queries.assessor_bench(current_user.id, today),
                               today=today)
    return render_template("workbench/applicant.html", today=today,
                           bench=queries.applicant_bench(current_user.organisation_id, today))
