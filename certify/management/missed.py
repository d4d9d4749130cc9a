"""Missed self-declarations, as the department reads them: for a closed period, the listed
applications that were due to declare and have not (a declaration submitted late ends the miss),
how many periods in a row each has missed, and what was sent about it — the reminder before the
due date, the warning, the proposal for review under ongoing management.

Only listings with a certificate count: the certificate's first valid day is when the listing
began, and a period that began before it asked nothing. Listings of a kind that owes no
declaration (``permissions.DECLARATION_FREE_KINDS``: the construction pilots') never miss one. The steps are taken by
``reminders.py``; a late declaration is filed through ``services.py``.
"""

from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import Select, case, exists, func, select

from certify.applications.models import Application
from certify.certificates.models import Certificate
from certify.certificates.services import certificates_by_application
from certify.extensions import db
from certify.management import services
from certify.management.models import (
    MISSED_STEPS,
    Declaration,
    DeclarationStatus,
    ReminderKind,
    ReminderSent,
)
from certify.management.periods import period_start, previous_period
from certify.management.permissions import DECLARATION_FREE_KINDS
from certify.organisations.models import Organisation
from certify.workflow import Status

# What is shown beside a missed period: the reminder before it closed and the steps after.
SENT_ABOUT_A_PERIOD = (ReminderKind.DECLARATION_DUE, *MISSED_STEPS)


@dataclass(frozen=True)
class Thresholds:
    """After how many periods missed in a row each step is taken."""

    warning: int
    proposal: int

    def step_for(self, misses_in_a_row: int) -> ReminderKind | None:
        """The step a listing that missed ``misses_in_a_row`` periods has reached, if any."""
        if misses_in_a_row >= self.proposal:
            return ReminderKind.DECLARATION_REVIEW_PROPOSAL
        if misses_in_a_row >= self.warning:
            return ReminderKind.DECLARATION_MISSED_WARNING
        return None


def thresholds(config=None) -> Thresholds:
    """The configured thresholds (``CERTIFY_MISSED_WARNING_AFTER``, ``CERTIFY_MISSED_REVIEW_AFTER``)."""
    config = config or current_app.config
    return Thresholds(int(config["CERTIFY_MISSED_WARNING_AFTER"]),
                      int(config["CERTIFY_MISSED_REVIEW_AFTER"]))


def _declared(period: date):
    return exists().where(Declaration.application_id == Application.id, Declaration.period == period,
                          Declaration.status != DeclarationStatus.DRAFT)


def _step_taken(kind: ReminderKind, period: date):
    return exists().where(ReminderSent.kind == kind, ReminderSent.object_id == Application.id,
                          ReminderSent.window_key == period.isoformat())


def _missing(query: Select, period: date) -> Select:
    start = period_start(period, services.due_dates())
    return (query.join(Certificate, Certificate.application_id == Application.id)
            .where(Application.status == Status.LISTED, Certificate.valid_from < start,
                   Application.kind.not_in(DECLARATION_FREE_KINDS), ~_declared(period)))


def missing_query(period: date) -> Select:
    """The listed applications that missed ``period``: those proposed for review first, then those
    warned, then by organisation."""
    rank = case((_step_taken(ReminderKind.DECLARATION_REVIEW_PROPOSAL, period), 0),
                (_step_taken(ReminderKind.DECLARATION_MISSED_WARNING, period), 1), else_=2)
    return (_missing(select(Application), period)
            .join(Organisation, Organisation.id == Application.organisation_id)
            .order_by(rank, Organisation.name, Application.id))


def count_missing(period: date) -> tuple[int, int]:
    """How many listed applications missed ``period``, and how many of them are proposed for
    review (one query)."""
    proposed = _step_taken(ReminderKind.DECLARATION_REVIEW_PROPOSAL, period)
    query = _missing(select(func.count(), func.count().filter(proposed)).select_from(Application),
                     period)
    total, of_which_proposed = db.session.execute(query).one()
    return total, of_which_proposed


def count_late(period: date) -> int:
    """How many declarations for ``period`` were submitted late."""
    return db.session.execute(
        select(func.count()).select_from(Declaration)
        .where(Declaration.period == period, Declaration.is_late.is_(True))).scalar_one()


def misses_in_a_row(certificate: Certificate, declared: set[date], period: date) -> int:
    """How many periods, ending with ``period``, the listing was due to declare for and did not."""
    dates, count = services.due_dates(), 0
    while (count < services.MAX_PERIODS_BACK and services.is_declaration_due(certificate, period)
           and period not in declared):
        count += 1
        period = previous_period(period, dates)
    return count


@dataclass
class MissedEntry:
    """A listed application that missed a closed period."""

    application: Application
    certificate: Certificate
    period: date
    misses_in_a_row: int
    sent: list[ReminderSent]   # about this period, oldest first

    @property
    def step(self) -> ReminderSent | None:
        """The furthest step taken about this period (warning, or proposal for review)."""
        steps = [s for s in self.sent if s.kind in MISSED_STEPS]
        return max(steps, key=lambda s: MISSED_STEPS.index(s.kind), default=None)


def missed_entries(applications: list[Application], period: date) -> list[MissedEntry]:
    """``applications`` (that missed ``period``) with what the department reads beside each, in
    three queries whatever their number."""
    ids = [a.id for a in applications]
    if not ids:
        return []
    certificates = certificates_by_application(ids)
    dates, oldest = services.due_dates(), period
    for _ in range(services.MAX_PERIODS_BACK - 1):
        oldest = previous_period(oldest, dates)
    declared = services.submitted_periods(ids, oldest)
    sent: dict[int, list[ReminderSent]] = {i: [] for i in ids}
    for reminder in db.session.execute(
            select(ReminderSent).where(ReminderSent.object_id.in_(ids),
                                       ReminderSent.kind.in_(SENT_ABOUT_A_PERIOD),
                                       ReminderSent.window_key == period.isoformat())
            .order_by(ReminderSent.sent_at, ReminderSent.id)).scalars():
        sent[reminder.object_id].append(reminder)
    return [MissedEntry(a, certificates[a.id], period,
                        misses_in_a_row(certificates[a.id], declared[a.id], period), sent[a.id])
            for a in applications]


def all_missed(period: date) -> list[MissedEntry]:
    """Every listed application that missed ``period``, with its entry."""
    return missed_entries(db.session.execute(missing_query(period)).unique().scalars().all(), period)
