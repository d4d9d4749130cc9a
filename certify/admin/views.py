"""Admin console pages."""

from datetime import datetime, time, timedelta

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case, func, or_, select
from wtforms.fields.choices import SelectChoice

from certify.admin.forms import OrganisationEditForm, StaffUserForm
from certify.applications.kinds import is_kind
from certify.applications.models import Application
from certify.audit import labels as audit_labels
from certify.audit.models import AuditEvent
from certify.audit.verification import latest_verification, request_verification
from certify.auth import services as auth_services
from certify.auth.models import Role, User
from certify.auth.permissions import roles_required
from certify.core.forms import ActionForm, commit_change, date_arg, int_arg, page_number, show_service_error
from certify.core.paging import paginate, paginate_list
from certify.core.spreadsheets import MEDIA_TYPES, to_csv, to_xlsx
from certify.core.urls import url_builder
from certify.exceptions import ServiceError
from certify.extensions import db
from certify.i18n import translated
from certify.mail.models import MailMessage
from certify.organisations import services as organisation_services
from certify.organisations.models import Organisation, OrganisationKind
from certify.organisations.reference import cities
from certify.rulesets import current_registry
from certify.rulesets.editions import COLUMNS as RESCORE_COLUMNS
from certify.rulesets.editions import OUTCOME_LABELS, export_rows, rescore_listed, rule_set_label
from certify.tiers.bureaus import city_bureaus
from certify.tiers.permissions import city_review_kinds
from certify.tiers.services import awaiting_condition
from certify.timeutil import LOCAL_TIMEZONE

bp = Blueprint("admin", __name__)


@bp.route("/")
@roles_required(Role.ADMIN)
def index():
    counts = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    return render_template("admin/index.html", counts=counts)


