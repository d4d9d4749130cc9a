"""The administrators' assignment pages: the queue with bulk assignment (preview, then confirm),
the assessments under way, and an application's assessment: assigning with ranked suggestions,
a second assessor, withdrawing a stalled assignment, re-scoring, the sheets side by side."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from certify.applications.models import Application
from certify.assessment import agencies, assignment, rounds
from certify.assessment.blueprint import bp
from certify.assessment.comparison import submitted_comparison
from certify.assessment.forms import (
    AssignForm,
    BulkAssignForm,
    RescoreForm,
    SecondAssessorForm,
    WithdrawAssignmentForm,
)
from certify.assessment.models import OPEN_ASSIGNMENT, AssessorRole, Assignment
from certify.assessment.reports import reports_of
from certify.assessment.views.common import load_application
from certify.auth.models import Role, User
from certify.auth.permissions import roles_required
from certify.core.forms import ActionForm, commit_change, confirmation_page, confirmed, page_number
from certify.core.ids import is_row_id
from certify.extensions import db
from certify.rulesets.applied import rule_set_of, terms_for_new, terms_of
from certify.rulesets.services import can_rescore, rescore_application, rescores_of
from certify.timeutil import local_today
from certify.workflow import ASSESSMENT_UNDER_WAY, Status


def _person(user_id: int | None) -> User | None:
    return db.session.get(User, user_id) if user_id and is_row_id(user_id) else None


@bp.route("/assessment/")
@login_required
def index():
    """Administrators: applications waiting for assessors, a page at a time, and the first page
    of the assessments under way (the rest on ``under_way``)."""
    if current_user.role == Role.ASSESSOR:
        return redirect(url_for("assessment.my_assignments"))
    if current_user.role != Role.ADMIN:
        abort(404)
    waiting = db.paginate(
        select(Application).where(Application.status == Status.SUBMITTED)
        .order_by(Application.submitted_at, Application.id),
        page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    form = BulkAssignForm()
    form.fill_choices(agencies.active_assessors())
    return render_template("assessment/index.html", waiting=waiting, under_way=_under_way(1),
                           form=form, today=local_today())


@bp.route("/assessment/under-way")
@roles_required(Role.ADMIN)
def under_way():
    """Every assessment under way, the earliest due first, a page at a time."""
    return render_template("assessment/under_way.html", under_way=_under_way(page_number()),
                           today=local_today())


def _under_way(page: int):
    """A page of the assignments waiting for the assessor's answer or being scored."""
    return db.paginate(
        select(Assignment).options(joinedload(Assignment.agency))
        .where(Assignment.status.in_(OPEN_ASSIGNMENT)).order_by(Assignment.due_on, Assignment.id),
        page=page, per_page=current_app.config["PAGE_SIZE"], error_out=False)


@bp.route("/assessment/bulk", methods=["POST"])
@roles_required(Role.ADMIN)
def bulk_assign():
    """Preview (nothing saved) and, when confirmed, assign the acceptable applications in one
    transaction."""
    form = BulkAssignForm()
    form.fill_choices(agencies.active_assessors())
    lead = _person(form.lead_id.data) if form.validate_on_submit() else None
    ids = form.application_ids.data
    if form.application_ids.errors:
        flash(form.application_ids.errors[0], "error")
        return redirect(url_for("assessment.index"))
    if lead is None or not ids:
        flash(_("Choose at least one application and a lead assessor."), "error")
        return redirect(url_for("assessment.index"))
    second = _person(form.second_id.data)
    applications = db.session.execute(
        select(Application).where(Application.id.in_(ids)).order_by(Application.submitted_at)
    ).scalars().all()
    if form.confirm.data != "1":
        lines = assignment.preview_bulk_assignment(applications, lead=lead, second=second)
        return render_template("assessment/bulk_preview.html", form=form, lines=lines,
                               lead=lead, second=second, ids=ids)
    outcome = []
    if not commit_change(lambda: outcome.append(assignment.bulk_assign(
            current_user, applications, lead=lead, second=second, due_on=form.due_on.data))):
        return redirect(url_for("assessment.index"))
    assigned, refused = outcome[0]
    flash(_("%(count)d applications assigned.", count=len(assigned)), "success")
    if refused:
        flash(_("%(count)d applications were not assigned: see the reasons in the preview.",
                count=len(refused)), "error")
    return redirect(url_for("assessment.index"))


