"""Agencies and their assessors: the agencies' profiles (who signs the integrity pledge), the
assessors' expertise, and the yearly cap on the evaluations an agency may take on, with whose
cap an agency counts against and how many evaluations each holder took on.
"""

import unicodedata
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from certify.applications.kinds import is_kind, kind_of
from certify.assessment.models import (
    ACTIVE_ASSIGNMENT,
    OPEN_ASSIGNMENT,
    AgencyProfile,
    AssessorProfile,
    Assignment,
)
from certify.assessment.util import clean, require_admin
from certify.audit.services import record_event
from certify.auth.models import Role, User
from certify.config import CapUnit
from certify.exceptions import ServiceError
from certify.extensions import db
from certify.organisations.models import Organisation, OrganisationKind
from certify.organisations.reference import INDUSTRIES_BY_CODE, cities_by_code
from certify.organisations.services import create_organisation

# ---- profiles -----------------------------------------------------------------------------------


def create_agency(admin, *, legal_representative: str, qualification: str = "",
                  **organisation_fields) -> Organisation:
    """Register an assessment agency (an organisation of kind ``agency``) with its profile."""
    require_admin(admin)
    agency = create_organisation(actor=admin, kind=OrganisationKind.AGENCY, **organisation_fields)
    save_agency_profile(admin, agency, legal_representative=legal_representative,
                        qualification=qualification)
    return agency


def agency_profile(agency: Organisation) -> AgencyProfile:
    """The agency's profile (an empty one, not yet saved, when none was recorded)."""
    profile = db.session.execute(
        select(AgencyProfile).where(AgencyProfile.organisation_id == agency.id)
    ).scalar_one_or_none()
    return profile or AgencyProfile(organisation=agency, legal_representative="", qualification="")


def save_agency_profile(admin, agency: Organisation, *, legal_representative: str,
                        qualification: str = "") -> AgencyProfile:
    """Record who signs the agency's integrity pledge, and its qualification."""
    require_admin(admin)
    if agency.kind != OrganisationKind.AGENCY:
        raise ServiceError(_l("This organisation is not an assessment agency."))
    legal_representative = clean(legal_representative, 100)
    if not legal_representative:
        raise ServiceError(_l("Enter the agency's legal representative."),
                           field="legal_representative")
    profile = agency_profile(agency)
    profile.legal_representative = legal_representative
    profile.qualification = clean(qualification, 500)
    db.session.add(profile)
    record_event("agency.profile_saved", actor=admin, obj=agency, details={
        "legal_representative": legal_representative, "qualification": profile.qualification})
    return profile


def assessor_profile(assessor: User) -> AssessorProfile:
    """The assessor's expertise (an empty, unsaved profile when none was recorded)."""
    profile = db.session.execute(
        select(AssessorProfile).where(AssessorProfile.user_id == assessor.id)
    ).scalar_one_or_none()
    return profile or AssessorProfile(user=assessor, kinds=[], industries=[], city_code=None, title="")


def save_assessor_profile(admin, assessor: User, *, kinds, industries, city_code: str | None,
                          title: str = "") -> AssessorProfile:
    """Record an assessor's expertise: kinds of recognition, industries and home city."""
    require_admin(admin)
    if assessor.role != Role.ASSESSOR:
        raise ServiceError(_l("This account is not an assessor."))
    if any(not is_kind(kind) for kind in kinds or ()):
        raise ServiceError(_l("Choose kinds of recognition from the list."), field="kinds")
    kinds = sorted({kind_of(kind).key for kind in kinds or ()})
    industries = sorted(set(industries or ()))
    unknown = [code for code in industries if code not in INDUSTRIES_BY_CODE]
    if unknown:
        raise ServiceError(_l("Choose industries from the list."), field="industries")
    if city_code and city_code not in cities_by_code():
        raise ServiceError(_l("Choose a city or prefecture of Sichuan."), field="city_code")
    profile = assessor_profile(assessor)
    profile.kinds, profile.industries = kinds, industries
    profile.city_code = city_code or None
    profile.title = clean(title, 100)
    db.session.add(profile)
    record_event("assessor.profile_saved", actor=admin, obj=assessor, details={
        "kinds": kinds, "industries": industries, "city_code": profile.city_code,
        "title": profile.title})
    return profile


