"""Assessment pages.

Administrators: the assignment queue with bulk assignment (preview, then confirm), assigning
one application with ranked suggestions, the assessments of an application side by side, the
agencies and assessors with their expertise and conflicts. Assessors: their assignments,
accepting or declining, the scoring pages built from the pinned rule file, the on-site record
and submission, their conflict declarations. Applicants: the assessors' comments meant for
them, and the evaluation report once the department has decided.

Every object is loaded through a ``load_*`` helper that answers 404 when the user may not reach
it, so that no one learns of assignments or applications that are not theirs.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from certify import storage
from certify.admin.forms import ActionForm
from certify.applications.models import Application

# One transaction per change, with the refusal flashed; the version the page was opened at.
from certify.assessment import services
from certify.assessment.compare import compare, differs_from_self, needs_comment
from certify.assessment.forms import (
    AgencyForm,
    AgencyProfileForm,
    AssessorProfileForm,
    AssignForm,
    BulkAssignForm,
    ConflictForm,
    DeclineForm,
    RescoreForm,
    SecondAssessorForm,
    SheetDetailsForm,
    WithdrawAssignmentForm,
)
from certify.assessment.models import (
    OPEN_ASSIGNMENT,
    AssessorRole,
    Assignment,
    AssignmentStatus,
    ConflictDeclaration,
    EvaluationReport,
)
from certify.assessment.permissions import (
    can_declare_conflicts,
    can_download_report,
    can_read_assessor_comments,
    can_respond_to_assignment,
    can_score,
    can_see_sheet,
    can_view_assignment,
)
from certify.assessment.reports import latest_report, request_report
from certify.auth.models import Role, User
from certify.auth.permissions import roles_required
from certify.core.forms import (
    commit_change,
    confirmation_page,
    confirmed,
    page_number,
    refusal_message,
    seen_version,
    show_service_error,
)
from certify.core.ids import is_row_id
from certify.exceptions import ServiceError
from certify.extensions import db
from certify.organisations.models import Organisation, OrganisationKind
from certify.rulesets.applied import (
    confirmed_declarations,
    live_sheet_result,
    pages,
    rule_set_of,
    self_result,
    sheet_result,
    terms_for_new,
    terms_of,
)
from certify.rulesets.forms import answer_error_message, answer_field, form_value, parse_page
from certify.rulesets.services import can_rescore, rescore_application, rescores_of
from certify.uploads import send_evidence, servable_evidence
from certify.workflow import Status

bp = Blueprint("assessment", __name__)

# Content types shown in the browser rather than downloaded: the viewer cannot run scripts in
# them (the response is also sandboxed).
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})


def note_field(kind: str, indicator_id: str) -> str:
    return f"n-{kind}-{indicator_id}"


def _form_saved(form, change) -> bool:
    """Run ``change`` as one transaction; a refusal goes to the form field it concerns."""
    try:
        change()
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        show_service_error(form, error)
        return False
    return True


def load_assignment(assignment_id: int) -> Assignment:
    """The assignment, if the current user may see it (404 otherwise)."""
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or not can_view_assignment(current_user, assignment):
        abort(404)
    return assignment


def _load_own_sheet(assignment_id: int):
    """The current assessor's own accepted or submitted assignment and its sheet (404 for
    everyone else, administrators included: they read submitted sheets side by side)."""
    assignment = load_assignment(assignment_id)
    if assignment.assessor_id != current_user.id or assignment.sheet is None:
        abort(404)
    return assignment, assignment.sheet


def _load_application(application_id: int) -> Application:
    application = db.session.get(Application, application_id)
    if application is None:
        abort(404)
    return application


def _person(user_id: int | None) -> User | None:
    return db.session.get(User, user_id) if user_id and is_row_id(user_id) else None


# ---- administrators: queue, assignment, bulk ----------------------------------------------------


# Rows a page of the administrators' lists shows: the queue, the assessments under way, the agencies.
PAGE_SIZE = 50


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
        page=page_number(), per_page=PAGE_SIZE, error_out=False)
    form = BulkAssignForm()
    form.fill_choices(services.active_assessors())
    return render_template("assessment/index.html", waiting=waiting, under_way=_under_way(1),
                           form=form, today=services.local_today())


@bp.route("/assessment/under-way")
@roles_required(Role.ADMIN)
def under_way():
    """Every assessment under way, the earliest due first, a page at a time."""
    return render_template("assessment/under_way.html", under_way=_under_way(page_number()),
                           today=services.local_today())


def _under_way(page: int):
    """A page of the assignments waiting for the assessor's answer or being scored."""
    return db.paginate(
        select(Assignment).options(joinedload(Assignment.agency))
        .where(Assignment.status.in_(OPEN_ASSIGNMENT)).order_by(Assignment.due_on, Assignment.id),
        page=page, per_page=PAGE_SIZE, error_out=False)