@bp.route("/assessment/applications/<int:application_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def application(application_id: int, withdraw_form: WithdrawAssignmentForm | None = None):
    """An application's assessment for administrators: assign (with suggestions), add a second
    assessor, follow the assignments, compare the submitted sheets, the report."""
    application = load_application(application_id)
    assessors = agencies.active_assessors()
    form = AssignForm()
    form.fill_choices(assessors)
    second_form = SecondAssessorForm()
    second_form.fill_choices(assessors)
    if request.method == "POST" and form.validate_on_submit():
        lead, second = _person(form.lead_id.data), _person(form.second_id.data)
        if lead is None:
            form.lead_id.errors = [_("Choose the lead assessor.")]
        elif commit_change(lambda: assignment.assign_assessors(
                current_user, application, lead=lead, second=second, due_on=form.due_on.data),
                _("The assessors have been assigned and told by e-mail."), form=form):
            return redirect(url_for("assessment.application", application_id=application.id))
    current = rounds.current_assignments(application)
    return render_template(
        "assessment/application.html", application=application, form=form,
        second_form=second_form, current=current, history=rounds.assignment_history(application),
        suggestions=assignment.suggestions(application) if application.status == Status.SUBMITTED else [],
        comparison=submitted_comparison(application, current),
        reports=reports_of(application), today=local_today(), action_form=ActionForm(),
        has_second=any(a.role == AssessorRole.SECOND for a in current),
        terms=terms_of(application), terms_today=terms_for_new(rule_set_of(application)),
        rescore_form=RescoreForm() if can_rescore(current_user, application) else None,
        rescores=rescores_of(application), cap=agencies.yearly_cap(),
        withdraw_form=withdraw_form or WithdrawAssignmentForm(),
        can_withdraw=application.status in ASSESSMENT_UNDER_WAY,
    )


@bp.route("/assessment/applications/<int:application_id>/withdraw", methods=["POST"])
@roles_required(Role.ADMIN)
def withdraw_assignment(application_id: int):
    """Take a stalled assessment back from its assessors (asked to confirm first)."""
    withdrawn = load_application(application_id)
    form = WithdrawAssignmentForm()
    if not form.validate_on_submit():
        return application(application_id, withdraw_form=form), 400
    back = url_for("assessment.application", application_id=withdrawn.id)
    if not confirmed():
        names = "、".join(a.assessor.name for a in rounds.current_assignments(withdrawn))
        return confirmation_page(
            _("Withdraw the assignment of %(reference)s", reference=withdrawn.reference),
            [_("The assignment of %(assessors)s ends now; their score sheets are kept as history and are "
               "not used again.", assessors=names),
             _("The application goes back to the assignment queue, to be assigned to new assessors."),
             _("The assessors are told by e-mail, with the reason; the applicant is told that new assessors "
               "will be assigned.")],
            button=_("Withdraw the assignment"), cancel_url=back)
    if commit_change(lambda: assignment.withdraw_assignment(current_user, withdrawn, reason=form.reason.data),
                     _("The assignment has been withdrawn; the application is back in the assignment queue."),
                     form=form):
        return redirect(back)
    return application(application_id, withdraw_form=form), 400


@bp.route("/assessment/applications/<int:application_id>/rescore", methods=["POST"])
@roles_required(Role.ADMIN)
def rescore(application_id: int):
    """Score the application again with today's settings (the earlier results are kept)."""
    application = load_application(application_id)
    form = RescoreForm()
    if not form.validate_on_submit():
        flash(_("Say why the application is re-scored."), "error")
        return redirect(url_for("assessment.application", application_id=application_id))
    sheets = [a.sheet for a in rounds.current_assignments(application) if a.sheet is not None and a.sheet.is_submitted]
    commit_change(lambda: rescore_application(current_user, application, reason=form.reason.data, sheets=sheets),
                  _("The application has been re-scored with today's settings; the earlier results are kept "
                    "beside the new ones."))
    return redirect(url_for("assessment.application", application_id=application_id))


@bp.route("/assessment/applications/<int:application_id>/second", methods=["POST"])
@roles_required(Role.ADMIN)
def add_second(application_id: int):
    application = load_application(application_id)
    form = SecondAssessorForm()
    form.fill_choices(agencies.active_assessors())
    assessor = _person(form.second_id.data) if form.validate_on_submit() else None
    if assessor is None:
        flash(_("Choose the second assessor."), "error")
    else:
        commit_change(lambda: assignment.add_second_assessor(current_user, application, assessor,
                                                              due_on=form.due_on.data),
                      _("The second assessor has been assigned and told by e-mail."))
    return redirect(url_for("assessment.application", application_id=application.id))
