"""Administrators' publication pages: the decision queue, batches, the notice with its
objections, and announcement."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from certify import storage
from certify.applications.models import Application
from certify.assessment.comparison import submitted_comparison
from certify.assessment.scoring import assessed_scores
from certify.auth.models import Role
from certify.auth.permissions import roles_required
from certify.core.forms import (
    ActionForm,
    commit_change,
    confirmation_page,
    confirmed,
    page_number,
    show_service_error,
)
from certify.exceptions import ServiceError
from certify.extensions import db
from certify.i18n import date_text
from certify.publication import services
from certify.publication.forms import (
    BatchEntriesForm,
    BatchForm,
    BulkDecisionForm,
    DecisionForm,
    ResolutionForm,
)
from certify.publication.models import (
    Batch,
    BatchEntry,
    BatchStatus,
    DecisionOutcome,
    Objection,
    ObjectionStatus,
)
from certify.rulesets.applied import rule_set_of, self_result
from certify.workflow import Status

bp = Blueprint("publication", __name__)


# ---- decisions -------------------------------------------------------------------------------

@bp.route("/admin/decisions")
@roles_required(Role.ADMIN)
def decision_queue():
    query = (select(Application).options(joinedload(Application.organisation))
             .where(Application.status == Status.ASSESSED).order_by(Application.updated_at))
    page = db.paginate(query, page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("publication/decisions.html", page=page, form=BulkDecisionForm(),
                           assessed_scores=assessed_scores([application.id for application in page.items]))


@bp.route("/admin/decisions/bulk", methods=["POST"])
@roles_required(Role.ADMIN)
def bulk_decision():
    form = BulkDecisionForm()
    if not form.validate_on_submit() or not form.application_ids.data:
        flash(form.application_ids.errors[0] if form.application_ids.errors
              else _("Choose the applications and the decision."), "error")
        return redirect(url_for("publication.decision_queue"))
    applications = db.session.execute(
        select(Application).where(Application.id.in_(form.application_ids.data)).order_by(Application.id)
    ).scalars().all()
    outcome = DecisionOutcome(form.outcome.data)
    if request.form.get("confirm") != "1":
        preview = services.preview_decisions(current_user, applications, outcome, form.reason.data)
        return render_template("publication/bulk_preview.html", form=form, preview=preview,
                               outcome=outcome)
    decided = []
    if commit_change(lambda: decided.extend(services.decide_many(current_user, applications, outcome,
                                                           form.reason.data)),
               _("Decisions saved.")):
        flash(_("%(count)d of %(total)d applications decided.", count=len(decided),
                total=len(applications)), "info")
    return redirect(url_for("publication.decision_queue"))


@bp.route("/admin/decisions/<int:application_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def decide(application_id: int):
    application = db.get_or_404(Application, application_id)
    form = DecisionForm()
    if form.validate_on_submit():
        outcome = DecisionOutcome(form.outcome.data)
        if outcome == DecisionOutcome.REJECTED and not confirmed() and form.reason.data.strip():
            return confirmation_page(
                _("Reject %(reference)s", reference=application.reference),
                [_("%(organisation)s is not recognised for “%(subject)s”; the application is closed.",
                   organisation=application.organisation.name, subject=application.subject),
                 _("The applicant is told by e-mail and reads the reason: %(reason)s", reason=form.reason.data.strip())],
                button=_("Reject the application"),
                cancel_url=url_for("publication.decide", application_id=application.id))
        if commit_change(lambda: services.decide(current_user, application, outcome, form.reason.data),
                         _("Decision saved."), form=form):
            return redirect(url_for("publication.decision_queue"))
    return render_template(
        "publication/decide.html", application=application, form=form,
        rule_set=rule_set_of(application),
        result=self_result(application),
        has_assessed=services.has_assessed(current_user, application),
        comparison=submitted_comparison(application),
    )


# ---- batches ---------------------------------------------------------------------------------

@bp.route("/admin/batches", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def batches():
    form = BatchForm()
    if form.validate_on_submit():
        try:
            batch = services.create_batch(current_user, title=form.title.data, kinds=form.kinds.data,
                                          notice_starts_on=form.notice_starts_on.data,
                                          notice_ends_on=form.notice_ends_on.data)
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            show_service_error(form, error)
        else:
            return redirect(url_for("publication.batch", batch_id=batch.id))
    page = db.paginate(select(Batch).order_by(Batch.id.desc()), page=page_number(), per_page=current_app.config["PAGE_SIZE"],
                       error_out=False)
    return render_template("publication/batches.html", page=page, form=form)


def _load_batch(batch_id: int) -> Batch:
    return db.get_or_404(Batch, batch_id)


# Objections to one batch are few (filing them is rate-limited): the page shows at most this many,
# the open ones first, and says how many there are (every one is also in the audit log).
OBJECTIONS_SHOWN = 100


@bp.route("/admin/batches/<int:batch_id>")
@roles_required(Role.ADMIN)
def batch(batch_id: int):
    """A batch: its entries a page at a time; while a draft, the approved applications that may
    join it (the first ones, or those a search finds); afterwards, the objections."""
    batch = _load_batch(batch_id)
    entries = db.paginate(
        select(BatchEntry).where(BatchEntry.batch_id == batch.id).order_by(BatchEntry.id),
        page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    search = _search()
    is_draft = batch.status == BatchStatus.DRAFT
    return render_template(
        "publication/batch.html", batch=batch, entries=entries, search=search,
        addable=services.addable_applications(batch, search) if is_draft else [],
        addable_total=services.count_addable(batch, search) if is_draft else 0,
        objections=[] if is_draft else _objections(batch),
        objections_total=0 if is_draft else _count_objections(batch),
        entries_form=BatchEntriesForm(), action_form=ActionForm(),
        announcement_refusal=services.announcement_refusal(batch),
        progress=_certificate_progress(batch),
    )


def _search() -> str:
    """The search among the applications that may join a draft batch (``q``, on the page and
    kept by the form adding them)."""
    return (request.values.get("q") or "").strip()[:100]


def _objections(batch: Batch) -> list[Objection]:
    return db.session.execute(
        select(Objection).where(Objection.batch_id == batch.id)
        .order_by(Objection.status != ObjectionStatus.OPEN, Objection.id).limit(OBJECTIONS_SHOWN)
    ).scalars().all()


def _count_objections(batch: Batch) -> int:
    return db.session.execute(
        select(func.count()).select_from(Objection).where(Objection.batch_id == batch.id)
    ).scalar_one()


def _certificate_progress(batch: Batch):
    if batch.status != BatchStatus.ANNOUNCED:
        return None
    from certify.certificates.services import batch_progress

    # The ids alone: an announced batch lists hundreds of applications.
    return batch_progress(db.session.execute(
        select(BatchEntry.application_id).where(BatchEntry.batch_id == batch.id,
                                                BatchEntry.removed_at.is_(None))).scalars())


@bp.route("/admin/batches/<int:batch_id>/entries", methods=["POST"])
@roles_required(Role.ADMIN)
def add_entries(batch_id: int):
    batch = _load_batch(batch_id)
    form = BatchEntriesForm()
    if form.validate_on_submit() and form.application_ids.data:
        applications = db.session.execute(
            select(Application).where(Application.id.in_(form.application_ids.data))
        ).scalars().all()
        commit_change(lambda: services.add_to_batch(current_user, batch, applications),
                _("%(count)d applications added.", count=len(applications)))
    elif form.application_ids.errors:
        flash(form.application_ids.errors[0], "error")
    return redirect(url_for("publication.batch", batch_id=batch_id, q=_search() or None))


@bp.route("/admin/batches/<int:batch_id>/entries/<int:entry_id>/remove", methods=["POST"])
@roles_required(Role.ADMIN)
def remove_entry(batch_id: int, entry_id: int):
    batch = _load_batch(batch_id)
    entry = db.get_or_404(BatchEntry, entry_id)
    if ActionForm().validate_on_submit():
        commit_change(lambda: services.remove_from_batch(current_user, batch, entry),
                _("The application has been taken off the batch."))
    return redirect(url_for("publication.batch", batch_id=batch_id))


# The batch's state changes that take nothing but a confirmation.
BATCH_ACTIONS = {
    "open-notice": (services.open_notice, _l("The public notice is open.")),
    "announce": (services.announce, _l("The batch has been announced; certificates are being issued.")),
}


@bp.route("/admin/batches/<int:batch_id>/<any('open-notice', 'announce'):action>", methods=["POST"])
@roles_required(Role.ADMIN)
def batch_action(batch_id: int, action: str):
    """Open the notice or announce, each said in full on a confirmation page first."""
    batch = _load_batch(batch_id)
    change, success = BATCH_ACTIONS[action]
    if ActionForm().validate_on_submit():
        if not confirmed():
            confirmation = _confirm_batch_action(batch, action)
            if confirmation is not None:
                return confirmation
        commit_change(lambda: change(current_user, batch), success)
    return redirect(url_for("publication.batch", batch_id=batch_id))


def _confirm_batch_action(batch: Batch, action: str):
    """What opening the notice or announcing will do, or None where it cannot be done (the
    service then says why)."""
    entries = len(batch.current_entries)
    cancel = url_for("publication.batch", batch_id=batch.id)
    if action == "open-notice":
        if batch.status != BatchStatus.DRAFT or not entries:
            return None
        starts, ends = services.notice_dates(batch)
        moved = (starts, ends) != (batch.notice_starts_on, batch.notice_ends_on)
        return confirmation_page(
            _("Open the public notice of “%(title)s”", title=batch.title),
            [_("The notice runs from %(start)s to %(end)s: %(days)d days, both ends included.",
               start=date_text(starts), end=date_text(ends),
               days=services.notice_length(starts, ends)),
             _("%(count)d applications are published for public notice; anyone may object to them until it ends.",
               count=entries),
             _("The batch can no longer be changed.")],
            warning=_("The dates planned (%(start)s to %(end)s) have been moved: a notice starts today at the "
                      "earliest and lasts at least %(days)d days.", start=date_text(batch.notice_starts_on),
                      end=date_text(batch.notice_ends_on), days=services.notice_days()) if moved else None,
            button=_("Open the public notice"), cancel_url=cancel)
    if services.announcement_refusal(batch):
        return None
    return confirmation_page(
        _("Announce “%(title)s”", title=batch.title),
        [_("%(count)d organisations are put on the announced list, published on the public lists and in the "
           "open-data files.", count=entries),
         _("A certificate is issued to each of them (%(count)d), numbered and verifiable by anyone.", count=entries),
         _("The batch can no longer be changed.")],
        button=_("Announce the batch and issue certificates"), cancel_url=cancel)


@bp.route("/admin/objections/<int:objection_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def objection(objection_id: int):
    objection = db.get_or_404(Objection, objection_id)
    form = ResolutionForm()
    if form.validate_on_submit() and commit_change(
            lambda: services.resolve_objection(current_user, objection, upheld=form.outcome.data == "upheld",
                                               reason=form.reason.data),
            _("The objection has been resolved."), form=form):
        return redirect(url_for("publication.batch", batch_id=objection.batch_id))
    return render_template("publication/objection.html", objection=objection, form=form)


@bp.route("/admin/objections/<int:objection_id>/evidence")
@roles_required(Role.ADMIN)
def objection_evidence(objection_id: int):
    objection = db.get_or_404(Objection, objection_id)
    if not objection.evidence_sha256 or not storage.exists(objection.evidence_sha256):
        abort(404)
    return storage.send_stored(objection.evidence_sha256, as_attachment=True,
                               mimetype=objection.evidence_content_type, download_name=objection.evidence_name)