@bp.route("/assessment/bulk", methods=["POST"])
@roles_required(Role.ADMIN)
def bulk_assign():
    """Preview (nothing saved) and, when confirmed, assign the acceptable applications in one
    transaction."""
    form = BulkAssignForm()
    form.fill_choices(services.active_assessors())
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
        lines = services.preview_bulk_assignment(applications, lead=lead, second=second)
        return render_template("assessment/bulk_preview.html", form=form, lines=lines,
                               lead=lead, second=second, ids=ids)
    try:
        assigned, refused = services.bulk_assign(current_user, applications, lead=lead,
                                                 second=second, due_on=form.due_on.data)
        db.session.commit()
    except (ServiceError, StaleDataError) as error:
        db.session.rollback()
        flash(refusal_message(error), "error")
        return redirect(url_for("assessment.index"))
    flash(_("%(count)d applications assigned.", count=len(assigned)), "success")
    if refused:
        flash(_("%(count)d applications were not assigned: see the reasons in the preview.",
                count=len(refused)), "error")
    return redirect(url_for("assessment.index"))


def _comparison(application: Application, sheets):
    """Rows comparing the self-assessment with each given (submitted or own) sheet."""
    rule_set = rule_set_of(application)
    indicators = [i for _p, _s, page in pages(rule_set, application.industry_code, application.not_applicable)
                  for i in page]
    results = [sheet_result(sheet) for sheet in sheets]
    margin, total_margin = services.disagreement_margins()
    own_result = self_result(application)
    rows = compare(indicators, application.answers or {}, own_result,
                   [(sheet.answers or {}, result) for sheet, result in zip(sheets, results, strict=True)], margin)
    totals_disagree = (len(results) >= 2 and (abs(results[0].total - results[1].total) > total_margin
                                             or results[0].passed != results[1].passed))
    return {"rows": rows, "results": results, "sheets": sheets, "rule_set": rule_set,
            "totals_disagree": totals_disagree, "margin": margin, "total_margin": total_margin,
            "self_result": own_result}


def submitted_comparison(application: Application, current=None):
    """The self-assessment beside every submitted score sheet of the current round, or None
    while no sheet has been submitted (for administrators: the assessment and decision pages)."""
    current = services.current_assignments(application) if current is None else current
    submitted = [a.sheet for a in current if a.sheet is not None and a.sheet.is_submitted]
    return _comparison(application, submitted) if submitted else None


