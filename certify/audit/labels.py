"""The audit log as people read it: each action and kind of object named in the reader's language,
each object with its own name and a link, each detail as a labelled value (Chinese as Chinese).
The stored events are never changed: this only says them."""

import json

from flask import url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import load_only

from certify.extensions import db
from certify.workflow import STATUS_LABELS, Status

ACTIONS = {
    "api_key.created": _l("API key made"),
    "api_key.revoked": _l("API key revoked"),
    "agency.profile_saved": _l("Agency profile saved"),
    "application.answers_saved": _l("Answers saved"),
    "application.opened": _l("Application opened"),
    "application.re_evaluation_opened": _l("Re-evaluation opened"),
    "application.rescored": _l("Application re-scored"),
    "application.submit": _l("Application submitted"),
    "application.withdraw": _l("Application withdrawn"),
    "application.assign": _l("Assessors assigned"),
    "application.accept": _l("Assignment accepted"),
    "application.decline": _l("Assignment declined"),
    "application.withdraw_assignment": _l("Assignment withdrawn by the department"),
    "application.report": _l("Assessment reported"),
    "application.return": _l("Returned to the applicant"),
    "application.approve": _l("Approved"),
    "application.reject": _l("Rejected"),
    "application.open_notice": _l("Put under public notice"),
    "application.uphold_objection": _l("Objection upheld: back to decision"),
    "application.announce": _l("Listed by announcement"),
    "application.revoke": _l("Recognition revoked"),
    "application.expire": _l("Recognition expired"),
    "assessor.profile_saved": _l("Assessor profile saved"),
    "assignment.accepted": _l("Assignment accepted"),
    "assignment.cancelled": _l("Assignment cancelled"),
    "assignment.created": _l("Assignment made"),
    "assignment.declined": _l("Assignment declined"),
    "assignment.withdrawn": _l("Assignment withdrawn by the department"),
    "audit.anchored": _l("Audit log anchored (newest event written to the anchor file)"),
    "audit.chain_verified": _l("Audit chain verified"),
    "audit.verification_requested": _l("Audit chain verification requested"),
    "batch.announced": _l("Batch announced"),
    "batch.created": _l("Batch created"),
    "batch.entries_added": _l("Applications added to the batch"),
    "batch.entry_removed": _l("Application taken off the batch"),
    "batch.exports_outdated": _l("Batch files outdated"),
    "batch.exports_stored": _l("Batch files stored"),
    "batch.notice_opened": _l("Public notice opened"),
    "certificate.expired": _l("Certificate expired"),
    "certificate.issued": _l("Certificate issued"),
    "certificate.render_failed": _l("Certificate PDF failed"),
    "certificate.render_requeued": _l("Certificate PDF queued again"),
    "certificate.render_requested": _l("Certificate PDF requested"),
    "certificate.rendered": _l("Certificate PDF made"),
    "certificate.revoked": _l("Certificate revoked"),
    "conflict.declared": _l("Conflict of interest declared"),
    "conflict.withdrawn": _l("Conflict of interest withdrawn"),
    "declaration.missed_warning": _l("Warning: self-declarations missed"),
    "declaration.opened": _l("Self-declaration opened"),
    "declaration.review_proposed": _l("Proposed for review: self-declarations missed"),
    "declaration.reviewed": _l("Self-declaration reviewed"),
    "declaration.saved": _l("Self-declaration saved"),
    "declaration.submitted": _l("Self-declaration submitted"),
    "demo.scale_loaded": _l("Demonstration data loaded"),
    "evaluation_report.generated": _l("Evaluation report made"),
    "evaluation_report.requested": _l("Evaluation report requested"),
    "evidence.deleted": _l("Evidence deleted"),
    "evidence.uploaded": _l("Evidence uploaded"),
    "import.completed": _l("Candidates imported from a workbook"),
    "objection.filed": _l("Objection filed"),
    "objection.upheld": _l("Objection upheld"),
    "objection.dismissed": _l("Objection dismissed"),
    "organisation.activated": _l("Organisation activated"),
    "organisation.created": _l("Organisation created"),
    "organisation.updated": _l("Organisation updated"),
    "reminder.assessment_due_soon": _l("Reminder: assessment due soon"),
    "reminder.assessment_overdue": _l("Reminder: assessment overdue"),
    "reminder.certificate_expiry": _l("Reminder: certificate expiring"),
    "reminder.declaration_due": _l("Reminder: self-declaration due"),
    "reminder.objection_pending": _l("Reminder: objection waiting"),
    "score_sheet.details_saved": _l("Score sheet details saved"),
    "signing_key.rotated": _l("Signing key replaced (the earlier certificate kept as a trust root)"),
    "score_sheet.saved": _l("Score sheet saved"),
    "score_sheet.submitted": _l("Score sheet submitted"),
    "user.activated": _l("Account activated"),
    "user.created": _l("Account created"),
    "user.password_reset_throttled": _l("Password reset mail held back (too many this hour)"),
    "user.registration_attempted": _l("Registration tried with an address that has an account"),
    "user.registration_confirmed": _l("Registration confirmed by e-mail"),
    "user.registration_removed": _l("Unconfirmed registration removed"),
    "user.totp_code_reused": _l("Second-factor code used again, refused"),
    "user.totp_reset": _l("Second factor switched off by an administrator"),
    "user.invited": _l("Colleague invited"),
    "user.invitation_accepted": _l("Invitation accepted"),
    "user.language_changed": _l("Language changed"),
    "user.logged_in": _l("Signed in"),
    "user.logged_out": _l("Signed out"),
    "user.login_failed": _l("Failed sign-in"),
    "user.password_changed": _l("Password changed"),
    "user.password_reset": _l("Password reset"),
    "user.password_reset_requested": _l("Password reset asked for"),
    "user.password_reset_unknown": _l("Password reset asked for an unknown address"),
    "user.registered": _l("Registration received (waiting for e-mail confirmation)"),
    "user.totp_disabled": _l("Second factor switched off"),
    "user.totp_enabled": _l("Second factor switched on"),
    "application.city_recommended": _l("Recommended by the city bureau"),
    "national_package.built": _l("National recommendation package made"),
    "grades.period_graded": _l("Cohort grades given for a period"),
    "grades.removal_decided": _l("Decision on a removal proposal"),
    "pilot.report_filed": _l("Pilot's progress report filed"),
    "pilot.midterm_reviewed": _l("Pilot's mid-term review"),
    "pilot.accepted": _l("Pilot accepted"),
    "pilot.refused": _l("Pilot refused at acceptance"),
    "plausibility.flags_raised": _l("Plausibility flags raised"),
    "plausibility.flag_cleared": _l("Plausibility flag cleared"),
}

