"""The third-party evaluation report (第三方评价报告) as a PDF.

The report is rendered when the application is reported (the last standing score sheet is
submitted: ``signals.assessment_reported``, connected by ``init_app``), by a job that runs after
that transaction commits (``jobs.call_after_commit``): a failure to render never undoes the
assessment, and an administrator can have the report rendered again from the application's
assessment page (``request_report``: by the same job, never in the request). The PDF is stored
once in the content-addressed storage and recorded with its sha256.

Contents, after the standard's report outline: cover (applicant, credit code, kind, rule set and
standard, agency, assessors, dates); conclusion (basic requirements met or not, total, pass or
fail, highlights); per-section and per-indicator tables with the self-assessment, each
assessor's score and the comments meant for the applicant (internal notes never appear); the
on-site record; the agency's integrity pledge. Chinese first, English subtitles. The lead
assessor's sheet gives the report's score; a second assessor's scores are shown beside it.
"""

import logging

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from certify import storage
from certify.applications.kinds import kind_of
from certify.applications.models import Application
from certify.assessment.agencies import agency_profile
from certify.assessment.models import AssessorRole, EvaluationReport
from certify.assessment.permissions import can_manage_assessment
from certify.assessment.rounds import current_assignments
from certify.audit.services import record_event
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.jobs import call_after_commit
from certify.organisations.reference import cities_by_code, industry_label
from certify.pdf import render_pdf
from certify.rulesets.applied import pages, rule_set_of, self_result, sheet_result, terms_of
from certify.rulesets.forms import form_value
from certify.signals import assessment_reported, connect_once
from certify.timeutil import local_date, utcnow

log = logging.getLogger(__name__)

RECOMMENDATION_TITLES = {
    "approve": ("建议通过", "Approve"),
    "reject": ("建议不予通过", "Reject"),
    "return": ("建议退回补充材料", "Return with questions"),
}


def reports_of(application: Application) -> list[EvaluationReport]:
    """Every report rendered for the application, the latest first."""
    return db.session.execute(
        select(EvaluationReport).where(EvaluationReport.application_id == application.id)
        .order_by(EvaluationReport.generated_at.desc(), EvaluationReport.id.desc())
    ).scalars().all()


def latest_report(application: Application) -> EvaluationReport | None:
    return db.session.execute(
        select(EvaluationReport).where(EvaluationReport.application_id == application.id)
        .order_by(EvaluationReport.generated_at.desc(), EvaluationReport.id.desc()).limit(1)
    ).scalar_one_or_none()


def _visible_comments(sheet, indicator) -> list[str]:
    """The sheet's notes on ``indicator`` that the applicant may read (never internal ones)."""
    written = (sheet.notes or {}).get(indicator.id, {})
    return [written[kind] for kind in indicator.applicant_visible_notes if written.get(kind)]


def _points(result, indicator_id: str):
    """The indicator's points in ``result``, or None where it was not scored there."""
    try:
        return result.indicator(indicator_id).points
    except KeyError:
        return None


