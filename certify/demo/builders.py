"""Applications in each state of the workflow, made the one way the system makes them: by its
services, one step after another, each step audited as it would be in use.

The demonstration data (``certify.demo.public``), the volume data (``certify.demo.scale``, which
copies what these build) and the tests' factories all start here, so none of them can hold a
state the workflow cannot reach. Each step takes the application where the step before left it::

    application = submitted(applicant, kind="factory", subject="…")
    recommended(application, city_user=bureau_user)   # where the city bureau pre-reviews the kind
    assessed(application, admin=admin, lead=assessor)
    decided(application, admin=admin)
    batch = in_notice([application], admin=admin, title="…")
    certificates = announced(batch, admin=admin)

The one liberty taken is with time: ``announced`` moves a batch's notice into the past (as if it
had run its days already), because a batch can be announced only after its notice ends, and
``expired`` moves a certificate's validity into the past before the daily expiry runs.
"""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

from certify.applications import services as applications
from certify.applications.models import Application
from certify.assessment.assignment import accept_assignment, assign_assessors
from certify.assessment.models import AssessorRole, Recommendation
from certify.assessment.scoring import save_scores, save_sheet_details, submit_sheet
from certify.auth.models import User
from certify.certificates.models import Certificate
from certify.certificates.services import expire_due_certificates, revoke_certificate
from certify.publication import services as publication
from certify.publication.models import Batch, DecisionOutcome
from certify.rulesets.applied import rule_set_of
from certify.rulesets.forms import ParsedAnswers
from certify.scoring import applicable_indicators
from certify.scoring.answers import best_answer as scoring_best_answer
from certify.scoring.model import plain
from certify.tiers import services as tiers
from certify.timeutil import local_today

# A small, complete PDF (one empty A4 page) standing in for an applicant's scanned evidence.
EVIDENCE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
APPROVAL_REASON = "评价报告结论为符合要求。"
REJECTION_REASON = "评价得分未达到要求。"
RETURN_QUESTIONS = "请补充说明能源计量器具的配备情况。"
CITY_OPINION = "经核实，申报材料齐全，自评价情况属实，同意推荐。"
REASONS = {DecisionOutcome.APPROVED: APPROVAL_REASON, DecisionOutcome.REJECTED: REJECTION_REASON,
           DecisionOutcome.RETURNED: RETURN_QUESTIONS}


def best_answer(indicator):
    """A stored-form answer that earns ``indicator`` its maximum."""
    answer = scoring_best_answer(indicator)
    if isinstance(answer, dict):
        return {key: plain(value) for key, value in answer.items()}
    return plain(answer) if isinstance(answer, Decimal) else answer


def best_answers(rule_set, industry=None) -> dict:
    """Stored-form answers that earn every applicable indicator of ``rule_set`` its maximum."""
    return {indicator.id: best_answer(indicator) for indicator in applicable_indicators(rule_set, industry)}


def draft(applicant: User, *, kind: str, subject: str, answers: dict | None = None,
          **fields) -> Application:
    """A draft opened by ``applicant``, with ``answers`` (stored form) saved as its first page."""
    application = applications.open_application(applicant, kind=kind, subject=subject, **fields)
    if answers:
        applications.save_answers(applicant, application, ParsedAnswers(answers=dict(answers)),
                                  seen_version=None)
    return application


def complete(applicant: User, *, kind: str, subject: str, evidence: bytes = EVIDENCE_PDF,
             evidence_name: str = "自评价报告.pdf", figures: dict | None = None, **fields) -> Application:
    """A draft answered in full at its best, with one evidence file: ready to submit.
    ``figures`` ({indicator id: {input key: text}}) changes those inputs of the best answers."""
    application = draft(applicant, kind=kind, subject=subject, **fields)
    answers = best_answers(rule_set_of(application), application.industry_code)
    for indicator_id, given in (figures or {}).items():
        answers[indicator_id] = dict(answers[indicator_id]) | given
    applications.save_answers(applicant, application, ParsedAnswers(answers=answers), seen_version=None)
    applications.add_evidence(applicant, application, indicator_id=None, fileobj=io.BytesIO(evidence),
                              filename=evidence_name)
    return application


def submitted(applicant: User, *, kind: str, subject: str, **fields) -> Application:
    """A complete application submitted with the pledge, signed in the applicant's name."""
    application = complete(applicant, kind=kind, subject=subject, **fields)
    applications.submit_application(applicant, application, pledge_name=applicant.name,
                                    pledge_accepted=True)
    return application