OBJECT_TYPES = {
    "api_keys": _l("API key"),
    "applications": _l("Application"),
    "assignments": _l("Assignment"),
    "batches": _l("Batch"),
    "certificates": _l("Certificate"),
    "declarations": _l("Self-declaration"),
    "evaluation_reports": _l("Evaluation report"),
    "evidence": _l("Evidence"),
    "objections": _l("Objection"),
    "organisations": _l("Organisation"),
    "score_sheets": _l("Score sheet"),
    "users": _l("Account"),
    "city_reviews": _l("City bureau's pre-review"),
    "grading_runs": _l("Cohort grading"),
    "unit_grades": _l("Cohort grade"),
    "removal_decisions": _l("Removal decision"),
    "pilots": _l("Construction pilot"),
    "pilot_reports": _l("Pilot's progress report"),
    "plausibility_flags": _l("Plausibility flag"),
    "system": _l("System"),
}

DETAIL_KEYS = {
    "from": _l("Status before"), "to": _l("Status after"), "reason": _l("Reason"), "note": _l("Note"), "title": _l("Title"),
    "kinds": _l("Kinds"), "notice": _l("Notice period"), "planned": _l("Planned notice period"),
    "entries": _l("Entries"), "number": _l("Number"), "certificate": _l("Certificate"), "subject": _l("Subject"),
    "kind": _l("Kind"), "name": _l("Name"), "email": _l("E-mail"), "role": _l("Role"), "outcome": _l("Outcome"),
    "valid_until": _l("Valid until"), "batch_id": _l("Batch"), "application_id": _l("Application"),
    "sha256": "SHA-256", "size": _l("Size (bytes)"), "files": _l("Files"), "revocation_reason": _l("Reason"),
    "due_on": _l("Due"), "language": _l("Language"), "checked": _l("Events checked"), "problems": _l("Problems"),
    "period": _l("Period"), "misses_in_a_row": _l("Missed in a row"), "recipients": _l("Recipients"),
    "is_late": _l("Submitted late"), "assessor_id": _l("Assessor"), "assignment_ids": _l("Assignments"),
    "sheet_id": _l("Score sheet"),
    "holder": _l("Holder"), "scopes": _l("Scopes"), "rate_limit": _l("Rate limit"), "prefix": _l("Key begins with"),
}


