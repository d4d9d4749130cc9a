"""Applicant pages: the list, opening an application, the self-assessment pages, evidence,
submission, withdrawal, earlier submissions; and the admin's return."""

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from certify.applications import services
from certify.applications.forms import (
    NewApplicationForm,
    ReturnForm,
    SubmitForm,
    WithdrawForm,
    WorkbookUploadForm,
)
from certify.applications.kinds import kinds_for
from certify.applications.models import Application, Evidence, Submission
from certify.applications.permissions import (
    can_edit_application,
    can_open_application,
    is_own_application,
    load_application,
)
from certify.applications.workbook import build_workbook, read_workbook
from certify.auth.models import Role
from certify.auth.permissions import roles_required
from certify.certificates.services import certificate_for, certificates_by_application, replacing_applications
from certify.core.forms import (
    after_section_saved,
    commit_change,
    page_number,
    refusal_message,
    seen_version,
    show_service_error,
)
from certify.core.spreadsheets import MEDIA_TYPES
from certify.exceptions import ServiceError
from certify.extensions import db
from certify.i18n import current_language
from certify.rulesets.applied import live_self_result, pages, rule_set_of, self_result
from certify.rulesets.forms import (
    answer_field,
    form_value,
    not_applicable_field,
    parse_page,
    reason_field,
    remark_field,
)
from certify.uploads import UploadRefused, send_evidence, servable_evidence
from certify.workflow import available_actions

bp = Blueprint("applications", __name__)

# Rows a page of an organisation's applications shows: products and re-evaluations add up over the
# years.


def _commit_change(change, success, *, form=None) -> bool:
    """``commit_change`` saying, on a concurrent edit, that the application changed meanwhile."""
    return commit_change(change, success, form=form, stale_message=services.StaleApplication.MESSAGE)


