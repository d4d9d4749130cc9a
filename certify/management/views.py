"""Ongoing management pages: listed organisations' declarations (late ones for a closed period
missed) and re-evaluation; the department's list of declarations received, their detail and
review, and the list of declarations missed."""

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import case, select
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields.choices import SelectChoice

from certify.applications import services as application_services
from certify.applications.kinds import kind_of
from certify.applications.models import Application
from certify.applications.permissions import is_own_application
from certify.auth.models import Role
from certify.auth.permissions import roles_required
from certify.core.forms import commit_change, date_arg, page_number, refusal_message, seen_version
from certify.exceptions import ServiceError
from certify.extensions import db
from certify.i18n import date_text
from certify.management import missed, services
from certify.management.compare import (
    BEYOND_BASELINE,
    CHANGE_DECLARED,
    ENVIRONMENTAL_EVENT,
    MAJOR_ACCIDENT,
    STATEMENT_FLAGS,
    WORSE_THAN_CERTIFIED,
)
from certify.management.forms import DeclarationFilterForm, DeclarationForm, MissedFilterForm, ReviewForm
from certify.management.models import Declaration, DeclarationStatus
from certify.management.periods import period_start
from certify.management.permissions import (
    can_file_declaration,
    can_open_re_evaluation,
    can_review_declaration,
    can_view_declaration,
)
from certify.rulesets.applied import rule_set_of
from certify.rulesets.forms import answer_field, form_value, input_field, input_keys, parse_page

bp = Blueprint("management", __name__)

FLAG_LABELS = {
    WORSE_THAN_CERTIFIED: _l("Worse than at certification"),
    BEYOND_BASELINE: _l("Beyond the baseline value"),
    MAJOR_ACCIDENT: _l("An accident was declared"),
    ENVIRONMENTAL_EVENT: _l("An environmental event was declared"),
    CHANGE_DECLARED: _l("A change of name or scope was declared"),
}
_ANSWERS = {"yes": True, "no": False}
# The closed periods the department can look back on for declarations missed (three years at
# the half-yearly cadence, the listing's re-examination cycle).
MISSED_PERIODS_SHOWN = 6


def _commit(change, form=None) -> bool:
    """``commit_change`` saying, on a concurrent edit, that the declaration changed meanwhile."""
    return commit_change(change, form=form, stale_message=services.StaleDeclaration.MESSAGE)


def load_declaration(self_declaration_id: int) -> Declaration:
    """The declaration, if the current user may see it; 404 otherwise."""
    declaration = db.session.get(Declaration, self_declaration_id)
    if declaration is None or not can_view_declaration(current_user, declaration):
        abort(404)
    return declaration


def comparison_rows(declaration: Declaration) -> list[dict]:
    """One row per key metric: the value at certification (and its source), the declared value
    and the flags it raised."""
    flags = declaration.flags or []
    declared = services.declared_values(declaration)
    return [{
        "indicator": indicator,
        "certified": (declaration.certified_values or {}).get(indicator.id, {}),
        "value": declared.get(indicator.id),
        "figures": (declaration.values or {}).get(indicator.id) if indicator.is_computed else None,
        "flags": [f["kind"] for f in flags if f.get("indicator_id") == indicator.id],
    } for indicator in services.key_metrics(declaration.application)]


# ---- the organisation's pages ------------------------------------------------------------------

@bp.route("/declarations")
@roles_required(Role.APPLICANT)
def index():
    entries = services.listed_entries(current_user.organisation_id)
    return render_template("management/index.html", entries=entries)


def _statements(form: DeclarationForm) -> services.Statements:
    return services.Statements(
        **{name: _ANSWERS.get(getattr(form, name).data) for name in STATEMENT_FLAGS},
        change_description=form.change_description.data or "")


