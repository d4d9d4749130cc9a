"""What each workbench shows, read with a few indexed queries (no query per row, none that grows
with the history): the applicant's applications and what is due, the assessor's open assignments,
the administrators' queues with their counts."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from certify.applications.models import Application
from certify.assessment.models import OPEN_ASSIGNMENT, Assignment
from certify.certificates.models import Certificate, CertificateStatus, RenderState
from certify.extensions import db
from certify.management import missed
from certify.management.models import Declaration, DeclarationStatus
from certify.management.services import last_closed_period, listed_entries
from certify.publication.models import Batch, BatchStatus, Objection, ObjectionStatus
from certify.workflow import Status

APPLICATIONS_SHOWN = 20
ASSIGNMENTS_SHOWN = 20
NOTICE_ENDING_DAYS = 3
EXPIRING_DAYS = 90


@dataclass(frozen=True)
class ApplicantBench:
    applications: list[Application]
    total: int
    returned: list[Application]
    declarations_due: list        # management.services.ListedEntry, undeclared this period


def applicant_bench(organisation_id: int, today: date) -> ApplicantBench:
    mine = Application.organisation_id == organisation_id
    applications = db.session.execute(
        select(Application).where(mine).order_by(Application.updated_at.desc(), Application.id.desc())
        .limit(APPLICATIONS_SHOWN)).scalars().all()
    total = db.session.execute(select(func.count()).select_from(Application).where(mine)).scalar_one()
    returned = [a for a in applications if a.status == Status.DRAFT and a.returned_at is not None]
    due = [entry for entry in listed_entries(organisation_id, today)
           if entry.is_due and (entry.declaration is None or entry.declaration.status == DeclarationStatus.DRAFT)]
    return ApplicantBench(applications, total, returned, due)


@dataclass(frozen=True)
class AssessorBench:
    assignments: list[Assignment]
    total: int
    overdue: int


def assessor_bench(assessor_id: int, today: date) -> AssessorBench:
    """The assessor's open assignments, the overdue ones first (earliest due first)."""
    open_ones = (Assignment.assessor_id == assessor_id) & Assignment.status.in_(OPEN_ASSIGNMENT)
    assignments = db.session.execute(
        select(Assignment).options(joinedload(Assignment.application).joinedload(Application.organisation))
        .where(open_ones).order_by(Assignment.due_on, Assignment.id).limit(ASSIGNMENTS_SHOWN)).scalars().all()
    total, overdue = db.session.execute(
        select(func.count(), func.count().filter(Assignment.due_on < today)).where(open_ones)).one()
    return AssessorBench(assignments, total, overdue)


@dataclass(frozen=True)
class Queue:
    key: str
    count: int
    urgent: int = 0   # of which need attention first (overdue, ending, failed)


def admin_queues(today: date) -> list[Queue]:
    """Each administrators' queue with its count, in the order the work flows."""
    def count(model, *conditions) -> int:
        return db.session.execute(select(func.count()).select_from(model).where(*conditions)).scalar_one()

    overdue_assessments = count(Assignment, Assignment.status.in_(OPEN_ASSIGNMENT), Assignment.due_on < today)
    notice_ending = count(Batch, Batch.status == BatchStatus.IN_NOTICE,
                          Batch.notice_ends_on <= today + timedelta(days=NOTICE_ENDING_DAYS))
    notice_over = count(Batch, Batch.status == BatchStatus.IN_NOTICE, Batch.notice_ends_on < today)
    not_declared, proposed_for_review = missed.count_missing(last_closed_period(today))
    return [
        Queue("assign", count(Application, Application.status == Status.SUBMITTED)),
        Queue("under_way", count(Assignment, Assignment.status.in_(OPEN_ASSIGNMENT)), overdue_assessments),
        Queue("decide", count(Application, Application.status == Status.ASSESSED)),
        Queue("objections", count(Objection, Objection.status == ObjectionStatus.OPEN)),
        Queue("notices", notice_ending, notice_over),
        Queue("declarations", count(Declaration, Declaration.status == DeclarationStatus.SUBMITTED),
              count(Declaration, Declaration.status == DeclarationStatus.SUBMITTED, Declaration.is_flagged.is_(True))),
        Queue("missed", not_declared, proposed_for_review),
        Queue("certificates", count(Certificate, Certificate.render_state != RenderState.RENDERED),
              count(Certificate, Certificate.render_state == RenderState.FAILED)),
        Queue("expiring", count(Certificate, Certificate.status == CertificateStatus.VALID,
                                Certificate.valid_until <= today + timedelta(days=EXPIRING_DAYS))),
    ]