def withdrawn(application: Application, *, reason: str = "企业调整申报计划。") -> Application:
    """The application withdrawn by its applicant (a draft or a submitted one)."""
    applications.withdraw_application(application.created_by, application, reason=reason)
    return application


def recommended(application: Application, *, city_user: User, opinion: str = CITY_OPINION):
    """The city bureau's recommendation of a submitted application to the province, by a user of
    the bureau of the applicant's city (for a kind in ``CERTIFY_CITY_REVIEW_KINDS``: assessors are
    assigned only after it)."""
    return tiers.recommend_application(city_user, application, opinion)


def assigned(application: Application, *, admin: User, lead: User, second: User | None = None):
    """A submitted application assigned to ``lead`` (and ``second``); returns the assignments."""
    return assign_assessors(admin, application, lead=lead, second=second)


def under_assessment(application: Application, *, admin: User, lead: User,
                     second: User | None = None) -> list:
    """Assigned, and accepted by every assessor; returns their open score sheets."""
    return [accept_assignment(assignment.assessor, assignment)
            for assignment in assigned(application, admin=admin, lead=lead, second=second)]


def scored(sheet, *, recommendation: Recommendation = Recommendation.APPROVE) -> None:
    """The assessor's sheet filled with the applicant's own answers, the visit recorded, the
    recommendation made, and submitted (the last sheet reports the application)."""
    assessor = sheet.assignment.assessor
    application = sheet.assignment.application
    save_scores(assessor, sheet, ParsedAnswers(answers=dict(application.answers or {})), {},
                seen_version=None)
    approve = recommendation == Recommendation.APPROVE
    save_sheet_details(
        assessor, sheet, site_visit_on=local_today(), site_visit_participants="企业负责人、能源管理负责人",
        site_visit_findings="现场核查与自评价一致。", recommendation=recommendation.value,
        return_questions=RETURN_QUESTIONS if recommendation == Recommendation.RETURN else "",
        conclusion="符合评价要求。" if approve else "评价得分未达到要求。",
        highlights="", seen_version=None)
    submit_sheet(assessor, sheet)


def assessed(application: Application, *, admin: User, lead: User, second: User | None = None,
             recommendation: Recommendation = Recommendation.APPROVE) -> Application:
    """Assigned, accepted, scored and submitted by every assessor: the application is assessed
    (its evaluation report is generated after the commit)."""
    sheets = under_assessment(application, admin=admin, lead=lead, second=second)
    # The lead submits last, as the report waits for every standing sheet.
    for sheet in sorted(sheets, key=lambda s: s.assignment.role == AssessorRole.LEAD):
        scored(sheet, recommendation=recommendation)
    return application


def decided(application: Application, *, admin: User,
            outcome: DecisionOutcome = DecisionOutcome.APPROVED, reason: str | None = None):
    """The administrator's decision on an assessed application."""
    return publication.decide(admin, application, outcome, REASONS[DecisionOutcome(outcome)] if reason is None else reason)


def in_notice(approved: list[Application], *, admin: User, title: str) -> Batch:
    """A batch of approved applications whose public notice opens today."""
    batch = publication.create_batch(admin, title=title, kinds={a.kind for a in approved})
    publication.add_to_batch(admin, batch, approved)
    publication.open_notice(admin, batch)
    return batch


def announced(batch: Batch, *, admin: User, notice_ended_days_ago: int = 1) -> list[Certificate]:
    """The batch announced, its notice having ended ``notice_ended_days_ago`` days ago; returns
    the certificates issued (rendered after the commit)."""
    length = batch.notice_ends_on - batch.notice_starts_on
    batch.notice_ends_on = local_today() - timedelta(days=notice_ended_days_ago)
    batch.notice_starts_on = batch.notice_ends_on - length
    return publication.announce(admin, batch)


def revoked(certificate: Certificate, *, admin: User, reason: str = "no_longer_conforming",
            note: str = "年度复核发现单位产品综合能耗高于基准值。") -> Certificate:
    revoke_certificate(admin, certificate, reason, note)
    return certificate


def expired(certificate: Certificate) -> Certificate:
    """The certificate run out: its validity moved into the past (ended yesterday), then the
    daily expiry run as it is every day."""
    length = certificate.valid_until - certificate.valid_from
    certificate.valid_until = local_today() - timedelta(days=1)
    certificate.valid_from = certificate.valid_until - length
    expire_due_certificates()
    return certificate
