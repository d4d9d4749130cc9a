"""Agencies, assessors and conflicts: the agencies with their yearly caps (administrators), an
assessor's expertise (edited by administrators) and conflict declarations (recorded by the
assessor themself or by administrators; withdrawn by administrators only)."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from certify.assessment import conflicts
from certify.assessment.agencies import (
    agency_profile,
    assessor_profile,
    cap_holders,
    cap_unit,
    create_agency,
    evaluations_by_holder,
    open_loads,
    save_agency_profile,
    save_assessor_profile,
    yearly_cap,
)
from certify.assessment.blueprint import bp
from certify.assessment.forms import AgencyForm, AgencyProfileForm, AssessorProfileForm, ConflictForm
from certify.assessment.models import ConflictDeclaration
from certify.assessment.permissions import can_declare_conflicts
from certify.auth.models import Role, User
from certify.auth.permissions import roles_required
from certify.core.forms import ActionForm, commit_change, page_number
from certify.extensions import db
from certify.organisations.models import Organisation, OrganisationKind
from certify.timeutil import local_today


@bp.route("/assessment/agencies", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def agencies():
    form = AgencyForm()
    form.fill_organisation_choices()
    created = []
    organisation = {k: v for k, v in form.organisation_data(OrganisationKind.AGENCY).items()
                    if k != "kind"}
    if form.validate_on_submit() and commit_change(lambda: created.append(create_agency(
            current_user, legal_representative=form.legal_representative.data,
            qualification=form.qualification.data, **organisation)), form=form):
        flash(_("The agency %(name)s has been registered.", name=created[0].name), "success")
        return redirect(url_for("assessment.agency", agency_id=created[0].id))
    page = db.paginate(
        select(Organisation).where(Organisation.kind == OrganisationKind.AGENCY)
        .order_by(Organisation.name, Organisation.id),
        page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    ids = [agency.id for agency in page.items]
    year = local_today().year
    holders = cap_holders()
    counts = evaluations_by_holder({holders[i] for i in ids}, year)
    staff = dict(db.session.execute(
        select(User.organisation_id, func.count())
        .where(User.role == Role.ASSESSOR, User.organisation_id.in_(ids))
        .group_by(User.organisation_id)).all())
    return render_template("assessment/agencies.html", page=page, counts=counts, staff=staff,
                           holders=holders, agency_names=_agency_names(holders, ids), year=year,
                           cap=yearly_cap(), unit=cap_unit(), form=form)


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
    profile = agency_profile(agency)
    form = AgencyProfileForm(obj=profile)
    if form.validate_on_submit() and commit_change(lambda: save_agency_profile(
            current_user, agency, legal_representative=form.legal_representative.data,
            qualification=form.qualification.data), _("Saved."), form=form):
        return redirect(url_for("assessment.agency", agency_id=agency.id))
    assessors = db.session.execute(
        select(User).where(User.organisation_id == agency.id, User.role == Role.ASSESSOR)
        .order_by(User.name)).scalars().all()
    year = local_today().year
    holders = cap_holders()
    holder = holders[agency.id]
    return render_template("assessment/agency.html", agency=agency, form=form, assessors=assessors,
                           loads=open_loads(), year=year, holder=holder,
                           agency_names=_agency_names(holders, [agency.id]),
                           count=evaluations_by_holder([holder], year).get(holder.key, 0),
                           cap=yearly_cap(), unit=cap_unit())


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
    profile = assessor_profile(assessor)
    form = AssessorProfileForm(obj=profile)
    form.fill_choices()
    if request.method == "POST":
        if not current_user.is_admin:
            abort(403)
        if form.validate_on_submit() and commit_change(lambda: save_assessor_profile(
                current_user, assessor, kinds=form.kinds.data, industries=form.industries.data,
                city_code=form.city_code.data or None, title=form.title.data), _("Saved."), form=form):
            return redirect(url_for("assessment.assessor", user_id=user_id))
    conflict_form = ConflictForm()
    conflict_form.fill_choices()
    return _assessor_page(assessor, profile, form, conflict_form)


def _assessor_page(assessor, profile, form, conflict_form):
    return render_template("assessment/assessor.html", assessor=assessor, profile=profile,
                           form=form, conflict_form=conflict_form,
                           conflicts=conflicts.conflicts_of(assessor), action_form=ActionForm())


@bp.route("/assessment/assessors/<int:user_id>/conflicts", methods=["POST"])
@login_required
def declare_conflict(user_id: int):
    assessor = _load_assessor(user_id)
    form = ConflictForm()
    form.fill_choices()
    if form.validate_on_submit() and commit_change(lambda: conflicts.declare_conflict(
            current_user, assessor, credit_code=form.credit_code.data,
            organisation_name=form.organisation_name.data, relation=form.relation.data,
            starts_on=form.starts_on.data, ends_on=form.ends_on.data, note=form.note.data),
            _("The conflict of interest has been recorded."), form=form):
        return redirect(url_for("assessment.assessor", user_id=user_id))
    profile = assessor_profile(assessor)
    profile_form = AssessorProfileForm(obj=profile, formdata=None)
    profile_form.fill_choices()
    return _assessor_page(assessor, profile, profile_form, form)


@bp.route("/assessment/conflicts/<int:declaration_id>/withdraw", methods=["POST"])
@roles_required(Role.ADMIN)
def withdraw_conflict(declaration_id: int):
    declaration = db.get_or_404(ConflictDeclaration, declaration_id)
    if ActionForm().validate_on_submit():
        commit_change(lambda: conflicts.withdraw_conflict(current_user, declaration),
                      _("The declaration has been withdrawn."))
    return redirect(url_for("assessment.assessor", user_id=declaration.assessor_id))