@bp.route("/users")
@roles_required(Role.ADMIN)
def users():
    query = select(User).join(User.organisation).order_by(User.id)
    search = (request.args.get("q") or "").strip()[:100].lower()
    if search:
        # ``autoescape``: a % or _ typed in the search box is that character, not a wildcard.
        query = query.where(or_(User.email.contains(search, autoescape=True),
                                func.lower(User.name).contains(search, autoescape=True),
                                func.lower(Organisation.name).contains(search, autoescape=True)))
    role = request.args.get("role")
    if role in {r.value for r in Role}:
        query = query.where(User.role == Role(role))
    page = db.paginate(query, page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("admin/users.html", page=page, search=search, role=role,
                           action_form=ActionForm())


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_user():
    form = StaffUserForm()
    agencies = db.session.execute(
        select(Organisation).where(Organisation.kind == OrganisationKind.AGENCY,
                                   Organisation.is_active.is_(True)).order_by(Organisation.name)
    ).scalars().all()
    bureaus = city_bureaus()
    form.organisation_id.choices = [SelectChoice(0, _("— the department (administrators) —"))] + [
        SelectChoice(agency.id, agency.name) for agency in agencies
    ] + [SelectChoice(bureau.id, bureau.name) for bureau in bureaus]
    if form.validate_on_submit():
        role = Role(form.role.data)
        if role == Role.ADMIN:
            organisation = auth_services.authority_organisation()
        else:
            members = bureaus if role == Role.CITY else agencies
            organisation = next((a for a in members if a.id == form.organisation_id.data), None)
        if organisation is None:
            form.organisation_id.errors = [_("Choose the city's bureau.") if role == Role.CITY
                                           else _("Choose the assessor's agency.")]
        else:
            try:
                user = auth_services.create_staff_user(
                    current_user, email=form.email.data, name=form.name.data, role=role,
                    organisation=organisation,
                )
                db.session.commit()
            except ServiceError as error:
                db.session.rollback()
                show_service_error(form, error)
            else:
                flash(_("The account for %(email)s has been created and a link to set a password "
                        "has been sent.", email=user.email), "success")
                return redirect(url_for("admin.users"))
    return render_template("admin/new_user.html", form=form)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles_required(Role.ADMIN)
def set_active(user_id: int):
    form = ActionForm()
    user = db.get_or_404(User, user_id)
    if form.validate_on_submit():
        active = request.form.get("active") == "1"
        try:
            auth_services.set_user_active(current_user, user, active)
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(_("%(email)s has been activated.", email=user.email) if active
                  else _("%(email)s has been deactivated.", email=user.email), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/second-factor", methods=["POST"])
@roles_required(Role.ADMIN)
def reset_second_factor(user_id: int):
    user = db.get_or_404(User, user_id)
    if ActionForm().validate_on_submit():
        commit_change(lambda: auth_services.reset_second_factor(current_user, user),
                      _("The second factor of %(email)s is switched off; they have been told by e-mail.",
                        email=user.email))
    return redirect(url_for("admin.users", q=user.email))


@bp.route("/mail")
@roles_required(Role.ADMIN)
def mail_log():
    query = select(MailMessage).order_by(MailMessage.id.desc())
    recipient = (request.args.get("recipient") or "").strip().lower()
    if recipient:
        query = query.where(MailMessage.recipient == recipient)
    page = db.paginate(query, page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("admin/mail_log.html", page=page, recipient=recipient)


@bp.route("/mail/<int:message_id>")
@roles_required(Role.ADMIN)
def mail_message(message_id: int):
    message = db.get_or_404(MailMessage, message_id)
    return render_template("admin/mail_message.html", message=message)


# ---- organisations ---------------------------------------------------------------------------

@bp.route("/organisations")
@roles_required(Role.ADMIN)
def organisations():
    query = select(Organisation).order_by(Organisation.id)
    search = (request.args.get("q") or "").strip()[:100]
    if search:
        query = query.where(or_(Organisation.name.contains(search, autoescape=True),
                                Organisation.credit_code == search.upper()))
    kind = request.args.get("kind")
    if kind in {k.value for k in OrganisationKind}:
        query = query.where(Organisation.kind == OrganisationKind(kind))
    city = request.args.get("city")
    if city:
        query = query.where(Organisation.city_code == city)
    page = db.paginate(query, page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("admin/organisations.html", page=page, search=search, kind=kind or "",
                           city=city or "", action_form=ActionForm(), kinds=list(OrganisationKind),
                           cities=cities())


@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    form = OrganisationEditForm(obj=organisation)
    if form.validate_on_submit():
        try:
            changed = organisation_services.update_organisation(current_user, organisation, **{
                field: getattr(form, field).data for field in organisation_services.EDITABLE_FIELDS})
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            show_service_error(form, error)
        else:
            flash(_("Saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("admin.organisation", organisation_id=organisation.id))
    members = db.paginate(select(User).where(User.organisation_id == organisation.id).order_by(User.id),
                          page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("admin/organisation.html", organisation=organisation, form=form,
                           members=members, action_form=ActionForm())


@bp.route("/organisations/<int:organisation_id>/active", methods=["POST"])
@roles_required(Role.ADMIN)
def organisation_active(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    if ActionForm().validate_on_submit():
        active = request.form.get("active") == "1"
        try:
            organisation_services.set_organisation_active(current_user, organisation, active)
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(_("Saved."), "success")
    return redirect(url_for("admin.organisation", organisation_id=organisation.id))


# ---- rule files ------------------------------------------------------------------------------

@bp.route("/rule-sets")
@roles_required(Role.ADMIN)
def rule_sets():
    registry = current_registry()
    usage = dict(((rule_set_id, version), count) for rule_set_id, version, count in db.session.execute(
        select(Application.rule_set_id, Application.rule_set_version, func.count())
        .group_by(Application.rule_set_id, Application.rule_set_version)).all())
    return render_template("admin/rule_sets.html", rule_sets=registry.all(), usage=usage,
                           problems=registry.problems, registry=registry,
                           rescore_targets=_rescore_targets(registry))


def _rescore_targets(registry) -> list:
    """The rule sets some answer mapping leads to: those listed units can be re-scored under."""
    targets = {mapping.target for mapping in registry.mappings}
    return [rule_set for rule_set in registry.all() if rule_set.id in targets
            and rule_set.version == registry.get(rule_set.id).version]


def _rescore_run(rule_set_id: str):
    """Listed units re-scored under ``rule_set_id`` (404 when no mapping leads to it)."""
    if rule_set_id not in {rule_set.id for rule_set in _rescore_targets(current_registry())}:
        abort(404)
    return rescore_listed(rule_set_id)


def _outcome_filter() -> str:
    outcome = request.args.get("outcome", "")
    return outcome if outcome in OUTCOME_LABELS else ""


@bp.route("/rule-sets/<rule_set_id>/rescore")
@roles_required(Role.ADMIN)
def rescore(rule_set_id: str):
    run = _rescore_run(rule_set_id)
    outcome = _outcome_filter()
    units = run.with_outcome(outcome)
    titles = {indicator.id: indicator.title for indicator in run.target.indicators}
    return render_template("admin/rescore.html", run=run, outcome=outcome, titles=titles,
                           page=paginate_list(units, per_page=current_app.config["PAGE_SIZE"]), outcome_labels=OUTCOME_LABELS,
                           rule_set_label=rule_set_label, mapping_problems=current_registry().mapping_problems,
                           application_url=url_builder("applications.show", "application_id"))


@bp.route("/rule-sets/<rule_set_id>/rescore.<any(csv, xlsx):fmt>")
@roles_required(Role.ADMIN)
def rescore_export(rule_set_id: str, fmt: str):
    run = _rescore_run(rule_set_id)
    rows = export_rows(run, run.with_outcome(_outcome_filter()))
    if fmt == "csv":
        content = to_csv(rows, RESCORE_COLUMNS)
    else:
        content = to_xlsx(rows, RESCORE_COLUMNS, _("Re-scored under %(rule_set)s", rule_set=translated(run.target.title)))
    response = make_response(content)
    response.headers["Content-Type"] = MEDIA_TYPES[fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="rescore-{run.target.id}.{fmt}"'
    return response


# ---- audit log -------------------------------------------------------------------------------

@bp.route("/audit")
@roles_required(Role.ADMIN)
def audit_log():
    args = request.args
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if args.get("object_type"):
        query = query.where(AuditEvent.object_type == args["object_type"][:40])
    if args.get("object_id"):
        query = query.where(AuditEvent.object_id == args["object_id"][:40])
    if args.get("action"):
        query = query.where(AuditEvent.action.startswith(args["action"][:80]))
    if args.get("actor"):
        actor_ids = select(User.id).where(User.email == args["actor"].strip().lower())
        query = query.where(AuditEvent.actor_id.in_(actor_ids))
    for name, compare in (("since", AuditEvent.created_at.__ge__), ("until", AuditEvent.created_at.__lt__)):
        day = date_arg(name)
        if day is not None:
            moment = datetime.combine(day + timedelta(days=1 if name == "until" else 0), time.min,
                                      tzinfo=LOCAL_TIMEZONE)
            query = query.where(compare(moment))
    page = db.paginate(query, page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    verification, verification_pending = latest_verification()
    filters = {key: args.get(key, "") for key in ("object_type", "object_id", "action", "actor", "since", "until")}
    return render_template("admin/audit_log.html", page=page, filters=filters, verification=verification,
                           verification_pending=verification_pending, action_form=ActionForm(),
                           objects=audit_labels.object_links(page.items), audit_action=audit_labels.action_label,
                           audit_object_type=audit_labels.object_type_label, audit_details=audit_labels.detail_items)


@bp.route("/audit/verify", methods=["POST"])
@roles_required(Role.ADMIN)
def verify_audit_chain():
    if ActionForm().validate_on_submit():
        commit_change(lambda: request_verification(current_user),
                      _("The chain is being verified; the result appears here when it is done."))
    return redirect(url_for("admin.audit_log"))


# ---- applications ----------------------------------------------------------------------------

# Sort keys offered on the list; each is served by an index (see the migration "list indexes").
APPLICATION_SORTS = {
    "newest": (Application.created_at.desc(), Application.id.desc()),
    "oldest": (Application.created_at, Application.id),
    "submitted": (Application.submitted_at.desc(), Application.id.desc()),
    "updated": (Application.updated_at.desc(), Application.id.desc()),
}


def _application_conditions(filters: dict) -> list:
    from certify.workflow import Status

    conditions = []
    if filters["status"]:
        conditions.append(Application.status == Status(filters["status"]))
    if filters["kind"]:
        conditions.append(Application.kind == filters["kind"])
    if filters["city"]:
        conditions.append(Organisation.city_code == filters["city"])
    if filters["q"]:
        conditions.append(or_(Organisation.name.contains(filters["q"], autoescape=True),
                              Application.subject.contains(filters["q"], autoescape=True)))
    return conditions


def application_count(filters: dict) -> int:
    """How many applications the list with ``filters`` holds, joining the organisations only
    when a filter is on them (the status and kind filters then count on an index alone)."""
    query = select(func.count()).select_from(Application)
    if filters["city"] or filters["q"]:
        query = query.join(Application.organisation)
    return db.session.execute(query.where(*_application_conditions(filters))).scalar_one()


def application_list_query(args):
    """The admin list of every application, filtered by status, kind, city and a search in the
    organisation's name or the subject, sorted by one of ``APPLICATION_SORTS``. Rows of just the
    columns the list shows (building model objects took as long as the query itself); the
    frozen rule file and the answers stay in the database."""
    from certify.organisations.reference import cities_by_code
    from certify.workflow import Status

    filters = {
        "status": args.get("status") if args.get("status") in {s.value for s in Status} else "",
        "kind": args.get("kind") if is_kind(args.get("kind")) else "",
        "city": args.get("city") if args.get("city") in cities_by_code() else "",
        "q": (args.get("q") or "").strip()[:100],
        "sort": args.get("sort") if args.get("sort") in APPLICATION_SORTS else "newest",
    }
    query = (select(Application.id, Application.kind, Application.subject, Application.status,
                    Application.created_at, Application.submitted_at,
                    Organisation.name.label("organisation_name"), Organisation.city_code)
             .join(Application.organisation).where(*_application_conditions(filters)))
    if city_review_kinds():  # which submitted applications still wait for their city bureau
        query = query.add_columns(case((awaiting_condition(), True), else_=False).label("awaiting_city"))
    return query.order_by(*APPLICATION_SORTS[filters["sort"]]), filters


@bp.route("/applications")
@roles_required(Role.ADMIN)
def applications():
    query, filters = application_list_query(request.args)
    per_page = int_arg("per_page", low=1, high=1000) or current_app.config["PAGE_SIZE"]
    page = paginate(query, count=lambda: application_count(filters), per_page=per_page, rows=True)
    return render_template("admin/applications.html", page=page, filters=filters)
