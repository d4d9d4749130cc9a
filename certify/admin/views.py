"""Admin console pages."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from wtforms.fields.choices import SelectChoice

from certify.admin.forms import ActionForm, StaffUserForm
from certify.auth import services as auth_services
from certify.auth.models import Role, User
from certify.auth.permissions import roles_required
from certify.core.forms import show_service_error
from certify.exceptions import ServiceError
from certify.extensions import db
from certify.mail.models import MailMessage
from certify.organisations.models import Organisation, OrganisationKind

bp = Blueprint("admin", __name__)


def _page_number() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


@bp.route("/")
@roles_required(Role.ADMIN)
def index():
    counts = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    return render_template("admin/index.html", counts=counts)


@bp.route("/users")
@roles_required(Role.ADMIN)
def users():
    query = select(User).join(User.organisation).order_by(User.id)
    search = (request.args.get("q") or "").strip()
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(or_(User.email.like(pattern), func.lower(User.name).like(pattern),
                                func.lower(Organisation.name).like(pattern)))
    role = request.args.get("role")
    if role in {r.value for r in Role}:
        query = query.where(User.role == Role(role))
    page = db.paginate(query, page=_page_number(), per_page=50, error_out=False)
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
    form.organisation_id.choices = [SelectChoice(0, _("— the department (administrators) —"))] + [
        SelectChoice(agency.id, agency.name) for agency in agencies
    ]
    if form.validate_on_submit():
        role = Role(form.role.data)
        if role == Role.ADMIN:
            organisation = auth_services.authority_organisation()
        else:
            organisation = next((a for a in agencies if a.id == form.organisation_id.data), None)
        if organisation is None:
            form.organisation_id.errors = [_("Choose the assessor's agency.")]
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


@bp.route("/mail")
@roles_required(Role.ADMIN)
def mail_log():
    query = select(MailMessage).order_by(MailMessage.id.desc())
    recipient = (request.args.get("recipient") or "").strip().lower()
    if recipient:
        query = query.where(MailMessage.recipient == recipient)
    page = db.paginate(query, page=_page_number(), per_page=50, error_out=False)
    return render_template("admin/mail_log.html", page=page, recipient=recipient)


@bp.route("/mail/<int:message_id>")
@roles_required(Role.ADMIN)
def mail_message(message_id: int):
    message = db.get_or_404(MailMessage, message_id)
    return render_template("admin/mail_message.html", message=message)