def action_label(code: str) -> str:
    label = ACTIONS.get(code)
    return str(label) if label is not None else code


def object_type_label(code: str) -> str:
    label = OBJECT_TYPES.get(code)
    return str(label) if label is not None else code


def _status_label(value):
    try:
        return str(STATUS_LABELS[Status(value)])
    except (ValueError, KeyError):
        return value


def detail_items(details: dict) -> list[tuple[str, str]]:
    """An event's details as (label, text) pairs: statuses named, lists joined, nested values
    written out with Chinese as Chinese."""
    items = []
    for key, value in (details or {}).items():
        if key in ("from", "to") and isinstance(value, str):
            value = _status_label(value)
        elif isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            value = " – ".join(str(v) for v in value) if key in ("notice", "planned") else "、".join(map(str, value))
        elif isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        elif value is None or value == "":
            continue
        label = DETAIL_KEYS.get(key)
        items.append((str(label) if label is not None else key, str(value)))
    return items


# Each object type's name (for the page's events, one query per type) and the page it opens on.
def _names(model, column, ids):
    return dict(db.session.execute(select(model.id, column).where(model.id.in_(ids))).all())


def object_links(events) -> dict[tuple[str, str], Markup]:
    """For the events on one page: each object as a link named as people know it."""
    from certify.applications.models import Application, reference
    from certify.auth.models import User
    from certify.certificates.models import Certificate
    from certify.organisations.models import Organisation
    from certify.publication.models import Batch

    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.object_id and event.object_id.isdigit():
            wanted.setdefault(event.object_type, set()).add(int(event.object_id))
    links = {}

    def add(object_type, names, endpoint, argument):
        for object_id, name in names.items():
            links[(object_type, str(object_id))] = Markup('<a href="%s">%s</a>') % (
                url_for(endpoint, **{argument: object_id}), name)

    if "applications" in wanted:
        applications = db.session.execute(select(Application).where(Application.id.in_(wanted["applications"]))
                                          .options(load_only(Application.id, Application.kind,
                                                             Application.created_at, Application.subject))
                                          ).scalars()
        add("applications", {a.id: f"{reference(a)} {a.subject}" for a in applications},
            "applications.show", "application_id")
    if "certificates" in wanted:
        add("certificates", _names(Certificate, Certificate.number, wanted["certificates"]),
            "certificates.admin_show", "certificate_id")
    if "batches" in wanted:
        add("batches", _names(Batch, Batch.title, wanted["batches"]), "publication.batch", "batch_id")
    if "organisations" in wanted:
        add("organisations", _names(Organisation, Organisation.name, wanted["organisations"]),
            "admin.organisation", "organisation_id")
    if "users" in wanted:
        for user_id, name in _names(User, User.name, wanted["users"]).items():
            links[("users", str(user_id))] = Markup("%s") % name
    if "assignments" in wanted:
        add("assignments", {i: f"#{i}" for i in wanted["assignments"]}, "assessment.assignment", "assignment_id")
    return links
