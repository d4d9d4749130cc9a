"""Park removal use cases: the yearly index of each unit of the kinds concerned (parks by
default) for the last years, the units in the bottom share every year proposed with the figures,
and the department's decision on each (keep, or remove: the certificate revoked through the
certificates service). Each use case flushes; the caller commits once."""

from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from certify.applications.models import Application
from certify.audit.services import record_event
from certify.certificates.models import RevocationReason
from certify.certificates.services import certificate_for, revoke_certificate
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.grades.models import RemovalDecision
from certify.grades.permissions import can_manage_grades
from certify.grades.ranking import composites
from certify.grades.removal import Candidate, removal_candidates
from certify.grades.services import submitted_declarations, units_of
from certify.management import services as management
from certify.workflow import Status

KEEP, REMOVE = "keep", "remove"
_MAX_NOTE = 4000


def removal_kinds() -> tuple[str, ...]:
    return tuple(current_app.config["CERTIFY_REMOVAL_KINDS"])


def years_examined(today: date | None = None) -> list[int]:
    """The consecutive years examined, oldest first, ending with the year of the last closed
    declaration period."""
    last = management.last_closed_period(today).year
    count = current_app.config["CERTIFY_REMOVAL_CONSECUTIVE_YEARS"]
    return list(range(last - count + 1, last + 1))


def period_of_year(year: int, today: date | None = None) -> date | None:
    """The declaration period that gives ``year`` its index: the last closed period due in it."""
    per_year = len(management.due_dates())
    last = management.last_closed_period(today)
    periods = management.closed_periods(today, count=max(per_year * (last.year - year + 1), 1))
    return max((p for p in periods if p.year == year), default=None)


def yearly_indices(years, today: date | None = None) -> tuple[dict, dict, dict]:
    """For each year: its period, and each unit's index (application id -> composite) within
    its kind's cohort; and the applications indexed (id -> application)."""
    kinds = removal_kinds()
    periods, indices, applications = {}, {}, {}
    for year in years:
        period = period_of_year(year, today)
        periods[year] = period
        indices[year] = {}
        if period is None:
            continue
        declarations = _declarations_of_kinds(kinds, period)
        units = sorted((d.application for d in declarations.values()), key=lambda a: a.id)
        applications.update({a.id: a for a in units})
        members, directions = units_of(units, declarations, ("all",))
        for kind in kinds:
            cohort = [u for u in members if u.cohort.startswith(f"kind={kind};")]
            indices[year].update({k: v for k, v in composites(cohort, directions).items() if v is not None})
    return periods, indices, applications


def _declarations_of_kinds(kinds, period: date) -> dict:
    ids = db.session.execute(select(Application.id).where(Application.kind.in_(kinds))).scalars().all()
    return submitted_declarations(ids, period)


@dataclass
class CandidateView:
    application: Application
    candidate: Candidate
    figures: list[dict]
    decision: RemovalDecision | None = None


@dataclass
class RemovalReview:
    years: list[int]
    periods: dict
    compared: dict
    candidates: list[CandidateView] = field(default_factory=list)


def _figures(candidate: Candidate, periods: dict) -> list[dict]:
    return [{"year": s.year, "period": periods[s.year].isoformat() if periods[s.year] else None,
             "index": None if s.composite is None else f"{float(s.composite):.6f}",
             "rank": s.rank, "compared": s.compared, "bottom_count": s.bottom_count,
             "tied_at_boundary": s.tied_at_boundary} for s in candidate.standings]


def removal_review(today: date | None = None) -> RemovalReview:
    """The units proposed for removal now: in the bottom share in each of the years examined,
    still listed, with the figures and any decision taken."""
    years = years_examined(today)
    periods, indices, applications = yearly_indices(years, today)
    share = current_app.config["CERTIFY_REMOVAL_BOTTOM_SHARE"]
    found = removal_candidates(indices, years, share)
    decisions = {d.application_id: d for d in db.session.execute(
        select(RemovalDecision).where(RemovalDecision.last_year == years[-1])).scalars()}
    review = RemovalReview(years, periods, {year: len(indices[year]) for year in years})
    for candidate in found:
        application = applications[candidate.key]
        decision = decisions.get(application.id)
        if application.status != Status.LISTED and decision is None:
            continue  # no longer listed: nothing to decide
        review.candidates.append(CandidateView(application, candidate, _figures(candidate, periods),
                                               decision))
    return review


def decide_removal(admin, application: Application, decision: str, note: str,
                   today: date | None = None) -> RemovalDecision:
    """The department keeps a proposed unit on the list, or removes it (its certificate revoked
    as no longer meeting the requirements, with ``note``). Refused for a unit not proposed now,
    or already decided for these years."""
    if not can_manage_grades(admin):
        raise PermissionDenied(_l("Only the department decides on removals."))
    if decision not in (KEEP, REMOVE):
        raise ServiceError(_l("Choose keep or remove."), field="decision")
    note = (note or "").strip()[:_MAX_NOTE]
    if not note:
        raise ServiceError(_l("Give the reason for the decision."), field="note")
    review = removal_review(today)
    proposed = next((c for c in review.candidates if c.application.id == application.id), None)
    if proposed is None:
        raise ServiceError(_l("This unit is not proposed for removal."))
    if proposed.decision is not None:
        raise ServiceError(_l("A decision on this unit has already been recorded."))
    record = RemovalDecision(application_id=application.id, last_year=review.years[-1],
                             decision=decision, note=note, figures=proposed.figures,
                             decided_by_id=admin.id)
    db.session.add(record)
    if decision == REMOVE:
        certificate = certificate_for(application)
        if certificate is None:
            raise ServiceError(_l("This unit holds no certificate to revoke."))
        revoke_certificate(admin, certificate, RevocationReason.NO_LONGER_CONFORMING.value, note)
    record_event("grades.removal_decided", actor=admin, obj=record, details={
        "application_id": application.id, "decision": decision, "note": note,
        "years": review.years, "figures": proposed.figures})
    return record