@bp.route("/assessment/applications/<int:application_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def application(application_id: int, withdraw_form: WithdrawAssignmentForm | None = None):
    """An application's assessment for administrators: assign (with suggestions), add a second
    assessor, follow the assignments, compare the submitted sheets, the report."""
    application = _load_application(application_id)
    assessors = services.active_assessors()
    form = AssignForm()
    form.fill_choices(assessors)
    second_form = SecondAssessorForm()
    second_form.fill_choices(assessors)
    if request.method == "POST" and form.validate_on_submit():
        lead, second = _person(form.lead_id.data), _person(form.second_id.data)
        if lead is None:
            form.lead_id.errors = [_("Choose the lead assessor.")]
        else:
            try:
                services.assign_assessors(current_user, application, lead=lead, second=second,
                                          due_on=form.due_on.data)
                db.session.commit()
            except services.AssignmentRefused as refusal:
                db.session.rollback()
                field = form._fields.get(refusal.field)
                field.errors = list(field.errors) + list(refusal.reasons)
            except (ServiceError, StaleDataError) as error:
                db.session.rollback()
                if isinstance(error, ServiceError):
                    show_service_error(form, error)
                else:
                    flash(refusal_message(error), "error")
            else:
                flash(_("The assessors have been assigned and told by e-mail."), "success")
                return redirect(url_for("assessment.application", application_id=application.id))
    current = services.current_assignments(application)
    return render_template(
        "assessment/application.html", application=application, form=form,
        second_form=second_form, current=current, history=services.assignment_history(application),
        suggestions=services.suggestions(application) if application.status == Status.SUBMITTED else [],
        comparison=submitted_comparison(application, current),
        reports=_reports(application), today=services.local_today(), action_form=ActionForm(),
        has_second=any(a.role == AssessorRole.SECOND for a in current),
        terms=terms_of(application), terms_today=terms_for_new(rule_set_of(application)),
        rescore_form=RescoreForm() if can_rescore(current_user, application) else None,
        rescores=rescores_of(application), cap=services.yearly_cap(),
        withdraw_form=withdraw_form or WithdrawAssignmentForm(),
        can_withdraw=application.status in (Status.ASSIGNED, Status.UNDER_ASSESSMENT),
    )


# The page above, for the actions below that show it again with their form's errors (their own
# ``application`` variable hides the view's name).
application_page = application


@bp.route("/assessment/applications/<int:application_id>/withdraw", methods=["POST"])
@roles_required(Role.ADMIN)
def withdraw_assignment(application_id: int):
    """Take a stalled assessment back from its assessors (asked to confirm first)."""
    application = _load_application(application_id)
    form = WithdrawAssignmentForm()
    if not form.validate_on_submit():
        return application_page(application_id, withdraw_form=form), 400
    back = url_for("assessment.application", application_id=application.id)
    if not confirmed():
        names = "、".join(a.assessor.name for a in services.current_assignments(application))
        return confirmation_page(
            _("Withdraw the assignment of %(reference)s", reference=application.reference),
            [_("The assignment of %(assessors)s ends now; their score sheets are kept as history and are "
               "not used again.", assessors=names),
             _("The application goes back to the assignment queue, to be assigned to new assessors."),
             _("The assessors are told by e-mail, with the reason; the applicant is told that new assessors "
               "will be assigned.")],
            button=_("Withdraw the assignment"), cancel_url=back)
    if commit_change(lambda: services.withdraw_assignment(current_user, application, reason=form.reason.data),
                     _("The assignment has been withdrawn; the application is back in the assignment queue."),
                     form=form):
        return redirect(back)
    return application_page(application_id, withdraw_form=form), 400


@bp.route("/assessment/applications/<int:application_id>/rescore", methods=["POST"])
@roles_required(Role.ADMIN)
def rescore(application_id: int):
    """Score the application again with today's settings (the earlier results are kept)."""
    application = _load_application(application_id)
    form = RescoreForm()
    if not form.validate_on_submit():
        flash(_("Say why the application is re-scored."), "error")
        return redirect(url_for("assessment.application", application_id=application_id))
    sheets = [a.sheet for a in services.current_assignments(application) if a.sheet is not None and a.sheet.is_submitted]
    commit_change(lambda: rescore_application(current_user, application, reason=form.reason.data, sheets=sheets),
                  _("The application has been re-scored with today's settings; the earlier results are kept "
                    "beside the new ones."))
    return redirect(url_for("assessment.application", application_id=application_id))


@bp.route("/assessment/applications/<int:application_id>/second", methods=["POST"])
@roles_required(Role.ADMIN)
def add_second(application_id: int):
    application = _load_application(application_id)
    form = SecondAssessorForm()
    form.fill_choices(services.active_assessors())
    assessor = _person(form.second_id.data) if form.validate_on_submit() else None
    if assessor is None:
        flash(_("Choose the second assessor."), "error")
    else:
        try:
            services.add_second_assessor(current_user, application, assessor, due_on=form.due_on.data)
            db.session.commit()
        except services.AssignmentRefused as refusal:
            db.session.rollback()
            for reason in refusal.reasons:
                flash(reason, "error")
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(_("The second assessor has been assigned and told by e-mail."), "success")
    return redirect(url_for("assessment.application", application_id=application.id))


def _reports(application: Application) -> list[EvaluationReport]:
    return db.session.execute(
        select(EvaluationReport).where(EvaluationReport.application_id == application.id)
        .order_by(EvaluationReport.generated_at.desc(), EvaluationReport.id.desc())
    ).scalars().all()


@bp.route("/assessment/applications/<int:application_id>/report", methods=["GET"])
@login_required
def report(application_id: int):
    """The latest evaluation report PDF."""
    application = _load_application(application_id)
    if not can_download_report(current_user, application):
        abort(404)
    found = latest_report(application)
    if found is None or not storage.exists(found.sha256):
        abort(404)
    response = send_file(storage.path_of(found.sha256), mimetype="application/pdf",
                         as_attachment=True, conditional=True, etag=found.sha256,
                         download_name=f"第三方评价报告-{application.reference}.pdf")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/assessment/applications/<int:application_id>/report", methods=["POST"])
@roles_required(Role.ADMIN)
def regenerate_report(application_id: int):
    """Have the report rendered again (e.g. when rendering failed after the assessment was
    reported): a job renders it after the commit, so the request does not wait for it."""
    application = _load_application(application_id)
    if ActionForm().validate_on_submit():
        commit_change(lambda: request_report(application, current_user),
                      _("The evaluation report is being generated; it will appear on this page "
                        "when it is ready."))
    return redirect(url_for("assessment.application", application_id=application_id))


# ---- agencies, assessors and conflicts --------------------------------------------------------


@bp.route("/assessment/agencies", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def agencies():
    form = AgencyForm()
    form.fill_organisation_choices()
    created = []
    organisation = {k: v for k, v in form.organisation_data(OrganisationKind.AGENCY).items()
                    if k != "kind"}
    if form.validate_on_submit() and _form_saved(form, lambda: created.append(services.create_agency(
            current_user, legal_representative=form.legal_representative.data,
            qualification=form.qualification.data, **organisation))):
        flash(_("The agency %(name)s has been registered.", name=created[0].name), "success")
        return redirect(url_for("assessment.agency", agency_id=created[0].id))
    page = db.paginate(
        select(Organisation).where(Organisation.kind == OrganisationKind.AGENCY)
        .order_by(Organisation.name, Organisation.id),
        page=page_number(), per_page=PAGE_SIZE, error_out=False)
    ids = [agency.id for agency in page.items]
    year = services.local_today().year
    holders = services.cap_holders()
    counts = services.evaluations_by_holder({holders[i] for i in ids}, year)
    staff = dict(db.session.execute(
        select(User.organisation_id, func.count())
        .where(User.role == Role.ASSESSOR, User.organisation_id.in_(ids))
        .group_by(User.organisation_id)).all())
    return render_template("assessment/agencies.html", page=page, counts=counts, staff=staff,
                           holders=holders, agency_names=_agency_names(holders, ids), year=year,
                           cap=services.yearly_cap(), unit=services.cap_unit(), form=form)


def _agency_names(holders, ids) -> dict[int, str]:
    """The names of the agencies sharing a cap with any of ``ids``."""
    shared = set().union(*(holders[i].agency_ids for i in ids)) if ids else set()
    return dict(db.session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(shared))).all()) if shared else {}


