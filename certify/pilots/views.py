"""Construction pilot pages: the pilot's own list and yearly progress report; the department's
list of pilots with reports due and overdue, and each pilot's page with the mid-term review and
the final acceptance."""

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from certify.applications.models import Application
from certify.auth.models import Role
from certify.auth.permissions import roles_required
from certify.core.forms import commit_change, date_arg, page_number
from certify.extensions import db
from certify.i18n import current_language
from certify.pilots import services
from certify.pilots.forms import AcceptanceForm, MidtermForm, ReportForm
from certify.pilots.models import PilotReport, PilotStatus
from certify.pilots.permissions import can_file_report, can_view_pilot, can_view_report
from certify.rulesets.applied import rule_set_of
from certify.rulesets.forms import answer_field, form_value, parse_page
from certify.timeutil import local_today

bp = Blueprint("pilots", __name__)


def _pilot_application(application_id: int) -> Application:
    """The pilot application, if the current user may see it; 404 otherwise."""
    application = db.session.get(Application, application_id)
    if application is None or not can_view_pilot(current_user, application):
        abort(404)
    return application


# ---- the pilot's own pages ---------------------------------------------------------------------

# How the rule files name the base year in their input titles: the application gives the base
# year's figures, a progress report those of the year reported.
_BASE_YEAR = {"zh": "基准年", "en": " in the base year"}


def reported_figure_labels(indicators) -> dict[str, dict[str, str]]:
    """Indicator id -> input key -> the label of that figure in a progress report: the rule
    file's title, with its base year changed to the year reported."""
    language = "zh" if current_language() == "zh" else "en"
    labels = {}
    for indicator in indicators:
        for entry in indicator.inputs:
            title = entry.title.zh if language == "zh" else entry.title.en
            if _BASE_YEAR[language] in title:
                labels.setdefault(indicator.id, {})[entry.key] = _(
                    "%(figure)s in the year reported",
                    figure=title.replace(_BASE_YEAR[language], "", 1).strip())
    return labels


@bp.route("/pilots")
@roles_required(Role.APPLICANT)
def index():
    applications = db.session.execute(services.pilots_query(current_user.organisation_id)).scalars().all()
    return render_template("pilots/index.html", entries=services.pilot_entries(applications))


def _requested_period(application) -> date | None:
    """The period asked for (``?period=``), else the newest one a report can be filed for."""
    if request.args.get("period"):
        return date_arg("period")
    periods = services.reportable_periods(application)
    return periods[0] if periods else None


@bp.route("/pilots/<int:application_id>/report", methods=["GET", "POST"])
@login_required
def report(application_id: int):
    """File the progress report of a period: the current figures and a narrative."""
    application = _pilot_application(application_id)
    if not can_file_report(current_user, application, services.pilot_of(application)):
        abort(404)
    period = _requested_period(application)
    if period is None or period not in services.reportable_periods(application):
        flash(_("There is no progress report to file for this period: it has been filed already, "
                "or is not due."), "error")
        return redirect(url_for("pilots.index"))
    indicators = services.report_indicators(application)
    form = ReportForm()
    errors, values = {}, {i.id: form_value(i, None) for i in indicators}
    if request.method == "POST":
        parsed = parse_page(indicators, request.form)
        errors = dict(parsed.errors)
        for indicator in indicators:
            if indicator.id not in parsed.answers and indicator.id not in errors:
                errors[indicator.id] = _("Give the current figures of this indicator.")
        values |= {i.id: form_value(i, parsed.answers.get(i.id)) for i in indicators}
        values |= {key: raw for key, raw in parsed.raw.items()}
        filed = []
        if form.validate() and not errors and commit_change(
                lambda: filed.append(services.file_report(current_user, application, period, parsed,
                                                          form.narrative.data)), form=form):
            flash(_("The progress report has been filed with the department."), "success")
            return redirect(url_for("pilots.show_report", report_id=filed[0].id))
        if errors:
            flash(_("Some figures could not be read: see the messages below."), "error")
    base = services.base_values(application)
    return render_template(
        "pilots/report_form.html", application=application, period=period, form=form,
        indicators=indicators, values=values, errors=errors, answer_field=answer_field,
        base={i.id: services.value_of(application, i, base.get(i.id)) for i in indicators},
        is_late=period < services.current_period(), rule_set=rule_set_of(application),
        figure_labels=reported_figure_labels(indicators))


@bp.route("/pilots/reports/<int:report_id>")
@login_required
def show_report(report_id: int):
    report = db.session.get(PilotReport, report_id)
    if report is None or not can_view_report(current_user, report):
        abort(404)
    return render_template("pilots/report.html", report=report, rows=services.report_rows(report))


# ---- the department's pages --------------------------------------------------------------------

@bp.route("/admin/pilots")
@roles_required(Role.ADMIN)
def admin_index():
    page = db.paginate(services.pilots_query(), page=page_number(),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("pilots/admin_index.html", page=page,
                           entries=services.pilot_entries(page.items))


def _admin_page(application, midterm_form=None, acceptance_form=None):
    pilot = services.pilot_of(application)
    [entry] = services.pilot_entries([application])
    open_ = pilot is None or pilot.status == PilotStatus.UNDER_CONSTRUCTION
    midterm_opens_on = services.midterm_opens_on(application)
    return render_template(
        "pilots/admin_show.html", application=application, pilot=pilot, entry=entry,
        reports=services.reports_of(application),
        midterm_opens_on=midterm_opens_on,
        midterm_waits=midterm_opens_on is not None and local_today() < midterm_opens_on,
        construction_ends_on=services.construction_ends_on(application),
        core=services.core_indicators(application),
        midterm_form=(midterm_form or MidtermForm()) if open_ and not (pilot and pilot.midterm_decision) else None,
        acceptance_form=(acceptance_form or AcceptanceForm())
        if open_ and pilot is not None and pilot.midterm_decision == "continue" else None)


@bp.route("/admin/pilots/<int:application_id>")
@roles_required(Role.ADMIN)
def admin_show(application_id: int):
    return _admin_page(_pilot_application(application_id))


@bp.route("/admin/pilots/<int:application_id>/midterm", methods=["POST"])
@roles_required(Role.ADMIN)
def midterm(application_id: int):
    application = _pilot_application(application_id)
    form = MidtermForm()
    if form.validate() and commit_change(
            lambda: services.record_midterm(current_user, application, form.decision.data, form.reason.data),
            _("The mid-term review has been recorded."), form=form):
        return redirect(url_for("pilots.admin_show", application_id=application.id))
    return _admin_page(application, midterm_form=form), 400


def _figures(application, form: AcceptanceForm) -> dict:
    """The form's two figures under the input keys of the core indicator (by their units)."""
    by_unit = {"tCO2": form.emitted.data, "tce": form.energy.data}
    core = services.core_indicators(application)
    return {entry.key: by_unit.get(entry.unit.key if entry.unit else "", "")
            for entry in (core[0].inputs if core else ())}


@bp.route("/admin/pilots/<int:application_id>/acceptance", methods=["POST"])
@roles_required(Role.ADMIN)
def acceptance(application_id: int):
    application = _pilot_application(application_id)
    form = AcceptanceForm()
    if form.validate() and commit_change(
            lambda: services.record_acceptance(current_user, application, accept=form.decision.data == "accept",
                                               figures=_figures(application, form), note=form.note.data),
            _("The final acceptance has been recorded."), form=form):
        return redirect(url_for("pilots.admin_show", application_id=application.id))
    return _admin_page(application, acceptance_form=form), 400
