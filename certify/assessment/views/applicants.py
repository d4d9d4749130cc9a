"""What applicants see of the assessment: the assessors' comments meant for them (never internal
notes), the evaluation report once the department has decided, and the assessment panel of the
application page (for every signed-in user, what is theirs to see)."""

from flask import abort, render_template
from flask_login import current_user, login_required

from certify.applications.models import Application
from certify.assessment.blueprint import bp
from certify.assessment.permissions import can_download_report, can_read_assessor_comments
from certify.assessment.reports import latest_report
from certify.assessment.rounds import current_assignments, last_round_assignments
from certify.assessment.views.common import load_application
from certify.rulesets.applied import pages, rule_set_of


@bp.route("/assessment/applications/<int:application_id>/feedback")
@login_required
def feedback(application_id: int):
    """The assessors' comments meant for the applicant (never internal notes), once the
    application has been returned to it or decided."""
    application = load_application(application_id)
    if not can_read_assessor_comments(current_user, application):
        abort(404)
    rule_set = rule_set_of(application)
    sheets = [a.sheet for a in last_round_assignments(application)
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


def panel(application: Application) -> dict:
    """What the application page shows about the assessment, for the current user."""
    if not current_user.is_authenticated:
        return {}
    data = {"report": can_download_report(current_user, application) and latest_report(application)}
    if current_user.is_admin:
        data["manage"] = True
    elif current_user.is_assessor:
        data["assignments"] = [a for a in current_assignments(application)
                               if a.assessor_id == current_user.id]
    data["feedback"] = can_read_assessor_comments(current_user, application) and bool(
        last_round_assignments(application))
    return data