@bp.route("/assessment/agencies/<int:agency_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def agency(agency_id: int):
    agency = db.session.get(Organisation, agency_id)
    if agency is None or agency.kind != OrganisationKind.AGENCY:
        abort(404)
    profile = services.agency_profile(agency)
    form = AgencyProfileForm(obj=profile)
    if form.validate_on_submit() and _form_saved(form, lambda: services.save_agency_profile(
            current_user, agency, legal_representative=form.legal_representative.data,
            qualification=form.qualification.data)):
        flash(_("Saved."), "success")
        return redirect(url_for("assessment.agency", agency_id=agency.id))
    assessors = db.session.execute(
        select(User).where(User.organisation_id == agency.id, User.role == Role.ASSESSOR)
        .order_by(User.name)).scalars().all()
    year = services.local_today().year
    holders = services.cap_holders()
    holder = holders[agency.id]
    return render_template("assessment/agency.html", agency=agency, form=form, assessors=assessors,
                           loads=services.open_loads(), year=year, holder=holder,
                           agency_names=_agency_names(holders, [agency.id]),
                           count=services.evaluations_by_holder([holder], year).get(holder.key, 0),
                           cap=services.yearly_cap(), unit=services.cap_unit())


def _load_assessor(user_id: int) -> User:
    """An assessor's page: administrators, and the assessor themself (404 for anyone else)."""
    assessor = db.session.get(User, user_id)
    if assessor is None or assessor.role != Role.ASSESSOR or not can_declare_conflicts(current_user, assessor):
        abort(404)
    return assessor


@bp.route("/assessment/assessors/<int:user_id>", methods=["GET", "POST"])
@login_required
def assessor(user_id: int):
    """An assessor's expertise (edited by administrators) and conflict declarations."""
    assessor = _load_assessor(user_id)
    profile = services.assessor_profile(assessor)
    form = AssessorProfileForm(obj=profile)
    form.fill_choices()
    if request.method == "POST":
        if not current_user.is_admin:
            abort(403)
        if form.validate_on_submit() and _form_saved(form, lambda: services.save_assessor_profile(
                current_user, assessor, kinds=form.kinds.data, industries=form.industries.data,
                city_code=form.city_code.data or None, title=form.title.data)):
            flash(_("Saved."), "success")
            return redirect(url_for("assessment.assessor", user_id=user_id))
    conflict_form = ConflictForm()
    conflict_form.fill_choices()
    return _assessor_page(assessor, profile, form, conflict_form)


def _assessor_page(assessor, profile, form, conflict_form):
    return render_template("assessment/assessor.html", assessor=assessor, profile=profile,
                           form=form, conflict_form=conflict_form,
                           conflicts=services.conflicts_of(assessor), action_form=ActionForm())


@bp.route("/assessment/assessors/<int:user_id>/conflicts", methods=["POST"])
@login_required
def declare_conflict(user_id: int):
    assessor = _load_assessor(user_id)
    form = ConflictForm()
    form.fill_choices()
    if form.validate_on_submit() and _form_saved(form, lambda: services.declare_conflict(
            current_user, assessor, credit_code=form.credit_code.data,
            organisation_name=form.organisation_name.data, relation=form.relation.data,
            starts_on=form.starts_on.data, ends_on=form.ends_on.data, note=form.note.data)):
        flash(_("The conflict of interest has been recorded."), "success")
        return redirect(url_for("assessment.assessor", user_id=user_id))
    profile = services.assessor_profile(assessor)
    profile_form = AssessorProfileForm(obj=profile, formdata=None)
    profile_form.fill_choices()
    return _assessor_page(assessor, profile, profile_form, form)


@bp.route("/assessment/conflicts/<int:declaration_id>/withdraw", methods=["POST"])
@roles_required(Role.ADMIN)
def withdraw_conflict(declaration_id: int):
    declaration = db.get_or_404(ConflictDeclaration, declaration_id)
    if ActionForm().validate_on_submit():
        commit_change(lambda: services.withdraw_conflict(current_user, declaration),
                _("The declaration has been withdrawn."))
    return redirect(url_for("assessment.assessor", user_id=declaration.assessor_id))


# ---- assessors: assignments and scoring -------------------------------------------------------


@bp.route("/assessment/assignments")
@roles_required(Role.ASSESSOR)
def my_assignments():
    # Open assignments first; paginated, as an assessor's history grows year after year.
    page = db.paginate(
        select(Assignment).where(Assignment.assessor_id == current_user.id)
        .order_by(Assignment.status.in_((AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED)).desc(),
                  Assignment.due_on, Assignment.id.desc()),
        page=page_number(), per_page=50, error_out=False)
    return render_template("assessment/my_assignments.html", assignments=page.items, page=page,
                           today=services.local_today())


def _sections(assignment: Assignment, sheet, result):
    application = assignment.application
    rule_set = rule_set_of(application)
    own_result = self_result(application)
    answers = sheet.answers or {} if sheet else {}
    confirmed = confirmed_declarations(sheet) if sheet else {}
    rows = []
    for page_id, section, indicators in pages(rule_set, application.industry_code, application.not_applicable):
        rows.append({
            "id": page_id, "section": section, "count": len(indicators),
            "scored": sum(1 for i in indicators if i.id in answers or i.id in confirmed),
            "self": next((s for s in own_result.sections if s.id == page_id), None),
            "mine": next((s for s in result.sections if s.id == page_id), None) if result else None,
        })
    return rows, own_result


@bp.route("/assessment/assignments/<int:assignment_id>")
@login_required
def assignment(assignment_id: int, details_form: SheetDetailsForm | None = None):
    """An assignment: accept or decline; then the sheet's overview, on-site record,
    recommendation and submission; after submission, the comparison with a colleague's sheet.
    ``details_form`` is a refused form of the on-site record, shown back as typed."""
    assignment = load_assignment(assignment_id)
    sheet = assignment.sheet
    own = assignment.assessor_id == current_user.id
    result = sheet_result(sheet) if sheet is not None else None
    sections, own_result = _sections(assignment, sheet, result)
    if details_form is None and sheet is not None:
        details_form = SheetDetailsForm(obj=sheet, formdata=None)
        details_form.version.data = str(sheet.version)
        details_form.recommendation.data = sheet.recommendation.value if sheet.recommendation else None
    comparison = None
    if own and sheet is not None and sheet.is_submitted:
        others = [a.sheet for a in services.current_assignments(assignment.application)
                  if a.id != assignment.id and a.sheet is not None]
        visible = [s for s in others if can_see_sheet(current_user, s, own_sheet=sheet)]
        comparison = _comparison(assignment.application, [sheet] + visible)
    return render_template(
        "assessment/assignment.html", assignment=assignment, sheet=sheet, result=result, own=own,
        rule_set=rule_set_of(assignment.application),
        sections=sections, self_result=own_result, details_form=details_form,
        decline_form=DeclineForm(), action_form=ActionForm(),
        can_respond=can_respond_to_assignment(current_user, assignment),
        can_score=can_score(current_user, assignment),
        problems=services.submission_problems(sheet) if sheet is not None and not sheet.is_submitted else [],
        comparison=comparison, report=latest_report(assignment.application)
        if can_download_report(current_user, assignment.application) else None,
        today=services.local_today(),
    )


@bp.route("/assessment/assignments/<int:assignment_id>/accept", methods=["POST"])
@login_required
def accept(assignment_id: int):
    assignment = load_assignment(assignment_id)
    if ActionForm().validate_on_submit():
        commit_change(lambda: services.accept_assignment(current_user, assignment),
                _("You have accepted the assignment. The score sheet is open."))
    return redirect(url_for("assessment.assignment", assignment_id=assignment_id))


@bp.route("/assessment/assignments/<int:assignment_id>/decline", methods=["POST"])
@login_required
def decline(assignment_id: int):
    assignment = load_assignment(assignment_id)
    if not can_respond_to_assignment(current_user, assignment):
        abort(403)  # refused before looking at the form, so nothing is said about it
    form = DeclineForm()
    if not form.validate_on_submit():
        flash(_("Say why you decline the assignment."), "error")
        return redirect(url_for("assessment.assignment", assignment_id=assignment_id))
    if commit_change(lambda: services.decline_assignment(current_user, assignment, reason=form.reason.data),
               _("You have declined the assignment. The department has been told.")):
        return redirect(url_for("assessment.my_assignments"))
    return redirect(url_for("assessment.assignment", assignment_id=assignment_id))


def _parse_notes(rule_set, indicators, form) -> dict:
    notes = {}
    for indicator in indicators:
        by_kind = {}
        for kind in rule_set.note_kinds:
            text = form.get(note_field(kind.key, indicator.id))
            if text is not None:
                by_kind[kind.key] = text.strip()[:4000]
        if by_kind:
            notes[indicator.id] = by_kind
    return notes


@bp.route("/assessment/assignments/<int:assignment_id>/sections/<page_id>", methods=["GET", "POST"])
@login_required
def section(assignment_id: int, page_id: str):
    """One section of the score sheet, generated from the application's pinned rule file: per
    indicator the self-assessment and its evidence, the assessor's score and notes."""
    assignment, sheet = _load_own_sheet(assignment_id)
    application = assignment.application
    rule_set = rule_set_of(application)
    declared = application.not_applicable or {}
    all_pages = pages(rule_set, application.industry_code, declared)
    position = next((n for n, page in enumerate(all_pages) if page[0] == page_id), None)
    if position is None:
        abort(404)
    section_obj, indicators = all_pages[position][1:]
    editable = can_score(current_user, assignment)
    errors, typed, typed_notes, typed_decisions = {}, {}, {}, {}
    if request.method == "POST":
        if not editable:
            abort(403)
        parsed = parse_page(indicators, request.form)
        notes = _parse_notes(rule_set, indicators, request.form)
        typed_decisions = {i.id: request.form.get(decision_field(i.id)) for i in indicators
                           if i.id in declared and request.form.get(decision_field(i.id))}
        errors, typed = dict(parsed.errors), dict(parsed.raw)
        try:
            services.save_scores(current_user, sheet, parsed, notes, seen_version=seen_version(),
                                 decisions=typed_decisions)
            db.session.commit()
        except (ServiceError, StaleDataError) as error:
            db.session.rollback()
            # Everything typed on this page is shown back, valid or not.
            typed = {i.id: request.form.get(answer_field(i.id), "") for i in indicators}
            typed_notes = notes
            flash(error.message if isinstance(error, ServiceError) else services.StaleSheet().message,
                  "error")
            assignment, sheet = _load_own_sheet(assignment_id)
        else:
            if errors:
                flash(_("Some scores could not be saved: see the messages below. Everything "
                        "else has been saved."), "error")
            else:
                flash(_("Saved."), "success")
                target = request.form.get("go")
                if target == "next" and position + 1 < len(all_pages):
                    return redirect(url_for("assessment.section", assignment_id=assignment_id,
                                            page_id=all_pages[position + 1][0]))
                if target == "overview":
                    return redirect(url_for("assessment.assignment", assignment_id=assignment_id))
                return redirect(url_for("assessment.section", assignment_id=assignment_id,
                                        page_id=page_id))
    stored = sheet.answers or {}
    values = {i.id: typed[i.id] if i.id in typed else form_value(i, stored.get(i.id), sheet.answer_texts)
              for i in indicators}
    notes = {i.id: typed_notes.get(i.id) or (sheet.notes or {}).get(i.id, {}) for i in indicators}
    decisions = {**(sheet.not_applicable or {}), **typed_decisions}
    result, refused = live_sheet_result(sheet) if sheet.result is None else (sheet_result(sheet), [])
    for error in refused:
        indicator = next((i for i in indicators if i.id == error.indicator_id), None)
        if indicator is not None and indicator.id not in errors:
            errors[indicator.id] = answer_error_message(error, indicator)
    own_result = self_result(application)
    self_answers = application.answers or {}
    rows = {}
    for indicator in indicators:
        mine, theirs = _row_of(result, indicator.id), _row_of(own_result, indicator.id)
        answer = stored.get(indicator.id)
        rows[indicator.id] = {
            "self_value": form_value(indicator, self_answers.get(indicator.id), application.answer_texts),
            "self_points": theirs.points if theirs else None, "self_met": theirs.met if theirs else None,
            "declared": declared.get(indicator.id), "decision": decisions.get(indicator.id),
            "points": mine.points if mine else None, "met": mine.met if mine else None,
            "answered": answer is not None,
            "differs": bool(mine) and differs_from_self(indicator, self_answers.get(indicator.id), answer,
                                                        mine.points),
            "needs_comment": decisions.get(indicator.id) == "refused" or (bool(mine) and needs_comment(
                indicator, self_answers.get(indicator.id), answer, mine.points, mine.met)),
            "comment_kinds": services.comment_kinds(rule_set, indicator),
        }
    return render_template(
        "assessment/section.html", assignment=assignment, application=application, sheet=sheet,
        rule_set=rule_set, section=section_obj, page_id=page_id, indicators=indicators,
        values=values, notes=notes, errors=errors, editable=editable, result=result,
        self_result=own_result, rows=rows, all_pages=all_pages, position=position,
        answer_field=answer_field, note_field=note_field, decision_field=decision_field,
    )


def decision_field(indicator_id: str) -> str:
    """The assessor's decision on the applicant's not-applicable declaration."""
    return f"nad-{indicator_id}"


def _row_of(result, indicator_id: str):
    """The indicator's row of a result, or None where it was not scored (declared not applicable
    and confirmed, or left to an alternative)."""
    try:
        return result.indicator(indicator_id)
    except KeyError:
        return None


@bp.route("/assessment/assignments/<int:assignment_id>/sheet", methods=["POST"])
@login_required
def save_sheet(assignment_id: int):
    """Save the on-site record, conclusion and recommendation; with ``go=submit``, submit."""
    _own, sheet = _load_own_sheet(assignment_id)
    form = SheetDetailsForm()
    if not form.validate_on_submit():
        return assignment(assignment_id, details_form=form), 400
    submitting = request.form.get("go") == "submit"
    # The details are saved first, in their own transaction, so that a refused submission
    # never loses what was typed.
    saved = commit_change(lambda: services.save_sheet_details(
        current_user, sheet, site_visit_on=form.site_visit_on.data,
        site_visit_participants=form.site_visit_participants.data,
        site_visit_findings=form.site_visit_findings.data,
        recommendation=form.recommendation.data or None,
        return_questions=form.return_questions.data, conclusion=form.conclusion.data,
        highlights=form.highlights.data, seen_version=seen_version()), _("Saved."), form=form)
    if not saved and form.errors:  # refused at a field: shown beside it, everything typed kept
        return assignment(assignment_id, details_form=form), 400
    if saved and submitting:
        commit_change(lambda: services.submit_sheet(current_user, sheet),
                _("The score sheet has been submitted."))
    return redirect(url_for("assessment.assignment", assignment_id=assignment_id))


@bp.route("/assessment/assignments/<int:assignment_id>/evidence/<int:evidence_id>")
@login_required
def evidence(assignment_id: int, evidence_id: int):
    """The applicant's evidence, shown in the browser where it is safe (PDF and images) so that
    the assessor reads it beside the score sheet; other kinds are downloaded."""
    assignment = load_assignment(assignment_id)
    if assignment.assessor_id != current_user.id:
        abort(404)
    found = servable_evidence(assignment.application_id, evidence_id)
    if found is None:
        abort(404)
    return send_evidence(found, inline=found.content_type in INLINE_TYPES)


# ---- applicants --------------------------------------------------------------------------------


@bp.route("/assessment/applications/<int:application_id>/feedback")
@login_required
def feedback(application_id: int):
    """The assessors' comments meant for the applicant (never internal notes), once the
    application has been returned to it or decided."""
    application = _load_application(application_id)
    if not can_read_assessor_comments(current_user, application):
        abort(404)
    rule_set = rule_set_of(application)
    sheets = [a.sheet for a in _last_round_assignments(application)
              if a.sheet is not None and a.sheet.is_submitted]
    comments = []
    for _page, section_obj, indicators in pages(rule_set, application.industry_code, application.not_applicable):
        for indicator in indicators:
            texts = [(sheet.notes or {}).get(indicator.id, {}).get(kind) for sheet in sheets
                     for kind in indicator.applicant_visible_notes]
            texts = [text for text in texts if text]
            if texts:
                comments.append((section_obj, indicator, texts))
    return render_template("assessment/feedback.html", application=application, comments=comments,
                           sheets=sheets, report=latest_report(application)
                           if can_download_report(current_user, application) else None)


def _last_round_assignments(application: Application) -> list[Assignment]:
    """The submitted assignments of the latest assessed round (the round before a return)."""
    rounds = db.session.execute(
        select(func.max(Assignment.submission_number)).where(
            Assignment.application_id == application.id,
            Assignment.status == AssignmentStatus.SUBMITTED)
    ).scalar()
    if rounds is None:
        return []
    return db.session.execute(
        select(Assignment).where(Assignment.application_id == application.id,
                                 Assignment.submission_number == rounds,
                                 Assignment.status == AssignmentStatus.SUBMITTED)
        .order_by(Assignment.role)
    ).scalars().all()


def panel(application: Application) -> dict:
    """What the application page shows about the assessment, for the current user."""
    if not current_user.is_authenticated:
        return {}
    data = {"report": can_download_report(current_user, application) and latest_report(application)}
    if current_user.is_admin:
        data["manage"] = True
    elif current_user.is_assessor:
        data["assignments"] = [a for a in services.current_assignments(application)
                               if a.assessor_id == current_user.id]
    data["feedback"] = can_read_assessor_comments(current_user, application) and bool(
        _last_round_assignments(application))
    return data