def report_context(application: Application) -> dict:
    """Everything the report template shows, from the current round's submitted sheets."""
    assignments = [a for a in current_assignments(application)
                   if a.sheet is not None and a.sheet.is_submitted]
    lead = next(a for a in assignments if a.role == AssessorRole.LEAD)
    sheets = [lead.sheet] + [a.sheet for a in assignments if a.role != AssessorRole.LEAD]
    results = [sheet_result(sheet) for sheet in sheets]
    rule_set = rule_set_of(application)
    own_result = self_result(application)
    lead_result = results[0]
    basic_ids = {i.id for i in rule_set.basic_requirements}
    declared = application.not_applicable or {}
    sections = []
    for page_id, section, indicators in pages(rule_set, application.industry_code, declared):
        rows = []
        for indicator in indicators:
            rows.append({
                "indicator": indicator,
                "self": form_value(indicator, (application.answers or {}).get(indicator.id), application.answer_texts),
                "self_points": _points(own_result, indicator.id),
                "not_applicable": declared.get(indicator.id),
                "scores": [(form_value(indicator, (s.answers or {}).get(indicator.id), s.answer_texts),
                            _points(r, indicator.id), (s.not_applicable or {}).get(indicator.id))
                           for s, r in zip(sheets, results, strict=True)],
                "comments": [c for s in sheets for c in _visible_comments(s, indicator)],
            })
        section_scores = [next((x for x in r.sections if x.id == page_id), None) for r in results]
        sections.append({"id": page_id, "section": section, "rows": rows, "scores": section_scores})
    organisation = application.organisation
    agency = lead.agency
    city = cities_by_code().get(organisation.city_code)
    industry = industry_label(application.industry_code, "zh")
    return {
        "application": application, "organisation": organisation, "rule_set": rule_set,
        "kind_title": (kind_of(application.kind).title.zh, kind_of(application.kind).title.en),
        "city": city, "industry": industry,
        "agency": agency, "agency_profile": agency_profile(agency),
        "assignments": [lead] + [a for a in assignments if a is not lead],
        "sheets": sheets, "results": results, "lead_sheet": lead.sheet, "lead_result": lead_result,
        "basic_met": not any(i in basic_ids for i in lead_result.failed_requirements),
        "recommendation_title": RECOMMENDATION_TITLES[lead.sheet.recommendation.value],
        "sections": sections, "generated_on": local_date(utcnow()),
        "declarations": [(rule_set.indicator(key), reason, [(s.not_applicable or {}).get(key) for s in sheets])
                         for key, reason in declared.items()],
        "terms": terms_of(application),
        "submitted_on": local_date(application.submitted_at) if application.submitted_at else None,
        "assigned_on": lead.assigned_on,
    }


def generate_report(application: Application, *, actor=None) -> EvaluationReport:
    """Render the report of the current round, store it and record it (flush only)."""
    pdf = render_pdf("assessment/report.html", **report_context(application))
    stored = storage.store_bytes(pdf)
    report = EvaluationReport(application_id=application.id, sha256=stored.sha256,
                              size=stored.size, generated_at=utcnow())
    db.session.add(report)
    record_event("evaluation_report.generated", actor=actor, obj=application,
                 details={"sha256": stored.sha256, "size": stored.size})
    return report


def _lead_sheet_submitted(application: Application) -> bool:
    """Whether the current round has the submitted lead sheet the report is made from."""
    return any(a.role == AssessorRole.LEAD and a.sheet is not None and a.sheet.is_submitted
               for a in current_assignments(application))


def request_report(application: Application, actor) -> None:
    """Have the report of the current round rendered again, by ``generate_report_job`` once the
    caller's transaction commits: rendering takes seconds, which no request should wait for.
    Administrators only, once the lead assessor's sheet is submitted; the request is audited
    (flush only; the job records the report it renders)."""
    if not can_manage_assessment(actor):
        raise PermissionDenied(_l("Only administrators can do this."))
    if not _lead_sheet_submitted(application):
        raise ServiceError(_l("The report can be generated once the lead assessor has submitted "
                              "the score sheet."))
    record_event("evaluation_report.requested", actor=actor, obj=application)
    call_after_commit(generate_report_job, application.id)


def init_app(app) -> None:
    connect_once(assessment_reported, queue_report)


def queue_report(application: Application, **_) -> None:
    """Have the report of the reported ``application`` rendered once the report has committed."""
    call_after_commit(generate_report_job, application.id)


def generate_report_job(application_id: int) -> None:
    """The job run after an application is reported (see ``certify.jobs``). A failure is logged:
    the assessment stands, and an administrator can render the report again."""
    # A fresh application context gives the job a database session of its own: run inline, it
    # runs while the request's session is still finishing its commit.
    with current_app.app_context():
        try:
            application = db.session.get(Application, application_id)
            if application is not None:
                generate_report(application)
                db.session.commit()
        except Exception:  # noqa: BLE001 - the committed assessment must not fail with the PDF
            db.session.rollback()
            log.exception("Could not render the evaluation report of application %s", application_id)