def active_assessors() -> list[User]:
    """The active assessors of the active agencies, by name: those who can be assigned."""
    return db.session.execute(
        select(User).join(User.organisation).options(contains_eager(User.organisation)).where(
            User.role == Role.ASSESSOR, User.is_active.is_(True),
            Organisation.kind == OrganisationKind.AGENCY, Organisation.is_active.is_(True))
        .order_by(User.name)
    ).scalars().all()


def open_loads() -> dict[int, int]:
    """Open (waiting or accepted) assignments per assessor."""
    return dict(db.session.execute(
        select(Assignment.assessor_id, func.count()).where(Assignment.status.in_(OPEN_ASSIGNMENT))
        .group_by(Assignment.assessor_id)
    ).all())


# ---- the yearly cap ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapHolder:
    """Who a yearly cap belongs to: a legal representative (with the agencies they represent)
    or, when the cap counts agencies or the agency has no legal representative on record, one
    agency. ``key`` identifies it."""

    key: str
    agency_ids: frozenset
    legal_representative: str | None = None


def _person_key(name: str) -> str:
    """A legal representative's name as compared: width-folded, without spaces, case-folded."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


def cap_unit() -> CapUnit:
    return CapUnit(current_app.config["CERTIFY_CAP_UNIT"])


def yearly_cap() -> int:
    return int(current_app.config["CERTIFY_AGENCY_YEARLY_CAP"])


def cap_holders() -> dict[int, CapHolder]:
    """Every agency's cap holder, by agency id (one query over the agencies' profiles). A legal
    representative is named as the first agency registered with them spells the name."""
    agencies = db.session.execute(
        select(Organisation.id, AgencyProfile.legal_representative)
        .outerjoin(AgencyProfile, AgencyProfile.organisation_id == Organisation.id)
        .where(Organisation.kind == OrganisationKind.AGENCY).order_by(Organisation.id)).all()
    if cap_unit() == CapUnit.AGENCY:
        return {agency_id: CapHolder(f"agency:{agency_id}", frozenset({agency_id}))
                for agency_id, _name in agencies}
    people: dict[str, list] = {}
    for agency_id, name in agencies:
        people.setdefault(_person_key(name or "") or f"agency:{agency_id}", []).append((agency_id, name))
    holders = {}
    for key, represented in people.items():
        ids = frozenset(agency_id for agency_id, _name in represented)
        name = represented[0][1] if not key.startswith("agency:") else None
        holder = CapHolder(key if name is None else f"person:{key}", ids, (name or "").strip() or None)
        holders.update((agency_id, holder) for agency_id in ids)
    return holders


def evaluations_by_holder(holders, year: int) -> dict[str, int]:
    """Evaluations each of ``holders`` took on in ``year`` (local calendar year): applications
    with a standing assignment of an assessor of one of its agencies. Declined, cancelled and
    withdrawn assignments do not count; one application is one evaluation however many of the
    holder's assessors work on it. One query; holders with none left out."""
    holders = {holder.key: holder for holder in holders}
    agency_ids = set().union(*(holder.agency_ids for holder in holders.values()))
    if not agency_ids:
        return {}
    taken: dict[int, set] = {}
    for agency_id, application_id in db.session.execute(
        select(Assignment.agency_id, Assignment.application_id).where(
            Assignment.agency_id.in_(agency_ids), Assignment.status.in_(ACTIVE_ASSIGNMENT),
            Assignment.assigned_on >= date(year, 1, 1), Assignment.assigned_on <= date(year, 12, 31),
        ).distinct()):
        taken.setdefault(agency_id, set()).add(application_id)
    counts = {}
    for key, holder in holders.items():
        applications = set().union(*(taken.get(agency_id, set()) for agency_id in holder.agency_ids))
        if applications:
            counts[key] = len(applications)
    return counts


def cap_reached(holder: CapHolder, agency: Organisation, year: int):
    """Why an assessor of ``agency`` cannot take one more evaluation in ``year``."""
    if holder.legal_representative:
        return _l("%(person)s, the legal representative of %(agency)s, has reached the cap of "
                  "%(cap)d evaluations in %(year)d (counted over every agency they represent).",
                  person=holder.legal_representative, agency=agency.name, cap=yearly_cap(), year=year)
    return _l("The agency %(agency)s has reached its cap of %(cap)d evaluations in %(year)d.",
              agency=agency.name, cap=yearly_cap(), year=year)
