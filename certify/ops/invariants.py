"""What every application's status implies about the rows around it, checked over the whole
database in a few set-based queries (``flask doctor`` reports a broken one; the demo and volume
data are tested against them).

Each rule names the applications whose status claims something their rows do not show: a
listed application without a valid certificate, an assessed one without a submitted lead score
sheet, a certificate for an application never announced. The database's own constraints keep
each row sound by itself; these keep the rows in agreement with one another.
"""

from dataclasses import dataclass

from sqlalchemy import and_, exists, func, not_, select

from certify.applications.models import Application, Submission
from certify.assessment.models import AssessorRole, Assignment, AssignmentStatus, ScoreSheet
from certify.certificates.models import Certificate, CertificateStatus
from certify.extensions import db
from certify.publication.models import Batch, BatchEntry, BatchStatus, Decision, DecisionOutcome
from certify.workflow import ANNOUNCED, AWAITING_DECISION, DECIDED, Status

# Submitted at least once: every status a submission leads to (a withdrawn application may
# have been withdrawn as a draft, a draft may be one returned: neither is checked).
SUBMITTED_ONCE = AWAITING_DECISION | DECIDED
REPORTED = DECIDED | {Status.ASSESSED}
CERTIFICATE_STATUS = {Status.LISTED: CertificateStatus.VALID, Status.REVOKED: CertificateStatus.REVOKED,
                      Status.EXPIRED: CertificateStatus.EXPIRED}


@dataclass(frozen=True)
class Broken:
    """A rule some applications break: how many, and the first few ids."""

    rule: str
    count: int
    application_ids: list[int]


def _has_submission():
    return exists().where(Submission.application_id == Application.id)


def _has_lead(*statuses):
    return exists().where(Assignment.application_id == Application.id, Assignment.role == AssessorRole.LEAD,
                          Assignment.status.in_(statuses))


def _submitted_lead_sheet():
    return exists().where(Assignment.application_id == Application.id, Assignment.role == AssessorRole.LEAD,
                          Assignment.status == AssignmentStatus.SUBMITTED,
                          ScoreSheet.assignment_id == Assignment.id, ScoreSheet.submitted_at.is_not(None))


def _decided(outcome):
    return exists().where(Decision.application_id == Application.id, Decision.outcome == outcome)


def _on_batch(batch_status):
    return exists().where(BatchEntry.application_id == Application.id, BatchEntry.removed_at.is_(None),
                          Batch.id == BatchEntry.batch_id, Batch.status == batch_status)


def _certificate(status):
    return exists().where(Certificate.application_id == Application.id, Certificate.status == status)


def _not_a_recognition():
    """Not the application of a zero-carbon unit recognised at its pilot's acceptance: listed by
    the department's acceptance (``certify.pilots``), with no submission, assessment, decision or
    batch of its own — the pilot's application holds those."""
    return not_(exists().where(Certificate.application_id == Application.id, Certificate.is_recognition.is_(True)))


def rules() -> list[tuple[str, object]]:
    """(what must hold, condition on ``Application`` selecting those that break it)."""
    status = Application.status
    history = [
        ("a submitted application (or one further on) has its submission on record",
         and_(status.in_(SUBMITTED_ONCE), not_(_has_submission()))),
        ("an assigned application has a lead assessor's assignment waiting for an answer",
         and_(status == Status.ASSIGNED, not_(_has_lead(AssignmentStatus.PENDING)))),
        ("an application under assessment has its lead assessor's assignment accepted",
         and_(status == Status.UNDER_ASSESSMENT, not_(_has_lead(AssignmentStatus.ACCEPTED)))),
        ("an assessed or decided application has its lead assessor's score sheet submitted",
         and_(status.in_(REPORTED), not_(_submitted_lead_sheet()))),
        ("an approved application (or one further on) has the decision to approve on record",
         and_(status.in_(DECIDED - {Status.REJECTED}), not_(_decided(DecisionOutcome.APPROVED)))),
        ("a rejected application has the decision to reject on record",
         and_(status == Status.REJECTED, not_(_decided(DecisionOutcome.REJECTED)))),
        ("an application under public notice is on a batch whose notice is open",
         and_(status == Status.IN_NOTICE, not_(_on_batch(BatchStatus.IN_NOTICE)))),
        ("a listed, revoked or expired application is on an announced batch",
         and_(status.in_(ANNOUNCED), not_(_on_batch(BatchStatus.ANNOUNCED)))),
    ]
    found = [(rule, and_(condition, _not_a_recognition())) for rule, condition in history]
    found += [
        ("an application has a certificate only once announced",
         and_(status.not_in(ANNOUNCED), exists().where(Certificate.application_id == Application.id))),
    ]
    found += [(f"a {state.value} application has a {certificate_status.value} certificate",
               and_(status == state, not_(_certificate(certificate_status))))
              for state, certificate_status in CERTIFICATE_STATUS.items()]
    return found


def broken_rules(shown: int = 5) -> list[Broken]:
    """Every rule some application breaks, with the count and the first ``shown`` ids."""
    broken = []
    for rule, condition in rules():
        count = db.session.execute(select(func.count()).select_from(Application).where(condition)).scalar_one()
        if count:
            ids = db.session.execute(select(Application.id).where(condition).order_by(Application.id)
                                     .limit(shown)).scalars().all()
            broken.append(Broken(rule, count, list(ids)))
    return broken
