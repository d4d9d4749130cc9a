"""The department's grades pages: the runs, each run's cohorts (size, graded or not) and each
unit's composite, rank and grade, filtered by cohort; running a grading of a closed period; and
the parks proposed for removal with the figures and the decision. A unit's own grades are shown on
its declarations page (the ``declarations-bottom`` template hook, see ``init_app``)."""

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from certify.auth.models import Role
from certify.auth.permissions import roles_required
from certify.core.forms import commit_change, page_number
from certify.extensions import db
from certify.grades import removal_services, services
from certify.grades.forms import RemovalDecisionForm, RunFilterForm, RunForm
from certify.grades.labels import cohort_label
from certify.i18n import date_text, datetime_text
from certify.management import services as management

bp = Blueprint("grades", __name__)

# Closed periods offered for grading (three years at the half-yearly cadence).
PERIODS_OFFERED = 6


def _run_form() -> RunForm:
    form = RunForm()
    form.period.choices = [SelectChoice(p.isoformat(), date_text(p))
                           for p in management.closed_periods(count=PERIODS_OFFERED)]
    return form


@bp.route("/admin/grades")
@roles_required(Role.ADMIN)
def admin_index():
    runs = services.runs()
    filters = RunFilterForm(request.args)
    run = next((r for r in runs if str(r.id) == filters.run.data), runs[0] if runs else None)
    current = services.current_run_ids()
    filters.run.choices = [SelectChoice(str(r.id), _("%(period)s, run %(at)s", period=date_text(r.period),
                                                       at=datetime_text(r.run_at)))
                           for r in runs]
    cohorts = services.cohorts_of(run) if run is not None else []
    cohort = filters.cohort.data if filters.cohort.data in {c["cohort"] for c in cohorts} else None
    filters.cohort.choices = [SelectChoice("", _("All cohorts"))] + [
        SelectChoice(c["cohort"], cohort_label(c["cohort"])) for c in cohorts]
    if run is not None:
        filters.run.data = str(run.id)
    page = (db.paginate(services.grades_of_run(run, cohort), page=page_number(),
                        per_page=current_app.config["PAGE_SIZE"], error_out=False)
            if run is not None else None)
    return render_template("grades/admin_index.html", runs=runs, run=run, current=current,
                           cohorts=cohorts, cohort=cohort, filters=filters, run_form=_run_form(),
                           page=page)


@bp.route("/admin/grades/run", methods=["POST"])
@roles_required(Role.ADMIN)
def admin_run():
    form = _run_form()
    made = []
    if not form.validate():
        flash(_("Choose a closed declaration period."), "error")
    elif form.period.data not in {choice.value for choice in form.period.choices}:
        flash(_("Choose a closed declaration period."), "error")
    elif commit_change(lambda: made.append(services.grade_period(
            current_user, _period(form.period.data))),
            _("The period has been graded; earlier runs are kept."), form=form):
        return redirect(url_for("grades.admin_index", run=made[0].id))
    return redirect(url_for("grades.admin_index"))


def _period(text: str) -> date:
    return date.fromisoformat(text)


# ---- park removal --------------------------------------------------------------------------------

@bp.route("/admin/grades/removal", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def removal():
    review = removal_services.removal_review()
    form = RemovalDecisionForm()
    if request.method == "POST":
        candidate = next((c for c in review.candidates
                          if str(c.application.id) == (form.application_id.data or "")), None)
        if candidate is None:
            abort(404)
        if form.validate() and commit_change(
                lambda: removal_services.decide_removal(current_user, candidate.application,
                                                        form.decision.data, form.note.data),
                _("The decision has been recorded."), form=form):
            return redirect(url_for("grades.removal"))
    return render_template("grades/removal.html", review=review, form=form)


def own_grades_part(**_values) -> dict | None:
    """The declarations page's part: the organisation's grades in the current run of each
    period, for its own users only."""
    from certify.grades.permissions import can_see_own_grades

    if not can_see_own_grades(current_user):
        return None
    history = services.grade_history(current_user.organisation_id)
    return {"grade_history": history} if history else None