@bp.route("/applications")
@login_required
def index():
    if current_user.role != Role.APPLICANT:
        abort(403)
    page = db.paginate(
        select(Application).where(Application.organisation_id == current_user.organisation_id)
        .order_by(Application.created_at.desc(), Application.id.desc()),
        page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    ids = [application.id for application in page.items]
    certificates = certificates_by_application(ids)
    # A recognition is named by its certificate's title (零碳工厂), not by its pilot's kind.
    recognitions = {i: c for i, c in certificates.items() if c.is_recognition}
    return render_template("applications/index.html", page=page, can_open=can_open_application(current_user),
                           replaced_by=replacing_applications(ids), recognitions=recognitions)


@bp.route("/applications/new", methods=["GET", "POST"])
@login_required
def new():
    if not can_open_application(current_user):
        abort(403)
    organisation = current_user.organisation
    kinds = kinds_for(organisation.kind)
    form = NewApplicationForm()
    # Kinds whose subjects each have a rule set of their own (products): the applicant picks it.
    per_subject = {kind.key for kind in kinds if kind.rule_set_per_subject}
    subject_rule_sets = [rs for key in sorted(per_subject)
                         for rs in services.rule_set_choices(key, organisation.industry_code)]
    form.fill_choices(kinds, subject_rule_sets, current_language())
    if form.validate_on_submit():
        kind = form.kind.data
        rule_set_id = form.rule_set_id.data or None
        same = services.same_subject_in_progress(organisation, kind, form.subject.data)
        if kind in per_subject and not rule_set_id:
            form.rule_set_id.errors = [_("Choose the product's rule set.")]
        elif same is not None and request.form.get("confirm") != "1":
            return render_template("applications/new.html", form=form, same=same)
        else:
            try:
                application = services.open_application(
                    current_user, kind=kind, subject=form.subject.data,
                    subject_detail=form.subject_detail.data,
                    rule_set_id=rule_set_id if kind in per_subject else None,
                )
                db.session.commit()
            except ServiceError as error:
                db.session.rollback()
                show_service_error(form, error)
            else:
                flash(_("The application has been opened. Answer each section; your input is "
                        "saved whenever you press Save."), "success")
                return redirect(url_for("applications.show", application_id=application.id))
    return render_template("applications/new.html", form=form)


def _page_summaries(application, rule_set, result):
    stored = application.answers or {}
    declared = application.not_applicable or {}
    summaries = []
    for page_id, section, indicators in pages(rule_set, application.industry_code, declared):
        answered = sum(1 for i in indicators if i.id in stored or i.id in declared)
        section_result = next((s for s in result.sections if s.id == page_id), None)
        summaries.append({"id": page_id, "section": section, "count": len(indicators),
                          "answered": answered, "result": section_result})
    return summaries


@bp.route("/applications/<int:application_id>")
@login_required
def show(application_id: int):
    application = load_application(application_id)
    rule_set = rule_set_of(application)
    result = self_result(application)
    certificate = certificate_for(application)
    return render_template(
        "applications/show.html", application=application, rule_set=rule_set, result=result,
        # A recognition (a pilot's unit recognised at its acceptance) has no self-assessment.
        recognition=certificate if certificate is not None and certificate.is_recognition else None,
        page_summaries=_page_summaries(application, rule_set, result),
        problems=services.completeness_problems(application),
        can_edit=can_edit_application(current_user, application),
        actions=available_actions(application, current_user)
        if is_own_application(current_user, application) or current_user.role == Role.ADMIN else [],
        withdraw_form=WithdrawForm(), return_form=ReturnForm(), workbook_form=WorkbookUploadForm(),
    )


@bp.route("/applications/<int:application_id>/sections/<page_id>", methods=["GET", "POST"])
@login_required
def section(application_id: int, page_id: str):
    application = load_application(application_id)
    rule_set = rule_set_of(application)
    all_pages = pages(rule_set, application.industry_code, application.not_applicable)
    position = next((n for n, page in enumerate(all_pages) if page[0] == page_id), None)
    if position is None:
        abort(404)
    section_obj, indicators = all_pages[position][1:]
    editable = can_edit_application(current_user, application)
    errors, typed, typed_declarations = {}, {}, None
    if request.method == "POST":
        if not editable:
            abort(403)
        parsed = parse_page(indicators, request.form, declarable=True)
        errors, typed = dict(parsed.errors), {**parsed.raw}
        typed_declarations = _typed_declarations(indicators)
        try:
            services.save_answers(current_user, application, parsed, seen_version=seen_version())
            errors |= _attach_uploads(application, indicators)
            db.session.commit()
        except (ServiceError, StaleDataError) as error:
            db.session.rollback()
            # Show back everything typed on this page, valid or not.
            typed = {i.id: request.form.get(answer_field(i.id), "") for i in indicators}
            flash(refusal_message(error, services.StaleApplication.MESSAGE), "error")
            application = load_application(application_id)
        else:
            if errors:
                flash(_("Some answers could not be saved: see the messages below. Everything "
                        "else has been saved."), "error")
            else:
                flash(_("Saved."), "success")
                return after_section_saved("applications.section", "applications.show", all_pages, position,
                                           application_id=application.id)
    stored = application.answers or {}
    values = {i.id: typed[i.id] if i.id in typed else form_value(i, stored.get(i.id), application.answer_texts)
              for i in indicators}
    remarks = {i.id: request.form.get(remark_field(i.id), (application.remarks or {}).get(i.id, ""))
               if request.method == "POST" else (application.remarks or {}).get(i.id, "")
               for i in indicators}
    declarations = _declarations_shown(application, indicators, typed_declarations)
    result, refused = live_self_result(application) if editable else (self_result(application), [])
    for error in refused:
        if error.indicator_id in {i.id for i in indicators} and error.indicator_id not in errors:
            errors[error.indicator_id] = services.answer_error_message(
                error, next(i for i in indicators if i.id == error.indicator_id))
    return render_template(
        "applications/section.html", application=application, rule_set=rule_set,
        section=section_obj, page_id=page_id, indicators=indicators, values=values,
        remarks=remarks, errors=errors, editable=editable, result=result, all_pages=all_pages,
        position=position, answer_field=answer_field, remark_field=remark_field,
        declarations=declarations, not_applicable_field=not_applicable_field, reason_field=reason_field,
    )


def _typed_declarations(indicators) -> dict:
    """The not-applicable boxes and reasons as posted, to show back when the page is refused."""
    return {i.id: {"declared": request.form.get(not_applicable_field(i.id)) == "1",
                   "reason": request.form.get(reason_field(i.id), "")}
            for i in indicators if i.not_applicable}


def _declarations_shown(application, indicators, typed: dict | None) -> dict:
    stored = application.not_applicable or {}
    if typed is not None and request.method == "POST":
        return typed
    return {i.id: {"declared": i.id in stored, "reason": stored.get(i.id, "")}
            for i in indicators if i.not_applicable}


@bp.route("/applications/<int:application_id>/sections/<page_id>/preview", methods=["POST"])
@login_required
def preview(application_id: int, page_id: str):
    """The self-score as it would be with the page's unsaved answers (nothing is saved)."""
    application = load_application(application_id)
    rule_set = rule_set_of(application)
    page = next((p for p in pages(rule_set, application.industry_code, application.not_applicable)
                 if p[0] == page_id), None)
    if page is None:
        abort(404)
    result, _refused = live_self_result(application, parse_page(page[2], request.form, declarable=True))
    return jsonify(total=str(result.total), max=str(result.max), passed=result.passed,
                   grade=result.grade, failed_requirements=list(result.failed_requirements),
                   failed_html=render_template("applications/_failed.html", result=result, rule_set=rule_set),
                   sections={s.id: {"score": str(s.score), "max": str(s.max)} for s in result.sections})


def _attach_uploads(application: Application, indicators) -> dict:
    """Attach the files chosen on a section page; a refused file is reported at its indicator
    and the rest of the page is still saved."""
    errors = {}
    for indicator in indicators:
        upload = request.files.get(f"f-{indicator.id}")
        if upload is None or not upload.filename:
            continue
        try:
            services.add_evidence(current_user, application, indicator_id=indicator.id,
                                  fileobj=upload.stream, filename=upload.filename)
        except UploadRefused as refusal:
            errors[indicator.id] = refusal.message
    return errors


@bp.route("/applications/<int:application_id>/submit", methods=["GET", "POST"])
@login_required
def submit(application_id: int):
    application = load_application(application_id)
    if not can_edit_application(current_user, application):
        abort(403)
    form = SubmitForm(version=str(application.version))
    problems = services.completeness_problems(application)
    if form.validate_on_submit() and _commit_change(
            lambda: services.submit_application(
                current_user, application, pledge_name=form.pledge_name.data,
                pledge_accepted=form.pledge_accepted.data, seen_version=seen_version()),
            _("The application has been submitted. It can no longer be changed unless the "
              "department returns it."), form=form):
        return redirect(url_for("applications.show", application_id=application.id))
    return render_template("applications/submit.html", application=application, form=form,
                           problems=problems, result=self_result(application))


@bp.route("/applications/<int:application_id>/withdraw", methods=["POST"])
@login_required
def withdraw(application_id: int):
    application = load_application(application_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        _commit_change(lambda: services.withdraw_application(current_user, application,
                                                             reason=form.reason.data),
                       _("The application has been withdrawn."))
    return redirect(url_for("applications.show", application_id=application_id))


@bp.route("/applications/<int:application_id>/return", methods=["POST"])
@roles_required(Role.ADMIN)
def return_to_applicant(application_id: int):
    application = load_application(application_id)
    form = ReturnForm()
    if form.validate_on_submit():
        _commit_change(lambda: services.return_application(current_user, application, note=form.note.data),
                       _("The application has been returned to the applicant."))
    else:
        flash(_("Say what the applicant should answer or change."), "error")
    return redirect(url_for("applications.show", application_id=application_id))


@bp.route("/applications/<int:application_id>/submissions/<int:number>")
@login_required
def submission(application_id: int, number: int):
    application = load_application(application_id)
    snapshot = db.session.execute(
        select(Submission).where(Submission.application_id == application.id,
                                 Submission.number == number)
    ).scalar_one_or_none()
    if snapshot is None:
        abort(404)
    return render_template("applications/submission.html", application=application,
                           snapshot=snapshot, rule_set=rule_set_of(application))


def _load_evidence(application: Application, evidence_id: int) -> Evidence:
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or evidence.application_id != application.id:
        abort(404)
    return evidence


@bp.route("/applications/<int:application_id>/evidence/<int:evidence_id>")
@login_required
def download_evidence(application_id: int, evidence_id: int):
    application = load_application(application_id)
    evidence = servable_evidence(application.id, evidence_id)
    if evidence is None:
        abort(404)
    return send_evidence(evidence)


@bp.route("/applications/<int:application_id>/evidence/<int:evidence_id>/delete", methods=["POST"])
@login_required
def delete_evidence(application_id: int, evidence_id: int):
    application = load_application(application_id)
    evidence = _load_evidence(application, evidence_id)
    _commit_change(lambda: services.delete_evidence(current_user, evidence),
                   _("The file “%(name)s” has been removed.", name=evidence.original_name))
    return redirect(url_for("applications.show", application_id=application_id))


@bp.route("/applications/<int:application_id>/workbook.xlsx")
@login_required
def workbook(application_id: int):
    """The self-assessment workbook: the application's sections with its current answers."""
    application = load_application(application_id)
    return _workbook_download(application, build_workbook(application), _("Self-assessment"))


@bp.route("/applications/<int:application_id>/workbook", methods=["POST"])
@login_required
def upload_workbook(application_id: int):
    """Fill the draft from its workbook: every changed cell saved in one go, or — when any cell is
    refused — nothing saved and the workbook given back with each refused cell marked."""
    application = load_application(application_id)
    if not can_edit_application(current_user, application):
        abort(403)
    back = redirect(url_for("applications.show", application_id=application.id) + "#workbook")
    form = WorkbookUploadForm()
    if not form.validate_on_submit():
        for messages in form.errors.values():
            for message in messages:
                flash(message, "error")
        return back
    try:
        reading = read_workbook(application, form.workbook.data.stream, form.workbook.data.filename)
    except UploadRefused as refusal:
        flash(refusal.message, "error")
        return back
    if reading.errors:
        flash(_("Nothing was saved: %(count)d cells of the workbook need correcting. The workbook you "
                "received marks each of them in red, with its reason.", count=len(reading.errors)), "error")
        return _workbook_download(application, build_workbook(application, reading.uploaded, reading.errors),
                                  _("to correct"))
    parsed = reading.parsed
    if not parsed.answers and not parsed.remarks:
        flash(_("The workbook changes nothing: no answer or note differs from the one downloaded."), "success")
    elif _commit_change(lambda: services.save_answers(current_user, application, parsed, seen_version=None,
                                                      source="workbook"), None):
        flash(_("Filled in from the workbook: %(answers)d answers and %(notes)d notes.",
                answers=len(parsed.answers), notes=len(parsed.remarks)), "success")
    return back


def _workbook_download(application: Application, data: bytes, what: str):
    """A workbook of the application as a download, named by its reference; never cached (it holds
    the answers)."""
    response = send_file(io.BytesIO(data), mimetype=MEDIA_TYPES["xlsx"], as_attachment=True,
                         download_name=f"{application.reference}-{what}.xlsx", conditional=False, etag=False)
    response.headers["Cache-Control"] = "private, no-store"
    return response
