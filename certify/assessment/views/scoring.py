"""The assessors' pages: their assignments, accepting or declining one, the score sheet's
overview, its sections built from the application's pinned rule file, the on-site record,
recommendation and submission, and the applicant's evidence beside the sheet."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from certify.assessment.assignment import accept_assignment, decline_assignment
from certify.assessment.blueprint import bp
from certify.assessment.compare import differs_from_self, needs_comment
from certify.assessment.comparison import compare_sheets
from certify.assessment.forms import DeclineForm, SheetDetailsForm
from certify.assessment.models import OPEN_ASSIGNMENT, Assignment
from certify.assessment.permissions import (
    can_download_report,
    can_respond_to_assignment,
    can_score,
    can_see_sheet,
    can_view_assignment,
)
from certify.assessment.reports import latest_report
from certify.assessment.rounds import current_assignments
from certify.assessment.scoring import (
    StaleSheet,
    comment_kinds,
    save_scores,
    save_sheet_details,
    submission_problems,
    submit_sheet,
)
from certify.auth.models import Role
from certify.auth.permissions import roles_required
from certify.core.forms import ActionForm, after_section_saved, commit_change, page_number, seen_version
from certify.extensions import db
from certify.rulesets.applied import (
    confirmed_declarations,
    live_sheet_result,
    pages,
    rule_set_of,
    self_result,
    sheet_result,
)
from certify.rulesets.forms import answer_error_message, answer_field, form_value, parse_page
from certify.timeutil import local_today
from certify.uploads import send_evidence, servable_evidence

# Content types shown in the browser rather than downloaded: the viewer cannot run scripts in
# them (the response is also sandboxed).
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})


def note_field(kind: str, indicator_id: str) -> str:
    return f"n-{kind}-{indicator_id}"


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


@bp.route("/assessment/assignments")
@roles_required(Role.ASSESSOR)
def my_assignments():
    # Open assignments first; paginated, as an assessor's history grows year after year.
    page = db.paginate(
        select(Assignment).where(Assignment.assessor_id == current_user.id)
        .order_by(Assignment.status.in_(OPEN_ASSIGNMENT).desc(),
                  Assignment.due_on, Assignment.id.desc()),
        page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("assessment/my_assignments.html", assignments=page.items, page=page,
                           today=local_today())


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
        others = [a.sheet for a in current_assignments(assignment.application)
                  if a.id != assignment.id and a.sheet is not None]
        visible = [s for s in others if can_see_sheet(current_user, s, own_sheet=sheet)]
        comparison = compare_sheets(assignment.application, [sheet] + visible)
    return render_template(
        "assessment/assignment.html", assignment=assignment, sheet=sheet, result=result, own=own,
        rule_set=rule_set_of(assignment.application),
        sections=sections, self_result=own_result, details_form=details_form,
        decline_form=DeclineForm(), action_form=ActionForm(),
        can_respond=can_respond_to_assignment(current_user, assignment),
        can_score=can_score(current_user, assignment),
        problems=submission_problems(sheet) if sheet is not None and not sheet.is_submitted else [],
        comparison=comparison, report=latest_report(assignment.application)
        if can_download_report(current_user, assignment.application) else None,
        today=local_today(),
    )


@bp.route("/assessment/assignments/<int:assignment_id>/accept", methods=["POST"])
@login_required
def accept(assignment_id: int):
    assignment = load_assignment(assignment_id)
    if ActionForm().validate_on_submit():
        commit_change(lambda: accept_assignment(current_user, assignment),
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
    if commit_change(lambda: decline_assignment(current_user, assignment, reason=form.reason.data),
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
        if not commit_change(lambda: save_scores(current_user, sheet, parsed, notes, seen_version=seen_version(),
                                                 decisions=typed_decisions),
                             stale_message=StaleSheet().message):
            # Everything typed on this page is shown back, valid or not.
            typed = {i.id: request.form.get(answer_field(i.id), "") for i in indicators}
            typed_notes = notes
            assignment, sheet = _load_own_sheet(assignment_id)
        elif errors:
            flash(_("Some scores could not be saved: see the messages below. Everything "
                    "else has been saved."), "error")
        else:
            flash(_("Saved."), "success")
            return after_section_saved("assessment.section", "assessment.assignment", all_pages, position,
                                       assignment_id=assignment_id)
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
            "comment_kinds": comment_kinds(rule_set, indicator),
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
    saved = commit_change(lambda: save_sheet_details(
        current_user, sheet, site_visit_on=form.site_visit_on.data,
        site_visit_participants=form.site_visit_participants.data,
        site_visit_findings=form.site_visit_findings.data,
        recommendation=form.recommendation.data or None,
        return_questions=form.return_questions.data, conclusion=form.conclusion.data,
        highlights=form.highlights.data, seen_version=seen_version()), _("Saved."), form=form)
    if not saved and form.errors:  # refused at a field: shown beside it, everything typed kept
        return assignment(assignment_id, details_form=form), 400
    if saved and submitting:
        commit_change(lambda: submit_sheet(current_user, sheet),
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