def _statement_text(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _requested_period() -> date | None:
    """The period asked for (``?period=`` names a closed period missed, declared late); the
    current one when none is named; ``None`` when the value is not a day a period can start on."""
    if not request.args.get("period"):
        return services.current_period()
    return date_arg("period")


def _declare_url(application, period: date) -> str:
    late = period != services.current_period()
    return url_for("management.declare", application_id=application.id,
                   **({"period": period.isoformat()} if late else {}))


@bp.route("/declarations/applications/<int:application_id>", methods=["GET", "POST"])
@login_required
def declare(application_id: int):
    """A listed application's declaration for the current period, or — late — for a closed
    period it missed: save a draft, or submit."""
    application = db.session.get(Application, application_id)
    if application is None or not can_file_declaration(current_user, application):
        abort(404)
    period = _requested_period()
    declaration = services.declaration_for(application, period) if period else None
    if declaration is not None and not declaration.is_draft:
        return redirect(url_for("management.show", self_declaration_id=declaration.id))
    if declaration is None:
        try:
            if period is None:
                raise services.PeriodNotDeclarable()
            services.check_declarable_period(application, period)
        except ServiceError as error:
            flash(error.message, "error")
            return redirect(url_for("management.index"))
    indicators = services.key_metrics(application)
    form = DeclarationForm()
    errors, typed = {}, {}
    if request.method == "POST":
        form.validate()  # every field is optional in a draft; this fills form.errors
        parsed = parse_page(indicators, request.form, figures_only=True)
        errors, typed = dict(parsed.errors), dict(parsed.raw)
        version_on_screen = seen_version() if declaration is not None else None
        try:
            declaration = services.open_declaration(current_user, application, period)
            services.save_declaration(current_user, declaration, parsed, _statements(form),
                                      seen_version=version_on_screen)
            db.session.commit()
        except (ServiceError, StaleDataError) as error:
            db.session.rollback()
            typed = {i.id: _typed(i) for i in indicators}
            flash(refusal_message(error, services.StaleDeclaration.MESSAGE), "error")
            declaration = services.declaration_for(application, period)
        else:
            if errors or form.errors:
                flash(_("Some values could not be saved: see the messages below. Everything "
                        "else has been saved."), "error")
            elif request.form.get("go") == "submit":
                return _submit(declaration, form, indicators)
            else:
                flash(_("The draft has been saved."), "success")
                return redirect(_declare_url(application, period))
    elif declaration is not None:
        for name in STATEMENT_FLAGS:
            getattr(form, name).data = _statement_text(getattr(declaration, name))
        form.change_description.data = declaration.change_description
    return _declaration_page(application, declaration, form, indicators, errors, typed, period)


def _submit(declaration: Declaration, form, indicators):
    if not _commit(lambda: services.submit_declaration(current_user, declaration,
                                                       seen_version=declaration.version), form):
        return _declaration_page(declaration.application, declaration, form, indicators, {}, {},
                                 declaration.period)
    flash(_("The declaration has been submitted to the department."), "success")
    return redirect(url_for("management.show", self_declaration_id=declaration.id))


def _typed(indicator):
    """What the page sent for ``indicator``, to show back as typed (a computed metric: each of
    its figures)."""
    if indicator.is_computed:
        return {key: request.form.get(input_field(indicator.id, key), "")
                for key in input_keys(indicator, figures_only=True)}
    return request.form.get(answer_field(indicator.id), "")


def _declaration_page(application, declaration, form, indicators, errors, typed, period):
    stored = declaration.values if declaration is not None else {}
    certified = (declaration.certified_values if declaration is not None
                 else services.certified_values(application))
    values = {i.id: typed[i.id] if i.id in typed else form_value(i, (stored or {}).get(i.id))
              for i in indicators}
    missing = services.missing_items(declaration) if declaration is not None else []
    form.version.data = str(declaration.version) if declaration is not None else ""
    return render_template(
        "management/declare.html", application=application, declaration=declaration, form=form,
        indicators=indicators, values=values, certified=certified, errors=errors, period=period,
        is_late=period < services.current_period(), missing=missing, answer_field=answer_field,
        rule_set=rule_set_of(application),
        declared=services.declared_values(declaration) if declaration is not None else {})


@bp.route("/declarations/<int:self_declaration_id>")
@login_required
def show(self_declaration_id: int):
    declaration = load_declaration(self_declaration_id)
    if current_user.role == Role.ADMIN:
        return redirect(url_for("management.admin_show", self_declaration_id=declaration.id))
    return render_template("management/declaration.html", declaration=declaration,
                           rows=comparison_rows(declaration), review_form=None)


# ---- re-evaluation -----------------------------------------------------------------------------

@bp.route("/applications/<int:application_id>/re-evaluation", methods=["GET", "POST"])
@login_required
def re_evaluation(application_id: int):
    """Confirm, then open a re-evaluation of a listed (or expired) application; the reminder
    e-mail links here."""
    application = db.session.get(Application, application_id)
    if application is None or not is_own_application(current_user, application):
        abort(404)
    existing = services.open_re_evaluation_of(application)
    if existing is not None:
        flash(_("A re-evaluation of this application is already in progress."), "info")
        return redirect(url_for("applications.show", application_id=existing.id))
    opened = []
    if request.method == "POST" and _commit(
            lambda: opened.append(services.open_re_evaluation(current_user, application))):
        flash(_("The re-evaluation has been opened under the rules in force today. Answer "
                "each section and submit."), "success")
        return redirect(url_for("applications.show", application_id=opened[0].id))
    choices = application_services.rule_set_choices(application.kind,
                                                    application.organisation.industry_code)
    rule_set = next((rs for rs in choices if rs.id == application.rule_set_id), None) or (
        choices[0] if choices and not kind_of(application.kind).rule_set_per_subject else None)
    return render_template("management/re_evaluation.html", application=application,
                           rule_set=rule_set,
                           allowed=can_open_re_evaluation(current_user, application))


# ---- the department's pages --------------------------------------------------------------------

@bp.route("/admin/declarations")
@roles_required(Role.ADMIN)
def admin_index():
    form = DeclarationFilterForm(request.args)
    periods = db.session.execute(
        select(Declaration.period).where(Declaration.status != DeclarationStatus.DRAFT)
        .distinct().order_by(Declaration.period.desc())).scalars().all()
    form.period.choices = [SelectChoice("", _("All"))] + [SelectChoice(p.isoformat(), p.isoformat())
                                                          for p in periods]
    query = select(Declaration).where(Declaration.status != DeclarationStatus.DRAFT)
    if form.status.data in (DeclarationStatus.SUBMITTED.value, DeclarationStatus.REVIEWED.value):
        query = query.where(Declaration.status == form.status.data)
    if form.period.data in {p.isoformat() for p in periods}:
        query = query.where(Declaration.period == next(p for p in periods
                                                       if p.isoformat() == form.period.data))
    if form.flag.data == "flagged":
        query = query.where(Declaration.is_flagged.is_(True))
    elif form.flag.data == "clear":
        query = query.where(Declaration.is_flagged.is_(False))
    waiting_first = case((Declaration.status == DeclarationStatus.SUBMITTED, 0), else_=1)
    query = query.order_by(Declaration.is_flagged.desc(), waiting_first,
                           Declaration.submitted_at.desc(), Declaration.id.desc())
    page = db.paginate(query, page=page_number(),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("management/admin_index.html", page=page, form=form,
                           filters={k: v for k, v in request.args.items() if k != "page"})


@bp.route("/admin/declarations/missed", endpoint="missed")
@roles_required(Role.ADMIN)
def missed_declarations():
    """For a closed period (the last by default), the listed applications that did not declare,
    with the reminders and steps sent and how many periods in a row each has missed."""
    periods = services.closed_periods(count=MISSED_PERIODS_SHOWN)
    form = MissedFilterForm(request.args)
    period = next((p for p in periods if p.isoformat() == form.period.data), periods[0])
    form.period.choices = [SelectChoice(p.isoformat(), date_text(p)) for p in periods]
    form.period.data = period.isoformat()
    page = db.paginate(missed.missing_query(period), page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template(
        "management/missed.html", period=period, form=form, page=page,
        entries=missed.missed_entries(page.items, period), late=missed.count_late(period),
        start=period_start(period, services.due_dates()), limits=missed.thresholds())


@bp.route("/admin/declarations/<int:self_declaration_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_show(self_declaration_id: int):
    declaration = load_declaration(self_declaration_id)
    if declaration.is_draft:
        abort(404)  # a draft is the organisation's own until submitted
    form = ReviewForm()
    if request.method == "POST" and can_review_declaration(current_user, declaration):
        if form.validate() and _commit(
                lambda: services.review_declaration(current_user, declaration, note=form.note.data),
                form):
            flash(_("The declaration has been marked as reviewed."), "success")
            return redirect(url_for("management.admin_index"))
    reviewable = can_review_declaration(current_user, declaration)
    return render_template("management/declaration.html", declaration=declaration,
                           rows=comparison_rows(declaration), review_form=form if reviewable else None)
